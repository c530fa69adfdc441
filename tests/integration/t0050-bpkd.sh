#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpkd end to end: an l3afd payload of three XDP and two TC programs applied to a veth in a
# throwaway namespace runs in seq_id order (proved by traffic and counters), map_args take effect,
# bad input changes nothing, kill -9 and restart keep every program attached, delete detaches.
# The TC chain runs fused, and with --no-fuse as TCX links.
# bpk-test: per-mechanism
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root: network namespaces, XDP and TCX links"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v ping >/dev/null || skip "ping (iputils-ping) is not installed"
command -v curl >/dev/null || skip "curl is not installed"
command -v bpftool >/dev/null || skip "bpftool is not installed"
BPKD=$BPK_TEST_BUILDDIR/daemon/bpkd
TOOL=$BPK_TEST_BUILDDIR/tests/chain-tool
[ -x "$BPKD" ] || fail "$BPKD is not built"
"$TOOL" tcx-probe 2>"$SCRATCH/probe.err" || skip "no TCX here: $(cat "$SCRATCH/probe.err")"

veth_pair 10.240.50

cd "$SCRATCH"
say "packages: c1, c2 (XDP counters), mode (XDP, map_args), t1, t2 (TC counters), signed"
"$BPK" key gen -o ops >/dev/null 2>&1 && "$BPK" trust add ops.pub --dir trust >/dev/null 2>&1 ||
	fail "cannot make a trusted key"
mkpkg() { # NAME OBJECT PROGRAM [unsigned]
	pkg_dir "src-$1" "$1" "$2" "$3" &&
		"$BPK" pack "src-$1" -o "$1.bpk" >/dev/null 2>"pack-$1.err" ||
		{ cat "pack-$1.err"; fail "cannot pack $1"; }
	[ "${4:-}" = unsigned ] || "$BPK" sign "$1.bpk" --key ops.pem >/dev/null 2>&1 ||
		fail "cannot sign $1"
}
mkpkg c1 chain_xdp_count xdp_chain_count
mkpkg c2 chain_xdp_count xdp_chain_count
mkpkg mode agent_xdp_mode xdp_mode
mkpkg t1 chain_tc_count tc_chain_count
mkpkg t2 chain_tc_count tc_chain_count
mkpkg loose chain_xdp_count xdp_chain_count unsigned
mkpkg bad xdp_unbounded xdp_unbounded


# agent METHOD PATH [FILE]: a request inside the namespace; body in $SCRATCH/body; prints status.

# payload FILE XDP_ENTRIES TC_ENTRIES: an l3afd update for veth-rx.
prog() { # NAME SEQ [MAP_NAME] [MODE] [STATUS] [ARTIFACT]
	args=""
	[ -n "${4:-}" ] && args=", \"map_args\": [{\"name\": \"mode_cfg\", \"args\": [{\"key\": 0, \"value\": $4}]}]"
	printf '{"id": %s, "name": "%s", "seq_id": %s, "artifact": "%s", "map_name": "%s", "version": "1.0.0", "admin_status": "%s", "prog_type": "%s", "cfg_version": 1, "user_program_daemon": false, "is_plugin": false, "cpu": 0, "memory": 0, "start_args": {}, "monitor_maps": [{"name": "count_packets", "key": 0, "aggregator": "scalar"}], "unknown_future_field": [1]%s}' \
		"$2" "$1" "$2" "${6:-$SCRATCH/$1.bpk}" "${3:-}" "${5:-enabled}" "${7:-xdp}" "$args"
}
payload() {
	printf '[{"host_name": "node1", "iface": "veth-rx", "bpf_programs": {"xdp_ingress": [%s], "tc_ingress": [%s], "tc_egress": [], "probes": []}}]\n' "$2" "$3" >"$1"
}
TC_PROGS="$(prog t1 1 '' '' enabled '' tc), $(prog t2 2 '' '' enabled '' tc)"
ping_ok() {
	ip netns exec "$NS_TX" ping -q -c "${1:-5}" -i 0.01 -W 1 10.240.50.2 >"$SCRATCH/ping" 2>&1
}
status() {
	expect_agent 200 GET /v1/status && cp "$SCRATCH/body" "$SCRATCH/status"
}
# pin NAME: the pin directory of a program, from the status
pin_of() {
	json_get "$SCRATCH/status" "[p['pin'] for i in j['interfaces'] for h in i['hooks'] for p in h['chain'] if p['name'] == '$1'][0]"
}
count() { # NAME MAP
	"$TOOL" count "$(pin_of "$1")/maps/$2" || fail "cannot read $1's $2"
}
order() { # HOOK: the names in the order status gives
	json_get "$SCRATCH/status" "' '.join(p['name'] for i in j['interfaces'] for h in i['hooks'] if h['hook'] == '$1' for p in h['chain'])"
}
ids() {
	json_get "$SCRATCH/status" "' '.join(str(p['prog_id']) for i in j['interfaces'] for h in i['hooks'] for p in h['chain'])"
}

bpkd_start -v

say "apply: XDP c1 -> mode(pass) -> c2, TC t1 -> t2"
payload p1.json "$(prog c1 1 count_next), $(prog mode 2 mode_next 0), $(prog c2 3 count_next)" "$TC_PROGS"
expect_agent 200 POST /l3af/configs/v1/update p1.json
status
[ "$(order xdp_ingress)" = "c1 mode c2" ] || fail "XDP order is '$(order xdp_ingress)'"
[ "$(order tc_ingress)" = "t1 t2" ] || fail "TC order is '$(order tc_ingress)'"
json_get status "all(h['running'] for i in j['interfaces'] for h in i['hooks'])" | grep -qx True ||
	{ cat status; fail "status says a chain does not run"; }
json_get status "all(p['signer'] for i in j['interfaces'] for h in i['hooks'] for p in h['chain'])" |
	grep -qx True || fail "a program has no signer in the status"
expect_tcx status tc_ingress
# The TC programs fuse (they know nothing of chaining); the XDP ones tail-call (L3AF's protocol).
mechanisms=$(json_get status "' '.join(h['mechanism'] for i in j['interfaces'] for h in i['hooks'])")
if [ "$BPK_TEST_MECHANISM" = portable ]; then
	[ "$mechanisms" = "tail_call tcx" ] || fail "--no-fuse chains with '$mechanisms'"
else
	[ "$mechanisms" = "tail_call fused" ] || fail "the chains run with '$mechanisms'"
fi
ping_ok 10 || { cat ping; fail "no ping across the chains"; }
for s in "c1 count_packets" "mode mode_packets" "c2 count_packets" "t1 tc_packets" "t2 tc_packets"; do
	# shellcheck disable=SC2086
	n=$(count $s)
	[ "$n" -ge 10 ] || fail "$s counted $n, expected >= 10"
done

say "BPF_PROG_TEST_RUN through the attached root runs every stage, in order"
ROOT=$PIN/bpk/veth-rx/xdp_ingress/xdp_root
before="$(count c1 count_packets) $(count mode mode_packets) $(count c2 count_packets)"
rv=$("$TOOL" test-run "$ROOT" 1000 2>&1) && [ "$rv" = 2 ] || fail "the root did not answer XDP_PASS: $rv"
after="$(count c1 count_packets) $(count mode mode_packets) $(count c2 count_packets)"
python3 -c 'import sys; b, a = sys.argv[1].split(), sys.argv[2].split()
# Exactly the 1000 runs, give or take a stray frame of the link (IPv6 neighbour discovery).
sys.exit(0 if all(1000 <= int(y) - int(x) < 1050 for x, y in zip(b, a)) else 1)' "$before" "$after" ||
	fail "1000 runs of the root moved the stage counters from '$before' to '$after'"

say "GET config agrees with what was applied"
expect_agent 200 GET /l3af/configs/v1/veth-rx
json_get body "[p['name'] for p in j['bpf_programs']['xdp_ingress']]" | grep -qx "\['c1', 'mode', 'c2'\]" ||
	{ cat body; fail "GET config does not list c1 mode c2"; }
expect_agent 200 GET /l3af/configs/v1
json_get body "len(j) == 1 and j[0]['iface'] == 'veth-rx' and j[0]['host_name'] == 'node1'" | grep -qx True ||
	fail "GET configs is not one veth-rx entry"
expect_agent 404 GET /l3af/configs/v1/nosuch0

say "global data: mode's .rodata is frozen with drop_mode=1, its .bss counts what it saw"
# globals NAME: "VALUE FROZEN" of mode's internal map NAME (libbpf names it OBJECT.SECTION),
# its value read as one little-endian integer.
globals() {
	mid=$(json_get status "[p['prog_id'] for i in j['interfaces'] for h in i['hooks'] for p in h['chain'] if p['name'] == 'mode'][0]")
	bpftool -j prog show id "$mid" >prog.json 2>&1 || { cat prog.json; fail "bpftool does not show mode's program"; }
	for m in $(json_get prog.json "' '.join(str(i) for i in j.get('map_ids', []))"); do
		bpftool -j map show id "$m" >map.json 2>&1 || { cat map.json; fail "bpftool does not show map $m"; }
		[ "$(json_get map.json "j['name']")" = "$1" ] || continue
		bpftool -j map dump id "$m" >dump.json 2>&1 || { cat dump.json; fail "cannot dump $1"; }
		echo "$(json_get dump.json "int.from_bytes(bytes(int(b, 16) for b in j[0]['value']), 'little')") $(json_get map.json "j['frozen']")"
		return 0
	done
	fail "mode's program has no map $1"
}
status
ro=$(globals mode.rodata) && [ "$ro" = "1 1" ] || fail "mode.rodata is '$ro', not drop_mode=1 and frozen"
bss=$(globals mode.bss) && [ "${bss%% *}" -ge 10 ] || fail "mode.bss is '$bss', not the packets mode saw"

say "map_args: mode=1 drops; the counter before it counts, the one after does not"
c1_before=$(count c1 count_packets)
ids_before=$(ids)
payload p2.json "$(prog c1 1 count_next), $(prog mode 2 mode_next 1), $(prog c2 3 count_next)" "$TC_PROGS"
expect_agent 200 POST /l3af/configs/v1/update p2.json
# Read after the switch to mode=1: until then a stray frame of the young link (IPv6 router
# solicitation, MLD) may still pass mode=0 and count in c2.
c2_before=$(count c2 count_packets)
status
[ "$(ids)" = "$ids_before" ] || fail "a map_args change reloaded programs ($ids_before -> $(ids))"
ping_ok 5 && fail "pings cross a stage configured to drop"
[ "$(count c1 count_packets)" -ge $((c1_before + 5)) ] || fail "c1 (before the dropper) did not count"
[ "$(count c2 count_packets)" -eq "$c2_before" ] || fail "c2 (after the dropper) counted"
c1_before=$(count c1 count_packets)
[ "$("$TOOL" test-run "$ROOT" 1000)" = 1 ] || fail "the root did not answer XDP_DROP"
[ "$(count c1 count_packets)" -ge $((c1_before + 1000)) ] || fail "test runs did not reach c1"
[ "$(count c2 count_packets)" -eq "$c2_before" ] || fail "test runs reached c2, past the dropper"

say "reorder by seq_id: c2 before mode, so c2 counts and c1 does not"
payload p3.json "$(prog c1 3 count_next), $(prog mode 2 mode_next 1), $(prog c2 1 count_next)" "$TC_PROGS"
expect_agent 200 POST /l3af/configs/v1/update p3.json
status
[ "$(order xdp_ingress)" = "c2 mode c1" ] || fail "XDP order is '$(order xdp_ingress)'"
c1_before=$(count c1 count_packets)
c2_before=$(count c2 count_packets)
ping_ok 5 && fail "pings cross a stage configured to drop"
[ "$(count c2 count_packets)" -ge $((c2_before + 5)) ] || fail "c2 (now first) did not count"
[ "$(count c1 count_packets)" -eq "$c1_before" ] || fail "c1 (now after the dropper) counted"

say "mode=0 again: pings pass, every stage counts"
payload p4.json "$(prog c1 3 count_next), $(prog mode 2 mode_next 0), $(prog c2 1 count_next)" "$TC_PROGS"
ip netns exec "$NS_RX" "$BPK" apply p4.json --agent "$AGENT" >out 2>err ||
	{ cat err; fail "bpk apply failed"; }
status
ip netns exec "$NS_RX" "$BPK" status --agent "$AGENT" >bpk-status 2>err || { cat err; fail "bpk status failed"; }
assert_grep '^veth-rx xdp_ingress  mechanism tail_call$' bpk-status
assert_grep '^  1 +c2 +id [0-9]+ +c2@1.0.0 +signer [0-9a-f]{16} ' bpk-status
ping_ok 5 || { cat ping; fail "pings do not pass with mode=0"; }
[ "$(count c1 count_packets)" -ge $((c1_before + 5)) ] || fail "c1 (last) did not count"
ids_good=$(ids)

say "bad input: 4xx, a clear message, the chains unchanged"
printf '[{"iface": "veth-rx", "bpf_programs": {"xdp_ingress": [' >bad1.json
expect_agent 400 POST /l3af/configs/v1/update bad1.json
assert_grep '"code": "invalid_json"' body
payload bad2.json "$(prog c1 1 count_next | sed 's/"seq_id": 1/"seq_id": "one"/')" ""
expect_agent 400 POST /l3af/configs/v1/update bad2.json
assert_fgrep 'bpf_programs.xdp_ingress[0].seq_id: expected a number' body
sed 's/veth-rx/nosuch0/' p4.json >bad3.json
expect_agent 404 POST /l3af/configs/v1/update bad3.json
assert_grep 'no_such_interface' body
payload bad4.json "$(prog c1 3 count_next), $(prog mode 2 mode_next 0), $(prog c2 1 count_next), $(prog loose 4 count_next)" "$TC_PROGS"
expect_agent 400 POST /l3af/configs/v1/update bad4.json
assert_grep 'package_refused' body
ip netns exec "$NS_RX" "$BPK" apply bad4.json --agent "$AGENT" >out 2>err &&
	fail "bpk apply of an unsigned package succeeded"
assert_grep "^error: cannot apply 'bad4.json': .*unsigned" err
assert_grep 'unsigned' body
payload bad5.json "$(prog c1 3 count_next), $(prog mode 2 mode_next 0), $(prog c2 1 count_next), $(prog bad 4)" "$TC_PROGS"
expect_agent 400 POST /l3af/configs/v1/update bad5.json
assert_grep 'program_rejected' body
assert_grep 'verifier log|invalid access|R[0-9]' body
status
[ "$(ids)" = "$ids_good" ] || fail "a refused apply changed the chains ($ids_good -> $(ids))"
[ "$(order xdp_ingress)" = "c2 mode c1" ] || fail "a refused apply changed the XDP order"
ping_ok 5 || fail "pings stopped after refused applies"
[ -z "$(find "$PIN/bpk" -name 'bad@*' -o -name 'loose@*')" ] || fail "a refused apply left pins behind"

say "kill -9 bpkd while pings cross; restart; everything still runs, status re-adopted"
bss=$(globals mode.bss) || fail "cannot read mode.bss before the restart"
ip netns exec "$NS_TX" ping -q -c 200 -i 0.01 -W 1 10.240.50.2 >ping-restart 2>&1 &
PING_PID=$!
at_exit "kill $PING_PID"
sleep 0.2
kill -9 "$BPKD_PID"
wait "$BPKD_PID" 2>/dev/null || true
sleep 0.3
bpkd_start -v
wait "$PING_PID" || { cat ping-restart; fail "pings were lost while bpkd restarted"; }
assert_grep ' 0% packet loss' ping-restart
status
[ "$(ids)" = "$ids_good" ] || fail "after the restart the ids are $(ids), not $ids_good"
json_get status "j['adopted_at_start'] == 5 and all(h['running'] for i in j['interfaces'] for h in i['hooks'])" |
	grep -qx True || { cat status; fail "the restarted bpkd did not re-adopt 5 running programs"; }
bss2=$(globals mode.bss) && [ "${bss2%% *}" -gt "${bss%% *}" ] ||
	fail "mode.bss went from '$bss' to '$bss2' across the restart: the re-adopted stage lost its globals"

say "/metrics lists the programs and the refused applies"
expect_agent 200 GET /metrics
assert_grep '^bpkd_program_runs_total\{iface="veth-rx",hook="xdp_ingress",program="c1"\} [0-9]+' body
assert_grep '^bpkd_monitor_map_value\{iface="veth-rx",hook="xdp_ingress",program="c1",map="count_packets",key="0",aggregator="scalar"\} [1-9]' body

say "delete: mode and t2 go, then everything"
printf '[{"host_name": "node1", "iface": "veth-rx", "bpf_programs": {"xdp_ingress": ["mode"], "tc_ingress": ["t2"]}}]\n' >d1.json
expect_agent 200 POST /l3af/configs/v1/delete d1.json
status
[ "$(order xdp_ingress)" = "c2 c1" ] || fail "after delete XDP is '$(order xdp_ingress)'"
[ "$(order tc_ingress)" = "t1" ] || fail "after delete TC is '$(order tc_ingress)'"
ping_ok 5 || fail "no ping after deleting a stage"
ip netns exec "$NS_RX" "$BPK" detach veth-rx --agent "$AGENT" >out 2>err ||
	{ cat err; fail "bpk detach failed"; }
ip -n "$NS_RX" link show veth-rx >link
assert_no_grep 'xdp' link
ip netns exec "$NS_RX" "$TOOL" tcx-query veth-rx tc_ingress >tcq || fail "cannot query TCX"
[ "$(wc -l <tcq)" -eq 1 ] || { cat tcq; fail "TCX links remain after delete"; }
[ -z "$(ls -A "$PIN/bpk" 2>/dev/null)" ] || { find "$PIN/bpk"; fail "pins remain after delete"; }
expect_agent 404 GET /l3af/configs/v1/veth-rx
ping_ok 5 || fail "no ping with nothing attached"
say "ok"

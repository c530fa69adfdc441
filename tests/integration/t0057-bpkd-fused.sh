#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpkd's fused chains (docs/spec/fuse.md): XDP and TC programs that know nothing of chaining run
# as one fused program per hook; 100 updates (reorders, upgrades, adds, removes) swap it on the
# same links while pings cross: none is lost, and the counters of every stage that stays run on
# across the swaps. Refused applies leave the running chain alone; kill -9 and restart re-adopt
# it; delete leaves nothing.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root: network namespaces, XDP and TCX links"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v ping >/dev/null || skip "ping (iputils-ping) is not installed"
command -v curl >/dev/null || skip "curl is not installed"
TOOL=$BPK_TEST_BUILDDIR/tests/chain-tool
"$TOOL" tcx-probe 2>"$SCRATCH/probe.err" || skip "no TCX here: $(cat "$SCRATCH/probe.err")"
UPDATES=${BPK_TEST_FUSED_UPDATES:-100}

veth_pair 10.240.57
cd "$SCRATCH"

say "packages: x1 x2 x3 (XDP counters, x1 also at 2.0.0), t1 t2 (TC counters), signed; and bad ones"
"$BPK" key gen -o ops >/dev/null 2>&1 && "$BPK" trust add ops.pub --dir trust >/dev/null 2>&1 ||
	fail "cannot make a trusted key"
mkpkg() { # NAME OBJECT PROGRAM [VERSION]
	pkg_dir "src-$1-${4:-1.0.0}" "$1" "$2" "$3" &&
		sed -i "s/\"version\": \"1.0.0\"/\"version\": \"${4:-1.0.0}\"/" "src-$1-${4:-1.0.0}/bpk.json" &&
		"$BPK" pack "src-$1-${4:-1.0.0}" -o "$1-${4:-1.0.0}.bpk" >/dev/null 2>"pack.err" &&
		"$BPK" sign "$1-${4:-1.0.0}.bpk" --key ops.pem >/dev/null 2>&1 ||
		{ cat pack.err; fail "cannot make $1 ${4:-1.0.0}"; }
}
mkpkg x1 plain_xdp xdp_plain
mkpkg x1 plain_xdp2 xdp_plain 2.0.0
mkpkg x2 plain_xdp xdp_plain
mkpkg x3 plain_xdp xdp_plain
mkpkg t1 plain_tc tc_plain
mkpkg t2 plain_tc tc_plain
mkpkg wrongtype plain_tc tc_plain
mkpkg frames fuse_frames xdp_fuse_frames
mkpkg tail chain_xdp_count xdp_chain_count

# A configuration is "XDP programs / TC programs", each NAME or NAME@VERSION, in chain order.
entry() { # NAME[@VERSION] SEQ TYPE
	name=${1%@*} version=1.0.0
	[ "$1" != "$name" ] && version=${1#*@}
	printf '{"name": "%s", "seq_id": %s, "artifact": "%s", "version": "%s", "admin_status": "enabled", "prog_type": "%s"}' \
		"$name" "$2" "$SCRATCH/$name-$version.bpk" "$version" "$3"
}
payload() { # CONFIG FILE
	xdp=${1%/*} tc=${1#*/} list="" tlist="" seq=1
	for n in $xdp; do
		list="$list${list:+, }$(entry "$n" "$seq" xdp)"
		seq=$((seq + 1))
	done
	seq=1
	for n in $tc; do
		tlist="$tlist${tlist:+, }$(entry "$n" "$seq" tc)"
		seq=$((seq + 1))
	done
	printf '[{"host_name": "node1", "iface": "veth-rx", "bpf_programs": {"xdp_ingress": [%s], "tc_ingress": [%s]}}]\n' "$list" "$tlist" >"$2"
}
status() {
	expect_agent 200 GET /v1/status && cp "$SCRATCH/body" "$SCRATCH/status"
}
# field EXPR: a Python expression over the status's hooks h of veth-rx, by hook name.
hook() { # HOOK EXPR (empty when the hook runs nothing)
	json_get status "([$2 for i in j['interfaces'] for h in i['hooks'] if h['hook'] == '$1'] + [''])[0]"
}
# running: the status's chains in the form of a configuration, after checking that each runs
# fused, on the link it always had, and that the kernel runs the fused program status names.
# Run it in this shell (it keeps XDP_LINK): expect_running does.
running() {
	status
	xdp=$(hook xdp_ingress "' '.join(p['name'] + ('' if p['version'] == '1.0.0' else '@' + p['version']) for p in h['chain'])")
	tc=$(hook tc_ingress "' '.join(p['name'] for p in h['chain'])")
	for hk in xdp_ingress tc_ingress; do
		[ -z "$(hook $hk "h['hook']")" ] ||
			[ "$(hook $hk "h['mechanism'] + ' ' + str(h['running'])")" = "fused True" ] ||
			{ cat status >&2; fail "$hk does not run fused"; }
	done
	# The XDP link is the one bpkd attached first, now running the new fused program.
	"$TOOL" link-info "$PIN/bpk/veth-rx/xdp_ingress/link" >link || fail "no XDP link pinned"
	read -r lprog _ _ lid <link
	[ "$lprog" = "$(hook xdp_ingress "h['fused']['prog_id']")" ] ||
		fail "the XDP link runs program $lprog, not the fused one"
	[ -z "${XDP_LINK:-}" ] || [ "$lid" = "$XDP_LINK" ] ||
		fail "the XDP link changed ($XDP_LINK -> $lid): the chain was detached, not swapped"
	XDP_LINK=$lid
	if [ -n "$tc" ]; then
		expect_tcx status tc_ingress
	else
		ip netns exec "$NS_RX" "$TOOL" tcx-query veth-rx tc_ingress >tcq && [ "$(wc -l <tcq)" -eq 1 ] ||
			{ cat tcq >&2; fail "TCX links remain on a hook that runs nothing"; }
	fi
	echo "$xdp/$tc"
}
# expect_running CONFIG WHAT: the chains run CONFIG, or fail saying WHAT runs instead.
expect_running() {
	running >running.out
	[ "$(cat running.out)" = "$1" ] || fail "$2 runs '$(cat running.out)', not '$1'"
}
pin_of() { # NAME
	json_get status "[p['pin'] for i in j['interfaces'] for h in i['hooks'] for p in h['chain'] if p['name'] == '$1'][0]"
}

bpkd_start
CONFIGS=("x1 x2 x3/t1 t2" "x3 x2 x1/t2 t1" "x2 x1@2.0.0/t1" "x1@2.0.0 x2 x3/t2" "x2/t1 t2"
	"x2 x3/" "x1 x2/t1 t2" "x3 x1 x2/t2")
say "apply '${CONFIGS[0]}': both chains run fused"
payload "${CONFIGS[0]}" p.json
expect_agent 200 POST /l3af/configs/v1/update p.json
expect_running "${CONFIGS[0]}" "the first apply"
[ "$(hook xdp_ingress "h['fused']['layout']")" = inline ] || fail "the XDP chain is not inlined"
[ "$(hook xdp_ingress "h['fused']['btf']")" = True ] || fail "the fused XDP program has no BTF"
if command -v bpftool >/dev/null; then
	# The fused program keeps its stages' functions and source lines.
	bpftool prog dump xlated pinned "$(hook xdp_ingress "h['fused']['pin']")/prog" linum >dump ||
		fail "bpftool cannot dump the fused program"
	assert_grep 'plain_xdp\.bpf\.c' dump
	assert_grep 'xdp_plain|bpk_xdp_ingress' dump
fi
ip netns exec "$NS_RX" "$BPK" status --agent "$AGENT" >bpk-status 2>err || { cat err; fail "bpk status failed"; }
assert_grep '^veth-rx xdp_ingress  mechanism fused$' bpk-status
assert_grep '^  fused program id [0-9]+ \(inline\), runs [0-9]+ ' bpk-status
assert_grep '^veth-rx tc_ingress  mechanism fused$' bpk-status
expect_agent 200 GET /metrics
assert_grep '^bpkd_program_runs_total\{iface="veth-rx",hook="xdp_ingress",program="\(fused\)"\} [0-9]+$' body
assert_no_grep 'program="x1"' body
ip netns exec "$NS_TX" ping -q -c 5 -i 0.01 -W 1 10.240.57.2 >/dev/null ||
	fail "no ping across the fused chains"
for s in x1 x2 x3; do
	[ "$("$TOOL" count "$(pin_of $s)/maps/plain_packets")" -ge 5 ] || fail "$s did not count the pings"
done
for s in t1 t2; do
	[ "$("$TOOL" count "$(pin_of $s)/maps/plain_tc_packets")" -ge 5 ] || fail "$s did not count the pings"
done

say "$UPDATES updates (reorders, upgrades, adds, removes) while pings cross every 2 ms"
ping_start 0.002 ping.log
sleep 0.2
x2_pin=$(pin_of x2)
x2_last=$("$TOOL" count "$x2_pin/maps/plain_packets")
for i in $(seq 1 "$UPDATES"); do
	next=${CONFIGS[$((i % ${#CONFIGS[@]}))]}
	payload "$next" p.json
	expect_agent 200 POST /l3af/configs/v1/update p.json
	expect_running "$next" "update $i"
	# x2 is in every configuration: it keeps its pins and its counter only grows.
	[ "$(pin_of x2)" = "$x2_pin" ] || fail "update $i reloaded x2, which only moved"
	n=$("$TOOL" count "$x2_pin/maps/plain_packets")
	[ "$n" -ge "$x2_last" ] || fail "update $i: x2's counter went back from $x2_last to $n"
	x2_last=$n
done
sleep 0.2
ping_stop ping.log 500
say "pings: $PING_RX of $PING_TX answered across $UPDATES swaps"
# Counted at the receiving end too: x2 saw every echo request (and some ARP and IPv6).
n=$("$TOOL" count "$x2_pin/maps/plain_packets")
[ "$n" -ge "$PING_RX" ] || fail "x2 counted $n packets, fewer than the $PING_RX echoes that crossed it"
# Its .bss count ([1]) ran on too: reloading x2 over its maps kept libbpf's internal map.
bss=$("$TOOL" count "$x2_pin/maps/plain_packets" 1)
[ "$bss" -ge $((n - n / 100 - 2)) ] || fail "x2's .bss count ($bss) fell behind its map count ($n)"
say "x2 counted $n packets (.bss $bss) through every swap"

say "upgrade: x1 2.0.0 runs its own build"
payload "x1@2.0.0 x2/t1" p.json
expect_agent 200 POST /l3af/configs/v1/update p.json
expect_running "x1@2.0.0 x2/t1" "the upgrade"
ip netns exec "$NS_TX" ping -q -c 3 -i 0.01 -W 1 10.240.57.2 >/dev/null || fail "no ping after the upgrade"
[ "$("$TOOL" count "$(pin_of x1)/maps/plain_packets" 2)" = 2 ] || fail "x1 2.0.0 does not run"

say "refused, the running chain untouched: a TC program as XDP, a stage the verifier refuses fused"
before=$(json_get status "[h['fused']['prog_id'] for i in j['interfaces'] for h in i['hooks']]")
payload "x1@2.0.0 wrongtype x2/t1" p.json
expect_agent 400 POST /l3af/configs/v1/update p.json
assert_grep 'no program .* of the type xdp_ingress needs' body
payload "x1@2.0.0 frames x2/t1" p.json
expect_agent 400 POST /l3af/configs/v1/update p.json
assert_grep 'cannot run fused: the verifier refused the fused chain of 3 stages' body
assert_grep 'too deep' body
expect_running "x1@2.0.0 x2/t1" "after refused applies, the interface"
[ "$(json_get status "[h['fused']['prog_id'] for i in j['interfaces'] for h in i['hooks']]")" = "$before" ] ||
	fail "a refused apply swapped a fused program"
[ -z "$(find "$PIN/bpk" -name 'wrongtype@*' -o -name 'frames@*')" ] || fail "a refused apply left pins"
[ "$(find "$PIN/bpk" -name 'fused@*' | wc -l)" -eq 2 ] || { find "$PIN/bpk" -name 'fused@*'; fail "stray fused programs"; }
ip netns exec "$NS_TX" ping -q -c 3 -i 0.01 -W 1 10.240.57.2 >/dev/null || fail "no ping after refused applies"

say "a link whose program was swapped behind bpkd's back is not replaced blindly"
"$TOOL" load "$BPK_TEST_BPF_DIR/fuse_count.o" "$PIN/foreign" >/dev/null || fail "cannot load a foreign program"
xdp_fused=$(hook xdp_ingress "h['fused']['pin']")/prog
"$TOOL" link-update "$PIN/bpk/veth-rx/xdp_ingress/link" "$PIN/foreign/prog" || fail "cannot swap the link"
payload "x2 x1@2.0.0/t1" p.json
expect_agent 409 POST /l3af/configs/v1/update p.json
assert_grep '"code": "hook_busy"' body
assert_grep 'the link runs a program bpkd did not put there' body
"$TOOL" link-update "$PIN/bpk/veth-rx/xdp_ingress/link" "$xdp_fused" "$PIN/foreign/prog" ||
	fail "cannot put the fused program back"
expect_running "x1@2.0.0 x2/t1" "after the foreign program went, the interface"

say "a program of L3AF's tail-call protocol does not fuse: that chain runs the portable way"
payload "tail/t1" p.json
expect_agent 200 POST /l3af/configs/v1/update p.json
status
[ "$(hook xdp_ingress "h['mechanism']")" = tail_call ] || fail "the tail-call program's chain is not tail_call"
hook xdp_ingress "h['not_fused']" | grep -q "calls bpf_tail_call" || fail "no reason why it is not fused"
ip netns exec "$NS_TX" ping -q -c 3 -i 0.01 -W 1 10.240.57.2 >/dev/null || fail "no ping through the tail-call chain"
payload "x1 x2/t1 t2" p.json
expect_agent 200 POST /l3af/configs/v1/update p.json
expect_running "x1 x2/t1 t2" "back to fused, the interface"

say "TC from fused to TCX links (bpkd --no-fuse) and back, under pings"
ping_start 0.002 ping2.log
kill "$BPKD_PID"
wait "$BPKD_PID" 2>/dev/null || true
bpkd_start --no-fuse
payload "x1 x2/t2 t1" p.json
expect_agent 200 POST /l3af/configs/v1/update p.json
status
[ "$(hook tc_ingress "h['mechanism']")" = tcx ] || fail "--no-fuse: tc_ingress is not tcx"
[ "$(hook xdp_ingress "h['mechanism']")" = fused ] || fail "an unchanged chain left fused"
expect_tcx status tc_ingress
[ ! -e "$PIN/bpk/veth-rx/tc_ingress/link" ] || fail "the fused TC link is still pinned"
[ -z "$(find "$PIN/bpk/veth-rx/tc_ingress" -name 'fused@*')" ] || fail "the fused TC program is still pinned"
kill "$BPKD_PID"
wait "$BPKD_PID" 2>/dev/null || true
bpkd_start
payload "x1 x2/t1 t2" p.json
expect_agent 200 POST /l3af/configs/v1/update p.json
expect_running "x1 x2/t1 t2" "back to fused TC, the interface"
for s in t1 t2; do
	[ ! -e "$(pin_of $s)/link" ] || fail "$s kept its TCX link once fused"
done
sleep 0.1
ping_stop ping2.log 0 "changing mechanism"
say "pings: $PING_RX of $PING_TX answered across the changes of mechanism"

say "kill -9 bpkd: the fused chains keep running; a restart re-adopts them and can change them"
x1_before=$("$TOOL" count "$(pin_of x1)/maps/plain_packets")
kill -9 "$BPKD_PID"
wait "$BPKD_PID" 2>/dev/null || true
ip netns exec "$NS_TX" ping -q -c 5 -i 0.01 -W 1 10.240.57.2 >/dev/null || fail "no ping with bpkd dead"
bpkd_start
expect_running "x1 x2/t1 t2" "after the restart, the interface"
payload "x2 x1/t2 t1" p.json
expect_agent 200 POST /l3af/configs/v1/update p.json
expect_running "x2 x1/t2 t1" "a reorder after the restart"
ip netns exec "$NS_TX" ping -q -c 5 -i 0.01 -W 1 10.240.57.2 >/dev/null || fail "no ping after the reorder"
[ "$("$TOOL" count "$(pin_of x1)/maps/plain_packets")" -ge $((x1_before + 10)) ] ||
	fail "x1's counter did not run on across the restart and the reorder"

say "delete everything: no link, no pins"
printf '[{"host_name": "node1", "iface": "veth-rx", "bpf_programs": {"xdp_ingress": ["x1", "x2"], "tc_ingress": ["t1", "t2"]}}]\n' >d.json
expect_agent 200 POST /l3af/configs/v1/delete d.json
ip -n "$NS_RX" link show veth-rx >link
assert_no_grep 'xdp' link
ip netns exec "$NS_RX" "$TOOL" tcx-query veth-rx tc_ingress >tcq || fail "cannot query TCX"
[ "$(wc -l <tcq)" -eq 1 ] || { cat tcq; fail "TCX links remain after delete"; }
[ -z "$(ls -A "$PIN/bpk" 2>/dev/null)" ] || { find "$PIN/bpk"; fail "pins remain after delete"; }
ip netns exec "$NS_TX" ping -q -c 3 -i 0.01 -W 1 10.240.57.2 >/dev/null || fail "no ping with nothing attached"
say "ok"

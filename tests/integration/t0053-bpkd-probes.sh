#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpkd probes: tracepoint programs of an l3afd "probes" list attach from their section name,
# count, are changed one without the other, stay attached across kill -9 and restart (re-adopted),
# and are detached and unpinned by delete.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root: network namespaces and tracepoint links"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v curl >/dev/null || skip "curl is not installed"
command -v bpftool >/dev/null || skip "bpftool is not installed"
BPKD=$BPK_TEST_BUILDDIR/daemon/bpkd
TOOL=$BPK_TEST_BUILDDIR/tests/chain-tool
[ -x "$BPKD" ] || fail "$BPKD is not built"
# bpkd mounts tracefs when it is missing; the kernel must have the syscall tracepoints.
TP=syscalls/sys_enter_getppid
if [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
	mkdir -p "$SCRATCH/tracefs" && mount -t tracefs tracefs "$SCRATCH/tracefs" ||
		skip "cannot mount tracefs to look for the $TP tracepoint"
	at_exit "umount -l '$SCRATCH/tracefs'"
	[ -d "$SCRATCH/tracefs/events/$TP" ] || skip "the kernel has no $TP tracepoint (CONFIG_FTRACE_SYSCALLS)"
elif [ ! -d "/sys/kernel/tracing/events/$TP" ] && [ ! -d "/sys/kernel/debug/tracing/events/$TP" ]; then
	skip "the kernel has no $TP tracepoint (CONFIG_FTRACE_SYSCALLS)"
fi

veth_pair 10.240.53

cd "$SCRATCH"
say "packages: pr1, pr2 (tracepoint counters of getppid), x1 (an XDP program), signed"
"$BPK" key gen -o ops >/dev/null 2>&1 && "$BPK" trust add ops.pub --dir trust >/dev/null 2>&1 ||
	fail "cannot make a trusted key"
mkpkg() { # NAME OBJECT PROGRAM
	pkg_dir "src-$1" "$1" "$2" "$3" &&
		"$BPK" pack "src-$1" -o "$1.bpk" >/dev/null 2>"pack-$1.err" ||
		{ cat "pack-$1.err"; fail "cannot pack $1"; }
	"$BPK" sign "$1.bpk" --key ops.pem >/dev/null 2>&1 || fail "cannot sign $1"
}
mkpkg pr1 probe_getppid probe_getppid
mkpkg pr2 probe_getppid probe_getppid
mkpkg x1 chain_xdp_count xdp_chain_count


prog() { # NAME SEQ [STATUS] [PROG_TYPE]
	printf '{"id": %s, "name": "%s", "seq_id": %s, "artifact": "%s", "map_name": "", "version": "1.0.0", "admin_status": "%s", "prog_type": "%s", "cfg_version": 1, "user_program_daemon": false, "is_plugin": false, "cpu": 0, "memory": 0, "start_args": {}, "monitor_maps": [{"name": "getppid_calls", "key": 0, "aggregator": "scalar"}]}' \
		"$2" "$1" "$2" "$SCRATCH/$1.bpk" "${3:-enabled}" "${4:-probe}"
}
payload() { # FILE PROBES
	printf '[{"host_name": "node1", "iface": "veth-rx", "bpf_programs": {"xdp_ingress": [], "tc_ingress": [], "tc_egress": [], "probes": [%s]}}]\n' "$2" >"$1"
}
status() {
	expect_agent 200 GET /v1/status && cp "$SCRATCH/body" "$SCRATCH/status"
}
field() { # NAME KEY: a field of a probe in the status
	json_get "$SCRATCH/status" "[p['$2'] for i in j['interfaces'] for h in i['hooks'] if h['hook'] == 'probes' for p in h['chain'] if p['name'] == '$1'][0]"
}
names() {
	json_get "$SCRATCH/status" "' '.join(sorted(p['name'] for i in j['interfaces'] for h in i['hooks'] if h['hook'] == 'probes' for p in h['chain']))"
}
count() { # NAME
	"$TOOL" count "$(field "$1" pin)/maps/getppid_calls" || fail "cannot read $1's counter"
}
# getppid N: make N getppid() calls from a process in the namespace
getppid() {
	ip netns exec "$NS_RX" "$PYTHON3" -c "import os
for _ in range($1): os.getppid()" || fail "cannot run python in the namespace"
}
link_exists() { # LINK_ID
	bpftool link show id "$1" >/dev/null 2>&1
}

bpkd_start -v

say "apply: pr1 and pr2 (one seq_id: probes have no order); they attach and count"
payload p1.json "$(prog pr1 1), $(prog pr2 1)"
expect_agent 200 POST /l3af/configs/v1/update p1.json
status
[ "$(names)" = "pr1 pr2" ] || { cat status; fail "probes in the status are '$(names)'"; }
json_get status "[h['running'] for i in j['interfaces'] for h in i['hooks'] if h['hook'] == 'probes'] == [True]" |
	grep -qx True || { cat status; fail "the status does not say the probes run"; }
[ "$(field pr1 attach_to)" = "tracepoint/$TP" ] || fail "pr1 attaches to '$(field pr1 attach_to)'"
pin1=$(field pr1 pin)
case "$pin1" in "$PIN/bpk/veth-rx/probes/pr1@"*) ;; *) fail "pr1 is pinned in '$pin1'" ;; esac
for f in prog link maps/getppid_calls; do
	[ -e "$pin1/$f" ] || { find "$PIN/bpk"; fail "pr1 has no $f pin"; }
done
prog1=$(field pr1 prog_id)
link1=$(field pr1 link_id)
link2=$(field pr2 link_id)
[ "$link1" -gt 0 ] && [ "$link2" -gt 0 ] || fail "the probes have no link ids ($link1, $link2)"
bpftool -j link show id "$link1" >link.json 2>&1 || { cat link.json; fail "bpftool does not show pr1's link $link1"; }
json_get link.json "j['prog_id'] == $prog1" | grep -qx True || { cat link.json; fail "link $link1 does not hold pr1"; }
c1=$(count pr1)
c2=$(count pr2)
getppid 1000
[ "$(count pr1)" -ge $((c1 + 1000)) ] || fail "pr1 counted $(( $(count pr1) - c1 )) of 1000 getppid calls"
[ "$(count pr2)" -ge $((c2 + 1000)) ] || fail "pr2 counted $(( $(count pr2) - c2 )) of 1000 getppid calls"

say "a program that is no probe is refused, the probes unchanged"
payload bad1.json "$(prog pr1 1), $(prog pr2 1), $(prog x1 2 enabled xdp)"
expect_agent 400 POST /l3af/configs/v1/update bad1.json
assert_grep 'invalid_config' body
assert_grep 'probes\[2\].*tracepoint/' body
status
[ "$(field pr1 link_id) $(field pr2 link_id)" = "$link1 $link2" ] || fail "a refused apply changed the probes"
[ -z "$(find "$PIN/bpk" -name 'x1@*')" ] || fail "a refused apply left pins behind"

say "disable pr2: it goes, pr1 is not touched"
payload p2.json "$(prog pr1 1), $(prog pr2 1 disabled)"
expect_agent 200 POST /l3af/configs/v1/update p2.json
status
[ "$(names)" = "pr1" ] || fail "probes after disabling pr2 are '$(names)'"
[ "$(field pr1 prog_id) $(field pr1 link_id)" = "$prog1 $link1" ] || fail "disabling pr2 reloaded pr1"
for _ in $(seq 1 100); do link_exists "$link2" || break; sleep 0.05; done
link_exists "$link2" && fail "pr2's link $link2 is still there"
[ -z "$(find "$PIN/bpk" -name 'pr2@*')" ] || fail "pr2's pins remain"

say "add pr2 again: pr1 is not touched"
printf '[{"host_name": "node1", "iface": "veth-rx", "bpf_programs": {"probes": [%s]}}]\n' "$(prog pr2 7)" >a1.json
expect_agent 200 POST /l3af/configs/v1/add a1.json
status
[ "$(names)" = "pr1 pr2" ] || fail "probes after adding pr2 are '$(names)'"
[ "$(field pr1 prog_id) $(field pr1 link_id)" = "$prog1 $link1" ] || fail "adding pr2 reloaded pr1"
link2=$(field pr2 link_id)
prog2=$(field pr2 prog_id)

say "kill -9 bpkd: the probes keep counting; restart re-adopts them"
kill -9 "$BPKD_PID"
wait "$BPKD_PID" 2>/dev/null || true
c1=$("$TOOL" count "$pin1/maps/getppid_calls")
getppid 500
[ "$("$TOOL" count "$pin1/maps/getppid_calls")" -ge $((c1 + 500)) ] || fail "pr1 stopped counting while bpkd was down"
bpkd_start -v
status
json_get status "j['adopted_at_start'] == 2 and [h['running'] for i in j['interfaces'] for h in i['hooks'] if h['hook'] == 'probes'] == [True]" |
	grep -qx True || { cat status; fail "the restarted bpkd did not re-adopt 2 running probes"; }
[ "$(field pr1 prog_id) $(field pr1 link_id) $(field pr2 prog_id) $(field pr2 link_id)" = "$prog1 $link1 $prog2 $link2" ] ||
	fail "the restart changed the probes"
link_exists "$link1" && link_exists "$link2" || fail "a link went with the restart"
c2=$(count pr2)
getppid 500
[ "$(count pr2)" -ge $((c2 + 500)) ] || fail "pr2 does not count after the restart"

say "/metrics lists the probes"
expect_agent 200 GET /metrics
assert_grep '^bpkd_program_runs_total\{iface="veth-rx",hook="probes",program="pr1"\} [0-9]+' body
assert_grep '^bpkd_monitor_map_value\{iface="veth-rx",hook="probes",program="pr2",map="getppid_calls",key="0",aggregator="scalar"\} [1-9]' body

say "delete: the links go, the counters stop, the pins go"
# keep pr1's counter past the delete, to see that nothing counts into it any more
bpftool map pin pinned "$pin1/maps/getppid_calls" "$PIN/kept-pr1" || fail "cannot keep pr1's counter"
printf '[{"host_name": "node1", "iface": "veth-rx", "bpf_programs": {"probes": ["pr1", "pr2"]}}]\n' >d1.json
expect_agent 200 POST /l3af/configs/v1/delete d1.json
for _ in $(seq 1 100); do
	link_exists "$link1" || link_exists "$link2" || break
	sleep 0.05
done
link_exists "$link1" && fail "pr1's link $link1 is still there after delete"
link_exists "$link2" && fail "pr2's link $link2 is still there after delete"
bpftool -j link show >links.json 2>&1 || { cat links.json; fail "bpftool cannot list links"; }
json_get links.json "any(l.get('prog_id') in ($prog1, $prog2) for l in j)" | grep -qx False ||
	{ cat links.json; fail "a link still holds a deleted probe"; }
c1=$("$TOOL" count "$PIN/kept-pr1")
getppid 500
[ "$("$TOOL" count "$PIN/kept-pr1")" -eq "$c1" ] || fail "pr1 still counts after delete"
rm -f "$PIN/kept-pr1"
[ -z "$(ls -A "$PIN/bpk" 2>/dev/null)" ] || { find "$PIN/bpk"; fail "pins remain after delete"; }
expect_agent 404 GET /l3af/configs/v1/veth-rx
status
[ -z "$(names)" ] || fail "the status still lists probes: $(names)"
say "ok"

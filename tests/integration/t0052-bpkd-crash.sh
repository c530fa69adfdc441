#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# kill -9 bpkd at random moments of applies that reorder, add and remove programs: after each
# restart the kernel runs exactly the old or the new configuration (never a mix), every pin is
# recorded, and pings cross the chains the whole time. The TC chain runs fused, and with
# --no-fuse as TCX links.
# bpk-test: per-mechanism
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root: network namespaces, XDP and TCX links"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v ping >/dev/null || skip "ping (iputils-ping) is not installed"
command -v curl >/dev/null || skip "curl is not installed"
BPKD=$BPK_TEST_BUILDDIR/daemon/bpkd
TOOL=$BPK_TEST_BUILDDIR/tests/chain-tool
[ -x "$BPKD" ] || fail "$BPKD is not built"
"$TOOL" tcx-probe 2>"$SCRATCH/probe.err" || skip "no TCX here: $(cat "$SCRATCH/probe.err")"
ITERATIONS=${BPK_TEST_CRASH_ITERATIONS:-20}
# An apply takes tens of ms: kills spread over 0-60 ms land inside one about half the time.
KILL_MS_MAX=${BPK_TEST_CRASH_KILL_MS:-60}
# Fused, the XDP stages are programs that know nothing of chaining; portable, L3AF's.
if [ "${BPK_TEST_MECHANISM:-}" = portable ]; then
	XDP_MECHANISM=tail_call TC_MECHANISM=tcx XDP_OBJ=chain_xdp_count:xdp_chain_count
	XDP_MAP=count_packets
else
	XDP_MECHANISM=fused TC_MECHANISM=fused XDP_OBJ=plain_xdp:xdp_plain XDP_MAP=plain_packets
fi

veth_pair 10.240.52
inns() { ip netns exec "$NS_RX" "$@"; }

cd "$SCRATCH"
"$BPK" key gen -o ops >/dev/null 2>&1 && "$BPK" trust add ops.pub --dir trust >/dev/null 2>&1 ||
	fail "cannot make a trusted key"
for p in c1:$XDP_OBJ c2:$XDP_OBJ c3:$XDP_OBJ t1:chain_tc_count:tc_chain_count \
	t2:chain_tc_count:tc_chain_count; do
	IFS=: read -r name obj prog <<<"$p"
	pkg_dir "src-$name" "$name" "$obj" "$prog" &&
		"$BPK" pack "src-$name" -o "$name.bpk" >/dev/null 2>&1 &&
		"$BPK" sign "$name.bpk" --key ops.pem >/dev/null 2>&1 || fail "cannot make $name"
done


# The configurations, as "xdp programs / tc programs"; consecutive ones reorder, add, remove.
CONFIGS=("c1 c2 c3/t1 t2" "c3 c1/t2" "c2/t2 t1" "c1 c3 c2/" "c2 c3/t1" "c3 c2 c1/t1 t2")
prog() { # NAME SEQ TYPE
	printf '{"name": "%s", "seq_id": %s, "artifact": "%s", "version": "1.0.0", "admin_status": "enabled", "prog_type": "%s", "map_name": "%s"}' \
		"$1" "$2" "$SCRATCH/$1.bpk" "$3" "$([ "$3" = xdp ] && [ "$XDP_MECHANISM" = tail_call ] && echo count_next)"
}
payload() { # CONFIG FILE
	xdp=${1%/*} tc=${1#*/} list="" seq=1
	for n in $xdp; do
		list="$list${list:+, }$(prog "$n" "$seq" xdp)"
		seq=$((seq + 1))
	done
	tlist="" seq=1
	for n in $tc; do
		tlist="$tlist${tlist:+, }$(prog "$n" "$seq" tc)"
		seq=$((seq + 1))
	done
	printf '[{"host_name": "node1", "iface": "veth-rx", "bpf_programs": {"xdp_ingress": [%s], "tc_ingress": [%s]}}]\n' "$list" "$tlist" >"$2"
}

# running: what the agent's status says runs, in the form of CONFIGS; checks it against the
# kernel (XDP: the root's link and slots; TC: the TCX order) and the pins against the records.
running() {
	inns curl -s --max-time 30 -o status "$AGENT/v1/status" || fail "no status"
	json_get status "all(h['running'] and all(p['pinned'] for p in h['chain']) for i in j['interfaces'] for h in i['hooks'])" |
		grep -qx True || { cat status >&2; fail "status says a chain does not run whole"; }
	xdp=$(json_get status "' '.join(p['name'] for i in j['interfaces'] for h in i['hooks'] if h['hook'] == 'xdp_ingress' for p in h['chain'])")
	tc=$(json_get status "' '.join(p['name'] for i in j['interfaces'] for h in i['hooks'] if h['hook'] == 'tc_ingress' for p in h['chain'])")
	# TC: the kernel's TCX chain is the status's (the fused program, or each stage in order)
	[ -z "$tc" ] || expect_tcx status tc_ingress
	tmech=$(json_get status "([h['mechanism'] for i in j['interfaces'] for h in i['hooks'] if h['hook'] == 'tc_ingress'] + [''])[0]")
	[ -z "$tc" ] || [ "$tmech" = "$TC_MECHANISM" ] || fail "tc_ingress runs with '$tmech'"
	xmech=$(json_get status "[h['mechanism'] for i in j['interfaces'] for h in i['hooks'] if h['hook'] == 'xdp_ingress'][0]")
	[ "$xmech" = "$XDP_MECHANISM" ] || fail "xdp_ingress runs with '$xmech'"
	hdir=$PIN/bpk/veth-rx/xdp_ingress
	ip -n "$NS_RX" link show veth-rx | grep -q 'prog/xdp id' || fail "no XDP program on veth-rx"
	if [ "$XDP_MECHANISM" = fused ]; then
		# XDP: the link runs the recorded fused program
		"$TOOL" link-info "$hdir/link" >link || fail "no XDP link pinned"
		[ "$(cut -d' ' -f1 link)" = "$(json_get status "[h['fused']['prog_id'] for i in j['interfaces'] for h in i['hooks'] if h['hook'] == 'xdp_ingress'][0]")" ] ||
			{ cat status >&2; fail "the XDP link does not run the recorded fused program"; }
	else
		# XDP: the root is attached, and slot 0 of the root, then of each stage, is the next
		prev=$hdir/xdp_root_array
		for pin in $(json_get status "' '.join(p['pin'] for i in j['interfaces'] for h in i['hooks'] if h['hook'] == 'xdp_ingress' for p in h['chain'])"); do
			[ "$("$TOOL" slot-get "$prev")" = "$("$TOOL" prog-id "$pin/prog")" ] ||
				{ cat status >&2; fail "slot 0 of $prev is not $pin"; }
			prev=$pin/maps/count_next
		done
	fi
	# Pins: every stage directory (and fused program) is one the status names, nothing else
	json_get status "'\n'.join(sorted([p['pin'] for i in j['interfaces'] for h in i['hooks'] for p in h['chain']] + [h['fused']['pin'] for i in j['interfaces'] for h in i['hooks'] if 'fused' in h]))" >recorded
	find "$PIN/bpk" -mindepth 3 -maxdepth 3 -type d | sort >pinned
	cmp -s recorded pinned || { diff recorded pinned >&2; fail "pinned stage directories differ from the recorded ones"; }
	find "$PIN/bpk" -maxdepth 3 -type f | sed "s|^$hdir/||; s|^$PIN/bpk/veth-rx/||" | sort | tr '\n' ' ' >roots
	want="link xdp_root xdp_root_array "
	[ "$XDP_MECHANISM" = fused ] && want="link "
	[ -n "$tc" ] && [ "$TC_MECHANISM" = fused ] && want="${want}tc_ingress/link "
	[ "$(cat roots)" = "$want" ] || { cat roots >&2; fail "unexpected pins beside the stages"; }
	echo "$xdp/$tc"
}

bpkd_start
payload "${CONFIGS[0]}" p.json
inns curl -s -f -o /dev/null -X POST --data-binary @p.json "$AGENT/l3af/configs/v1/update" ||
	fail "the first apply failed"
cur=${CONFIGS[0]}
[ "$(running)" = "$cur" ] || fail "the first apply runs '$(running)'"

say "$ITERATIONS applies, each killed after 0-$KILL_MS_MAX ms, while pings cross"
ping_start 0.01 ping.log
sleep 0.2
olds=0 news=0
for i in $(seq 1 "$ITERATIONS"); do
	next=$cur
	while [ "$next" = "$cur" ]; do
		next=${CONFIGS[$((RANDOM % ${#CONFIGS[@]}))]}
	done
	payload "$next" p.json
	ms=$((RANDOM % (KILL_MS_MAX + 1)))
	inns curl -s -o /dev/null --max-time 30 -X POST --data-binary @p.json \
		"$AGENT/l3af/configs/v1/update" &
	CURL_PID=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -9 "$BPKD_PID" 2>/dev/null || { tail -20 bpkd.log; fail "bpkd died on its own during apply $i"; }
	wait "$BPKD_PID" 2>/dev/null || true
	wait "$CURL_PID" 2>/dev/null || true
	bpkd_start
	got=$(running)
	if [ "$got" = "$cur" ]; then
		olds=$((olds + 1))
	elif [ "$got" = "$next" ]; then
		news=$((news + 1))
		cur=$next
	else
		fail "iteration $i (killed after $ms ms): runs '$got', neither the old '$cur' nor the new '$next'"
	fi
done
say "after restarts: $olds ran the old configuration, $news the new one; $(grep -c 'was cut short' bpkd.log || true) applies were recovered, $(grep -c 'which no applied chain records' bpkd.log || true) unrecorded stage directories removed"

say "a last apply completes, and the chain carries traffic"
payload "${CONFIGS[0]}" p.json
inns curl -s -f -o /dev/null -X POST --data-binary @p.json "$AGENT/l3af/configs/v1/update" ||
	fail "the last apply failed"
[ "$(running)" = "${CONFIGS[0]}" ] || fail "the last apply runs '$(running)'"
sleep 0.2
ping_stop ping.log 100
say "pings: $PING_RX of $PING_TX answered"
n=$("$TOOL" count "$(json_get status "[p['pin'] for i in j['interfaces'] for h in i['hooks'] for p in h['chain'] if p['name'] == 'c1'][0]")/maps/$XDP_MAP")
ip netns exec "$NS_TX" ping -q -c 5 -i 0.01 -W 1 10.240.52.2 >/dev/null || fail "no ping at the end"
[ "$("$TOOL" count "$(json_get status "[p['pin'] for i in j['interfaces'] for h in i['hooks'] for p in h['chain'] if p['name'] == 'c1'][0]")/maps/$XDP_MAP")" -ge $((n + 5)) ] ||
	fail "c1 did not count the last pings"

say "delete everything: no pins left"
printf '[{"host_name": "node1", "iface": "veth-rx", "bpf_programs": {"xdp_ingress": ["c1", "c2", "c3"], "tc_ingress": ["t1", "t2"]}}]\n' >d.json
inns curl -s -f -o /dev/null -X POST --data-binary @d.json "$AGENT/l3af/configs/v1/delete" ||
	fail "delete failed"
[ -z "$(ls -A "$PIN/bpk" 2>/dev/null)" ] || { find "$PIN/bpk"; fail "pins remain after delete"; }
say "ok"

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Chaining on a real interface: an XDP chain and a TCX chain of two counting programs each on a
# veth between two throwaway namespaces; traffic reaches every stage, and swapping stages (a
# program-array slot, a TCX link's program, the XDP root itself) under traffic loses no packet.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root: network namespaces, XDP and TCX links"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v ping >/dev/null || skip "ping (iputils-ping) is not installed"
TOOL=$BPK_TEST_BUILDDIR/tests/chain-tool
[ -x "$TOOL" ] || fail "$TOOL is not built"
"$TOOL" tcx-probe 2>"$SCRATCH/probe.err" || skip "no TCX here: $(cat "$SCRATCH/probe.err")"

veth_pair 10.240.40

rx() {
	ip netns exec "$NS_RX" "$TOOL" "$@"
}
tool() {
	"$TOOL" "$@"
}
count() {
	tool count "$1" || fail "cannot read the counter $1"
}

say "load two XDP stages (and a spare), two TCX stages (and a spare)"
for s in x1 x2 x2b; do
	tool load "$BPK_TEST_BPF_DIR/chain_xdp_count.o" "$PIN/$s" || fail "cannot load $s"
done
for s in t1 t2 t1b; do
	tool load "$BPK_TEST_BPF_DIR/chain_tc_count.o" "$PIN/$s" || fail "cannot load $s"
done
XDP=$PIN/veth-rx/xdp_ingress
TC=$PIN/veth-rx/tc_ingress

say "XDP: root -> x1 -> x2, attached to veth-rx from inside its namespace"
rx xdp-root "$XDP" veth-rx &&
	tool slot-set "$XDP/xdp_root_array" "$PIN/x1/prog" &&
	tool slot-set "$PIN/x1/count_next" "$PIN/x2/prog" ||
	fail "cannot build the XDP chain"
# A second root, not attached, with the same chain: what a root swap puts on the interface.
tool xdp-root "$PIN/root2" &&
	tool slot-set "$PIN/root2/xdp_root_array" "$PIN/x1/prog" ||
	fail "cannot build the second root"

say "TCX: t2 appended, then t1 before t2's link"
rx tcx-attach veth-rx tc_ingress "$PIN/t2/prog" "$TC/t2" &&
	rx tcx-attach veth-rx tc_ingress "$PIN/t1/prog" "$TC/t1" before "$TC/t2" ||
	fail "cannot build the TCX chain"
rx tcx-query veth-rx tc_ingress >"$SCRATCH/q1" || fail "cannot query the TCX chain"
want="$(tool prog-id "$PIN/t1/prog") $(tool prog-id "$PIN/t2/prog")"
got=$(tail -n +2 "$SCRATCH/q1" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$want" ] || fail "TCX order is '$got', expected '$want' (t1 t2)"

say "ping across: every stage counts"
ip netns exec "$NS_TX" ping -q -c 20 -i 0.01 -W 2 10.240.40.2 >"$SCRATCH/ping1" 2>&1 ||
	{ cat "$SCRATCH/ping1"; fail "no ping across the chains"; }
for c in x1/count_packets x2/count_packets t1/tc_packets t2/tc_packets; do
	n=$(count "$PIN/$c")
	[ "$n" -ge 20 ] || fail "stage $c counted $n packets, expected at least 20"
done

say "a restarted agent re-adopts the pinned root without detaching it"
rx xdp-adopt "$XDP" >"$SCRATCH/adopt" || fail "cannot re-adopt the XDP root"
x1_id=$(tool prog-id "$PIN/x1/prog")
assert_grep "^root [0-9]+ link [1-9][0-9]* ifindex [1-9][0-9]* slot $x1_id\$" "$SCRATCH/adopt"
root1=$(tool prog-id "$XDP/xdp_root")
root2=$(tool prog-id "$PIN/root2/xdp_root")
rev1=$(head -1 "$SCRATCH/q1" | cut -d' ' -f2)

say "swap stages 50 times while 500 pings cross"
ip netns exec "$NS_TX" ping -q -c 500 -i 0.01 -W 2 10.240.40.2 >"$SCRATCH/ping2" 2>&1 &
PING_PID=$!
at_exit "kill $PING_PID"
sleep 0.3
for i in $(seq 1 50); do
	if [ $((i % 2)) -eq 1 ]; then
		x=x2b t_new=t1b t_old=t1 r_new=$PIN/root2 r_old=$XDP
	else
		x=x2 t_new=t1 t_old=t1b r_new=$XDP r_old=$PIN/root2
	fi
	tool slot-set "$PIN/x1/count_next" "$PIN/$x/prog" || fail "swap $i: cannot fill x1's slot"
	# The old-program check: the link is updated only if it holds what we think it holds.
	tool link-update "$TC/t1" "$PIN/$t_new/prog" "$PIN/$t_old/prog" ||
		fail "swap $i: cannot replace the TCX stage"
	if [ $((i % 5)) -eq 0 ]; then
		tool link-update "$XDP/link" "$r_new/xdp_root" "$r_old/xdp_root" ||
			fail "swap $i: cannot swap the XDP root"
	fi
done
# Each swap waits for the kernel (an RCU grace period or so): 10-30 ms here, 5 s of pings.
kill -0 "$PING_PID" 2>/dev/null ||
	fail "the pings ended before the last swap: the swaps were not all under traffic"
wait "$PING_PID" || { cat "$SCRATCH/ping2"; fail "pings were lost while stages were swapped"; }
assert_grep '500 packets transmitted, 500 received, 0% packet loss' "$SCRATCH/ping2"

say "each swapped-in stage ran, and the chains are whole again"
for c in x2b/count_packets t1b/tc_packets; do
	n=$(count "$PIN/$c")
	[ "$n" -gt 0 ] || fail "the swapped-in stage $c never ran"
done
# 50 is even: the chains end as they began, with the same links in the same order.
[ "$(tool slot-get "$PIN/x1/count_next")" = "$(tool prog-id "$PIN/x2/prog")" ] ||
	fail "x1's slot does not hold x2 after the swaps"
rx tcx-query veth-rx tc_ingress >"$SCRATCH/q2" || fail "cannot query the TCX chain"
[ "$(tail -n +2 "$SCRATCH/q2")" = "$(tail -n +2 "$SCRATCH/q1")" ] ||
	{ cat "$SCRATCH/q1" "$SCRATCH/q2"; fail "the TCX chain changed shape"; }
rev2=$(head -1 "$SCRATCH/q2" | cut -d' ' -f2)
[ "$rev2" -gt "$rev1" ] || fail "TCX revision $rev2 did not grow from $rev1"
tool link-info "$XDP/link" >"$SCRATCH/link" || fail "cannot read the XDP link"
assert_grep "^$root1 [1-9][0-9]* xdp_ingress [1-9][0-9]*$" "$SCRATCH/link"
[ "$root1" != "$root2" ] || fail "the two roots have one id"

say "traffic after the swaps still crosses every stage"
before=$(count "$PIN/x2/count_packets")
before_t=$(count "$PIN/t2/tc_packets")
ip netns exec "$NS_TX" ping -q -c 5 -i 0.01 -W 2 10.240.40.2 >"$SCRATCH/ping3" 2>&1 ||
	{ cat "$SCRATCH/ping3"; fail "no ping after the swaps"; }
[ "$(count "$PIN/x2/count_packets")" -ge $((before + 5)) ] || fail "x2 no longer counts"
[ "$(count "$PIN/t2/tc_packets")" -ge $((before_t + 5)) ] || fail "t2 no longer counts"
say "ok"

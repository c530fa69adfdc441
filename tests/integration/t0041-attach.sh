#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# One-off use without bpkd, as xdp-loader: bpk load pins a verified package's programs, bpk
# attach puts one on an interface through a pinned XDP or TCX link that outlives bpk, and
# bpk unload detaches it.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root: network namespaces, XDP and TCX links"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v ping >/dev/null || skip "ping (iputils-ping) is not installed"
TOOL=$BPK_TEST_BUILDDIR/tests/chain-tool
"$TOOL" tcx-probe 2>"$SCRATCH/probe.err" || skip "no TCX here: $(cat "$SCRATCH/probe.err")"
veth_pair 10.240.41
cd "$SCRATCH"
inns() { ip netns exec "$NS_RX" "$@"; }

say "two signed packages: an XDP counter and a TC classifier, loaded and pinned"
"$BPK" key gen -o ops >/dev/null && "$BPK" trust add ops.pub --dir trust >/dev/null ||
	fail "cannot make a trusted key"
pkg_dir xc xdp-counter xdp_counter xdp_count
pkg_dir tc tc-class tc_classifier tc_mark_ipv6
for p in xc tc; do
	"$BPK" pack "$p" -o "$p.bpk" >/dev/null && "$BPK" sign "$p.bpk" --key ops.pem >/dev/null ||
		fail "cannot make package $p"
	expect_code 0 "$BPK" load "$p.bpk" --trust trust --pin-root "$PIN/bpk"
done

say "attach: the XDP program by its type, the TC one at tc_ingress"
expect_code 0 inns "$BPK" attach xdp-counter xdp_count veth-rx --pin-root "$PIN/bpk"
assert_grep "attached xdp_count of xdp-counter to veth-rx \(link id [0-9]+\)" out
expect_code 0 inns "$BPK" attach tc-class tc_mark_ipv6 veth-rx --hook tc_ingress --pin-root "$PIN/bpk"
ip -n "$NS_RX" link show veth-rx >link
assert_grep "prog/xdp id [0-9]+" link
inns "$TOOL" tcx-query veth-rx tc_ingress >tcq || fail "cannot query TCX"
[ "$(tail -n +2 tcq | wc -l)" = 1 ] || { cat tcq; fail "tc_ingress does not hold one program"; }
ip netns exec "$NS_TX" ping -q -c 5 -i 0.01 -W 1 10.240.41.2 >ping 2>&1 ||
	{ cat ping; fail "no ping through the attached programs"; }

say "refusals name what is wrong"
expect_code 1 inns "$BPK" attach xdp-counter xdp_count veth-rx --pin-root "$PIN/bpk"
assert_fgrep "already attached" err
expect_code 1 inns "$BPK" attach xdp-counter nosuch veth-rx --pin-root "$PIN/bpk"
assert_fgrep "program 'nosuch' of 'xdp-counter' is not loaded" err
expect_code 1 inns "$BPK" attach xdp-counter xdp_count nosuch0 --pin-root "$PIN/bpk"
assert_fgrep "no interface 'nosuch0'" err
expect_code 2 inns "$BPK" attach xdp-counter xdp_count veth-rx --hook egress --pin-root "$PIN/bpk"
assert_fgrep "--hook is xdp_ingress, tc_ingress or tc_egress" err

say "unload detaches: nothing is left on the interface"
expect_code 0 "$BPK" unload xdp-counter --pin-root "$PIN/bpk"
expect_code 0 "$BPK" unload tc-class --pin-root "$PIN/bpk"
# The kernel lets go of a link when its last reference (the pin) is gone.
for _ in $(seq 50); do
	ip -n "$NS_RX" link show veth-rx | grep -q 'prog/xdp' || break
	sleep 0.1
done
ip -n "$NS_RX" link show veth-rx >link
assert_no_grep "prog/xdp" link
inns "$TOOL" tcx-query veth-rx tc_ingress >tcq || fail "cannot query TCX"
[ "$(tail -n +2 tcq | wc -l)" = 0 ] || { cat tcq; fail "tc_ingress still holds a program"; }
[ ! -e "$PIN/bpk/xdp-counter" ] || fail "pins are left"
say ok

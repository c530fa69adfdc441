#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpk test runs vectors in the kernel: verdicts, rewritten packets, maps before and after,
# failures with their diff, skips with their reason, and the same from a packed .bpk.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "loading BPF programs needs root"
[ -d /sys/fs/bpf ] || skip "no BPF support in this kernel"

cd "$SCRATCH"
mkdir -p echo/bpf echo/tests
cp "$BPK_TEST_BPF_DIR/xdp_echo.o" echo/bpf/
cat >echo/bpk.json <<'JSON'
{"bpk": 1, "name": "echo", "version": "1.0.0", "description": "UDP echo at XDP",
 "license": "GPL-2.0-only", "authors": ["T"], "platforms": ["linux"],
 "source": {"url": "https://example.com/echo.git"}, "requires": {"kernel": ">=5.15"}}
JSON
printf '# echo\n\nBounces UDP port 7 back to the sender with XDP_TX, drops the configured port and\ncounts every verdict in a per-CPU array.\n' >echo/README.md
cat >echo/tests/echo.json <<'JSON'
{
  "program": "xdp_echo",
  "cases": [
    {"name": "udp to port 7 is bounced",
     "packet": {"eth": {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"},
                "ipv4": {"src": "10.0.0.1", "dst": "10.0.0.2"},
                "udp": {"sport": 4000, "dport": 7}, "payload": "ping"},
     "expect": {"retval": "XDP_TX",
                "packet": {"eth": {"src": "02:00:00:00:00:02", "dst": "02:00:00:00:00:01"},
                           "ipv4": {"src": "10.0.0.2", "dst": "10.0.0.1"},
                           "udp": {"sport": 7, "dport": 4000}, "payload": "ping"},
                "maps": [{"name": "echo_verdicts", "key": 3, "value": 1}]}},
    {"name": "the configured port is dropped",
     "maps": [{"name": "echo_config", "key": 0, "value": 53}],
     "packet": {"ipv4": {}, "udp": {"dport": 53}},
     "expect": {"retval": "XDP_DROP", "maps": [{"name": "echo_verdicts", "key": 1, "value": 1}]}},
    {"name": "tcp passes", "packet": {"ipv4": {}, "tcp": {"dport": 80, "flags": "S"}},
     "expect": {"retval": 2}},
    {"name": "ipv6 passes", "packet": {"ipv6": {}, "udp": {"dport": 7}},
     "expect": {"retval": "XDP_PASS"}},
    {"name": "loads", "load_only": true}
  ]
}
JSON

say "a passing vector, from the directory and from the package"
expect_code 0 "$BPK" test echo
assert_grep "^5 passed, 0 failed, 0 skipped" out
assert_grep "^PASS +tests/echo.json +xdp_echo +udp to port 7 is bounced" out
expect_code 0 "$BPK" pack echo -o echo.bpk
expect_code 0 "$BPK" test echo.bpk --repeat 100
assert_grep "udp to port 7 is bounced +\([0-9]+ ns/run\)" out
expect_code 0 "$BPK" test echo -j
[ "$(json_get out 'j["passed"]')" = 5 ] || fail "-j passed count"

say "a wrong verdict, a wrong packet and a wrong counter each fail with their diff"
cat >echo/tests/echo.json <<'JSON'
{"program": "xdp_echo", "cases": [
  {"name": "wrong verdict", "packet": {"ipv4": {}, "udp": {"dport": 9}}, "expect": {"retval": "XDP_DROP"}},
  {"name": "wrong packet", "packet": {"ipv4": {}, "udp": {"dport": 7}},
   "expect": {"packet": {"ipv4": {}, "udp": {"dport": 7}}}},
  {"name": "wrong counter", "packet": {"ipv4": {}, "udp": {"dport": 9}},
   "expect": {"maps": [{"name": "echo_verdicts", "key": 2, "value": 7}]}},
  {"name": "bad map", "packet_hex": "00", "maps": [{"name": "nope", "key": 0, "value": 1}]},
  {"name": "short packet", "packet_hex": "0102"}
]}
JSON
expect_code 1 "$BPK" test echo
assert_grep "^FAIL +tests/echo.json +xdp_echo +wrong verdict" out
assert_grep "return value: expected 1, got 2" out
assert_grep "output packet differs" out
assert_grep "^ +! 000000" out
assert_grep "map 'echo_verdicts' \(summed over CPUs\): value differs" out
assert_grep "no map named 'nope'" out
assert_grep "at least 14 bytes" out
assert_grep "^0 passed, 5 failed, 0 skipped" out

say "a vector naming a program no object has, and broken JSON"
echo '{"program": "ghost", "cases": []}' >echo/tests/echo.json
expect_code 1 "$BPK" test echo
assert_grep "no object has a program named 'ghost'" out
echo '{"program": ' >echo/tests/echo.json
expect_code 1 "$BPK" test echo
assert_grep "not a JSON object" out

say "a program type the kernel cannot test-run is skipped with the reason"
mkdir -p kp/bpf kp/tests
cp "$BPK_TEST_BPF_DIR/kprobe_core.o" kp/bpf/
prog=$("$BPK" inspect -j kp/bpf/kprobe_core.o | python3 -c 'import json,sys; print(json.load(sys.stdin)["programs"][0]["name"])')
echo "{\"program\": \"$prog\", \"cases\": [{\"name\": \"run\", \"ctx_hex\": \"00\"}]}" >kp/tests/kp.json
expect_code 0 "$BPK" test kp
assert_grep "^SKIP +tests/kp.json" out
assert_grep "cannot test-run kprobe programs" out
assert_grep "^0 passed, 0 failed, 1 skipped" out

say "no vectors at all"
mkdir -p none/bpf && cp "$BPK_TEST_BPF_DIR/xdp_echo.o" none/bpf/
expect_code 1 "$BPK" test none
assert_grep "has no test vectors" err

say "a program the verifier rejects fails its cases with the verifier's words"
mkdir -p bad/bpf bad/tests
cp "$BPK_TEST_BPF_DIR/xdp_unbounded.o" bad/bpf/
echo '{"program": "xdp_unbounded", "cases": [{"name": "loads", "load_only": true}]}' >bad/tests/t.json
expect_code 1 "$BPK" test bad
assert_grep "^FAIL +tests/t.json +xdp_unbounded +loads" out
assert_grep "the kernel refused to load 'xdp_unbounded'" out
assert_grep "invalid access to packet" out

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A trust policy can refuse capabilities: a well-signed package whose bytecode can do a denied
# thing is refused by bpk verify and bpk load, with the program and the evidence named.
. "$(dirname "$0")/lib.sh"

cd "$SCRATCH"
pkg_dir p chain xdp_tailcall xdp_root
expect_code 0 "$BPK" pack p -o chain.bpk
expect_code 0 "$BPK" key gen -o k
expect_code 0 "$BPK" trust add k.pub --dir trust
expect_code 0 "$BPK" sign chain.bpk --key k.pem
expect_code 0 "$BPK" verify chain.bpk --trust trust

say "deny a capability the package does not have: still trusted"
echo '{"deny": ["write-user-memory"]}' >trust/policy.json
expect_code 0 "$BPK" verify chain.bpk --trust trust

say "deny one it has: refused, with the program and the evidence"
echo '{"deny": ["write-user-memory", "tail-calls"]}' >trust/policy.json
expect_code 1 "$BPK" verify chain.bpk --trust trust
assert_grep "program 'xdp_root' in 'bpf/xdp_tailcall.o' jumps to other BPF programs" err
assert_grep "tail-calls: calls bpf_tail_call\), which the trust policy denies" err
expect_code 1 "$BPK" load chain.bpk --trust trust --pin-root "$SCRATCH/pins"
assert_grep "which the trust policy denies" err

say "an unknown capability in deny is a broken policy, not a looser one"
echo '{"deny": ["fly"]}' >trust/policy.json
expect_code 1 "$BPK" verify chain.bpk --trust trust
assert_grep "'deny': entry 0 is not a capability id" err

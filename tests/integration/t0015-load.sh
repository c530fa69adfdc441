#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpk load refuses what bpk verify refuses, applies the kernel-signature policy in plain words,
# loads and pins a trusted package without attaching it, and bpk unload removes the pins.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "loading BPF programs needs root"
command -v openssl >/dev/null || skip "the openssl command is not installed"

PIN=/sys/fs/bpf/bpk-test-$$
at_exit "rm -rf $PIN"
cd "$SCRATCH"
pkg_dir p acme/echo xdp_echo xdp_echo
expect_code 0 "$BPK" pack p -o echo.bpk
expect_code 0 "$BPK" key gen -o acme
expect_code 0 "$BPK" trust add acme.pub --names 'acme/*' --dir trust

say "unsigned, untrusted and tampered packages are not loaded"
expect_code 1 "$BPK" load echo.bpk --trust trust --pin-root $PIN
assert_grep "unsigned" err
[ ! -e $PIN/acme-echo ] || fail "a refused package was pinned"
cp echo.bpk signed.bpk
expect_code 0 "$BPK" key gen -o stranger
expect_code 0 "$BPK" sign signed.bpk --key stranger.pem
expect_code 1 "$BPK" load signed.bpk --trust trust --pin-root $PIN
assert_grep "unknown key|not trusted|untrusted" err

say "a trusted package loads and pins, nothing attached"
expect_code 0 "$BPK" sign signed.bpk --key acme.pem
expect_code 0 "$BPK" load signed.bpk --trust trust --pin-root $PIN
assert_grep "^loaded acme/echo 1.0.0, pinned at $PIN/acme-echo" out
assert_grep "^  program xdp_echo +id [0-9]+" out
[ -e $PIN/acme-echo/programs/xdp_echo ] && [ -e $PIN/acme-echo/maps/echo_verdicts ] ||
	fail "programs or maps not pinned"
id=$(sed -n 's/.* id \([0-9]*\)$/\1/p' out)
bpftool prog show id "$id" >/dev/null 2>&1 || fail "program $id is not in the kernel"
expect_code 1 "$BPK" load signed.bpk --trust trust --pin-root $PIN
assert_grep "already loaded" err
expect_code 0 "$BPK" unload acme/echo --pin-root $PIN
[ ! -e $PIN/acme-echo ] || fail "unload left pins"
expect_code 1 "$BPK" unload acme/echo --pin-root $PIN

say "--allow-unsigned loads an unsigned package, loudly, but never a tampered one"
expect_code 0 "$BPK" load echo.bpk --allow-unsigned --trust trust --pin-root $PIN
assert_grep "UNSIGNED" err
expect_code 0 "$BPK" unload acme/echo --pin-root $PIN
mkdir x && tar -xzf signed.bpk -C x && echo more >>x/README.md &&
	(cd x && tar --format=ustar -czf ../tampered.bpk bpk.json bpk.sig README.md bpf/*.o tests/*.json)
expect_code 1 "$BPK" load tampered.bpk --allow-unsigned --trust trust --pin-root $PIN
assert_grep "README.md" err

say "the kernel-signature policy, in plain words"
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.pem -out cert.pem -days 2 \
	-subj /CN=bpk-test -addext subjectKeyIdentifier=hash 2>/dev/null
openssl x509 -in cert.pem -outform DER -out cert.der
cp echo.bpk k.bpk
expect_code 0 "$BPK" sign k.bpk --kernel --key rsa.pem --cert cert.der
expect_code 0 "$BPK" sign k.bpk --key acme.pem
set +e
"$BPK" load k.bpk --trust trust --pin-root $PIN --kernel-signatures require --cert cert.der \
	>out 2>err
status=$?
set -e
if grep -q "cannot verify BPF signatures" err; then
	# This machine's kernel lacks CONFIG_SYSTEM_DATA_VERIFICATION (DESIGN.md §8).
	[ $status -eq 1 ] || fail "require did not refuse"
	assert_grep "kernel_signatures = require refuses" err
	expect_code 0 "$BPK" load k.bpk --trust trust --pin-root $PIN --kernel-signatures prefer
	assert_grep "warning: this kernel cannot verify BPF signatures" err
	expect_code 0 "$BPK" unload acme/echo --pin-root $PIN
else
	[ $status -eq 0 ] || { cat err; fail "signed load failed on a kernel that verifies"; }
	assert_grep "kernel-verified" out
	expect_code 0 "$BPK" unload acme/echo --pin-root $PIN
fi
expect_code 0 "$BPK" load k.bpk --trust trust --pin-root $PIN --kernel-signatures off
assert_no_grep "warning" err
expect_code 0 "$BPK" unload acme/echo --pin-root $PIN
expect_code 2 "$BPK" load k.bpk --kernel-signatures sometimes

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The signing happy path through the CLI: keys, a trust policy, two signers, verify (text and
# JSON), trust list and remove, and verify failing once the signer's key is removed.
. "$(dirname "$0")/lib.sh"

cd "$SCRATCH"

say "key gen writes a 0600 private key and a public key, and prints the id last"
expect_code 0 "$BPK" key gen -o author
[ "$(stat -c %a author.pem)" = 600 ] || fail "author.pem has mode $(stat -c %a author.pem)"
[ -s author.pub ] || fail "no author.pub"
assert_grep "BEGIN PRIVATE KEY" author.pem
assert_grep "BEGIN PUBLIC KEY" author.pub
id_author=$(tail -n 1 out)
[[ $id_author =~ ^[0-9a-f]{64}$ ]] || fail "last line '$id_author' is not a key id"
expect_code 0 "$BPK" key id author.pub
[ "$(cat out)" = "$id_author" ] || fail "key id of author.pub differs"
expect_code 0 "$BPK" key id author.pem
[ "$(cat out)" = "$id_author" ] || fail "key id of author.pem differs"

say "key gen never overwrites a key"
cp author.pem author.pem.orig
expect_code 1 "$BPK" key gen -o author
assert_fgrep "already exists" err
cmp -s author.pem author.pem.orig || fail "key gen changed an existing key"
expect_code 2 "$BPK" key gen
expect_code 0 "$BPK" key gen -o org
id_org=$(tail -n 1 out)

say "trust add pins a key, refuses it twice, lists it"
expect_code 0 "$BPK" trust add author.pub --names 'acme/*' --comment 'Ada (author)' --dir trust.d
assert_fgrep "trusted key $id_author for 'acme/*'" out
[ -f "trust.d/$id_author.json" ] || fail "no trust.d/$id_author.json"
[ "$(json_get "trust.d/$id_author.json" 'j["keyid"]')" = "$id_author" ] || fail "keyid not stored"
expect_code 1 "$BPK" trust add author.pub --dir trust.d
assert_fgrep "is already trusted by" err
expect_code 0 "$BPK" trust add org.pub --comment acme-org --dir trust.d
expect_code 0 "$BPK" trust list --dir trust.d
assert_fgrep "trust.d: 2 trusted keys, 1 signature required" out
assert_fgrep "$id_author" out
assert_fgrep "acme/*" out
assert_fgrep "Ada (author)" out
expect_code 0 "$BPK" trust list --dir trust.d -j
[ "$(json_get out 'len(j["keys"])')" = 2 ] || fail "trust list -j does not list 2 keys"
[ "$(json_get out '[k["names"] for k in j["keys"] if k["keyid"] == "'"$id_org"'"][0]')" = None ] ||
	fail "org's key should be trusted for every name"

say "an unsigned package is refused"
pkg_dir demo acme/demo xdp_counter x
expect_code 0 "$BPK" pack demo -o demo.bpk
cp demo.bpk unsigned.bpk
expect_code 1 "$BPK" verify demo.bpk --trust trust.d
assert_fgrep "error: cannot verify 'demo.bpk': unsigned package" err

say "signed by the author, the package verifies"
expect_code 0 "$BPK" sign demo.bpk --key author.pem
assert_fgrep "signed 'demo.bpk' with key $id_author" out
expect_code 0 "$BPK" verify demo.bpk --trust trust.d
assert_fgrep "verified 'demo.bpk': acme/demo 1.0.0, 1 trusted signature (policy requires 1)" out
assert_fgrep "key $id_author (Ada (author)): trusted by trust.d/$id_author.json for 'acme/*'" out

say "a second signer adds a signature; every other entry keeps its bytes"
expect_code 0 "$BPK" sign demo.bpk --key org.pem -o both.bpk
mkdir a b
tar -xzf unsigned.bpk -C a && tar -xzf both.bpk -C b
[ "$(cd b && find . -type f | sort | tr '\n' ' ')" = "./README.md ./bpf/xdp_counter.o ./bpk.json ./bpk.sig ./tests/t.json " ] ||
	fail "unexpected entries in both.bpk"
for f in README.md bpf/xdp_counter.o bpk.json tests/t.json; do
	cmp -s "a/$f" "b/$f" || fail "signing changed $f"
done
[ "$(json_get b/bpk.sig '[s["keyid"] for s in j["signatures"]] == ["'"$id_author"'", "'"$id_org"'"]')" = True ] ||
	fail "bpk.sig should hold the author's then org's signature"
[ "$(json_get b/bpk.sig 'set(s["alg"] for s in j["signatures"])')" = "{'ed25519'}" ] ||
	fail "alg is not ed25519"
expect_code 0 "$BPK" verify both.bpk --trust trust.d
assert_fgrep "2 trusted signatures (policy requires 1)" out
assert_fgrep "key $id_org (acme-org): trusted by trust.d/$id_org.json for every name" out

say "verify -j"
expect_code 0 "$BPK" verify -j both.bpk --trust trust.d
[ "$(json_get out 'j["verdict"]')" = trusted ] || fail "verdict is not trusted"
[ "$(json_get out 'j["accepted"]')" = True ] || fail "not accepted"
[ "$(json_get out 'j["name"]')" = acme/demo ] || fail "name missing"
[ "$(json_get out '[s["status"] for s in j["signers"]]')" = "['trusted', 'trusted']" ] ||
	fail "signer statuses"
[ "$(json_get out 'j["signers"][0]["matched_name"]')" = 'acme/*' ] || fail "matched_name"

say "signing again with the same key replaces its signature"
expect_code 0 "$BPK" sign both.bpk --key author.pem
assert_fgrep "replacing its earlier signature" out
mkdir c && tar -xzf both.bpk -C c
[ "$(json_get c/bpk.sig 'len(j["signatures"])')" = 2 ] || fail "re-signing added a signature"

say "policy.json min_signers 2 needs both"
echo '{"min_signers": 2}' >trust.d/policy.json
expect_code 1 "$BPK" verify demo.bpk --trust trust.d
assert_fgrep "cannot verify 'demo.bpk': 1 trusted signature, policy requires 2" err
expect_code 0 "$BPK" verify both.bpk --trust trust.d
expect_code 0 "$BPK" trust list --dir trust.d
assert_fgrep "2 signatures required" out

say "trust remove by prefix; verify fails once a needed key is gone"
expect_code 0 "$BPK" trust remove "${id_org:0:8}" --dir trust.d
assert_fgrep "removed key $id_org (acme-org)" out
[ ! -e "trust.d/$id_org.json" ] || fail "trust remove left the file"
expect_code 1 "$BPK" verify both.bpk --trust trust.d
assert_fgrep "1 trusted signature, policy requires 2" err
rm trust.d/policy.json
expect_code 0 "$BPK" verify both.bpk --trust trust.d
expect_code 0 "$BPK" trust remove "$id_author" --dir trust.d
expect_code 1 "$BPK" verify demo.bpk --trust trust.d
assert_fgrep "cannot verify 'demo.bpk': signature by unknown key $id_author" err
expect_code 1 "$BPK" trust remove "$id_author" --dir trust.d
assert_fgrep "no key in 'trust.d' has an id starting with $id_author" err
expect_code 0 "$BPK" trust list --dir trust.d
assert_fgrep "0 trusted keys" out

say "usage errors and bad keys"
expect_code 2 "$BPK" sign demo.bpk
expect_code 1 "$BPK" sign demo.bpk --key author.pub
assert_fgrep "is a public key" err
expect_code 1 "$BPK" verify demo.bpk --trust no-such-dir
assert_fgrep "trust policy refused" err
expect_code 2 "$BPK" trust remove
expect_code 2 "$BPK" trust list --force
expect_code 1 "$BPK" trust remove 1234 --dir trust.d
assert_fgrep "is not a key id or a prefix of one" err

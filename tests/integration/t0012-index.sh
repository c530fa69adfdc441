#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The signed index through the CLI: init, add, yank, verify, check, rotate-root, verify again.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || skip "openssl is not installed: it makes the test keys"
OBJS=$BPK_TEST_BPF_DIR
cd "$SCRATCH"

# new_pkg NAME VERSION OBJECT [README]: pack a minimal valid package as NAME-VERSION.bpk, with
# '/' in NAME written as '-'.
new_pkg() {
	file=$(printf %s "$1" | tr / -)-$2.bpk
	dir=src-$file
	rm -rf "$dir" && mkdir -p "$dir/bpf" && cp "$OBJS/$3.o" "$dir/bpf/" &&
		cat >"$dir/bpk.json" <<JSON
{"bpk": 1, "name": "$1", "version": "$2", "description": "index test", "license": "GPL-2.0-only",
 "authors": ["Test"], "platforms": ["linux"], "source": {"url": "https://example.com/x.git"},
 "requires": {"kernel": ">=5.15"}}
JSON
	printf '# %s\n\nA package made to test the signed index. It counts packets and passes each one on,\nwhich is all an index test needs. %s\n' "$1" "${4:-}" >"$dir/README.md"
	"$BPK" pack "$dir" -o "$file" >/dev/null 2>&1 || fail "cannot pack $1@$2"
}

keygen() {
	openssl genpkey -algorithm ed25519 -out "$1.pem" 2>/dev/null || fail "openssl cannot make $1.pem"
}

SIGN="--key targets.pem --key snapshot.pem --key timestamp.pem"

say "init writes version 1 of every role, and no private key"
for k in root targets snapshot timestamp new-a new-b; do keygen "$k"; done
expect_code 0 "$BPK" index init repo --key root=root.pem --key targets=targets.pem \
	--key snapshot=snapshot.pem --key timestamp=timestamp.pem --expires timestamp=2d
assert_grep "^created index 'repo': root, targets, snapshot and timestamp at version 1" out
for f in 1.root.json root.json targets.json snapshot.json timestamp.json; do
	[ -f "repo/$f" ] || fail "init did not write $f"
done
assert_no_grep "PRIVATE" repo/root.json
cmp -s repo/1.root.json repo/root.json || fail "root.json is not 1.root.json"
cp repo/root.json trusted-root.json
expect_code 1 "$BPK" index init repo --key root=root.pem --key targets=targets.pem \
	--key snapshot=snapshot.pem --key timestamp=timestamp.pem
assert_grep "already holds an index" err
expect_code 1 "$BPK" index init incomplete --key root=root.pem --key targets=targets.pem
assert_grep "the snapshot role has no key" err

say "add two packages: targets, snapshot and timestamp are signed again"
new_pkg ratelimit 1.0.0 xdp_counter
new_pkg acme/pktcount 0.1.0 tc_classifier
expect_code 0 "$BPK" index add repo ratelimit-1.0.0.bpk acme-pktcount-0.1.0.bpk $SIGN
assert_grep "^added ratelimit@1.0.0 \([0-9]+ bytes, sha256 [0-9a-f]{64}\)" out
assert_grep "^added acme/pktcount@0.1.0 " out
assert_grep "^signed targets.json version 2, snapshot.json version 2, timestamp.json version 2" out
expect_code 0 "$BPK" index show repo -j
[ "$(json_get out 'len(j["targets"])')" = 2 ] || fail "show -j does not list 2 packages"
[ "$(json_get out '[t["feed"] for t in j["targets"] if t["name"] == "acme/pktcount"][0]')" = acme ] ||
	fail "acme/pktcount is not in feed acme"
digest=$(sha256sum ratelimit-1.0.0.bpk | cut -d' ' -f1)
[ "$(json_get out '[t["sha256"] for t in j["targets"] if t["name"] == "ratelimit"][0]')" = "$digest" ] ||
	fail "the index does not record the package's SHA-256"
[ "$(json_get out 'j["roles"]["timestamp"]["version"]')" = 2 ] || fail "timestamp is not at 2"

say "signing without the keys is refused, and nothing changes"
cp repo/timestamp.json ts-before
expect_code 1 "$BPK" index add repo ratelimit-1.0.0.bpk --key targets.pem
assert_grep "cannot sign snapshot.json: the root requires 1 of its 1 snapshot key, and 0 were given" err
cmp -s ts-before repo/timestamp.json || fail "a refused add changed timestamp.json"

say "a published version is immutable unless --replace"
new_pkg ratelimit 1.0.0 xdp_counter "(rebuilt)"
mv ratelimit-1.0.0.bpk ratelimit-rebuilt.bpk
new_pkg ratelimit 1.0.0 xdp_counter
cmp -s ratelimit-rebuilt.bpk ratelimit-1.0.0.bpk && fail "the rebuilt package has the same bytes"
expect_code 1 "$BPK" index add repo ratelimit-rebuilt.bpk $SIGN
assert_grep "ratelimit@1.0.0 is already in the index with another digest" err

say "yank"
expect_code 0 "$BPK" index yank repo ratelimit@1.0.0 $SIGN
assert_grep "^yanked ratelimit@1.0.0" out
expect_code 0 "$BPK" index show repo
assert_grep "ratelimit@1.0.0 .* yanked$" out
expect_code 1 "$BPK" index yank repo nope@1.0.0 $SIGN
assert_grep "'nope@1.0.0' is not in the index" err

say "verify: the client walks the index from the trusted root"
expect_code 0 "$BPK" index verify repo --root trusted-root.json --state state
assert_grep "^verified 'repo': root version 1, targets 3, snapshot 3, timestamp 3 \(expires [0-9TZ:-]+\); 2 packages" out
for f in root.json timestamp.json snapshot.json targets.json; do
	cmp -s "repo/$f" "state/$f" || fail "the state does not hold the verified $f"
done
expect_code 0 "$BPK" index verify repo --state state -j
[ "$(json_get out 'j["ok"]')" = True ] || fail "verify -j is not ok"
[ "$(json_get out '[t["yanked"] for t in j["targets"] if t["name"] == "ratelimit"][0]')" = True ] ||
	fail "verify -j does not show the yank"

say "check: packages against the verified index"
expect_code 0 "$BPK" index check repo --state state acme-pktcount-0.1.0.bpk ratelimit-1.0.0.bpk
assert_grep "^'acme-pktcount-0.1.0.bpk': acme/pktcount@0.1.0 matches the index" out
assert_grep "^'ratelimit-1.0.0.bpk': ratelimit@1.0.0 matches the index" out
assert_grep "^warning: ratelimit@1.0.0 is yanked" err
expect_code 1 "$BPK" index check repo --state state ratelimit-rebuilt.bpk
# Other bytes: the length differs, or (same length) the digest.
assert_grep "^error: 'ratelimit-rebuilt.bpk' does not match the index: the package(( is [0-9]+ bytes, but targets.json records [0-9]+)|('s SHA-256 [0-9a-f]{64} is not the $digest targets.json records)) for ratelimit@1.0.0$" err
new_pkg other 1.0.0 xdp_counter
expect_code 1 "$BPK" index check repo --state state -j other-1.0.0.bpk acme-pktcount-0.1.0.bpk
assert_grep "other@1.0.0 is not in the index \(targets.json version 3\)" err
[ "$(json_get out '[p["ok"] for p in j["packages"]]')" = "[False, True]" ] ||
	fail "check -j does not report each package"

say "unyank, refresh, refresh --all"
expect_code 0 "$BPK" index unyank repo ratelimit@1.0.0 $SIGN
expect_code 0 "$BPK" index refresh repo --key timestamp.pem
assert_grep "^signed timestamp.json version 5, expires" out
expect_code 0 "$BPK" index refresh repo --all $SIGN
assert_grep "^signed targets.json version 5, snapshot.json version 5, timestamp.json version 6" out
expect_code 0 "$BPK" index check repo --state state ratelimit-1.0.0.bpk
assert_no_grep "yanked" err

say "--replace puts other bytes under a published name@version"
expect_code 0 "$BPK" index add repo ratelimit-rebuilt.bpk --replace $SIGN
expect_code 0 "$BPK" index check repo --state state ratelimit-rebuilt.bpk
expect_code 1 "$BPK" index check repo --state state ratelimit-1.0.0.bpk

say "rotate-root: version 2 is signed by the old key and 2 of 2 new ones"
expect_code 0 "$BPK" index rotate-root repo --old-key root.pem --new-key new-a.pem \
	--new-key new-b.pem --threshold 2
assert_grep "^wrote 2.root.json: 2 of 2 root keys must sign" out
cmp -s repo/2.root.json repo/root.json || fail "root.json is not 2.root.json"
[ "$(json_get repo/1.root.json 'j["signed"]["version"]')" = 1 ] || fail "1.root.json changed"

say "verify again from the old state, and from scratch with the old root"
expect_code 0 "$BPK" index verify repo --state state
assert_grep "^verified 'repo': root version 2, " out
[ "$(json_get state/root.json 'j["signed"]["version"]')" = 2 ] || fail "the state kept root 1"
expect_code 0 "$BPK" index verify repo --root trusted-root.json --state fresh-state
assert_grep "^verified 'repo': root version 2, " out

say "the next rotation needs 2 of the new root keys"
expect_code 1 "$BPK" index rotate-root repo --old-key new-a.pem --new-key root.pem --threshold 1
assert_grep "cannot sign root.json: root version 2 requires 2 of its 2 root keys, and 1 was given" err
# Without --threshold the new root keeps the current one, which one key cannot meet.
expect_code 1 "$BPK" index rotate-root repo --old-key new-a.pem --old-key new-b.pem --new-key root.pem
assert_grep "the root role needs 2 signatures but has only 1 key" err
[ ! -e repo/3.root.json ] || fail "a refused rotation wrote 3.root.json"

say "usage errors exit 2"
expect_code 2 "$BPK" index
expect_code 2 "$BPK" index frob repo
assert_grep "'frob' is not a subcommand of 'bpk index'" err
expect_code 2 "$BPK" index show
expect_code 2 "$BPK" index verify repo
assert_grep "needs --state STATEDIR" err
expect_code 2 "$BPK" index init repo2 --key root.pem
expect_code 2 "$BPK" index init repo2 --key root=root.pem --expires timestamp=soon
expect_code 2 "$BPK" index show repo --key root.pem
assert_grep "'bpk index show' does not take --key" err
expect_code 2 "$BPK" index verify repo --state state --now yesterday
expect_code 2 "$BPK" index yank repo ratelimit $SIGN
expect_code 0 "$BPK" index --help
assert_grep "^usage: bpk index init" out

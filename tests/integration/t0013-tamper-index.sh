#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The tamper suite against the signed index: each attack is refused by the client with its reason.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || skip "openssl is not installed: it makes the test keys"
cd "$SCRATCH"

keygen() {
	openssl genpkey -algorithm ed25519 -out "$1.pem" 2>/dev/null || fail "openssl cannot make $1.pem"
}

# new_pkg NAME: pack NAME-1.0.0.bpk, a minimal valid package.
new_pkg() {
	pkg_dir "src-$1" "$1" xdp_counter xdp_count
	"$BPK" pack "src-$1" -o "$1-1.0.0.bpk" >/dev/null 2>&1 || fail "cannot pack $1"
}

# serve NAME: a copy of the repository to tamper with, and a copy of the client state.
serve() {
	rm -rf "$1" "$1-state" && cp -r repo "$1" && cp -r state "$1-state"
}

# refused DIR PATTERN [ARGS...]: verifying DIR with its state copy fails, naming PATTERN.
refused() {
	dir=$1 pattern=$2
	shift 2
	expect_code 1 "$BPK" index verify "$dir" --state "$dir-state" "$@"
	assert_grep "^error: cannot verify index '$dir': $pattern" err
}

SIGN="--key targets.pem --key snapshot.pem --key timestamp.pem"
for k in root targets snapshot timestamp evil evil2 ra rb rc; do keygen "$k"; done

say "a repository at version 4: add (2), yank (3), unyank (4); the client trusts 4"
expect_code 0 "$BPK" index init repo --key root=root.pem --key targets=targets.pem \
	--key snapshot=snapshot.pem --key timestamp=timestamp.pem --expires timestamp=1d
cp repo/root.json trusted-root.json
new_pkg ratelimit
expect_code 0 "$BPK" index add repo ratelimit-1.0.0.bpk $SIGN
cp -r repo repo-v2
expect_code 0 "$BPK" index yank repo ratelimit@1.0.0 $SIGN
expect_code 0 "$BPK" index unyank repo ratelimit@1.0.0 $SIGN
expect_code 0 "$BPK" index verify repo --root trusted-root.json --state state
assert_grep "timestamp 4 " out

say "index rollback: the whole index of version 2 served again"
serve rollback && rm -rf rollback && cp -r repo-v2 rollback
refused rollback "timestamp.json version 2 is lower than the trusted version 4 \(rollback attack\?\)"
expect_code 1 "$BPK" index verify rollback --state rollback-state -j
[ "$(json_get out 'j["error"]["code"]')" = rollback ] || fail "verify -j does not say rollback"

say "expired timestamp: a freeze"
serve frozen
expires=$(json_get repo/timestamp.json 'j["signed"]["expires"]')
refused frozen "timestamp.json expired at $expires \(freeze attack\?\)" --now "$expires"
expect_code 1 "$BPK" index check frozen --state frozen-state --now "$expires" ratelimit-1.0.0.bpk
assert_grep "freeze attack" err

say "snapshot/targets mismatch: a valid older targets.json under the current snapshot"
serve mixed
cp repo-v2/targets.json mixed/targets.json
# Version 2 and version 4 differ only in version and expiry, so the lengths are equal.
[ "$(wc -c <repo-v2/targets.json)" = "$(wc -c <repo/targets.json)" ] || fail "lengths differ"
refused mixed "targets.json does not match the hash recorded in snapshot.json$"
serve mixed-snap
cp repo-v2/snapshot.json mixed-snap/snapshot.json
refused mixed-snap "snapshot.json (does not match the hash|is [0-9]+ bytes, but timestamp.json records)"

say "oversized downloads: longer than the parent records, or than the fixed bound"
serve endless
length=$(json_get repo/snapshot.json 'j["signed"]["meta"]["targets.json"]["length"]')
head -c 100000 /dev/zero | tr '\0' ' ' >>endless/targets.json
refused endless "targets.json is longer than the $length bytes recorded in snapshot.json \(endless data attack\?\)"
serve endless-ts
head -c 70000 /dev/zero | tr '\0' ' ' >>endless-ts/timestamp.json
refused endless-ts "timestamp.json is longer than the 65536 bytes allowed \(endless data attack\?\)"

say "a timestamp signed by a key the root does not trust"
expect_code 0 "$BPK" index init evil-repo --key root=evil.pem --key targets=evil.pem \
	--key snapshot=evil.pem --key timestamp=evil.pem
serve unknown-key
cp evil-repo/timestamp.json unknown-key/timestamp.json
refused unknown-key "timestamp.json: 0 valid signatures of the 1 required; 1 by a key not trusted for the timestamp role"

say "root rotation without the old keys' threshold: the attacker's own rotation"
expect_code 1 "$BPK" index rotate-root repo --old-key evil.pem --new-key evil2.pem
assert_grep "cannot sign root.json: root version 1 requires 1 of its 1 root key, and 0 were given" err
[ ! -e repo/2.root.json ] || fail "a refused rotation wrote 2.root.json"
expect_code 0 "$BPK" index rotate-root evil-repo --old-key evil.pem --new-key evil2.pem
serve hijack
cp evil-repo/2.root.json hijack/2.root.json
refused hijack "2.root.json is not signed by a threshold of the keys of root version 1 \(0 valid signatures of the 1 required; 2 by keys not trusted for the root role\)"

say "root rotation signed by 1 of the 2 old keys required"
expect_code 0 "$BPK" index init repo2 --key root=ra.pem --key root=rb.pem --threshold root=2 \
	--key targets=targets.pem --key snapshot=snapshot.pem --key timestamp=timestamp.pem
cp repo2/root.json trusted-root2.json
expect_code 1 "$BPK" index rotate-root repo2 --old-key ra.pem --new-key rc.pem --threshold 1
assert_grep "cannot sign root.json: root version 1 requires 2 of its 2 root keys, and 1 was given" err
expect_code 0 "$BPK" index rotate-root repo2 --old-key ra.pem --old-key rb.pem --new-key rc.pem \
	--threshold 1
expect_code 0 "$BPK" index verify repo2 --root trusted-root2.json --state good-state
assert_grep "root version 2" out
# Signatures are not signed: dropping rb's from a valid rotation is the forgery to catch.
rb_id=$(openssl pkey -in rb.pem -pubout -outform DER | sha256sum | cut -d' ' -f1)
python3 - "$rb_id" <<'PY'
import json, sys
doc = json.load(open("repo2/2.root.json"))
doc["signatures"] = [s for s in doc["signatures"] if s["keyid"] != sys.argv[1]]
open("repo2/2.root.json", "w").write(json.dumps(doc, sort_keys=True, separators=(",", ":")))
PY
expect_code 1 "$BPK" index verify repo2 --root trusted-root2.json --state bad-state
assert_grep "2.root.json is not signed by a threshold of the keys of root version 1 \(1 valid signature of the 2 required; 1 by a key not trusted for the root role\)" err

say "a package whose digest does not match: same name@version, other bytes"
mkdir -p evil-src && cp -r src-ratelimit/. evil-src/ && echo "backdoor" >>evil-src/README.md
"$BPK" pack evil-src -o evil-ratelimit.bpk >/dev/null 2>&1 || fail "cannot pack the evil package"
expect_code 1 "$BPK" index check repo --state state evil-ratelimit.bpk
assert_grep "^error: 'evil-ratelimit.bpk' does not match the index: the package" err

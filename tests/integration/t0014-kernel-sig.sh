#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Level 3 through the CLI: bpk sign --kernel adds each object's loader, payload and PKCS#7
# signature; OpenSSL verifies the signature the way the kernel does; the package signature
# covers the new files; ordering mistakes and unusable keys are refused with the reason.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || skip "the openssl command is not installed"
cd "$SCRATCH"

pkg_dir p ksig xdp_counter xdp_count
expect_code 0 "$BPK" pack p -o p.bpk

openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.pem -out cert.pem -days 2 \
	-subj /CN=bpk-test -addext subjectKeyIdentifier=hash 2>/dev/null
openssl x509 -in cert.pem -outform DER -out cert.der

say "sign --kernel adds kernel/NAME.loader, .payload and .p7s, listed in bpk.json"
expect_code 0 "$BPK" sign p.bpk --kernel --key rsa.pem --cert cert.der
tar -tzf p.bpk | sort >entries
for f in kernel/xdp_counter.loader kernel/xdp_counter.payload kernel/xdp_counter.p7s; do
	assert_grep "^$f\$" entries
done
mkdir x && tar -xzf p.bpk -C x
[ "$(json_get x/bpk.json 'sorted(f["path"] for f in j["files"] if f["path"].startswith("kernel/"))')" = \
	"['kernel/xdp_counter.loader', 'kernel/xdp_counter.p7s', 'kernel/xdp_counter.payload']" ] ||
	fail "kernel files are not listed in bpk.json"
expect_code 0 "$BPK" lint p.bpk

say "OpenSSL verifies the detached signature over the loader, as the kernel would"
expect_code 0 openssl cms -verify -binary -inform DER -in x/kernel/xdp_counter.p7s \
	-content x/kernel/xdp_counter.loader -certfile cert.pem -noverify -out /dev/null
openssl cms -cmsout -print -inform DER -in x/kernel/xdp_counter.p7s >cms.txt
# No certificates, no signed attributes, signer named by key id, SHA-256.
grep -A1 -E "^ +certificates:" cms.txt >certs.txt && assert_grep "<ABSENT>" certs.txt
grep -A1 -E "^ +signedAttrs:" cms.txt >attrs.txt && assert_grep "<ABSENT>" attrs.txt
assert_grep "d.subjectKeyIdentifier" cms.txt
assert_grep "algorithm: sha256" cms.txt
cp x/kernel/xdp_counter.loader flipped.loader
printf '\xff' | dd of=flipped.loader bs=1 seek=20 conv=notrunc 2>/dev/null
expect_code 4 openssl cms -verify -binary -inform DER -in x/kernel/xdp_counter.p7s \
	-content flipped.loader -certfile cert.pem -noverify -out /dev/null

say "the package signature then covers the kernel files"
expect_code 0 "$BPK" key gen -o author
expect_code 0 "$BPK" trust add author.pub --dir trust
expect_code 0 "$BPK" sign p.bpk --key author.pem
expect_code 0 "$BPK" verify p.bpk --trust trust
python3 - <<'PY'
import io, tarfile
src = tarfile.open("p.bpk")
with tarfile.open("tampered.bpk", "w:gz", format=tarfile.USTAR_FORMAT) as out:
    for m in src.getmembers():
        data = src.extractfile(m).read()
        if m.name == "kernel/xdp_counter.loader":
            data = data[:20] + bytes([data[20] ^ 0xff]) + data[21:]
        m.size = len(data)
        out.addfile(m, io.BytesIO(data))
PY
expect_code 1 "$BPK" verify tampered.bpk --trust trust
assert_grep "kernel/xdp_counter.loader" err

say "kernel signatures after package signatures are refused, unless they are dropped"
expect_code 1 "$BPK" sign p.bpk --kernel --key rsa.pem --cert cert.der
assert_grep "already has package signatures" err
expect_code 0 "$BPK" sign p.bpk --kernel --key rsa.pem --cert cert.der --drop-signatures
expect_code 1 "$BPK" verify p.bpk --trust trust
assert_grep "[Uu]nsigned|UNSIGNED|no signature" err

say "keys the kernel cannot use, and missing arguments"
expect_code 1 "$BPK" sign p.bpk --kernel --key author.pem --cert cert.der
assert_grep "key or certificate is unusable|not Ed25519" err
expect_code 2 "$BPK" sign p.bpk --kernel --key rsa.pem
expect_code 2 "$BPK" sign p.bpk --key author.pem --cert cert.der

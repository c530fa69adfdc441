#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Hostile packages and broken objects through the CLI: refused with the entry named, exit 1,
# no crash, and nothing written outside the scratch directory.
. "$(dirname "$0")/lib.sh"

cd "$SCRATCH"
mkdir victim
# make_tar OUT ENTRY...: ENTRY is name=kind[:arg]; kinds: file, symlink, hardlink, dir, fifo.
make_tar() {
	python3 - "$@" <<'PY'
import io, sys, tarfile
out, entries = sys.argv[1], sys.argv[2:]
with tarfile.open(out, "w:gz", format=tarfile.USTAR_FORMAT) as tar:
    for e in entries:
        name, _, spec = e.partition("=")
        kind, _, arg = spec.partition(":")
        info = tarfile.TarInfo(name)
        data = b""
        if kind == "file":
            data = arg.encode()
            info.size = len(data)
        elif kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, arg
        elif kind == "hardlink":
            info.type, info.linkname = tarfile.LNKTYPE, arg
        elif kind == "dir":
            info.type = tarfile.DIRTYPE
        elif kind == "fifo":
            info.type = tarfile.FIFOTYPE
        elif kind == "chr":
            info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
        tar.addfile(info, io.BytesIO(data))
PY
}

MANIFEST='{"bpk":1,"name":"x","version":"1.0.0","description":"d","license":"MIT","authors":["a"],"platforms":["linux"],"programs":[{"name":"p","object":"bpf/p.o","section":"xdp","type":"xdp","attach":"xdp","chain":"none","helpers":[],"kfuncs":[],"maps":[]}],"maps":[],"files":[]}'

# refuse NAME PATTERN ENTRY...: a package with these entries is refused, naming PATTERN.
refuse() {
	name=$1 pattern=$2
	shift 2
	make_tar "$name.bpk" "$@"
	for cmd in lint inspect; do
		expect_code 1 "$BPK" $cmd "$name.bpk"
		assert_grep "$pattern" err
	done
	[ -z "$(ls victim)" ] || fail "something was written outside the package"
}

say "traversal, absolute paths, links, devices, directories, duplicates"
refuse traversal "'\.\./victim/pwned'" "bpk.json=file:$MANIFEST" "../victim/pwned=file:x"
refuse absolute "'/tmp/.*pwned'" "bpk.json=file:$MANIFEST" "$SCRATCH/victim/pwned=file:x"
refuse symlink "'bpf/link.o'" "bpk.json=file:$MANIFEST" "bpf/link.o=symlink:/etc/passwd"
refuse hardlink "'README.md'" "bpk.json=file:$MANIFEST" "README.md=hardlink:bpk.json"
refuse device "'bpf/dev'" "bpk.json=file:$MANIFEST" "bpf/dev=chr"
refuse fifo "'bpf/fifo'" "bpk.json=file:$MANIFEST" "bpf/fifo=fifo"
refuse directory "'bpf/?'" "bpk.json=file:$MANIFEST" "bpf/=dir"
refuse duplicate "'README.md'" "bpk.json=file:$MANIFEST" "README.md=file:a" "README.md=file:b"
refuse unlisted "'README.md'.*not listed" "bpk.json=file:$MANIFEST" "README.md=file:hello"
refuse no-manifest "bpk.json" "README.md=file:hello"
refuse bad-manifest "E001|not valid JSON" "bpk.json=file:{nope"

say "a gzip bomb stops at the expansion limit"
python3 - <<'PY'
import io, tarfile
class Zeros(io.RawIOBase):
    def __init__(self, n): self.left = n
    def readinto(self, b):
        n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n
with tarfile.open("bomb.bpk", "w:gz", format=tarfile.USTAR_FORMAT) as tar:
    info = tarfile.TarInfo("bpf/zero.o"); info.size = 80 << 20
    tar.addfile(info, Zeros(info.size))
PY
[ "$(stat -c %s bomb.bpk)" -lt 1000000 ] || fail "bomb is not small"
expect_code 1 "$BPK" inspect bomb.bpk
assert_grep "limit|too large|exceeds" err

say "garbage, empty and truncated packages"
head -c 4096 /dev/urandom | (printf '\037\213'; cat) >garbage.bpk
expect_code 1 "$BPK" lint garbage.bpk
: >empty.bpk
expect_code 1 "$BPK" lint empty.bpk
make_tar good.bpk "bpk.json=file:$MANIFEST"
head -c 40 good.bpk >truncated.bpk
expect_code 1 "$BPK" lint truncated.bpk

say "objects that are not BPF"
expect_code 1 "$BPK" inspect /bin/true
assert_grep "EM_BPF" err
printf 'not an elf' >junk.o
expect_code 1 "$BPK" inspect junk.o
head -c 200 "$BPK_TEST_BPF_DIR/xdp_counter.o" >cut.o
expect_code 1 "$BPK" inspect cut.o
expect_code 1 "$BPK" inspect does-not-exist.o
assert_grep "No such file" err

say "usage errors exit 2"
expect_code 2 "$BPK"
expect_code 2 "$BPK" frobnicate
expect_code 2 "$BPK" inspect
expect_code 2 "$BPK" lint --bogus-option

say "an entry hidden after the end of the archive (a second gzip member) is seen and refused"
mkdir -p h/bpf h/tests
cp "$BPK_TEST_BPF_DIR/xdp_counter.o" h/bpf/
echo '{"bpk": 1, "name": "h", "version": "1.0.0", "description": "d", "license": "GPL-2.0-only", "authors": ["T"], "platforms": ["linux"]}' >h/bpk.json
printf '# h\n\nA package that gets a hidden entry appended after the end of its archive, to\ncheck that readers see it.\n' >h/README.md
expect_code 0 "$BPK" pack h -o h.bpk
expect_code 0 "$BPK" lint h.bpk
make_tar extra.tgz "evil=file:pwned"
cat h.bpk extra.tgz >hidden.bpk
expect_code 1 "$BPK" lint hidden.bpk
assert_grep "'evil'" err

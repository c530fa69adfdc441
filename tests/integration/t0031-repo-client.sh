#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The repository client against a real bpk-repo: repo add (pinned and on first use), publish
# (good, duplicate, unsigned, failing lint), search, info, fetch (resumed, tampered), install,
# yank and unyank, and a private feed with and without a read token.
. "$(dirname "$0")/lib.sh"

[ -x "$BPK_REPO" ] || skip "there is no bpk-repo at $BPK_REPO"
command -v curl >/dev/null || skip "curl is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
cd "$SCRATCH"

# Everything the client keeps goes under the scratch directory, whoever runs the test.
export BPK_CONFIG_DIR=$SCRATCH/config BPK_CACHE_DIR=$SCRATCH/cache
# Publish-time review in the kernel's verifier is t0038's subject; it would only slow this down.
REPO_SERVE_ARGS=--no-verify

say "a repository: feed public, private feed acme, feed dev that allows unsigned packages"
"$BPK" key gen -o dev >/dev/null &&
	bpk_repo init --data data >/dev/null &&
	bpk_repo feed trust public dev.pub --data data >/dev/null &&
	bpk_repo feed create acme --private --data data >/dev/null &&
	bpk_repo feed trust acme dev.pub --data data >/dev/null &&
	bpk_repo feed create dev --allow-unsigned --data data >/dev/null ||
	fail "cannot set up the repository"
bpk_repo token create --feed public --scope yank --data data | tail -1 >public.token &&
	bpk_repo token create --feed acme --scope push --data data | tail -1 >acme.token &&
	bpk_repo token create --feed acme --scope read --data data | tail -1 >acme-read.token &&
	bpk_repo token create --feed dev --scope push --data data | tail -1 >dev.token ||
	fail "cannot create tokens"
"$BPK" trust add dev.pub --dir trust.d >/dev/null || fail "cannot make the local trust policy"
repo_start data

for v in 1.0.0 1.1.0 1.2.0 2.0.0; do
	make_signed_pkg "rl-$v" ratelimit "$v" dev.pem
done
make_signed_pkg acme-tool acme/tool 0.3.0 dev.pem
pkg_dir loose dev/loose xdp_counter x && "$BPK" pack loose -o loose.bpk >/dev/null ||
	fail "cannot pack dev/loose"
pkg_dir unsigned unsigned xdp_counter x && "$BPK" pack unsigned -o unsigned.bpk >/dev/null ||
	fail "cannot pack unsigned"
# A package without its README: the archive is well formed, but lint finds E003.
python3 - rl-1.0.0.bpk no-readme.bpk <<'PY' || fail "cannot make a package without README"
import gzip, io, json, sys, tarfile
src = tarfile.open(sys.argv[1], "r:gz")
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as dst:
    for m in src.getmembers():
        data = src.extractfile(m).read()
        if m.name in ("README.md", "bpk.sig"):
            continue
        if m.name == "bpk.json":
            j = json.loads(data)
            j["name"] = "noreadme"
            j["files"] = [f for f in j["files"] if f["path"] != "README.md"]
            data = json.dumps(j, indent=2).encode() + b"\n"
        m.size = len(data)
        dst.addfile(m, io.BytesIO(data))
open(sys.argv[2], "wb").write(gzip.compress(out.getvalue()))
PY

ROOT_KEYID=$(curl -s "$REPO_URL/v1/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["root_keyid"])')
[ ${#ROOT_KEYID} -eq 64 ] || fail "GET /v1/ names no root key id"

say "repo add with another key is refused, and nothing is configured"
expect_code 1 "$BPK" repo add main "$REPO_URL" --key 0123456789abcdef
assert_grep "^error: cannot add repository 'main': the repository's root key is $ROOT_KEYID, not the 0123456789abcdef" err
[ ! -e config/repos.d/main.json ] || fail "a refused repository was configured"
expect_code 2 "$BPK" repo add Main "$REPO_URL"

say "repo add with --key (a prefix) pins the root key"
expect_code 0 "$BPK" repo add main "$REPO_URL/" --key "${ROOT_KEYID:0:12}" --token-file public.token
assert_grep "^added repository 'main' \($REPO_URL\) with root key $ROOT_KEYID$" out
assert_no_grep "FIRST USE" err
[ -s config/repos.d/main.json ] || fail "no config/repos.d/main.json"
[ -s cache/index/main/public/timestamp.json ] || fail "the public index was not verified at add"
expect_code 1 "$BPK" repo add main "$REPO_URL"
assert_grep "already configured.*--force replaces it" err

say "repo add without --key trusts on first use, and says so loudly"
expect_code 0 "$BPK" repo add anon "$REPO_URL"
assert_grep "^warning: the root key of 'anon' was TRUSTED ON FIRST USE" err
assert_fgrep "$ROOT_KEYID" err
expect_code 0 "$BPK" repo add priv "$REPO_URL" --key "$ROOT_KEYID" --token-file acme-read.token
expect_code 0 "$BPK" repo list
assert_grep "^anon$" out
assert_grep "root key: $ROOT_KEYID \(trusted on first use\)" out
assert_grep "root key: $ROOT_KEYID \(pinned\)" out
expect_code 0 "$BPK" repo list -j
[ "$(json_get out '[r["name"] for r in j]')" = "['anon', 'main', 'priv']" ] ||
	fail "repo list -j does not list anon, main, priv"

say "publish: good packages, then a duplicate, an unsigned one and one that fails lint"
for v in 1.0.0 1.1.0 1.2.0 2.0.0; do
	expect_code 0 "$BPK" publish "rl-$v.bpk" --repo main
	assert_grep "^published ratelimit@$v to 'main' \(feed public, [0-9]+ bytes, sha256 [0-9a-f]{64}\)$" out
done
expect_code 0 "$BPK" publish acme-tool.bpk --repo main --token-file acme.token
assert_grep "^published acme/tool@0.3.0 to 'main' \(feed acme," out
expect_code 0 "$BPK" publish loose.bpk --repo main --token-file dev.token
expect_code 1 "$BPK" publish rl-1.0.0.bpk --repo main
assert_grep "^error: cannot publish 'rl-1.0.0.bpk' to 'main': .*\(HTTP 409 exists\)$" err
expect_code 1 "$BPK" publish unsigned.bpk --repo main
assert_grep "^error: cannot publish 'unsigned.bpk' to 'main': .*\(HTTP 400 invalid_package\)$" err
expect_code 1 "$BPK" publish no-readme.bpk --repo main
assert_grep "^error: cannot publish 'no-readme.bpk' to 'main': .*\(HTTP 400 invalid_package\)$" err
assert_grep "^error E003 missing-readme: .*README" err
expect_code 1 "$BPK" publish rl-1.0.0.bpk --repo anon
assert_grep "\(HTTP 401 unauthorized\)$" err
expect_code 1 "$BPK" publish acme-tool.bpk --repo main
assert_grep "\(HTTP 403 forbidden\)$" err
expect_code 1 "$BPK" publish rl-1.0.0.bpk
assert_grep "several repositories are configured; choose one with --repo" err

say "search shows a table, or JSON"
expect_code 0 "$BPK" search ratelimit --repo main
assert_grep "^NAME +VERSION +TYPES +KERNEL +DESCRIPTION" out
assert_grep "^ratelimit +2\.0\.0 +xdp +>=5\.15 +a package made by a test" out
expect_code 0 "$BPK" search ratelimit --repo main -j
[ "$(json_get out 'j["results"][0]["name"]')" = ratelimit ] || fail "search -j does not find ratelimit"
[ "$(json_get out 'j["results"][0]["repo"]')" = main ] || fail "search -j does not name the repository"
expect_code 0 "$BPK" search ratelimit
assert_grep "^REPO +NAME" out
expect_code 0 "$BPK" search --type tc --repo main
assert_no_grep "^ratelimit" out

say "info lists the versions and the manifest"
expect_code 0 "$BPK" info ratelimit --repo main
assert_grep "^ratelimit 2\.0\.0 \(feed public\)$" out
assert_grep "^license +GPL-2.0-only$" out
assert_grep "^kernel +>=5.15$" out
assert_grep "^signers +[0-9a-f]{64} \(ed25519\)$" out
assert_grep "^  1\.0\.0$" out
expect_code 0 "$BPK" info "ratelimit@~1.1.0" -j --repo main
[ "$(json_get out 'j["selected"]["version"]')" = 1.1.0 ] || fail "info ratelimit@~1.1.0 is not 1.1.0"
[ "$(json_get out 'len(j["versions"])')" = 4 ] || fail "info -j does not list 4 versions"
expect_code 1 "$BPK" info nothing --repo main
assert_grep "^error: cannot get information on 'nothing': .*\(HTTP 404 not_found\)$" err

say "fetch resolves from the verified index, checks, and writes"
mkdir dl
expect_code 0 "$BPK" fetch "ratelimit@^1" -o dl --repo main --trust trust.d
assert_grep "^fetched ratelimit@1\.2\.0 from 'main' to dl/ratelimit-1\.2\.0\.bpk \([0-9]+ bytes, sha256 [0-9a-f]{64}, signature trusted\)$" out
cmp -s dl/ratelimit-1.2.0.bpk rl-1.2.0.bpk || fail "the fetched package is not the published one"
[ ! -e dl/ratelimit-1.2.0.bpk.part ] || fail "a .part file was left behind"
ls cache/packages/*.bpk >/dev/null 2>&1 || fail "nothing was kept in the package cache"
expect_code 0 "$BPK" fetch "ratelimit@>=1.0.0 <1.2.0" -o dl --repo main --trust trust.d
assert_grep "^fetched ratelimit@1\.1\.0 " out
expect_code 0 "$BPK" fetch ratelimit@1.2.0 -o dl --repo main --trust trust.d
assert_grep "^fetched ratelimit@1\.2\.0 from 'main' \(cached\)" out
expect_code 1 "$BPK" fetch "ratelimit@^3" -o dl --repo main --trust trust.d
assert_fgrep "no version of 'ratelimit' in 'main' matches '^3' (there are 1.0.0, 1.1.0, 1.2.0, 2.0.0)" err
expect_code 2 "$BPK" fetch "ratelimit@latest"
expect_code 1 "$BPK" fetch ratelimit -o dl --repo main
assert_grep "refused by the trust policy" err

say "an interrupted download resumes from the .part file"
rm -rf cache/packages dl/ratelimit-1.2.0.bpk
size=$(stat -c %s rl-1.2.0.bpk)
head -c $((size / 2)) rl-1.2.0.bpk >dl/ratelimit-1.2.0.bpk.part
expect_code 0 "$BPK" fetch ratelimit@1.2.0 -o dl --repo main --trust trust.d
assert_grep "^resuming ratelimit-1\.2\.0\.bpk at byte $((size / 2)) of $size$" err
cmp -s dl/ratelimit-1.2.0.bpk rl-1.2.0.bpk || fail "the resumed package is not the published one"
[ ! -e dl/ratelimit-1.2.0.bpk.part ] || fail "a .part file was left behind after resuming"

say "a package changed on the server is refused, and nothing is written"
digest=$(sha256sum rl-1.1.0.bpk | cut -d' ' -f1)
blob=data/blobs/sha256/${digest:0:2}/$digest
[ -f "$blob" ] || fail "no blob at $blob"
cp "$blob" blob.saved
chmod u+w "$blob" 2>/dev/null || true
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$blob"
rm -rf cache/packages tampered && mkdir tampered
expect_code 1 "$BPK" fetch ratelimit@1.1.0 -o tampered --repo main --trust trust.d
assert_grep "^error: cannot fetch 'ratelimit@1\.1\.0': " err
[ -z "$(ls -A tampered)" ] || fail "a refused package left files: $(ls -A tampered)"
cp blob.saved "$blob"

say "unsigned packages need --allow-unsigned"
expect_code 1 "$BPK" fetch dev/loose -o dl --repo main --trust trust.d
assert_grep "refused by the trust policy: .*unsigned" err
[ ! -e dl/dev-loose-1.0.0.bpk ] || fail "a refused unsigned package was written"
expect_code 0 "$BPK" fetch dev/loose -o dl --repo main --trust trust.d --allow-unsigned
assert_grep "^warning: dev/loose@1\.0\.0 is UNSIGNED; accepted because of --allow-unsigned" err
[ -s dl/dev-loose-1.0.0.bpk ] || fail "no dl/dev-loose-1.0.0.bpk"

say "install extracts into ROOT/NAME/VERSION, once"
expect_code 0 "$BPK" install ratelimit@1.1.0 --root inst --repo main --trust trust.d
assert_grep "^installed ratelimit@1\.1\.0 from 'main' in inst/ratelimit/1\.1\.0 " out
[ -s inst/ratelimit/1.1.0/bpk.json ] && [ -s inst/ratelimit/1.1.0/README.md ] &&
	[ -s inst/ratelimit/1.1.0/bpf/xdp_counter.o ] || fail "the package was not extracted"
[ -z "$(ls -A inst/ratelimit | grep -v '^1\.1\.0$')" ] || fail "install left a temporary directory"
expect_code 0 "$BPK" install ratelimit@1.1.0 --root inst --repo main --trust trust.d
assert_grep "is already installed in inst/ratelimit/1\.1\.0$" out
expect_code 1 "$BPK" install dev/loose --root inst --repo main --trust trust.d
[ ! -e inst/dev/loose ] || fail "a refused package was installed"

say "yank hides a version from resolution; a pinned version still resolves"
expect_code 1 "$BPK" yank ratelimit@2.0.0 --repo main --token-file acme.token
assert_grep "\(HTTP 403 forbidden\)$" err
expect_code 0 "$BPK" yank ratelimit@2.0.0 --repo main
assert_grep "^yanked ratelimit@2\.0\.0 in 'main'$" out
expect_code 0 "$BPK" fetch ratelimit -o dl --repo main --trust trust.d
assert_grep "^fetched ratelimit@1\.2\.0 " out
expect_code 0 "$BPK" fetch ratelimit@2.0.0 -o dl --repo main --trust trust.d
assert_grep "^fetched ratelimit@2\.0\.0 .*, yanked" out
expect_code 0 "$BPK" info ratelimit --repo main
assert_grep "^ratelimit 1\.2\.0 \(feed public\)$" out
assert_grep "^  2\.0\.0  \(yanked\)$" out
# Without --repo the first repository whose index has it: anon, which has no token.
expect_code 1 "$BPK" yank ratelimit@2.0.0 --undo
assert_grep "^error: cannot unyank 'ratelimit@2\.0\.0' in 'anon': .*\(HTTP 401 unauthorized\)$" err
expect_code 1 "$BPK" yank ratelimit@2.0.0 --undo --repo main --token-file nonexistent.token
assert_grep "cannot read token file" err
expect_code 0 "$BPK" yank ratelimit@2.0.0 --undo --repo main
expect_code 0 "$BPK" fetch ratelimit -o dl --repo main --trust trust.d
assert_grep "^fetched ratelimit@2\.0\.0 " out

say "a private feed: hidden without a read token, fetched with one"
expect_code 1 "$BPK" fetch acme/tool -o dl --repo anon --trust trust.d
assert_grep "'anon' shows no index for feed 'acme' \(a private feed needs a read token\)" err
[ ! -e dl/acme-tool-0.3.0.bpk ] || fail "a hidden package was written"
expect_code 0 "$BPK" fetch acme/tool -o dl --repo priv --trust trust.d
assert_grep "^fetched acme/tool@0\.3\.0 from 'priv' to dl/acme-tool-0\.3\.0\.bpk " out
cmp -s dl/acme-tool-0.3.0.bpk acme-tool.bpk || fail "the private package is not the published one"
rm dl/acme-tool-0.3.0.bpk
# Without --repo: the first repository by name whose index has the package.
expect_code 0 "$BPK" fetch acme/tool -o dl --trust trust.d
assert_grep "^fetched acme/tool@0\.3\.0 from 'priv' " out

say "repo remove drops the configuration and the index state"
expect_code 0 "$BPK" repo remove anon
assert_grep "^removed repository 'anon'$" out
[ ! -e config/repos.d/anon.json ] && [ ! -e cache/index/anon ] || fail "anon is still there"
expect_code 1 "$BPK" repo remove anon
expect_code 1 "$BPK" fetch ratelimit --repo anon
assert_grep "no repository is called 'anon'" err

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpk-repo's HTTP API end to end (docs/spec/repository.md §4) through curl against a real server:
# status codes, JSON shapes, ETag, ranges, HEAD, the signed index verified by `bpk index verify`,
# l3afd's layout, /metrics, then `bpk-repo audit` and `check`. Runs once per storage engine.
# bpk-test: per-engine
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || skip "curl is not installed"
[ -x "$BPK_REPO" ] || skip "bpk-repo is not built"
repo_engine_init
cd "$SCRATCH"
D=$SCRATCH/data

# jq_ok EXPR: the Python expression EXPR on the last answer's JSON (j) must be true.
jq_ok() {
	[ "$(json_get "$SCRATCH/body" "bool($1)")" = True ] || {
		echo "--- body"; head -c 4000 "$SCRATCH/body"; echo
		fail "the answer does not satisfy: $1"
	}
}

# header NAME: the value of header NAME in the last answer (without CR).
header() {
	grep -i "^$1:" "$SCRATCH/headers" | tail -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}

say "a repository with feeds public, acme and a private one; packages signed by the author"
expect_code 0 "$BPK" key gen -o author
AUTHOR_ID=$(tail -n 1 out)
expect_code 0 "$BPK" key gen -o stranger
expect_code 0 bpk_repo init --data "$D"
expect_code 0 bpk_repo feed trust public author.pub --data "$D"
expect_code 0 bpk_repo feed create acme --data "$D"
expect_code 0 bpk_repo feed trust acme author.pub --data "$D"
expect_code 0 bpk_repo feed create secret --private --data "$D"
expect_code 0 bpk_repo feed trust secret author.pub --data "$D"
token() {
	expect_code 0 bpk_repo token create --feed "$1" --scope "$2" --data "$D" &&
		tail -n 1 out
}
PUSH=$(token public push)
YANK=$(token public yank)
READ=$(token public read)
ACME=$(token acme admin)
SECRET_PUSH=$(token secret push)
SECRET_READ=$(token secret read)
make_signed_pkg demo-1.0.0 demo 1.0.0 author.pem
make_signed_pkg demo-1.1.0 demo 1.1.0 author.pem
make_signed_pkg demo-1.10.0 demo 1.10.0 author.pem
make_signed_pkg tool-1.0.0 acme/tool 1.0.0 author.pem
make_signed_pkg probe-1.0.0 secret/probe 1.0.0 author.pem
make_signed_pkg strange-1.0.0 demo 2.0.0 stranger.pem
pkg_dir unsigned demo xdp_counter x
sed -i 's/"version": "1.0.0"/"version": "3.0.0"/' unsigned/bpk.json
expect_code 0 "$BPK" pack unsigned -o unsigned.bpk
repack_pkg demo-1.0.0.bpk linty.bpk '
del files["README.md"]
man["version"] = "4.0.0"
man["files"] = [f for f in man["files"] if f["path"] != "README.md"]
man["programs"][0]["name"] = "renamed_program"'
sha() { sha256sum "$1" | cut -d" " -f1; }
size() { stat -c %s "$1"; }
repo_start "$D"

say "GET /v1/: the service index lists the public feeds and both public keys"
expect_http 200 GET /v1/
[ "$(header Content-Type)" = application/json ] || fail "Content-Type is '$(header Content-Type)'"
jq_ok 'j["api"] == 1 and j["server"].startswith("bpk-repo ")'
jq_ok 'set(["search", "publish", "yank", "index"]) <= set(j["features"])'
jq_ok 'len(j["root_keyid"]) == 64 and j["root_keyid"] in [k["keyid"] for k in j["keys"]]'
jq_ok 'all(set(k) == {"keyid", "role", "public_key"} and "BEGIN PUBLIC KEY" in k["public_key"] for k in j["keys"])'
jq_ok 'all("PRIVATE" not in k["public_key"] for k in j["keys"])'
jq_ok '[(f["name"], f["private"], f["index"]) for f in j["feeds"]] == [("acme", False, "/v1/feeds/acme/index/"), ("public", False, "/v1/index/")]'
expect_http 200 GET /v1/ -H "Authorization: Bearer $SECRET_READ"
jq_ok '"secret" in [f["name"] for f in j["feeds"]] and [f["private"] for f in j["feeds"] if f["name"] == "secret"] == [True]'
expect_http 200 GET /v1/ -H "Authorization: Bearer $READ"
jq_ok '"secret" not in [f["name"] for f in j["feeds"]]'
# head_ok PATH: HEAD answers 200 and headers only (read from the socket, not trusting curl).
head_ok() {
	[ "$(raw_http "HEAD $1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")" = 200 ] ||
		fail "HEAD $1 is not 200"
	"$PYTHON3" -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(d.split(b"\r\n\r\n", 1)[1] != b"")' \
		"$SCRATCH/raw" || fail "HEAD $1 sent a body"
	tr -d '\r' <"$SCRATCH/raw" >"$SCRATCH/headers"
}
head_ok /v1/

say "PUT /v1/packages: 401 without a token, 201 with push, then 409"
expect_error 401 unauthorized PUT /v1/packages --data-binary @demo-1.0.0.bpk
expect_error 401 unauthorized PUT /v1/packages --data-binary @demo-1.0.0.bpk \
	-H "Authorization: Bearer bpk_not-a-real-token"
expect_error 403 forbidden PUT /v1/packages --data-binary @demo-1.0.0.bpk \
	-H "Authorization: Bearer $READ"
expect_error 403 forbidden PUT /v1/packages --data-binary @demo-1.0.0.bpk \
	-H "Authorization: Bearer $ACME"
expect_http 201 PUT /v1/packages --data-binary @demo-1.0.0.bpk -H "Authorization: Bearer $PUSH"
[ "$(header Content-Type)" = application/json ] || fail "Content-Type is '$(header Content-Type)'"
jq_ok "j == {'name': 'demo', 'version': '1.0.0', 'feed': 'public', 'sha256': '$(sha demo-1.0.0.bpk)', 'size': $(size demo-1.0.0.bpk)}"
expect_error 409 exists PUT /v1/packages --data-binary @demo-1.0.0.bpk -H "Authorization: Bearer $PUSH"
for p in demo-1.1.0 demo-1.10.0; do
	expect_http 201 PUT /v1/packages --data-binary @$p.bpk -H "Authorization: Bearer $PUSH"
done
expect_http 201 PUT /v1/packages --data-binary @tool-1.0.0.bpk -H "Authorization: Bearer $ACME"
jq_ok 'j["feed"] == "acme" and j["name"] == "acme/tool"'
expect_http 201 PUT /v1/packages --data-binary @probe-1.0.0.bpk \
	-H "Authorization: Bearer $SECRET_PUSH"
PUBLISHED=5

say "PUT /v1/packages: refused packages are 400 invalid_package, saying why"
expect_error 400 invalid_package PUT /v1/packages --data-binary @linty.bpk \
	-H "Authorization: Bearer $PUSH"
jq_ok 'isinstance(j["error"]["details"], list) and len(j["error"]["details"]) >= 2'
jq_ok '{"E003", "E006"} <= {d["id"] for d in j["error"]["details"]}'
jq_ok 'all(set(d) >= {"id", "name", "message"} and d["id"].startswith("E") for d in j["error"]["details"])'
jq_ok '[d["path"] for d in j["error"]["details"] if d["id"] == "E003"] == ["README.md"]'
expect_error 400 invalid_package PUT /v1/packages --data-binary @unsigned.bpk \
	-H "Authorization: Bearer $PUSH"
jq_ok '"unsigned" in j["error"]["message"]'
expect_error 400 invalid_package PUT /v1/packages --data-binary @strange-1.0.0.bpk \
	-H "Authorization: Bearer $PUSH"
jq_ok '"does not accept the signatures" in j["error"]["message"]'

say "GET /v1/packages/NAME: the versions in SemVer order"
expect_http 200 GET /v1/packages/demo
jq_ok 'set(j) == {"name", "feed", "versions"} and j["name"] == "demo" and j["feed"] == "public"'
jq_ok '[v["version"] for v in j["versions"]] == ["1.0.0", "1.1.0", "1.10.0"]'
jq_ok 'all(set(v) == {"version", "yanked", "published", "sha256", "size"} and v["yanked"] is False for v in j["versions"])'
jq_ok "j['versions'][0]['sha256'] == '$(sha demo-1.0.0.bpk)' and j['versions'][0]['size'] == $(size demo-1.0.0.bpk)"
jq_ok 'all(len(v["published"]) == 20 and v["published"].endswith("Z") for v in j["versions"])'
expect_http 200 GET /v1/packages/acme/tool
jq_ok 'j["name"] == "acme/tool" and j["feed"] == "acme" and [v["version"] for v in j["versions"]] == ["1.0.0"]'
expect_error 404 not_found GET /v1/packages/nosuch
expect_error 404 not_found GET /v1/packages/acme/nosuch
expect_error 404 not_found GET /v1/packages/secret/probe

say "GET /v1/packages/NAME/VERSION: the record"
expect_http 200 GET /v1/packages/demo/1.0.0
jq_ok 'set(j) == {"name", "version", "feed", "yanked", "published", "sha256", "size", "signers", "verified", "manifest", "download"}'
jq_ok "j['sha256'] == '$(sha demo-1.0.0.bpk)' and j['size'] == $(size demo-1.0.0.bpk) and j['yanked'] is False"
jq_ok "[(s['keyid'], s['alg']) for s in j['signers']] == [('$AUTHOR_ID', 'ed25519')]"
jq_ok 'j["manifest"]["name"] == "demo" and j["manifest"]["version"] == "1.0.0" and j["manifest"]["programs"][0]["type"] == "xdp"'
jq_ok 'j["download"] == "/v1/packages/demo/1.0.0/package.bpk"'
expect_http 200 GET /v1/packages/acme/tool/1.0.0
jq_ok 'j["download"] == "/v1/packages/acme/tool/1.0.0/package.bpk"'
expect_error 404 not_found GET /v1/packages/demo/9.9.9
expect_error 404 not_found GET /v1/packages/acme/tool/9.9.9

say "GET /v1/packages/NAME/VERSION/README.md"
expect_http 200 GET /v1/packages/demo/1.0.0/README.md
[ "$(header Content-Type)" = "text/markdown; charset=utf-8" ] || fail "README Content-Type is '$(header Content-Type)'"
cmp -s "$SCRATCH/body" demo-1.0.0/README.md || fail "README.md differs from the package's"
expect_http 200 GET /v1/packages/acme/tool/1.0.0/README.md
expect_error 404 not_found GET /v1/packages/demo/9.9.9/README.md

say "GET .../package.bpk: the bytes, ETag, If-None-Match, HEAD"
expect_http 200 GET /v1/packages/demo/1.0.0/package.bpk
cmp -s "$SCRATCH/body" demo-1.0.0.bpk || fail "the download differs from the package"
[ "$(header Content-Type)" = application/vnd.bpk ] || fail "Content-Type is '$(header Content-Type)'"
[ "$(header ETag)" = "\"$(sha demo-1.0.0.bpk)\"" ] || fail "ETag is '$(header ETag)'"
[ "$(header Accept-Ranges)" = bytes ] || fail "no Accept-Ranges: bytes"
[ "$(header Content-Length)" = "$(size demo-1.0.0.bpk)" ] || fail "Content-Length is '$(header Content-Length)'"
expect_http 304 GET /v1/packages/demo/1.0.0/package.bpk -H "If-None-Match: \"$(sha demo-1.0.0.bpk)\""
[ ! -s "$SCRATCH/body" ] || fail "a 304 has a body"
[ "$(header ETag)" = "\"$(sha demo-1.0.0.bpk)\"" ] || fail "the 304 has no ETag"
expect_http 304 GET /v1/packages/demo/1.0.0/package.bpk -H "If-None-Match: \"x\", \"$(sha demo-1.0.0.bpk)\""
expect_http 200 GET /v1/packages/demo/1.0.0/package.bpk -H "If-None-Match: \"$(sha demo-1.1.0.bpk)\""
cmp -s "$SCRATCH/body" demo-1.0.0.bpk || fail "the download differs from the package"
head_ok /v1/packages/demo/1.0.0/package.bpk
[ "$(header Content-Length)" = "$(size demo-1.0.0.bpk)" ] || fail "HEAD: Content-Length is '$(header Content-Length)'"
[ "$(header ETag)" = "\"$(sha demo-1.0.0.bpk)\"" ] || fail "HEAD: ETag is '$(header ETag)'"
expect_error 404 not_found GET /v1/packages/demo/9.9.9/package.bpk
expect_http 200 GET /v1/packages/acme/tool/1.0.0/package.bpk
cmp -s "$SCRATCH/body" tool-1.0.0.bpk || fail "acme/tool's download differs"

say "Range: one range is 206 with Content-Range; past the end is 416"
SIZE=$(size demo-1.0.0.bpk)
expect_http 206 GET /v1/packages/demo/1.0.0/package.bpk -H "Range: bytes=0-99"
[ "$(header Content-Range)" = "bytes 0-99/$SIZE" ] || fail "Content-Range is '$(header Content-Range)'"
cmp -s "$SCRATCH/body" <(head -c 100 demo-1.0.0.bpk) || fail "bytes 0-99 differ"
expect_http 206 GET /v1/packages/demo/1.0.0/package.bpk -H "Range: bytes=100-"
[ "$(header Content-Range)" = "bytes 100-$((SIZE - 1))/$SIZE" ] || fail "Content-Range is '$(header Content-Range)'"
cmp -s "$SCRATCH/body" <(tail -c +101 demo-1.0.0.bpk) || fail "bytes 100- differ"
expect_http 206 GET /v1/packages/demo/1.0.0/package.bpk -H "Range: bytes=-10"
[ "$(header Content-Range)" = "bytes $((SIZE - 10))-$((SIZE - 1))/$SIZE" ] || fail "Content-Range is '$(header Content-Range)'"
cmp -s "$SCRATCH/body" <(tail -c 10 demo-1.0.0.bpk) || fail "the last 10 bytes differ"
expect_http 206 GET /v1/packages/demo/1.0.0/package.bpk -H "Range: bytes=10-999999999"
[ "$(header Content-Range)" = "bytes 10-$((SIZE - 1))/$SIZE" ] || fail "Content-Range is '$(header Content-Range)'"
expect_http 416 GET /v1/packages/demo/1.0.0/package.bpk -H "Range: bytes=$SIZE-"
[ "$(header Content-Range)" = "bytes */$SIZE" ] || fail "416: Content-Range is '$(header Content-Range)'"
expect_error 416 unsatisfiable GET /v1/packages/demo/1.0.0/package.bpk -H "Range: bytes=$SIZE-"
expect_http 416 GET /v1/packages/demo/1.0.0/package.bpk -H "Range: bytes=999999-1000000"
# Several ranges are not served as multipart: the whole file.
expect_http 200 GET /v1/packages/demo/1.0.0/package.bpk -H "Range: bytes=0-1,5-6"
cmp -s "$SCRATCH/body" demo-1.0.0.bpk || fail "a multi-range request did not get the whole file"
expect_http 304 GET /v1/packages/demo/1.0.0/package.bpk -H "Range: bytes=0-9" \
	-H "If-None-Match: \"$(sha demo-1.0.0.bpk)\""

say "POST .../yank and /unyank: need the yank scope; hide from search, keep downloads"
expect_error 401 unauthorized POST /v1/packages/demo/1.10.0/yank
expect_error 403 forbidden POST /v1/packages/demo/1.10.0/yank -H "Authorization: Bearer $PUSH"
expect_error 403 forbidden POST /v1/packages/demo/1.10.0/yank -H "Authorization: Bearer $ACME"
expect_http 200 GET '/v1/search?q=demo'
jq_ok '[(r["name"], r["version"]) for r in j["results"]] == [("demo", "1.10.0")]'
expect_http 200 POST /v1/packages/demo/1.10.0/yank -H "Authorization: Bearer $YANK"
jq_ok 'j == {"name": "demo", "version": "1.10.0", "yanked": True}'
expect_http 200 GET '/v1/search?q=demo'
jq_ok '[(r["name"], r["version"]) for r in j["results"]] == [("demo", "1.1.0")]'
expect_http 200 GET /v1/packages/demo
jq_ok '[v["yanked"] for v in j["versions"]] == [False, False, True]'
expect_http 200 GET /v1/packages/demo/1.10.0
jq_ok 'j["yanked"] is True'
expect_http 200 GET /v1/packages/demo/1.10.0/package.bpk
cmp -s "$SCRATCH/body" demo-1.10.0.bpk || fail "a yanked version's download differs"
expect_http 200 POST /v1/packages/demo/1.1.0/yank -H "Authorization: Bearer $YANK"
expect_http 200 POST /v1/packages/demo/1.1.0/unyank -H "Authorization: Bearer $YANK"
jq_ok 'j == {"name": "demo", "version": "1.1.0", "yanked": False}'
expect_error 404 not_found POST /v1/packages/demo/9.9.9/yank -H "Authorization: Bearer $YANK"
expect_http 200 POST /v1/packages/acme/tool/1.0.0/yank -H "Authorization: Bearer $ACME"
expect_http 200 POST /v1/packages/acme/tool/1.0.0/unyank -H "Authorization: Bearer $ACME"

say "methods a resource does not take"
expect_error 405 method_not_allowed GET /v1/packages/demo/1.0.0/yank
expect_error 405 method_not_allowed DELETE /v1/packages/demo/1.0.0
expect_error 405 method_not_allowed GET /v1/packages
expect_http 404 DELETE /v1/nosuch

say "GET /v1/search: shape, filters, paging, refusals"
expect_http 200 GET '/v1/search?q=demo'
jq_ok 'set(j) == {"total", "skip", "take", "results"} and j["total"] == 1 and j["skip"] == 0 and j["take"] == 20'
jq_ok 'set(j["results"][0]) == {"name", "feed", "version", "description", "tags", "types", "platforms", "kernel", "published", "score"}'
jq_ok 'j["results"][0]["types"] == ["xdp"] and j["results"][0]["platforms"] == ["linux"] and j["results"][0]["kernel"] == ">=5.15"'
expect_http 200 GET '/v1/search'
jq_ok 'sorted(r["name"] for r in j["results"]) == ["acme/tool", "demo"] and j["total"] == 2'
expect_http 200 GET '/v1/search?feed=acme'
jq_ok '[r["name"] for r in j["results"]] == ["acme/tool"]'
expect_http 200 GET '/v1/search?type=xdp&platform=linux&kernel=6.1.0'
jq_ok 'j["total"] == 2'
expect_http 200 GET '/v1/search?kernel=5.10.0'
jq_ok 'j["total"] == 0'
expect_http 200 GET '/v1/search?platform=windows'
jq_ok 'j["total"] == 0'
expect_http 200 GET '/v1/search?type=kprobe'
jq_ok 'j["total"] == 0'
expect_http 200 GET '/v1/search?take=1&skip=1'
jq_ok 'j["total"] == 2 and len(j["results"]) == 1 and j["skip"] == 1 and j["take"] == 1'
expect_http 200 GET '/v1/search?q=demo+xdp'
jq_ok 'j["total"] == 1'
expect_http 200 GET '/v1/search?q=probe'
jq_ok 'j["total"] == 0'
expect_http 200 GET '/v1/search?q=probe' -H "Authorization: Bearer $SECRET_READ"
jq_ok '[r["name"] for r in j["results"]] == ["secret/probe"]'
expect_error 400 bad_request GET '/v1/search?take=101'
expect_error 400 bad_request GET '/v1/search?take=-1'
expect_error 400 bad_request GET '/v1/search?skip=x'
expect_error 400 bad_request GET '/v1/search?feed=../x'

say "the signed index verifies with bpk index verify and lists what the database holds"
repo_fetch_index /v1/index/ idx
expect_http 200 GET /v1/index/timestamp.json
[ "$(header Content-Type)" = application/json ] || fail "index Content-Type is '$(header Content-Type)'"
expect_http 200 GET /v1/index/1.root.json
cmp -s "$SCRATCH/body" idx/root.json || fail "1.root.json is not root.json"
expect_error 404 not_found GET /v1/index/2.root.json
expect_error 404 not_found GET /v1/index/nosuch.json
expect_code 0 "$BPK" index verify idx --state state --root idx/1.root.json
assert_grep "^verified 'idx': root version 1, .*; 3 packages" out
expect_code 0 "$BPK" index verify idx --state state-j --root idx/1.root.json -j
json_get out 'sorted((t["name"], t["version"], t["yanked"], t["sha256"]) for t in j["targets"])' >targets.txt
cat >want.txt <<EOF
[('demo', '1.0.0', False, '$(sha demo-1.0.0.bpk)'), ('demo', '1.1.0', False, '$(sha demo-1.1.0.bpk)'), ('demo', '1.10.0', True, '$(sha demo-1.10.0.bpk)')]
EOF
cmp -s targets.txt want.txt || { cat targets.txt want.txt; fail "the index does not list what was published"; }
expect_code 0 "$BPK" index check idx --state state demo-1.0.0.bpk demo-1.10.0.bpk
assert_fgrep "demo@1.10.0 is yanked" err
expect_code 1 "$BPK" index check idx --state state tool-1.0.0.bpk
repo_fetch_index /v1/feeds/acme/index/ idx-acme
expect_code 0 "$BPK" index verify idx-acme --state state-acme --root idx-acme/1.root.json -j
[ "$(json_get out '[(t["name"], t["version"], t["yanked"]) for t in j["targets"]]')" = "[('acme/tool', '1.0.0', False)]" ] ||
	fail "the index of acme does not list acme/tool alone"
expect_error 404 not_found GET /v1/feeds/secret/index/targets.json
expect_error 404 not_found GET /v1/feeds/nosuch/index/targets.json
repo_fetch_index /v1/feeds/secret/index/ idx-secret -H "Authorization: Bearer $SECRET_READ"
expect_code 0 "$BPK" index verify idx-secret --state state-secret --root idx-secret/1.root.json -j
[ "$(json_get out '[t["name"] for t in j["targets"]]')" = "['secret/probe']" ] ||
	fail "the index of secret does not list secret/probe"
# Every feed's index is signed by the same root key, the one /v1/ names.
expect_http 200 GET /v1/
ROOT_KEYID=$(json_get "$SCRATCH/body" 'j["root_keyid"]')
assert_fgrep "$ROOT_KEYID" idx/root.json
assert_fgrep "$ROOT_KEYID" idx-acme/root.json

say "l3afd's layout: NAME/VERSION/NAME.tar.gz holds the object at its top level"
expect_http 200 GET /demo/1.0.0/demo.tar.gz
[ "$(header Content-Type)" = application/gzip ] || fail "tar.gz Content-Type is '$(header Content-Type)'"
cp "$SCRATCH/body" l3af.tar.gz
tar -tzf l3af.tar.gz | sort >l3af.list || fail "demo.tar.gz is not a gzip tar"
assert_grep '^xdp_counter\.o$' l3af.list
assert_grep '^bpk\.json$' l3af.list
assert_no_grep '/' l3af.list
mkdir l3af && tar -xzf l3af.tar.gz -C l3af
cmp -s l3af/xdp_counter.o demo-1.0.0/bpf/xdp_counter.o || fail "the object in demo.tar.gz differs"
expect_http 200 GET /demo/1.0.0/linux/demo.tar.gz
cmp -s "$SCRATCH/body" l3af.tar.gz || fail "the linux/ artifact differs"
expect_http 200 GET /demo/1.0.0/demo.bpk
cmp -s "$SCRATCH/body" demo-1.0.0.bpk || fail "demo.bpk differs from the package"
expect_http 200 GET /acme/tool/1.0.0/tool.tar.gz
tar -tzf "$SCRATCH/body" | grep -qx xdp_counter.o || fail "acme/tool's tar.gz has no xdp_counter.o"
expect_http 200 GET /acme/tool/1.0.0/linux/tool.tar.gz
head_ok /demo/1.0.0/demo.tar.gz
[ "$(header Content-Length)" = "$(size l3af.tar.gz)" ] || fail "HEAD: the tar.gz's Content-Length"
expect_error 404 not_found GET /demo/9.9.9/demo.tar.gz
expect_error 404 not_found GET /demo/1.0.0/demo.zip
expect_error 404 not_found GET /secret/probe/1.0.0/probe.tar.gz
expect_http 200 GET /secret/probe/1.0.0/probe.tar.gz -H "Authorization: Bearer $SECRET_READ"

say "/metrics in Prometheus text"
expect_http 200 GET /metrics
case $(header Content-Type) in text/plain*) ;; *) fail "metrics Content-Type is '$(header Content-Type)'" ;; esac
assert_grep '^# TYPE bpk_repo_http_requests_total counter$' "$SCRATCH/body"
assert_grep '^bpk_repo_http_requests_total\{code="2xx"\} [1-9][0-9]*$' "$SCRATCH/body"
assert_grep '^bpk_repo_http_requests_total\{code="4xx"\} [1-9][0-9]*$' "$SCRATCH/body"
assert_grep "^bpk_repo_publishes_total $PUBLISHED\$" "$SCRATCH/body"
assert_grep '^bpk_repo_publish_refused_total [1-9][0-9]*$' "$SCRATCH/body"
assert_grep '^bpk_repo_downloads_total [1-9][0-9]*$' "$SCRATCH/body"
assert_grep '^bpk_repo_searches_total [1-9][0-9]*$' "$SCRATCH/body"
# Every sample line is NAME{labels} VALUE.
grep -v '^#' "$SCRATCH/body" | grep -Evq '^[a-z_]+(\{[a-z]+="[^"]*"\})? [0-9]+(\.[0-9]+)?$' &&
	fail "/metrics has a line that is not a Prometheus sample"

say "unknown resources are 404 JSON"
expect_error 404 not_found GET /v1/nosuch
expect_error 404 not_found GET /v1/packages/demo/1.0.0/nosuch.txt
expect_error 404 not_found GET /nosuch

say "bpk-repo audit lists the publishes and yanks; check passes"
expect_code 0 bpk_repo audit --data "$D" --json
for want in "publish demo@1.0.0" "publish demo@1.10.0" "publish acme/tool@1.0.0" \
	"yank demo@1.10.0" "yank demo@1.1.0" "unyank demo@1.1.0" "token-create" "feed-create"; do
	[ "$(json_get out "any(e['action'] + ' ' + e['subject'] == '$want' or e['action'] == '$want' for e in j)")" = True ] ||
		fail "the audit log has no '$want'"
done
[ "$(json_get out 'len([e for e in j if e["action"] == "publish"])')" = "$PUBLISHED" ] ||
	fail "the audit log does not hold exactly the $PUBLISHED publishes"
expect_code 0 bpk_repo audit --data "$D"
assert_grep "  publish  demo@1.0.0  $(sha demo-1.0.0.bpk)$" out
assert_grep "  yank  demo@1.10.0" out
expect_code 0 bpk_repo check --data "$D"
assert_grep '^database: ok$' out
assert_grep '^blobs: 0 bad$' out

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpk-repo under hostile input: oversized and endless bodies, stalled clients, malformed
# packages, bad tokens, path traversal and private-feed probes. Afterwards the repository must
# check clean and hold exactly what it held before. Runs once per storage engine.
# bpk-test: per-engine
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || skip "curl is not installed"
[ -x "$BPK_REPO" ] || skip "bpk-repo is not built"
repo_engine_init
cd "$SCRATCH"
D=$SCRATCH/data
LIMIT=100000

jq_ok() {
	[ "$(json_get "$SCRATCH/body" "bool($1)")" = True ] || {
		echo "--- body"; head -c 4000 "$SCRATCH/body"; echo
		fail "the answer does not satisfy: $1"
	}
}

say "a repository with a public and a private feed, one package in each"
expect_code 0 "$BPK" key gen -o author
expect_code 0 bpk_repo init --data "$D"
expect_code 0 bpk_repo feed trust public author.pub --data "$D"
expect_code 0 bpk_repo feed create acme --data "$D"
expect_code 0 bpk_repo feed create secret --private --data "$D"
expect_code 0 bpk_repo feed trust secret author.pub --data "$D"
token() {
	expect_code 0 bpk_repo token create --feed "$1" --scope "$2" --data "$D" "${@:3}" &&
		tail -n 1 out
}
PUSH=$(token public push)
ACME_PUSH=$(token acme push)
SECRET_PUSH=$(token secret push)
SECRET_READ=$(token secret read)
OTHER_READ=$(token acme admin)
expect_code 0 bpk_repo token create --feed public --scope push --data "$D"
REVOKED=$(tail -n 1 out)
REVOKED_ID=$(sed -n 's/^token \([0-9a-f]\{12\}\): .*/\1/p' out)
[ -n "$REVOKED_ID" ] || fail "token create does not print the id first"
EXPIRING=$(token public push --expires 1s)
make_signed_pkg demo-1.0.0 demo 1.0.0 author.pem
make_signed_pkg demo-1.1.0 demo 1.1.0 author.pem
make_signed_pkg probe-1.0.0 secret/probe 1.0.0 author.pem
REPO_SERVE_ARGS="--max-package $LIMIT" repo_start "$D"
expect_http 201 PUT /v1/packages --data-binary @demo-1.0.0.bpk -H "Authorization: Bearer $PUSH"
expect_http 201 PUT /v1/packages --data-binary @probe-1.0.0.bpk -H "Authorization: Bearer $SECRET_PUSH"
snapshot() {
	{
		curl -s "$REPO_URL/v1/packages/demo"
		curl -s "$REPO_URL/v1/packages/secret/probe" -H "Authorization: Bearer $SECRET_READ"
		curl -s "$REPO_URL/v1/search?take=100" -H "Authorization: Bearer $SECRET_READ"
		bpk_repo audit --data "$D" --json |
			json_get /dev/stdin "[(e['action'], e['subject']) for e in j if e['action'] in ('publish', 'yank', 'unyank')]"
		find "$D/blobs/sha256" -type f | sort
	} >"$1"
}
snapshot before.txt

say "a Content-Length past --max-package is 413 at once, the body unread"
"$PYTHON3" - "$REPO_PORT" "$PUSH" <<'PY' || fail "an oversized Content-Length was not refused at once"
import socket, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
for expect_continue in (False, True):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = "PUT /v1/packages HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n" \
           "Content-Length: 1000000000\r\n%s\r\n" % (token, "Expect: 100-continue\r\n" if expect_continue else "")
    s.sendall(head.encode() + (b"" if expect_continue else b"x" * 4096))
    start, answer = time.time(), b""
    while True:
        chunk = s.recv(65536)  # a timeout here is a failure: the server waits for the body
        if not chunk:
            break
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:100]
    assert b'"code": "too_large"' in answer, answer
    # The server answered and closed after 4 KiB of a declared gigabyte.
    assert time.time() - start < 4, time.time() - start
PY
# The same through curl, which sends Expect: 100-continue for a large body.
head -c $((LIMIT + 1)) /dev/zero >big.bin
expect_error 413 too_large PUT /v1/packages --data-binary @big.bin -H "Authorization: Bearer $PUSH"
jq_ok "'$LIMIT' in j['error']['message']"
head -c $LIMIT /dev/urandom >limit.bin
expect_error 400 invalid_package PUT /v1/packages --data-binary @limit.bin -H "Authorization: Bearer $PUSH"
# The size check comes before the token check: nothing is read for anyone.
expect_error 413 too_large PUT /v1/packages --data-binary @big.bin

say "a chunked upload past --max-package is 413"
# chunked_upload BYTES FINISH: send BYTES in 16 KiB chunks, the final chunk only if FINISH is 1;
# the answer must be a 413 within 5 s.
chunked_upload() {
	"$PYTHON3" - "$REPO_PORT" "$PUSH" "$1" "$2" <<'PY'
import socket, sys
port, token, total, finish = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(("PUT /v1/packages HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
           "Transfer-Encoding: chunked\r\n\r\n" % token).encode())
sent = 0
try:
    while sent < total:
        s.sendall(b"4000\r\n" + b"y" * 0x4000 + b"\r\n")
        sent += 0x4000
    if finish:
        s.sendall(b"0\r\n\r\n")
except (BrokenPipeError, ConnectionResetError):
    pass  # the server refused and closed: what it should do
try:
    answer = s.recv(65536)
except socket.timeout:
    sys.exit("no answer within 5 s after %d bytes of a chunked body%s" % (sent, "" if finish else " (not finished)"))
if not answer.startswith(b"HTTP/1.1 413 "):
    sys.exit("answered %r" % answer[:100])
PY
}
chunked_upload $((LIMIT * 2)) 1 || fail "a finished chunked upload past the limit was not refused"
chunked_upload $((LIMIT * 20)) 1 || fail "a finished chunked upload past the limit was not refused"
# A body past the limit is read and dropped so that the client hears 413 when it ends (an
# answer sent while the client still sends is lost to the reset its close causes); a body
# that does not end is cut off 4 MiB past the limit (docs/spec/repository.md, Limits).
"$PYTHON3" - "$REPO_PORT" "$PUSH" "$LIMIT" <<'PY' || fail "an endless chunked upload was not cut off"
import socket, sys
port, token, limit = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(("PUT /v1/packages HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
           "Transfer-Encoding: chunked\r\n\r\n" % token).encode())
sent = 0
try:
    while sent < limit + (64 << 20):
        s.sendall(b"4000\r\n" + b"y" * 0x4000 + b"\r\n")
        sent += 0x4000
    sys.exit("the server took %d bytes of a body past its limit of %d" % (sent, limit))
except (BrokenPipeError, ConnectionResetError):
    pass
if sent > limit + (4 << 20) + (8 << 20):  # what socket buffers take besides
    sys.exit("cut off only after %d bytes" % sent)
PY

say "stalled clients do not hold up others"
"$PYTHON3" - "$REPO_PORT" "$REPO_URL" "$SCRATCH" <<'PY' || fail "stalled connections held up other requests"
import socket, subprocess, sys, time
port, url, scratch = int(sys.argv[1]), sys.argv[2], sys.argv[3]
stalled = []
# Half a request line, half the headers, a body promised and not sent, and a silent socket:
# more of them than the server has threads.
partial = [b"GET /v1/pack", b"GET /v1/ HTTP/1.1\r\nHost: t\r\nX-Slow: ",
           b"PUT /v1/packages HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" + b"z" * 100,
           b""]
for i in range(24):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(partial[i % len(partial)])
    stalled.append(s)
start = time.time()
for i in range(20):
    path = ["/v1/", "/v1/search?q=demo", "/v1/packages/demo", "/v1/packages/demo/1.0.0/package.bpk",
            "/metrics"][i % 5]
    code = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                           url + path], capture_output=True, text=True).stdout
    assert code == "200", (path, code)
elapsed = time.time() - start
assert elapsed < 15, elapsed
# The stalled ones are still open (MHD's timeout is 30 s): nobody was dropped to make room.
for s in stalled:
    s.setblocking(False)
    try:
        assert s.recv(1) != b"", "a stalled connection was closed early"
    except BlockingIOError:
        pass
    s.close()
PY

say "malformed packages are 400 invalid_package, with the reason"
head -c 5000 /dev/urandom >random.bin
expect_error 400 invalid_package PUT /v1/packages --data-binary @random.bin -H "Authorization: Bearer $PUSH"
head -c $(($(stat -c %s demo-1.1.0.bpk) / 2)) demo-1.1.0.bpk >truncated.bpk
expect_error 400 invalid_package PUT /v1/packages --data-binary @truncated.bpk -H "Authorization: Bearer $PUSH"
expect_error 400 invalid_package PUT /v1/packages -H "Authorization: Bearer $PUSH" --data-binary ''
# A tar whose entries climb out with ../, an absolute path, a manifest that is not JSON,
# a gzip'd nothing, and an entry that expands far beyond the limit (a gzip bomb).
repack_pkg demo-1.1.0.bpk dotdot.bpk '
files["../../evil.sh"] = b"#!/bin/sh\n"
man["files"].append({"path": "../../evil.sh", "sha256": "0" * 64, "size": 10})'
repack_pkg demo-1.1.0.bpk dotdot2.bpk '
files["bpf/../../evil.o"] = files["bpf/xdp_counter.o"]'
repack_pkg demo-1.1.0.bpk absolute.bpk '
files["/etc/evil"] = b"x"'
repack_pkg demo-1.1.0.bpk notjson.bpk '
man = None
files["bpk.json"] = b"{not json"'
repack_pkg demo-1.1.0.bpk bomb.bpk '
files["bpf/bomb.o"] = bytes(80 << 20)'
[ "$(stat -c %s bomb.bpk)" -lt $LIMIT ] || fail "the bomb is not small"
gzip -c </dev/null >empty.gz
"$PYTHON3" - demo-1.1.0.bpk symlink.bpk <<'PY'
import io, sys, tarfile
src = tarfile.open(sys.argv[1], "r:gz")
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
    for m in src.getmembers():
        if m.name != "bpk.sig":
            tar.addfile(m, src.extractfile(m))
    link = tarfile.TarInfo("bpf/link.o")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    tar.addfile(link)
open(sys.argv[2], "wb").write(out.getvalue())
PY
for bad in dotdot:'\.\.' dotdot2:'\.\.' absolute:'/etc/evil|absolute' notjson:'JSON|json' \
	bomb:'' empty.gz:'' symlink:'link|regular'; do
	file=${bad%%:*}
	case $file in *.gz) ;; *) file=$file.bpk ;; esac
	expect_error 400 invalid_package PUT /v1/packages --data-binary @"$file" \
		-H "Authorization: Bearer $PUSH"
	reason=${bad#*:}
	[ -z "$reason" ] || json_get "$SCRATCH/body" 'j["error"]["message"] + " " + str(j["error"].get("details"))' |
		grep -Eq "$reason" || { cat "$SCRATCH/body"; fail "the refusal of $file does not say '$reason'"; }
done
[ ! -e "$D/../evil.sh" ] && [ ! -e "$SCRATCH/evil.sh" ] && [ ! -e /etc/evil ] ||
	fail "a refused package wrote a file"
# A valid package whose signature no longer matches its manifest.
repack_pkg demo-1.1.0.bpk resigned.bpk 'man["description"] = "changed after signing"'
"$PYTHON3" - demo-1.1.0.bpk resigned.bpk <<'PY'
import io, sys, tarfile
sig = [tarfile.open(sys.argv[1], "r:gz").extractfile("bpk.sig").read()]
src = tarfile.open(sys.argv[2], "r:gz")
files = {m.name: src.extractfile(m).read() for m in src.getmembers()}
files["bpk.sig"] = sig[0]
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
    for name in sorted(files):
        info = tarfile.TarInfo(name)
        info.size = len(files[name])
        tar.addfile(info, io.BytesIO(files[name]))
open(sys.argv[2], "wb").write(out.getvalue())
PY
expect_error 400 invalid_package PUT /v1/packages --data-binary @resigned.bpk -H "Authorization: Bearer $PUSH"

say "bad, expired and revoked tokens are 401; a push token of another feed is 403"
expect_error 401 unauthorized PUT /v1/packages --data-binary @demo-1.1.0.bpk -H "Authorization: Bearer x"
expect_error 401 unauthorized PUT /v1/packages --data-binary @demo-1.1.0.bpk -H "Authorization: Bearer "
expect_error 401 unauthorized PUT /v1/packages --data-binary @demo-1.1.0.bpk \
	-H "Authorization: Bearer bpk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect_error 401 unauthorized PUT /v1/packages --data-binary @demo-1.1.0.bpk \
	-H "Authorization: Bearer ${PUSH}x"
expect_error 401 unauthorized PUT /v1/packages --data-binary @demo-1.1.0.bpk \
	-H "Authorization: Bearer bpk_$(head -c 3000 /dev/zero | tr '\0' A)"
expect_error 401 unauthorized PUT /v1/packages --data-binary @demo-1.1.0.bpk \
	-H "Authorization: Basic dXNlcjpwYXNz"
# A bad token on a read is refused too, never taken as anonymous.
expect_error 401 unauthorized GET /v1/packages/demo -H "Authorization: Bearer bpk_nope"
expect_code 0 bpk_repo token revoke "$REVOKED_ID" --data "$D"
expect_error 401 unauthorized PUT /v1/packages --data-binary @demo-1.1.0.bpk -H "Authorization: Bearer $REVOKED"
sleep 1.1
expect_error 401 unauthorized PUT /v1/packages --data-binary @demo-1.1.0.bpk -H "Authorization: Bearer $EXPIRING"
expect_error 403 forbidden PUT /v1/packages --data-binary @demo-1.1.0.bpk -H "Authorization: Bearer $ACME_PUSH"
expect_error 403 forbidden PUT /v1/packages --data-binary @demo-1.1.0.bpk -H "Authorization: Bearer $SECRET_READ"
expect_error 403 forbidden POST /v1/packages/demo/1.0.0/yank -H "Authorization: Bearer $ACME_PUSH"
expect_error 403 forbidden POST /v1/packages/demo/1.0.0/yank -H "Authorization: Bearer $PUSH"
expect_error 401 unauthorized POST /v1/packages/demo/1.0.0/yank -H "Authorization: Bearer $REVOKED"
# Tokens never show up in the log or in answers.
assert_no_grep "$PUSH" "$SCRATCH/repo-$REPO_PORT.log"

say "path traversal finds nothing, and never a key"
: >traversal.txt
for path in /v1/packages/../../etc/passwd /v1/packages/%2e%2e/%2e%2e/etc/passwd \
	/v1/index/../keys/root.pem /v1/index/%2e%2e/keys/root.pem /v1/index/..%2fkeys%2froot.pem \
	/v1/index/%2E%2E%2Fkeys%2Fonline.pem /v1/feeds/x/index/../../keys/online.pem \
	/v1/feeds/public/index/../../keys/online.pem /v1/feeds/..%2fkeys/index/root.pem \
	/v1/feeds/public/index/..%2f..%2fkeys%2fonline.pem \
	/v1/packages/demo/1.0.0/..%2f..%2f..%2fkeys%2froot.pem /demo/1.0.0/..%2f..%2fkeys%2froot.pem \
	/demo/../../keys/root.pem/1.0.0/x.tar.gz /v1/index/.lock /v1/index/ /v1/feeds/public/index/ \
	/keys/root.pem /v1/keys/root.pem /blobs/tmp /repo.db /v1/index/....//keys/root.pem; do
	code=$(curl -s --path-as-is -o "$SCRATCH/body" -w '%{http_code}' "$REPO_URL$path")
	[ "$code" = 404 ] || fail "GET $path (curl --path-as-is) answered $code, not 404"
	cat "$SCRATCH/body" >>traversal.txt
	code=$(raw_http "GET $path HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
	[ "$code" = 404 ] || [ "$code" = 400 ] || fail "GET $path (raw) answered $code, not 404"
	cat "$SCRATCH/raw" >>traversal.txt
done
assert_no_grep 'PRIVATE|BEGIN|root:x:' traversal.txt
# A NUL in the path cuts it short: root.json%00.pem is served as root.json (public, but a path
# the server did not ask for).
code=$(curl -s --path-as-is -o "$SCRATCH/body" -w '%{http_code}' "$REPO_URL/v1/index/root.json%00.pem")
assert_no_grep 'PRIVATE' "$SCRATCH/body"
[ "$code" = 404 ] || [ "$code" = 400 ] || fail "GET /v1/index/root.json%00.pem answered $code"

say "a private feed answers 404 without a read token, and everything with one"
probes="/v1/packages/secret/probe /v1/packages/secret/probe/1.0.0
/v1/packages/secret/probe/1.0.0/package.bpk /v1/packages/secret/probe/1.0.0/README.md
/v1/feeds/secret/index/targets.json /v1/feeds/secret/index/timestamp.json
/v1/feeds/secret/index/1.root.json /secret/probe/1.0.0/probe.tar.gz
/secret/probe/1.0.0/linux/probe.tar.gz"
for path in $probes; do
	expect_error 404 not_found GET "$path"
	# Word for word what a package that never existed answers.
	json_get "$SCRATCH/body" 'j["error"]["message"]' | sed 's/probe/X/g; s/secret/F/g' >hidden.txt
	ghost=$(echo "$path" | sed 's/probe/ghost/g; s/secret/nosuchfeed/g')
	expect_error 404 not_found GET "$ghost"
	json_get "$SCRATCH/body" 'j["error"]["message"]' | sed 's/ghost/X/g; s/nosuchfeed/F/g' >absent.txt
	cmp -s hidden.txt absent.txt || { cat hidden.txt absent.txt; fail "$path answers otherwise than an absent package"; }
	expect_error 404 not_found GET "$path" -H "Authorization: Bearer $OTHER_READ"
	expect_http 200 GET "$path" -H "Authorization: Bearer $SECRET_READ"
done
for q in 'q=probe' 'feed=secret' 'q=secret' ''; do
	expect_http 200 GET "/v1/search?$q"
	jq_ok 'all(r["feed"] != "secret" for r in j["results"])'
	expect_http 200 GET "/v1/search?$q" -H "Authorization: Bearer $OTHER_READ"
	jq_ok 'all(r["feed"] != "secret" for r in j["results"])'
done
expect_http 200 GET "/v1/search?q=probe" -H "Authorization: Bearer $SECRET_READ"
jq_ok '[r["name"] for r in j["results"]] == ["secret/probe"]'
expect_http 200 GET /v1/
jq_ok '"secret" not in [f["name"] for f in j["feeds"]]'
expect_http 200 GET /v1/index/targets.json
assert_no_grep 'secret' "$SCRATCH/body"

say "afterwards: the server is up, the repository checks clean and holds what it held"
expect_http 200 GET /v1/
snapshot after.txt
cmp -s before.txt after.txt || { diff before.txt after.txt; fail "the repository changed"; }
[ -z "$(ls -A "$D/blobs/tmp")" ] || fail "uploads were left in blobs/tmp: $(ls "$D/blobs/tmp")"
expect_code 0 bpk_repo check --data "$D"
assert_grep '^database: ok$' out
assert_grep '^blobs: 0 bad$' out

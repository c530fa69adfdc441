# SPDX-License-Identifier: BSD-2-Clause
# Helpers for the integration tests: a scratch directory removed on exit, assertions, skips.
# Each test: `. "$(dirname "$0")/lib.sh"`, then &&-chained steps; exit 77 means skipped.
set -eu

: "${BPK:?run through meson test, which sets BPK}"
TEST_NAME=$(basename "$0" .sh)
SCRATCH=$(mktemp -d "/tmp/bpk-$TEST_NAME.XXXXXX")
CLEANUPS=""

# Register a command to run at exit, even on failure (last registered runs first).
at_exit() {
	CLEANUPS="$1
$CLEANUPS"
}

run_cleanups() {
	status=$?
	set +e
	# A failure with a bpkd running: its log says what it saw.
	if [ "$status" -ne 0 ] && [ -s "$SCRATCH/bpkd.log" ]; then
		echo "--- the end of bpkd's log" >&2
		tail -30 "$SCRATCH/bpkd.log" >&2
	fi
	# In this shell, not a pipeline's subshell: a cleanup can wait for this shell's children.
	while IFS= read -r cmd; do
		[ -n "$cmd" ] && eval "$cmd" >/dev/null 2>&1
	done <<CLEANUPS_EOF
$CLEANUPS
CLEANUPS_EOF
	rm -rf "$SCRATCH"
	exit $status
}
trap run_cleanups EXIT INT TERM

say() {
	printf '%s: %s\n' "$TEST_NAME" "$*"
}

fail() {
	printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}

skip() {
	printf '%s: SKIP: %s\n' "$TEST_NAME" "$*"
	exit 77
}

# expect_code N CMD...: run CMD, require exit status N; output goes to $SCRATCH/out, err.
expect_code() {
	want=$1
	shift
	set +e
	"$@" >"$SCRATCH/out" 2>"$SCRATCH/err"
	got=$?
	set -e
	if [ "$got" -ne "$want" ]; then
		echo "--- stdout"; cat "$SCRATCH/out"; echo "--- stderr"; cat "$SCRATCH/err"
		fail "'$*' exited $got, expected $want"
	fi
}

# assert_grep PATTERN FILE: FILE must contain a line matching the extended regex PATTERN.
assert_grep() {
	if ! grep -Eq -- "$1" "$2"; then
		echo "--- $2"; cat "$2"
		fail "'$2' has no line matching '$1'"
	fi
}

assert_no_grep() {
	if grep -Eq -- "$1" "$2"; then
		echo "--- $2"; cat "$2"
		fail "'$2' has a line matching '$1'"
	fi
}

# assert_fgrep TEXT FILE: FILE contains TEXT literally.
assert_fgrep() {
	if ! grep -Fq -- "$1" "$2"; then
		echo "--- $2"; cat "$2"
		fail "'$2' does not contain '$1'"
	fi
}

# json_get FILE EXPR: evaluate a Python expression on the JSON document `j` in FILE.
json_get() {
	"$PYTHON3" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# pkg_dir DIR NAME OBJECT PROGRAM: a package source directory that lints clean, around one
# test object from $BPK_TEST_BPF_DIR, with an empty test vector for PROGRAM.
pkg_dir() {
	mkdir -p "$1/bpf" "$1/tests"
	cp "$BPK_TEST_BPF_DIR/$3.o" "$1/bpf/"
	cat >"$1/bpk.json" <<JSON
{"bpk": 1, "name": "$2", "version": "1.0.0", "description": "a package made by a test",
 "license": "GPL-2.0-only", "authors": ["Test"], "platforms": ["linux"],
 "source": {"url": "https://example.com/$3.git"}, "requires": {"kernel": ">=5.15"}}
JSON
	printf '# %s\n\nA package made by an integration test around the %s test program; it\nexists to exercise one part of bpk.\n' "$2" "$3" >"$1/README.md"
	echo "{\"program\": \"$4\", \"cases\": []}" >"$1/tests/t.json"
}

# ---- the repository server (bpk-repo) ----

# The system's Python when there is one: a version manager's shim (pyenv) costs far more per
# call than the work, and the repository tests call Python often.
if [ -x /usr/bin/python3 ]; then
	PYTHON3=/usr/bin/python3
else
	PYTHON3=python3
fi

BPK_REPO=${BPK_REPO:-$BPK_TEST_BUILDDIR/server/bpk-repo}
# The servers repo_start started and not yet stopped: killed at exit, by id.
REPO_PIDS=""

# free_port: print a TCP port of 127.0.0.1 that nothing listens on now.
free_port() {
	"$PYTHON3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# repo_engine_init: pick the storage engine of this run from BPK_TEST_ENGINE (sqlite, the
# default, or postgresql) and set BPK_TEST_DB: empty for SQLite, for PostgreSQL the URL of a
# database made for this run alone (dropped at exit). Without BPK_TEST_PG_URL (tools/test.sh
# starts a server with tools/pg.sh) the PostgreSQL run is skipped, saying so.
repo_engine_init() {
	BPK_TEST_ENGINE=${BPK_TEST_ENGINE:-sqlite}
	BPK_TEST_DB=""
	case $BPK_TEST_ENGINE in
	sqlite) ;;
	postgresql)
		[ -n "${BPK_TEST_PG_URL:-}" ] ||
			skip "PostgreSQL half: BPK_TEST_PG_URL is not set (tools/test.sh starts a server with tools/pg.sh; it did not, or it could not start)"
		command -v psql >/dev/null || skip "PostgreSQL half: psql is not installed"
		REPO_PG_DBNAME="bpk_$(printf %s "$TEST_NAME" | tr -c 'a-z0-9\n' _)_$$_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
		psql -X -q -v ON_ERROR_STOP=1 -d "$BPK_TEST_PG_URL" \
			-c "CREATE DATABASE $REPO_PG_DBNAME" >/dev/null ||
			fail "cannot create database $REPO_PG_DBNAME on $BPK_TEST_PG_URL"
		at_exit "psql -X -q -d \"\$BPK_TEST_PG_URL\" -c 'DROP DATABASE IF EXISTS $REPO_PG_DBNAME WITH (FORCE)'"
		BPK_TEST_DB="${BPK_TEST_PG_URL%/*}/$REPO_PG_DBNAME"
		;;
	*) fail "BPK_TEST_ENGINE is '$BPK_TEST_ENGINE', not sqlite or postgresql" ;;
	esac
	say "storage engine: $BPK_TEST_ENGINE"
}

# bpk_repo ARGS...: the bpk-repo command on this run's database (--db for PostgreSQL).
bpk_repo() {
	if [ -n "${BPK_TEST_DB:-}" ]; then
		"$BPK_REPO" "$@" --db "$BPK_TEST_DB"
	else
		"$BPK_REPO" "$@"
	fi
}

# repo_stop_all: kill every server repo_start started (at exit, registered by repo_start).
repo_stop_all() {
	for pid in $REPO_PIDS; do
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	REPO_PIDS=""
}

# repo_kill [SIGNAL]: stop the last server repo_start started (default SIGKILL) and reap it.
repo_kill() {
	kill "-${1:-KILL}" "$REPO_PID" 2>/dev/null || true
	wait "$REPO_PID" 2>/dev/null || true
	REPO_PIDS=$(printf '%s\n' $REPO_PIDS | grep -vx "$REPO_PID" | tr '\n' ' ' || true)
}

# repo_start DATA [PORT]: serve DATA on 127.0.0.1 (a free port unless given) with this run's
# database and the extra serve options in REPO_SERVE_ARGS; wait until GET /v1/ answers. Sets
# REPO_PID, REPO_PORT and REPO_URL (http://127.0.0.1:PORT); the log is $SCRATCH/repo-PORT.log.
repo_start() {
	if [ -z "${REPO_AT_EXIT:-}" ]; then
		at_exit repo_stop_all
		REPO_AT_EXIT=1
	fi
	# A free port may be taken between the probe and the bind: then another, unless given.
	for try in 1 2 3; do
		REPO_PORT=${2:-$(free_port)}
		REPO_URL=http://127.0.0.1:$REPO_PORT
		# The binary itself in the background (not a function: $! must be the server's pid).
		# shellcheck disable=SC2086 # REPO_SERVE_ARGS is a list of options
		"$BPK_REPO" serve --data "$1" --listen "127.0.0.1:$REPO_PORT" --threads 4 \
			${BPK_TEST_DB:+--db "$BPK_TEST_DB"} ${REPO_SERVE_ARGS:-} \
			>>"$SCRATCH/repo-$REPO_PORT.log" 2>&1 &
		REPO_PID=$!
		REPO_PIDS="$REPO_PIDS $REPO_PID"
		for _ in $(seq 1 200); do
			if curl -s -o /dev/null --max-time 2 "$REPO_URL/v1/"; then
				return 0
			fi
			kill -0 "$REPO_PID" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$REPO_PID" 2>/dev/null; then
			break
		fi
		wait "$REPO_PID" 2>/dev/null || true
		if [ -n "${2:-}" ] || ! grep -q "cannot listen" "$SCRATCH/repo-$REPO_PORT.log"; then
			cat "$SCRATCH/repo-$REPO_PORT.log" >&2
			fail "bpk-repo serve --data $1 exited before it answered"
		fi
	done
	cat "$SCRATCH/repo-$REPO_PORT.log" >&2
	fail "bpk-repo serve --data $1 does not answer on $REPO_URL"
}

# http METHOD PATH [CURL ARGS...]: a request to the server; the body goes to $SCRATCH/body,
# the headers to $SCRATCH/headers; prints the status code.
http() {
	method=$1
	path=$2
	shift 2
	# curl leaves -o alone when there is no body (304, HEAD): start from nothing.
	rm -f "$SCRATCH/body" "$SCRATCH/headers"
	curl -s -X "$method" -o "$SCRATCH/body" -D "$SCRATCH/headers" -w '%{http_code}' \
		--max-time 30 "$@" "$REPO_URL$path"
}

# expect_http STATUS METHOD PATH [CURL ARGS...]: the same, requiring STATUS.
expect_http() {
	want=$1
	shift
	got=$(http "$@") || true
	if [ "$got" != "$want" ]; then
		echo "--- headers"; cat "$SCRATCH/headers" 2>/dev/null || true
		echo "--- body"; head -c 4000 "$SCRATCH/body" 2>/dev/null || true; echo
		fail "'$*' answered $got, expected $want"
	fi
}

# expect_error STATUS CODE METHOD PATH [CURL ARGS...]: STATUS with {"error":{"code":CODE,...}}.
expect_error() {
	want_code=$2
	expect_http "$1" "${@:3}"
	got_code=$(json_get "$SCRATCH/body" 'j["error"]["code"]') ||
		fail "'$3 $4' did not answer an error document"
	[ "$got_code" = "$want_code" ] || fail "'$3 $4' answered error code '$got_code', expected '$want_code'"
	json_get "$SCRATCH/body" 'isinstance(j["error"]["message"], str) and len(j["error"]["message"]) > 0' |
		grep -qx True || fail "'$3 $4': the error has no message"
}

# make_signed_pkg DIR NAME VERSION KEY: a package source in DIR (around xdp_counter), packed
# to DIR.bpk and signed with the private key KEY (a .pem of 'bpk key gen').
make_signed_pkg() {
	pkg_dir "$1" "$2" xdp_counter x &&
		sed -i "s/\"version\": \"1.0.0\"/\"version\": \"$3\"/" "$1/bpk.json" &&
		"$BPK" pack "$1" -o "$1.bpk" >/dev/null 2>"$SCRATCH/pack.err" &&
		"$BPK" sign "$1.bpk" --key "$4" >/dev/null 2>"$SCRATCH/sign.err" ||
		{ cat "$SCRATCH/pack.err" "$SCRATCH/sign.err" >&2 2>/dev/null; fail "cannot make $2@$3"; }
}


# repo_fetch_index PATH DIR [CURL ARGS...]: copy the signed index served under PATH
# (/v1/index/ or /v1/feeds/FEED/index/) into DIR: every N.root.json, root.json, timestamp.json,
# snapshot.json and targets.json, for `bpk index verify DIR`.
repo_fetch_index() {
	index_path=$1
	index_dir=$2
	shift 2
	mkdir -p "$index_dir"
	n=1
	while [ "$(curl -s -o "$index_dir/$n.root.json" -w '%{http_code}' "$@" \
		"$REPO_URL$index_path$n.root.json")" = 200 ]; do
		n=$((n + 1))
	done
	rm -f "$index_dir/$n.root.json"
	[ "$n" -gt 1 ] || fail "no ${index_path}1.root.json"
	for f in root timestamp snapshot targets; do
		[ "$(curl -s -o "$index_dir/$f.json" -w '%{http_code}' "$@" \
			"$REPO_URL$index_path$f.json")" = 200 ] || fail "cannot fetch $index_path$f.json"
	done
}

# repack_pkg IN OUT CODE: rewrite the package IN as OUT (a gzip'd ustar archive made by Python's
# tarfile) after running the Python statements CODE on `files` (path -> bytes) and `man` (the
# parsed bpk.json, written back unless CODE sets man = None). bpk.sig is dropped first.
repack_pkg() {
	"$PYTHON3" - "$1" "$2" "$3" <<'PY'
import io, json, sys, tarfile
src = tarfile.open(sys.argv[1], "r:gz")
files = {m.name: src.extractfile(m).read() for m in src.getmembers() if m.isfile()}
files.pop("bpk.sig", None)
man = json.loads(files["bpk.json"])
exec(sys.argv[3])
if man is not None:
    files["bpk.json"] = json.dumps(man, indent=2).encode()
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
    for name in sorted(files):
        info = tarfile.TarInfo(name)
        info.size = len(files[name])
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(files[name]))
open(sys.argv[2], "wb").write(out.getvalue())
PY
}

# raw_http REQUEST: send REQUEST (printf escapes: \r\n) as is to the server, read the answer
# until the server closes (10 s at most) into $SCRATCH/raw; prints its status code. For what
# curl would not send: HEAD without reading a body, paths with '..', broken requests.
raw_http() {
	"$PYTHON3" - "$REPO_PORT" "$1" "$SCRATCH/raw" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
open(sys.argv[3], "wb").write(data)
print(data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "none")
PY
}

# ---- two hosts joined by a wire ----

# veth_pair NET: namespaces NS_TX and NS_RX joined by a veth (veth-tx at NET.1, veth-rx at
# NET.2; both ends are born inside the namespaces, so the host's interfaces are never touched;
# lo up in both), and PIN, a bpffs of this test alone outside /sys ('ip netns exec' remounts
# /sys, keeps the rest). Everything carries the test's pid and goes at exit.
veth_pair() {
	VETH_NET=$1
	NS_TX=bpk-${TEST_NAME%%-*}-tx-$$
	NS_RX=bpk-${TEST_NAME%%-*}-rx-$$
	PIN=$SCRATCH/bpffs
	mkdir "$PIN" && mount -t bpf bpf "$PIN" || skip "cannot mount a bpf filesystem on $PIN"
	at_exit "umount -l '$PIN'"
	ip netns add "$NS_TX" || skip "cannot create a network namespace"
	at_exit "ip netns del '$NS_TX'"
	ip netns add "$NS_RX" || fail "cannot create a second network namespace"
	at_exit "ip netns del '$NS_RX'"
	ip -n "$NS_TX" link add veth-tx type veth peer name veth-rx netns "$NS_RX" &&
		ip -n "$NS_TX" addr add "$1.1/24" dev veth-tx &&
		ip -n "$NS_RX" addr add "$1.2/24" dev veth-rx &&
		ip -n "$NS_TX" link set veth-tx up &&
		ip -n "$NS_RX" link set veth-rx up &&
		ip -n "$NS_TX" link set lo up &&
		ip -n "$NS_RX" link set lo up ||
		fail "cannot set up the veth pair"
}

# ping_start INTERVAL LOG: ping the receiving end of veth_pair from NS_TX every INTERVAL
# seconds, in the background, until ping_stop; its output goes to LOG. PING_PID, killed at exit.
ping_start() {
	ip netns exec "$NS_TX" ping -i "$1" -W 1 "$VETH_NET.2" >"$2" 2>&1 &
	PING_PID=$!
	at_exit "kill $PING_PID"
}

# ping_stop LOG MIN [WHAT]: stop ping_start's ping; PING_TX and PING_RX are what it sent and
# got back. Fails when it sent MIN or fewer, or lost any echo but the one in flight, which
# SIGINT may cut off (WHAT says when, in the failure).
ping_stop() {
	kill -INT "$PING_PID"
	wait "$PING_PID" 2>/dev/null || true
	PING_TX=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1/p' "$1")
	PING_RX=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\2/p' "$1")
	[ -n "$PING_TX" ] && [ "$PING_TX" -gt "$2" ] || { cat "$1"; fail "ping did not run"; }
	[ "$PING_RX" -ge $((PING_TX - 1)) ] ||
		{ tail -3 "$1"; fail "$((PING_TX - PING_RX)) of $PING_TX pings were lost${3:+ $3}"; }
}

# ---- bpkd in the receiving namespace of veth_pair ----

# bpkd_start [ARGS...]: start bpkd inside NS_RX on a free port (the same one on every restart),
# with its state in $SCRATCH/state, the trust policy $SCRATCH/trust, pins under $PIN/bpk and
# ARGS, and wait until it answers. BPKD_PID is bpkd itself (so that kill -9 reaches it), AGENT
# its URL; the log is $SCRATCH/bpkd.log. It is killed at exit.
bpkd_start() {
	BPKD=${BPKD:-$BPK_TEST_BUILDDIR/daemon/bpkd}
	BPKD_PORT=${BPKD_PORT:-$(free_port)}
	AGENT=http://127.0.0.1:$BPKD_PORT
	if [ -z "${BPKD_AT_EXIT:-}" ]; then
		at_exit 'kill -9 $BPKD_PID; wait $BPKD_PID'
		BPKD_AT_EXIT=1
	fi
	# A per-mechanism test (tests/meson.build) runs once fused, once the portable way.
	set -- ${BPK_TEST_MECHANISM:+$([ "$BPK_TEST_MECHANISM" = portable ] && echo --no-fuse)} "$@"
	ip netns exec "$NS_RX" "$BPKD" --listen "127.0.0.1:$BPKD_PORT" --state "$SCRATCH/state" \
		--trust "$SCRATCH/trust" --pin-root "$PIN/bpk" "$@" >>"$SCRATCH/bpkd.log" 2>&1 &
	BPKD_PID=$!
	for _ in $(seq 1 200); do
		ip netns exec "$NS_RX" curl -s -o /dev/null --max-time 2 "$AGENT/v1/status" && return 0
		kill -0 "$BPKD_PID" 2>/dev/null || { tail -20 "$SCRATCH/bpkd.log"; fail "bpkd exited"; }
		sleep 0.02
	done
	tail -20 "$SCRATCH/bpkd.log"
	fail "bpkd does not answer on $AGENT"
}

# expect_tcx STATUS HOOK: the kernel's TCX chain of HOOK on veth-rx (in NS_RX) is what STATUS
# (bpkd's /v1/status) records: the fused program alone when the chain runs fused, else each
# stage's program in chain order.
expect_tcx() {
	if [ "$(json_get "$1" "[h.get('mechanism') for i in j['interfaces'] for h in i['hooks'] if h['hook'] == '$2'][0]")" = fused ]; then
		want=$(json_get "$1" "[str(h['fused']['prog_id']) for i in j['interfaces'] for h in i['hooks'] if h['hook'] == '$2'][0]")
	else
		want=$(json_get "$1" "' '.join(str(p['prog_id']) for i in j['interfaces'] for h in i['hooks'] if h['hook'] == '$2' for p in h['chain'])")
	fi
	ip netns exec "$NS_RX" "$BPK_TEST_BUILDDIR/tests/chain-tool" tcx-query veth-rx "$2" \
		>"$SCRATCH/tcq" || fail "cannot query TCX"
	[ "$(tail -n +2 "$SCRATCH/tcq" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')" = "$want" ] ||
		{ cat "$SCRATCH/tcq" "$1" >&2; fail "the kernel's TCX chain of $2 is not the recorded one ($want)"; }
}

# agent METHOD PATH [FILE]: a request to bpkd from inside NS_RX, FILE as a JSON body; prints
# the status code, the body goes to $SCRATCH/body.
agent() {
	rm -f "$SCRATCH/body"
	ip netns exec "$NS_RX" curl -s -X "$1" -o "$SCRATCH/body" -w '%{http_code}' --max-time 60 \
		${3:+-H 'Content-Type: application/json' --data-binary "@$3"} "$AGENT$2"
}

# expect_agent STATUS METHOD PATH [FILE]: the same, requiring STATUS.
expect_agent() {
	got=$(agent "$2" "$3" "${4:-}") || true
	[ "$got" = "$1" ] || {
		cat "$SCRATCH/body"; echo; tail -5 "$SCRATCH/bpkd.log"
		fail "$2 $3 answered $got, expected $1"
	}
}

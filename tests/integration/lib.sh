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
	printf '%s\n' "$CLEANUPS" | while IFS= read -r cmd; do
		[ -n "$cmd" ] && eval "$cmd" >/dev/null 2>&1
	done
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
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
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

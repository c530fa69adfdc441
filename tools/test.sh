#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The one test command: install what is missing, build twice (plain with -Dwerror, and with
# AddressSanitizer + UndefinedBehaviorSanitizer), start a throwaway PostgreSQL, run every test,
# print the tally.
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)
tools/deps.sh

BUILD=${BPK_BUILD_DIR:-build/ci}
ASAN=${BPK_ASAN_DIR:-build/asan}

setup() {
	dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

setup "$BUILD" -Dwerror=true -Dbuildtype=debugoptimized
setup "$ASAN" -Dwerror=true -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
if ! ninja -C "$BUILD" || ! ninja -C "$ASAN"; then
	echo "error: the build failed" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

# One throwaway PostgreSQL server (tools/pg.sh) for the PostgreSQL half of the repository tests;
# each test makes its own database on it. If it cannot start, that half reports itself skipped.
PG_DIR=$(mktemp -d /tmp/bpk-pg.XXXXXX)
trap '"$ROOT/tools/pg.sh" stop "$PG_DIR"; rm -f "$PG_DIR.log"' EXIT
trap 'exit 130' INT TERM
if BPK_TEST_PG_URL=$(tools/pg.sh start "$PG_DIR" 2>"$PG_DIR.log" | tail -n 1) &&
	[ -n "$BPK_TEST_PG_URL" ]; then
	export BPK_TEST_PG_URL
	echo "PostgreSQL for the tests: ${BPK_TEST_PG_URL%%:*}://…@${BPK_TEST_PG_URL##*@}"
else
	unset BPK_TEST_PG_URL
	echo "warning: PostgreSQL did not start; the PostgreSQL tests will be skipped:" >&2
	cat "$PG_DIR.log" >&2
fi

status=0
# Every test of the plain build: unit, integration and fuzz-corpus replay.
meson test -C "$BUILD" --print-errorlogs --num-processes 2 || status=1
# Under the sanitizers: the unit tests and the fuzz corpora (parsers of untrusted bytes).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C "$ASAN" --suite unit --suite fuzz --print-errorlogs --num-processes 2 || status=1

python3 "$ROOT/tools/tally.py" "$BUILD/meson-logs/testlog.json" "$ASAN/meson-logs/testlog.json" || status=1
exit $status

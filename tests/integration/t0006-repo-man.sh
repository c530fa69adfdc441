#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpk-repo(1) and 'bpk-repo --help' agree: every command and long option of one is in the other.
. "$(dirname "$0")/lib.sh"

: "${BPK_SOURCE_ROOT:?run through meson test, which sets BPK_SOURCE_ROOT}"
REPO=$BPK_TEST_BUILDDIR/server/bpk-repo
MAN=$BPK_SOURCE_ROOT/docs/man/bpk-repo.1
cd "$SCRATCH"

# The roff source without font escapes and backslashes, so that \-\-data reads --data.
sed -e 's/\\f[BIRP]//g' -e 's/\\//g' "$MAN" >man.src

say "bpk-repo --help and bpk-repo.1 list the same commands and options"
expect_code 0 "$REPO" --help
cp out help
for cmd in $(sed -n 's/^  \([a-z]\+\) .*/\1/p' help | sort -u); do
	grep -Eq "^\.B $cmd( |\$)" man.src || fail "bpk-repo.1 does not document command '$cmd'"
done
for opt in $(grep -oE -- '--[a-z][a-z-]*' help | sort -u); do
	grep -Eq -- "(^|[^a-z-])$opt([^a-z-]|\$)" man.src ||
		fail "'bpk-repo --help' shows $opt, which bpk-repo.1 does not document"
done
for opt in $(grep -oE -- '--[a-z][a-z-]*' man.src | sort -u); do
	[ "$opt" = "--version" ] && continue
	grep -Eq -- "(^|[^a-z-])$opt([^a-z-]|\$)" help ||
		fail "bpk-repo.1 documents $opt, which 'bpk-repo --help' does not show"
done

say "bpk-repo.1 renders without warnings"
if command -v groff >/dev/null; then
	groff -man -ww -z "$MAN" 2>warnings || fail "groff cannot format bpk-repo.1"
	[ ! -s warnings ] || { cat warnings; fail "groff warns about bpk-repo.1"; }
fi

say "usage errors exit 2 and name the problem"
expect_code 2 "$REPO" frobnicate
assert_fgrep "unknown command 'frobnicate'" err
expect_code 2 "$REPO" serve
assert_fgrep "--data DIR is required" err
expect_code 2 "$REPO" token create --data "$SCRATCH/d" --feed public --scope root
assert_fgrep "'root' is not a scope" err
expect_code 2 "$REPO" token create --data "$SCRATCH/d" --feed public --scope push --expires 5y
assert_fgrep "'5y' is not a duration" err

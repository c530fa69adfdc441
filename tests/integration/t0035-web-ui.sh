#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The web UI in a real browser: headless Chromium, driven by playwright-core
# (tests/web/ui.spec.mjs), searches, opens a package and checks its README, signers and yanked
# version, and saves a screenshot to $BPK_TEST_BUILDDIR/web-ui.png. t0034 checks the same pages
# with curl alone, so the UI is tested where no browser is.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/web-lib.sh"

CHROMIUM=${BPK_TEST_CHROMIUM:-/usr/bin/chromium}
WEB_TEST_DIR=$BPK_TEST_BUILDDIR/web-test

[ -x "$CHROMIUM" ] || skip "no Chromium at $CHROMIUM (tools/deps.sh installs it)"
command -v node >/dev/null || skip "node is not installed: it drives Chromium"
command -v curl >/dev/null || fail "curl is needed"

# playwright-core alone (no browser download: the system's Chromium is used), once per build
# directory.
if [ ! -f "$WEB_TEST_DIR/node_modules/playwright-core/package.json" ]; then
	command -v npm >/dev/null || skip "npm is not installed: it installs playwright-core"
	say "installing playwright-core into $WEB_TEST_DIR"
	mkdir -p "$WEB_TEST_DIR"
	[ -f "$WEB_TEST_DIR/package.json" ] ||
		echo '{"name": "bpk-web-test", "private": true}' >"$WEB_TEST_DIR/package.json"
	if ! (cd "$WEB_TEST_DIR" && timeout 300 npm install --no-audit --no-fund --fetch-retries=1 \
		--no-update-notifier playwright-core@1) >"$SCRATCH/npm.log" 2>&1; then
		tail -n 20 "$SCRATCH/npm.log"
		skip "npm cannot install playwright-core (no network?)"
	fi
fi

say "a repository with two signed packages, a yanked version and a private feed"
web_repo_start

say "Chromium searches, opens the package and checks its page"
rm -f "$BPK_TEST_BUILDDIR/web-ui.png"
BPK_WEB_URL=$BASE BPK_WEB_KEYID=$KEYID BPK_WEB_ROOT_KEYID=$ROOT_KEYID \
	BPK_WEB_SCREENSHOT=$BPK_TEST_BUILDDIR/web-ui.png BPK_WEB_MODULES=$WEB_TEST_DIR \
	BPK_WEB_PROFILE=$SCRATCH/chromium-profile BPK_WEB_CHROMIUM=$CHROMIUM \
	timeout 300 node "$BPK_TEST_SRCDIR/web/ui.spec.mjs" || fail "the browser checks failed"
[ -s "$BPK_TEST_BUILDDIR/web-ui.png" ] || fail "no screenshot at $BPK_TEST_BUILDDIR/web-ui.png"
say "screenshot: $BPK_TEST_BUILDDIR/web-ui.png"

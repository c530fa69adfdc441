#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The main job, until the repository server exists: install what is missing, build bpk, then
# scaffold, build, pack, inspect and lint an example package, showing each step.
set -eu

cd "$(dirname "$0")/.."
tools/deps.sh
BUILD=${BPK_BUILD_DIR:-build/main}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" -Dbuildtype=debugoptimized >/dev/null
ninja -C "$BUILD" >/dev/null
BPK=$(pwd)/$BUILD/cli/bpk

WORK=${BPK_DEMO_DIR:-$(pwd)/build/demo}
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

step() {
	printf '\n\033[1m$ %s\033[0m\n' "$*"
	"$@"
}

step "$BPK" init acme/pktcount --type xdp --author "Demo <demo@example.com>"
step "$BPK" build pktcount
step "$BPK" test pktcount
step "$BPK" pack pktcount
step "$BPK" inspect pktcount/acme-pktcount-0.1.0.bpk
step "$BPK" lint pktcount/acme-pktcount-0.1.0.bpk
# Sign it and trust the key in a demo policy (not /etc/bpk/trust.d), then verify.
step "$BPK" key gen -o acme-release
step "$BPK" trust add acme-release.pub --names 'acme/*' --comment "Acme release key" --dir trust
step "$BPK" sign pktcount/acme-pktcount-0.1.0.bpk --key acme-release.pem
step "$BPK" verify pktcount/acme-pktcount-0.1.0.bpk --trust trust
if [ "$(id -u)" -eq 0 ]; then
	# Verified, loaded and pinned (not attached), then removed again.
	"$BPK" unload acme/pktcount >/dev/null 2>&1 || true
	step "$BPK" load pktcount/acme-pktcount-0.1.0.bpk --trust trust
	step "$BPK" unload acme/pktcount
fi
if [ -e /usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o ]; then
	step "$BPK" inspect /usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o
fi
printf '\ndemo done: the package is %s\n' "$WORK/pktcount/acme-pktcount-0.1.0.bpk"

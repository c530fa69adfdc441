#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The main job: install what is missing, build bpk, start bpk-repo on its embedded SQLite store,
# seed it with signed example packages through the client, show the client at work, and keep
# serving the web UI until interrupted.
set -eu

cd "$(dirname "$0")/.."
tools/deps.sh
BUILD=${BPK_BUILD_DIR:-build/main}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" -Dbuildtype=debugoptimized >/dev/null
ninja -C "$BUILD" >/dev/null
BPK=$(pwd)/$BUILD/cli/bpk
REPO=$(pwd)/$BUILD/server/bpk-repo
LISTEN=${BPK_DEMO_LISTEN:-127.0.0.1:8080}
URL=http://$LISTEN

WORK=${BPK_DEMO_DIR:-$(pwd)/build/demo}
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
# The client keeps its configuration and caches here, not in /etc or the home directory.
export BPK_CONFIG_DIR="$WORK/config" BPK_CACHE_DIR="$WORK/cache"

step() {
	printf '\n\033[1m$ %s\033[0m\n' "$*"
	"$@"
}

# 1. Author: scaffold, build, test, pack and sign one package per template.
step "$BPK" key gen -o release
for spec in "xdp-pktcount xdp" "tc-mark tc" "execsnoop tracepoint" "tcp-connect kprobe" \
	"cgroup-egress cgroup_skb"; do
	set -- $spec
	"$BPK" init "$1" --type "$2" --author "bpk demo <demo@example.com>" >/dev/null
	"$BPK" build "$1" >/dev/null
	"$BPK" pack "$1" >/dev/null
	"$BPK" sign "$1/$1-0.1.0.bpk" --key release.pem >/dev/null
done
step "$BPK" test xdp-pktcount
step "$BPK" inspect xdp-pktcount/xdp-pktcount-0.1.0.bpk

# 2. Repository: a data directory, the public feed trusting the release key, a private feed.
step "$REPO" init --data repo
step "$REPO" feed trust public release.pub --data repo
step "$REPO" feed create acme --private --data repo
step "$REPO" feed trust acme release.pub --data repo
"$REPO" token create --feed public --scope yank --comment demo --data repo | tail -1 >push.token
"$REPO" token create --feed acme --scope yank --comment demo --data repo | tail -1 >acme.token
"$BPK" init acme/pktcount --type xdp --author "Acme <ops@acme.example>" >/dev/null
"$BPK" build pktcount >/dev/null && "$BPK" pack pktcount >/dev/null
"$BPK" sign pktcount/acme-pktcount-0.1.0.bpk --key release.pem >/dev/null

"$REPO" serve --data repo --listen "$LISTEN" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT INT TERM
for _ in $(seq 50); do
	curl -fsS "$URL/v1/" >/dev/null 2>&1 && break
	sleep 0.1
done
ROOT_KEY=$(curl -fsS "$URL/v1/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["root_keyid"])')

# 3. Client: add the repository pinned to its root key, publish, search, fetch, verify.
step "$BPK" trust add release.pub --comment "demo release key" --dir trust
step "$BPK" repo add demo "$URL" --key "$ROOT_KEY" --token-file push.token
for pkg in xdp-pktcount tc-mark execsnoop tcp-connect cgroup-egress; do
	step "$BPK" publish "$pkg/$pkg-0.1.0.bpk" --repo demo
done
# The private feed takes its own token; anonymous readers do not even learn the name exists.
step "$BPK" publish pktcount/acme-pktcount-0.1.0.bpk --repo demo --token-file acme.token
step curl -s -o /dev/null -w 'anonymous GET of a private package: HTTP %{http_code}\n' \
	"$URL/v1/packages/acme/pktcount"
step "$BPK" search xdp
step "$BPK" info xdp-pktcount
step "$BPK" fetch "xdp-pktcount@^0.1" -o downloads --trust trust
step "$BPK" verify downloads/xdp-pktcount-0.1.0.bpk --trust trust

printf '\n\033[1mbpk-repo is serving the web UI at %s/ (data in %s/repo); Ctrl-C stops it\033[0m\n' \
	"$URL" "$WORK"
if [ -n "${BPK_DEMO_NO_WAIT:-}" ]; then
	exit 0
fi
wait $SERVER

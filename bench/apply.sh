#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark: bpkd applying 10 XDP programs from local signed packages against bpftool loading
# the same 10 objects and attaching one. Run as root: bench/apply.sh BUILD [fused] (or ninja -C
# BUILD bench-apply, which runs both).
#
# The bench makes a network namespace with a veth pair and a bpf filesystem of its own (both
# removed at exit), and 10 signed packages s0..s9 of bench/chain_stage.o, an l3afd-protocol
# stage (its program array "stage_next"). Each run, measured inside the namespace:
#   bpkd:    one POST /l3af/configs/v1/update of the 10 programs in seq_id order (verify each
#            package, check it against the kernel, load, write the chain's program arrays,
#            attach the XDP root, pin, record in the agent's database), timed around curl;
#            an untimed delete undoes it.
#   bpftool: `bpftool prog loadall` of each of the 10 objects into bpffs, then `bpftool net
#            attach xdp` of the first; an untimed detach and rm undo it.
# One untimed warm-up run of each comes first; then BENCH_RUNS (5) runs of each, taking turns.
# Prints the medians and apply_ratio = bpkd / bpftool (goal: at most 1.5).
# With "fused" the stages are bench/fuse_stage.o, which knows nothing of chaining, and bpkd
# also fuses the 10 into one program (it verifies them once more, as one); prints
# apply_fused_ratio.
set -eu

BUILD=${1:-}
[ -n "$BUILD" ] || { echo "usage: bench/apply.sh BUILDDIR" >&2; exit 2; }
BUILD=$(cd "$BUILD" && pwd)
BPK=$BUILD/cli/bpk
BPKD=$BUILD/daemon/bpkd
MODE=${2:-tail_call}
case $MODE in
tail_call) OBJ=$BUILD/bench/chain_stage.o PROG=xdp_stage MAP_NAME=stage_next RATIO=apply_ratio ;;
fused) OBJ=$BUILD/bench/fuse_stage.o PROG=xdp_fuse_stage MAP_NAME= RATIO=apply_fused_ratio ;;
*) echo "usage: bench/apply.sh BUILDDIR [fused]" >&2; exit 2 ;;
esac
RUNS=${BENCH_RUNS:-5}
PROGS=10

skip() {
	echo "bench-apply: skipped: $*"
	exit 77
}
die() {
	echo "bench-apply: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || skip "needs root: a network namespace, bpffs and XDP"
[ -x "$BPK" ] && [ -x "$BPKD" ] && [ -r "$OBJ" ] || die "no bpk, bpkd or $OBJ in '$BUILD'"
command -v bpftool >/dev/null || skip "bpftool is not installed"
command -v curl >/dev/null || skip "curl is not installed"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"

WORK=$(mktemp -d /tmp/bpk-bench-apply.XXXXXX)
NS=bpk-bench-apply-$$
PIN=$WORK/bpffs
BPKD_PID=""
cleanup() {
	if [ -n "$BPKD_PID" ]; then
		kill "$BPKD_PID" 2>/dev/null || true
		wait "$BPKD_PID" 2>/dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	umount -l "$PIN" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$WORK"

mkdir "$PIN" && mount -t bpf bpf "$PIN" || skip "cannot mount a bpf filesystem on $PIN"
ip netns add "$NS" || skip "cannot create a network namespace"
ip -n "$NS" link add veth-a type veth peer name veth-b &&
	ip -n "$NS" link set veth-a up && ip -n "$NS" link set veth-b up &&
	ip -n "$NS" link set lo up || die "cannot set up the veth pair"

"$BPK" key gen -o ops >/dev/null 2>&1 && "$BPK" trust add ops.pub --dir trust >/dev/null 2>&1 ||
	die "cannot make a trusted key"
for i in $(seq 0 $((PROGS - 1))); do
	mkdir -p "src-s$i/bpf"
	cp "$OBJ" "src-s$i/bpf/"
	cat >"src-s$i/bpk.json" <<JSON
{"bpk": 1, "name": "s$i", "version": "1.0.0", "description": "a stage of the apply benchmark",
 "license": "GPL-2.0-only", "authors": ["bench"], "platforms": ["linux"],
 "source": {"url": "https://example.com/bench.git"}, "requires": {"kernel": ">=5.15"}}
JSON
	printf '# s%s\n\nA stage of the apply benchmark: one unit of work, then a tail call to the\nnext stage of the chain.\n' "$i" >"src-s$i/README.md"
	"$BPK" pack "src-s$i" -o "s$i.bpk" >/dev/null 2>pack.err || { cat pack.err; die "cannot pack s$i"; }
	"$BPK" sign "s$i.bpk" --key ops.pem >/dev/null 2>&1 || die "cannot sign s$i"
done

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
AGENT=http://127.0.0.1:$PORT
ip netns exec "$NS" "$BPKD" --listen "127.0.0.1:$PORT" --state "$WORK/state" --trust "$WORK/trust" \
	--pin-root "$PIN/bpk" >"$WORK/bpkd.log" 2>&1 &
BPKD_PID=$!
for _ in $(seq 1 100); do
	ip netns exec "$NS" curl -s -o /dev/null --max-time 2 "$AGENT/v1/status" && break
	kill -0 "$BPKD_PID" 2>/dev/null || { cat "$WORK/bpkd.log"; die "bpkd exited"; }
	sleep 0.05
done

entries=""
names=""
for i in $(seq 0 $((PROGS - 1))); do
	entries="$entries${entries:+, }{\"id\": $((i + 1)), \"name\": \"s$i\", \"seq_id\": $((i + 1)), \"artifact\": \"$WORK/s$i.bpk\", \"map_name\": \"$MAP_NAME\", \"version\": \"1.0.0\", \"admin_status\": \"enabled\", \"prog_type\": \"xdp\", \"cfg_version\": 1}"
	names="$names${names:+, }\"s$i\""
done
printf '[{"host_name": "bench", "iface": "veth-b", "bpf_programs": {"xdp_ingress": [%s], "tc_ingress": [], "tc_egress": [], "probes": []}}]\n' "$entries" >update.json
printf '{"host_name": "bench", "iface": "veth-b", "bpf_programs": {"xdp_ingress": [%s]}}\n' "$names" >delete.json

# Everything timed runs inside the namespace, by one shell, so both sides pay the same costs
# of starting processes; each function prints milliseconds.
cat >inner.sh <<'INNER'
set -eu
now() { date +%s%N; }
post() { # PATH FILE: the HTTP status
	curl -s -o "$WORK/body" -w '%{http_code}' --max-time 120 -X POST \
		-H 'Content-Type: application/json' --data-binary "@$2" "$AGENT$1"
}
bpkd_run() {
	t0=$(now)
	code=$(post /l3af/configs/v1/update "$WORK/update.json")
	t1=$(now)
	[ "$code" = 200 ] || { cat "$WORK/body" >&2; echo "bpkd answered $code" >&2; exit 1; }
	if [ "${1:-}" = verify ]; then
		curl -s "$AGENT/v1/status" >"$WORK/status.json"
		n=$(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(sum(len(h["chain"]) for i in j["interfaces"] for h in i["hooks"] if h["running"]))' "$WORK/status.json")
		[ "$n" = "$PROGS" ] || { cat "$WORK/status.json" >&2; echo "bpkd runs $n programs, not $PROGS" >&2; exit 1; }
		m=$(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["interfaces"][0]["hooks"][0]["mechanism"])' "$WORK/status.json")
		[ "$m" = "$MODE" ] || { echo "bpkd chains with $m, not $MODE" >&2; exit 1; }
	fi
	code=$(post /l3af/configs/v1/delete "$WORK/delete.json")
	[ "$code" = 200 ] || { cat "$WORK/body" >&2; echo "bpkd delete answered $code" >&2; exit 1; }
	echo $(((t1 - t0) / 1000))
}
bpftool_run() {
	mkdir -p "$PIN/bpftool"
	t0=$(now)
	for i in $(seq 0 $((PROGS - 1))); do
		bpftool prog loadall "$OBJ" "$PIN/bpftool/s$i" type xdp 2>>"$WORK/bpftool.err"
	done
	bpftool net attach xdp pinned "$PIN/bpftool/s0/$PROG" dev veth-b 2>>"$WORK/bpftool.err"
	t1=$(now)
	bpftool net detach xdp dev veth-b
	rm -rf "$PIN/bpftool"
	echo $(((t1 - t0) / 1000))
}
bpkd_run verify >/dev/null
bpftool_run >/dev/null
for r in $(seq 1 "$RUNS"); do
	echo "bpkd $(bpkd_run)"
	echo "bpftool $(bpftool_run)"
done
INNER
WORK=$WORK AGENT=$AGENT PIN=$PIN OBJ=$OBJ PROG=$PROG PROGS=$PROGS RUNS=$RUNS MODE=$MODE \
	ip netns exec "$NS" bash inner.sh >times ||
	{ tail -5 "$WORK/bpkd.log"; cat "$WORK/bpftool.err" 2>/dev/null; die "a run failed"; }

median() { # microseconds, one a line -> milliseconds
	sort -n | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }'
}
bpkd_ms=$(awk '$1 == "bpkd" { print $2 }' times | median)
bpftool_ms=$(awk '$1 == "bpftool" { print $2 }' times | median)
echo "bpkd runs (ms): $(awk '$1 == "bpkd" { printf "%.1f ", $2 / 1000 }' times)"
echo "bpftool runs (ms): $(awk '$1 == "bpftool" { printf "%.1f ", $2 / 1000 }' times)"
awk -v a="$bpkd_ms" -v b="$bpftool_ms" -v n="$PROGS" -v r="$RUNS" -v name="$RATIO" -v mode="$MODE" 'BEGIN {
	printf "%s=%.2f (bpkd %.1f ms / bpftool %.1f ms; %d programs chained by %s, median of %d runs)\n", name, a / b, a, b, n, mode, r }'

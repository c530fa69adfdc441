#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark: package downloads from bpk-repo against nginx serving the same files from a
# `bpk-repo export` tree. Run: ninja -C BUILD bench-download, or bench/download.sh BUILD.
#
# Two signed packages are published, one of about 10 KiB and one of about 1 MiB: a real XDP
# program (`bpk init` + `bpk build`) whose README.md carries deterministic incompressible text
# (base64 of pseudo-random bytes) up to the size. For each size, each round runs wrk
# (GET /v1/packages/NAME/VERSION/package.bpk, 64 connections, BENCH_SECONDS) against bpk-repo
# and against nginx back to back, in an order that alternates between rounds. Both listen on
# 127.0.0.1 with one worker per CPU (bpk-repo's default thread pool, nginx worker_processes
# auto); wrk runs on the same machine and takes its share of the CPUs from both alike. The
# final line per size:
#   download_ratio size=10KiB bytes=N bpk_rps=R nginx_rps=R ratio=X bpk_p99=Tms nginx_p99=Tms
#                  bpk_cpu=Cus nginx_cpu=Cus
# (one line), where rps and p99 are medians over the rounds, ratio is the median of each
# round's bpk_rps / nginx_rps (goal: at least 0.8), and cpu is the server's CPU time (user +
# system, all threads or workers) per request: less sensitive than rps to what else runs.
#
# Environment: BENCH_SECONDS (10) per measurement, BENCH_ROUNDS (3), BENCH_CONNECTIONS (64);
# BENCH_PROFILE=FILE records `perf record --call-graph dwarf` of bpk-repo during one extra run
# per size, into FILE.10KiB and FILE.1MiB.
set -eu

BUILD=${1:-${BPK_BUILD_DIR:-}}
[ -n "$BUILD" ] || { echo "usage: bench/download.sh BUILDDIR" >&2; exit 2; }
BUILD=$(cd "$BUILD" && pwd)
BPK=$BUILD/cli/bpk
BPK_REPO=$BUILD/server/bpk-repo
SECONDS_EACH=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
NGINX=$(command -v nginx || command -v /usr/sbin/nginx || true)

skip() {
	echo "bench-download: skipped: $*"
	exit 77
}
die() {
	echo "bench-download: $*" >&2
	exit 1
}
[ -x "$BPK" ] && [ -x "$BPK_REPO" ] || die "no bpk or bpk-repo in '$BUILD': build it first"
[ -n "$NGINX" ] || skip "nginx is not installed (Debian: nginx-light)"
command -v wrk >/dev/null || skip "wrk is not installed"
command -v curl >/dev/null || skip "curl is not installed"
[ "$(ulimit -n)" -ge 1024 ] || ulimit -n 1024

WORK=$(mktemp -d /tmp/bpk-bench-download.XXXXXX)
PIDS=""
cleanup() {
	for pid in $PIDS; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$WORK"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_up URL PID: until URL answers, as long as PID lives.
wait_up() {
	for _ in $(seq 1 200); do
		curl -s -o /dev/null --max-time 2 "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# make_pkg NAME TARGET_BYTES: NAME-1.0.0.bpk, signed, of about TARGET_BYTES. The README's
# padding is sized from the package without it (base64 text deflates to about 3/4) and then
# corrected once from the size reached.
make_pkg() {
	local name=$1 target=$2 base pad size
	"$BPK" init "$name" --author "Bench <bench@example.com>" >/dev/null &&
		(cd "$name" && "$BPK" build >/dev/null) || die "cannot make package $name"
	cp "$name/README.md" "$name/README.head"
	"$BPK" pack "$name" -o "$name.bpk" >/dev/null 2>&1 || die "cannot pack $name"
	base=$(stat -c %s "$name.bpk")
	pad=$(((target - base) * 4 / 3))
	for _ in 1 2 3; do
		[ "$pad" -gt 0 ] || pad=0
		{
			cat "$name/README.head"
			printf '\n## Lookup table\n\nThe table the program is built with, base64-encoded:\n\n```\n'
			python3 -c 'import base64, random, sys
r = random.Random(sys.argv[1]); n = int(sys.argv[2]) * 3 // 4
sys.stdout.write(base64.encodebytes(r.randbytes(n)).decode())' "$name" "$pad"
			printf '```\n'
		} >"$name/README.md"
		"$BPK" pack "$name" -o "$name.bpk" >/dev/null 2>&1 || die "cannot pack $name"
		size=$(stat -c %s "$name.bpk")
		# Within 2% of the target is close enough.
		[ $((size > target ? size - target : target - size)) -gt $((target / 50)) ] || break
		pad=$((pad + (target - size) * 4 / 3))
	done
	"$BPK" lint "$name.bpk" >lint.out 2>&1 || { cat lint.out >&2; die "$name.bpk does not pass lint"; }
	"$BPK" sign "$name.bpk" --key author.pem >/dev/null || die "cannot sign $name.bpk"
}

echo "bench-download: making the packages and the repository in $WORK"
"$BPK" key gen -o author >/dev/null
make_pkg small 10240
make_pkg large 1048576
"$BPK_REPO" init --data data >/dev/null
"$BPK_REPO" feed trust public author.pub --data data >/dev/null
token=$("$BPK_REPO" token create --feed public --scope push --data data | tail -n 1)

repo_port=$(free_port)
"$BPK_REPO" serve --data data --listen "127.0.0.1:$repo_port" >repo.log 2>&1 &
repo_pid=$!
PIDS="$PIDS $repo_pid"
REPO_URL=http://127.0.0.1:$repo_port
wait_up "$REPO_URL/v1/" "$repo_pid" || { cat repo.log >&2; die "bpk-repo did not start"; }
for p in small large; do
	code=$(curl -s -o publish.out -w '%{http_code}' -X PUT --data-binary "@$p.bpk" \
		-H "Authorization: Bearer $token" "$REPO_URL/v1/packages")
	[ "$code" = 201 ] || { cat publish.out >&2; die "publishing $p.bpk answered $code"; }
done
"$BPK_REPO" export static --data data >/dev/null || die "bpk-repo export failed"

nginx_port=$(free_port)
mkdir -p nginx
user=""
# As root the workers would drop to nobody, who cannot enter the 0700 work directory.
[ "$(id -u)" -ne 0 ] || user="user root;"
cat >nginx/nginx.conf <<CONF
daemon off;
$user
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $WORK/nginx/body;
	proxy_temp_path $WORK/nginx/proxy;
	fastcgi_temp_path $WORK/nginx/fastcgi;
	uwsgi_temp_path $WORK/nginx/uwsgi;
	scgi_temp_path $WORK/nginx/scgi;
	types { application/vnd.bpk bpk; application/json json; application/gzip gz; }
	default_type application/octet-stream;
	sendfile on;
	tcp_nopush on;
	# bpk-repo keeps a connection for any number of requests: so does nginx here.
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$nginx_port;
		root $WORK/static;
	}
}
CONF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
nginx_pid=$!
PIDS="$PIDS $nginx_pid"
NGINX_URL=http://127.0.0.1:$nginx_port
wait_up "$NGINX_URL/" "$nginx_pid" || { cat nginx/error.log >&2; die "nginx did not start"; }

for p in small large; do
	path=/v1/packages/$p/0.1.0/package.bpk
	curl -fsS -o "repo-$p" "$REPO_URL$path" && curl -fsS -o "nginx-$p" "$NGINX_URL$path" ||
		die "cannot download $path"
	cmp -s "repo-$p" "$p.bpk" && cmp -s "nginx-$p" "$p.bpk" ||
		die "the servers do not serve $p.bpk as published"
done

cat >report.lua <<'LUA'
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("result rps=%.1f p99_ms=%.3f requests=%d errors=%d\n",
		summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000,
		summary.requests, e.connect + e.read + e.write + e.timeout + e.status))
end
LUA

TICKS_PER_SECOND=$(getconf CLK_TCK)
# cpu_ticks PID...: user + system time the processes used so far, in clock ticks.
cpu_ticks() {
	local pid total=0
	for pid in "$@"; do
		total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
	done
	echo "$total"
}

# The processes that do a server's work: bpk-repo, or nginx's master and its workers.
server_pids() {
	if [ "$1" = bpk ]; then
		echo "$repo_pid"
	else
		echo "$nginx_pid" "$(cat "/proc/$nginx_pid/task/$nginx_pid/children")"
	fi
}

# measure SERVER URL SECONDS: "RPS P99_MS CPU_US" of one wrk run, CPU_US being the server's
# CPU time per request in microseconds; dies on any error.
measure() {
	local line before after requests pids
	pids=$(server_pids "$1")
	# shellcheck disable=SC2086 # a list of pids
	before=$(cpu_ticks $pids)
	wrk -t 2 -c "$CONNECTIONS" -d "${3}s" --latency -s report.lua "$2" >wrk.out 2>&1 ||
		{ cat wrk.out >&2; die "wrk failed on $2"; }
	# shellcheck disable=SC2086
	after=$(cpu_ticks $pids)
	line=$(grep '^result ' wrk.out) || { cat wrk.out >&2; die "wrk printed no result"; }
	case $line in
	*" errors=0") ;;
	*) cat wrk.out >&2; die "errors while downloading $2" ;;
	esac
	requests=$(printf '%s\n' "$line" | sed 's/.* requests=\([0-9]*\) .*/\1/')
	[ "$requests" -gt 0 ] || die "no request completed on $2"
	printf '%s\n' "$line" | sed 's/^result rps=\([^ ]*\) p99_ms=\([^ ]*\) .*/\1 \2/' | tr '\n' ' '
	awk -v t=$((after - before)) -v hz="$TICKS_PER_SECOND" -v n="$requests" \
		'BEGIN { printf "%.1f\n", t / hz * 1e6 / n }'
}

# median: the median of the numbers on stdin, one a line.
median() {
	sort -g | awk '{ v[NR] = $1 }
		END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "bench-download: $ROUNDS rounds of ${SECONDS_EACH}s per server and size," \
	"$CONNECTIONS connections, bpk-repo $(grep -o '[0-9]* threads' repo.log)," \
	"nginx $(nproc) workers"
for p in small large; do
	measure bpk "$REPO_URL/v1/packages/$p/0.1.0/package.bpk" 2 >/dev/null
	measure nginx "$NGINX_URL/v1/packages/$p/0.1.0/package.bpk" 2 >/dev/null
done
# Each round measures both servers back to back, in alternating order, so that the ratio of a
# round compares runs made under the same conditions; the medians are over the rounds.
: >results
for round in $(seq 1 "$ROUNDS"); do
	for p in small large; do
		if [ $((round % 2)) -eq 1 ]; then order="bpk nginx"; else order="nginx bpk"; fi
		for server in $order; do
			if [ "$server" = bpk ]; then url=$REPO_URL; else url=$NGINX_URL; fi
			out=$(measure "$server" "$url/v1/packages/$p/0.1.0/package.bpk" "$SECONDS_EACH")
			read -r rps p99 cpu <<<"$out"
			echo "round $round size=$p server=$server rps=$rps p99=${p99}ms" \
				"cpu_per_request=${cpu}us"
			echo "$round $p $server $rps $p99 $cpu" >>results
		done
	done
done

# field_of SIZE SERVER FIELD: that field (4 rps, 5 p99, 6 cpu) of every round, one a line.
field_of() {
	awk -v p="$1" -v s="$2" -v f="$3" '$2 == p && $3 == s { print $f }' results
}

FORMAT='download_ratio size=%s bytes=%s bpk_rps=%.0f nginx_rps=%.0f ratio=%.3f bpk_p99=%.2fms'
FORMAT="$FORMAT nginx_p99=%.2fms bpk_cpu=%.1fus nginx_cpu=%.1fus\n"
for p in small large; do
	if [ "$p" = small ]; then label=10KiB; else label=1MiB; fi
	ratio=$(awk -v p="$p" '$2 == p && $3 == "bpk" { bpk[$1] = $4 }
		$2 == p && $3 == "nginx" { nginx[$1] = $4 }
		END { for (r in bpk) print bpk[r] / nginx[r] }' results | median)
	# shellcheck disable=SC2059 # FORMAT is the line's format
	printf "$FORMAT" \
		"$label" "$(stat -c %s "$p.bpk")" "$(field_of $p bpk 4 | median)" \
		"$(field_of $p nginx 4 | median)" "$ratio" "$(field_of $p bpk 5 | median)" \
		"$(field_of $p nginx 5 | median)" "$(field_of $p bpk 6 | median)" \
		"$(field_of $p nginx 6 | median)"
done

if [ -n "${BENCH_PROFILE:-}" ]; then
	command -v perf >/dev/null || die "BENCH_PROFILE is set and perf is not installed"
	for p in small large; do
		if [ "$p" = small ]; then label=10KiB; else label=1MiB; fi
		echo "bench-download: recording bpk-repo with perf during ${SECONDS_EACH}s of $label" \
			"downloads"
		perf record --call-graph dwarf -F 999 -o "$BENCH_PROFILE.$label" -p "$repo_pid" \
			-- sleep "$SECONDS_EACH" >perf.err 2>&1 &
		perf_pid=$!
		measure bpk "$REPO_URL/v1/packages/$p/0.1.0/package.bpk" "$SECONDS_EACH" >/dev/null
		wait "$perf_pid" || { cat perf.err >&2; die "perf record failed"; }
		echo "bench-download: wrote $BENCH_PROFILE.$label (perf report -i $BENCH_PROFILE.$label)"
	done
fi

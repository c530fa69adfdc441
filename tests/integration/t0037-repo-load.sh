#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpk-repo under load: 256 connections for BPK_LOAD_SECONDS (default 60) of searches, package
# lists and downloads with wrk. Every answer must be 2xx/3xx, wrk must see no socket error, and
# the server's resident memory must stay flat: at most 20% + 8 MiB above what it was after a 5 s
# warm-up. Prints requests/s, p99 latency and the RSS figures.
. "$(dirname "$0")/lib.sh"

command -v wrk >/dev/null || skip "wrk is not installed (Debian: wrk): it makes the load"
command -v curl >/dev/null || skip "curl is not installed: it publishes the packages"
SECONDS_OF_LOAD=${BPK_LOAD_SECONDS:-60}
[[ $SECONDS_OF_LOAD =~ ^[0-9]+$ ]] && [ "$SECONDS_OF_LOAD" -ge 2 ] ||
	fail "BPK_LOAD_SECONDS is '$SECONDS_OF_LOAD', not a number of seconds (at least 2)"
CONNECTIONS=256
# wrk and the server each hold a descriptor per connection, the server a few more per download.
if [ "$(ulimit -n)" -lt 4096 ]; then
	ulimit -n 4096 2>/dev/null ||
		skip "cannot raise the open file limit to 4096 (it is $(ulimit -n), hard $(ulimit -Hn))"
fi
repo_engine_init
cd "$SCRATCH"

# rss_kib PID: the resident set of PID in KiB.
rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

say "a repository with a few packages"
"$BPK" key gen -o author >/dev/null &&
	bpk_repo init --data data >/dev/null &&
	bpk_repo feed trust public author.pub --data data >/dev/null || fail "cannot set up the repository"
token=$(bpk_repo token create --feed public --scope push --data data | tail -n 1)
repo_start data
paths=()
for spec in ratelimit@1.0.0 ratelimit@1.1.0 pktcount@0.2.0 acl-filter@3.0.1 synproxy@0.9.0; do
	name=${spec%@*}
	version=${spec#*@}
	make_signed_pkg "$name-$version" "$name" "$version" author.pem
	expect_http 201 PUT /v1/packages --data-binary "@$name-$version.bpk" \
		-H "Authorization: Bearer $token"
	paths+=("/v1/packages/$name/$version/package.bpk" "/v1/packages/$name")
done
paths+=("/v1/search?q=ratelimit" "/v1/search?q=packet" "/v1/search?q=" "/v1/search?type=xdp"
	"/v1/search?q=filter&take=5" "/v1/search?kernel=6.1.0")
# Every path answers 200 before the load, so that a failure under load is the load's.
for p in "${paths[@]}"; do
	expect_http 200 GET "$p"
done
expect_http 200 GET "/v1/search?q=ratelimit"
[ "$(json_get "$SCRATCH/body" 'j["total"]')" -ge 1 ] || fail "the search finds no ratelimit"

# The requests, in a fixed round-robin order per wrk thread; done() prints what wrk counted.
cat >load.lua <<'LUA'
local requests = {}
local next_request = 0

function init(args)
	for _, path in ipairs(args) do
		requests[#requests + 1] = wrk.format("GET", path)
	end
end

function request()
	next_request = next_request % #requests + 1
	return requests[next_request]
end

function done(summary, latency, requests_made)
	local e = summary.errors
	io.write(string.format(
		"wrk-result requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
		"connect=%d read=%d write=%d timeout=%d status=%d\n",
		summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
		e.connect, e.read, e.write, e.timeout, e.status))
end
LUA

warmup=5
[ "$SECONDS_OF_LOAD" -gt 10 ] || warmup=$((SECONDS_OF_LOAD / 2))
say "$CONNECTIONS connections for ${SECONDS_OF_LOAD}s of ${#paths[@]} kinds of request"
wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_OF_LOAD}s" --timeout 10s --latency -s load.lua \
	"$REPO_URL" -- "${paths[@]}" >wrk.out 2>&1 &
wrk_pid=$!
at_exit "kill $wrk_pid"
sleep "$warmup"
kill -0 "$REPO_PID" 2>/dev/null || fail "bpk-repo died during the warm-up"
rss_before=$(rss_kib "$REPO_PID")
wait "$wrk_pid" || { cat wrk.out; fail "wrk failed"; }
kill -0 "$REPO_PID" 2>/dev/null || { cat wrk.out; fail "bpk-repo died under load"; }
rss_after=$(rss_kib "$REPO_PID")
cat wrk.out

result=$(grep '^wrk-result ' wrk.out) || fail "wrk printed no result"
field() {
	printf '%s\n' "$result" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
say "requests/s $(field rps), p99 $(field p99_ms) ms, max $(field max_ms) ms," \
	"$(field requests) requests"
say "RSS of bpk-repo: $rss_before KiB after the ${warmup}s warm-up, $rss_after KiB at the end"
[ "$(field requests)" -gt 0 ] || fail "wrk made no request"
[ "$(field status)" = 0 ] || fail "$(field status) answers were not 2xx or 3xx"
for e in connect read write timeout; do
	[ "$(field $e)" = 0 ] || fail "wrk counted $(field $e) socket $e errors"
done
grep -q 'Non-2xx or 3xx responses' wrk.out && fail "wrk reports non-2xx or 3xx responses"
limit=$((rss_before * 12 / 10 + 8192))
[ "$rss_after" -le "$limit" ] ||
	fail "the RSS of bpk-repo grew from $rss_before KiB to $rss_after KiB (limit $limit KiB)"

say "the server still answers, and counted no 5xx"
expect_http 200 GET /metrics
assert_grep '^bpk_repo_http_requests_total\{code="5xx"\} 0$' "$SCRATCH/body"
expect_http 200 GET "/v1/search?q=ratelimit"

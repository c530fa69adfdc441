#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpk-repo under crashes (DESIGN.md §5: "a crash never leaves a visible half package"): 200
# publishes while a loop kills the server with SIGKILL at random moments and starts it again.
# Every acknowledged version must survive with its bytes, nothing visible may lack its blob,
# the signed index must list exactly what the database holds (and never roll back), and the
# store must check clean with nothing left in blobs/tmp. Runs once per storage engine.
# bpk-test: per-engine
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || skip "curl is not installed"
[ -x "$BPK_REPO" ] || skip "bpk-repo is not built"
repo_engine_init
cd "$SCRATCH"
D=$SCRATCH/data
COUNT=${BPK_CRASH_COUNT:-200}
WARMUP=5
# The publisher gives up after this many seconds, whatever is left (the test must end).
DEADLINE=${BPK_CRASH_SECONDS:-150}
START=$SECONDS

say "$COUNT packages: crash 1.0.0 to 1.0.$((COUNT - 1)), each signed"
expect_code 0 "$BPK" key gen -o author
pkg_dir src crash xdp_counter x
expect_code 0 "$BPK" pack src -o base.bpk
mkdir pkgs
# One packed package, its version rewritten (bpk.json lists the same files), then signed.
"$PYTHON3" - base.bpk pkgs "$COUNT" <<'PY' || fail "cannot make the versions"
import io, json, sys, tarfile
src = tarfile.open(sys.argv[1], "r:gz")
files = {m.name: src.extractfile(m).read() for m in src.getmembers()}
for i in range(int(sys.argv[3])):
    man = json.loads(files["bpk.json"])
    man["version"] = "1.0.%d" % i
    files["bpk.json"] = json.dumps(man, indent=2).encode() + b"\n"
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(files[name]))
    open("%s/1.0.%d.bpk" % (sys.argv[2], i), "wb").write(out.getvalue())
PY
ls pkgs/*.bpk | xargs -P 4 -n 1 sh -c '"$0" sign "$1" --key author.pem >/dev/null' "$BPK" ||
	fail "cannot sign the versions"
for f in pkgs/*.bpk; do
	printf '%s %s\n' "$(basename "$f" .bpk)" "$(sha256sum "$f" | cut -d' ' -f1)"
done | sort >local-sha.txt
[ "$(wc -l <local-sha.txt)" = "$COUNT" ] || fail "not $COUNT packages"
# One more version, published after the crashes, to have the index signed again.
sed -i 's/"version": "1.0.0"/"version": "2.0.0"/' src/bpk.json
expect_code 0 "$BPK" pack src -o settle.bpk
expect_code 0 "$BPK" sign settle.bpk --key author.pem
say "made in $((SECONDS - START)) s"

expect_code 0 bpk_repo init --data "$D"
expect_code 0 bpk_repo feed trust public author.pub --data "$D"
expect_code 0 bpk_repo token create --feed public --scope push --data "$D"
PUSH=$(tail -n 1 out)
repo_start "$D"
PORT=$REPO_PORT

# publish VERSION: one attempt; prints the status code (000: no answer).
publish() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 -X PUT \
		--data-binary @"pkgs/$1.bpk" -H "Authorization: Bearer $PUSH" \
		"$REPO_URL/v1/packages" || true
}

say "warm-up: $WARMUP publishes without crashes set how long the server may live"
: >acked.txt
for i in $(seq 0 $((WARMUP - 1))); do
	t0=$EPOCHREALTIME
	[ "$(publish 1.0.$i)" = 201 ] || fail "warm-up publish of 1.0.$i failed"
	echo "1.0.$i" >>acked.txt
	t1=$EPOCHREALTIME
	echo $(((${t1/./} - ${t0/./}) / 1000))
done | sort -n >warmup-ms.txt
# The server lives a random 0..KILL_MS ms: 50 ms as asked, or three publishes if they take
# longer here, so that kills land in every phase of a publish and some publishes get through.
PUBLISH_MS=$(sed -n "$(((WARMUP + 1) / 2))p" warmup-ms.txt)
KILL_MS=$((PUBLISH_MS * 3 > 50 ? PUBLISH_MS * 3 : 50))
[ "$KILL_MS" -le 999 ] || KILL_MS=999
say "a publish takes ${PUBLISH_MS} ms; the server is killed after a random 0..$KILL_MS ms"

# The publisher: each version until it gets an answer (201, or 409 when an earlier attempt was
# committed but its answer lost to a kill), every attempt logged as "VERSION CODE".
publisher() {
	end=$((SECONDS + DEADLINE))
	for i in $(seq $WARMUP $((COUNT - 1))); do
		v=1.0.$i
		for attempt in $(seq 1 200); do
			# Hold still while the crash loop reads the index (it names the pause).
			while [ -e pause ]; do
				cp pause paused.tmp 2>/dev/null && mv paused.tmp paused
				sleep 0.01
			done
			code=$(publish "$v")
			echo "$v $code $attempt" >>attempts.txt
			case $code in
			201) echo "$v" >>acked.txt && break ;;
			000) sleep 0.005 ;;
			*) break ;;
			esac
			[ $SECONDS -lt $end ] || return 0
		done
	done
}
: >attempts.txt
publisher &
PUB_PID=$!
# Its last child (a sleep, a cp) may still run a moment: let it end before the scratch goes.
at_exit "kill $PUB_PID; wait $PUB_PID; sleep 0.2"

# verify_after_crash DIR: `bpk index verify` DIR (fetched from the server just started after a
# crash) with the client state kept across the test, so a rollback is refused too. A crash
# while the index is being signed leaves targets.json (or snapshot.json) of the next version
# beside older files that record another; the start after it must sign the index again.
verify_after_crash() {
	"$BPK" index verify "$1" --state index-state --root "$1/1.root.json" -j >out 2>err || {
		cat err
		fail "after crash $kills the index does not verify"
	}
}

say "crash loop: kill -9 at random moments, start again, check the index never rolls back"
kills=0
mkdir -p index-state
while kill -0 "$PUB_PID" 2>/dev/null; do
	sleep "$(printf '0.%03d' $((RANDOM % (KILL_MS + 1))))"
	repo_kill KILL
	kills=$((kills + 1))
	# Now and then, as a client would, read the index the start after a crash brought up, with
	# the publisher held (the index has no consistent snapshots: a publish between the reads
	# of timestamp.json and snapshot.json would make a mismatch of its own): it must verify
	# against what the client saw before, and list every acknowledged version.
	if [ $((kills % 10)) = 0 ]; then
		echo "$kills" >pause
		repo_start "$D" "$PORT"
		while kill -0 "$PUB_PID" 2>/dev/null && [ "$(cat paused 2>/dev/null)" != "$kills" ]; do
			sleep 0.01
		done
		rm -rf idx-mid && repo_fetch_index /v1/index/ idx-mid
		if verify_after_crash idx-mid; then
			"$PYTHON3" - out acked.txt <<'PY' || fail "after crash $kills the index lacks acknowledged versions"
import json, sys
listed = {t["version"] for t in json.load(open(sys.argv[1]))["targets"]}
missing = set(open(sys.argv[2]).read().split()) - listed
if missing:
    print(" ".join(sorted(missing)))
sys.exit(1 if missing else 0)
PY
		fi
		rm -f pause
	else
		repo_start "$D" "$PORT"
	fi
done
wait "$PUB_PID" || fail "the publisher failed"
say "$kills kills in $((SECONDS - START)) s"

say "one last crash, then a clean start"
repo_kill KILL
repo_start "$D" "$PORT"

say "every attempt got 201, 409 after a lost answer, or no answer"
"$PYTHON3" - attempts.txt <<'PY' || fail "an attempt was answered otherwise"
import collections, sys
seen = collections.defaultdict(list)
for line in open(sys.argv[1]):
    version, code, attempt = line.split()
    seen[version].append(code)
bad = []
for version, codes in seen.items():
    for i, code in enumerate(codes):
        if code in ("201", "000"):
            continue
        # 409 only when an earlier attempt may have been committed without its answer.
        if code == "409" and "000" in codes[:i]:
            continue
        bad.append((version, codes))
for version, codes in bad:
    print("%s: %s" % (version, " ".join(codes)))
sys.exit(1 if bad else 0)
PY
ACKED=$(wc -l <acked.txt)
LOST=$(awk '$2 == "409"' attempts.txt | wc -l)
NONE=$(awk '$2 == "000"' attempts.txt | wc -l)
say "$ACKED acknowledged (201), $LOST committed with the answer lost (409 on retry), $NONE attempts without an answer"
[ "$kills" -ge 10 ] || fail "only $kills kills: the test proves little"
[ "$ACKED" -ge $((WARMUP + 5)) ] || fail "only $ACKED publishes got through the kills"

say "every acknowledged version is listed and downloads with its digest; nothing visible lacks its blob"
expect_http 200 GET /v1/packages/crash
cp "$SCRATCH/body" listed.json
"$PYTHON3" - listed.json acked.txt local-sha.txt "$REPO_URL" <<'PY' || fail "the listed versions are wrong"
import hashlib, json, sys, urllib.request
listed = {v["version"]: v for v in json.load(open(sys.argv[1]))["versions"]}
acked = set(open(sys.argv[2]).read().split())
local = dict(line.split() for line in open(sys.argv[3]))
errors = []
for v in sorted(acked - set(listed)):
    errors.append("%s was acknowledged (201) and is not listed" % v)
for v in sorted(set(listed) - set(local)):
    errors.append("%s is listed and was never published" % v)
for v, rec in sorted(listed.items()):
    if rec["sha256"] != local.get(v) or rec["yanked"]:
        errors.append("%s is listed with sha256 %s (yanked %s), published %s" % (v, rec["sha256"], rec["yanked"], local.get(v)))
    try:
        data = urllib.request.urlopen("%s/v1/packages/crash/%s/package.bpk" % (sys.argv[4], v), timeout=20).read()
    except Exception as e:
        errors.append("%s is listed and does not download: %s" % (v, e))
        continue
    if hashlib.sha256(data).hexdigest() != local.get(v) or len(data) != rec["size"]:
        errors.append("%s downloads other bytes" % v)
for error in errors:
    print(error)
sys.exit(1 if errors else 0)
PY
LISTED=$(json_get listed.json 'len(j["versions"])')
say "$LISTED versions listed"

say "the signed index lists exactly the versions the database has, and has not rolled back"
# same_as_listed VERIFIED: the targets of `bpk index verify -j` are the versions listed.
same_as_listed() {
	[ "$(json_get "$1" 'sorted((t["name"], t["version"], t["sha256"], t["size"], t["yanked"]) for t in j["targets"])')" = \
		"$(json_get listed.json 'sorted(("crash", v["version"], v["sha256"], v["size"], v["yanked"]) for v in j["versions"])')" ]
}
kills=final
repo_fetch_index /v1/index/ idx
if verify_after_crash idx; then
	same_as_listed out || fail "the signed index and the database differ"
fi
# One more publish signs the index again, whatever a crash left: then it must list exactly
# the versions of the database, for a client that has followed the index all along.
expect_http 201 PUT /v1/packages --data-binary @settle.bpk -H "Authorization: Bearer $PUSH"
expect_http 200 GET /v1/packages/crash
cp "$SCRATCH/body" listed.json
grep -q "^2.0.0 " local-sha.txt || echo "2.0.0 $(sha256sum settle.bpk | cut -d' ' -f1)" >>local-sha.txt
rm -rf idx && repo_fetch_index /v1/index/ idx
expect_code 0 "$BPK" index verify idx --state index-state --root idx/1.root.json -j
same_as_listed out || fail "the signed index and the database differ"

say "the audit log records each version's publish once; no orphan blob, nothing in blobs/tmp"
expect_code 0 bpk_repo audit --data "$D" --json
[ "$(json_get out 'sorted(e["subject"] for e in j if e["action"] == "publish")')" = \
	"$(json_get listed.json 'sorted("crash@" + v["version"] for v in j["versions"])')" ] ||
	fail "the audit log's publishes differ from the versions"
[ -z "$(ls -A "$D/blobs/tmp")" ] || fail "blobs/tmp holds $(ls "$D/blobs/tmp" | wc -l) files"
# A crash while the index is written leaves its temporary files (targets.json.tmp.XXXXXX).
leftovers=$(find "$D/index" -name '*.tmp.*' | wc -l)
[ "$leftovers" = 0 ] || fail "$leftovers temporary files are left in $D/index"
find "$D/blobs/sha256" -type f -printf '%f\n' | sort >blobs.txt
json_get listed.json '"\n".join(sorted(set(v["sha256"] for v in j["versions"])))' >want-blobs.txt
cmp -s blobs.txt want-blobs.txt || fail "blobs/sha256 holds $(wc -l <blobs.txt) blobs for $(wc -l <want-blobs.txt) versions"

say "bpk-repo check passes"
repo_kill TERM
expect_code 0 bpk_repo check --data "$D"
assert_grep '^database: ok$' out
assert_grep '^blobs: 0 bad$' out
say "done in $((SECONDS - START)) s"

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpkd with programs from a real bpk-repo: NAME@RANGE resolved through the verified index,
# packages verified against the agent's trust policy, cached by digest (a second load of one
# version downloads nothing), untrusted, unsigned and missing packages refused with a 4xx.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root: network namespaces, XDP and TCX links"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v ping >/dev/null || skip "ping (iputils-ping) is not installed"
command -v curl >/dev/null || skip "curl is not installed"
BPKD=$BPK_TEST_BUILDDIR/daemon/bpkd
TOOL=$BPK_TEST_BUILDDIR/tests/chain-tool
[ -x "$BPKD" ] || fail "$BPKD is not built"
[ -x "$BPK_REPO" ] || fail "$BPK_REPO is not built"
"$TOOL" tcx-probe 2>"$SCRATCH/probe.err" || skip "no TCX here: $(cat "$SCRATCH/probe.err")"

veth_pair 10.240.51
# Everything below talks over the namespace's loopback: bpkd must run where veth-rx is.
inns() { ip netns exec "$NS_RX" "$@"; }

cd "$SCRATCH"
say "a repository (feed public trusts keys ops and other; feed dev takes unsigned packages)"
"$BPK" key gen -o ops >/dev/null 2>&1 && "$BPK" key gen -o other >/dev/null 2>&1 &&
	"$BPK" trust add ops.pub --dir trust >/dev/null 2>&1 || fail "cannot make keys"
"$BPK_REPO" init --data data >/dev/null &&
	"$BPK_REPO" feed trust public ops.pub --data data >/dev/null &&
	"$BPK_REPO" feed trust public other.pub --data data >/dev/null &&
	"$BPK_REPO" feed create dev --allow-unsigned --data data >/dev/null ||
	fail "cannot set up the repository"
"$BPK_REPO" token create --feed public --scope push --data data | tail -1 >public.token &&
	"$BPK_REPO" token create --feed dev --scope push --data data | tail -1 >dev.token ||
	fail "cannot create tokens"
RPORT=$(free_port)
RURL=http://127.0.0.1:$RPORT
ip netns exec "$NS_RX" "$BPK_REPO" serve --data data --listen "127.0.0.1:$RPORT" --threads 2 --no-verify \
	>>repo.log 2>&1 &
RPID=$!
at_exit 'kill -9 $RPID; wait $RPID'
for _ in $(seq 1 100); do
	inns curl -s -o /dev/null --max-time 2 "$RURL/v1/" && break
	kill -0 "$RPID" 2>/dev/null || { cat repo.log; fail "bpk-repo exited"; }
	sleep 0.05
done

# mkpkg NAME VERSION OBJECT PROGRAM KEY|unsigned TOKEN: pack, sign, publish.
mkpkg() {
	d=src-$(echo "$1" | tr / -)-$2
	pkg_dir "$d" "$1" "$3" "$4" &&
		sed -i "s/\"version\": \"1.0.0\"/\"version\": \"$2\"/" "$d/bpk.json" &&
		"$BPK" pack "$d" -o "$d.bpk" >/dev/null 2>"$d.err" || { cat "$d.err"; fail "cannot pack $1@$2"; }
	[ "$5" = unsigned ] || "$BPK" sign "$d.bpk" --key "$5.pem" >/dev/null 2>&1 ||
		fail "cannot sign $1@$2"
	got=$(inns curl -s -o "$d.put" -w '%{http_code}' -X PUT --data-binary "@$d.bpk" \
		-H "Authorization: Bearer $(cat "$6")" "$RURL/v1/packages")
	[ "$got" = 201 ] || { cat "$d.put"; fail "publishing $1@$2 answered $got"; }
}
mkpkg c1 1.0.0 chain_xdp_count xdp_chain_count ops public.token
mkpkg c1 1.1.0 chain_xdp_count xdp_chain_count ops public.token
mkpkg c1 2.0.0 chain_xdp_count xdp_chain_count ops public.token
mkpkg t1 1.0.0 chain_tc_count tc_chain_count ops public.token
mkpkg rogue 1.0.0 chain_xdp_count xdp_chain_count other public.token
mkpkg dev/loose 1.0.0 chain_xdp_count xdp_chain_count unsigned dev.token

downloads() {
	inns curl -s "$RURL/metrics" | sed -n 's/^bpk_repo_downloads_total \([0-9]*\)$/\1/p'
}

# prog NAME SEQ VERSION [ARTIFACT] [REPO_URL] [TYPE]: an l3afd program naming a package.
prog() {
	printf '{"id": %s, "name": "%s", "seq_id": %s, "artifact": "%s", "version": "%s", "admin_status": "enabled", "prog_type": "%s", "ebpf_package_repo_url": "%s", "map_name": "%s"}' \
		"$2" "$1" "$2" "${4:-}" "$3" "${6:-xdp}" "${5:-}" \
		"$([ "${6:-xdp}" = xdp ] && echo count_next)"
}
payload() { # FILE XDP TC
	printf '[{"host_name": "node1", "iface": "veth-rx", "bpf_programs": {"xdp_ingress": [%s], "tc_ingress": [%s]}}]\n' "$2" "$3" >"$1"
}
status() {
	expect_agent 200 GET /v1/status && cp "$SCRATCH/body" "$SCRATCH/status"
}
field() { # NAME KEY: a field of a program in the status
	json_get "$SCRATCH/status" "[p['$2'] for i in j['interfaces'] for h in i['hooks'] for p in h['chain'] if p['name'] == '$1'][0]"
}
ids() {
	json_get "$SCRATCH/status" "' '.join(str(p['prog_id']) for i in j['interfaces'] for h in i['hooks'] for p in h['chain'])"
}
ping_ok() {
	ip netns exec "$NS_TX" ping -q -c 5 -i 0.01 -W 1 10.240.51.2 >"$SCRATCH/ping" 2>&1
}

bpkd_start --repo "$RURL/" -v
TC1="$(prog t1 1 1.0.0 t1.bpk "$RURL" tc)"

say "c1@^1.0 (no artifact, no repository URL) and t1@1.0.0 (artifact t1.bpk, the repository's URL)"
d0=$(downloads)
payload p1.json "$(prog c1 1 '^1.0')" "$TC1"
expect_agent 200 POST /l3af/configs/v1/update p1.json
status
[ "$(field c1 version)" = 1.1.0 ] || fail "c1@^1.0 resolved to $(field c1 version), not 1.1.0"
[ "$(field t1 version)" = 1.0.0 ] || fail "t1 is version $(field t1 version)"
[ "$(field c1 package)" = c1 ] || fail "c1's package is $(field c1 package)"
[ "$(field c1 signer)" != None ] || fail "c1 has no signer"
[ "$(field c1 source)" = "$RURL/v1/packages/c1/1.1.0/package.bpk" ] || fail "c1's source is $(field c1 source)"
json_get status "all(h['running'] for i in j['interfaces'] for h in i['hooks'])" | grep -qx True ||
	{ cat status; fail "a chain does not run"; }
ping_ok || { cat ping; fail "no ping across the chain"; }
n=$("$TOOL" count "$(field c1 pin)/maps/count_packets")
[ "$n" -ge 5 ] || fail "c1 counted $n packets"
d1=$(downloads)
[ "$d1" -eq $((d0 + 2)) ] || fail "two packages took $((d1 - d0)) downloads"
[ -n "$(ls state/cache/packages/*.bpk 2>/dev/null)" ] || fail "no package in state/cache/packages"
[ -s state/repos.d/127.0.0.1-$RPORT.json ] || { ls -R state; fail "--repo was not added to state/repos.d"; }
assert_grep "trusted on first use" bpkd.log

say "the same payload again: nothing reloaded, nothing downloaded"
ids1=$(ids)
expect_agent 200 POST /l3af/configs/v1/update p1.json
status
[ "$(ids)" = "$ids1" ] || fail "a repeated apply reloaded programs"
[ "$(downloads)" -eq "$d1" ] || fail "a repeated apply downloaded"

say "c1 removed, then added again: loaded afresh from the cache, no download"
payload p2.json "" "$TC1"
expect_agent 200 POST /l3af/configs/v1/update p2.json
expect_agent 200 POST /l3af/configs/v1/update p1.json
status
[ "$(field c1 version)" = 1.1.0 ] || fail "c1 is version $(field c1 version)"
[ "$(ids)" != "$ids1" ] || fail "c1 was not loaded again"
[ "$(downloads)" -eq "$d1" ] || fail "loading a cached version again downloaded ($d1 -> $(downloads))"
ping_ok || fail "no ping after c1 came back"

say "kill -9 and restart: the same payload keeps every stage, downloads nothing"
ids2=$(ids)
kill -9 "$BPKD_PID"
wait "$BPKD_PID" 2>/dev/null || true
bpkd_start --repo "$RURL/" -v
expect_agent 200 POST /l3af/configs/v1/update p1.json
status
[ "$(ids)" = "$ids2" ] || fail "after a restart the same payload reloaded ($ids2 -> $(ids))"
[ "$(downloads)" -eq "$d1" ] || fail "after a restart the same payload downloaded"

say "an exact version (1.0.0) is a new stage: one download"
payload p3.json "$(prog c1 1 1.0.0 c1.bpk "$RURL/")" "$TC1"
expect_agent 200 POST /l3af/configs/v1/update p3.json
status
[ "$(field c1 version)" = 1.0.0 ] || fail "c1@1.0.0 is version $(field c1 version)"
[ "$(downloads)" -eq $((d1 + 1)) ] || fail "c1@1.0.0 took $(($(downloads) - d1)) downloads"
ids_good=$(ids)
d2=$(downloads)

say "refused: a package signed by a key bpkd does not trust, an unsigned one, a missing version"
payload bad1.json "$(prog c1 1 1.0.0 c1.bpk "$RURL"), $(prog rogue 2 1.0.0)" "$TC1"
expect_agent 400 POST /l3af/configs/v1/update bad1.json
assert_grep '"code": "package_refused"' body
assert_grep 'rogue' body
assert_grep 'trust|key' body
payload bad2.json "$(prog c1 1 1.0.0 c1.bpk "$RURL"), $(prog loose 2 '' dev/loose)" "$TC1"
expect_agent 400 POST /l3af/configs/v1/update bad2.json
assert_grep '"code": "package_refused"' body
assert_grep 'unsigned' body
payload bad3.json "$(prog c1 1 '^9')" "$TC1"
expect_agent 400 POST /l3af/configs/v1/update bad3.json
assert_grep '"code": "artifact_not_found"' body
assert_grep "c1@\^9" body
payload bad4.json "$(prog c1 1 'not a range!')" "$TC1"
expect_agent 400 POST /l3af/configs/v1/update bad4.json
assert_grep '"code": "invalid_config"' body
status
[ "$(ids)" = "$ids_good" ] || fail "a refused apply changed the chains ($ids_good -> $(ids))"
[ -z "$(find "$PIN/bpk" -name 'rogue@*' -o -name 'loose@*')" ] || fail "a refused apply left pins"
[ -z "$(ls state/fetch 2>/dev/null)" ] || fail "fetched packages are left in state/fetch"
ping_ok || fail "no ping after refused applies"
# The refused packages were downloaded once each to be checked, and are not kept.
[ "$(downloads)" -le $((d2 + 2)) ] || fail "refused packages were downloaded more than once"

say "a repository URL that is not a bpk repository keeps l3afd's layout"
payload l3.json "$(prog c1 1 1.0.0 c1.tar.gz http://127.0.0.1:1/)" ""
expect_agent 400 POST /l3af/configs/v1/update l3.json
assert_grep 'package_refused|--allow-unsigned' body

say "delete: everything goes"
printf '[{"host_name": "node1", "iface": "veth-rx", "bpf_programs": {"xdp_ingress": ["c1"], "tc_ingress": ["t1"]}}]\n' >d.json
expect_agent 200 POST /l3af/configs/v1/delete d.json
[ -z "$(ls -A "$PIN/bpk" 2>/dev/null)" ] || { find "$PIN/bpk"; fail "pins remain after delete"; }
say "ok"

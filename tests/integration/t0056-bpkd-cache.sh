#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpkd's download cache for http(s) artifacts: a .bpk URL and an l3afd-layout archive are
# downloaded once; a re-apply after a delete, or after kill -9 and a restart, asks the server
# with If-Modified-Since and gets a 304, so no bytes move; changed bytes are downloaded again,
# and kept bytes that no longer match their digest are never used.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root: network namespaces and XDP"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v ping >/dev/null || skip "ping (iputils-ping) is not installed"
command -v curl >/dev/null || skip "curl is not installed"
command -v tar >/dev/null || skip "tar is not installed"
BPKD=$BPK_TEST_BUILDDIR/daemon/bpkd
[ -x "$BPKD" ] || fail "$BPKD is not built"

veth_pair 10.240.56

cd "$SCRATCH"
say "artifacts: c1.bpk (signed) and l3afd's www/c2/1.0.0/linux/c2.tar.gz, served over http"
"$BPK" key gen -o ops >/dev/null 2>&1 && "$BPK" trust add ops.pub --dir trust >/dev/null 2>&1 ||
	fail "cannot make a trusted key"
mkdir -p www/c2/1.0.0/linux obj
pkg_dir src-c1 c1 chain_xdp_count xdp_chain_count &&
	"$BPK" pack src-c1 -o www/c1.bpk >/dev/null 2>pack.err &&
	"$BPK" sign www/c1.bpk --key ops.pem >/dev/null 2>&1 || { cat pack.err; fail "cannot make c1.bpk"; }
cp "$BPK_TEST_BPF_DIR/chain_xdp_count.o" obj/c2.o &&
	tar -czf www/c2/1.0.0/linux/c2.tar.gz -C obj c2.o || fail "cannot make c2.tar.gz"

HTTP_PORT=$(free_port)
ip netns exec "$NS_RX" "$PYTHON3" -m http.server --bind 127.0.0.1 --directory "$SCRATCH/www" \
	"$HTTP_PORT" >>http.log 2>&1 &
HTTP_PID=$!
at_exit 'kill $HTTP_PID; wait $HTTP_PID'
for _ in $(seq 1 100); do
	ip netns exec "$NS_RX" curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/c1.bpk" && break
	sleep 0.05
done
WWW=http://127.0.0.1:$HTTP_PORT
# served PATH CODE: how many times the server answered CODE for PATH
served() {
	grep -c "\"GET $1 HTTP/1.1\" $2 " http.log || true
}

printf '[{"host_name": "n", "iface": "veth-rx", "bpf_programs": {"xdp_ingress": [
  {"name": "c1", "seq_id": 1, "artifact": "%s/c1.bpk", "map_name": "count_next", "version": "1.0.0", "admin_status": "enabled", "prog_type": "xdp"},
  {"name": "c2", "seq_id": 2, "artifact": "c2.tar.gz", "ebpf_package_repo_url": "%s", "object_file": "c2.o", "map_name": "count_next", "version": "1.0.0", "admin_status": "enabled", "prog_type": "xdp"}]}}]\n' \
	"$WWW" "$WWW" >apply.json
printf '[{"host_name": "n", "iface": "veth-rx", "bpf_programs": {"xdp_ingress": ["c1", "c2"]}}]\n' >delete.json
runs() {
	ip netns exec "$NS_TX" ping -q -c 3 -i 0.01 -W 1 10.240.56.2 >ping 2>&1 || { cat ping; fail "no ping across c1 c2"; }
	ip netns exec "$NS_RX" curl -s "$AGENT/v1/status" >status &&
		json_get status "[p['name'] for i in j['interfaces'] for h in i['hooks'] for p in h['chain']]" |
		grep -qx "\['c1', 'c2'\]" || { cat status; fail "the chain is not c1 c2"; }
}
# downloads C1_200 C1_304 C2_200 C2_304: what the server answered so far
downloads() {
	got="$(served /c1.bpk 200) $(served /c1.bpk 304) $(served /c2/1.0.0/linux/c2.tar.gz 200) $(served /c2/1.0.0/linux/c2.tar.gz 304)"
	[ "$got" = "$*" ] || { cat http.log; fail "the server answered (c1 200, c1 304, c2 200, c2 304) '$got', expected '$*'"; }
}
: >http.log
bpkd_start --allow-unsigned -v

say "first apply downloads each artifact once"
expect_agent 200 POST /l3af/configs/v1/update apply.json
runs
downloads 1 0 1 0
[ "$(ls state/cache/downloads | grep -c '^[0-9a-f]\{64\}$')" = 2 ] || { ls -l state/cache/downloads; fail "the cache does not keep two blobs"; }

say "delete and apply again: the server answers 304, nothing is downloaded"
expect_agent 200 POST /l3af/configs/v1/delete delete.json
expect_agent 200 POST /l3af/configs/v1/update apply.json
runs
downloads 1 1 1 1

say "kill -9 and restart: re-adoption asks nothing; delete and apply again: 304 only"
kill -9 "$BPKD_PID"
wait "$BPKD_PID" 2>/dev/null || true
bpkd_start --allow-unsigned -v
runs
downloads 1 1 1 1
expect_agent 200 POST /l3af/configs/v1/delete delete.json
expect_agent 200 POST /l3af/configs/v1/update apply.json
runs
downloads 1 2 1 2

say "a newer file is downloaded again; kept bytes that fail their digest are not used"
expect_agent 200 POST /l3af/configs/v1/delete delete.json
"$BPK" sign www/c1.bpk --key ops.pem >/dev/null 2>&1 || fail "cannot sign c1 again"
touch -d "@$(($(date +%s) + 5))" www/c1.bpk
for f in state/cache/downloads/[0-9a-f]*; do
	cmp -s "$f" www/c2/1.0.0/linux/c2.tar.gz && printf 'x' >>"$f"
done
expect_agent 200 POST /l3af/configs/v1/update apply.json
runs
downloads 2 2 2 2
say "ok"

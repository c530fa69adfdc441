#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bpkd over TLS with client certificates (mutual TLS): bpk status and bpk apply with the right
# CA and client certificate work; no client certificate, one from another CA, plain http and an
# unknown server CA are all refused, and a refused apply changes nothing.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root: network namespaces and XDP"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v openssl >/dev/null || skip "openssl is not installed"
command -v curl >/dev/null || skip "curl is not installed"
BPKD=$BPK_TEST_BUILDDIR/daemon/bpkd
[ -x "$BPKD" ] || fail "$BPKD is not built"

veth_pair 10.240.55

cd "$SCRATCH"
say "certificates: a CA, bpkd's (for 127.0.0.1), a client's; another CA and its client"
# cert NAME CN [CA] [EXT...]: NAME.pem and NAME.key, self-signed or issued by CA.
cert() {
	name=$1 cn=$2 ca=${3:-}
	shift 3 2>/dev/null || shift $#
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$name.key" -out "$name.pem" -subj "/CN=$cn" \
		${ca:+-CA "$ca.pem" -CAkey "$ca.key"} "$@" >"openssl-$name.log" 2>&1 ||
		{ cat "openssl-$name.log"; fail "openssl cannot make $name"; }
}
LEAF=(-addext basicConstraints=critical,CA:FALSE)
cert ca bpk-test-ca
cert server 127.0.0.1 ca "${LEAF[@]}" -addext subjectAltName=IP:127.0.0.1
cert client bpk-test-client ca "${LEAF[@]}" -addext extendedKeyUsage=clientAuth
cert other bpk-other-ca
cert stranger bpk-test-client other "${LEAF[@]}" -addext extendedKeyUsage=clientAuth

say "a package: one signed XDP counter"
"$BPK" key gen -o ops >/dev/null 2>&1 && "$BPK" trust add ops.pub --dir trust >/dev/null 2>&1 ||
	fail "cannot make a trusted key"
pkg_dir src-c1 c1 chain_xdp_count xdp_chain_count &&
	"$BPK" pack src-c1 -o c1.bpk >/dev/null 2>pack.err || { cat pack.err; fail "cannot pack c1"; }
"$BPK" sign c1.bpk --key ops.pem >/dev/null 2>&1 || fail "cannot sign c1"
printf '[{"host_name": "node1", "iface": "veth-rx", "bpf_programs": {"xdp_ingress": [{"id": 1, "name": "c1", "seq_id": 1, "artifact": "%s", "map_name": "count_next", "version": "1.0.0", "admin_status": "enabled", "prog_type": "xdp"}], "tc_ingress": [], "tc_egress": [], "probes": []}}]\n' \
	"$SCRATCH/c1.bpk" >p1.json

say "bpkd refuses half a TLS configuration"
expect_code 1 "$BPKD" --tls-cert server.pem --state "$SCRATCH/state0"
assert_grep 'tls-cert and --tls-key go together' err
expect_code 1 "$BPKD" --tls-client-ca ca.pem --state "$SCRATCH/state0"
assert_grep 'tls-client-ca needs' err

PORT=$(free_port)
AGENT=https://127.0.0.1:$PORT
BPKD_PID=""
# The TLS settings come from the configuration file, the rest from the command line.
printf '{"tls_cert": "%s/server.pem", "tls_key": "%s/server.key", "tls_client_ca": "%s/ca.pem"}\n' \
	"$SCRATCH" "$SCRATCH" "$SCRATCH" >bpkd.json
ip netns exec "$NS_RX" "$BPKD" --listen "127.0.0.1:$PORT" --state "$SCRATCH/state" \
	--trust "$SCRATCH/trust" --pin-root "$PIN/bpk" --config "$SCRATCH/bpkd.json" -v \
	>>bpkd.log 2>&1 &
BPKD_PID=$!
at_exit 'kill -9 $BPKD_PID; wait $BPKD_PID'
for _ in $(seq 1 100); do
	ip netns exec "$NS_RX" curl -s -o /dev/null --max-time 2 --cacert ca.pem \
		--cert client.pem --key client.key "$AGENT/v1/status" && break
	kill -0 "$BPKD_PID" 2>/dev/null || { cat bpkd.log; fail "bpkd exited"; }
	sleep 0.05
done
assert_grep "listening on https://127.0.0.1:$PORT, client certificates required" bpkd.log

# bpk_in_ns ARGS...: bpk inside the namespace; out and err in the scratch directory.
bpk_in_ns() {
	ip netns exec "$NS_RX" "$BPK" "$@" >out 2>err
}
MTLS=(--agent "$AGENT" --cacert ca.pem --cert client.pem --key client.key)

say "bpk status over mutual TLS"
bpk_in_ns status "${MTLS[@]}" || { cat err; tail bpkd.log; fail "bpk status over mTLS failed"; }
assert_grep '^bpkd runs nothing$' out

say "without a client certificate: 403"
bpk_in_ns status --agent "$AGENT" --cacert ca.pem && fail "bpk status without --cert succeeded"
assert_grep '^error: bpkd answered 403 to GET /v1/status: a client certificate is required$' err
got=$(ip netns exec "$NS_RX" curl -s -o body -w '%{http_code}' --cacert ca.pem "$AGENT/v1/status")
[ "$got" = 403 ] || fail "curl without a client certificate got $got, expected 403"
assert_grep '"code": "client_certificate_refused"' body

say "a client certificate from another CA: 403"
bpk_in_ns status --agent "$AGENT" --cacert ca.pem --cert stranger.pem --key stranger.key &&
	fail "bpk status with a stranger's certificate succeeded"
assert_grep '^error: bpkd answered 403 to GET /v1/status: the client certificate does not verify' err
bpk_in_ns apply p1.json --agent "$AGENT" --cacert ca.pem --cert stranger.pem --key stranger.key &&
	fail "bpk apply with a stranger's certificate succeeded"
assert_grep "^error: cannot apply 'p1.json': the client certificate does not verify" err
ip -n "$NS_RX" link show veth-rx >link
assert_no_grep 'xdp' link

say "plain http to the TLS port: no answer"
bpk_in_ns status "${MTLS[@]/https:/http:}" && fail "bpk status over plain http succeeded"
assert_grep "^error: cannot reach bpkd at http://127.0.0.1:$PORT: " err

say "a server CA the client does not trust: the client refuses bpkd"
bpk_in_ns status --agent "$AGENT" --cacert other.pem --cert client.pem --key client.key &&
	fail "bpk status trusted a server certificate from an unknown CA"
assert_grep "^error: cannot reach bpkd at $AGENT: .*(certificate|issuer)" err

say "a client key that does not exist: a clear error"
bpk_in_ns status --agent "$AGENT" --cacert ca.pem --cert client.pem --key nosuch.key &&
	fail "bpk status with a missing key succeeded"
assert_grep "^error: cannot reach bpkd at $AGENT: " err

say "bpk apply over mutual TLS: c1 attached"
bpk_in_ns apply p1.json "${MTLS[@]}" || { cat err; tail bpkd.log; fail "bpk apply over mTLS failed"; }
bpk_in_ns status "${MTLS[@]}" || { cat err; fail "bpk status after apply failed"; }
cp out bpk-status
assert_grep '^veth-rx xdp_ingress  mechanism tail_call$' bpk-status
assert_grep '^  1 +c1 +id [0-9]+ +c1@1.0.0 +signer [0-9a-f]{16} ' bpk-status
ip -n "$NS_RX" link show veth-rx >link
assert_grep 'xdp' link

say "bpk detach over mutual TLS"
bpk_in_ns detach veth-rx "${MTLS[@]}" || { cat err; fail "bpk detach over mTLS failed"; }
ip -n "$NS_RX" link show veth-rx >link
assert_no_grep 'xdp' link
say "ok"

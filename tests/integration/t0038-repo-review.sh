#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Publish-time review (issue 6): every package is loaded into the verifier and its tests run;
# the record is kept with the version, and a feed with --require-verified refuses a package
# the verifier rejects, with the verifier's reason. Without BPF privileges: "not verified here".
# bpk-test: per-engine
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "loading programs into the verifier needs root"
command -v curl >/dev/null || skip "curl is not installed"
repo_engine_init
cd "$SCRATCH"

say "a repository with a feed that requires verified packages"
"$BPK" key gen -o dev >/dev/null &&
	bpk_repo init --data data >/dev/null &&
	bpk_repo feed trust public dev.pub --data data >/dev/null &&
	bpk_repo feed create strict --require-verified --data data >/dev/null &&
	bpk_repo feed trust strict dev.pub --data data >/dev/null || fail "cannot set up the repository"
PUB=$(bpk_repo token create --feed public --scope push --data data | tail -1)
STRICT=$(bpk_repo token create --feed strict --scope push --data data | tail -1)
repo_start data

# good: xdp_count with one real case; bad: a program the verifier refuses.
pkg_dir good strict/counter xdp_counter xdp_count
cat >good/tests/t.json <<'JSON'
{"program": "xdp_count", "cases": [
  {"name": "passes every packet", "packet_hex": "ffffffffffff020000000001080045000014000000004006000000000000000000000000",
   "expect": {"retval": "XDP_PASS"}}]}
JSON
pkg_dir bad strict/unbounded xdp_unbounded xdp_unbounded
pkg_dir bad-public unbounded xdp_unbounded xdp_unbounded
for p in good bad bad-public; do
	"$BPK" pack "$p" -o "$p.bpk" >/dev/null && "$BPK" sign "$p.bpk" --key dev.pem >/dev/null ||
		fail "cannot make package $p"
done

say "a verified package is published with its record"
expect_http 201 PUT /v1/packages --data-binary @good.bpk -H "Authorization: Bearer $STRICT"
expect_http 200 GET /v1/packages/strict/counter/1.0.0
json_get "$SCRATCH/body" 'j["verified"]["status"]' | grep -qx verified || fail "not recorded as verified"
json_get "$SCRATCH/body" 'j["verified"]["summary"]' >summary
assert_grep "^verified and tested on Linux [^ ]+ [^ ]+: 1/1 cases$" summary
json_get "$SCRATCH/body" 'j["verified"]["programs"][0]["verified_insns"] > 0' | grep -qx True ||
	fail "the record has no verified instruction count"

say "the strict feed refuses a program the verifier rejects, quoting the verifier"
expect_error 400 invalid_package PUT /v1/packages --data-binary @bad.bpk -H "Authorization: Bearer $STRICT"
json_get "$SCRATCH/body" 'j["error"]["message"]' >message
assert_fgrep "feed 'strict' requires verified packages: program 'xdp_unbounded'" message
assert_grep "invalid access to packet|R[0-9] " message
expect_error 404 not_found GET /v1/packages/strict/unbounded

say "a feed without the requirement publishes it, recorded as failed"
expect_http 201 PUT /v1/packages --data-binary @bad-public.bpk -H "Authorization: Bearer $PUB"
expect_http 200 GET /v1/packages/unbounded/1.0.0
json_get "$SCRATCH/body" 'j["verified"]["status"]' | grep -qx failed || fail "not recorded as failed"
json_get "$SCRATCH/body" 'j["verified"]["programs"][0]["error"]' >why
assert_fgrep "the verifier refused it" why

say "without BPF privileges the record says 'not verified here', and the strict feed refuses"
repo_kill
command -v setpriv >/dev/null || skip "setpriv is not installed"
chown -R 65534:65534 data
REPO_SERVE_ARGS= BPK_REPO_SAVED=$BPK_REPO
# Run the server as nobody: the kernel refuses it bpf(BPF_PROG_LOAD). nobody may not reach
# the build directory (a checkout under a 0700 directory), so the binary and libbpk are copied
# into the scratch directory it can read.
mkdir -p nobody/lib && cp "$BPK_REPO" nobody/ &&
	find "$BPK_TEST_BUILDDIR/lib" -maxdepth 1 -name 'libbpk.so*' ! -type d \
		-exec cp -P {} nobody/lib/ \; || fail "cannot copy bpk-repo for nobody"
cat >as-nobody <<SH
#!/bin/sh
exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \\
	env LD_LIBRARY_PATH="$SCRATCH/nobody/lib" "$SCRATCH/nobody/bpk-repo" "\$@"
SH
chmod 755 as-nobody
chmod -R a+rX nobody
chmod 755 "$SCRATCH"
BPK_REPO=$SCRATCH/as-nobody
repo_start data
sed -i 's/"version": "1.0.0"/"version": "1.0.1"/' good/bpk.json bad-public/bpk.json
for p in good bad-public; do
	"$BPK" pack "$p" -o "$p-2.bpk" >/dev/null && "$BPK" sign "$p-2.bpk" --key dev.pem >/dev/null ||
		fail "cannot make package $p 1.0.1"
done
expect_http 201 PUT /v1/packages --data-binary @bad-public-2.bpk -H "Authorization: Bearer $PUB"
expect_http 200 GET /v1/packages/unbounded/1.0.1
json_get "$SCRATCH/body" 'j["verified"]["status"]' | grep -qx "not verified here" ||
	fail "an unprivileged repository did not say 'not verified here'"
expect_error 400 invalid_package PUT /v1/packages --data-binary @good-2.bpk -H "Authorization: Bearer $STRICT"
assert_fgrep "requires verified packages" "$SCRATCH/body"
BPK_REPO=$BPK_REPO_SAVED
say ok

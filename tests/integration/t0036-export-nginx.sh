#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The static read path: publish to a real bpk-repo, `bpk-repo export` the tree, serve it with
# nginx, and check that the mirror serves the same bytes, that its index verifies, that a
# private feed stays out unless --include-private, and that a client installs from the mirror.
# bpk-test: per-engine
. "$(dirname "$0")/lib.sh"

NGINX=$(command -v nginx || command -v /usr/sbin/nginx || true)
[ -n "$NGINX" ] || skip "nginx is not installed (Debian: nginx-light): it serves the export"
command -v curl >/dev/null || skip "curl is not installed: it talks to the servers"
repo_engine_init
cd "$SCRATCH"

# start_nginx ROOT: serve the directory ROOT with nginx on a free port, with every path it
# writes under $SCRATCH/nginx; sets NGINX_URL, stopped at exit.
start_nginx() {
	local port prefix=$SCRATCH/nginx user=
	port=$(free_port)
	mkdir -p "$prefix"
	# As root the workers would drop to nobody, who cannot enter the 0700 scratch directory.
	[ "$(id -u)" -ne 0 ] || user="user root;"
	cat >"$prefix/nginx.conf" <<CONF
daemon off;
$user
worker_processes 2;
pid $prefix/nginx.pid;
error_log $prefix/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $prefix/body;
	proxy_temp_path $prefix/proxy;
	fastcgi_temp_path $prefix/fastcgi;
	uwsgi_temp_path $prefix/uwsgi;
	scgi_temp_path $prefix/scgi;
	types { application/json json; application/gzip gz; application/vnd.bpk bpk; }
	default_type application/octet-stream;
	sendfile on;
	server {
		listen 127.0.0.1:$port;
		root $1;
		# GET /v1/ is the service index, if the export wrote one.
		index index.json;
	}
}
CONF
	"$NGINX" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" &
	local pid=$!
	at_exit "kill $pid"
	NGINX_URL=http://127.0.0.1:$port
	for _ in $(seq 1 200); do
		curl -s -o /dev/null --max-time 2 "$NGINX_URL/" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$prefix/error.log" >&2
	fail "nginx does not answer on $NGINX_URL"
}

# publish FILE TOKEN: PUT FILE to the repository, which must answer 201.
publish() {
	expect_http 201 PUT /v1/packages --data-binary "@$1" -H "Authorization: Bearer $2"
}

# same_bytes PATH: bpk-repo and nginx serve the same bytes at PATH, with status 200.
same_bytes() {
	local f
	f=$(printf %s "$1" | tr / _)
	curl -fsS -o "from-repo$f" "$REPO_URL$1" || fail "bpk-repo does not serve $1"
	curl -fsS -o "from-nginx$f" "$NGINX_URL$1" || fail "nginx does not serve $1 from the export"
	[ -s "from-repo$f" ] || fail "$1 is empty"
	cmp -s "from-repo$f" "from-nginx$f" || fail "nginx serves other bytes than bpk-repo at $1"
}

say "a repository with three public packages and one in a private feed"
expect_code 0 "$BPK" key gen -o author
expect_code 0 bpk_repo init --data data
expect_code 0 bpk_repo feed trust public author.pub --data data
expect_code 0 bpk_repo feed create acme --private --data data
expect_code 0 bpk_repo feed trust acme author.pub --data data
expect_code 0 bpk_repo token create --feed public --scope push --data data
push_public=$(tail -n 1 out)
expect_code 0 bpk_repo token create --feed acme --scope push --data data
push_acme=$(tail -n 1 out)
make_signed_pkg ratelimit-1.0.0 ratelimit 1.0.0 author.pem
make_signed_pkg ratelimit-1.1.0 ratelimit 1.1.0 author.pem
make_signed_pkg pktclass-0.3.0 pktclass 0.3.0 author.pem
make_signed_pkg acme-secret-2.0.0 acme/secret 2.0.0 author.pem
repo_start data
publish ratelimit-1.0.0.bpk "$push_public"
publish ratelimit-1.1.0.bpk "$push_public"
publish pktclass-0.3.0.bpk "$push_public"
publish acme-secret-2.0.0.bpk "$push_acme"
expect_http 200 GET /v1/
cp "$SCRATCH/body" service.json
root_keyid=$(json_get service.json 'j["root_keyid"]')
[[ $root_keyid =~ ^[0-9a-f]{64}$ ]] || fail "GET /v1/ gives no root_keyid"

say "export writes the public read path, and nothing of the private feed"
expect_code 0 bpk_repo export static --data data
assert_fgrep "exported the read path to 'static'" out
for f in v1/index/root.json v1/index/1.root.json v1/index/timestamp.json \
	v1/index/snapshot.json v1/index/targets.json v1/packages/ratelimit/1.0.0/package.bpk \
	v1/packages/ratelimit/1.1.0/package.bpk v1/packages/pktclass/0.3.0/package.bpk \
	ratelimit/1.0.0/ratelimit.tar.gz ratelimit/1.1.0/ratelimit.tar.gz \
	pktclass/0.3.0/pktclass.tar.gz; do
	[ -s "static/$f" ] || fail "the export has no $f"
done
[ ! -e static/acme ] && [ ! -e static/v1/feeds/acme ] && [ ! -e static/v1/packages/acme ] ||
	fail "the export holds the private feed acme without --include-private"
grep -rlq 'acme' static && fail "a file of the export names the private feed acme"
cmp -s static/v1/packages/ratelimit/1.0.0/package.bpk ratelimit-1.0.0.bpk ||
	fail "the exported package differs from the published one"

say "--include-private exports the private feed too"
expect_code 0 bpk_repo export static-all --include-private --data data
for f in v1/feeds/acme/index/root.json v1/feeds/acme/index/timestamp.json \
	v1/feeds/acme/index/snapshot.json v1/feeds/acme/index/targets.json \
	v1/packages/acme/secret/2.0.0/package.bpk acme/secret/2.0.0/secret.tar.gz \
	v1/packages/ratelimit/1.1.0/package.bpk; do
	[ -s "static-all/$f" ] || fail "the export with --include-private has no $f"
done
cmp -s static-all/v1/packages/acme/secret/2.0.0/package.bpk acme-secret-2.0.0.bpk ||
	fail "the exported private package differs from the published one"
expect_code 0 "$BPK" index verify static-all/v1/feeds/acme/index --state state-acme \
	--root static-all/v1/feeds/acme/index/1.root.json
assert_fgrep "1 package" out

say "nginx serves the export with the same bytes as bpk-repo"
start_nginx "$SCRATCH/static"
for f in root 1.root timestamp snapshot targets; do
	same_bytes "/v1/index/$f.json"
done
for p in ratelimit/1.0.0 ratelimit/1.1.0 pktclass/0.3.0; do
	same_bytes "/v1/packages/$p/package.bpk"
	same_bytes "/$p/${p%%/*}.tar.gz"
done
tar -tzf from-nginx_ratelimit_1.0.0_ratelimit.tar.gz >tgz.list ||
	fail "the l3afd artifact is not a gzip tar"
assert_grep '^(\./)?xdp_counter\.o$' tgz.list
assert_grep '^(\./)?bpk\.json$' tgz.list
code=$(curl -s -o /dev/null -w '%{http_code}' \
	"$NGINX_URL/v1/packages/acme/secret/2.0.0/package.bpk")
[ "$code" = 404 ] || fail "the mirror answers $code for a private package, not 404"
expect_http 404 GET /v1/packages/acme/secret/2.0.0/package.bpk

say "the index as nginx serves it verifies, and so do the packages against it"
mkdir -p mirror-index
for f in root 1.root timestamp snapshot targets; do
	cp "from-nginx_v1_index_$f.json" "mirror-index/$f.json"
done
# The trust anchor comes from bpk-repo, not from the mirror: its root key must be GET /v1/'s.
cp "from-repo_v1_index_1.root.json" trusted-root.json
assert_fgrep "$root_keyid" trusted-root.json
expect_code 0 "$BPK" index verify mirror-index --state state --root trusted-root.json
assert_grep "^verified 'mirror-index': root version 1, .*; 3 packages" out
expect_code 0 "$BPK" index check mirror-index --state state \
	from-nginx_v1_packages_ratelimit_1.0.0_package.bpk \
	from-nginx_v1_packages_ratelimit_1.1.0_package.bpk \
	from-nginx_v1_packages_pktclass_0.3.0_package.bpk
assert_fgrep "ratelimit@1.1.0 matches the index" out
expect_code 0 "$BPK" index verify static/v1/index --state state-export --root trusted-root.json
assert_fgrep "3 packages" out
# A package the index does not list is refused.
expect_code 1 "$BPK" index check mirror-index --state state acme-secret-2.0.0.bpk

say "export refuses a directory that is not empty (include/bpk/repo.h)"
expect_code 1 bpk_repo export static --data data

say "a client adds the mirror as a repository and installs from it"
"$BPK" repo --help >/dev/null 2>&1 && "$BPK" install --help >/dev/null 2>&1 ||
	skip "every check above passed; 'bpk repo' and 'bpk install' are not built yet"
[ -f static/v1/index.json ] ||
	skip "every check above passed; the export has no service index (v1/index.json)" \
		"for GET /v1/, which 'bpk repo add' reads"
export BPK_CONFIG_DIR=$SCRATCH/config BPK_CACHE_DIR=$SCRATCH/cache
mkdir -p trust.d
expect_code 0 "$BPK" trust add author.pub --dir trust.d
expect_code 0 "$BPK" repo add mirror "$NGINX_URL" --key "$root_keyid"
expect_code 0 "$BPK" install ratelimit@1.0.0 --root installed --trust trust.d
[ -f installed/ratelimit/1.0.0/bpf/xdp_counter.o ] || fail "install wrote no ratelimit 1.0.0"
cmp -s installed/ratelimit/1.0.0/bpf/xdp_counter.o ratelimit-1.0.0/bpf/xdp_counter.o ||
	fail "the installed object differs from the packed one"
expect_code 0 "$BPK" install ratelimit --root installed --trust trust.d
[ -f installed/ratelimit/1.1.0/bpk.json ] ||
	fail "install of 'ratelimit' did not pick 1.1.0, the newest"

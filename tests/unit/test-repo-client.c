// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the repository client against a small libmicrohttpd server run by the test. */
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include <cmocka.h>

#include "test-util.h"
#include "test-manifest.h"

/* Included, so that the fetch callback and the other static pieces can be reached. */
#include "../../lib/repo_client.c"

/* ---- a repository made of files, served by libmicrohttpd ---- */

/* An answer set by a test for one method and path, before the files are looked at. */
struct canned {
	char method[8];
	char path[256];
	unsigned int status;
	char *body;
};

struct server {
	struct MHD_Daemon *daemon;
	char root[256]; /* the files: URL /v1/x is ROOT/v1/x, URL /v1/ is ROOT/v1/index.json */
	char url[64];
	pthread_mutex_t lock;
	struct canned canned[8];
	size_t canned_cnt;
	bool ignore_range;
	/* Feeds whose index needs "Authorization: Bearer <feed_token>". */
	char private_feed[32];
	char feed_token[64];
	/* What the last requests carried. */
	char last_auth[128];
	char last_range[64];
	size_t requests;
	size_t put_len;
};

struct upload {
	size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const void *data,
			     size_t len, const char *type)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned int status,
				   const char *code)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s here\"}}", code,
		 code);
	return reply(conn, status, body, strlen(body), "application/json");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct server *s = cls;
	const char *auth, *range;
	char *path, feed_prefix[64];
	const char *suffix;
	int err;
	char *data = NULL;
	size_t len, i;
	unsigned long long from;
	enum MHD_Result ret;

	if (!strcmp(method, "PUT")) {
		struct upload *u = *con_cls;

		if (!u) {
			*con_cls = calloc(1, sizeof(*u));
			return *con_cls ? MHD_YES : MHD_NO;
		}
		if (*upload_data_size) {
			u->len += *upload_data_size;
			*upload_data_size = 0;
			return MHD_YES;
		}
		pthread_mutex_lock(&s->lock);
		s->put_len = u->len;
		pthread_mutex_unlock(&s->lock);
		free(u);
		*con_cls = NULL;
	}
	pthread_mutex_lock(&s->lock);
	s->requests++;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Range");
	snprintf(s->last_auth, sizeof(s->last_auth), "%s", auth ?: "");
	snprintf(s->last_range, sizeof(s->last_range), "%s", range ?: "");
	for (i = 0; i < s->canned_cnt; i++) {
		struct canned *c = &s->canned[i];

		if (!strcmp(c->method, method) && !strcmp(c->path, url)) {
			unsigned int status = c->status;
			char *body = strdup(c->body);

			pthread_mutex_unlock(&s->lock);
			ret = reply(conn, status, body, strlen(body), "application/json");
			free(body);
			return ret;
		}
	}
	snprintf(feed_prefix, sizeof(feed_prefix), "/v1/feeds/%s/", s->private_feed);
	if (s->private_feed[0] && !strncmp(url, feed_prefix, strlen(feed_prefix))) {
		char want[96];

		snprintf(want, sizeof(want), "Bearer %s", s->feed_token);
		if (!auth || strcmp(auth, want)) {
			pthread_mutex_unlock(&s->lock);
			return reply_error(conn, 404, "not_found");
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (strcmp(method, "GET"))
		return reply_error(conn, 405, "method_not_allowed");
	suffix = *url && url[strlen(url) - 1] == '/' ? "index.json" : "";
	path = xasprintf("%s%s%s", s->root, url, suffix);
	err = path && !strstr(url, "..") ? read_file(path, 64 << 20, &data, &len) : -ENOENT;
	free(path);
	if (err)
		return reply_error(conn, 404, "not_found");
	if (range && !s->ignore_range && sscanf(range, "bytes=%llu-", &from) == 1 && from < len) {
		struct MHD_Response *resp = MHD_create_response_from_buffer(
			len - from, data + from, MHD_RESPMEM_MUST_COPY);
		char cr[96];

		snprintf(cr, sizeof(cr), "bytes %llu-%zu/%zu", from, len - 1, len);
		MHD_add_response_header(resp, "Content-Range", cr);
		ret = MHD_queue_response(conn, MHD_HTTP_PARTIAL_CONTENT, resp);
		MHD_destroy_response(resp);
	} else {
		ret = reply(conn, 200, data, len, "application/octet-stream");
	}
	free(data);
	return ret;
}

static void server_can(struct server *s, const char *method, const char *path,
		       unsigned int status, const char *body)
{
	struct canned *c;
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->canned_cnt; i++)
		if (!strcmp(s->canned[i].method, method) && !strcmp(s->canned[i].path, path))
			break;
	if (i == s->canned_cnt) {
		assert_true(s->canned_cnt < ARRAY_SIZE(s->canned));
		s->canned_cnt++;
	}
	c = &s->canned[i];
	snprintf(c->method, sizeof(c->method), "%s", method);
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->status = status;
	free(c->body);
	c->body = strdup(body);
	assert_non_null(c->body);
	pthread_mutex_unlock(&s->lock);
}

/* ---- the fixture: keys, packages, a signed index per feed ---- */

static const char readme[] = "# demo\n\nA demonstration package that drops nothing.\n";
static const char object[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\xf7\0binary\0data";

struct fixture {
	char dir[64];
	char config[128], cache[128], trust[128], out[128];
	struct server server;
	EVP_PKEY *index_key, *other_key;
	char *index_pem, *other_pem;
	char index_keyid[65], other_keyid[65];
	struct bpk_key *signer;
	struct bpk_index *public_index, *acme_index;
	struct bpk_repo_client *client;
};

/* A package name@version, signed by key unless it is NULL. Caller frees. */
static void *make_pkg(const char *name, const char *version, const struct bpk_key *key,
		      size_t *ret_len)
{
	struct bpk_pkg_entry entries[] = {
		{ "README.md", readme, sizeof(readme) - 1, false },
		{ "bpf/demo.o", object, sizeof(object) - 1, false },
		{ BPK_MANIFEST_PATH, NULL, 0, false },
	};
	/* The manifest lists the files before it. */
	char *manifest = test_manifest(name, version, entries, ARRAY_SIZE(entries) - 1);
	struct bpk_error error = BPK_ERROR_INIT;
	void *buf = NULL, *signed_buf = NULL;
	size_t len, signed_len;

	entries[2].data = manifest;
	entries[2].size = strlen(manifest);
	assert_int_equal(bpk_pkg__write_mem(entries, ARRAY_SIZE(entries), &buf, &len), 0);
	free(manifest);
	if (!key) {
		*ret_len = len;
		return buf;
	}
	assert_int_equal(bpk_sign__mem(buf, len, key, &error, &signed_buf, &signed_len), 0);
	free(buf);
	*ret_len = signed_len;
	return signed_buf;
}

static char *fpath(struct fixture *f, const char *rel)
{
	char *p = xasprintf("%s/srv%s", f->dir, rel);

	assert_non_null(p);
	return p;
}

static void put_file(struct fixture *f, const char *rel, const void *data, size_t len)
{
	char *path = fpath(f, rel), *slash;

	slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(mkdir_p(path, 0755), 0);
	*slash = '/';
	assert_int_equal(write_file_atomic(path, data, len, 0644), 0);
	free(path);
}

/* Publish name@version into index (feed dir feed_dir), the bytes served at the download URL. */
static void publish_pkg(struct fixture *f, struct bpk_index *index, const char *name,
			const char *version, bool yanked, bool sign)
{
	size_t len;
	void *data = make_pkg(name, version, sign ? f->signer : NULL, &len);
	char hex[65], *rel;
	struct bpk_index_target t = { .name = name, .version = version, .size = len,
				      .yanked = yanked };

	assert_int_equal(bpk_sha256_hex(data, len, hex), 0);
	t.sha256 = hex;
	if (bpk_index__add_target(index, &t))
		fail_msg("add_target: %s", bpk_index__errstr(index));
	if (bpk_index__publish(index))
		fail_msg("publish: %s", bpk_index__errstr(index));
	rel = xasprintf("/v1/packages/%s/%s/package.bpk", name, version);
	put_file(f, rel, data, len);
	free(rel);
	free(data);
}

static struct bpk_index *create_index(struct fixture *f, const char *rel)
{
	BPK_OPTS(bpk_index_opts, opts);
	struct bpk_index *idx = bpk_index__new(&opts);
	char *dir = fpath(f, rel);
	int role;

	assert_non_null(idx);
	for (role = 0; role < BPK_INDEX_ROLE_CNT; role++)
		assert_int_equal(bpk_index__add_key(idx, (enum bpk_index_role)role, f->index_pem,
						    strlen(f->index_pem)),
				 0);
	if (bpk_index__create(idx, dir))
		fail_msg("create: %s", bpk_index__errstr(idx));
	free(dir);
	return idx;
}

static void service_index(struct fixture *f, const char *keyid)
{
	char *text = xasprintf("{\"api\":1,\"server\":\"test\",\"root_keyid\":\"%s\"}", keyid);

	put_file(f, "/v1/index.json", text, strlen(text));
	free(text);
}

static struct bpk_repo_client *new_client(struct fixture *f)
{
	BPK_OPTS(bpk_repo_client_opts, opts, .config_dir = f->config, .cache_dir = f->cache,
		 .timeout = 5);
	struct bpk_repo_client *c = bpk_repo_client__new(&opts);

	assert_non_null(c);
	return c;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct bpk_error error = BPK_ERROR_INIT;
	const union MHD_DaemonInfo *info;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/bpk-test-repo-client.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->config, sizeof(f->config), "%s/config", f->dir);
	snprintf(f->cache, sizeof(f->cache), "%s/cache", f->dir);
	snprintf(f->trust, sizeof(f->trust), "%s/trust.d", f->dir);
	snprintf(f->out, sizeof(f->out), "%s/out", f->dir);
	assert_int_equal(mkdir(f->out, 0755), 0);
	bpk_set_print(NULL);

	f->index_key = bpk_ed25519_generate();
	f->other_key = bpk_ed25519_generate();
	assert_non_null(f->index_key);
	assert_non_null(f->other_key);
	f->index_pem = bpk_key_to_pem(f->index_key, true, NULL);
	f->other_pem = bpk_key_to_pem(f->other_key, true, NULL);
	assert_int_equal(bpk_key_id(f->index_key, f->index_keyid), 0);
	assert_int_equal(bpk_key_id(f->other_key, f->other_keyid), 0);
	f->signer = bpk_key__generate();
	assert_non_null(f->signer);
	assert_int_equal(bpk_trust__add(f->trust, f->signer, NULL, &error, NULL), 0);

	f->public_index = create_index(f, "/v1/index");
	f->acme_index = create_index(f, "/v1/feeds/acme/index");
	service_index(f, f->index_keyid);
	publish_pkg(f, f->public_index, "demo", "1.0.0", false, true);
	publish_pkg(f, f->public_index, "demo", "1.1.0", false, true);
	publish_pkg(f, f->public_index, "demo", "1.2.0", true, true);
	publish_pkg(f, f->public_index, "demo", "2.0.0-rc.1", false, true);
	publish_pkg(f, f->public_index, "loose", "0.1.0", false, false);
	publish_pkg(f, f->acme_index, "acme/tool", "0.3.0", false, true);

	pthread_mutex_init(&f->server.lock, NULL);
	snprintf(f->server.root, sizeof(f->server.root), "%s/srv", f->dir);
	f->server.daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle,
					    &f->server, MHD_OPTION_END);
	assert_non_null(f->server.daemon);
	info = MHD_get_daemon_info(f->server.daemon, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	snprintf(f->server.url, sizeof(f->server.url), "http://127.0.0.1:%u", info->port);
	f->client = new_client(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	size_t i;

	bpk_repo_client__free(f->client);
	MHD_stop_daemon(f->server.daemon);
	for (i = 0; i < f->server.canned_cnt; i++)
		free(f->server.canned[i].body);
	pthread_mutex_destroy(&f->server.lock);
	bpk_index__free(f->public_index);
	bpk_index__free(f->acme_index);
	EVP_PKEY_free(f->index_key);
	EVP_PKEY_free(f->other_key);
	free(f->index_pem);
	free(f->other_pem);
	bpk_key__free(f->signer);
	test_rm_rf(f->dir);
	free(f);
	return 0;
}

static void assert_contains(const char *s, const char *want)
{
	if (!s || !strstr(s, want))
		print_message("'%s' does not contain '%s'\n", s ?: "(null)", want);
	assert_non_null(s);
	assert_non_null(strstr(s, want));
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static const struct bpk_repo *add_repo(struct fixture *f, const char *name, const char *key)
{
	BPK_OPTS(bpk_repo_add_opts, opts, .key = key);
	const struct bpk_repo *repo = NULL;
	int err = bpk_repo_client__add(f->client, name, f->server.url, &opts, &repo);

	if (err)
		fail_msg("add: %s", bpk_repo_client__errstr(f->client));
	assert_non_null(repo);
	return repo;
}

/* ---- tests ---- */

static void test_names(void **state)
{
	char *feed;

	assert_true(bpk_repo_name__valid("main"));
	assert_true(bpk_repo_name__valid("a-b.c_9"));
	assert_false(bpk_repo_name__valid(""));
	assert_false(bpk_repo_name__valid("Main"));
	assert_false(bpk_repo_name__valid("a/b"));
	assert_false(bpk_repo_name__valid("-a"));
	assert_false(bpk_repo_name__valid(NULL));
	feed = bpk_repo_name__feed("acme/tool");
	assert_string_equal(feed, "acme");
	free(feed);
	feed = bpk_repo_name__feed("tool");
	assert_string_equal(feed, "public");
	free(feed);
	assert_true(bpk_repo_spec__valid("demo"));
	assert_true(bpk_repo_spec__valid("acme/tool@^1.2"));
	assert_true(bpk_repo_spec__valid("demo@>=1.0.0 <2.0.0"));
	assert_false(bpk_repo_spec__valid("demo@"));
	assert_false(bpk_repo_spec__valid("Demo"));
	assert_false(bpk_repo_spec__valid("demo@latest"));
	assert_false(bpk_repo_spec__valid(NULL));

	char *u = normalize_url("https://repo.example.com//");
	assert_string_equal(u, "https://repo.example.com");
	free(u);
	assert_null(normalize_url("ftp://x"));
	assert_null(normalize_url("http://"));
	assert_null(normalize_url("http://a b"));
	assert_null(normalize_url("http://a/?q=1"));
}

static void test_add_tofu_list_remove(void **state)
{
	struct fixture *f = *state;
	const struct bpk_repo *repo = add_repo(f, "main", NULL);
	char *file = xasprintf("%s/repos.d/main.json", f->config);
	char *ts = xasprintf("%s/index/main/public/timestamp.json", f->cache);
	struct bpk_repo_client *again;

	assert_false(bpk_repo__key_pinned(repo));
	assert_string_equal(bpk_repo__root_keyid(repo), f->index_keyid);
	assert_string_equal(bpk_repo__url(repo), f->server.url);
	assert_null(bpk_repo__token_file(repo));
	assert_string_equal(bpk_repo__file(repo), file);
	assert_true(exists(file));
	/* The add verified the public index, so its state is there. */
	assert_true(exists(ts));

	/* Another client reads the same configuration. */
	again = new_client(f);
	assert_int_equal(bpk_repo_client__load_config(again), 0);
	assert_int_equal(bpk_repo_client__repo_cnt(again), 1);
	repo = bpk_repo_client__find_repo(again, "main");
	assert_non_null(repo);
	assert_string_equal(bpk_repo__root_keyid(repo), f->index_keyid);
	assert_null(bpk_repo_client__find_repo(again, "other"));

	/* A name is added once, unless forced. */
	BPK_OPTS(bpk_repo_add_opts, opts);
	assert_int_equal(bpk_repo_client__add(again, "main", f->server.url, &opts, NULL), -EEXIST);
	assert_contains(bpk_repo_client__errstr(again), "already configured");
	opts.force = true;
	assert_int_equal(bpk_repo_client__add(again, "main", f->server.url, &opts, NULL), 0);

	assert_int_equal(bpk_repo_client__remove(again, "main"), 0);
	assert_false(exists(file));
	assert_false(exists(ts));
	assert_int_equal(bpk_repo_client__repo_cnt(again), 0);
	assert_int_equal(bpk_repo_client__remove(again, "main"), -ENOENT);
	bpk_repo_client__free(again);
	free(file);
	free(ts);
}

static void test_add_pinned_key(void **state)
{
	struct fixture *f = *state;
	BPK_OPTS(bpk_repo_add_opts, opts);
	char prefix[9], upper[65];
	const struct bpk_repo *repo;
	size_t i;

	/* A prefix of 8 hex digits, in either case. */
	memcpy(prefix, f->index_keyid, 8);
	prefix[8] = '\0';
	repo = add_repo(f, "pinned", prefix);
	assert_true(bpk_repo__key_pinned(repo));
	for (i = 0; i < 65; i++)
		upper[i] = (char)toupper((unsigned char)f->index_keyid[i]);
	add_repo(f, "upper", upper);

	opts.key = f->other_keyid;
	assert_int_equal(bpk_repo_client__add(f->client, "wrong", f->server.url, &opts, NULL),
			 -EKEYREJECTED);
	assert_contains(bpk_repo_client__errstr(f->client), "not the");
	opts.key = "abc";
	assert_int_equal(bpk_repo_client__add(f->client, "short", f->server.url, &opts, NULL),
			 -EINVAL);
	opts.key = "zzzzzzzzzz";
	assert_int_equal(bpk_repo_client__add(f->client, "nothex", f->server.url, &opts, NULL),
			 -EINVAL);
	assert_null(bpk_repo_client__find_repo(f->client, "wrong"));
	assert_int_equal(bpk_repo_client__add(f->client, "Bad", f->server.url, NULL, NULL),
			 -EINVAL);
	assert_int_equal(bpk_repo_client__add(f->client, "bad", "ftp://x", NULL, NULL), -EINVAL);
}

static void test_add_refuses_foreign_root(void **state)
{
	struct fixture *f = *state;
	char *url;

	/* The service index names a key that does not sign the root. */
	service_index(f, f->other_keyid);
	assert_int_equal(bpk_repo_client__add(f->client, "evil", f->server.url, NULL, NULL),
			 -EKEYREJECTED);
	assert_contains(bpk_repo_client__errstr(f->client), "does not list its root key");
	assert_null(bpk_repo_client__find_repo(f->client, "evil"));
	service_index(f, f->index_keyid);

	/* Not a repository at all. */
	url = xasprintf("%s/nothing", f->server.url);
	assert_int_equal(bpk_repo_client__add(f->client, "none", url, NULL, NULL), -ENOENT);
	assert_contains(bpk_repo_client__errstr(f->client), "is not a bpk repository");
	free(url);

	/* Nobody listening. */
	assert_int_equal(bpk_repo_client__add(f->client, "down", "http://127.0.0.1:1", NULL, NULL),
			 -ECONNREFUSED);
	assert_contains(bpk_repo_client__errstr(f->client), "cannot reach");
}

/* A static mirror (bpk-repo export) may have no service index: the root names its key. */
static void test_add_mirror_without_service_index(void **state)
{
	struct fixture *f = *state;
	BPK_OPTS(bpk_repo_add_opts, opts);
	const struct bpk_repo *repo;
	char *service = fpath(f, "/v1/index.json"), prefix[9];

	assert_int_equal(unlink(service), 0);
	repo = add_repo(f, "mirror", NULL);
	assert_string_equal(bpk_repo__root_keyid(repo), f->index_keyid);
	assert_false(bpk_repo__key_pinned(repo));
	memcpy(prefix, f->index_keyid, 8);
	prefix[8] = '\0';
	repo = add_repo(f, "pinned-mirror", prefix);
	assert_true(bpk_repo__key_pinned(repo));
	opts.key = f->other_keyid;
	assert_int_equal(bpk_repo_client__add(f->client, "wrong", f->server.url, &opts, NULL),
			 -EKEYREJECTED);
	assert_contains(bpk_repo_client__errstr(f->client), "do not include");
	free(service);
}

static void test_resolve(void **state)
{
	struct fixture *f = *state;
	struct bpk_index_target t;
	const struct bpk_repo *repo = add_repo(f, "main", NULL), *got = NULL;
	static const struct {
		const char *spec, *version;
	} cases[] = {
		{ "demo", "1.1.0" },		/* 1.2.0 is yanked, 2.0.0-rc.1 a prerelease */
		{ "demo@*", "1.1.0" },
		{ "demo@^1", "1.1.0" },
		{ "demo@~1.0.0", "1.0.0" },
		{ "demo@1.2.0", "1.2.0" },	/* pinned: yanked or not */
		{ "demo@=1.2.0", "1.2.0" },
		{ "demo@>=1.0.0 <1.1.0", "1.0.0" },
		{ "demo@>=2.0.0-rc.1", "2.0.0-rc.1" },
		{ "demo@1.x || 2.0.0-rc.1", "2.0.0-rc.1" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int err = bpk_repo_client__resolve(f->client, NULL, cases[i].spec, &got, &t);

		if (err)
			fail_msg("%s: %s", cases[i].spec, bpk_repo_client__errstr(f->client));
		assert_ptr_equal(got, repo);
		if (strcmp(t.version, cases[i].version))
			fail_msg("%s resolved to %s, not %s", cases[i].spec, t.version,
				 cases[i].version);
	}
	assert_int_equal(bpk_repo_client__resolve(f->client, repo, "demo@1.2.0", NULL, &t), 0);
	assert_true(t.yanked);

	assert_int_equal(bpk_repo_client__resolve(f->client, NULL, "demo@^3", NULL, &t), -ENOENT);
	assert_contains(bpk_repo_client__errstr(f->client),
			"no version of 'demo' in 'main' matches '^3' "
			"(there are 1.0.0, 1.1.0, 1.2.0 (yanked), 2.0.0-rc.1)");
	assert_int_equal(bpk_repo_client__resolve(f->client, NULL, "demo@1.3.0", NULL, &t),
			 -ENOENT);
	assert_int_equal(bpk_repo_client__resolve(f->client, NULL, "nope", NULL, &t), -ENOENT);
	assert_contains(bpk_repo_client__errstr(f->client), "'main' has no package 'nope'");
	assert_int_equal(bpk_repo_client__resolve(f->client, NULL, "demo@x.y", NULL, &t), -EINVAL);

	/* A private feed: hidden without its token. */
	snprintf(f->server.private_feed, sizeof(f->server.private_feed), "acme");
	snprintf(f->server.feed_token, sizeof(f->server.feed_token), "bpk_secret");
	assert_int_equal(bpk_repo_client__resolve(f->client, NULL, "acme/tool", NULL, &t), -ENOENT);
	assert_contains(bpk_repo_client__errstr(f->client), "shows no index for feed 'acme'");
}

static void test_private_feed_token(void **state)
{
	struct fixture *f = *state;
	BPK_OPTS(bpk_repo_add_opts, opts);
	struct bpk_index_target t;
	char *token_file = xasprintf("%s/token", f->dir);
	const struct bpk_repo *repo;

	snprintf(f->server.private_feed, sizeof(f->server.private_feed), "acme");
	snprintf(f->server.feed_token, sizeof(f->server.feed_token), "bpk_secret");
	/* A missing or empty token file is refused at add time. */
	opts.token_file = token_file;
	assert_int_equal(bpk_repo_client__add(f->client, "main", f->server.url, &opts, NULL),
			 -ENOENT);
	assert_int_equal(write_file_atomic(token_file, "\n", 1, 0600), 0);
	assert_int_equal(bpk_repo_client__add(f->client, "main", f->server.url, &opts, NULL),
			 -EINVAL);
	assert_int_equal(write_file_atomic(token_file, "bpk_secret\n", 11, 0600), 0);
	assert_int_equal(bpk_repo_client__add(f->client, "main", f->server.url, &opts, &repo), 0);
	assert_string_equal(bpk_repo__token_file(repo), token_file);
	assert_int_equal(bpk_repo_client__resolve(f->client, NULL, "acme/tool", NULL, &t), 0);
	assert_string_equal(t.version, "0.3.0");
	assert_string_equal(f->server.last_auth, "Bearer bpk_secret");
	free(token_file);
}

/* Two repositories: the first by name whose index has the package is chosen. */
static void test_choose_repo(void **state)
{
	struct fixture *f = *state;
	const struct bpk_repo *a, *b, *got = NULL;
	struct bpk_index_target t;

	a = add_repo(f, "alpha", NULL);
	b = add_repo(f, "beta", NULL);
	/* add reloads the configuration: take the pointers afresh. */
	a = bpk_repo_client__find_repo(f->client, "alpha");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(bpk_repo_client__resolve(f->client, NULL, "demo", &got, &t), 0);
	assert_string_equal(bpk_repo__name(got), "alpha");
	b = bpk_repo_client__find_repo(f->client, "beta");
	assert_int_equal(bpk_repo_client__resolve(f->client, b, "demo", &got, &t), 0);
	assert_string_equal(bpk_repo__name(got), "beta");
	assert_int_equal(bpk_repo_client__resolve(f->client, NULL, "absent", &got, &t), -ENOENT);
	assert_contains(bpk_repo_client__errstr(f->client),
			"no configured repository has 'absent'");
}

static struct bpk_trust *load_trust(struct fixture *f)
{
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_trust *trust = bpk_trust__load_dir(f->trust, &error);

	assert_non_null(trust);
	return trust;
}

static void test_fetch(void **state)
{
	struct fixture *f = *state;
	struct bpk_trust *trust = load_trust(f);
	struct bpk_verify_result *result = bpk_verify_result__new();
	BPK_OPTS(bpk_repo_fetch_opts, opts, .trust = trust, .result = result);
	struct bpk_repo_fetched got;
	char *final = xasprintf("%s/demo-1.1.0.bpk", f->out);
	char *part = xasprintf("%s.part", final);
	char *served = fpath(f, "/v1/packages/demo/1.1.0/package.bpk");
	char *cached = NULL, *data = NULL, *want = NULL;
	size_t len, want_len;

	add_repo(f, "main", NULL);
	assert_int_equal(read_file(served, 1 << 20, &want, &want_len), 0);

	/* A plain download. */
	if (bpk_repo_client__fetch(f->client, NULL, "demo@^1", f->out, &opts, &got))
		fail_msg("fetch: %s", bpk_repo_client__errstr(f->client));
	assert_string_equal(got.path, final);
	assert_string_equal(got.target.version, "1.1.0");
	assert_false(got.from_cache);
	assert_int_equal(bpk_verify_result__verdict(result), BPK_VERDICT_TRUSTED);
	assert_int_equal(read_file(final, 1 << 20, &data, &len), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(data, want, len);
	free(data);
	assert_false(exists(part));
	cached = xasprintf("%s/packages/%s.bpk", f->cache, got.target.sha256);
	assert_true(exists(cached));

	/* From the cache the second time: no download. */
	unlink(final);
	f->server.last_range[0] = '\0';
	assert_int_equal(bpk_repo_client__fetch(f->client, NULL, "demo@1.1.0", f->out, &opts,
						&got), 0);
	assert_true(got.from_cache);
	assert_true(exists(final));

	/* Resume: half a .part, and the cache gone. */
	unlink(final);
	unlink(cached);
	assert_int_equal(write_file_atomic(part, want, want_len / 2, 0644), 0);
	assert_int_equal(bpk_repo_client__fetch(f->client, NULL, "demo@1.1.0", f->out, &opts,
						&got), 0);
	assert_false(got.from_cache);
	{
		char range[64];

		snprintf(range, sizeof(range), "bytes=%zu-", want_len / 2);
		assert_string_equal(f->server.last_range, range);
	}
	assert_int_equal(read_file(final, 1 << 20, &data, &len), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(data, want, len);
	free(data);
	assert_false(exists(part));

	/* A server that ignores Range: the download starts again. */
	unlink(final);
	unlink(cached);
	f->server.ignore_range = true;
	assert_int_equal(write_file_atomic(part, want, want_len / 3, 0644), 0);
	assert_int_equal(bpk_repo_client__fetch(f->client, NULL, "demo@1.1.0", f->out, &opts,
						&got), 0);
	assert_int_equal(read_file(final, 1 << 20, &data, &len), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(data, want, len);
	free(data);
	f->server.ignore_range = false;

	/* A damaged .part (the right length, wrong bytes) is downloaded again from nothing. */
	unlink(final);
	unlink(cached);
	{
		char *bad = malloc(want_len);

		memcpy(bad, want, want_len);
		bad[want_len - 1] ^= 1;
		assert_int_equal(write_file_atomic(part, bad, want_len, 0644), 0);
		free(bad);
	}
	assert_int_equal(bpk_repo_client__fetch(f->client, NULL, "demo@1.1.0", f->out, &opts,
						&got), 0);
	assert_int_equal(read_file(final, 1 << 20, &data, &len), 0);
	assert_memory_equal(data, want, want_len);
	free(data);

	bpk_verify_result__free(result);
	bpk_trust__free(trust);
	free(final);
	free(part);
	free(served);
	free(cached);
	free(want);
}

static void test_fetch_refusals(void **state)
{
	struct fixture *f = *state;
	struct bpk_trust *trust = load_trust(f);
	struct bpk_verify_result *result = bpk_verify_result__new();
	BPK_OPTS(bpk_repo_fetch_opts, opts, .trust = trust, .result = result);
	struct bpk_repo_fetched got;
	char *served = fpath(f, "/v1/packages/demo/1.0.0/package.bpk");
	char *final = xasprintf("%s/demo-1.0.0.bpk", f->out);
	char *loose = xasprintf("%s/loose-0.1.0.bpk", f->out);
	char *data = NULL;
	size_t len;

	add_repo(f, "main", NULL);

	/* Tampered on the server, same length: refused, nothing left behind. */
	assert_int_equal(read_file(served, 1 << 20, &data, &len), 0);
	data[len / 2] ^= 0x20;
	assert_int_equal(write_file_atomic(served, data, len, 0644), 0);
	assert_int_equal(bpk_repo_client__fetch(f->client, NULL, "demo@1.0.0", f->out, &opts,
						&got), -EBADMSG);
	assert_contains(bpk_repo_client__errstr(f->client), "is not the one its index records");
	assert_false(exists(final));
	assert_true(access(f->out, F_OK) == 0);
	{
		char *part = xasprintf("%s.part", final);

		assert_false(exists(part));
		free(part);
	}

	/* Longer than the index records: refused as soon as the bytes pass the length. */
	data = realloc(data, len + 100);
	memset(data + len, 'x', 100);
	assert_int_equal(write_file_atomic(served, data, len + 100, 0644), 0);
	assert_int_equal(bpk_repo_client__fetch(f->client, NULL, "demo@1.0.0", f->out, &opts,
						&got), -EBADMSG);
	assert_contains(bpk_repo_client__errstr(f->client), "more than the");
	assert_false(exists(final));
	free(data);

	/* Unsigned: refused by the trust policy, unless allowed. */
	assert_int_equal(bpk_repo_client__fetch(f->client, NULL, "loose", f->out, &opts, &got),
			 -EKEYREJECTED);
	assert_contains(bpk_repo_client__errstr(f->client), "refused by the trust policy");
	assert_false(exists(loose));
	opts.allow_unsigned = true;
	assert_int_equal(bpk_repo_client__fetch(f->client, NULL, "loose", f->out, &opts, &got), 0);
	assert_int_equal(bpk_verify_result__verdict(result), BPK_VERDICT_UNSIGNED_ALLOWED);
	assert_true(exists(loose));

	/* Signed, but by a key this policy does not hold. */
	opts.trust = NULL;
	opts.allow_unsigned = false;
	assert_int_equal(bpk_repo_client__fetch(f->client, NULL, "demo@1.1.0", f->out, &opts,
						&got), -EKEYREJECTED);

	bpk_verify_result__free(result);
	bpk_trust__free(trust);
	free(served);
	free(final);
	free(loose);
}

static void test_install(void **state)
{
	struct fixture *f = *state;
	struct bpk_trust *trust = load_trust(f);
	BPK_OPTS(bpk_repo_fetch_opts, opts, .trust = trust);
	struct bpk_repo_fetched got;
	char *root = xasprintf("%s/root", f->dir);
	char *dir = xasprintf("%s/acme/tool/0.3.0", root);
	char *manifest = xasprintf("%s/bpk.json", dir);
	char *readme_path = xasprintf("%s/README.md", dir);

	snprintf(f->server.private_feed, sizeof(f->server.private_feed), "nobody");
	add_repo(f, "main", NULL);
	if (bpk_repo_client__install(f->client, NULL, "acme/tool", root, &opts, &got))
		fail_msg("install: %s", bpk_repo_client__errstr(f->client));
	assert_string_equal(got.path, dir);
	assert_false(got.already_installed);
	assert_true(exists(manifest));
	assert_true(exists(readme_path));
	assert_int_equal(bpk_repo_client__install(f->client, NULL, "acme/tool@0.3.0", root, &opts,
						  &got), 0);
	assert_true(got.already_installed);

	/* A refused package installs nothing. */
	assert_int_equal(bpk_repo_client__install(f->client, NULL, "loose", root, &opts, &got),
			 -EKEYREJECTED);
	{
		char *loose_dir = xasprintf("%s/loose/0.1.0", root);

		assert_false(exists(loose_dir));
		free(loose_dir);
	}
	bpk_trust__free(trust);
	free(root);
	free(dir);
	free(manifest);
	free(readme_path);
}

static void test_publish(void **state)
{
	struct fixture *f = *state;
	BPK_OPTS(bpk_repo_publish_opts, opts);
	struct bpk_repo_published done;
	const struct bpk_repo *repo;
	char *pkg = xasprintf("%s/x.bpk", f->dir), *token = xasprintf("%s/push", f->dir);
	char *answer, hex[65];
	size_t len;
	void *data = make_pkg("fresh", "1.0.0", f->signer, &len);

	repo = add_repo(f, "main", NULL);
	assert_int_equal(write_file_atomic(pkg, data, len, 0644), 0);
	assert_int_equal(bpk_sha256_hex(data, len, hex), 0);
	assert_int_equal(write_file_atomic(token, "bpk_push\n", 9, 0600), 0);
	opts.token_file = token;

	answer = xasprintf("{\"name\":\"fresh\",\"version\":\"1.0.0\",\"feed\":\"public\","
			   "\"sha256\":\"%s\",\"size\":%zu}", hex, len);
	server_can(&f->server, "PUT", "/v1/packages", 201, answer);
	if (bpk_repo_client__publish(f->client, repo, pkg, &opts, &done))
		fail_msg("publish: %s", bpk_repo_client__errstr(f->client));
	assert_string_equal(done.name, "fresh");
	assert_string_equal(done.feed, "public");
	assert_int_equal(done.size, len);
	assert_string_equal(f->server.last_auth, "Bearer bpk_push");
	assert_int_equal(f->server.put_len, len);
	free(answer);

	/* The repository must record the bytes that were sent. */
	server_can(&f->server, "PUT", "/v1/packages", 201,
		   "{\"name\":\"fresh\",\"version\":\"1.0.0\",\"feed\":\"public\",\"sha256\":"
		   "\"0000000000000000000000000000000000000000000000000000000000000000\","
		   "\"size\":1}");
	assert_int_equal(bpk_repo_client__publish(f->client, repo, pkg, &opts, &done), -EBADMSG);

	server_can(&f->server, "PUT", "/v1/packages", 400,
		   "{\"error\":{\"code\":\"invalid_package\",\"message\":\"the package has 2 lint "
		   "errors\",\"details\":[{\"id\":\"E003\",\"name\":\"missing-readme\",\"path\":"
		   "\"README.md\",\"message\":\"README.md is missing\"},{\"id\":\"E005\",\"name\":"
		   "\"no-object\",\"message\":\"no BPF object\\u001b[31m\"}]}}");
	assert_int_equal(bpk_repo_client__publish(f->client, repo, pkg, &opts, &done), -EINVAL);
	assert_int_equal(bpk_repo_client__http_status(f->client), 400);
	assert_string_equal(bpk_repo_client__server_code(f->client), "invalid_package");
	assert_contains(bpk_repo_client__errstr(f->client),
			"the package has 2 lint errors (HTTP 400 invalid_package)");
	assert_int_equal(bpk_repo_client__detail_cnt(f->client), 2);
	assert_string_equal(bpk_repo_client__detail(f->client, 0)->id, "E003");
	assert_string_equal(bpk_repo_client__detail(f->client, 0)->path, "README.md");
	assert_string_equal(bpk_repo_client__detail(f->client, 1)->name, "no-object");
	assert_null(bpk_repo_client__detail(f->client, 1)->path);
	assert_null(bpk_repo_client__detail(f->client, 2));

	server_can(&f->server, "PUT", "/v1/packages", 409,
		   "{\"error\":{\"code\":\"exists\",\"message\":\"fresh@1.0.0 exists\"}}");
	assert_int_equal(bpk_repo_client__publish(f->client, repo, pkg, &opts, &done), -EEXIST);
	assert_int_equal(bpk_repo_client__detail_cnt(f->client), 0);
	server_can(&f->server, "PUT", "/v1/packages", 401, "not json");
	assert_int_equal(bpk_repo_client__publish(f->client, repo, pkg, &opts, &done), -EACCES);
	assert_contains(bpk_repo_client__errstr(f->client), "wants a valid token (HTTP 401)");
	server_can(&f->server, "PUT", "/v1/packages", 403, "{}");
	assert_int_equal(bpk_repo_client__publish(f->client, repo, pkg, &opts, &done), -EPERM);
	server_can(&f->server, "PUT", "/v1/packages", 413, "{}");
	assert_int_equal(bpk_repo_client__publish(f->client, repo, pkg, &opts, &done), -EFBIG);

	assert_int_equal(bpk_repo_client__publish(f->client, repo, "/nonexistent.bpk", &opts,
						  &done), -ENOENT);

	/* Yank and unyank. */
	server_can(&f->server, "POST", "/v1/packages/demo/1.0.0/yank", 200,
		   "{\"name\":\"demo\",\"version\":\"1.0.0\",\"yanked\":true}");
	assert_int_equal(bpk_repo_client__yank(f->client, repo, "demo", "1.0.0", true, &opts), 0);
	assert_int_equal(bpk_repo_client__yank(f->client, repo, "demo", "1.0.0", false, &opts),
			 -EOPNOTSUPP);
	assert_int_equal(bpk_repo_client__yank(f->client, repo, "demo", "1.0", true, &opts),
			 -EINVAL);
	free(data);
	free(pkg);
	free(token);
}

static void test_search_info(void **state)
{
	struct fixture *f = *state;
	BPK_OPTS(bpk_repo_search_opts, opts, .query = "rate limit", .type = "xdp", .take = 5);
	const struct bpk_repo *repo = add_repo(f, "main", NULL);
	const struct bpk_repo_hit *h;
	struct bpk_repo_search *s = NULL;
	struct bpk_repo_package *p = NULL;
	char *text;

	server_can(&f->server, "GET", "/v1/search", 200,
		   "{\"total\":7,\"skip\":0,\"take\":5,\"results\":[{\"name\":\"demo\",\"feed\":"
		   "\"public\",\"version\":\"1.1.0\",\"description\":\"d\",\"tags\":[\"a\",\"b\"],"
		   "\"types\":[\"xdp\"],\"platforms\":[\"linux\"],\"kernel\":\">=5.15\","
		   "\"published\":\"2025-01-01T00:00:00Z\",\"score\":1.5}]}");
	if (bpk_repo_client__search(f->client, repo, &opts, &s))
		fail_msg("search: %s", bpk_repo_client__errstr(f->client));
	assert_int_equal(bpk_repo_search__total(s), 7);
	assert_int_equal(bpk_repo_search__cnt(s), 1);
	h = bpk_repo_search__hit(s, 0);
	assert_string_equal(h->name, "demo");
	assert_string_equal(h->tags, "a,b");
	assert_string_equal(h->types, "xdp");
	assert_string_equal(h->kernel, ">=5.15");
	assert_true(h->score > 1.4);
	assert_null(bpk_repo_search__hit(s, 1));
	text = bpk_repo_search__to_json(s);
	assert_contains(text, "\"total\": 7");
	free(text);
	bpk_repo_search__free(s);
	opts.take = 101;
	assert_int_equal(bpk_repo_client__search(f->client, repo, &opts, &s), -EINVAL);
	opts.take = 0;
	server_can(&f->server, "GET", "/v1/search", 200, "{\"results\":[{\"name\":\"Bad\"}]}");
	assert_int_equal(bpk_repo_client__search(f->client, repo, &opts, &s), -EPROTO);

	server_can(&f->server, "GET", "/v1/packages/demo", 200,
		   "{\"name\":\"demo\",\"feed\":\"public\",\"versions\":[{\"version\":\"1.0.0\","
		   "\"yanked\":false},{\"version\":\"1.1.0\",\"yanked\":false},{\"version\":"
		   "\"1.2.0\",\"yanked\":true}]}");
	server_can(&f->server, "GET", "/v1/packages/demo/1.1.0", 200,
		   "{\"name\":\"demo\",\"version\":\"1.1.0\",\"feed\":\"public\",\"yanked\":false,"
		   "\"sha256\":\""
		   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
		   "\"size\":10,\"signers\":[{\"keyid\":\"ab\",\"alg\":\"ed25519\"}],"
		   "\"verified\":{\"lint\":true},\"manifest\":{\"name\":\"demo\"}}");
	if (bpk_repo_client__info(f->client, repo, "demo", NULL, &p))
		fail_msg("info: %s", bpk_repo_client__errstr(f->client));
	assert_int_equal(bpk_repo_package__version_cnt(p), 3);
	assert_true(bpk_repo_package__version(p, 2)->yanked);
	assert_string_equal(bpk_repo_package__selected(p)->version, "1.1.0");
	assert_int_equal(bpk_repo_package__selected(p)->size, 10);
	assert_int_equal(bpk_repo_package__signer_cnt(p), 1);
	assert_string_equal(bpk_repo_package__signer(p, 0)->alg, "ed25519");
	assert_contains(bpk_repo_package__verified_json(p), "\"lint\": true");
	assert_contains(bpk_repo_package__manifest_json(p), "\"demo\"");
	text = bpk_repo_package__to_json(p);
	assert_contains(text, "\"selected\"");
	free(text);
	bpk_repo_package__free(p);

	assert_int_equal(bpk_repo_client__info(f->client, repo, "absent", NULL, &p), -ENOENT);
	assert_int_equal(bpk_repo_client__http_status(f->client), 404);
	assert_int_equal(bpk_repo_client__info(f->client, repo, "demo", "1.1", &p), -EINVAL);
}

/* The fetch callback bounds what it reads, and tells a missing file from a failure. */
static void test_index_fetch_bounds(void **state)
{
	struct fixture *f = *state;
	const struct bpk_repo *repo = add_repo(f, "main", NULL);
	struct feed_index fi = { .client = f->client, .repo = repo, .feed = (char *)"public" };
	void *data = NULL;
	size_t len = 0;

	assert_int_equal(index_fetch(&fi, "timestamp.json", 64 << 10, &data, &len), 0);
	assert_true(len > 0);
	free(data);
	assert_int_equal(index_fetch(&fi, "timestamp.json", 10, &data, &len), -EFBIG);
	assert_int_equal(index_fetch(&fi, "9.root.json", 1 << 20, &data, &len), -ENOENT);
	assert_int_equal(index_fetch(&fi, "../x", 1 << 20, &data, &len), -EINVAL);

	/* A broken config file refuses the whole configuration, naming the file. */
	{
		char *bad = xasprintf("%s/repos.d/bad.json", f->config);

		assert_int_equal(write_file_atomic(bad, "{\"name\":\"bad\"}", 14, 0644), 0);
		assert_int_equal(bpk_repo_client__load_config(f->client), -EINVAL);
		assert_contains(bpk_repo_client__errstr(f->client), "bad.json");
		unlink(bad);
		free(bad);
		assert_int_equal(bpk_repo_client__load_config(f->client), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_add_tofu_list_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_pinned_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_refuses_foreign_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_mirror_without_service_index, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_feed_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_choose_repo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_fetch_bounds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

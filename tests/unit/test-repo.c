// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the repository (lib/repo*.c, lib/store*.c) through its API, on both engines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test-util.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"

/* 2026-09-21T14:13:20Z: every repository, token and index in these tests lives at this time. */
#define NOW 1790000000LL

/* The engine of the group being run: "sqlite" or "postgresql". */
static const char *engine;
static unsigned int db_serial;

struct fixture {
	char *dir;	/* scratch: the repository is dir/repo */
	char *repo_dir;
	char *db_name;	/* PostgreSQL: the database made for this test */
	char *db_url;
	struct bpk_repo *repo;
	struct bpk_key *author; /* trusted by feed public */
	struct bpk_key *stranger; /* trusted by nobody */
};

/* ---- PostgreSQL: a database per test, so that tests never see each other ---- */

static void pg_admin(const char *sql)
{
	PGconn *pg = PQconnectdb(getenv("BPK_TEST_PG_URL"));
	PGresult *res;

	if (PQstatus(pg) != CONNECTION_OK)
		fail_msg("cannot connect to BPK_TEST_PG_URL: %s", PQerrorMessage(pg));
	res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(pg));
	PQclear(res);
	PQfinish(pg);
}

/* The URL of database name on the server of BPK_TEST_PG_URL (its path replaced). */
static char *pg_url_of(const char *name)
{
	const char *url = getenv("BPK_TEST_PG_URL");
	const char *slash = strrchr(url, '/');

	assert_true(slash && slash > strstr(url, "://") + 2);
	return xasprintf("%.*s/%s", (int)(slash - url), url, name);
}

/* ---- opening ---- */

static struct bpk_repo *open_repo_at(struct fixture *f, int64_t now, uint64_t max_package)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct bpk_repo *repo;
	BPK_OPTS(bpk_repo_opts, opts, .db = f->db_url, .now = now, .max_package = max_package);

	repo = bpk_repo__open(f->repo_dir, &opts, &error);
	if (!repo)
		fail_msg("bpk_repo__open(%s, %s): %s", f->repo_dir, engine,
			 error.message ? error.message : strerror(errno));
	bpk_repo_error__release(&error);
	return repo;
}

static void reopen(struct fixture *f, int64_t now, uint64_t max_package)
{
	bpk_repo__free(f->repo);
	f->repo = open_repo_at(f, now, max_package);
}

static void trust_key(struct fixture *f, const char *feed, const struct bpk_key *key)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	size_t len;
	char *pem = bpk_key__public_pem(key, &len);

	assert_non_null(pem);
	if (bpk_repo__feed_trust(f->repo, feed, pem, len, &error))
		fail_msg("feed trust %s: %s", feed, error.message);
	free(pem);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = test_temp_dir("test-repo");
	f->repo_dir = xasprintf("%s/repo", f->dir);
	if (!strcmp(engine, "postgresql")) {
		char *sql;

		f->db_name = xasprintf("bpk_unit_%d_%u", (int)getpid(), db_serial++);
		sql = xasprintf("CREATE DATABASE %s", f->db_name);
		pg_admin(sql);
		free(sql);
		f->db_url = pg_url_of(f->db_name);
	}
	f->author = bpk_key__generate();
	f->stranger = bpk_key__generate();
	assert_non_null(f->author);
	assert_non_null(f->stranger);
	f->repo = open_repo_at(f, NOW, 0);
	trust_key(f, "public", f->author);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bpk_repo__free(f->repo);
	if (f->db_name) {
		char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", f->db_name);

		pg_admin(sql);
		free(sql);
	}
	test_rm_rf(f->dir);
	bpk_key__free(f->author);
	bpk_key__free(f->stranger);
	free(f->dir);
	free(f->repo_dir);
	free(f->db_name);
	free(f->db_url);
	free(f);
	return 0;
}

/* ---- packages, built and signed in-process ---- */

struct pkg {
	void *buf;
	size_t len;
};

static void pkg_release(struct pkg *p)
{
	free(p->buf);
	p->buf = NULL;
}

/*
 * Pack name@version around a test object, its manifest the defaults merged with extra (a JSON
 * object's members, may be NULL), and sign it with key (NULL: unsigned).
 */
static struct pkg make_pkg(const char *name, const char *version, const char *object,
			   const char *extra, const struct bpk_key *key)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_error error = BPK_ERROR_INIT;
	char *dir = test_temp_dir("test-repo-pkg");
	char *src, *obj_rel, *out, *data, *text, *readme;
	struct pkg p = { 0 };
	json_t *manifest, *more;
	size_t len;

	manifest = json_pack("{s:i, s:s, s:s, s:s, s:s, s:[s], s:[s], s:{s:s}, s:{s:s}}", "bpk", 1,
			     "name", name, "version", version, "description",
			     "a package made by a unit test", "license", "GPL-2.0-only", "authors",
			     "Test", "platforms", "linux", "source", "url",
			     "https://example.com/t.git", "requires", "kernel", ">=5.15");
	assert_non_null(manifest);
	if (extra) {
		more = json_loads(extra, 0, NULL);
		assert_non_null(more);
		assert_int_equal(json_object_update(manifest, more), 0);
		json_decref(more);
	}
	text = json_dumps(manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(manifest);
	test_put(dir, "bpk.json", text, strlen(text));
	free(text);
	readme = xasprintf("# %s\n\nA package made by the repository unit test around the %s test "
			   "object; it exists to be published, searched and yanked.\n",
			   name, object);
	test_put(dir, "README.md", readme, strlen(readme));
	free(readme);
	test_put(dir, "tests/t.json", "{\"program\": \"x\", \"cases\": []}", 30);
	src = xasprintf("%s/%s.o", test_bpf_dir(), object);
	obj_rel = xasprintf("bpf/%s.o", object);
	assert_int_equal(read_file(src, 64 << 20, &data, &len), 0);
	test_put(dir, obj_rel, data, len);
	free(data);
	free(src);
	free(obj_rel);

	out = xasprintf("%s/out.bpk", dir);
	{
		BPK_OPTS(bpk_pack_opts, opts, .output = out);

		if (bpk_pack__dir(dir, &opts, &diags, NULL)) {
			for (size_t i = 0; i < diags.cnt; i++)
				print_message("  %s: %s\n", diags.items[i].id,
					      diags.items[i].message);
			fail_msg("cannot pack %s@%s", name, version);
		}
	}
	bpk_diags__release(&diags);
	assert_int_equal(read_file(out, 64 << 20, (char **)&p.buf, &p.len), 0);
	if (key) {
		void *signed_buf;
		size_t signed_len;

		if (bpk_sign__mem(p.buf, p.len, key, &error, &signed_buf, &signed_len))
			fail_msg("cannot sign %s@%s: %s", name, version, error.message);
		free(p.buf);
		p.buf = signed_buf;
		p.len = signed_len;
	}
	bpk_error__release(&error);
	free(out);
	test_rm_rf(dir);
	free(dir);
	return p;
}

static struct pkg signed_pkg(struct fixture *f, const char *name, const char *version)
{
	return make_pkg(name, version, "xdp_counter", NULL, f->author);
}

/*
 * The package in buf rebuilt without README.md and with its program renamed, its manifest's
 * file list kept right, so that it opens but lint finds E003 and E006.
 */
static struct pkg break_lint(const struct pkg *in)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_pkg_entry entries[16];
	struct bpk_pkg *pkg;
	json_t *manifest, *files, *file;
	struct pkg out = { 0 };
	char *text;
	size_t cnt = 0, i;

	pkg = bpk_pkg__open_mem(in->buf, in->len, NULL, &diags);
	assert_non_null(pkg);
	{
		size_t mlen;
		const char *mbytes = bpk_pkg__manifest_bytes(pkg, &mlen);

		manifest = json_loadb(mbytes, mlen, JSON_PRESERVE_ORDER, NULL);
	}
	assert_non_null(manifest);
	files = json_object_get(manifest, "files");
	json_array_foreach(files, i, file) {
		if (!strcmp(json_string_value(json_object_get(file, "path")), "README.md")) {
			json_array_remove(files, i);
			break;
		}
	}
	json_object_set_new(json_array_get(json_object_get(manifest, "programs"), 0), "name",
			    json_string("renamed_program"));
	text = json_dumps(manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(manifest);
	for (i = 0; i < bpk_pkg__entry_cnt(pkg); i++) {
		const void *data;
		size_t len;
		const char *path = bpk_pkg__entry(pkg, i, &data, &len);

		if (!strcmp(path, "README.md") || !strcmp(path, BPK_SIGNATURE_PATH))
			continue;
		if (!strcmp(path, BPK_MANIFEST_PATH)) {
			data = text;
			len = strlen(text);
		}
		entries[cnt++] = (struct bpk_pkg_entry){ .path = path, .data = data, .size = len };
	}
	assert_int_equal(bpk_pkg__write_mem(entries, cnt, &out.buf, &out.len), 0);
	bpk_pkg__free(pkg);
	bpk_diags__release(&diags);
	free(text);
	return out;
}

/* ---- calling the repository ---- */

struct token {
	char *secret;
	char id[16];
	struct bpk_repo_auth auth;
};

static struct token make_token(struct fixture *f, const char *feed, enum bpk_repo_scope scope,
			       uint64_t lifetime)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct token t = { 0 };

	if (bpk_repo__token_create(f->repo, feed, scope, lifetime, "unit test", &t.secret, t.id,
				   &error))
		fail_msg("token create %s: %s", feed, error.message);
	if (bpk_repo__authenticate(f->repo, t.secret, &t.auth, &error))
		fail_msg("authenticate: %s", error.message);
	bpk_repo_error__release(&error);
	return t;
}

static void token_release(struct token *t)
{
	free(t->secret);
	t->secret = NULL;
}

/* Publish, requiring the outcome code; returns the answer (or NULL on a refusal). */
static json_t *publish_expect(struct fixture *f, const struct bpk_repo_auth *auth,
			      const struct pkg *p, enum bpk_repo_err want,
			      struct bpk_repo_error *ret_error)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	char *json = NULL;
	json_t *answer = NULL;
	int err;

	err = bpk_repo__publish(f->repo, auth, p->buf, p->len, &json, &error);
	if (error.code != want)
		fail_msg("publish answered %s (%s), expected %s", bpk_repo_err__name(error.code),
			 error.message ? error.message : "no message", bpk_repo_err__name(want));
	if (want == BPK_REPO_OK) {
		assert_int_equal(err, 0);
		answer = json_loads(json, 0, NULL);
		assert_non_null(answer);
	} else {
		assert_true(err < 0);
		assert_non_null(error.message);
		assert_null(json);
	}
	free(json);
	if (ret_error)
		*ret_error = error;
	else
		bpk_repo_error__release(&error);
	return answer;
}

static void publish_ok(struct fixture *f, const struct token *t, const struct pkg *p)
{
	json_decref(publish_expect(f, &t->auth, p, BPK_REPO_OK, NULL));
}

static void yank(struct fixture *f, const struct bpk_repo_auth *auth, const char *name,
		 const char *version, bool yanked, enum bpk_repo_err want)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	char *json = NULL;

	bpk_repo__set_yanked(f->repo, auth, name, version, yanked, &json, &error);
	if (error.code != want)
		fail_msg("%s %s@%s answered %s (%s), expected %s", yanked ? "yank" : "unyank", name,
			 version, bpk_repo_err__name(error.code), error.message,
			 bpk_repo_err__name(want));
	if (want == BPK_REPO_OK) {
		json_t *answer = json_loads(json, 0, NULL);

		assert_non_null(answer);
		assert_string_equal(json_string_value(json_object_get(answer, "name")), name);
		assert_string_equal(json_string_value(json_object_get(answer, "version")), version);
		assert_int_equal(json_is_true(json_object_get(answer, "yanked")), yanked);
		json_decref(answer);
	}
	free(json);
	bpk_repo_error__release(&error);
}

/* A search; returns the answer, whose "results" the caller reads. */
static json_t *search(struct fixture *f, const struct bpk_repo_auth *auth,
		      const struct bpk_repo_query *query)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	char *json = NULL;
	json_t *answer;

	if (bpk_repo__search(f->repo, auth, query, &json, &error))
		fail_msg("search: %s", error.message);
	answer = json_loads(json, 0, NULL);
	assert_non_null(answer);
	free(json);
	return answer;
}

/* The names@versions of a search's results, in order: "a@1.0.0 b@2.0.0". */
static char *search_names(struct fixture *f, const struct bpk_repo_auth *auth,
			  const struct bpk_repo_query *query)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *answer = search(f, auth, query), *item;
	size_t i;

	json_array_foreach(json_object_get(answer, "results"), i, item)
		strbuf_addf(&sb, "%s%s@%s", i ? " " : "",
			    json_string_value(json_object_get(item, "name")),
			    json_string_value(json_object_get(item, "version")));
	json_decref(answer);
	return sb.buf ? strbuf_detach(&sb, NULL) : strdup("");
}

static void expect_search(struct fixture *f, const struct bpk_repo_auth *auth,
			  const struct bpk_repo_query *query, const char *want)
{
	char *got = search_names(f, auth, query);

	if (strcmp(got, want))
		fail_msg("search q=%s type=%s tag=%s kernel=%s feed=%s: got '%s', expected '%s'",
			 query->text, query->type, query->tag, query->kernel, query->feed, got,
			 want);
	free(got);
}

/* GET /v1/packages/NAME as JSON, or NULL with the error code in *ret_code. */
static json_t *package(struct fixture *f, const struct bpk_repo_auth *auth, const char *name,
		       enum bpk_repo_err *ret_code)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	char *json = NULL;
	json_t *answer = NULL;

	bpk_repo__package(f->repo, auth, name, &json, &error);
	*ret_code = error.code;
	if (json)
		answer = json_loads(json, 0, NULL);
	free(json);
	bpk_repo_error__release(&error);
	return answer;
}

static json_t *version_record(struct fixture *f, const struct bpk_repo_auth *auth,
			      const char *name, const char *version, enum bpk_repo_err *ret_code)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	char *json = NULL;
	json_t *answer = NULL;

	bpk_repo__version(f->repo, auth, name, version, &json, &error);
	*ret_code = error.code;
	if (json)
		answer = json_loads(json, 0, NULL);
	free(json);
	bpk_repo_error__release(&error);
	return answer;
}

/* The client's view of feed's signed index, verified from its first root at NOW. */
static struct bpk_index_client *index_client(struct fixture *f, const char *feed, int64_t now)
{
	char *index_dir = xasprintf("%s/index/%s", f->repo_dir, feed);
	char *root_path = xasprintf("%s/1.root.json", index_dir);
	char *state = xasprintf("%s/state-%s-%lld-%u", f->dir, feed, (long long)now, db_serial++);
	struct bpk_index_client *c;
	char *root;
	size_t root_len;

	assert_int_equal(read_file(root_path, 1 << 20, &root, &root_len), 0);
	{
		BPK_OPTS(bpk_index_client_opts, opts, .state_dir = state, .root = root,
			 .root_len = root_len, .fetch = bpk_index__fetch_dir,
			 .fetch_ctx = index_dir, .now = now);

		c = bpk_index_client__new(&opts);
		assert_non_null(c);
		if (bpk_index_client__update(c))
			fail_msg("the index of feed '%s' does not verify: %s", feed,
				 bpk_index_client__errstr(c));
	}
	free(root);
	free(root_path);
	free(state);
	free(index_dir);
	return c;
}

static void expect_in_index(struct fixture *f, const char *feed, const char *name,
			    const char *version, const struct pkg *p, bool yanked)
{
	struct bpk_index_client *c = index_client(f, feed, NOW);
	struct bpk_index_target t;

	if (bpk_index_meta__find(bpk_index_client__meta(c), name, version, &t))
		fail_msg("%s@%s is not in the index of feed '%s'", name, version, feed);
	assert_int_equal(t.yanked, yanked);
	assert_int_equal(t.size, p->len);
	if (bpk_index_client__verify_target(c, name, version, p->buf, p->len))
		fail_msg("%s@%s does not match the index: %s", name, version,
			 bpk_index_client__errstr(c));
	bpk_index_client__free(c);
}

static void expect_not_in_index(struct fixture *f, const char *feed, const char *name,
				const char *version)
{
	struct bpk_index_client *c = index_client(f, feed, NOW);
	struct bpk_index_target t;

	assert_int_not_equal(bpk_index_meta__find(bpk_index_client__meta(c), name, version, &t), 0);
	bpk_index_client__free(c);
}

static bool json_contains(const char *haystack_json, const char *needle)
{
	return haystack_json && strstr(haystack_json, needle);
}

/* ---- feeds ---- */

static void test_feeds(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	char *json = NULL;
	json_t *list, *item;
	size_t i;
	bool seen_acme = false, seen_public = false;

	assert_int_equal(bpk_repo__feed_create(f->repo, "acme", BPK_REPO_FEED_F_PRIVATE, &error),
			 0);
	assert_int_equal(bpk_repo__feed_create(f->repo, "acme", 0, &error), -EEXIST);
	assert_int_equal(error.code, BPK_REPO_E_EXISTS);
	assert_int_equal(bpk_repo__feed_create(f->repo, "public", 0, &error), -EEXIST);
	assert_int_equal(bpk_repo__feed_create(f->repo, "Bad/Name", 0, &error), -EINVAL);
	assert_int_equal(error.code, BPK_REPO_E_BAD_REQUEST);
	assert_int_equal(bpk_repo__feed_create(f->repo, "", 0, &error), -EINVAL);
	assert_int_equal(bpk_repo__feed_create(f->repo, "../x", 0, &error), -EINVAL);
	assert_int_equal(bpk_repo__feed_trust(f->repo, "nosuch", "x", 1, &error), -ENOENT);
	assert_int_equal(error.code, BPK_REPO_E_NOT_FOUND);
	assert_int_equal(bpk_repo__feed_trust(f->repo, "acme", "not a key", 9, &error), -EINVAL);
	assert_int_equal(error.code, BPK_REPO_E_BAD_REQUEST);
	bpk_repo_error__release(&error);

	assert_int_equal(bpk_repo__feed_list(f->repo, &json, &error), 0);
	list = json_loads(json, 0, NULL);
	assert_true(json_is_array(list));
	json_array_foreach(list, i, item) {
		const char *name = json_string_value(json_object_get(item, "name"));

		if (!strcmp(name, "acme")) {
			seen_acme = true;
			assert_true(json_is_true(json_object_get(item, "private")));
		} else if (!strcmp(name, "public")) {
			seen_public = true;
			assert_true(json_is_false(json_object_get(item, "private")));
			assert_true(json_is_false(json_object_get(item, "allow_unsigned")));
		}
		assert_int_equal(json_integer_value(json_object_get(item, "packages")), 0);
	}
	assert_true(seen_acme && seen_public);
	json_decref(list);
	free(json);

	/* Each feed has its own signed index; the private one verifies too. */
	bpk_index_client__free(index_client(f, "acme", NOW));
	bpk_index_client__free(index_client(f, "public", NOW));
}

/* ---- tokens ---- */

static void test_tokens(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct bpk_repo_auth auth;
	struct token t = make_token(f, "public", BPK_REPO_SCOPE_PUSH, 0);
	char digest[65], *json = NULL, *forged;

	/* bpk_ + 43 characters of base64url; the id is the first 12 hex digits of its SHA-256. */
	assert_int_equal(strlen(t.secret), 4 + 43);
	assert_memory_equal(t.secret, "bpk_", 4);
	assert_int_equal(strspn(t.secret + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					      "0123456789-_"),
			 43);
	assert_int_equal(bpk_sha256_hex(t.secret, strlen(t.secret), digest), 0);
	assert_int_equal(strlen(t.id), 12);
	assert_memory_equal(t.id, digest, 12);
	assert_string_equal(t.auth.feed, "public");
	assert_int_equal(t.auth.scope, BPK_REPO_SCOPE_PUSH);
	assert_string_equal(t.auth.token_id, t.id);

	/* Unknown, malformed and empty tokens are unauthorized. */
	forged = strdup(t.secret);
	forged[10] = forged[10] == 'A' ? 'B' : 'A';
	assert_int_equal(bpk_repo__authenticate(f->repo, forged, &auth, &error), -EACCES);
	assert_int_equal(error.code, BPK_REPO_E_UNAUTHORIZED);
	assert_int_equal(bpk_repo__authenticate(f->repo, t.secret + 4, &auth, &error), -EACCES);
	assert_int_equal(bpk_repo__authenticate(f->repo, "", &auth, &error), -EACCES);
	assert_int_equal(bpk_repo__authenticate(f->repo, "bpk_", &auth, &error), -EACCES);
	free(forged);

	/* A token needs an existing feed and a real scope. */
	{
		char *secret = NULL, id[16];

		assert_int_equal(bpk_repo__token_create(f->repo, "nosuch", BPK_REPO_SCOPE_READ, 0,
							NULL, &secret, id, &error),
				 -ENOENT);
		assert_int_equal(error.code, BPK_REPO_E_NOT_FOUND);
		assert_int_equal(bpk_repo__token_create(f->repo, "public", BPK_REPO_SCOPE_NONE, 0,
							NULL, &secret, id, &error),
				 -EINVAL);
		assert_int_equal(error.code, BPK_REPO_E_BAD_REQUEST);
		assert_null(secret);
	}

	/* The list never holds the secret. */
	assert_int_equal(bpk_repo__token_list(f->repo, &json, &error), 0);
	assert_true(json_contains(json, t.id));
	assert_false(json_contains(json, t.secret));
	assert_false(json_contains(json, digest));
	free(json);

	/* Revoked: refused from then on; revoking twice is not found. */
	assert_int_equal(bpk_repo__token_revoke(f->repo, t.id, &error), 0);
	assert_int_equal(bpk_repo__authenticate(f->repo, t.secret, &auth, &error), -EACCES);
	assert_int_equal(error.code, BPK_REPO_E_UNAUTHORIZED);
	assert_non_null(strstr(error.message, "revoked"));
	assert_int_equal(bpk_repo__token_revoke(f->repo, t.id, &error), -ENOENT);
	assert_int_equal(error.code, BPK_REPO_E_NOT_FOUND);
	assert_int_equal(bpk_repo__token_revoke(f->repo, "000000000000", &error), -ENOENT);
	assert_int_equal(bpk_repo__token_list(f->repo, &json, &error), 0);
	{
		json_t *list = json_loads(json, 0, NULL), *item;
		size_t i;
		bool found = false;

		json_array_foreach(list, i, item) {
			if (strcmp(json_string_value(json_object_get(item, "id")), t.id))
				continue;
			found = true;
			assert_true(json_is_true(json_object_get(item, "revoked")));
			assert_string_equal(json_string_value(json_object_get(item, "scope")),
					    "push");
			assert_string_equal(json_string_value(json_object_get(item, "comment")),
					    "unit test");
		}
		assert_true(found);
		json_decref(list);
	}
	free(json);
	bpk_repo_error__release(&error);
	token_release(&t);
}

static void test_token_expiry(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct bpk_repo_auth auth;
	struct token t = make_token(f, "public", BPK_REPO_SCOPE_READ, 60);
	struct token forever = make_token(f, "public", BPK_REPO_SCOPE_READ, 0);

	reopen(f, NOW + 59, 0);
	assert_int_equal(bpk_repo__authenticate(f->repo, t.secret, &auth, &error), 0);
	reopen(f, NOW + 60, 0);
	assert_int_equal(bpk_repo__authenticate(f->repo, t.secret, &auth, &error), -EACCES);
	assert_int_equal(error.code, BPK_REPO_E_UNAUTHORIZED);
	assert_non_null(strstr(error.message, "expired"));
	assert_int_equal(bpk_repo__authenticate(f->repo, forever.secret, &auth, &error), 0);
	bpk_repo_error__release(&error);
	token_release(&t);
	token_release(&forever);
}

/* ---- scopes ---- */

static void test_scopes(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct token read = make_token(f, "public", BPK_REPO_SCOPE_READ, 0);
	struct token push = make_token(f, "public", BPK_REPO_SCOPE_PUSH, 0);
	struct token yanker = make_token(f, "public", BPK_REPO_SCOPE_YANK, 0);
	struct token admin = make_token(f, "public", BPK_REPO_SCOPE_ADMIN, 0);
	struct token acme_push, acme_admin;
	struct pkg p1 = signed_pkg(f, "demo", "1.0.0");
	struct pkg p2 = signed_pkg(f, "demo", "1.1.0");
	struct pkg a1 = make_pkg("acme/tool", "1.0.0", "xdp_counter", NULL, f->author);

	assert_int_equal(bpk_repo__feed_create(f->repo, "acme", 0, &error), 0);
	trust_key(f, "acme", f->author);
	acme_push = make_token(f, "acme", BPK_REPO_SCOPE_PUSH, 0);
	acme_admin = make_token(f, "acme", BPK_REPO_SCOPE_ADMIN, 0);

	/* Anonymous: 401; read: 403; push, yank and admin of the feed: 201. */
	publish_expect(f, NULL, &p1, BPK_REPO_E_UNAUTHORIZED, NULL);
	publish_expect(f, &read.auth, &p1, BPK_REPO_E_FORBIDDEN, NULL);
	/* A token of feed acme cannot publish to public, nor public's to acme: 403. */
	publish_expect(f, &acme_admin.auth, &p1, BPK_REPO_E_FORBIDDEN, NULL);
	publish_expect(f, &admin.auth, &a1, BPK_REPO_E_FORBIDDEN, NULL);
	publish_ok(f, &push, &p1);
	publish_ok(f, &yanker, &p2);
	publish_ok(f, &acme_push, &a1);

	/* Yank needs the yank scope on the package's feed. */
	yank(f, NULL, "demo", "1.0.0", true, BPK_REPO_E_UNAUTHORIZED);
	yank(f, &read.auth, "demo", "1.0.0", true, BPK_REPO_E_FORBIDDEN);
	yank(f, &push.auth, "demo", "1.0.0", true, BPK_REPO_E_FORBIDDEN);
	yank(f, &acme_admin.auth, "demo", "1.0.0", true, BPK_REPO_E_FORBIDDEN);
	yank(f, &acme_push.auth, "acme/tool", "1.0.0", true, BPK_REPO_E_FORBIDDEN);
	yank(f, &yanker.auth, "demo", "1.0.0", true, BPK_REPO_OK);
	yank(f, &admin.auth, "demo", "1.0.0", false, BPK_REPO_OK);
	yank(f, &acme_admin.auth, "acme/tool", "1.0.0", true, BPK_REPO_OK);

	/* Scope names both ways. */
	{
		enum bpk_repo_scope s;

		assert_int_equal(bpk_repo_scope__from_name("yank", &s), 0);
		assert_int_equal(s, BPK_REPO_SCOPE_YANK);
		assert_int_equal(bpk_repo_scope__from_name("none", &s), -EINVAL);
		assert_int_equal(bpk_repo_scope__from_name("root", &s), -EINVAL);
		assert_string_equal(bpk_repo_scope__name(BPK_REPO_SCOPE_ADMIN), "admin");
		assert_int_equal(bpk_repo_err__status(BPK_REPO_E_FORBIDDEN), 403);
		assert_int_equal(bpk_repo_err__status(BPK_REPO_E_TOO_LARGE), 413);
		assert_string_equal(bpk_repo_err__name(BPK_REPO_E_EXISTS), "exists");
	}

	bpk_repo_error__release(&error);
	pkg_release(&p1);
	pkg_release(&p2);
	pkg_release(&a1);
	token_release(&read);
	token_release(&push);
	token_release(&yanker);
	token_release(&admin);
	token_release(&acme_push);
	token_release(&acme_admin);
}

/* ---- publish ---- */

static void test_publish(void **state)
{
	struct fixture *f = *state;
	struct token push = make_token(f, "public", BPK_REPO_SCOPE_PUSH, 0);
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct pkg p = signed_pkg(f, "demo", "1.0.0");
	char digest[65], *blob;
	json_t *answer;
	struct stat st;

	answer = publish_expect(f, &push.auth, &p, BPK_REPO_OK, NULL);
	assert_int_equal(bpk_sha256_hex(p.buf, p.len, digest), 0);
	assert_string_equal(json_string_value(json_object_get(answer, "name")), "demo");
	assert_string_equal(json_string_value(json_object_get(answer, "version")), "1.0.0");
	assert_string_equal(json_string_value(json_object_get(answer, "feed")), "public");
	assert_string_equal(json_string_value(json_object_get(answer, "sha256")), digest);
	assert_int_equal(json_integer_value(json_object_get(answer, "size")), p.len);
	json_decref(answer);

	/* The bytes are stored under their content address, and nothing is left in tmp. */
	blob = xasprintf("%s/blobs/sha256/%.2s/%s", f->repo_dir, digest, digest);
	assert_int_equal(stat(blob, &st), 0);
	assert_int_equal(st.st_size, p.len);
	free(blob);
	{
		char *tmp = xasprintf("%s/blobs/tmp", f->repo_dir);
		char **names = NULL;
		size_t cnt = 1;

		assert_int_equal(bpk_list_dir(tmp, NULL, NULL, &names, &cnt), 0);
		assert_int_equal(cnt, 0);
		bpk_free_names(names);
		free(tmp);
	}

	/* The record: digest, size, signer, manifest. */
	{
		enum bpk_repo_err code;
		json_t *v = version_record(f, NULL, "demo", "1.0.0", &code), *signer;

		assert_int_equal(code, BPK_REPO_OK);
		assert_string_equal(json_string_value(json_object_get(v, "sha256")), digest);
		assert_int_equal(json_integer_value(json_object_get(v, "size")), p.len);
		assert_true(json_is_false(json_object_get(v, "yanked")));
		signer = json_array_get(json_object_get(v, "signers"), 0);
		assert_string_equal(json_string_value(json_object_get(signer, "keyid")),
				    bpk_key__id(f->author));
		assert_string_equal(json_string_value(json_object_get(signer, "alg")), "ed25519");
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(v, "manifest"), "name")),
				    "demo");
		assert_string_equal(json_string_value(json_object_get(v, "download")),
				    "/v1/packages/demo/1.0.0/package.bpk");
		assert_string_equal(json_string_value(json_object_get(v, "published")),
				    "2026-09-21T14:13:20Z");
		json_decref(v);
	}

	/* Versions are immutable: the same bytes again, or other bytes, are 409. */
	publish_expect(f, &push.auth, &p, BPK_REPO_E_EXISTS, NULL);
	{
		struct pkg other = make_pkg("demo", "1.0.0", "xdp_counter",
					    "{\"description\": \"other bytes\"}", f->author);

		publish_expect(f, &push.auth, &other, BPK_REPO_E_EXISTS, NULL);
		pkg_release(&other);
	}
	token_release(&push);
	pkg_release(&p);
	bpk_repo_error__release(&error);
}

static void test_publish_refusals(void **state)
{
	struct fixture *f = *state;
	struct token push = make_token(f, "public", BPK_REPO_SCOPE_PUSH, 0);
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct pkg good = signed_pkg(f, "demo", "1.0.0");
	struct pkg unsigned_pkg = make_pkg("demo", "1.0.0", "xdp_counter", NULL, NULL);
	struct pkg strange = make_pkg("demo", "1.0.0", "xdp_counter", NULL, f->stranger);
	struct pkg linty = break_lint(&good);
	struct pkg garbage = { .buf = strdup("this is not a package at all"), .len = 28 };
	struct pkg truncated = { .buf = malloc(good.len / 2), .len = good.len / 2 };
	json_t *details, *item;
	size_t i;
	bool e003 = false, e006 = false;

	/* Lint errors: 400 invalid_package, each error listed in details. */
	publish_expect(f, &push.auth, &linty, BPK_REPO_E_INVALID_PACKAGE, &error);
	assert_non_null(error.details);
	details = json_loads(error.details, 0, NULL);
	assert_true(json_is_array(details));
	json_array_foreach(details, i, item) {
		const char *id = json_string_value(json_object_get(item, "id"));

		assert_non_null(json_string_value(json_object_get(item, "name")));
		assert_non_null(json_string_value(json_object_get(item, "message")));
		assert_int_equal(id[0], 'E'); /* errors only, never warnings */
		e003 |= !strcmp(id, "E003");
		e006 |= !strcmp(id, "E006");
	}
	if (!e003 || !e006)
		fail_msg("details should list E003 and E006: %s", error.details);
	json_decref(details);
	bpk_repo_error__release(&error);

	/* Unsigned, or signed by a key the feed does not trust: 400 naming the refusal. */
	publish_expect(f, &push.auth, &unsigned_pkg, BPK_REPO_E_INVALID_PACKAGE, &error);
	assert_non_null(strstr(error.message, "unsigned"));
	bpk_repo_error__release(&error);
	publish_expect(f, &push.auth, &strange, BPK_REPO_E_INVALID_PACKAGE, &error);
	assert_non_null(strstr(error.message, bpk_key__id(f->stranger)));
	bpk_repo_error__release(&error);

	/* Not a package, or half of one. */
	memcpy(truncated.buf, good.buf, truncated.len);
	publish_expect(f, &push.auth, &garbage, BPK_REPO_E_INVALID_PACKAGE, NULL);
	publish_expect(f, &push.auth, &truncated, BPK_REPO_E_INVALID_PACKAGE, NULL);
	{
		struct pkg empty = { .buf = NULL, .len = 0 };

		publish_expect(f, &push.auth, &empty, BPK_REPO_E_INVALID_PACKAGE, NULL);
	}

	/* Nothing of the above was recorded. */
	{
		enum bpk_repo_err code;
		json_t *none = package(f, NULL, "demo", &code);

		assert_null(none);
		assert_int_equal(code, BPK_REPO_E_NOT_FOUND);
	}

	/* Past the size limit: 413, before anything else; at the limit exactly, 201. */
	reopen(f, NOW, good.len - 1);
	publish_expect(f, &push.auth, &good, BPK_REPO_E_TOO_LARGE, NULL);
	reopen(f, NOW, good.len);
	publish_ok(f, &push, &good);
	reopen(f, NOW, 0);


	/* A feed created with allow-unsigned takes unsigned packages (and still lints them). */
	{
		struct token lab;
		struct pkg lab_pkg = make_pkg("lab/probe", "0.1.0", "xdp_counter", NULL, NULL);
		struct pkg lab_linty = break_lint(&lab_pkg);

		assert_int_equal(bpk_repo__feed_create(f->repo, "lab",
						       BPK_REPO_FEED_F_ALLOW_UNSIGNED, &error),
				 0);
		lab = make_token(f, "lab", BPK_REPO_SCOPE_PUSH, 0);
		publish_expect(f, &lab.auth, &lab_linty, BPK_REPO_E_INVALID_PACKAGE, NULL);
		publish_ok(f, &lab, &lab_pkg);
		token_release(&lab);
		pkg_release(&lab_pkg);
		pkg_release(&lab_linty);
	}

	/* A feed/name whose last part is a version could not be told from name/version. */
	{
		struct token lab = make_token(f, "lab", BPK_REPO_SCOPE_PUSH, 0);
		struct pkg versioned = make_pkg("lab/1.0.0", "1.0.0", "xdp_counter", NULL, NULL);

		publish_expect(f, &lab.auth, &versioned, BPK_REPO_E_INVALID_PACKAGE, NULL);
		token_release(&lab);
		pkg_release(&versioned);
	}

	/* A package of a feed that does not exist. */
	{
		struct pkg ghost = make_pkg("ghost/x", "1.0.0", "xdp_counter", NULL, f->author);
		struct bpk_repo_auth ghost_auth = { .feed = "ghost",
						    .scope = BPK_REPO_SCOPE_ADMIN };

		publish_expect(f, &ghost_auth, &ghost, BPK_REPO_E_NOT_FOUND, NULL);
		pkg_release(&ghost);
	}

	bpk_repo_error__release(&error);
	token_release(&push);
	pkg_release(&good);
	pkg_release(&unsigned_pkg);
	pkg_release(&strange);
	pkg_release(&linty);
	pkg_release(&garbage);
	pkg_release(&truncated);
}

/* ---- yank, the package record and the signed index ---- */

static void test_yank(void **state)
{
	struct fixture *f = *state;
	struct token push = make_token(f, "public", BPK_REPO_SCOPE_YANK, 0);
	struct pkg p1 = signed_pkg(f, "demo", "1.0.0");
	struct pkg p2 = signed_pkg(f, "demo", "1.10.0");
	struct pkg p3 = signed_pkg(f, "demo", "1.9.0");
	struct bpk_repo_query all = { .text = "demo" };
	enum bpk_repo_err code;
	json_t *list, *versions;

	publish_ok(f, &push, &p1);
	publish_ok(f, &push, &p2);
	publish_ok(f, &push, &p3);
	expect_search(f, NULL, &all, "demo@1.10.0");
	expect_in_index(f, "public", "demo", "1.10.0", &p2, false);

	/* Versions in SemVer order, not text order. */
	list = package(f, NULL, "demo", &code);
	assert_int_equal(code, BPK_REPO_OK);
	versions = json_object_get(list, "versions");
	assert_int_equal(json_array_size(versions), 3);
	for (size_t i = 0; i < 3; i++) {
		static const char *const order[] = { "1.0.0", "1.9.0", "1.10.0" };
		json_t *item = json_array_get(versions, i);

		assert_string_equal(json_string_value(json_object_get(item, "version")), order[i]);
	}
	json_decref(list);

	/* Yanked: out of search, flagged in the list, the record and the signed index. */
	yank(f, &push.auth, "demo", "1.10.0", true, BPK_REPO_OK);
	expect_search(f, NULL, &all, "demo@1.9.0");
	list = package(f, NULL, "demo", &code);
	versions = json_object_get(list, "versions");
	assert_true(json_is_true(json_object_get(json_array_get(versions, 2), "yanked")));
	assert_true(json_is_false(json_object_get(json_array_get(versions, 1), "yanked")));
	json_decref(list);
	list = version_record(f, NULL, "demo", "1.10.0", &code);
	assert_int_equal(code, BPK_REPO_OK); /* pinned installs still work */
	assert_true(json_is_true(json_object_get(list, "yanked")));
	json_decref(list);
	expect_in_index(f, "public", "demo", "1.10.0", &p2, true);
	expect_in_index(f, "public", "demo", "1.9.0", &p3, false);

	/* The bytes stay downloadable. */
	{
		struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
		char *path = NULL, sha[65];
		uint64_t size;

		assert_int_equal(bpk_repo__blob(f->repo, NULL, "demo", "1.10.0", &path, sha, &size,
						&error),
				 0);
		assert_int_equal(size, p2.len);
		free(path);
	}

	/* Every version yanked: the package is gone from search; unyank brings it back. */
	yank(f, &push.auth, "demo", "1.9.0", true, BPK_REPO_OK);
	yank(f, &push.auth, "demo", "1.0.0", true, BPK_REPO_OK);
	expect_search(f, NULL, &all, "");
	yank(f, &push.auth, "demo", "1.10.0", false, BPK_REPO_OK);
	expect_search(f, NULL, &all, "demo@1.10.0");
	expect_in_index(f, "public", "demo", "1.10.0", &p2, false);
	expect_in_index(f, "public", "demo", "1.0.0", &p1, true);

	/* Yanking twice is idempotent; absent versions are 404, bad ones 400. */
	yank(f, &push.auth, "demo", "1.0.0", true, BPK_REPO_OK);
	yank(f, &push.auth, "demo", "2.0.0", true, BPK_REPO_E_NOT_FOUND);
	yank(f, &push.auth, "nosuch", "1.0.0", true, BPK_REPO_E_NOT_FOUND);
	yank(f, &push.auth, "demo", "latest", true, BPK_REPO_E_BAD_REQUEST);

	/* An absent version or package is 404. */
	json_decref(version_record(f, NULL, "demo", "2.0.0", &code));
	assert_int_equal(code, BPK_REPO_E_NOT_FOUND);
	json_decref(package(f, NULL, "nosuch", &code));
	assert_int_equal(code, BPK_REPO_E_NOT_FOUND);
	expect_not_in_index(f, "public", "demo", "2.0.0");

	token_release(&push);
	pkg_release(&p1);
	pkg_release(&p2);
	pkg_release(&p3);
}

/* ---- search ---- */

static void test_search(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct token push = make_token(f, "public", BPK_REPO_SCOPE_PUSH, 0);
	struct token acme;
	struct pkg pkgs[6];
	json_t *answer, *first;

	assert_int_equal(bpk_repo__feed_create(f->repo, "acme", 0, &error), 0);
	trust_key(f, "acme", f->author);
	acme = make_token(f, "acme", BPK_REPO_SCOPE_PUSH, 0);
	pkgs[0] = make_pkg("ratelimit", "1.0.0", "xdp_counter",
			   "{\"tags\": [\"net\", \"ddos\"], \"description\": \"drop floods\"}",
			   f->author);
	pkgs[1] = make_pkg("ratelimit-extra", "2.0.0", "xdp_counter",
			   "{\"tags\": [\"net\"], \"requires\": {\"kernel\": \">=6.5\"}}",
			   f->author);
	pkgs[2] = make_pkg("pktcount", "0.3.0", "tc_classifier",
			   "{\"description\": \"counts what a ratelimit lets through\"}",
			   f->author);
	pkgs[3] = make_pkg("acme/ratelimit", "1.2.0", "xdp_counter", "{\"tags\": [\"corp\"]}",
			   f->author);
	pkgs[4] = make_pkg("tracer", "1.0.0", "kprobe_core", "{\"description\": \"Trace Calls\"}",
			   f->author);
	pkgs[5] = make_pkg("ratelimit", "0.9.0", "xdp_counter", NULL, f->author);
	publish_ok(f, &push, &pkgs[0]);
	publish_ok(f, &push, &pkgs[1]);
	publish_ok(f, &push, &pkgs[2]);
	publish_ok(f, &acme, &pkgs[3]);
	publish_ok(f, &push, &pkgs[4]);
	publish_ok(f, &push, &pkgs[5]);

	/* Ranking: whole name, then name prefix, then a description word; ties by name. */
	expect_search(f, NULL, &(struct bpk_repo_query){ .text = "ratelimit" },
		      "acme/ratelimit@1.2.0 ratelimit@1.0.0 ratelimit-extra@2.0.0 pktcount@0.3.0");
	expect_search(f, NULL, &(struct bpk_repo_query){ .text = "RateLimit" },
		      "acme/ratelimit@1.2.0 ratelimit@1.0.0 ratelimit-extra@2.0.0 pktcount@0.3.0");
	/* Every word must match. */
	expect_search(f, NULL, &(struct bpk_repo_query){ .text = "ratelimit ddos" },
		      "ratelimit@1.0.0");
	expect_search(f, NULL, &(struct bpk_repo_query){ .text = "ratelimit nosuchword" }, "");
	expect_search(f, NULL, &(struct bpk_repo_query){ .text = "trace" }, "tracer@1.0.0");
	/* SQL LIKE's wildcards are plain characters in a query. */
	expect_search(f, NULL, &(struct bpk_repo_query){ .text = "%" }, "");
	expect_search(f, NULL, &(struct bpk_repo_query){ .text = "ratel_mit" }, "");
	expect_search(f, NULL, &(struct bpk_repo_query){ .text = "rate%" }, "");

	/* Filters. */
	expect_search(f, NULL, &(struct bpk_repo_query){ .type = "sched_cls" }, "pktcount@0.3.0");
	expect_search(f, NULL, &(struct bpk_repo_query){ .type = "kprobe" }, "tracer@1.0.0");
	expect_search(f, NULL, &(struct bpk_repo_query){ .tag = "net" },
		      "ratelimit@1.0.0 ratelimit-extra@2.0.0");
	expect_search(f, NULL, &(struct bpk_repo_query){ .tag = "corp", .text = "ratelimit" },
		      "acme/ratelimit@1.2.0");
	expect_search(f, NULL, &(struct bpk_repo_query){ .text = "ratelimit", .kernel = "6.1.0" },
		      "acme/ratelimit@1.2.0 ratelimit@1.0.0 pktcount@0.3.0");
	expect_search(f, NULL, &(struct bpk_repo_query){ .text = "ratelimit", .kernel = "6.6.0" },
		      "acme/ratelimit@1.2.0 ratelimit@1.0.0 ratelimit-extra@2.0.0 pktcount@0.3.0");
	expect_search(f, NULL, &(struct bpk_repo_query){ .kernel = "5.10.0" }, "");
	expect_search(f, NULL, &(struct bpk_repo_query){ .platform = "windows" }, "");
	expect_search(f, NULL, &(struct bpk_repo_query){ .platform = "linux", .type = "xdp" },
		      "acme/ratelimit@1.2.0 ratelimit@1.0.0 ratelimit-extra@2.0.0");
	expect_search(f, NULL, &(struct bpk_repo_query){ .feed = "acme" }, "acme/ratelimit@1.2.0");
	expect_search(f, NULL, &(struct bpk_repo_query){ .feed = "nosuch" }, "");

	/* skip and take page through the ranked list; total counts every match. */
	expect_search(f, NULL,
		      &(struct bpk_repo_query){ .text = "ratelimit", .skip = 1, .take = 2 },
		      "ratelimit@1.0.0 ratelimit-extra@2.0.0");
	expect_search(f, NULL, &(struct bpk_repo_query){ .text = "ratelimit", .skip = 4 }, "");
	expect_search(f, NULL, &(struct bpk_repo_query){ .text = "ratelimit", .skip = UINT64_MAX },
		      "");
	answer = search(f, NULL, &(struct bpk_repo_query){ .text = "ratelimit", .take = 1 });
	assert_int_equal(json_integer_value(json_object_get(answer, "total")), 4);
	assert_int_equal(json_integer_value(json_object_get(answer, "take")), 1);
	assert_int_equal(json_integer_value(json_object_get(answer, "skip")), 0);
	first = json_array_get(json_object_get(answer, "results"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "feed")), "acme");
	assert_true(json_number_value(json_object_get(first, "score")) > 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(first, "types"), 0)),
			    "xdp");
	assert_string_equal(json_string_value(json_object_get(first, "kernel")), ">=5.15");
	json_decref(answer);
	answer = search(f, NULL, &(struct bpk_repo_query){ 0 });
	assert_int_equal(json_integer_value(json_object_get(answer, "total")), 5);
	assert_int_equal(json_integer_value(json_object_get(answer, "take")), 20);
	json_decref(answer);
	answer = search(f, NULL, &(struct bpk_repo_query){ .take = 100 });
	json_decref(answer);
	assert_int_equal(bpk_repo__search(f->repo, NULL, &(struct bpk_repo_query){ .take = 101 },
					  &(char *){ NULL }, &error),
			 -EINVAL);
	assert_int_equal(error.code, BPK_REPO_E_BAD_REQUEST);
	assert_int_equal(bpk_repo__search(f->repo, NULL,
					  &(struct bpk_repo_query){ .feed = "../x" },
					  &(char *){ NULL }, &error),
			 -EINVAL);
	assert_int_equal(bpk_repo__search(f->repo, NULL, &(struct bpk_repo_query){ .kernel = "" },
					  &(char *){ NULL }, &error),
			 -EINVAL);

	bpk_repo_error__release(&error);
	for (size_t i = 0; i < ARRAY_SIZE(pkgs); i++)
		pkg_release(&pkgs[i]);
	token_release(&push);
	token_release(&acme);
}

/* ---- private feeds ---- */

/* text with every what replaced by with (malloc()ed). */
static char *replace_all(const char *text, const char *what, const char *with)
{
	struct strbuf sb = STRBUF_INIT;
	const char *at;

	while ((at = strstr(text, what))) {
		strbuf_add(&sb, text, at - text);
		strbuf_addstr(&sb, with);
		text = at + strlen(what);
	}
	strbuf_addstr(&sb, text);
	return strbuf_detach(&sb, NULL);
}

static void expect_hidden(struct fixture *f, const struct bpk_repo_auth *auth, const char *name)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT, absent = BPK_REPO_ERROR_INIT;
	enum bpk_repo_err code;
	char *json = NULL, *path = NULL, sha[65];
	void *data = NULL;
	size_t len;
	uint64_t size;

	json_decref(package(f, auth, name, &code));
	assert_int_equal(code, BPK_REPO_E_NOT_FOUND);
	json_decref(version_record(f, auth, name, "1.0.0", &code));
	assert_int_equal(code, BPK_REPO_E_NOT_FOUND);
	assert_int_equal(bpk_repo__blob(f->repo, auth, name, "1.0.0", &path, sha, &size, &error),
			 -ENOENT);
	assert_int_equal(error.code, BPK_REPO_E_NOT_FOUND);
	/* Word for word what an absent package of an absent feed answers: no existence leak. */
	assert_int_equal(bpk_repo__blob(f->repo, auth, "nosuchfeed/x", "1.0.0", &path, sha, &size,
					&absent),
			 -ENOENT);
	{
		char *hidden_said = replace_all(error.message, name, "NAME");
		char *absent_said = replace_all(absent.message, "nosuchfeed/x", "NAME");

		assert_string_equal(hidden_said, absent_said);
		free(hidden_said);
		free(absent_said);
	}
	assert_int_equal(bpk_repo__package_file(f->repo, auth, name, "1.0.0", "README.md", &data,
						&len, &error),
			 -ENOENT);
	assert_int_equal(bpk_repo__artifact(f->repo, auth, name, "1.0.0", "x.tar.gz", &path,
					    &error),
			 -ENOENT);
	assert_int_equal(bpk_repo__index_file(f->repo, auth, "secret", "targets.json", &path,
					      &error),
			 -ENOENT);
	assert_int_equal(error.code, BPK_REPO_E_NOT_FOUND);
	expect_search(f, auth, &(struct bpk_repo_query){ .text = "probe" }, "");
	expect_search(f, auth, &(struct bpk_repo_query){ .feed = "secret" }, "");
	assert_int_equal(bpk_repo__service_index(f->repo, auth, &json, &error), 0);
	assert_false(json_contains(json, "secret"));
	free(json);
	assert_null(path);
	assert_null(data);
	bpk_repo_error__release(&error);
	bpk_repo_error__release(&absent);
}

static void test_private_feed(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct token push, read, other_read;
	struct pkg p = make_pkg("secret/probe", "1.0.0", "xdp_counter", NULL, f->author);
	enum bpk_repo_err code;
	char *json = NULL, *path = NULL, sha[65];
	uint64_t size;
	void *data = NULL;
	size_t len;

	assert_int_equal(bpk_repo__feed_create(f->repo, "secret", BPK_REPO_FEED_F_PRIVATE, &error),
			 0);
	assert_int_equal(bpk_repo__feed_create(f->repo, "other", BPK_REPO_FEED_F_PRIVATE, &error),
			 0);
	trust_key(f, "secret", f->author);
	push = make_token(f, "secret", BPK_REPO_SCOPE_PUSH, 0);
	read = make_token(f, "secret", BPK_REPO_SCOPE_READ, 0);
	other_read = make_token(f, "other", BPK_REPO_SCOPE_ADMIN, 0);
	publish_ok(f, &push, &p);

	/* Without a read token of the feed: exactly as absent. */
	expect_hidden(f, NULL, "secret/probe");
	expect_hidden(f, &other_read.auth, "secret/probe");
	yank(f, NULL, "secret/probe", "1.0.0", true, BPK_REPO_E_UNAUTHORIZED);
	yank(f, &other_read.auth, "secret/probe", "1.0.0", true, BPK_REPO_E_NOT_FOUND);

	/* With one: everything is there. */
	json_decref(package(f, &read.auth, "secret/probe", &code));
	assert_int_equal(code, BPK_REPO_OK);
	json_decref(version_record(f, &read.auth, "secret/probe", "1.0.0", &code));
	assert_int_equal(code, BPK_REPO_OK);
	assert_int_equal(bpk_repo__blob(f->repo, &read.auth, "secret/probe", "1.0.0", &path, sha,
					&size, &error),
			 0);
	free(path);
	assert_int_equal(bpk_repo__package_file(f->repo, &read.auth, "secret/probe", "1.0.0",
						"README.md", &data, &len, &error),
			 0);
	assert_non_null(strstr(data, "# secret/probe"));
	free(data);
	assert_int_equal(bpk_repo__index_file(f->repo, &read.auth, "secret", "targets.json", &path,
					      &error),
			 0);
	free(path);
	expect_search(f, &read.auth, &(struct bpk_repo_query){ .text = "probe" },
		      "secret/probe@1.0.0");
	assert_int_equal(bpk_repo__service_index(f->repo, &read.auth, &json, &error), 0);
	assert_true(json_contains(json, "/v1/feeds/secret/index/"));
	free(json);
	expect_in_index(f, "secret", "secret/probe", "1.0.0", &p, false);
	/* ... and the private name never appears in the public index. */
	expect_not_in_index(f, "public", "secret/probe", "1.0.0");

	bpk_repo_error__release(&error);
	token_release(&push);
	token_release(&read);
	token_release(&other_read);
	pkg_release(&p);
}

/* ---- files, artifacts, index files ---- */

static void test_files(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct token push = make_token(f, "public", BPK_REPO_SCOPE_PUSH, 0);
	struct pkg p = signed_pkg(f, "demo", "1.0.0");
	char *path = NULL, *data = NULL, sha[65], *blob;
	uint64_t size;
	size_t len;

	publish_ok(f, &push, &p);
	assert_int_equal(bpk_repo__blob(f->repo, NULL, "demo", "1.0.0", &path, sha, &size, &error),
			 0);
	assert_int_equal(read_file(path, 1 << 20, &data, &len), 0);
	assert_int_equal(len, p.len);
	assert_memory_equal(data, p.buf, len);
	free(data);
	blob = path;
	path = NULL;

	assert_int_equal(bpk_repo__package_file(f->repo, NULL, "demo", "1.0.0", "README.md",
						(void **)&data, &len, &error),
			 0);
	assert_non_null(strstr(data, "# demo"));
	free(data);
	assert_int_equal(bpk_repo__package_file(f->repo, NULL, "demo", "1.0.0", "nosuch.txt",
						(void **)&data, &len, &error),
			 -ENOENT);

	/* l3afd's artifacts: the .bpk is the blob; the .tar.gz holds the object at its top. */
	assert_int_equal(bpk_repo__artifact(f->repo, NULL, "demo", "1.0.0", "demo.bpk", &path,
					    &error),
			 0);
	assert_string_equal(path, blob);
	free(path);
	assert_int_equal(bpk_repo__artifact(f->repo, NULL, "demo", "1.0.0", "demo.tar.gz", &path,
					    &error),
			 0);
	assert_int_equal(access(path, R_OK), 0);
	free(path);
	assert_int_equal(bpk_repo__artifact(f->repo, NULL, "demo", "1.0.0", "demo.zip", &path,
					    &error),
			 -ENOENT);
	assert_int_equal(bpk_repo__artifact(f->repo, NULL, "demo", "9.9.9", "demo.tar.gz", &path,
					    &error),
			 -ENOENT);

	/* Index files: the four roles and N.root.json; nothing else, no path games. */
	for (const char *const *file = (const char *const[]){ "root.json", "1.root.json",
							      "targets.json", "snapshot.json",
							      "timestamp.json", NULL };
	     *file; file++) {
		assert_int_equal(bpk_repo__index_file(f->repo, NULL, "public", *file, &path,
						      &error),
				 0);
		free(path);
	}
	for (const char *const *file =
		     (const char *const[]){ "2.root.json", "0.root.json", "01.root.json", ".lock",
					    "../keys/root.pem", "../../keys/online.pem",
					    "root.pem", "", ".root.json", NULL };
	     *file; file++) {
		path = NULL;
		if (bpk_repo__index_file(f->repo, NULL, "public", *file, &path, &error) != -ENOENT)
			fail_msg("index file '%s' should be not found", *file);
		assert_null(path);
	}
	assert_int_equal(bpk_repo__index_file(f->repo, NULL, "..", "root.json", &path, &error),
			 -ENOENT);
	assert_int_equal(bpk_repo__index_file(f->repo, NULL, "nosuch", "root.json", &path, &error),
			 -ENOENT);
	assert_int_equal(bpk_repo__version(f->repo, NULL, "../../etc/passwd", "1.0.0",
					   (char **)&data, &error),
			 -ENOENT);
	free(blob);
	bpk_repo_error__release(&error);
	token_release(&push);
	pkg_release(&p);
}

/* ---- service index, audit, export, check ---- */

static void test_service_index(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	char *json = NULL, *root_json, *path;
	json_t *answer, *keys, *feeds;
	size_t len;

	assert_int_equal(bpk_repo__feed_create(f->repo, "acme", 0, &error), 0);
	assert_int_equal(bpk_repo__service_index(f->repo, NULL, &json, &error), 0);
	answer = json_loads(json, 0, NULL);
	free(json);
	assert_int_equal(json_integer_value(json_object_get(answer, "api")), 1);
	assert_non_null(strstr(json_string_value(json_object_get(answer, "server")), "bpk-repo"));
	assert_true(json_array_size(json_object_get(answer, "features")) > 0);
	keys = json_object_get(answer, "keys");
	assert_int_equal(json_array_size(keys), 2);
	/* The root key id is the one that signs the index's root. */
	path = xasprintf("%s/index/public/root.json", f->repo_dir);
	assert_int_equal(read_file(path, 1 << 20, &root_json, &len), 0);
	assert_non_null(strstr(root_json,
			       json_string_value(json_object_get(answer, "root_keyid"))));
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(keys, 0),
								  "public_key")),
			       "BEGIN PUBLIC KEY"));
	json = json_dumps(answer, 0);
	assert_false(json_contains(json, "PRIVATE"));
	free(json);
	feeds = json_object_get(answer, "feeds");
	assert_int_equal(json_array_size(feeds), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(feeds, 0), "index")),
			    "/v1/feeds/acme/index/");
	assert_string_equal(json_string_value(json_object_get(json_array_get(feeds, 1), "index")),
			    "/v1/index/");
	json_decref(answer);
	free(root_json);
	free(path);
	bpk_repo_error__release(&error);
}

static bool audit_has(const json_t *log, const char *actor, const char *action,
		      const char *subject)
{
	json_t *item;
	size_t i;

	json_array_foreach(log, i, item)
		if ((!actor || !strcmp(json_string_value(json_object_get(item, "actor")), actor)) &&
		    !strcmp(json_string_value(json_object_get(item, "action")), action) &&
		    !strcmp(json_string_value(json_object_get(item, "subject")), subject))
			return true;
	return false;
}

static void test_audit(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct token t = make_token(f, "public", BPK_REPO_SCOPE_YANK, 0);
	struct pkg p = signed_pkg(f, "demo", "1.0.0");
	char *json = NULL;
	json_t *log;

	publish_ok(f, &t, &p);
	yank(f, &t.auth, "demo", "1.0.0", true, BPK_REPO_OK);
	yank(f, &t.auth, "demo", "1.0.0", false, BPK_REPO_OK);
	assert_int_equal(bpk_repo__feed_create(f->repo, "acme", BPK_REPO_FEED_F_PRIVATE, &error),
			 0);
	assert_int_equal(bpk_repo__token_revoke(f->repo, t.id, &error), 0);
	/* A refused publish is not an event of the log. */
	publish_expect(f, &t.auth, &p, BPK_REPO_E_EXISTS, NULL);

	assert_int_equal(bpk_repo__audit(f->repo, &json, &error), 0);
	log = json_loads(json, 0, NULL);
	assert_true(json_is_array(log));
	/* Oldest first, within one second too. */
	{
		static const char *const order[] = { "feed-create", "feed-trust", "token-create",
						     "publish",	    "yank",	  "unyank",
						     "feed-create", "token-revoke" };

		assert_int_equal(json_array_size(log), ARRAY_SIZE(order));
		for (size_t i = 0; i < ARRAY_SIZE(order); i++)
			assert_string_equal(json_string_value(json_object_get(
						    json_array_get(log, i), "action")),
					    order[i]);
	}
	assert_true(audit_has(log, t.id, "publish", "demo@1.0.0"));
	assert_true(audit_has(log, t.id, "yank", "demo@1.0.0"));
	assert_true(audit_has(log, t.id, "unyank", "demo@1.0.0"));
	assert_true(audit_has(log, "local", "token-create", t.id));
	assert_true(audit_has(log, "local", "token-revoke", t.id));
	assert_true(audit_has(log, "local", "feed-create", "acme"));
	assert_true(audit_has(log, "local", "feed-trust", "public"));
	assert_false(json_contains(json, t.secret));
	{
		json_t *item;
		size_t i, publishes = 0;

		json_array_foreach(log, i, item) {
			assert_string_equal(json_string_value(json_object_get(item, "time")),
					    "2026-09-21T14:13:20Z");
			publishes += !strcmp(json_string_value(json_object_get(item, "action")),
					     "publish");
		}
		assert_int_equal(publishes, 1);
	}
	json_decref(log);
	free(json);
	bpk_repo_error__release(&error);
	token_release(&t);
	pkg_release(&p);
}

static void expect_file(const char *dir, const char *rel, const struct pkg *same)
{
	char *path = xasprintf("%s/%s", dir, rel), *data;
	size_t len;

	if (read_file(path, 64 << 20, &data, &len))
		fail_msg("export did not write '%s'", rel);
	if (same) {
		assert_int_equal(len, same->len);
		assert_memory_equal(data, same->buf, len);
	}
	free(data);
	free(path);
}

static void test_export(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct token t = make_token(f, "public", BPK_REPO_SCOPE_PUSH, 0), s, a;
	struct pkg p = signed_pkg(f, "demo", "1.0.0");
	struct pkg sp = make_pkg("secret/probe", "1.0.0", "xdp_counter", NULL, f->author);
	struct pkg ap = make_pkg("acme/tool", "2.0.0", "xdp_counter", NULL, f->author);
	char *out = xasprintf("%s/export", f->dir), *hidden;
	char *out2 = xasprintf("%s/export2", f->dir);

	assert_int_equal(bpk_repo__feed_create(f->repo, "secret", BPK_REPO_FEED_F_PRIVATE, &error),
			 0);
	assert_int_equal(bpk_repo__feed_create(f->repo, "acme", 0, &error), 0);
	trust_key(f, "secret", f->author);
	trust_key(f, "acme", f->author);
	s = make_token(f, "secret", BPK_REPO_SCOPE_PUSH, 0);
	a = make_token(f, "acme", BPK_REPO_SCOPE_PUSH, 0);
	publish_ok(f, &t, &p);
	publish_ok(f, &s, &sp);
	publish_ok(f, &a, &ap);

	assert_int_equal(bpk_repo__export(f->repo, out, false, &error), 0);
	expect_file(out, "v1/index/root.json", NULL);
	expect_file(out, "v1/index/1.root.json", NULL);
	expect_file(out, "v1/index/timestamp.json", NULL);
	expect_file(out, "v1/index/snapshot.json", NULL);
	expect_file(out, "v1/index/targets.json", NULL);
	expect_file(out, "v1/feeds/acme/index/targets.json", NULL);
	expect_file(out, "v1/packages/demo/1.0.0/package.bpk", &p);
	expect_file(out, "v1/packages/acme/tool/2.0.0/package.bpk", &ap);
	expect_file(out, "demo/1.0.0/demo.tar.gz", NULL);
	expect_file(out, "acme/tool/2.0.0/tool.tar.gz", NULL);
	/* A private feed stays out unless asked for. */
	hidden = xasprintf("%s/v1/feeds/secret", out);
	assert_int_not_equal(access(hidden, F_OK), 0);
	free(hidden);
	hidden = xasprintf("%s/v1/packages/secret", out);
	assert_int_not_equal(access(hidden, F_OK), 0);
	free(hidden);

	/* The exported index verifies as the repository's does. */
	{
		char *index_dir = xasprintf("%s/v1/index", out), *root, *state_dir;
		size_t root_len;
		char *root_path = xasprintf("%s/1.root.json", index_dir);

		state_dir = xasprintf("%s/export-state", f->dir);
		assert_int_equal(read_file(root_path, 1 << 20, &root, &root_len), 0);
		{
			BPK_OPTS(bpk_index_client_opts, opts, .state_dir = state_dir, .root = root,
				 .root_len = root_len, .fetch = bpk_index__fetch_dir,
				 .fetch_ctx = index_dir, .now = NOW);
			struct bpk_index_client *c = bpk_index_client__new(&opts);

			assert_int_equal(bpk_index_client__update(c), 0);
			assert_int_equal(bpk_index_client__verify_target(c, "demo", "1.0.0", p.buf,
									 p.len),
					 0);
			bpk_index_client__free(c);
		}
		free(root);
		free(root_path);
		free(index_dir);
		free(state_dir);
	}

	assert_int_equal(bpk_repo__export(f->repo, out2, true, &error), 0);
	expect_file(out2, "v1/feeds/secret/index/targets.json", NULL);
	expect_file(out2, "v1/packages/secret/probe/1.0.0/package.bpk", &sp);

	free(out);
	free(out2);
	bpk_repo_error__release(&error);
	token_release(&t);
	token_release(&s);
	token_release(&a);
	pkg_release(&p);
	pkg_release(&sp);
	pkg_release(&ap);
}

static void test_check(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct token t = make_token(f, "public", BPK_REPO_SCOPE_PUSH, 0);
	struct pkg p = signed_pkg(f, "demo", "1.0.0");
	char digest[65], *blob, *report = NULL;

	publish_ok(f, &t, &p);
	assert_int_equal(bpk_repo__check(f->repo, &report, &error), 0);
	assert_non_null(strstr(report, "database: ok"));
	assert_non_null(strstr(report, "blobs: 0 bad"));
	free(report);

	/* One flipped byte in the blob: check names the version. */
	assert_int_equal(bpk_sha256_hex(p.buf, p.len, digest), 0);
	blob = xasprintf("%s/blobs/sha256/%.2s/%s", f->repo_dir, digest, digest);
	((char *)p.buf)[p.len / 2] ^= 0x20;
	assert_int_equal(write_file_atomic(blob, p.buf, p.len, 0644), 0);
	assert_int_not_equal(bpk_repo__check(f->repo, &report, &error), 0);
	assert_non_null(strstr(report, "demo@1.0.0"));
	assert_non_null(strstr(report, "blobs: 1 bad"));
	free(report);

	/* A missing blob too. */
	assert_int_equal(unlink(blob), 0);
	assert_int_not_equal(bpk_repo__check(f->repo, &report, &error), 0);
	assert_non_null(strstr(report, "demo@1.0.0"));
	free(report);
	free(blob);
	bpk_repo_error__release(&error);
	token_release(&t);
	pkg_release(&p);
}

/* ---- opening again: recovery of what a crash leaves ---- */

static void copy_dir_files(const char *from, const char *to)
{
	char **names = NULL;
	size_t cnt;

	assert_int_equal(mkdir_p(to, 0755), 0);
	assert_int_equal(bpk_list_dir(from, NULL, ".json", &names, &cnt), 0);
	for (size_t i = 0; i < cnt; i++) {
		char *src = xasprintf("%s/%s", from, names[i]);
		char *dst = xasprintf("%s/%s", to, names[i]);
		char *data;
		size_t len;

		assert_int_equal(read_file(src, 1 << 20, &data, &len), 0);
		assert_int_equal(write_file_atomic(dst, data, len, 0644), 0);
		free(data);
		free(src);
		free(dst);
	}
	bpk_free_names(names);
}

static void test_recovery(void **state)
{
	struct fixture *f = *state;
	struct token t = make_token(f, "public", BPK_REPO_SCOPE_PUSH, 0);
	struct pkg p1 = signed_pkg(f, "demo", "1.0.0");
	struct pkg p2 = signed_pkg(f, "demo", "2.0.0");
	char *index_dir = xasprintf("%s/index/public", f->repo_dir);
	char *saved = xasprintf("%s/saved-index", f->dir);
	char *orphan_dir = xasprintf("%s/blobs/sha256/00", f->repo_dir);
	char *orphan = xasprintf("%s/%064d", orphan_dir, 0);
	char *upload = xasprintf("%s/blobs/tmp/upload.half", f->repo_dir);

	publish_ok(f, &t, &p1);
	/* A crash after the commit of 2.0.0 and before its index: the old index files remain. */
	copy_dir_files(index_dir, saved);
	publish_ok(f, &t, &p2);
	copy_dir_files(saved, index_dir);
	/* A crash before a commit: an orphan blob; a crash mid-upload: a temp file. */
	assert_int_equal(mkdir_p(orphan_dir, 0755), 0);
	assert_int_equal(write_file_atomic(orphan, "x", 1, 0644), 0);
	assert_int_equal(write_file_atomic(upload, "half", 4, 0644), 0);

	reopen(f, NOW, 0);
	/*
	 * A crash while the index was being signed for 3.0.0: targets.json of the new version
	 * written, snapshot.json and timestamp.json still the old ones. The next start must sign
	 * the index again so that it verifies.
	 */
	{
		struct pkg p3 = signed_pkg(f, "demo", "3.0.0");
		char *snapshot = xasprintf("%s/snapshot.json", index_dir);
		char *timestamp = xasprintf("%s/timestamp.json", index_dir);
		char *old_snapshot, *old_timestamp;
		size_t snapshot_len, timestamp_len;

		assert_int_equal(read_file(snapshot, 1 << 20, &old_snapshot, &snapshot_len), 0);
		assert_int_equal(read_file(timestamp, 1 << 20, &old_timestamp, &timestamp_len), 0);
		publish_ok(f, &t, &p3);
		assert_int_equal(write_file_atomic(snapshot, old_snapshot, snapshot_len, 0644), 0);
		assert_int_equal(write_file_atomic(timestamp, old_timestamp, timestamp_len, 0644),
				 0);
		reopen(f, NOW, 0);
		expect_in_index(f, "public", "demo", "3.0.0", &p3, false);
		free(old_snapshot);
		free(old_timestamp);
		free(snapshot);
		free(timestamp);
		pkg_release(&p3);
	}
	assert_int_not_equal(access(orphan, F_OK), 0);
	assert_int_not_equal(access(upload, F_OK), 0);
	expect_in_index(f, "public", "demo", "2.0.0", &p2, false);
	expect_in_index(f, "public", "demo", "1.0.0", &p1, false);
	{
		struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
		char *report = NULL;

		assert_int_equal(bpk_repo__check(f->repo, &report, &error), 0);
		free(report);
	}

	free(index_dir);
	free(saved);
	free(orphan_dir);
	free(orphan);
	free(upload);
	token_release(&t);
	pkg_release(&p1);
	pkg_release(&p2);
}

/* ---- many threads on one repository ---- */

#define THREADS 4
#define PER_THREAD 3

struct worker {
	struct fixture *f;
	const struct token *token;
	struct pkg pkgs[PER_THREAD];
	int failures;
	char why[256];
};

/* The version of the timestamp role the public feed's index holds now. */
static uint64_t timestamp_version(struct fixture *f, int64_t now)
{
	struct bpk_index_client *c = index_client(f, "public", now);
	uint64_t version = bpk_index_meta__version(bpk_index_client__meta(c), BPK_INDEX_TIMESTAMP);

	bpk_index_client__free(c);
	return version;
}

/*
 * The timestamp expires a day after it is signed (a frozen repository is found out): a running
 * server signs it again at half life, and a start after a long stop signs it again before
 * anything is served, so a client never meets an expired index of a live repository.
 */
static void test_refresh(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	uint64_t before = timestamp_version(f, NOW);

	/* An hour on: nothing to do. */
	reopen(f, NOW + 3600, 0);
	assert_int_equal(bpk_repo__refresh(f->repo, &error), 0);
	assert_int_equal(timestamp_version(f, NOW + 3600), before);

	/* Past half life: a new timestamp, valid for another day from now. */
	reopen(f, NOW + 13 * 3600, 0);
	assert_int_equal(bpk_repo__refresh(f->repo, &error), 0);
	assert_int_equal(timestamp_version(f, NOW + 13 * 3600), before + 1);
	timestamp_version(f, NOW + 13 * 3600 + 86400 - 60);

	/* Stopped for three days: the start itself signs again, and clients accept it. */
	reopen(f, NOW + 4 * 86400, 0);
	assert_true(timestamp_version(f, NOW + 4 * 86400) > before + 1);
	bpk_repo_error__release(&error);
}

static void *publish_worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
		char *json = NULL;

		if (bpk_repo__publish(w->f->repo, &w->token->auth, w->pkgs[i].buf, w->pkgs[i].len,
				      &json, &error)) {
			w->failures++;
			snprintf(w->why, sizeof(w->why), "%s", error.message ?: "?");
		}
		free(json);
		bpk_repo_error__release(&error);
	}
	return NULL;
}

static void test_concurrent_publish(void **state)
{
	struct fixture *f = *state;
	struct token t = make_token(f, "public", BPK_REPO_SCOPE_PUSH, 0);
	struct worker workers[THREADS] = { 0 };
	pthread_t threads[THREADS];
	struct bpk_index_client *c;
	enum bpk_repo_err code;
	json_t *list;

	for (int i = 0; i < THREADS; i++) {
		workers[i].f = f;
		workers[i].token = &t;
		for (int j = 0; j < PER_THREAD; j++) {
			char version[16];

			snprintf(version, sizeof(version), "1.%d.%d", i, j);
			workers[i].pkgs[j] = signed_pkg(f, "busy", version);
		}
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, publish_worker, &workers[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
		if (workers[i].failures)
			fail_msg("thread %d: %d publishes failed: %s", i, workers[i].failures,
				 workers[i].why);
	}
	list = package(f, NULL, "busy", &code);
	assert_int_equal(code, BPK_REPO_OK);
	assert_int_equal(json_array_size(json_object_get(list, "versions")), THREADS * PER_THREAD);
	json_decref(list);
	/* The last index written holds every version, whichever thread wrote it. */
	c = index_client(f, "public", NOW);
	assert_int_equal(bpk_index_meta__target_cnt(bpk_index_client__meta(c)),
			 THREADS * PER_THREAD);
	bpk_index_client__free(c);
	for (int i = 0; i < THREADS; i++)
		for (int j = 0; j < PER_THREAD; j++)
			pkg_release(&workers[i].pkgs[j]);
	token_release(&t);
}

/* ---- the store directly ---- */

static void test_store(void **state)
{
	struct fixture *f = *state;
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	char *report = NULL;

	/* A repository opens twice on one database (many bpk-repo, one store) and agrees. */
	{
		struct bpk_repo *second = open_repo_at(f, NOW, 0);
		char *json = NULL;

		assert_int_equal(bpk_repo__feed_create(second, "fromtwo", 0, &error), 0);
		assert_int_equal(bpk_repo__feed_list(f->repo, &json, &error), 0);
		assert_true(json_contains(json, "fromtwo"));
		free(json);
		bpk_repo__free(second);
	}
	assert_int_equal(bpk_repo__check(f->repo, &report, &error), 0);
	assert_non_null(strstr(report, "database: ok\n"));
	free(report);

	/*
	 * PostgreSQL ends the repository's connections (a restart, a failover, an admin): the
	 * pool must not keep serving dead connections. A call may fail while that is found out,
	 * but the repository must come back.
	 */
	if (!strcmp(engine, "postgresql")) {
		char *sql = xasprintf("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
				      " WHERE datname = '%s' AND pid <> pg_backend_pid()",
				      f->db_name);
		PGconn *pg = PQconnectdb(getenv("BPK_TEST_PG_URL"));
		PGresult *res = PQexec(pg, sql);
		char *json = NULL;
		int err = -1;

		assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
		PQclear(res);
		PQfinish(pg);
		free(sql);
		for (int i = 0; i < 4; i++) {
			free(json);
			json = NULL;
			err = bpk_repo__feed_list(f->repo, &json, &error);
		}
		if (err)
			fail_msg("after PostgreSQL ended its connections the repository does not "
				 "recover: %s", error.message);
		free(json);
	}

	/* A database that cannot be reached fails to open, saying why. */
	if (!strcmp(engine, "postgresql")) {
		char *bad = pg_url_of("bpk_no_such_database");
		BPK_OPTS(bpk_repo_opts, opts, .db = bad, .now = NOW);
		struct bpk_repo *none = bpk_repo__open(f->repo_dir, &opts, &error);

		assert_null(none);
		assert_int_equal(error.code, BPK_REPO_E_INTERNAL);
		assert_non_null(strstr(error.message, "bpk_no_such_database"));
		free(bad);
	} else {
		char *bad = xasprintf("%s/no/such/dir/repo.db", f->dir);
		BPK_OPTS(bpk_repo_opts, opts, .db = bad, .now = NOW);

		assert_null(bpk_repo__open(f->repo_dir, &opts, &error));
		assert_int_equal(error.code, BPK_REPO_E_INTERNAL);
		free(bad);
	}
	bpk_repo_error__release(&error);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_feeds, setup, teardown),
	cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
	cmocka_unit_test_setup_teardown(test_token_expiry, setup, teardown),
	cmocka_unit_test_setup_teardown(test_scopes, setup, teardown),
	cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
	cmocka_unit_test_setup_teardown(test_publish_refusals, setup, teardown),
	cmocka_unit_test_setup_teardown(test_yank, setup, teardown),
	cmocka_unit_test_setup_teardown(test_search, setup, teardown),
	cmocka_unit_test_setup_teardown(test_private_feed, setup, teardown),
	cmocka_unit_test_setup_teardown(test_files, setup, teardown),
	cmocka_unit_test_setup_teardown(test_service_index, setup, teardown),
	cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
	cmocka_unit_test_setup_teardown(test_export, setup, teardown),
	cmocka_unit_test_setup_teardown(test_check, setup, teardown),
	cmocka_unit_test_setup_teardown(test_recovery, setup, teardown),
	cmocka_unit_test_setup_teardown(test_refresh, setup, teardown),
	cmocka_unit_test_setup_teardown(test_concurrent_publish, setup, teardown),
	cmocka_unit_test_setup_teardown(test_store, setup, teardown),
};

/*
 * BPK_TEST_ENGINE picks the engine (meson runs this program once for each); unset, both run,
 * PostgreSQL when BPK_TEST_PG_URL names a server. A PostgreSQL run without one is skipped (77).
 */
int main(void)
{
	const char *want = getenv("BPK_TEST_ENGINE");
	bool pg = getenv("BPK_TEST_PG_URL") && *getenv("BPK_TEST_PG_URL");
	int failed = 0;

	bpk_set_print(NULL);
	if (!want || !strcmp(want, "sqlite")) {
		engine = "sqlite";
		failed += cmocka_run_group_tests_name("repo-sqlite", tests, NULL, NULL);
	}
	if (!want || !strcmp(want, "postgresql")) {
		if (!pg) {
			printf("SKIP: the PostgreSQL group needs BPK_TEST_PG_URL (tools/test.sh "
			       "starts a server with tools/pg.sh)\n");
			return want ? 77 : failed;
		}
		engine = "postgresql";
		failed += cmocka_run_group_tests_name("repo-postgresql", tests, NULL, NULL);
	}
	return failed;
}

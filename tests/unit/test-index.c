// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the signed index: signing, the TUF client workflow and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>

/* The module itself, so the tests can reach its static helpers (h2o's habit). */
#include "index.c"

/* 2026-09-21T09:46:40Z: every test signs and verifies around this fixed time. */
#define NOW 1790000000LL
#define DAY 86400LL

struct key {
	EVP_PKEY *pkey;
	char *pem; /* private */
	char *pub; /* public */
	char id[BPK_KEYID_LEN + 1];
};

/* Scratch directory per test, with a repository and a client state under it. */
struct fixture {
	char dir[64];
	char repo[96];
	char state[96];
	char old[96]; /* copies of earlier repository files */
	struct key keys[8];
};

static void key_init(struct key *k)
{
	k->pkey = bpk_ed25519_generate();
	assert_non_null(k->pkey);
	k->pem = bpk_key_to_pem(k->pkey, true, NULL);
	k->pub = bpk_key_to_pem(k->pkey, false, NULL);
	assert_non_null(k->pem);
	assert_non_null(k->pub);
	assert_int_equal(bpk_key_id(k->pkey, k->id), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	size_t i;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/bpk-test-index.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->repo, sizeof(f->repo), "%s/repo", f->dir);
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	snprintf(f->old, sizeof(f->old), "%s/old", f->dir);
	assert_int_equal(mkdir(f->old, 0755), 0);
	for (i = 0; i < ARRAY_SIZE(f->keys); i++)
		key_init(&f->keys[i]);
	bpk_set_print(NULL);
	*state = f;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	size_t i;

	nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	for (i = 0; i < ARRAY_SIZE(f->keys); i++) {
		EVP_PKEY_free(f->keys[i].pkey);
		free(f->keys[i].pem);
		free(f->keys[i].pub);
	}
	free(f);
	return 0;
}

/* ---- Helpers: a repository, a client, forged documents ---- */

static struct bpk_index *new_repo(int64_t now)
{
	BPK_OPTS(bpk_index_opts, opts, .now = now);
	struct bpk_index *idx = bpk_index__new(&opts);

	assert_non_null(idx);
	return idx;
}

static void add_key(struct bpk_index *idx, enum bpk_index_role role, const char *pem)
{
	int err = bpk_index__add_key(idx, role, pem, strlen(pem));

	if (err)
		fail_msg("add_key: %s", bpk_index__errstr(idx));
}

/* A repository with key i for role i (root 0, targets 1, snapshot 2, timestamp 3). */
static struct bpk_index *create_repo(struct fixture *f)
{
	struct bpk_index *idx = new_repo(NOW);
	int role;

	for (role = 0; role < BPK_INDEX_ROLE_CNT; role++)
		add_key(idx, (enum bpk_index_role)role, f->keys[role].pem);
	if (bpk_index__create(idx, f->repo))
		fail_msg("create: %s", bpk_index__errstr(idx));
	return idx;
}

static struct bpk_index *load_repo(struct fixture *f, int64_t now, const int *key_idx, size_t n)
{
	struct bpk_index *idx = new_repo(now);
	size_t i;

	if (bpk_index__load(idx, f->repo))
		fail_msg("load: %s", bpk_index__errstr(idx));
	for (i = 0; i < n; i++)
		assert_int_equal(bpk_index__load_key(idx, f->keys[key_idx[i]].pem,
						     strlen(f->keys[key_idx[i]].pem)),
				 0);
	return idx;
}

static void add_pkg(struct bpk_index *idx, const char *name, const char *version, const char *data)
{
	struct bpk_index_target t = { .name = name, .version = version, .size = strlen(data) };
	char hex[65];

	assert_int_equal(bpk_sha256_hex(data, strlen(data), hex), 0);
	t.sha256 = hex;
	if (bpk_index__add_target(idx, &t))
		fail_msg("add_target: %s", bpk_index__errstr(idx));
}

static void publish(struct bpk_index *idx)
{
	if (bpk_index__publish(idx))
		fail_msg("publish: %s", bpk_index__errstr(idx));
}

static char *path_in(const char *dir, const char *name)
{
	char *p = path_join(dir, name);

	assert_non_null(p);
	return p;
}

static char *slurp(const char *dir, const char *name, size_t *ret_len)
{
	_cleanup_free_ char *p = path_in(dir, name);
	char *data;
	size_t len;

	assert_int_equal(read_file(p, 64 << 20, &data, &len), 0);
	if (ret_len)
		*ret_len = len;
	return data;
}

static void spit(const char *dir, const char *name, const void *data, size_t len)
{
	_cleanup_free_ char *p = path_in(dir, name);

	assert_int_equal(write_file_atomic(p, data, len, 0644), 0);
}

static void copy(const char *from, const char *to, const char *name)
{
	size_t len;
	_cleanup_free_ char *data = slurp(from, name, &len);

	spit(to, name, data, len);
}

static void unlink_in(const char *dir, const char *name)
{
	_cleanup_free_ char *p = path_in(dir, name);

	unlink(p);
}

/* Records every fetch and its bound; can append bytes to one file to play endless data. */
struct fetch_log {
	const char *dir;
	char names[32][32];
	uint64_t bounds[32];
	int cnt;
	const char *grow_name;
	size_t grow_by;
};

static int log_fetch(void *ctx, const char *name, uint64_t max_len, void **ret_data,
		     size_t *ret_len)
{
	struct fetch_log *log = ctx;
	int err;

	if (log->cnt < 32) {
		snprintf(log->names[log->cnt], sizeof(log->names[0]), "%s", name);
		log->bounds[log->cnt++] = max_len;
	}
	err = bpk_index__fetch_dir((void *)log->dir, name, max_len, ret_data, ret_len);
	if (!err && log->grow_name && !strcmp(name, log->grow_name)) {
		/* A hostile server ignores the bound. */
		char *data = realloc(*ret_data, *ret_len + log->grow_by);

		assert_non_null(data);
		memset(data + *ret_len, ' ', log->grow_by);
		*ret_data = data;
		*ret_len += log->grow_by;
	}
	return err;
}

static uint64_t logged_bound(const struct fetch_log *log, const char *name)
{
	int i;

	for (i = 0; i < log->cnt; i++)
		if (!strcmp(log->names[i], name))
			return log->bounds[i];
	fail_msg("%s was not fetched", name);
	return 0;
}

/*
 * Update a client over f->repo with state f->state, trusting root (a file in f->old, or NULL
 * for the state's). Returns the client (to free) and its result in *ret_err.
 */
static struct bpk_index_client *client_update(struct fixture *f, struct fetch_log *log,
					      const char *root_file, int64_t now, int *ret_err)
{
	BPK_OPTS(bpk_index_client_opts, opts, .state_dir = f->state, .fetch = log_fetch,
		 .fetch_ctx = log, .now = now);
	_cleanup_free_ char *root = NULL;
	struct bpk_index_client *c;
	size_t len = 0;

	log->dir = f->repo;
	if (root_file) {
		root = slurp(f->old, root_file, &len);
		opts.root = root;
		opts.root_len = len;
	}
	c = bpk_index_client__new(&opts);
	assert_non_null(c);
	*ret_err = bpk_index_client__update(c);
	return c;
}

/* The client updates; fails the test with its reason if it does not. */
static struct bpk_index_client *expect_update(struct fixture *f, const char *root_file,
					      int64_t now)
{
	struct fetch_log log = { 0 };
	struct bpk_index_client *c;
	int err;

	c = client_update(f, &log, root_file, now, &err);
	if (err)
		fail_msg("update refused: %s", bpk_index_client__errstr(c));
	assert_non_null(bpk_index_client__meta(c));
	return c;
}

/* The client refuses with code, errno and a reason containing text. */
static void expect_refusal_log(struct fixture *f, struct fetch_log *log, const char *root_file,
			       int64_t now, int want_err, enum bpk_index_err code, const char *text)
{
	struct bpk_index_client *c;
	int err;

	c = client_update(f, log, root_file, now, &err);
	if (err != want_err || bpk_index_client__err(c) != code ||
	    !strstr(bpk_index_client__errstr(c), text))
		fail_msg("update: %d (%s) \"%s\"; wanted %d (%s) with \"%s\"", err,
			 bpk_index_err__name(bpk_index_client__err(c)), bpk_index_client__errstr(c),
			 want_err, bpk_index_err__name(code), text);
	assert_null(bpk_index_client__meta(c));
	bpk_index_client__free(c);
}

static void expect_refusal(struct fixture *f, const char *root_file, int64_t now, int want_err,
			   enum bpk_index_err code, const char *text)
{
	struct fetch_log log = { 0 };

	expect_refusal_log(f, &log, root_file, now, want_err, code, text);
}

/* Sign signed_ with keys (whatever any root says) into dir/name, the way a forger would. */
static void forge(const char *dir, const char *name, json_t *signed_, const struct key *const *keys,
		  size_t n)
{
	json_t *sigs = json_array(), *doc;
	char *canon, *text;
	size_t i, len;

	/* Not canonical_dump(): a forger may sign what has no canonical form. */
	canon = json_dumps(signed_, CANONICAL_FLAGS);
	assert_non_null(canon);
	len = strlen(canon);
	for (i = 0; i < n; i++) {
		unsigned char sig[BPK_ED25519_SIG_LEN];
		char *b64;

		assert_int_equal(bpk_ed25519_sign(keys[i]->pkey, canon, len, sig), 0);
		b64 = bpk_base64_encode(sig, sizeof(sig));
		json_array_append_new(sigs, json_pack("{s:s, s:s}", "keyid", keys[i]->id, "sig",
						      b64));
		free(b64);
	}
	doc = json_pack("{s:O, s:o}", "signed", signed_, "signatures", sigs);
	text = json_dumps(doc, CANONICAL_FLAGS);
	assert_non_null(text);
	spit(dir, name, text, strlen(text));
	free(text);
	free(canon);
	json_decref(doc);
}

/* The "signed" part of dir/name (new reference). */
static json_t *signed_of(const char *dir, const char *name)
{
	size_t len;
	_cleanup_free_ char *data = slurp(dir, name, &len);
	json_t *doc = json_loadb(data, len, 0, NULL), *s;

	assert_non_null(doc);
	s = json_incref(json_object_get(doc, "signed"));
	json_decref(doc);
	return s;
}

/* A meta record for the file dir/name as it is now. */
static json_t *record_of(const char *dir, const char *name, json_int_t version)
{
	size_t len;
	_cleanup_free_ char *data = slurp(dir, name, &len);
	char hex[65];

	assert_int_equal(bpk_sha256_hex(data, len, hex), 0);
	return json_pack("{s:I, s:I, s:{s:s}}", "version", version, "length", (json_int_t)len,
			 "hashes", "sha256", hex);
}

/* Set signed.meta[name] of the document file to a record of dir/name. */
static void set_record(json_t *signed_, const char *dir, const char *name, json_int_t version)
{
	json_object_set_new(json_object_get(signed_, "meta"), name,
			    record_of(dir, name, version));
}

/* ---- Tests ---- */

static void test_time(void **state)
{
	int64_t t;
	char out[21];

	assert_int_equal(bpk_index_time__parse("2026-12-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 1796083200);
	assert_int_equal(bpk_index_time__format(t, out), 0);
	assert_string_equal(out, "2026-12-01T00:00:00Z");
	assert_int_equal(bpk_index_time__parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(bpk_index_time__parse("2028-02-29T23:59:59Z", &t), 0);
	static const char *const bad[] = {
		"2026-02-30T00:00:00Z", "2026-12-01T00:00:00z", "2026-12-01 00:00:00Z",
		"2026-12-01T00:00:00+00:00", "2026-12-01T00:00:00.5Z", "2026-13-01T00:00:00Z",
		"2026-12-01T24:00:00Z", "0000-01-01T00:00:00Z", "2026-1-01T00:00:00Z", "", "x",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(bpk_index_time__parse(bad[i], &t), -EINVAL);
	assert_int_equal(bpk_index_time__format(253402300800LL, out), -ERANGE); /* year 10000 */
}

static void test_canonical(void **state)
{
	struct fixture *f = *state;
	json_t *v = json_loads("{\"b\": \"\\u00e9\\ud83d\\ude00/\\n\", "
			       "\"a\": [1, -0, {\"z\": true, \"y\": null}]}",
			       0, NULL);
	struct bpk_index *idx;
	char *text, *data;
	size_t len, i;
	int role;

	assert_non_null(v);
	text = canonical_dump(v, &len);
	assert_string_equal(text, "{\"a\":[1,0,{\"y\":null,\"z\":true}],"
				  "\"b\":\"\\u00E9\\uD83D\\uDE00/\\n\"}");
	assert_int_equal(len, strlen(text));
	free(text);
	json_decref(v);

	/* Reals have no canonical form; neither has a tree deeper than the bound. */
	v = json_loads("{\"a\": [1.0]}", 0, NULL);
	errno = 0;
	assert_null(canonical_dump(v, &len));
	assert_int_equal(errno, EDOM);
	json_decref(v);
	v = json_array();
	for (i = 0; i < 40; i++)
		v = json_pack("[o]", v);
	assert_null(canonical_dump(v, &len));
	assert_int_equal(errno, E2BIG);
	json_decref(v);

	/* Every file written is the canonical form of itself plus a newline: re-serialising it
	 * gives the same bytes. */
	idx = create_repo(f);
	add_pkg(idx, "acme/pkt", "1.0.0", "package bytes");
	publish(idx);
	for (role = 0; role < BPK_INDEX_ROLE_CNT; role++) {
		data = slurp(f->repo, role_files[role], &len);
		v = json_loadb(data, len, 0, NULL);
		text = canonical_dump(v, &i);
		assert_int_equal(i + 1, len);
		assert_memory_equal(text, data, i);
		assert_int_equal(data[len - 1], '\n');
		free(text);
		free(data);
		json_decref(v);
	}
	bpk_index__free(idx);
}

static void test_refuse_reals(void **state)
{
	struct fixture *f = *state;
	const struct key *ts[] = { &f->keys[3] };
	struct bpk_index *idx = create_repo(f);
	json_t *s;

	bpk_index__free(idx);
	/* A signed document that holds a real cannot be verified, even if its signature is
	 * "valid" over some text form: the client refuses it before looking at signatures. */
	s = signed_of(f->repo, "timestamp.json");
	json_object_set_new(s, "version", json_integer(2));
	json_object_set_new(s, "ratio", json_real(0.5));
	forge(f->repo, "timestamp.json", s, ts, 1);
	json_decref(s);
	copy(f->repo, f->old, "root.json");
	expect_refusal(f, "root.json", NOW, -EINVAL, BPK_INDEX_E_MALFORMED,
		       "timestamp.json: 'signed' holds a fraction or exponent, which has no "
		       "canonical form");
}

static void test_create_publish_verify(void **state)
{
	struct fixture *f = *state;
	struct bpk_index_client *c;
	const struct bpk_index_meta *m;
	struct bpk_index_target t;
	struct bpk_index *idx;
	char hex[65];

	idx = create_repo(f);
	m = bpk_index__meta(idx);
	assert_int_equal(bpk_index_meta__version(m, BPK_INDEX_ROOT), 1);
	assert_int_equal(bpk_index_meta__version(m, BPK_INDEX_TIMESTAMP), 1);
	assert_int_equal(bpk_index_meta__expires(m, BPK_INDEX_TIMESTAMP), NOW + DAY);
	assert_int_equal(bpk_index_meta__expires(m, BPK_INDEX_TARGETS), NOW + 30 * DAY);
	assert_int_equal(bpk_index_meta__expires(m, BPK_INDEX_ROOT), NOW + 365 * DAY);
	assert_string_equal(bpk_index_meta__keyid(m, BPK_INDEX_SNAPSHOT, 0), f->keys[2].id);

	/* Creating again over it is refused. */
	{
		struct bpk_index *again = new_repo(NOW);

		add_key(again, BPK_INDEX_ROOT, f->keys[0].pem);
		assert_int_equal(bpk_index__create(again, f->repo), -EEXIST);
		assert_int_equal(bpk_index__err(again), BPK_INDEX_E_EXISTS);
		bpk_index__free(again);
	}

	add_pkg(idx, "acme/pkt", "1.0.0", "pkt one");
	add_pkg(idx, "ratelimit", "1.2.0", "ratelimit bytes");
	add_pkg(idx, "ratelimit", "1.10.0", "ratelimit bytes, newer");
	publish(idx);
	assert_int_equal(bpk_index_meta__version(m, BPK_INDEX_TARGETS), 2);
	assert_int_equal(bpk_index_meta__version(m, BPK_INDEX_SNAPSHOT), 2);
	assert_int_equal(bpk_index_meta__version(m, BPK_INDEX_TIMESTAMP), 2);
	bpk_index__free(idx);

	copy(f->repo, f->old, "1.root.json");
	c = expect_update(f, "1.root.json", NOW + 60);
	assert_string_equal(bpk_index_client__errstr(c), "");
	m = bpk_index_client__meta(c);
	assert_int_equal(bpk_index_meta__version(m, BPK_INDEX_TARGETS), 2);
	assert_int_equal(bpk_index_meta__target_cnt(m), 3);
	/* Sorted by name, then SemVer precedence (1.2.0 before 1.10.0). */
	assert_int_equal(bpk_index_meta__target(m, 0, &t), 0);
	assert_string_equal(t.name, "acme/pkt");
	assert_string_equal(t.feed, "acme");
	assert_int_equal(bpk_index_meta__target(m, 1, &t), 0);
	assert_string_equal(t.version, "1.2.0");
	assert_string_equal(t.feed, "public");
	assert_int_equal(bpk_index_meta__target(m, 2, &t), 0);
	assert_string_equal(t.version, "1.10.0");
	assert_int_equal(bpk_index_meta__target(m, 3, &t), -ENOENT);

	assert_int_equal(bpk_index_meta__find(m, "ratelimit", "1.2.0", &t), 0);
	assert_int_equal(t.size, strlen("ratelimit bytes"));
	assert_int_equal(bpk_sha256_hex("ratelimit bytes", 15, hex), 0);
	assert_string_equal(t.sha256, hex);
	assert_false(t.yanked);
	assert_int_equal(bpk_index_meta__find(m, "ratelimit", "9.9.9", &t), -ENOENT);

	/* The package check: same bytes pass; other bytes or another length are refused. */
	assert_int_equal(bpk_index_client__verify_target(c, "ratelimit", "1.2.0", "ratelimit bytes",
							 15),
			 0);
	assert_int_equal(bpk_index_client__verify_target(c, "ratelimit", "1.2.0", "ratelimit bytez",
							 15),
			 -EBADMSG);
	assert_int_equal(bpk_index_client__err(c), BPK_INDEX_E_TARGET_MISMATCH);
	assert_non_null(strstr(bpk_index_client__errstr(c), "is not the"));
	assert_non_null(strstr(bpk_index_client__errstr(c),
			       "targets.json records for ratelimit@1.2.0"));
	assert_int_equal(bpk_index_client__verify_target(c, "ratelimit", "1.2.0", "ratelimit", 9),
			 -EBADMSG);
	assert_string_equal(bpk_index_client__errstr(c),
			    "the package is 9 bytes, but targets.json records 15 for "
			    "ratelimit@1.2.0");
	assert_int_equal(bpk_index_client__verify_target(c, "nope", "1.0.0", "x", 1), -ENOENT);
	assert_string_equal(bpk_index_client__errstr(c),
			    "nope@1.0.0 is not in the index (targets.json version 2)");
	assert_int_equal(bpk_index_client__err(c), BPK_INDEX_E_UNKNOWN_TARGET);
	bpk_index_client__free(c);

	/* The state remembers the root: a second client needs none given. */
	c = expect_update(f, NULL, NOW + 120);
	bpk_index_client__free(c);
}

static void test_add_target_validation(void **state)
{
	struct fixture *f = *state;
	struct bpk_index *idx = create_repo(f);
	char hex[65];
	struct bpk_index_target t = { .name = "x", .version = "1.0.0", .sha256 = hex, .size = 1 };

	assert_int_equal(bpk_sha256_hex("x", 1, hex), 0);
	t.version = "1.0";
	assert_int_equal(bpk_index__add_target(idx, &t), -EINVAL);
	t.version = "1.0.0";
	t.name = "Bad Name";
	assert_int_equal(bpk_index__add_target(idx, &t), -EINVAL);
	t.name = "acme/x";
	t.feed = "other";
	assert_int_equal(bpk_index__add_target(idx, &t), -EINVAL);
	assert_non_null(strstr(bpk_index__errstr(idx), "cannot be in feed \"other\""));
	t.feed = NULL;
	t.sha256 = "ABCD";
	assert_int_equal(bpk_index__add_target(idx, &t), -EINVAL);
	t.sha256 = hex;
	assert_int_equal(bpk_index__add_target(idx, &t), 0);
	/* Replacing the same name@version keeps one entry. */
	t.size = 2;
	assert_int_equal(bpk_index__add_target(idx, &t), 0);
	publish(idx);
	assert_int_equal(bpk_index_meta__target_cnt(bpk_index__meta(idx)), 1);
	assert_int_equal(bpk_index_meta__find(bpk_index__meta(idx), "acme/x", "1.0.0", &t), 0);
	assert_int_equal(t.size, 2);
	assert_int_equal(bpk_index__set_yanked(idx, "acme/x", "2.0.0", true), -ENOENT);
	assert_string_equal(bpk_index__errstr(idx), "'acme/x@2.0.0' is not in the index");
	bpk_index__free(idx);
}

static void test_yank(void **state)
{
	struct fixture *f = *state;
	const int keys[] = { 1, 2, 3 };
	struct bpk_index_client *c;
	struct bpk_index_target t;
	struct bpk_index *idx = create_repo(f);

	add_pkg(idx, "ratelimit", "1.0.0", "bytes");
	publish(idx);
	bpk_index__free(idx);
	copy(f->repo, f->old, "root.json");

	idx = load_repo(f, NOW + 10, keys, 3);
	assert_int_equal(bpk_index__set_yanked(idx, "ratelimit", "1.0.0", true), 0);
	publish(idx);
	bpk_index__free(idx);
	c = expect_update(f, "root.json", NOW + 20);
	assert_int_equal(bpk_index_meta__find(bpk_index_client__meta(c), "ratelimit", "1.0.0", &t),
			 0);
	assert_true(t.yanked);
	/* Yanked packages still verify: pinned installs keep working. */
	assert_int_equal(bpk_index_client__verify_target(c, "ratelimit", "1.0.0", "bytes", 5), 0);
	bpk_index_client__free(c);

	idx = load_repo(f, NOW + 30, keys, 3);
	assert_int_equal(bpk_index__set_yanked(idx, "ratelimit", "1.0.0", false), 0);
	publish(idx);
	bpk_index__free(idx);
	c = expect_update(f, NULL, NOW + 40);
	assert_int_equal(bpk_index_meta__find(bpk_index_client__meta(c), "ratelimit", "1.0.0", &t),
			 0);
	assert_false(t.yanked);
	assert_int_equal(bpk_index_meta__version(bpk_index_client__meta(c), BPK_INDEX_TARGETS), 4);
	bpk_index_client__free(c);
}

static void test_threshold_2_of_3(void **state)
{
	struct fixture *f = *state;
	struct bpk_index *idx = new_repo(NOW);
	struct bpk_index_client *c;
	const struct key *one[] = { &f->keys[4] }, *two[] = { &f->keys[4], &f->keys[5] };
	const struct key *dup[] = { &f->keys[4], &f->keys[4] };
	json_t *s;

	/* Root and timestamp need 2 of 3; the third key of each is listed as public only. */
	add_key(idx, BPK_INDEX_ROOT, f->keys[0].pem);
	add_key(idx, BPK_INDEX_ROOT, f->keys[1].pem);
	add_key(idx, BPK_INDEX_ROOT, f->keys[2].pub);
	assert_int_equal(bpk_index__set_threshold(idx, BPK_INDEX_ROOT, 2), 0);
	add_key(idx, BPK_INDEX_TARGETS, f->keys[3].pem);
	add_key(idx, BPK_INDEX_SNAPSHOT, f->keys[3].pem);
	add_key(idx, BPK_INDEX_TIMESTAMP, f->keys[4].pem);
	add_key(idx, BPK_INDEX_TIMESTAMP, f->keys[5].pem);
	add_key(idx, BPK_INDEX_TIMESTAMP, f->keys[6].pub);
	assert_int_equal(bpk_index__set_threshold(idx, BPK_INDEX_TIMESTAMP, 2), 0);
	assert_int_equal(bpk_index__add_key(idx, BPK_INDEX_TIMESTAMP, f->keys[6].pub,
					    strlen(f->keys[6].pub)),
			 -EEXIST);
	assert_int_equal(bpk_index__set_threshold(idx, BPK_INDEX_TIMESTAMP, 0), -EINVAL);
	if (bpk_index__create(idx, f->repo))
		fail_msg("create: %s", bpk_index__errstr(idx));
	bpk_index__free(idx);
	copy(f->repo, f->old, "root.json");
	c = expect_update(f, "root.json", NOW);
	assert_int_equal(bpk_index_meta__threshold(bpk_index_client__meta(c), BPK_INDEX_TIMESTAMP),
			 2);
	assert_int_equal(bpk_index_meta__keyid_cnt(bpk_index_client__meta(c), BPK_INDEX_ROOT), 3);
	bpk_index_client__free(c);

	/* The repository will not sign with fewer keys than the threshold. */
	{
		const int keys[] = { 3, 4 };

		idx = load_repo(f, NOW, keys, 2);
		assert_int_equal(bpk_index__refresh(idx), -ENOKEY);
		assert_int_equal(bpk_index__err(idx), BPK_INDEX_E_NO_KEY);
		assert_string_equal(bpk_index__errstr(idx),
				    "cannot sign timestamp.json: the root requires 2 of its 3 "
				    "timestamp keys, and 1 was given");
		bpk_index__free(idx);
	}

	/* A timestamp with one signature, or one key signing twice, is refused. */
	s = signed_of(f->repo, "timestamp.json");
	json_object_set_new(s, "version", json_integer(2));
	forge(f->repo, "timestamp.json", s, one, 1);
	expect_refusal(f, NULL, NOW, -EKEYREJECTED, BPK_INDEX_E_SIGNATURE,
		       "timestamp.json: 1 valid signature of the 2 required");
	forge(f->repo, "timestamp.json", s, dup, 2);
	expect_refusal(f, NULL, NOW, -EKEYREJECTED, BPK_INDEX_E_SIGNATURE,
		       "timestamp.json: 1 valid signature of the 2 required");
	forge(f->repo, "timestamp.json", s, two, 2);
	c = expect_update(f, NULL, NOW);
	assert_int_equal(bpk_index_meta__version(bpk_index_client__meta(c), BPK_INDEX_TIMESTAMP),
			 2);
	bpk_index_client__free(c);
	json_decref(s);
}

/* Rotate the root of f->repo to the keys new_keys (all private), signed by old_keys. */
static void rotate(struct fixture *f, const int *old_keys, size_t old_cnt, const int *new_keys,
		   size_t new_cnt, unsigned int threshold, int64_t now)
{
	struct bpk_index *idx = load_repo(f, now, old_keys, old_cnt);
	size_t i;

	assert_int_equal(bpk_index__clear_keys(idx, BPK_INDEX_ROOT), 0);
	for (i = 0; i < new_cnt; i++)
		add_key(idx, BPK_INDEX_ROOT, f->keys[new_keys[i]].pem);
	assert_int_equal(bpk_index__set_threshold(idx, BPK_INDEX_ROOT, threshold), 0);
	if (bpk_index__rotate_root(idx))
		fail_msg("rotate: %s", bpk_index__errstr(idx));
	bpk_index__free(idx);
}

static void test_root_rotation_chain(void **state)
{
	struct fixture *f = *state;
	const int k0[] = { 0 }, k45[] = { 4, 5 }, k6[] = { 6 };
	struct bpk_index_client *c;
	struct fetch_log log = { 0 };
	struct bpk_index *idx;
	char *one, *latest, *third;
	int err;

	idx = create_repo(f);
	bpk_index__free(idx);
	copy(f->repo, f->old, "1.root.json");
	c = expect_update(f, "1.root.json", NOW);
	bpk_index_client__free(c);

	/* Nothing edited: nothing to rotate. */
	idx = load_repo(f, NOW, k0, 1);
	assert_int_equal(bpk_index__rotate_root(idx), -EINVAL);
	bpk_index__free(idx);

	/* 1 -> 2 (keys 4 and 5, 2 of 2) -> 3 (key 6). */
	rotate(f, k0, 1, k45, 2, 2, NOW + 10);
	rotate(f, k45, 2, k6, 1, 1, NOW + 20);
	one = slurp(f->repo, "1.root.json", NULL);
	latest = slurp(f->repo, "root.json", NULL);
	third = slurp(f->repo, "3.root.json", NULL);
	assert_string_equal(latest, third);
	assert_string_not_equal(one, latest);
	free(one);
	free(latest);
	free(third);

	/* A client that knew only version 1 walks 2 and 3, with no state at all... */
	memset(&log, 0, sizeof(log));
	strcat(f->state, "-fresh");
	c = client_update(f, &log, "1.root.json", NOW + 30, &err);
	if (err)
		fail_msg("%s", bpk_index_client__errstr(c));
	assert_int_equal(bpk_index_meta__version(bpk_index_client__meta(c), BPK_INDEX_ROOT), 3);
	assert_string_equal(log.names[0], "2.root.json");
	assert_string_equal(log.names[1], "3.root.json");
	assert_string_equal(log.names[2], "4.root.json");
	assert_int_equal(log.bounds[0], BPK_INDEX_MAX_ROOT_LEN);
	bpk_index_client__free(c);
	f->state[strlen(f->state) - strlen("-fresh")] = '\0';

	/* ...and so does the one whose state is at version 1. */
	c = expect_update(f, NULL, NOW + 30);
	assert_int_equal(bpk_index_meta__version(bpk_index_client__meta(c), BPK_INDEX_ROOT), 3);
	bpk_index_client__free(c);

	/* Rotating with one of the two keys of version 2's threshold is refused. */
	copy(f->repo, f->old, "3.root.json");
	{
		struct bpk_index *r = load_repo(f, NOW, k6, 1);

		assert_int_equal(bpk_index__clear_keys(r, BPK_INDEX_ROOT), 0);
		add_key(r, BPK_INDEX_ROOT, f->keys[7].pub);
		assert_int_equal(bpk_index__rotate_root(r), -ENOKEY);
		assert_string_equal(bpk_index__errstr(r),
				    "cannot sign root.json: the new root version 4 requires 1 of "
				    "its 1 root key, and 0 were given");
		bpk_index__free(r);
	}
}

static void test_root_rotation_refusals(void **state)
{
	struct fixture *f = *state;
	const struct key *attacker[] = { &f->keys[7] };
	const struct key *one_old_and_new[] = { &f->keys[4], &f->keys[7] };
	const struct key *two_old[] = { &f->keys[4], &f->keys[5] };
	const struct key *two_old_and_new[] = { &f->keys[4], &f->keys[5], &f->keys[7] };
	const int k0[] = { 0 }, k45[] = { 4, 5 };
	struct bpk_index *idx;
	struct bpk_index_client *c;
	json_t *s, *keys, *rootrole;

	idx = create_repo(f);
	bpk_index__free(idx);
	rotate(f, k0, 1, k45, 2, 2, NOW); /* version 2: 2 of keys 4, 5 */
	copy(f->repo, f->old, "2.root.json");
	c = expect_update(f, "2.root.json", NOW);
	bpk_index_client__free(c);

	/* The attacker's version 3 lists only their key. */
	s = signed_of(f->repo, "2.root.json");
	json_object_set_new(s, "version", json_integer(3));
	keys = json_object_get(s, "keys");
	json_object_set_new(keys, f->keys[7].id,
			    json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ed25519", "scheme",
				      "ed25519", "keyval", "public", f->keys[7].pub));
	rootrole = json_object_get(json_object_get(s, "roles"), "root");
	json_object_set_new(rootrole, "keyids", json_pack("[s]", f->keys[7].id));
	json_object_set_new(rootrole, "threshold", json_integer(1));

	/* Signed only by the new key. */
	forge(f->repo, "3.root.json", s, attacker, 1);
	expect_refusal(f, NULL, NOW, -EKEYREJECTED, BPK_INDEX_E_ROOT_CHAIN,
		       "3.root.json is not signed by a threshold of the keys of root version 2 "
		       "(0 valid signatures of the 2 required; 1 by a key not trusted for the root "
		       "role)");
	/* Signed by one of the two old keys (and the new one). */
	forge(f->repo, "3.root.json", s, one_old_and_new, 2);
	expect_refusal(f, NULL, NOW, -EKEYREJECTED, BPK_INDEX_E_ROOT_CHAIN,
		       "3.root.json is not signed by a threshold of the keys of root version 2 "
		       "(1 valid signature of the 2 required");
	/* Signed by the old keys, but not by its own. */
	forge(f->repo, "3.root.json", s, two_old, 2);
	expect_refusal(f, NULL, NOW, -EKEYREJECTED, BPK_INDEX_E_ROOT_CHAIN,
		       "3.root.json is not signed by a threshold of its own root keys (0 valid");
	/* Signed by both, but it says it is version 4. */
	json_object_set_new(s, "version", json_integer(4));
	forge(f->repo, "3.root.json", s, two_old_and_new, 3);
	expect_refusal(f, NULL, NOW, -EKEYREJECTED, BPK_INDEX_E_ROOT_CHAIN,
		       "3.root.json holds root version 4, not 3");
	/* Signed by both old keys and its own, version 3: that is a valid rotation. */
	json_object_set_new(s, "version", json_integer(3));
	forge(f->repo, "3.root.json", s, two_old_and_new, 3);
	c = expect_update(f, NULL, NOW);
	assert_int_equal(bpk_index_meta__version(bpk_index_client__meta(c), BPK_INDEX_ROOT), 3);
	bpk_index_client__free(c);
	json_decref(s);

	/* An expired final root is a freeze. */
	expect_refusal(f, NULL, NOW + 400 * DAY, -EKEYEXPIRED, BPK_INDEX_E_EXPIRED,
		       "root.json version 3 expired at");
}

static void test_rollback_timestamp(void **state)
{
	struct fixture *f = *state;
	const int keys[] = { 1, 2, 3 };
	const struct bpk_index_meta *m;
	struct bpk_index_client *c;
	struct bpk_index *idx = create_repo(f);

	copy(f->repo, f->old, "root.json");
	copy(f->repo, f->old, "timestamp.json");
	copy(f->repo, f->old, "snapshot.json");
	copy(f->repo, f->old, "targets.json");
	bpk_index__free(idx);
	idx = load_repo(f, NOW, keys, 3);
	publish(idx);
	publish(idx);
	bpk_index__free(idx);
	c = expect_update(f, "root.json", NOW);
	m = bpk_index_client__meta(c);
	assert_int_equal(bpk_index_meta__version(m, BPK_INDEX_TIMESTAMP), 3);
	bpk_index_client__free(c);

	/* The whole index of version 1 served again: every signature is valid, and it is old. */
	copy(f->old, f->repo, "timestamp.json");
	copy(f->old, f->repo, "snapshot.json");
	copy(f->old, f->repo, "targets.json");
	expect_refusal(f, NULL, NOW, -ESTALE, BPK_INDEX_E_ROLLBACK,
		       "timestamp.json version 1 is lower than the trusted version 3 "
		       "(rollback attack?)");
}

static void test_rollback_snapshot_targets(void **state)
{
	struct fixture *f = *state;
	const int keys[] = { 1, 2, 3 };
	const struct key *ts[] = { &f->keys[3] }, *snap[] = { &f->keys[2] };
	struct bpk_index_client *c;
	struct bpk_index *idx = create_repo(f);
	json_t *s;

	copy(f->repo, f->old, "root.json");
	bpk_index__free(idx);
	idx = load_repo(f, NOW, keys, 3);
	publish(idx); /* 2 */
	copy(f->repo, f->old, "snapshot.json");
	copy(f->repo, f->old, "targets.json");
	publish(idx); /* 3 */
	bpk_index__free(idx);
	c = expect_update(f, "root.json", NOW);
	bpk_index_client__free(c);

	/* A timestamp key holder points a new timestamp at the old snapshot. */
	copy(f->old, f->repo, "snapshot.json");
	s = signed_of(f->repo, "timestamp.json");
	json_object_set_new(s, "version", json_integer(4));
	set_record(s, f->repo, "snapshot.json", 2);
	forge(f->repo, "timestamp.json", s, ts, 1);
	expect_refusal(f, NULL, NOW, -ESTALE, BPK_INDEX_E_ROLLBACK,
		       "timestamp.json records snapshot.json version 2, lower than the trusted "
		       "version 3 (rollback attack?)");
	/* Without a trusted timestamp, the snapshot itself is caught. */
	unlink_in(f->state, "timestamp.json");
	expect_refusal(f, NULL, NOW, -ESTALE, BPK_INDEX_E_ROLLBACK,
		       "snapshot.json version 2 is lower than the trusted version 3 "
		       "(rollback attack?)");

	/* Snapshot and timestamp key holders point a new snapshot at the old targets. */
	copy(f->old, f->repo, "targets.json");
	json_decref(s);
	s = signed_of(f->old, "snapshot.json");
	json_object_set_new(s, "version", json_integer(4));
	forge(f->repo, "snapshot.json", s, snap, 1);
	json_decref(s);
	s = signed_of(f->repo, "timestamp.json");
	json_object_set_new(s, "version", json_integer(5));
	set_record(s, f->repo, "snapshot.json", 4);
	forge(f->repo, "timestamp.json", s, ts, 1);
	expect_refusal(f, NULL, NOW, -ESTALE, BPK_INDEX_E_ROLLBACK,
		       "snapshot.json records targets.json version 2, lower than the trusted "
		       "version 3 (rollback attack?)");
	/* Without a trusted snapshot, the targets themselves are caught. */
	unlink_in(f->state, "snapshot.json");
	expect_refusal(f, NULL, NOW, -ESTALE, BPK_INDEX_E_ROLLBACK,
		       "targets.json version 2 is lower than the trusted version 3 "
		       "(rollback attack?)");
	/* A snapshot that drops targets.json altogether is malformed. */
	json_decref(s);
	s = signed_of(f->old, "snapshot.json");
	json_object_del(json_object_get(s, "meta"), "targets.json");
	json_object_set_new(s, "version", json_integer(4));
	forge(f->repo, "snapshot.json", s, snap, 1);
	json_decref(s);
	s = signed_of(f->repo, "timestamp.json");
	json_object_set_new(s, "version", json_integer(6));
	set_record(s, f->repo, "snapshot.json", 4);
	forge(f->repo, "timestamp.json", s, ts, 1);
	expect_refusal(f, NULL, NOW, -EINVAL, BPK_INDEX_E_MALFORMED,
		       "snapshot.json: 'signed.meta' has no \"targets.json\"");
	json_decref(s);
}

static void test_fast_forward_recovery(void **state)
{
	struct fixture *f = *state;
	const struct key *ts[] = { &f->keys[3] };
	const int keys[] = { 0, 1, 2, 3 };
	const struct bpk_index_meta *m;
	struct bpk_index_client *c;
	struct bpk_index *idx = create_repo(f);
	json_t *s;

	bpk_index__free(idx);
	copy(f->repo, f->old, "root.json");
	copy(f->repo, f->old, "timestamp.json");
	/* Whoever stole the timestamp key pushes clients to version 1000... */
	s = signed_of(f->repo, "timestamp.json");
	json_object_set_new(s, "version", json_integer(1000));
	forge(f->repo, "timestamp.json", s, ts, 1);
	json_decref(s);
	c = expect_update(f, "root.json", NOW);
	m = bpk_index_client__meta(c);
	assert_int_equal(bpk_index_meta__version(m, BPK_INDEX_TIMESTAMP), 1000);
	bpk_index_client__free(c);
	copy(f->old, f->repo, "timestamp.json");

	/* ...so the repository's own next timestamp looks like a rollback... */
	idx = load_repo(f, NOW, keys, 4);
	publish(idx);
	expect_refusal(f, NULL, NOW, -ESTALE, BPK_INDEX_E_ROLLBACK,
		       "timestamp.json version 2 is lower than the trusted version 1000");

	/* ...until it rotates the timestamp key away: the new root no longer vouches for the
	 * trusted version 1000, which the client forgets (TUF 5.3.11). */
	assert_int_equal(bpk_index__clear_keys(idx, BPK_INDEX_TIMESTAMP), 0);
	add_key(idx, BPK_INDEX_TIMESTAMP, f->keys[4].pem);
	if (bpk_index__rotate_root(idx))
		fail_msg("rotate: %s", bpk_index__errstr(idx));
	assert_int_equal(bpk_index_meta__version(bpk_index__meta(idx), BPK_INDEX_TIMESTAMP), 3);
	bpk_index__free(idx);
	c = expect_update(f, NULL, NOW);
	m = bpk_index_client__meta(c);
	assert_int_equal(bpk_index_meta__version(m, BPK_INDEX_ROOT), 2);
	assert_int_equal(bpk_index_meta__version(m, BPK_INDEX_TIMESTAMP), 3);
	assert_string_equal(bpk_index_meta__keyid(m, BPK_INDEX_TIMESTAMP, 0), f->keys[4].id);
	bpk_index_client__free(c);
}

static void test_expired(void **state)
{
	struct fixture *f = *state;
	struct bpk_index *idx = create_repo(f);
	struct bpk_index_client *c;
	const int keys[] = { 3 };
	char want[128], when[21];

	bpk_index__free(idx);
	copy(f->repo, f->old, "root.json");
	/* A second before expiry is fine; at expiry it is a freeze. */
	c = expect_update(f, "root.json", NOW + DAY - 1);
	bpk_index_client__free(c);
	assert_int_equal(bpk_index_time__format(NOW + DAY, when), 0);
	snprintf(want, sizeof(want), "timestamp.json expired at %s (freeze attack?)", when);
	expect_refusal(f, NULL, NOW + DAY, -EKEYEXPIRED, BPK_INDEX_E_EXPIRED, want);

	/* A fresh timestamp over a snapshot past its 30 days: the snapshot is the freeze. */
	idx = load_repo(f, NOW + 31 * DAY, keys, 1);
	assert_int_equal(bpk_index__refresh(idx), 0);
	bpk_index__free(idx);
	assert_int_equal(bpk_index_time__format(NOW + 30 * DAY, when), 0);
	snprintf(want, sizeof(want), "snapshot.json expired at %s (freeze attack?)", when);
	expect_refusal(f, NULL, NOW + 31 * DAY, -EKEYEXPIRED, BPK_INDEX_E_EXPIRED, want);

	/* Re-signing everything recovers. */
	{
		const int all[] = { 1, 2, 3 };

		idx = load_repo(f, NOW + 31 * DAY, all, 3);
		publish(idx);
		bpk_index__free(idx);
	}
	c = expect_update(f, NULL, NOW + 31 * DAY);
	bpk_index_client__free(c);
}

static void test_mix_and_match(void **state)
{
	struct fixture *f = *state;
	const int keys[] = { 1, 2, 3 };
	const struct key *snap[] = { &f->keys[2] }, *ts[] = { &f->keys[3] };
	struct bpk_index *idx = create_repo(f);
	json_t *s;

	copy(f->repo, f->old, "root.json");
	add_pkg(idx, "a", "1.0.0", "A");
	publish(idx);
	copy(f->repo, f->old, "targets.json"); /* version 2, with a@1.0.0 */
	bpk_index__free(idx);
	idx = load_repo(f, NOW, keys, 3);
	assert_int_equal(bpk_index__set_yanked(idx, "a", "1.0.0", true), 0);
	publish(idx);
	assert_int_equal(bpk_index__set_yanked(idx, "a", "1.0.0", false), 0);
	publish(idx); /* version 4: same length as version 2 */
	bpk_index__free(idx);

	/* A valid, older targets.json of the same length swapped in. */
	copy(f->old, f->repo, "targets.json");
	expect_refusal(f, "root.json", NOW, -EBADMSG, BPK_INDEX_E_MISMATCH,
		       "targets.json does not match the hash recorded in snapshot.json");
	/* One that is shorter. */
	{
		size_t len;
		char *data = slurp(f->repo, "targets.json", &len);
		char want[128];

		spit(f->repo, "targets.json", data, len - 1);
		free(data);
		snprintf(want, sizeof(want),
			 "targets.json is %zu bytes, but snapshot.json records %zu", len - 1, len);
		expect_refusal(f, "root.json", NOW, -EBADMSG, BPK_INDEX_E_MISMATCH, want);
	}
	/* A snapshot whose record of targets.json hashes right but names another version. */
	copy(f->old, f->repo, "targets.json");
	s = signed_of(f->repo, "snapshot.json");
	json_object_set_new(s, "version", json_integer(5));
	set_record(s, f->repo, "targets.json", 4);
	forge(f->repo, "snapshot.json", s, snap, 1);
	json_decref(s);
	s = signed_of(f->repo, "timestamp.json");
	json_object_set_new(s, "version", json_integer(5));
	set_record(s, f->repo, "snapshot.json", 5);
	forge(f->repo, "timestamp.json", s, ts, 1);
	expect_refusal(f, "root.json", NOW, -EBADMSG, BPK_INDEX_E_MISMATCH,
		       "targets.json has version 2, but snapshot.json records version 4 "
		       "(mix-and-match attack?)");
	/* The same for the snapshot against the timestamp. */
	set_record(s, f->repo, "snapshot.json", 6);
	forge(f->repo, "timestamp.json", s, ts, 1);
	expect_refusal(f, "root.json", NOW, -EBADMSG, BPK_INDEX_E_MISMATCH,
		       "snapshot.json has version 5, but timestamp.json records version 6 "
		       "(mix-and-match attack?)");
	json_decref(s);
}

/* A fetch that hands out a lot more than it was asked for, whatever the name. */
static int endless_fetch(void *ctx, const char *name, uint64_t max_len, void **ret_data,
			 size_t *ret_len)
{
	size_t len = (size_t)max_len + 4096;
	char *data = malloc(len);

	assert_non_null(data);
	memset(data, '{', len);
	*ret_data = data;
	*ret_len = len;
	return 0;
}

static void test_endless_data(void **state)
{
	struct fixture *f = *state;
	struct fetch_log log = { 0 };
	struct bpk_index_client *c;
	struct bpk_index *idx = create_repo(f);
	size_t snap_len, targets_len;
	char want[160], *data;
	int err;

	add_pkg(idx, "a", "1.0.0", "A");
	publish(idx);
	bpk_index__free(idx);
	copy(f->repo, f->old, "root.json");

	/* The bounds handed to the fetch callback: fixed for timestamp, recorded for the rest. */
	free(slurp(f->repo, "snapshot.json", &snap_len));
	free(slurp(f->repo, "targets.json", &targets_len));
	c = client_update(f, &log, "root.json", NOW, &err);
	assert_int_equal(err, 0);
	assert_int_equal(logged_bound(&log, "2.root.json"), BPK_INDEX_MAX_ROOT_LEN);
	assert_int_equal(logged_bound(&log, "timestamp.json"), BPK_INDEX_MAX_TIMESTAMP_LEN);
	assert_int_equal(logged_bound(&log, "snapshot.json"), snap_len);
	assert_int_equal(logged_bound(&log, "targets.json"), targets_len);
	bpk_index_client__free(c);

	/* A server that sends more than recorded, whatever the bound said. */
	memset(&log, 0, sizeof(log));
	log.grow_name = "targets.json";
	log.grow_by = 1;
	snprintf(want, sizeof(want),
		 "targets.json is longer than the %zu bytes recorded in snapshot.json (endless "
		 "data attack?)",
		 targets_len);
	expect_refusal_log(f, &log, NULL, NOW, -EFBIG, BPK_INDEX_E_TOO_LONG, want);
	memset(&log, 0, sizeof(log));
	log.grow_name = "snapshot.json";
	log.grow_by = 1 << 20;
	snprintf(want, sizeof(want),
		 "snapshot.json is longer than the %zu bytes recorded in timestamp.json",
		 snap_len);
	expect_refusal_log(f, &log, NULL, NOW, -EFBIG, BPK_INDEX_E_TOO_LONG, want);

	/* The directory fetcher itself stops one byte past the bound. */
	data = slurp(f->repo, "targets.json", NULL);
	{
		_cleanup_free_ char *grown = xasprintf("%s    ", data);
		void *got;
		size_t got_len;

		spit(f->repo, "targets.json", grown, strlen(grown));
		assert_int_equal(bpk_index__fetch_dir(f->repo, "targets.json", 10, &got, &got_len),
				 0);
		assert_int_equal(got_len, 11);
		free(got);
		assert_int_equal(bpk_index__fetch_dir(f->repo, "../x", 10, &got, &got_len),
				 -EINVAL);
		assert_int_equal(bpk_index__fetch_dir(f->repo, "nope.json", 10, &got, &got_len),
				 -ENOENT);
		snprintf(want, sizeof(want),
			 "targets.json is longer than the %zu bytes recorded in snapshot.json",
			 targets_len);
		expect_refusal(f, NULL, NOW, -EFBIG, BPK_INDEX_E_TOO_LONG, want);
	}
	spit(f->repo, "targets.json", data, strlen(data));
	free(data);

	/* A timestamp past its fixed bound, and a root past its own. */
	{
		char *big = malloc(BPK_INDEX_MAX_ROOT_LEN + 10);

		memset(big, ' ', BPK_INDEX_MAX_ROOT_LEN + 10);
		spit(f->repo, "timestamp.json", big, BPK_INDEX_MAX_TIMESTAMP_LEN + 1);
		expect_refusal(f, NULL, NOW, -EFBIG, BPK_INDEX_E_TOO_LONG,
			       "timestamp.json is longer than the 65536 bytes allowed (endless "
			       "data attack?)");
		spit(f->repo, "2.root.json", big, BPK_INDEX_MAX_ROOT_LEN + 10);
		expect_refusal(f, NULL, NOW, -EFBIG, BPK_INDEX_E_TOO_LONG,
			       "2.root.json is longer than the 524288 bytes allowed");
		free(big);
	}

	/* A fetch callback that ignores its bound entirely. */
	{
		BPK_OPTS(bpk_index_client_opts, opts, .fetch = endless_fetch, .now = NOW);
		size_t len;
		char *root = slurp(f->old, "root.json", &len);

		opts.root = root;
		opts.root_len = len;
		c = bpk_index_client__new(&opts);
		assert_int_equal(bpk_index_client__update(c), -EFBIG);
		assert_string_equal(bpk_index_client__errstr(c),
				    "2.root.json is longer than the 524288 bytes allowed (endless "
				    "data attack?)");
		bpk_index_client__free(c);
		free(root);
	}
}

static void test_signatures(void **state)
{
	struct fixture *f = *state;
	const struct key *ts[] = { &f->keys[3] }, *stranger[] = { &f->keys[7] };
	struct bpk_index *idx = create_repo(f);
	char *data, *p;
	size_t len;
	json_t *s;

	bpk_index__free(idx);
	copy(f->repo, f->old, "root.json");
	copy(f->repo, f->old, "timestamp.json");

	/* A bit flipped in the signature. */
	data = slurp(f->repo, "timestamp.json", &len);
	p = strstr(data, "\"sig\":\"") + 7;
	*p = *p == 'A' ? 'B' : 'A';
	spit(f->repo, "timestamp.json", data, len);
	free(data);
	expect_refusal(f, "root.json", NOW, -EKEYREJECTED, BPK_INDEX_E_SIGNATURE,
		       "timestamp.json: 0 valid signatures of the 1 required; 1 invalid");

	/* The signed part changed under a valid signature. */
	data = slurp(f->old, "timestamp.json", &len);
	p = strstr(data, "\"version\":1}}");
	assert_non_null(p);
	p[10] = '2';
	spit(f->repo, "timestamp.json", data, len);
	free(data);
	expect_refusal(f, "root.json", NOW, -EKEYREJECTED, BPK_INDEX_E_SIGNATURE,
		       "timestamp.json: 0 valid signatures of the 1 required; 1 invalid");

	/* Signed by a key the root does not know, or knows for another role. */
	s = signed_of(f->old, "timestamp.json");
	forge(f->repo, "timestamp.json", s, stranger, 1);
	expect_refusal(f, "root.json", NOW, -EKEYREJECTED, BPK_INDEX_E_SIGNATURE,
		       "timestamp.json: 0 valid signatures of the 1 required; 1 by a key not "
		       "trusted for the timestamp role");
	{
		const struct key *targets_key[] = { &f->keys[1] };

		forge(f->repo, "timestamp.json", s, targets_key, 1);
		expect_refusal(f, "root.json", NOW, -EKEYREJECTED, BPK_INDEX_E_SIGNATURE,
			       "1 by a key not trusted for the timestamp role");
	}
	/* Garbage base64 is an invalid signature, not a crash. */
	data = slurp(f->old, "timestamp.json", &len);
	p = strstr(data, "\"sig\":\"") + 7;
	memcpy(p, "!!!!", 4);
	spit(f->repo, "timestamp.json", data, len);
	free(data);
	expect_refusal(f, "root.json", NOW, -EKEYREJECTED, BPK_INDEX_E_SIGNATURE, "1 invalid");
	/* Signed again by the timestamp key, the same document passes. */
	forge(f->repo, "timestamp.json", s, ts, 1);
	json_decref(s);
	bpk_index_client__free(expect_update(f, NULL, NOW));
}

static void test_repository_refuses_tampered_files(void **state)
{
	struct fixture *f = *state;
	const struct key *stranger[] = { &f->keys[7] };
	struct bpk_index *idx = create_repo(f);
	json_t *s;

	add_pkg(idx, "a", "1.0.0", "A");
	publish(idx);
	bpk_index__free(idx);
	/* Re-signing would launder a tampered targets.json: load refuses it. */
	s = signed_of(f->repo, "targets.json");
	json_object_set_new(json_object_get(json_object_get(s, "targets"), "a/1.0.0"), "length",
			    json_integer(2));
	forge(f->repo, "targets.json", s, stranger, 1);
	json_decref(s);
	idx = new_repo(NOW);
	assert_int_equal(bpk_index__load(idx, f->repo), -EKEYREJECTED);
	assert_string_equal(bpk_index__errstr(idx),
			    "targets.json: 0 valid signatures of the 1 required; 1 by a key not "
			    "trusted for the targets role");
	/* A missing file is an I/O error, and nothing is published from a failed load. */
	unlink_in(f->repo, "targets.json");
	assert_int_equal(bpk_index__load(idx, f->repo), -ENOENT);
	assert_int_equal(bpk_index__err(idx), BPK_INDEX_E_IO);
	assert_int_equal(bpk_index__publish(idx), -EINVAL);
	bpk_index__free(idx);
}

/* Pieces of documents for the malformed cases; each piece after HEAD starts with its comma. */
#define HEAD(type) "{\"signatures\": [], \"signed\": {\"_type\": \"" type "\""
#define SPEC ", \"spec_version\": \"1.0\""
#define LIVE SPEC ", \"version\": 1, \"expires\": \"2030-01-01T00:00:00Z\""
#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"
#define SNAP(length, hash)                                                             \
	", \"meta\": {\"snapshot.json\": {\"version\": 1, \"length\": " length ", " \
	"\"hashes\": {\"sha256\": \"" hash "\"}}}}}"
#define TARGET(key, version, yanked)                                                   \
	", \"targets\": {\"" key "\": {\"length\": 1, "                                \
	"\"hashes\": {\"sha256\": \"" ZEROS "\"}, "                                      \
	"\"custom\": {\"name\": \"a\", \"version\": \"" version "\", "                   \
	"\"feed\": \"public\", \"yanked\": " yanked "}}}}}"

static void test_malformed(void **state)
{
	static const struct {
		enum bpk_index_role role;
		const char *json;
		const char *why;
	} cases[] = {
		{ BPK_INDEX_TIMESTAMP, "[", "timestamp.json is not valid JSON" },
		{ BPK_INDEX_TIMESTAMP, "[]", "is not a JSON object" },
		{ BPK_INDEX_TIMESTAMP, "{\"signed\": {}, \"signatures\": [], \"x\": 1}",
		  "unexpected member \"x\"" },
		{ BPK_INDEX_TIMESTAMP, "{\"signed\": {}, \"signed\": {}, \"signatures\": []}",
		  "duplicate object key" },
		{ BPK_INDEX_TIMESTAMP, "{\"signed\": {}, \"signatures\": {}}",
		  "'signatures' must be an array" },
		{ BPK_INDEX_TIMESTAMP,
		  "{\"signed\": {}, \"signatures\": [{\"keyid\": \"ab\", \"sig\": \"\"}]}",
		  "signature 1 is not" },
		{ BPK_INDEX_TIMESTAMP, HEAD("snapshot") "}}",
		  "'_type' is \"snapshot\", not \"timestamp\"" },
		{ BPK_INDEX_TIMESTAMP, HEAD("timestamp") ", \"spec_version\": \"2.0\"}}",
		  "spec_version \"2.0\" is not supported" },
		{ BPK_INDEX_TIMESTAMP, HEAD("timestamp") SPEC ", \"version\": 0}}",
		  "'signed.version' must be an integer of at least 1" },
		{ BPK_INDEX_TIMESTAMP,
		  HEAD("timestamp") SPEC ", \"version\": 99999999999999999999}}",
		  "too big integer" },
		{ BPK_INDEX_TIMESTAMP,
		  HEAD("timestamp") SPEC ", \"version\": 1, \"expires\": \"tomorrow\"}}",
		  "'expires' \"tomorrow\" is not a UTC time" },
		{ BPK_INDEX_TIMESTAMP, HEAD("timestamp") LIVE ", \"meta\": {}}}",
		  "'signed.meta' has no \"snapshot.json\"" },
		{ BPK_INDEX_TIMESTAMP, HEAD("timestamp") LIVE SNAP("-1", "00"),
		  "'signed.meta.snapshot.json.length' must be an integer of at least 0" },
		{ BPK_INDEX_TIMESTAMP, HEAD("timestamp") LIVE SNAP("1", "00"),
		  "'signed.meta.snapshot.json.hashes.sha256' is not 64 lowercase hex digits" },
		{ BPK_INDEX_TIMESTAMP, HEAD("timestamp") LIVE SNAP("1.0", ZEROS),
		  "'signed' holds a fraction or exponent" },
		{ BPK_INDEX_TARGETS, HEAD("targets") LIVE TARGET("a/2.0.0", "1.0.0", "false"),
		  "target \"a/2.0.0\" is not keyed NAME/VERSION" },
		{ BPK_INDEX_TARGETS, HEAD("targets") LIVE TARGET("a/1.0.0", "1.0.0", "0"),
		  "'signed.targets.a/1.0.0.custom.yanked' must be true or false" },
		{ BPK_INDEX_TARGETS, HEAD("targets") LIVE TARGET("a/1.0", "1.0", "true"),
		  "target \"a/1.0\" has an invalid name, version or feed" },
		{ BPK_INDEX_ROOT, HEAD("root") LIVE ", \"keys\": {\"zz\": {}}, \"roles\": {}}}",
		  "key id \"zz\" is not 64 lowercase hex digits" },
		{ BPK_INDEX_ROOT, HEAD("root") LIVE ", \"keys\": {}, \"roles\": {\"mirror\": {}}}}",
		  "unknown role \"mirror\"" },
		{ BPK_INDEX_ROOT,
		  HEAD("root") LIVE ", \"keys\": {}, \"roles\": {\"root\": "
				    "{\"keyids\": [], \"threshold\": 1}}}}",
		  "role root needs 1 signatures but lists 0 keys: it can never be met" },
	};
	struct index_err e;
	struct index_doc d;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *file = role_files[cases[i].role], *json = cases[i].json;
		int err = parse_doc(&e, file, cases[i].role, json, strlen(json), &d);

		if (err != -EINVAL || e.code != BPK_INDEX_E_MALFORMED ||
		    !strstr(e.msg, cases[i].why))
			fail_msg("case %zu: %d \"%s\", wanted \"%s\"", i, err, e.msg, cases[i].why);
	}
}

static void test_root_key_id_must_match(void **state)
{
	struct fixture *f = *state;
	const struct key *k0[] = { &f->keys[0] };
	struct bpk_index *idx = create_repo(f);
	json_t *s, *keys, *key;

	bpk_index__free(idx);
	/* A key listed under another key's id. */
	s = signed_of(f->repo, "root.json");
	keys = json_object_get(s, "keys");
	key = json_object_get(keys, f->keys[1].id);
	json_object_set_new(json_object_get(key, "keyval"), "public", json_string(f->keys[7].pub));
	forge(f->old, "root.json", s, k0, 1);
	json_decref(s);
	expect_refusal(f, "root.json", NOW, -EINVAL, BPK_INDEX_E_MALFORMED,
		       "is not the SHA-256 of its public key");
}

static void test_no_root(void **state)
{
	struct fixture *f = *state;
	BPK_OPTS(bpk_index_client_opts, opts, .fetch = bpk_index__fetch_dir, .fetch_ctx = f->repo);
	struct bpk_index_client *c;

	errno = 0;
	assert_null(bpk_index_client__new(NULL));
	assert_int_equal(errno, EINVAL);
	c = bpk_index_client__new(&opts);
	assert_int_equal(bpk_index_client__update(c), -EINVAL);
	assert_string_equal(bpk_index_client__errstr(c),
			    "no trusted root: the state holds none and none was given");
	assert_int_equal(bpk_index_client__verify_target(c, "a", "1.0.0", "", 0), -EAGAIN);
	bpk_index_client__free(c);
	bpk_index_client__free(NULL);
	bpk_index__free(NULL);
	assert_null(bpk_index_meta__keyid(NULL, BPK_INDEX_ROOT, 0));
	assert_int_equal(bpk_index_meta__version(NULL, BPK_INDEX_ROOT), 0);
}

static void test_names(void **state)
{
	enum bpk_index_role r;

	assert_string_equal(bpk_index_role__name(BPK_INDEX_SNAPSHOT), "snapshot");
	assert_null(bpk_index_role__name((enum bpk_index_role)7));
	assert_int_equal(bpk_index_role__from_name("timestamp", &r), 0);
	assert_int_equal(r, BPK_INDEX_TIMESTAMP);
	assert_int_equal(bpk_index_role__from_name("mirror", &r), -EINVAL);
	assert_string_equal(bpk_index_err__name(BPK_INDEX_E_ROLLBACK), "rollback");
	assert_string_equal(bpk_index_err__name((enum bpk_index_err)99), "unknown");
}

/*
 * TUF 5.3.11: a compromised snapshot key fast-forwarded the snapshot version (and the
 * repository's own refresh timestamped it); after the repository restores its files and
 * rotates the snapshot key, clients must recover, not refuse every new timestamp.
 */
static void test_recovery_after_snapshot_key_rotation(void **state)
{
	struct fixture *f = *state;
	const struct key *sn[] = { &f->keys[2] }, *ts[] = { &f->keys[3] };
	const int keys[] = { 0, 1, 2, 3 };
	struct fetch_log log = { 0 };
	struct bpk_index_client *c;
	struct bpk_index *idx = create_repo(f);
	json_t *s;
	int err;

	bpk_index__free(idx);
	copy(f->repo, f->old, "root.json");
	copy(f->repo, f->old, "snapshot.json");
	copy(f->repo, f->old, "timestamp.json");
	s = signed_of(f->repo, "snapshot.json");
	json_object_set_new(s, "version", json_integer(1000));
	forge(f->repo, "snapshot.json", s, sn, 1);
	json_decref(s);
	s = signed_of(f->repo, "timestamp.json");
	json_object_set_new(s, "version", json_integer(2));
	set_record(s, f->repo, "snapshot.json", 1000);
	forge(f->repo, "timestamp.json", s, ts, 1);
	json_decref(s);
	bpk_index_client__free(expect_update(f, "root.json", NOW));

	copy(f->old, f->repo, "snapshot.json");
	copy(f->old, f->repo, "timestamp.json");
	idx = load_repo(f, NOW, keys, 4);
	assert_int_equal(bpk_index__clear_keys(idx, BPK_INDEX_SNAPSHOT), 0);
	add_key(idx, BPK_INDEX_SNAPSHOT, f->keys[4].pem);
	assert_int_equal(bpk_index__load_key(idx, f->keys[4].pem, strlen(f->keys[4].pem)), 0);
	if (bpk_index__rotate_root(idx))
		fail_msg("rotate: %s", bpk_index__errstr(idx));
	bpk_index__free(idx);
	c = client_update(f, &log, NULL, NOW, &err);
	if (err)
		fail_msg("no recovery after the snapshot key rotation: %s",
			 bpk_index_client__errstr(c));
	bpk_index_client__free(c);
}

/* A damaged state file stops the update: forgetting it would let an older one in. */
static void test_damaged_state_refused(void **state)
{
	struct fixture *f = *state;
	const int keys[] = { 0, 1, 2, 3 };
	struct fetch_log log = { 0 };
	struct bpk_index_client *c;
	struct bpk_index *idx = create_repo(f);
	int err;

	copy(f->repo, f->old, "root.json");
	copy(f->repo, f->old, "timestamp.json");
	bpk_index__free(idx);
	idx = load_repo(f, NOW, keys, 4);
	assert_int_equal(bpk_index__refresh(idx), 0);
	bpk_index__free(idx);
	bpk_index_client__free(expect_update(f, "root.json", NOW));
	spit(f->state, "timestamp.json", "{", 1);
	copy(f->old, f->repo, "timestamp.json");
	c = client_update(f, &log, NULL, NOW, &err);
	assert_int_equal(err, -EINVAL);
	assert_non_null(strstr(bpk_index_client__errstr(c), "timestamp.json is damaged"));
	bpk_index_client__free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test_setup_teardown(test_canonical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_reals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_publish_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_target_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yank, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threshold_2_of_3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_rotation_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_rotation_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_timestamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_snapshot_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fast_forward_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mix_and_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endless_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signatures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repository_refuses_tampered_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_root_key_id_must_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_after_snapshot_key_rotation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_state_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: BSD-2-Clause
/* The repository: feeds, tokens, publish and yank, queries, blobs and each feed's signed index. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <bpk/index.h>
#include <bpk/lint.h>
#include <bpk/manifest.h>
#include <bpk/pkg.h>
#include <bpk/repo.h>
#include <bpk/sign.h>
#include <bpk/trust.h>

#include "bpk_internal.h"
#include "crypto.h"
#include "repo_internal.h"
#include "store.h"

#define DEFAULT_MAX_PACKAGE (64ULL << 20)
#define TOKEN_PREFIX "bpk_"

/* ---- errors ---- */

static const struct {
	const char *name;
	unsigned int status;
	int err;
} err_table[] = {
	[BPK_REPO_OK] = { "ok", 200, 0 },
	[BPK_REPO_E_BAD_REQUEST] = { "bad_request", 400, -EINVAL },
	[BPK_REPO_E_INVALID_PACKAGE] = { "invalid_package", 400, -EINVAL },
	[BPK_REPO_E_UNAUTHORIZED] = { "unauthorized", 401, -EACCES },
	[BPK_REPO_E_FORBIDDEN] = { "forbidden", 403, -EPERM },
	[BPK_REPO_E_NOT_FOUND] = { "not_found", 404, -ENOENT },
	[BPK_REPO_E_EXISTS] = { "exists", 409, -EEXIST },
	[BPK_REPO_E_TOO_LARGE] = { "too_large", 413, -EFBIG },
	[BPK_REPO_E_INTERNAL] = { "internal", 500, -EIO },
	[BPK_REPO_E_METHOD_NOT_ALLOWED] = { "method_not_allowed", 405, -EOPNOTSUPP },
	[BPK_REPO_E_UNSATISFIABLE] = { "unsatisfiable", 416, -ERANGE },
};

const char *bpk_repo_err__name(enum bpk_repo_err code)
{
	return code < ARRAY_SIZE(err_table) ? err_table[code].name : "internal";
}

unsigned int bpk_repo_err__status(enum bpk_repo_err code)
{
	return code < ARRAY_SIZE(err_table) ? err_table[code].status : 500;
}

void bpk_repo_error__release(struct bpk_repo_error *error)
{
	if (!error)
		return;
	free(error->message);
	free(error->details);
	error->message = NULL;
	error->details = NULL;
	error->code = BPK_REPO_OK;
}

/* Fill error (may be NULL) and return the errno that goes with code. */
__attribute__((format(printf, 3, 4))) int repo_fail(struct bpk_repo_error *error,
						     enum bpk_repo_err code, const char *fmt, ...)
{
	va_list ap;

	if (error) {
		free(error->message);
		error->code = code;
		va_start(ap, fmt);
		if (vasprintf(&error->message, fmt, ap) < 0)
			error->message = NULL;
		va_end(ap);
	}
	return err_table[code].err;
}

static int repo_fail_store(struct bpk_repo *repo, struct bpk_store_conn *conn,
			   struct bpk_repo_error *error, int err, const char *what)
{
	return repo_fail(error, BPK_REPO_E_INTERNAL, "%s: %s", what,
			 conn ? bpk_store__errstr(repo->store, conn) : strerror(-err));
}

/* ---- scopes ---- */

static const char *const scope_names[] = {
	[BPK_REPO_SCOPE_NONE] = "none",	  [BPK_REPO_SCOPE_READ] = "read",
	[BPK_REPO_SCOPE_PUSH] = "push",	  [BPK_REPO_SCOPE_YANK] = "yank",
	[BPK_REPO_SCOPE_ADMIN] = "admin",
};

const char *bpk_repo_scope__name(enum bpk_repo_scope scope)
{
	return scope < ARRAY_SIZE(scope_names) ? scope_names[scope] : NULL;
}

int bpk_repo_scope__from_name(const char *name, enum bpk_repo_scope *ret_scope)
{
	for (size_t i = BPK_REPO_SCOPE_READ; i < ARRAY_SIZE(scope_names); i++) {
		if (name && !strcmp(name, scope_names[i])) {
			*ret_scope = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- small helpers ---- */

int64_t repo_now(const struct bpk_repo *repo)
{
	return repo->now ? repo->now : (int64_t)time(NULL);
}

static void u64_text(uint64_t v, char out[24])
{
	snprintf(out, 24, "%llu", (unsigned long long)v);
}

char *repo_time_text(int64_t t)
{
	char buf[21];

	if (bpk_index_time__format(t, buf))
		return strdup("");
	return strdup(buf);
}

static void random_hex(char *out, size_t bytes)
{
	unsigned char raw[32];

	if (bytes > sizeof(raw))
		bytes = sizeof(raw);
	if (RAND_bytes(raw, (int)bytes) != 1)
		memset(raw, 0, bytes);
	hex_encode(raw, bytes, out);
}

bool repo_feed_name_valid(const char *feed)
{
	/* A feed is the part of a package name before '/': the same alphabet, no '/'. */
	return feed && bpk_name__valid(feed) && !strchr(feed, '/');
}

/* The first segments of the server's own paths: a feed of that name would shadow them. */
static bool feed_name_reserved(const char *feed)
{
	static const char *const reserved[] = { "v1", "packages", "search", "static", "metrics" };

	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (!strcmp(feed, reserved[i]))
			return true;
	return false;
}

int repo_feed_of(const char *name, char *feed, size_t size)
{
	const char *slash = strchr(name, '/');
	size_t len = slash ? (size_t)(slash - name) : strlen("public");

	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(feed, slash ? name : "public", len);
	feed[len] = '\0';
	return 0;
}

/* ---- feeds ---- */

static int feed_row(void *ctx, int ncols, const char *const *v)
{
	struct repo_feed *feed = ctx;

	feed->found = true;
	feed->private = v[0] && !strcmp(v[0], "1");
	feed->allow_unsigned = v[1] && !strcmp(v[1], "1");
	feed->require_verified = v[2] && !strcmp(v[2], "1");
	return 0;
}

int repo_feed_get(struct bpk_repo *repo, struct bpk_store_conn *conn, const char *name,
		  struct repo_feed *ret_feed)
{
	const char *params[] = { name };

	memset(ret_feed, 0, sizeof(*ret_feed));
	return bpk_store__exec(repo->store, conn,
			       "SELECT private, allow_unsigned, require_verified FROM feeds"
			       " WHERE name = $1",
			       params, 1, feed_row, ret_feed);
}

bool repo_can_read(const struct repo_feed *feed, const char *feed_name,
		   const struct bpk_repo_auth *auth)
{
	if (!feed->found)
		return false;
	if (!feed->private)
		return true;
	return auth && auth->scope >= BPK_REPO_SCOPE_READ && !strcmp(auth->feed, feed_name);
}

static char *feed_index_dir(const struct bpk_repo *repo, const char *feed)
{
	return xasprintf("%s/index/%s", repo->dir, feed);
}

static char *feed_trust_dir(const struct bpk_repo *repo, const char *feed)
{
	return xasprintf("%s/feeds/%s/trust.d", repo->dir, feed);
}

/* Create the signed index of a new feed: root by the root key, the rest by the online key. */
static int feed_index_create(struct bpk_repo *repo, const char *feed, struct bpk_repo_error *error)
{
	_cleanup_free_ char *dir = feed_index_dir(repo, feed);
	struct bpk_index *index;
	int err;

	if (!dir)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
	if (access(dir, F_OK) == 0)
		return 0;
	index = bpk_index__new(&(struct bpk_index_opts){ .sz = sizeof(struct bpk_index_opts),
							  .now = repo->now });
	if (!index)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
	err = bpk_index__add_key(index, BPK_INDEX_ROOT, repo->root_pem, repo->root_pem_len);
	for (int role = BPK_INDEX_TARGETS; !err && role < BPK_INDEX_ROLE_CNT; role++)
		err = bpk_index__add_key(index, role, repo->online_pem, repo->online_pem_len);
	if (!err)
		err = bpk_index__create(index, dir);
	if (err)
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot create the index of feed '%s': %s",
				feed, bpk_index__errstr(index));
	bpk_index__free(index);
	return err;
}

int bpk_repo__feed_create(struct bpk_repo *repo, const char *name, unsigned int flags,
			  struct bpk_repo_error *error)
{
	_cleanup_free_ char *trust_dir = NULL;
	struct bpk_store_conn *conn;
	char created[24];
	const char *params[5];
	int err;

	if (!repo_feed_name_valid(name))
		return repo_fail(error, BPK_REPO_E_BAD_REQUEST,
				 "'%s' is not a feed name ([a-z0-9][a-z0-9._-]{0,99})", name ? name : "");
	if (feed_name_reserved(name))
		return repo_fail(error, BPK_REPO_E_BAD_REQUEST,
				 "'%s' is reserved for the server's own paths", name);
	trust_dir = feed_trust_dir(repo, name);
	if (!trust_dir)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
	err = mkdir_p(trust_dir, 0755);
	if (err)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot create '%s': %s", trust_dir,
				 strerror(-err));
	err = feed_index_create(repo, name, error);
	if (err)
		return err;

	conn = bpk_store__get(repo->store);
	if (!conn)
		return repo_fail_store(repo, NULL, error, -errno, "cannot open the database");
	u64_text((uint64_t)repo_now(repo), created);
	params[0] = name;
	params[1] = flags & BPK_REPO_FEED_F_PRIVATE ? "1" : "0";
	params[2] = flags & BPK_REPO_FEED_F_ALLOW_UNSIGNED ? "1" : "0";
	params[3] = flags & BPK_REPO_FEED_F_REQUIRE_VERIFIED ? "1" : "0";
	params[4] = created;
	err = bpk_store__exec(repo->store, conn,
			      "INSERT INTO feeds (name, private, allow_unsigned, require_verified, created)"
			      " VALUES ($1, $2, $3, $4, $5)",
			      params, 5, NULL, NULL);
	if (err == -EEXIST)
		err = repo_fail(error, BPK_REPO_E_EXISTS, "feed '%s' already exists", name);
	else if (err < 0)
		err = repo_fail_store(repo, conn, error, err, "cannot create the feed");
	else
		err = repo_audit(repo, conn, NULL, "feed-create", name,
				 flags & BPK_REPO_FEED_F_PRIVATE ? "private" : "public");
	bpk_store__put(repo->store, conn);
	return err < 0 ? err : 0;
}

int bpk_repo__feed_trust(struct bpk_repo *repo, const char *name, const void *pem, size_t len,
			 struct bpk_repo_error *error)
{
	struct bpk_error trust_error = BPK_ERROR_INIT;
	_cleanup_free_ char *dir = NULL;
	struct bpk_store_conn *conn;
	struct repo_feed feed;
	struct bpk_key *key;
	int err;

	conn = bpk_store__get(repo->store);
	if (!conn)
		return repo_fail_store(repo, NULL, error, -errno, "cannot open the database");
	err = repo_feed_get(repo, conn, name, &feed);
	if (err < 0 || !feed.found) {
		err = err < 0 ? repo_fail_store(repo, conn, error, err, "cannot read the feed")
			      : repo_fail(error, BPK_REPO_E_NOT_FOUND, "feed '%s' does not exist", name);
		goto out;
	}
	key = bpk_key__from_pem(pem, len);
	if (!key) {
		err = repo_fail(error, BPK_REPO_E_BAD_REQUEST, "not an Ed25519 public key (PEM)");
		goto out;
	}
	dir = feed_trust_dir(repo, name);
	err = dir ? bpk_trust__add(dir, key, NULL, &trust_error, NULL) : -ENOMEM;
	if (err)
		err = repo_fail(error, err == -EEXIST ? BPK_REPO_E_EXISTS : BPK_REPO_E_BAD_REQUEST,
				"%s", trust_error.message ? trust_error.message : strerror(-err));
	else
		err = repo_audit(repo, conn, NULL, "feed-trust", name, bpk_key__id(key));
	bpk_key__free(key);
	bpk_error__release(&trust_error);
out:
	bpk_store__put(repo->store, conn);
	return err < 0 ? err : 0;
}

/*
 * A JSON array of what sql (no parameters) answers, one element a row made by row, as
 * *ret_json; what says what was being read when the store fails.
 */
static int list_json(struct bpk_repo *repo, const char *sql, bpk_store_row_fn row,
		     const char *what, char **ret_json, struct bpk_repo_error *error)
{
	_cleanup_json_ json_t *list = json_array();
	struct bpk_store_conn *conn;
	int err;

	conn = list ? bpk_store__get(repo->store) : NULL;
	if (!conn)
		return repo_fail_store(repo, NULL, error, -ENOMEM, "cannot open the database");
	err = bpk_store__exec(repo->store, conn, sql, NULL, 0, row, list);
	if (err < 0)
		err = repo_fail_store(repo, conn, error, err, what);
	bpk_store__put(repo->store, conn);
	if (err < 0)
		return err;
	*ret_json = bpk_json_dump(list, NULL);
	return *ret_json ? 0 : repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
}

static int feed_list_row(void *ctx, int ncols, const char *const *v)
{
	json_t *list = ctx, *item;

	item = json_pack("{s:s, s:b, s:b, s:b, s:I}", "name", v[0], "private", !strcmp(v[1], "1"),
			 "allow_unsigned", !strcmp(v[2], "1"), "require_verified",
			 !strcmp(v[3], "1"), "packages", (json_int_t)strtoll(v[4], NULL, 10));
	return item && !json_array_append_new(list, item) ? 0 : -ENOMEM;
}

int bpk_repo__feed_list(struct bpk_repo *repo, char **ret_json, struct bpk_repo_error *error)
{
	return list_json(repo,
			 "SELECT f.name, f.private, f.allow_unsigned, f.require_verified,"
			 " (SELECT count(DISTINCT v.name) FROM versions v WHERE v.feed = f.name)"
			 " FROM feeds f ORDER BY f.name",
			 feed_list_row, "cannot list the feeds", ret_json, error);
}

/* ---- audit ---- */

int repo_audit(struct bpk_repo *repo, struct bpk_store_conn *conn,
	       const struct bpk_repo_auth *auth, const char *action, const char *subject,
	       const char *detail)
{
	char id[33], now[24];
	const char *params[6];
	struct timespec ts;
	int err;

	/*
	 * Ids sort as the events happened (microseconds, then randomness against collisions
	 * between processes), so "oldest first" holds within one second too.
	 */
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(id, sizeof(id), "%016llx",
		 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	random_hex(id + 16, 8);
	u64_text((uint64_t)repo_now(repo), now);
	params[0] = id;
	params[1] = now;
	params[2] = auth ? auth->token_id : "local";
	params[3] = action;
	params[4] = subject;
	params[5] = detail ? detail : "";
	err = bpk_store__exec(repo->store, conn,
			      "INSERT INTO audit (id, time, actor, action, subject, detail)"
			      " VALUES ($1, $2, $3, $4, $5, $6)",
			      params, 6, NULL, NULL);
	return err < 0 ? err : 0;
}

static int audit_row(void *ctx, int ncols, const char *const *v)
{
	_cleanup_free_ char *time = repo_time_text(strtoll(v[0], NULL, 10));
	json_t *list = ctx, *item;

	item = json_pack("{s:s, s:s, s:s, s:s, s:s}", "time", time ? time : "", "actor", v[1],
			 "action", v[2], "subject", v[3], "detail", v[4]);
	return item && !json_array_append_new(list, item) ? 0 : -ENOMEM;
}

int bpk_repo__audit(struct bpk_repo *repo, char **ret_json, struct bpk_repo_error *error)
{
	return list_json(repo,
			 "SELECT time, actor, action, subject, detail FROM audit"
			 " ORDER BY time, id",
			 audit_row, "cannot read the audit log", ret_json, error);
}

/* ---- tokens ---- */

static void token_digest(const char *token, char out[65])
{
	if (bpk_sha256_hex(token, strlen(token), out))
		out[0] = '\0';
}

int bpk_repo__token_create(struct bpk_repo *repo, const char *feed, enum bpk_repo_scope scope,
			   uint64_t lifetime, const char *comment, char **ret_token,
			   char ret_id[16], struct bpk_repo_error *error)
{
	unsigned char raw[32];
	_cleanup_free_ char *b64 = NULL, *token = NULL;
	char hash[65], id[16], created[24], expires[24];
	struct bpk_store_conn *conn;
	struct repo_feed feed_info;
	const char *params[7];
	int err;

	if (!bpk_repo_scope__name(scope) || scope == BPK_REPO_SCOPE_NONE)
		return repo_fail(error, BPK_REPO_E_BAD_REQUEST, "not a token scope");
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "no random bytes");
	b64 = bpk_base64_encode(raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	if (!b64)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
	/* base64url without padding: a token survives URLs, headers and shells unquoted. */
	for (char *p = b64; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	b64[strcspn(b64, "=")] = '\0';
	token = xasprintf(TOKEN_PREFIX "%s", b64);
	if (!token)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
	token_digest(token, hash);
	snprintf(id, sizeof(id), "%.12s", hash);

	conn = bpk_store__get(repo->store);
	if (!conn)
		return repo_fail_store(repo, NULL, error, -errno, "cannot open the database");
	err = repo_feed_get(repo, conn, feed, &feed_info);
	if (err < 0 || !feed_info.found) {
		err = err < 0 ? repo_fail_store(repo, conn, error, err, "cannot read the feed")
			      : repo_fail(error, BPK_REPO_E_NOT_FOUND, "feed '%s' does not exist",
					  feed);
		goto out;
	}
	u64_text((uint64_t)repo_now(repo), created);
	u64_text(lifetime ? (uint64_t)repo_now(repo) + lifetime : 0, expires);
	params[0] = id;
	params[1] = hash;
	params[2] = feed;
	params[3] = bpk_repo_scope__name(scope);
	params[4] = created;
	params[5] = expires;
	params[6] = comment ? comment : "";
	err = bpk_store__begin(repo->store, conn);
	if (!err)
		err = bpk_store__exec(repo->store, conn,
				      "INSERT INTO tokens (id, hash, feed, scope, created, expires, comment)"
				      " VALUES ($1, $2, $3, $4, $5, $6, $7)",
				      params, 7, NULL, NULL);
	if (err >= 0)
		err = repo_audit(repo, conn, NULL, "token-create", id, params[3]);
	if (err >= 0)
		err = bpk_store__commit(repo->store, conn);
	else
		bpk_store__rollback(repo->store, conn);
	if (err < 0) {
		err = repo_fail_store(repo, conn, error, err, "cannot store the token");
		goto out;
	}
	memcpy(ret_id, id, sizeof(id));
	*ret_token = TAKE_PTR(token);
	err = 0;
out:
	bpk_store__put(repo->store, conn);
	return err;
}

int bpk_repo__token_revoke(struct bpk_repo *repo, const char *id, struct bpk_repo_error *error)
{
	const char *params[] = { id };
	struct bpk_store_conn *conn;
	int err;

	conn = bpk_store__get(repo->store);
	if (!conn)
		return repo_fail_store(repo, NULL, error, -errno, "cannot open the database");
	err = bpk_store__begin(repo->store, conn);
	if (!err)
		err = bpk_store__exec(repo->store, conn,
				      "UPDATE tokens SET revoked = 1 WHERE id = $1 AND revoked = 0",
				      params, 1, NULL, NULL);
	if (err == 0) {
		bpk_store__rollback(repo->store, conn);
		err = repo_fail(error, BPK_REPO_E_NOT_FOUND, "no live token '%s'", id);
		goto out;
	}
	if (err > 0)
		err = repo_audit(repo, conn, NULL, "token-revoke", id, "");
	if (err >= 0)
		err = bpk_store__commit(repo->store, conn);
	else
		bpk_store__rollback(repo->store, conn);
	if (err < 0)
		err = repo_fail_store(repo, conn, error, err, "cannot revoke the token");
out:
	bpk_store__put(repo->store, conn);
	return err;
}

static int token_list_row(void *ctx, int ncols, const char *const *v)
{
	int64_t expires = strtoll(v[4], NULL, 10);
	_cleanup_free_ char *created = repo_time_text(strtoll(v[3], NULL, 10));
	_cleanup_free_ char *expiry = expires ? repo_time_text(expires) : NULL;
	json_t *list = ctx, *item;

	item = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:b, s:s}", "id", v[0], "feed", v[1], "scope",
			 v[2], "created", created ? created : "", "expires", expiry, "revoked",
			 !strcmp(v[5], "1"), "comment", v[6]);
	return item && !json_array_append_new(list, item) ? 0 : -ENOMEM;
}

int bpk_repo__token_list(struct bpk_repo *repo, char **ret_json, struct bpk_repo_error *error)
{
	return list_json(repo,
			 "SELECT id, feed, scope, created, expires, revoked, comment FROM tokens"
			 " ORDER BY created, id",
			 token_list_row, "cannot list the tokens", ret_json, error);
}

struct token_lookup {
	bool found;
	char hash[65];
	struct bpk_repo_auth auth;
	int64_t expires;
	bool revoked;
};

static int token_row(void *ctx, int ncols, const char *const *v)
{
	struct token_lookup *t = ctx;

	t->found = true;
	snprintf(t->hash, sizeof(t->hash), "%s", v[0]);
	snprintf(t->auth.token_id, sizeof(t->auth.token_id), "%s", v[1]);
	snprintf(t->auth.feed, sizeof(t->auth.feed), "%s", v[2]);
	if (bpk_repo_scope__from_name(v[3], &t->auth.scope))
		t->auth.scope = BPK_REPO_SCOPE_NONE;
	t->expires = strtoll(v[4], NULL, 10);
	t->revoked = !strcmp(v[5], "1");
	return 0;
}

int bpk_repo__authenticate(struct bpk_repo *repo, const char *token, struct bpk_repo_auth *ret_auth,
			   struct bpk_repo_error *error)
{
	struct token_lookup t = { 0 };
	struct bpk_store_conn *conn;
	const char *params[1];
	char hash[65];
	int err;

	if (!token || !str_has_prefix(token, TOKEN_PREFIX) || strlen(token) > 256)
		return repo_fail(error, BPK_REPO_E_UNAUTHORIZED, "not a bpk-repo token");
	token_digest(token, hash);
	params[0] = hash;
	conn = bpk_store__get(repo->store);
	if (!conn)
		return repo_fail_store(repo, NULL, error, -errno, "cannot open the database");
	err = bpk_store__exec(repo->store, conn,
			      "SELECT hash, id, feed, scope, expires, revoked FROM tokens WHERE hash = $1",
			      params, 1, token_row, &t);
	bpk_store__put(repo->store, conn);
	if (err < 0)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot read the tokens");
	/*
	 * Only digests are stored, so the lookup cannot leak the secret; the final comparison
	 * is still made in constant time, as the issue of timing is cheaper to close than argue.
	 */
	if (!t.found || CRYPTO_memcmp(t.hash, hash, 64) != 0)
		return repo_fail(error, BPK_REPO_E_UNAUTHORIZED, "unknown token");
	if (t.revoked)
		return repo_fail(error, BPK_REPO_E_UNAUTHORIZED, "token %s was revoked",
				 t.auth.token_id);
	if (t.expires && t.expires <= repo_now(repo))
		return repo_fail(error, BPK_REPO_E_UNAUTHORIZED, "token %s has expired",
				 t.auth.token_id);
	*ret_auth = t.auth;
	return 0;
}

/* ---- opening ---- */

static int load_or_make_key(const char *path, char **ret_pem, size_t *ret_len,
			    struct bpk_repo_error *error)
{
	struct bpk_key *key;
	char *pem = NULL;
	size_t len = 0;
	int err;

	err = read_file(path, 1 << 16, &pem, &len);
	if (err == -ENOENT) {
		key = bpk_key__generate();
		if (!key)
			return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot generate a key");
		pem = NULL;
		err = 0;
		{
			/* bpk_key__save writes BASE.pem and BASE.pub. */
			_cleanup_free_ char *base = strndup(path, strlen(path) - strlen(".pem"));

			err = base ? bpk_key__save(key, base) : -ENOMEM;
		}
		bpk_key__free(key);
		if (!err)
			err = read_file(path, 1 << 16, &pem, &len);
	}
	if (err)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot read key '%s': %s", path,
				 strerror(-err));
	*ret_pem = pem;
	*ret_len = len;
	return 0;
}

static int key_id_of(const char *pem, size_t len, char out[65])
{
	struct bpk_key *key = bpk_key__from_pem(pem, len);

	if (!key)
		return -EINVAL;
	snprintf(out, 65, "%s", bpk_key__id(key));
	bpk_key__free(key);
	return 0;
}

/* Remove half-written uploads and blobs no version refers to (a crash before the commit). */
static int blob_known_row(void *ctx, int ncols, const char *const *v)
{
	*(bool *)ctx = true;
	return 1;
}

static void clean_blobs(struct bpk_repo *repo, struct bpk_store_conn *conn)
{
	_cleanup_free_ char *tmp = xasprintf("%s/blobs/tmp", repo->dir);
	_cleanup_free_ char *sha = xasprintf("%s/blobs/sha256", repo->dir);
	DIR *d, *sub;
	struct dirent *de, *se;
	_cleanup_close_ int lock = -1;

	/* A publish in another process holds the lock shared from blob write to commit. */
	lock = open(repo->publish_lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return;
	d = tmp ? opendir(tmp) : NULL;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
	d = sha ? opendir(sha) : NULL;
	while (d && (de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		sub = fd >= 0 ? fdopendir(fd) : NULL;
		while (sub && (se = readdir(sub))) {
			const char *params[] = { se->d_name };
			bool known = false;

			if (se->d_name[0] == '.' || strlen(se->d_name) != 64)
				continue;
			if (bpk_store__exec(repo->store, conn,
					    "SELECT 1 FROM versions WHERE sha256 = $1 LIMIT 1", params, 1,
					    blob_known_row, &known) < 0)
				continue;
			if (!known) {
				pr_info("removing orphan blob %s\n", se->d_name);
				unlinkat(dirfd(sub), se->d_name, 0);
			}
		}
		if (sub)
			closedir(sub);
		else if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
	flock(lock, LOCK_UN);
}

static int feed_name_row(void *ctx, int ncols, const char *const *v)
{
	char ***names = ctx;
	size_t n = 0;
	char **grown;

	while (*names && (*names)[n])
		n++;
	grown = realloc(*names, (n + 2) * sizeof(char *));
	if (!grown)
		return -ENOMEM;
	grown[n] = strdup(v[0]);
	grown[n + 1] = NULL;
	*names = grown;
	return grown[n] ? 0 : -ENOMEM;
}

int repo_feed_names(struct bpk_repo *repo, struct bpk_store_conn *conn, char ***ret_names)
{
	*ret_names = NULL;
	return bpk_store__exec(repo->store, conn, "SELECT name FROM feeds ORDER BY name", NULL, 0,
			       feed_name_row, ret_names);
}

struct bpk_repo *bpk_repo__open(const char *dir, const struct bpk_repo_opts *opts,
				struct bpk_repo_error *error)
{
	_cleanup_free_ char *db = NULL, *store_error = NULL, *keys = NULL, *path = NULL;
	struct bpk_store_conn *conn = NULL;
	struct bpk_repo *repo;
	struct repo_feed feed;
	char **feeds = NULL;
	int err;

	repo = calloc(1, sizeof(*repo));
	if (!repo) {
		repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&repo->index_lock, NULL);
	repo->blob_cache = repo_blob_cache_new();
	repo->max_package = OPTS_GET(opts, max_package, 0) ?: DEFAULT_MAX_PACKAGE;
	repo->now = OPTS_GET(opts, now, 0);
	repo->review = !OPTS_GET(opts, no_review, false);
	repo->dir = strdup(dir);
	repo->publish_lock = xasprintf("%s/blobs/.publish.lock", dir);
	keys = xasprintf("%s/keys", dir);
	if (!repo->dir || !repo->publish_lock || !keys || !repo->blob_cache) {
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
		goto fail;
	}
	for (const char *sub = "blobs/sha256\0blobs/tmp\0blobs/derived\0keys\0index\0feeds\0"; *sub;
	     sub += strlen(sub) + 1) {
		free(path);
		path = xasprintf("%s/%s", dir, sub);
		err = path ? mkdir_p(path, strcmp(sub, "keys") ? 0755 : 0700) : -ENOMEM;
		if (err) {
			err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot create '%s': %s",
					path ? path : dir, strerror(-err));
			goto fail;
		}
	}
	free(path);
	path = xasprintf("%s/root.pem", keys);
	err = path ? load_or_make_key(path, &repo->root_pem, &repo->root_pem_len, error) : -ENOMEM;
	if (err)
		goto fail;
	free(path);
	path = xasprintf("%s/online.pem", keys);
	err = path ? load_or_make_key(path, &repo->online_pem, &repo->online_pem_len, error)
		   : -ENOMEM;
	if (err)
		goto fail;
	if (key_id_of(repo->root_pem, repo->root_pem_len, repo->root_keyid) ||
	    key_id_of(repo->online_pem, repo->online_pem_len, repo->online_keyid)) {
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "the index keys in '%s' are not Ed25519",
				keys);
		goto fail;
	}

	db = OPTS_GET(opts, db, NULL) ? strdup(opts->db) : xasprintf("%s/repo.db", dir);
	repo->store = db ? bpk_store__open(db, &store_error) : NULL;
	if (!repo->store) {
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "%s",
				store_error ? store_error : "cannot open the database");
		goto fail;
	}
	conn = bpk_store__get(repo->store);
	if (!conn) {
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot open the database");
		goto fail;
	}
	err = repo_feed_get(repo, conn, "public", &feed);
	if (err >= 0 && !feed.found) {
		err = bpk_repo__feed_create(repo, "public", 0, error);
		if (err == -EEXIST) /* another process made it first */
			err = 0;
	}
	if (err < 0)
		goto fail;
	clean_blobs(repo, conn);
	err = repo_feed_names(repo, conn, &feeds);
	for (size_t i = 0; err >= 0 && feeds && feeds[i]; i++) {
		err = feed_index_create(repo, feeds[i], error);
		if (!err)
			err = repo_index_sync(repo, conn, feeds[i], true, error);
	}
	bpk_free_names(feeds);
	if (err < 0)
		goto fail;
	bpk_store__put(repo->store, conn);
	return repo;
fail:
	bpk_store__put(repo ? repo->store : NULL, conn);
	bpk_repo__free(repo);
	errno = -err;
	return NULL;
}

void bpk_repo__free(struct bpk_repo *repo)
{
	if (!repo)
		return;
	bpk_store__free(repo->store);
	repo_blob_cache_free(repo->blob_cache);
	pthread_mutex_destroy(&repo->index_lock);
	if (repo->root_pem)
		OPENSSL_cleanse(repo->root_pem, repo->root_pem_len);
	if (repo->online_pem)
		OPENSSL_cleanse(repo->online_pem, repo->online_pem_len);
	free(repo->root_pem);
	free(repo->online_pem);
	free(repo->publish_lock);
	free(repo->dir);
	free(repo);
}

uint64_t bpk_repo__max_package(const struct bpk_repo *repo)
{
	return repo->max_package;
}

const char *bpk_repo__dir(const struct bpk_repo *repo)
{
	return repo->dir;
}

/* ---- the signed index ---- */

struct index_row {
	char *name;
	char *version;
	char *sha256;
	uint64_t size;
	bool yanked;
};

struct index_rows {
	struct index_row *items;
	size_t cnt;
};

static int index_row_cb(void *ctx, int ncols, const char *const *v)
{
	struct index_rows *rows = ctx;
	struct index_row *grown, *row;

	grown = realloc(rows->items, (rows->cnt + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	rows->items = grown;
	row = &grown[rows->cnt];
	row->name = strdup(v[0]);
	row->version = strdup(v[1]);
	row->sha256 = strdup(v[2]);
	row->size = strtoull(v[3], NULL, 10);
	row->yanked = !strcmp(v[4], "1");
	rows->cnt++;
	return row->name && row->version && row->sha256 ? 0 : -ENOMEM;
}

static void index_rows_release(struct index_rows *rows)
{
	for (size_t i = 0; i < rows->cnt; i++) {
		free(rows->items[i].name);
		free(rows->items[i].version);
		free(rows->items[i].sha256);
	}
	free(rows->items);
}

/*
 * Serialise index writers: a mutex between this process's threads, a lock file between
 * processes that share the data directory (DESIGN.md §5: many bpk-repo, one store).
 */
static int index_lock(struct bpk_repo *repo)
{
	_cleanup_free_ char *path = xasprintf("%s/index/.lock", repo->dir);
	int fd;

	pthread_mutex_lock(&repo->index_lock);
	fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		if (fd >= 0)
			close(fd);
		pthread_mutex_unlock(&repo->index_lock);
		return -EIO;
	}
	return fd;
}

static void index_unlock(struct bpk_repo *repo, int fd)
{
	close(fd);
	pthread_mutex_unlock(&repo->index_lock);
}

static struct bpk_index *index_open(struct bpk_repo *repo, const char *dir)
{
	struct bpk_index *index;

	index = bpk_index__new(&(struct bpk_index_opts){ .sz = sizeof(struct bpk_index_opts),
							  .now = repo->now });
	if (!index)
		return NULL;
	if (bpk_index__load(index, dir) ||
	    bpk_index__load_key(index, repo->online_pem, repo->online_pem_len)) {
		pr_warn("cannot load the index in '%s': %s\n", dir, bpk_index__errstr(index));
		bpk_index__free(index);
		return NULL;
	}
	return index;
}

/*
 * Whether the index in dir verifies as a client would verify it, from its first root: a crash
 * between writing targets.json and timestamp.json leaves files that each load but do not
 * agree (a snapshot recording another targets), and an idle repository's timestamp expires.
 */
static bool index_verifies(struct bpk_repo *repo, const char *dir)
{
	_cleanup_free_ char *path = xasprintf("%s/1.root.json", dir), *root = NULL;
	struct bpk_index_client *client = NULL;
	size_t len;
	bool ok;

	if (!path || read_file(path, BPK_INDEX_MAX_ROOT_LEN, &root, &len))
		return false;
	client = bpk_index_client__new(&(struct bpk_index_client_opts){
		.sz = sizeof(struct bpk_index_client_opts),
		.root = root,
		.root_len = len,
		.fetch = bpk_index__fetch_dir,
		.fetch_ctx = (void *)dir,
		.now = repo->now,
	});
	ok = client && bpk_index_client__update(client) == 0;
	if (!ok)
		pr_warn("the index in '%s' does not verify (%s): signing it again\n", dir,
			client ? bpk_index_client__errstr(client) : "out of memory");
	bpk_index_client__free(client);
	return ok;
}

/* Temporary files of an index write that a crash cut short. */
static void remove_index_leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (strstr(de->d_name, ".tmp."))
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
}

int repo_index_sync(struct bpk_repo *repo, struct bpk_store_conn *conn, const char *feed,
		    bool recover, struct bpk_repo_error *error)
{
	_cleanup_free_ char *dir = feed_index_dir(repo, feed);
	struct index_rows rows = { 0 };
	const char *params[] = { feed };
	const struct bpk_index_meta *meta;
	struct bpk_index *index = NULL;
	bool changed = false;
	int lock, err;

	err = bpk_store__exec(repo->store, conn,
			      "SELECT name, version, sha256, size, yanked FROM versions WHERE feed = $1",
			      params, 1, index_row_cb, &rows);
	if (err < 0) {
		index_rows_release(&rows);
		return repo_fail_store(repo, conn, error, err, "cannot read the versions");
	}
	lock = index_lock(repo);
	if (lock < 0) {
		index_rows_release(&rows);
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot lock the index");
	}
	if (recover && dir) {
		remove_index_leftovers(dir);
		changed = !index_verifies(repo, dir);
	}
	index = dir ? index_open(repo, dir) : NULL;
	if (!index) {
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot load the index of feed '%s'",
				feed);
		goto out;
	}
	meta = bpk_index__meta(index);
	for (size_t i = 0; !err && i < rows.cnt; i++) {
		struct index_row *row = &rows.items[i];
		struct bpk_index_target have, want = {
			.name = row->name, .version = row->version, .sha256 = row->sha256,
			.size = row->size, .yanked = row->yanked,
		};

		if (bpk_index_meta__find(meta, row->name, row->version, &have) == 0 &&
		    !strcmp(have.sha256, row->sha256) && have.size == row->size &&
		    have.yanked == row->yanked)
			continue;
		err = bpk_index__add_target(index, &want);
		changed = true;
	}
	if (!err && changed)
		err = bpk_index__publish(index);
	if (err)
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot sign the index of feed '%s': %s",
				feed, bpk_index__errstr(index));
out:
	bpk_index__free(index);
	index_unlock(repo, lock);
	index_rows_release(&rows);
	return err;
}

int bpk_repo__refresh(struct bpk_repo *repo, struct bpk_repo_error *error)
{
	struct bpk_store_conn *conn;
	char **feeds = NULL;
	int err;

	conn = bpk_store__get(repo->store);
	if (!conn)
		return repo_fail_store(repo, NULL, error, -errno, "cannot open the database");
	err = repo_feed_names(repo, conn, &feeds);
	bpk_store__put(repo->store, conn);
	if (err < 0) {
		bpk_free_names(feeds);
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot list the feeds");
	}
	err = 0;
	for (size_t i = 0; !err && feeds && feeds[i]; i++) {
		_cleanup_free_ char *dir = feed_index_dir(repo, feeds[i]);
		const struct bpk_index_meta *meta;
		struct bpk_index *index;
		int64_t expires, left;
		int lock = index_lock(repo);

		if (lock < 0) {
			err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot lock the index");
			break;
		}
		index = dir ? index_open(repo, dir) : NULL;
		if (!index) {
			index_unlock(repo, lock);
			err = repo_fail(error, BPK_REPO_E_INTERNAL,
					"cannot load the index of feed '%s'", feeds[i]);
			break;
		}
		meta = bpk_index__meta(index);
		expires = bpk_index_meta__expires(meta, BPK_INDEX_TIMESTAMP);
		left = expires - repo_now(repo);
		/* Re-sign at half life, so a client never sees a timestamp about to expire. */
		if (left < (int64_t)(BPK_INDEX_TIMESTAMP_LIFETIME / 2) && bpk_index__refresh(index))
			err = repo_fail(error, BPK_REPO_E_INTERNAL,
					"cannot refresh the index of feed '%s': %s", feeds[i],
					bpk_index__errstr(index));
		bpk_index__free(index);
		index_unlock(repo, lock);
	}
	bpk_free_names(feeds);
	return err;
}

static bool index_file_name_valid(const char *file)
{
	static const char *const fixed[] = { "root.json", "targets.json", "snapshot.json",
					     "timestamp.json" };
	const char *p = file;

	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		if (!strcmp(file, fixed[i]))
			return true;
	/* N.root.json, N a positive decimal without leading zeros. */
	if (*p < '1' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	return p - file <= 20 && !strcmp(p, ".root.json");
}

int bpk_repo__index_file(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *feed,
			 const char *file, char **ret_path, struct bpk_repo_error *error)
{
	struct bpk_store_conn *conn;
	struct repo_feed info;
	char *path;
	int err;

	if (!repo_feed_name_valid(feed) || !index_file_name_valid(file))
		return repo_fail(error, BPK_REPO_E_NOT_FOUND, "no such index file");
	conn = bpk_store__get(repo->store);
	if (!conn)
		return repo_fail_store(repo, NULL, error, -errno, "cannot open the database");
	err = repo_feed_get(repo, conn, feed, &info);
	bpk_store__put(repo->store, conn);
	if (err < 0)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot read the feed");
	if (!repo_can_read(&info, feed, auth))
		return repo_fail(error, BPK_REPO_E_NOT_FOUND, "no such feed '%s'", feed);
	path = xasprintf("%s/index/%s/%s", repo->dir, feed, file);
	if (!path)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
	if (access(path, R_OK)) {
		free(path);
		return repo_fail(error, BPK_REPO_E_NOT_FOUND, "no index file '%s'", file);
	}
	*ret_path = path;
	return 0;
}

/* ---- reading packages ---- */

/*
 * Where each name@version's bytes are, remembered after the first lookup: downloads are the
 * hot path, and a version's digest and size and its feed's privacy never change once written
 * (nothing updates a feed or deletes a version; a yank does not stop downloads), so an entry
 * never goes stale, even with other processes writing the same database. Misses still go to
 * the database, so a new publish is seen at once.
 */
#define BLOB_CACHE_BUCKETS 4096
#define BLOB_CACHE_MAX 65536

struct blob_cache_entry {
	struct blob_cache_entry *next;
	char *key; /* "name@version" */
	char sha256[65];
	uint64_t size;
	char feed[128];
	bool private;
};

struct blob_cache {
	pthread_rwlock_t lock;
	struct blob_cache_entry *buckets[BLOB_CACHE_BUCKETS];
	size_t cnt;
};

struct blob_cache *repo_blob_cache_new(void)
{
	struct blob_cache *cache = calloc(1, sizeof(*cache));

	if (cache)
		pthread_rwlock_init(&cache->lock, NULL);
	return cache;
}

void repo_blob_cache_free(struct blob_cache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i < BLOB_CACHE_BUCKETS; i++) {
		struct blob_cache_entry *e = cache->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	}
	pthread_rwlock_destroy(&cache->lock);
	free(cache);
}

static size_t blob_cache_bucket(const char *name, const char *version)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '@') * 16777619u;
	for (const char *p = version; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % BLOB_CACHE_BUCKETS;
}

static bool blob_cache_key_is(const char *key, const char *name, const char *version)
{
	size_t len = strlen(name);

	return !strncmp(key, name, len) && key[len] == '@' && !strcmp(key + len + 1, version);
}

static bool blob_cache_get(struct blob_cache *cache, const char *name, const char *version,
			   struct blob_cache_entry *ret)
{
	struct blob_cache_entry *e;
	bool found = false;

	pthread_rwlock_rdlock(&cache->lock);
	for (e = cache->buckets[blob_cache_bucket(name, version)]; e && !found; e = e->next) {
		if (blob_cache_key_is(e->key, name, version)) {
			*ret = *e;
			found = true;
		}
	}
	pthread_rwlock_unlock(&cache->lock);
	return found;
}

static void blob_cache_put(struct blob_cache *cache, const char *name, const char *version,
			   const struct blob_cache_entry *value)
{
	size_t bucket = blob_cache_bucket(name, version);
	struct blob_cache_entry *e = malloc(sizeof(*e)), *old;
	bool keep;

	if (!e)
		return;
	*e = *value;
	e->key = xasprintf("%s@%s", name, version);
	if (!e->key) {
		free(e);
		return;
	}
	pthread_rwlock_wrlock(&cache->lock);
	/* Another thread may have put it meanwhile; a full cache just stops growing. */
	keep = cache->cnt < BLOB_CACHE_MAX;
	for (old = cache->buckets[bucket]; keep && old; old = old->next)
		keep = strcmp(old->key, e->key) != 0;
	if (keep) {
		e->next = cache->buckets[bucket];
		cache->buckets[bucket] = e;
		cache->cnt++;
	}
	pthread_rwlock_unlock(&cache->lock);
	if (!keep) {
		free(e->key);
		free(e);
	}
}

static int blob_row(void *ctx, int ncols, const char *const *v)
{
	struct blob_cache_entry *b = ctx;

	snprintf(b->sha256, sizeof(b->sha256), "%s", v[0]);
	b->size = strtoull(v[1], NULL, 10);
	snprintf(b->feed, sizeof(b->feed), "%s", v[2]);
	b->private = !strcmp(v[3], "1");
	b->key = ""; /* found */
	return 0;
}

char *repo_blob_path(const struct bpk_repo *repo, const char *sha256)
{
	return xasprintf("%s/blobs/sha256/%.2s/%s", repo->dir, sha256, sha256);
}

int bpk_repo__blob(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *name,
		   const char *version, char **ret_path, char ret_sha256[65], uint64_t *ret_size,
		   struct bpk_repo_error *error)
{
	struct blob_cache_entry b = { 0 };
	const char *params[] = { name, version };
	struct bpk_store_conn *conn;
	struct repo_feed feed;
	char *path;
	int err;

	if (!bpk_name__valid(name) || !bpk_semver__valid(version))
		return repo_fail(error, BPK_REPO_E_NOT_FOUND, "package '%s@%s' not found", name,
				 version);
	if (!blob_cache_get(repo->blob_cache, name, version, &b)) {
		conn = bpk_store__get(repo->store);
		if (!conn)
			return repo_fail_store(repo, NULL, error, -errno,
					       "cannot open the database");
		err = bpk_store__exec(repo->store, conn,
				      "SELECT v.sha256, v.size, v.feed, f.private FROM versions v"
				      " JOIN feeds f ON f.name = v.feed"
				      " WHERE v.name = $1 AND v.version = $2",
				      params, 2, blob_row, &b);
		if (err < 0)
			err = repo_fail_store(repo, conn, error, err, "cannot read the version");
		bpk_store__put(repo->store, conn);
		if (err < 0)
			return err;
		if (b.key)
			blob_cache_put(repo->blob_cache, name, version, &b);
	}
	feed = (struct repo_feed){ .found = b.key != NULL, .private = b.private };
	/* Private and unreadable answers exactly as absent does. */
	if (!repo_can_read(&feed, b.feed, auth))
		return repo_fail(error, BPK_REPO_E_NOT_FOUND, "package '%s@%s' not found", name,
				 version);
	path = repo_blob_path(repo, b.sha256);
	if (!path)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
	*ret_path = path;
	memcpy(ret_sha256, b.sha256, 65);
	*ret_size = b.size;
	return 0;
}

/* The package name@version, opened from its blob (every container check again). */
static int open_version(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *name,
			const char *version, struct bpk_pkg **ret_pkg, struct bpk_repo_error *error)
{
	_cleanup_free_ char *path = NULL;
	char sha[65];
	uint64_t size;
	int err;

	err = bpk_repo__blob(repo, auth, name, version, &path, sha, &size, error);
	if (err)
		return err;
	*ret_pkg = bpk_pkg__open(path, NULL, NULL);
	if (!*ret_pkg)
		return repo_fail(error, BPK_REPO_E_INTERNAL,
				 "the stored package '%s@%s' cannot be read", name, version);
	return 0;
}

int bpk_repo__package_file(struct bpk_repo *repo, const struct bpk_repo_auth *auth,
			   const char *name, const char *version, const char *path, void **ret_data,
			   size_t *ret_len, struct bpk_repo_error *error)
{
	struct bpk_pkg *pkg;
	const void *data;
	char *copy;
	size_t len;
	int err;

	err = open_version(repo, auth, name, version, &pkg, error);
	if (err)
		return err;
	data = bpk_pkg__file(pkg, path, &len);
	if (!data) {
		bpk_pkg__free(pkg);
		return repo_fail(error, BPK_REPO_E_NOT_FOUND, "'%s@%s' has no file '%s'", name,
				 version, path);
	}
	copy = malloc(len + 1);
	if (copy) {
		memcpy(copy, data, len);
		copy[len] = '\0';
	}
	bpk_pkg__free(pkg);
	if (!copy)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
	*ret_data = copy;
	*ret_len = len;
	return 0;
}

int bpk_repo__artifact(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *name,
		       const char *version, const char *artifact, char **ret_path,
		       struct bpk_repo_error *error)
{
	_cleanup_free_ char *blob = NULL, *derived = NULL;
	struct bpk_pkg_entry *entries = NULL;
	struct bpk_pkg *pkg = NULL;
	size_t cnt = 0, n, out_len;
	void *out = NULL;
	char sha[65];
	uint64_t size;
	int err;

	err = bpk_repo__blob(repo, auth, name, version, &blob, sha, &size, error);
	if (err)
		return err;
	if (str_has_suffix(artifact, ".bpk")) {
		*ret_path = TAKE_PTR(blob);
		return 0;
	}
	if (!str_has_suffix(artifact, ".tar.gz"))
		return repo_fail(error, BPK_REPO_E_NOT_FOUND,
				 "artifact '%s': only NAME.tar.gz and NAME.bpk are served", artifact);
	derived = xasprintf("%s/blobs/derived/%s.tar.gz", repo->dir, sha);
	if (!derived)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
	if (access(derived, R_OK) == 0) {
		*ret_path = TAKE_PTR(derived);
		return 0;
	}
	/* l3afd unpacks the archive and loads object_file from its top level. */
	err = open_version(repo, auth, name, version, &pkg, error);
	if (err)
		return err;
	n = bpk_pkg__entry_cnt(pkg);
	entries = calloc(n ? n : 1, sizeof(*entries));
	err = entries ? 0 : -ENOMEM;
	for (size_t i = 0; !err && i < n; i++) {
		const void *data;
		size_t len;
		const char *path = bpk_pkg__entry(pkg, i, &data, &len);

		if (bpk_path_is_object(path))
			path = strchr(path, '/') + 1;
		else if (strcmp(path, BPK_MANIFEST_PATH) && strcmp(path, BPK_SIGNATURE_PATH))
			continue;
		entries[cnt++] = (struct bpk_pkg_entry){ .path = path, .data = data, .size = len };
	}
	if (!err)
		err = bpk_pkg__write_mem(entries, cnt, &out, &out_len);
	if (!err)
		err = write_file_atomic(derived, out, out_len, 0644);
	free(out);
	free(entries);
	bpk_pkg__free(pkg);
	if (err)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot write the l3afd artifact: %s",
				 strerror(-err));
	*ret_path = TAKE_PTR(derived);
	return 0;
}

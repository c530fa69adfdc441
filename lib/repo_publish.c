// SPDX-License-Identifier: BSD-2-Clause
/* Publishing and yanking: every check of a package, durable blob, one transaction, a new index. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpk/lint.h>
#include <bpk/manifest.h>
#include <bpk/pkg.h>
#include <bpk/repo.h>
#include <bpk/review.h>
#include <bpk/sign.h>
#include <bpk/trust.h>

#include "bpk_internal.h"
#include "repo_internal.h"

/* The errors of diags as the API lists them: [{"id","name","path","message"}]. */
static char *diag_details(const struct bpk_diags *diags)
{
	_cleanup_json_ json_t *list = json_array();

	for (size_t i = 0; list && i < diags->cnt; i++) {
		const struct bpk_diag *d = &diags->items[i];

		if (d->severity != BPK_SEV_ERROR)
			continue;
		if (json_array_append_new(list, json_pack("{s:s, s:s, s:s?, s:s}", "id", d->id,
							  "name", d->name, "path", d->where,
							  "message", d->message)))
			return NULL;
	}
	return list ? json_dumps(list, JSON_COMPACT) : NULL;
}

static int fail_diags(struct bpk_repo_error *error, const struct bpk_diags *diags,
		      const char *what)
{
	const struct bpk_diag *first = bpk_diags__first_error(diags);
	size_t cnt = bpk_diags__count(diags, BPK_SEV_ERROR);
	int err;

	err = repo_fail(error, BPK_REPO_E_INVALID_PACKAGE, "%s: %zu error%s%s%s", what, cnt,
			cnt == 1 ? "" : "s", first ? ", first: " : "", first ? first->message : "");
	if (error) {
		free(error->details);
		error->details = diag_details(diags);
	}
	return err;
}

/* Write buf to its content address: temp file, fsync, rename, fsync of the directory. */
static int write_blob(struct bpk_repo *repo, const void *buf, size_t len, const char *sha256)
{
	_cleanup_free_ char *path = repo_blob_path(repo, sha256);
	_cleanup_free_ char *tmp = xasprintf("%s/blobs/tmp/upload.XXXXXX", repo->dir);
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	int err;

	if (!path || !tmp)
		return -ENOMEM;
	if (access(path, F_OK) == 0)
		return 0; /* the same bytes are there already: content addressing */
	dir = strndup(path, strrchr(path, '/') - path);
	if (!dir)
		return -ENOMEM;
	err = mkdir_p(dir, 0755);
	if (err)
		return err;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = write_all(fd, buf, len);
	if (!err && fchmod(fd, 0644))
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd))
		return -errno;
	return 0;
}

/* A JSON array (text) of the distinct program types of a manifest. */
static char *program_types(json_t *manifest)
{
	_cleanup_json_ json_t *types = json_array();
	json_t *prog;
	size_t i;

	json_array_foreach(json_object_get(manifest, "programs"), i, prog) {
		const char *type = json_string_value(json_object_get(prog, "type"));
		bool seen = false;
		json_t *t;
		size_t j;

		json_array_foreach(types, j, t)
			seen |= type && !strcmp(json_string_value(t), type);
		if (type && !seen)
			json_array_append_new(types, json_string(type));
	}
	return types ? json_dumps(types, JSON_COMPACT) : NULL;
}

static char *json_text_or(json_t *value, const char *fallback)
{
	return value ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : strdup(fallback);
}

/* What search reads: the name, description, tags and types in lower case. */
static char *search_text(const char *name, json_t *manifest, const char *types)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *tag;
	size_t i;

	strbuf_addf(&sb, "%s %s", name,
		    json_string_value(json_object_get(manifest, "description")) ?: "");
	json_array_foreach(json_object_get(manifest, "tags"), i, tag)
		strbuf_addf(&sb, " %s", json_string_value(tag) ?: "");
	strbuf_addf(&sb, " %s", types);
	for (char *p = sb.buf; p && *p; p++)
		*p = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
	return strbuf_detach(&sb, NULL);
}

static char *signers_json(const struct bpk_verify_result *result)
{
	_cleanup_json_ json_t *list = json_array();

	for (size_t i = 0; list && i < bpk_verify_result__signer_cnt(result); i++) {
		const struct bpk_signer *s = bpk_verify_result__signer(result, i);

		json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "keyid", s->keyid, "alg",
						      s->alg, "trusted", s->trusted));
	}
	return list ? json_dumps(list, JSON_COMPACT) : NULL;
}

/* A name whose last part reads as a version would make /v1/packages/A/B ambiguous. */
static bool name_looks_versioned(const char *name)
{
	const char *slash = strchr(name, '/');

	return slash && bpk_semver__valid(slash + 1);
}

struct version_row {
	const char *name, *version, *feed, *sha256;
	uint64_t size;
	char *description, *tags, *types, *platforms, *kernel, *search, *manifest, *signers;
	char *verified; /* the review's record (JSON), NULL when reviews are off */
};

static void version_row_release(struct version_row *row)
{
	free(row->description);
	free(row->tags);
	free(row->types);
	free(row->platforms);
	free(row->kernel);
	free(row->search);
	free(row->manifest);
	free(row->signers);
	free(row->verified);
}

static int insert_version(struct bpk_repo *repo, struct bpk_store_conn *conn,
			  const struct bpk_repo_auth *auth, const struct version_row *row)
{
	char size[24], published[24];
	const char *params[15];
	int err;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)row->size);
	snprintf(published, sizeof(published), "%lld", (long long)repo_now(repo));
	params[0] = row->name;
	params[1] = row->version;
	params[2] = row->feed;
	params[3] = row->sha256;
	params[4] = size;
	params[5] = published;
	params[6] = row->description;
	params[7] = row->tags;
	params[8] = row->types;
	params[9] = row->platforms;
	params[10] = row->kernel;
	params[11] = row->search;
	params[12] = row->manifest;
	params[13] = row->signers;
	params[14] = row->verified;
	err = bpk_store__begin(repo->store, conn);
	if (err)
		return err;
	err = bpk_store__exec(repo->store, conn,
			      "INSERT INTO versions (name, version, feed, sha256, size, published,"
			      " description, tags, types, platforms, kernel, search, manifest, signers,"
			      " verified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
			      " $14, $15)",
			      params, 15, NULL, NULL);
	if (err >= 0) {
		_cleanup_free_ char *subject = xasprintf("%s@%s", row->name, row->version);

		err = subject ? repo_audit(repo, conn, auth, "publish", subject, row->sha256)
			      : -ENOMEM;
	}
	if (err < 0) {
		bpk_store__rollback(repo->store, conn);
		return err;
	}
	return bpk_store__commit(repo->store, conn);
}

static int version_exists_row(void *ctx, int ncols, const char *const *v)
{
	*(bool *)ctx = true;
	return 0;
}

/*
 * Load every program into this kernel's verifier and run the tests (docs/spec/repository.md §5);
 * a feed that requires it refuses a package that does not pass, with the kernel's reason.
 */
static int review(const struct bpk_pkg *pkg, const struct repo_feed *feed, struct version_row *row,
		  struct bpk_repo_error *error)
{
	enum bpk_review_status status;
	_cleanup_json_ json_t *record = NULL;
	json_t *prog;
	size_t i;
	int err;

	err = bpk_review__pkg(pkg, NULL, &status, &row->verified);
	if (err)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot review the package: %s",
				 strerror(-err));
	if (!feed->require_verified || status == BPK_REVIEW_VERIFIED)
		return 0;
	record = json_loads(row->verified, 0, NULL);
	json_array_foreach(json_object_get(record, "programs"), i, prog) {
		const char *why = json_string_value(json_object_get(prog, "error"));

		if (why)
			return repo_fail(error, BPK_REPO_E_INVALID_PACKAGE,
					 "feed '%s' requires verified packages: program '%s': %s",
					 row->feed,
					 json_string_value(json_object_get(prog, "name")) ?: "?", why);
	}
	return repo_fail(error, BPK_REPO_E_INVALID_PACKAGE, "feed '%s' requires verified packages: %s",
			 row->feed,
			 json_string_value(json_object_get(record, "summary")) ?: "not verified");
}

static int check_and_store(struct bpk_repo *repo, struct bpk_store_conn *conn,
			   const struct bpk_repo_auth *auth, const void *buf, size_t len,
			   struct bpk_pkg *pkg, struct version_row *row, struct bpk_repo_error *error)
{
	const struct bpk_manifest *manifest = bpk_pkg__manifest(pkg);
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_error trust_error = BPK_ERROR_INIT;
	struct bpk_verify_result *result = NULL;
	struct bpk_trust *trust = NULL;
	_cleanup_free_ char *trust_dir = NULL;
	struct repo_feed feed;
	json_t *json = bpk_manifest_json(manifest);
	const char *params[2];
	bool exists = false;
	int err, lock = -1;

	row->name = bpk_manifest__name(manifest);
	row->version = bpk_manifest__version(manifest);
	row->feed = bpk_manifest__feed(manifest);
	row->sha256 = bpk_pkg__digest(pkg);
	row->size = len;

	if (strcmp(auth->feed, row->feed) || auth->scope < BPK_REPO_SCOPE_PUSH)
		return repo_fail(error, BPK_REPO_E_FORBIDDEN,
				 "token %s may not publish to feed '%s' (it holds '%s' on '%s')",
				 auth->token_id, row->feed, bpk_repo_scope__name(auth->scope),
				 auth->feed);
	err = repo_feed_get(repo, conn, row->feed, &feed);
	if (err < 0)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot read the feed");
	if (!feed.found)
		return repo_fail(error, BPK_REPO_E_NOT_FOUND, "feed '%s' does not exist", row->feed);
	if (name_looks_versioned(row->name))
		return repo_fail(error, BPK_REPO_E_INVALID_PACKAGE,
				 "'name': \"%s\": the part after the feed must not be a version",
				 row->name);

	err = bpk_lint__pkg(pkg, &diags);
	if (err || bpk_diags__count(&diags, BPK_SEV_ERROR)) {
		err = err ? repo_fail(error, BPK_REPO_E_INTERNAL, "lint failed: %s", strerror(-err))
			  : fail_diags(error, &diags, "the package does not pass lint");
		bpk_diags__release(&diags);
		return err;
	}
	bpk_diags__release(&diags);

	trust_dir = xasprintf("%s/feeds/%s/trust.d", repo->dir, row->feed);
	trust = trust_dir ? bpk_trust__load_dir(trust_dir, &trust_error) : NULL;
	result = bpk_verify_result__new();
	if (!trust || !result) {
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "the publish policy of feed '%s': %s",
				row->feed, trust_error.message ?: "out of memory");
		goto out;
	}
	err = bpk_pkg__verify(pkg, trust,
			      &(struct bpk_verify_opts){ .sz = sizeof(struct bpk_verify_opts),
							 .allow_unsigned = feed.allow_unsigned },
			      result);
	if (err) {
		err = repo_fail(error, BPK_REPO_E_INVALID_PACKAGE,
				"feed '%s' does not accept the signatures: %s", row->feed,
				bpk_verify_result__reason(result) ?: strerror(-err));
		goto out;
	}

	params[0] = row->name;
	params[1] = row->version;
	err = bpk_store__exec(repo->store, conn,
			      "SELECT 1 FROM versions WHERE name = $1 AND version = $2", params, 2,
			      version_exists_row, &exists);
	if (err >= 0 && exists)
		err = -EEXIST;
	if (err < 0)
		goto store_failed;

	if (repo->review) {
		err = review(pkg, &feed, row, error);
		if (err)
			goto out;
	} else if (feed.require_verified) {
		err = repo_fail(error, BPK_REPO_E_INVALID_PACKAGE,
				"feed '%s' requires verified packages and this repository does not "
				"run the verifier (started with reviews off)",
				row->feed);
		goto out;
	}

	row->types = program_types(json);
	row->description = strdup(bpk_manifest__description(manifest) ?: "");
	row->tags = json_text_or(json_object_get(json, "tags"), "[]");
	row->platforms = json_text_or(json_object_get(json, "platforms"), "[]");
	row->kernel = strdup(bpk_manifest__kernel_req(manifest) ?: "");
	row->search = row->types ? search_text(row->name, json, row->types) : NULL;
	row->manifest = json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER);
	row->signers = signers_json(result);
	if (!row->types || !row->description || !row->tags || !row->platforms || !row->kernel ||
	    !row->search || !row->manifest || !row->signers) {
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
		goto out;
	}

	/* The orphan sweep at start must not take a blob whose commit is on its way. */
	lock = open(repo->publish_lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock < 0 || flock(lock, LOCK_SH) < 0) {
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot lock '%s'", repo->publish_lock);
		goto out;
	}
	err = write_blob(repo, buf, len, row->sha256);
	if (err) {
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot store the package: %s",
				strerror(-err));
		goto out;
	}
	err = insert_version(repo, conn, auth, row);
	if (err < 0)
		goto store_failed;
	err = 0;
	goto out;
store_failed:
	if (err == -EEXIST)
		err = repo_fail(error, BPK_REPO_E_EXISTS,
				"%s@%s is already published; versions are immutable", row->name,
				row->version);
	else
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot record the package: %s",
				bpk_store__errstr(repo->store, conn));
out:
	if (lock >= 0)
		close(lock);
	bpk_verify_result__free(result);
	bpk_trust__free(trust);
	bpk_error__release(&trust_error);
	return err;
}

int bpk_repo__publish(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const void *buf,
		      size_t len, char **ret_json, struct bpk_repo_error *error)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct version_row row = { 0 };
	struct bpk_store_conn *conn;
	struct bpk_pkg *pkg;
	json_t *answer;
	int err;

	if (!auth)
		return repo_fail(error, BPK_REPO_E_UNAUTHORIZED,
				 "publishing needs a token with the push scope");
	if (len > repo->max_package)
		return repo_fail(error, BPK_REPO_E_TOO_LARGE,
				 "the package is %zu bytes; this repository takes at most %llu", len,
				 (unsigned long long)repo->max_package);
	pkg = bpk_pkg__open_mem(buf, len,
				&(struct bpk_pkg_open_opts){ .sz = sizeof(struct bpk_pkg_open_opts),
							     .max_compressed = repo->max_package },
				&diags);
	if (!pkg) {
		err = fail_diags(error, &diags, "not a valid package");
		bpk_diags__release(&diags);
		return err;
	}
	bpk_diags__release(&diags);

	conn = bpk_store__get(repo->store);
	if (!conn) {
		bpk_pkg__free(pkg);
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot open the database");
	}
	err = check_and_store(repo, conn, auth, buf, len, pkg, &row, error);
	if (!err) {
		/*
		 * The package is committed: answer 201 even if signing the index fails now, as
		 * the next publish, yank or start signs it (the database is the truth).
		 */
		struct bpk_repo_error index_error = BPK_REPO_ERROR_INIT;

		if (repo_index_sync(repo, conn, row.feed, false, &index_error))
			pr_warn("%s\n", index_error.message ?: "cannot sign the index");
		bpk_repo_error__release(&index_error);
		answer = json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", row.name, "version",
				   row.version, "feed", row.feed, "sha256", row.sha256, "size",
				   (json_int_t)row.size);
		*ret_json = answer ? bpk_json_dump(answer, NULL) : NULL;
		json_decref(answer);
		if (!*ret_json)
			err = repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
	}
	bpk_store__put(repo->store, conn);
	version_row_release(&row);
	bpk_pkg__free(pkg);
	return err;
}

int bpk_repo__set_yanked(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *name,
			 const char *version, bool yanked, char **ret_json,
			 struct bpk_repo_error *error)
{
	_cleanup_free_ char *subject = NULL;
	const char *params[3];
	struct bpk_store_conn *conn;
	struct repo_feed feed_info;
	char feed[128];
	json_t *answer;
	int err;

	if (!bpk_name__valid(name) || !bpk_semver__valid(version))
		return repo_fail(error, BPK_REPO_E_BAD_REQUEST, "'%s@%s' is not a name@version",
				 name, version);
	if (!auth)
		return repo_fail(error, BPK_REPO_E_UNAUTHORIZED, "yanking needs a token");
	repo_feed_of(name, feed, sizeof(feed));
	conn = bpk_store__get(repo->store);
	if (!conn)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot open the database");
	err = repo_feed_get(repo, conn, feed, &feed_info);
	if (err < 0) {
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot read the feed");
		goto out;
	}
	if (!repo_can_read(&feed_info, feed, auth)) {
		err = repo_fail(error, BPK_REPO_E_NOT_FOUND, "package '%s@%s' not found", name,
				version);
		goto out;
	}
	if (strcmp(auth->feed, feed) || auth->scope < BPK_REPO_SCOPE_YANK) {
		err = repo_fail(error, BPK_REPO_E_FORBIDDEN,
				"token %s may not yank in feed '%s' (it holds '%s' on '%s')",
				auth->token_id, feed, bpk_repo_scope__name(auth->scope), auth->feed);
		goto out;
	}
	subject = xasprintf("%s@%s", name, version);
	params[0] = yanked ? "1" : "0";
	params[1] = name;
	params[2] = version;
	err = subject ? bpk_store__begin(repo->store, conn) : -ENOMEM;
	if (!err)
		err = bpk_store__exec(repo->store, conn,
				      "UPDATE versions SET yanked = $1 WHERE name = $2 AND version = $3",
				      params, 3, NULL, NULL);
	if (err == 0) {
		bpk_store__rollback(repo->store, conn);
		err = repo_fail(error, BPK_REPO_E_NOT_FOUND, "package '%s@%s' not found", name,
				version);
		goto out;
	}
	if (err > 0)
		err = repo_audit(repo, conn, auth, yanked ? "yank" : "unyank", subject, "");
	if (err >= 0)
		err = bpk_store__commit(repo->store, conn);
	else
		bpk_store__rollback(repo->store, conn);
	if (err < 0) {
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot record the yank: %s",
				bpk_store__errstr(repo->store, conn));
		goto out;
	}
	err = repo_index_sync(repo, conn, feed, false, error);
	if (err)
		goto out;
	answer = json_pack("{s:s, s:s, s:b}", "name", name, "version", version, "yanked", yanked);
	*ret_json = answer ? bpk_json_dump(answer, NULL) : NULL;
	json_decref(answer);
	err = *ret_json ? 0 : repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
out:
	bpk_store__put(repo->store, conn);
	return err;
}

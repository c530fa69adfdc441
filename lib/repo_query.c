// SPDX-License-Identifier: BSD-2-Clause
/* Reading the repository: search and its ranking, package records, the service index, export. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpk/index.h>
#include <bpk/manifest.h>
#include <bpk/pkg.h>
#include <bpk/repo.h>

#include "bpk_internal.h"
#include "config.h"
#include "repo_internal.h"

#define SEARCH_TAKE_DEFAULT 20
#define SEARCH_TAKE_MAX 100
#define SEARCH_TERMS_MAX 8

/* ---- search ---- */

struct hit {
	char *name, *version, *feed, *description, *tags, *types, *platforms, *kernel, *search;
	int64_t published;
	double score;
};

struct hits {
	struct hit *items;
	size_t cnt;
};

static void hit_release(struct hit *h)
{
	free(h->name);
	free(h->version);
	free(h->feed);
	free(h->description);
	free(h->tags);
	free(h->types);
	free(h->platforms);
	free(h->kernel);
	free(h->search);
}

static int hit_row(void *ctx, int ncols, const char *const *v)
{
	struct hits *hits = ctx;
	struct hit *grown, *h;

	/* Rows come sorted by name; keep the highest version of each name. */
	if (hits->cnt && !strcmp(hits->items[hits->cnt - 1].name, v[0])) {
		h = &hits->items[hits->cnt - 1];
		if (bpk_semver__cmp(v[1], h->version) <= 0)
			return 0;
		hit_release(h);
	} else {
		grown = realloc(hits->items, (hits->cnt + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		hits->items = grown;
		h = &grown[hits->cnt++];
	}
	memset(h, 0, sizeof(*h));
	h->name = strdup(v[0]);
	h->version = strdup(v[1]);
	h->feed = strdup(v[2]);
	h->description = strdup(v[3]);
	h->tags = strdup(v[4]);
	h->types = strdup(v[5]);
	h->platforms = strdup(v[6]);
	h->kernel = strdup(v[7]);
	h->search = strdup(v[8]);
	h->published = strtoll(v[9], NULL, 10);
	return h->name && h->version && h->feed && h->description && h->tags && h->types &&
			       h->platforms && h->kernel && h->search
		       ? 0
		       : -ENOMEM;
}

static bool json_list_has(const char *list_text, const char *want)
{
	_cleanup_json_ json_t *list = json_loads(list_text, 0, NULL);
	json_t *item;
	size_t i;

	json_array_foreach(list, i, item)
		if (json_string_value(item) && !strcasecmp(json_string_value(item), want))
			return true;
	return false;
}

/* Whether word occurs in text at a word start. */
static bool has_word_prefix(const char *text, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word))
		if ((p == text || strchr(" -_./", p[-1])) && len)
			return true;
	return false;
}

/*
 * Rank one package for the query's words, the same way whatever the database engine: each
 * word must occur somewhere; a whole-name match counts most, then a name prefix, a word of
 * the name, a tag or program type, a word of the description. Returns < 0 for no match.
 */
static double rank(const struct hit *h, char terms[][64], size_t term_cnt)
{
	double score = 0;

	for (size_t i = 0; i < term_cnt; i++) {
		const char *t = terms[i];
		const char *base = strrchr(h->name, '/') ? strrchr(h->name, '/') + 1 : h->name;
		double s = 0;

		if (!strstr(h->search, t))
			return -1;
		if (!strcmp(base, t) || !strcmp(h->name, t))
			s = 100;
		else if (str_has_prefix(base, t))
			s = 40;
		else if (has_word_prefix(h->name, t))
			s = 25;
		else if (strstr(h->name, t))
			s = 15;
		else if (json_list_has(h->tags, t) || json_list_has(h->types, t))
			s = 10;
		else if (has_word_prefix(h->search, t))
			s = 4;
		else
			s = 1;
		score += s;
	}
	return score;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return strcmp(x->name, y->name);
}

static size_t split_terms(const char *text, char terms[][64])
{
	size_t cnt = 0;

	while (text && *text && cnt < SEARCH_TERMS_MAX) {
		size_t len = 0;

		while (*text == ' ' || *text == '\t' || *text == '+')
			text++;
		while (text[len] && text[len] != ' ' && text[len] != '\t' && text[len] != '+')
			len++;
		if (!len)
			break;
		if (len > 63)
			len = 63;
		for (size_t i = 0; i < len; i++)
			terms[cnt][i] = (char)((text[i] >= 'A' && text[i] <= 'Z') ? text[i] + 32
										  : text[i]);
		terms[cnt++][len] = '\0';
		text += len;
		while (*text && *text != ' ' && *text != '\t' && *text != '+')
			text++;
	}
	return cnt;
}

/* '%word%' for LIKE, with its wildcards and the escape character taken literally. */
static void like_pattern(const char *word, char *out, size_t size)
{
	size_t n = 0;

	out[n++] = '%';
	for (const char *p = word; *p && n + 3 < size; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			out[n++] = '\\';
		out[n++] = *p;
	}
	out[n++] = '%';
	out[n] = '\0';
}

/* "word" as an FTS5 phrase: the word anywhere in the text, its quotes doubled. */
static void fts_phrase(const char *word, char *out, size_t size)
{
	size_t n = 0;

	out[n++] = '"';
	for (const char *p = word; *p && n + 3 < size; p++) {
		if (*p == '"')
			out[n++] = '"';
		out[n++] = *p;
	}
	out[n++] = '"';
	out[n] = '\0';
}

struct feed_seen {
	char name[128];
	bool readable;
};

int bpk_repo__search(struct bpk_repo *repo, const struct bpk_repo_auth *auth,
		     const struct bpk_repo_query *query, char **ret_json,
		     struct bpk_repo_error *error)
{
	char terms[SEARCH_TERMS_MAX][64], like[140] = "", match[140] = "";
	const char *longest = NULL;
	struct feed_seen feeds[64];
	size_t feed_cnt = 0, term_cnt, kept = 0;
	uint64_t take = query->take ? query->take : SEARCH_TAKE_DEFAULT;
	struct hits hits = { 0 };
	struct bpk_store_conn *conn;
	_cleanup_json_ json_t *answer = NULL;
	json_t *results;
	const char *params[3];
	int err;

	if (take > SEARCH_TAKE_MAX)
		return repo_fail(error, BPK_REPO_E_BAD_REQUEST, "take is at most %d",
				 SEARCH_TAKE_MAX);
	if (query->feed && !repo_feed_name_valid(query->feed))
		return repo_fail(error, BPK_REPO_E_BAD_REQUEST, "'%s' is not a feed name",
				 query->feed);
	if (query->kernel && !*query->kernel)
		return repo_fail(error, BPK_REPO_E_BAD_REQUEST, "kernel= needs a release");
	term_cnt = split_terms(query->text, terms);
	/*
	 * The database narrows by the longest word; ranking and the other words are ours. On
	 * SQLite a word of three characters or more goes through the trigram index (a phrase
	 * query: the word anywhere, as LIKE finds it); shorter ones, and PostgreSQL, use LIKE.
	 */
	for (size_t i = 0; i < term_cnt; i++)
		if (!longest || strlen(terms[i]) > strlen(longest))
			longest = terms[i];
	if (longest && strlen(longest) >= 3 && bpk_store__dialect(repo->store) == BPK_STORE_SQLITE)
		fts_phrase(longest, match, sizeof(match));
	else if (longest)
		like_pattern(longest, like, sizeof(like));
	params[0] = like;
	params[1] = query->feed ? query->feed : "";
	params[2] = match;

	conn = bpk_store__get(repo->store);
	if (!conn)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot open the database");
	if (*match)
		err = bpk_store__exec(repo->store, conn,
				      "SELECT name, version, feed, description, tags, types, platforms,"
				      " kernel, search, published FROM versions"
				      " WHERE yanked = 0 AND ($2 = '' OR feed = $2) AND rowid IN"
				      " (SELECT rowid FROM versions_fts WHERE versions_fts MATCH $3)"
				      " ORDER BY name",
				      params, 3, hit_row, &hits);
	else
		err = bpk_store__exec(repo->store, conn,
				      "SELECT name, version, feed, description, tags, types, platforms,"
				      " kernel, search, published FROM versions"
				      " WHERE yanked = 0 AND ($1 = '' OR search LIKE $1 ESCAPE '\\')"
				      " AND ($2 = '' OR feed = $2) ORDER BY name",
				      params, 2, hit_row, &hits);
	if (err < 0) {
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot search: %s",
				bpk_store__errstr(repo->store, conn));
		goto out;
	}
	for (size_t i = 0; i < hits.cnt; i++) {
		struct hit *h = &hits.items[i];
		bool readable = false, seen = false;

		for (size_t f = 0; f < feed_cnt && !seen; f++)
			if (!strcmp(feeds[f].name, h->feed)) {
				seen = true;
				readable = feeds[f].readable;
			}
		if (!seen) {
			struct repo_feed info;

			if (repo_feed_get(repo, conn, h->feed, &info) < 0) {
				err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot read the feed");
				goto out;
			}
			readable = repo_can_read(&info, h->feed, auth);
			if (feed_cnt < ARRAY_SIZE(feeds)) {
				snprintf(feeds[feed_cnt].name, sizeof(feeds[0].name), "%s", h->feed);
				feeds[feed_cnt++].readable = readable;
			}
		}
		h->score = -1;
		if (!readable || (query->type && !json_list_has(h->types, query->type)) ||
		    (query->platform && !json_list_has(h->platforms, query->platform)) ||
		    (query->tag && !json_list_has(h->tags, query->tag)) ||
		    (query->kernel && *h->kernel && !bpk_kernel_req__matches(h->kernel, query->kernel)))
			continue;
		h->score = term_cnt ? rank(h, terms, term_cnt) : 1;
	}
	/* Drop the misses, then order by score. */
	for (size_t i = 0; i < hits.cnt; i++) {
		if (hits.items[i].score < 0) {
			hit_release(&hits.items[i]);
			continue;
		}
		hits.items[kept++] = hits.items[i];
	}
	hits.cnt = kept;
	if (hits.cnt)
		qsort(hits.items, hits.cnt, sizeof(*hits.items), hit_cmp);

	answer = json_pack("{s:I, s:I, s:I, s:[]}", "total", (json_int_t)hits.cnt, "skip",
			   (json_int_t)query->skip, "take", (json_int_t)take, "results");
	results = json_object_get(answer, "results");
	for (uint64_t i = query->skip; results && i < hits.cnt && i < query->skip + take; i++) {
		struct hit *h = &hits.items[i];
		_cleanup_free_ char *published = repo_time_text(h->published);

		json_array_append_new(
			results,
			json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s?, s:s, s:f}", "name",
				  h->name, "feed", h->feed, "version", h->version, "description",
				  h->description, "tags", json_loads(h->tags, 0, NULL), "types",
				  json_loads(h->types, 0, NULL), "platforms",
				  json_loads(h->platforms, 0, NULL), "kernel",
				  *h->kernel ? h->kernel : NULL, "published", published ?: "",
				  "score", h->score));
	}
	*ret_json = answer ? bpk_json_dump(answer, NULL) : NULL;
	err = *ret_json ? 0 : repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
out:
	bpk_store__put(repo->store, conn);
	for (size_t i = 0; i < hits.cnt; i++)
		hit_release(&hits.items[i]);
	free(hits.items);
	return err;
}

/* ---- package records ---- */

struct versions_ctx {
	json_t *list;
};

static int version_list_row(void *ctx, int ncols, const char *const *v)
{
	json_t *list = ctx;
	_cleanup_free_ char *published = repo_time_text(strtoll(v[3], NULL, 10));
	json_t *item;
	size_t at = json_array_size(list);

	item = json_pack("{s:s, s:b, s:s, s:s, s:I}", "version", v[0], "yanked", !strcmp(v[1], "1"),
			 "published", published ?: "", "sha256", v[2], "size",
			 (json_int_t)strtoll(v[4], NULL, 10));
	if (!item)
		return -ENOMEM;
	/* SemVer order, not text order: 1.10.0 after 1.9.0. */
	while (at > 0 && bpk_semver__cmp(json_string_value(json_object_get(
						 json_array_get(list, at - 1), "version")),
					 v[0]) > 0)
		at--;
	return json_array_insert_new(list, at, item) ? -ENOMEM : 0;
}

int bpk_repo__package(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *name,
		      char **ret_json, struct bpk_repo_error *error)
{
	_cleanup_json_ json_t *list = json_array(), *answer = NULL;
	const char *params[] = { name };
	struct bpk_store_conn *conn;
	struct repo_feed info;
	char feed[128];
	int err;

	if (!bpk_name__valid(name))
		return repo_fail(error, BPK_REPO_E_BAD_REQUEST, "'%s' is not a package name", name);
	repo_feed_of(name, feed, sizeof(feed));
	conn = bpk_store__get(repo->store);
	if (!conn || !list)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot open the database");
	err = repo_feed_get(repo, conn, feed, &info);
	if (err >= 0 && !repo_can_read(&info, feed, auth))
		err = repo_fail(error, BPK_REPO_E_NOT_FOUND, "package '%s' not found", name);
	else if (err >= 0)
		err = bpk_store__exec(repo->store, conn,
				      "SELECT version, yanked, sha256, published, size FROM versions"
				      " WHERE name = $1",
				      params, 1, version_list_row, list);
	if (err < 0 && (!error || error->code == BPK_REPO_OK))
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot read the package: %s",
				bpk_store__errstr(repo->store, conn));
	bpk_store__put(repo->store, conn);
	if (err < 0)
		return err;
	if (!json_array_size(list))
		return repo_fail(error, BPK_REPO_E_NOT_FOUND, "package '%s' not found", name);
	answer = json_pack("{s:s, s:s, s:O}", "name", name, "feed", feed, "versions", list);
	*ret_json = answer ? bpk_json_dump(answer, NULL) : NULL;
	return *ret_json ? 0 : repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
}

static int version_record_row(void *ctx, int ncols, const char *const *v)
{
	json_t **answer = ctx;
	_cleanup_free_ char *published = repo_time_text(strtoll(v[5], NULL, 10));
	_cleanup_free_ char *download = xasprintf("/v1/packages/%s/%s/package.bpk", v[0], v[1]);
	json_t *verified = v[8] ? json_loads(v[8], 0, NULL) : json_null();

	*answer = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:I, s:o, s:o, s:o, s:s}", "name",
			    v[0], "version", v[1], "feed", v[2], "yanked", !strcmp(v[3], "1"),
			    "published", published ?: "", "sha256", v[4], "size",
			    (json_int_t)strtoll(v[6], NULL, 10), "signers",
			    json_loads(v[7], 0, NULL), "verified", verified ?: json_null(),
			    "manifest", json_loads(v[9], JSON_DECODE_ANY, NULL), "download",
			    download ?: "");
	return *answer ? 0 : -ENOMEM;
}

int bpk_repo__version(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *name,
		      const char *version, char **ret_json, struct bpk_repo_error *error)
{
	_cleanup_json_ json_t *answer = NULL;
	const char *params[] = { name, version };
	struct bpk_store_conn *conn;
	struct repo_feed info;
	char feed[128];
	int err;

	if (!bpk_name__valid(name) || !bpk_semver__valid(version))
		return repo_fail(error, BPK_REPO_E_NOT_FOUND, "package '%s@%s' not found", name,
				 version);
	repo_feed_of(name, feed, sizeof(feed));
	conn = bpk_store__get(repo->store);
	if (!conn)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot open the database");
	err = repo_feed_get(repo, conn, feed, &info);
	if (err >= 0 && repo_can_read(&info, feed, auth))
		err = bpk_store__exec(repo->store, conn,
				      "SELECT name, version, feed, yanked, sha256, published, size,"
				      " signers, verified, manifest FROM versions"
				      " WHERE name = $1 AND version = $2",
				      params, 2, version_record_row, &answer);
	if (err < 0)
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot read the package: %s",
				bpk_store__errstr(repo->store, conn));
	bpk_store__put(repo->store, conn);
	if (err < 0)
		return err;
	if (!answer)
		return repo_fail(error, BPK_REPO_E_NOT_FOUND, "package '%s@%s' not found", name,
				 version);
	*ret_json = bpk_json_dump(answer, NULL);
	return *ret_json ? 0 : repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
}

/* ---- the service index ---- */

static json_t *public_key_json(const char *pem, size_t len, const char *keyid, const char *role)
{
	struct bpk_key *key = bpk_key__from_pem(pem, len);
	_cleanup_free_ char *pub = key ? bpk_key__public_pem(key, NULL) : NULL;
	json_t *item;

	bpk_key__free(key);
	item = pub ? json_pack("{s:s, s:s, s:s}", "keyid", keyid, "role", role, "public_key", pub)
		   : NULL;
	return item;
}

int bpk_repo__service_index(struct bpk_repo *repo, const struct bpk_repo_auth *auth,
			    char **ret_json, struct bpk_repo_error *error)
{
	_cleanup_json_ json_t *answer = NULL;
	struct bpk_store_conn *conn;
	json_t *feeds;
	char **names = NULL;
	int err;

	answer = json_pack("{s:i, s:s, s:[sssssss], s:s, s:[oo], s:[]}", "api", 1, "server",
			   "bpk-repo " BPK_VERSION, "features", "search", "publish", "yank",
			   "index", "feeds", "l3afd-layout", "range", "root_keyid",
			   repo->root_keyid, "keys",
			   public_key_json(repo->root_pem, repo->root_pem_len, repo->root_keyid,
					   "root"),
			   public_key_json(repo->online_pem, repo->online_pem_len,
					   repo->online_keyid, "targets snapshot timestamp"),
			   "feeds");
	if (!answer)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
	feeds = json_object_get(answer, "feeds");
	conn = bpk_store__get(repo->store);
	if (!conn)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot open the database");
	err = repo_feed_names(repo, conn, &names);
	for (size_t i = 0; err >= 0 && names && names[i]; i++) {
		struct repo_feed info;
		_cleanup_free_ char *index = !strcmp(names[i], "public")
						     ? strdup("/v1/index/")
						     : xasprintf("/v1/feeds/%s/index/", names[i]);

		err = repo_feed_get(repo, conn, names[i], &info);
		if (err >= 0 && repo_can_read(&info, names[i], auth))
			json_array_append_new(feeds, json_pack("{s:s, s:b, s:s}", "name", names[i],
							       "private", info.private, "index",
							       index ?: ""));
	}
	bpk_free_names(names);
	bpk_store__put(repo->store, conn);
	if (err < 0)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot list the feeds");
	*ret_json = bpk_json_dump(answer, NULL);
	return *ret_json ? 0 : repo_fail(error, BPK_REPO_E_INTERNAL, "out of memory");
}

/* ---- export and check ---- */

static int copy_file(const char *from, const char *to)
{
	_cleanup_free_ char *data = NULL, *dir = strdup(to);
	size_t len;
	int err;

	if (!dir)
		return -ENOMEM;
	*strrchr(dir, '/') = '\0';
	err = mkdir_p(dir, 0755);
	if (!err)
		err = read_file(from, SIZE_MAX / 2, &data, &len);
	if (!err)
		err = write_file_atomic(to, data, len, 0644);
	return err;
}

struct export_row {
	char *name, *version, *feed;
};

struct export_rows {
	struct export_row *items;
	size_t cnt;
};

static int export_row_cb(void *ctx, int ncols, const char *const *v)
{
	struct export_rows *rows = ctx;
	struct export_row *grown = realloc(rows->items, (rows->cnt + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	rows->items = grown;
	grown[rows->cnt].name = strdup(v[0]);
	grown[rows->cnt].version = strdup(v[1]);
	grown[rows->cnt].feed = strdup(v[2]);
	rows->cnt++;
	return 0;
}

static void export_rows_release(struct export_rows *rows)
{
	for (size_t i = 0; i < rows->cnt; i++) {
		free(rows->items[i].name);
		free(rows->items[i].version);
		free(rows->items[i].feed);
	}
	free(rows->items);
}

static int export_feed_index(struct bpk_repo *repo, const char *feed, const char *dir)
{
	_cleanup_free_ char *from = xasprintf("%s/index/%s", repo->dir, feed);
	_cleanup_free_ char *to = !strcmp(feed, "public")
					  ? xasprintf("%s/v1/index", dir)
					  : xasprintf("%s/v1/feeds/%s/index", dir, feed);
	char **names = NULL;
	size_t cnt;
	int err;

	if (!from || !to)
		return -ENOMEM;
	err = bpk_list_dir(from, NULL, ".json", &names, &cnt);
	for (size_t i = 0; !err && i < cnt; i++) {
		_cleanup_free_ char *src = xasprintf("%s/%s", from, names[i]);
		_cleanup_free_ char *dst = xasprintf("%s/%s", to, names[i]);

		err = src && dst ? copy_file(src, dst) : -ENOMEM;
	}
	bpk_free_names(names);
	return err;
}

/* Whether dir is missing or holds nothing. */
static bool dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool empty = true;

	if (!d)
		return errno == ENOENT;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

/*
 * GET /v1/ for a static mirror: the anonymous service index, as v1/index.json (a web server
 * serves it with "index index.json"), so that 'bpk repo add' finds the root key id there.
 */
static int export_service_index(struct bpk_repo *repo, const char *dir)
{
	_cleanup_free_ char *json = NULL, *path = xasprintf("%s/v1/index.json", dir);
	_cleanup_free_ char *sub = xasprintf("%s/v1", dir);
	int err;

	if (!path || !sub)
		return -ENOMEM;
	err = bpk_repo__service_index(repo, NULL, &json, NULL);
	if (!err)
		err = mkdir_p(sub, 0755);
	if (!err)
		err = write_file_atomic(path, json, strlen(json), 0644);
	return err;
}

int bpk_repo__export(struct bpk_repo *repo, const char *dir, bool include_private,
		     struct bpk_repo_error *error)
{
	struct export_rows rows = { 0 };
	struct bpk_store_conn *conn;
	char **feeds = NULL;
	int err;

	if (!dir_is_empty(dir))
		return repo_fail(error, BPK_REPO_E_BAD_REQUEST,
				 "'%s' is not empty: export writes a whole tree into a new directory",
				 dir);
	err = mkdir_p(dir, 0755);
	if (err)
		return repo_fail(error, BPK_REPO_E_BAD_REQUEST, "cannot create '%s': %s", dir,
				 strerror(-err));
	err = export_service_index(repo, dir);
	if (err)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot write '%s/v1/index.json': %s",
				 dir, strerror(-err));
	conn = bpk_store__get(repo->store);
	if (!conn)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "cannot open the database");
	err = repo_feed_names(repo, conn, &feeds);
	for (size_t i = 0; err >= 0 && feeds && feeds[i]; i++) {
		struct repo_feed info;

		err = repo_feed_get(repo, conn, feeds[i], &info);
		if (err < 0 || (info.private && !include_private))
			continue;
		err = export_feed_index(repo, feeds[i], dir);
		if (err)
			break;
		err = bpk_store__exec(repo->store, conn,
				      "SELECT name, version, feed FROM versions WHERE feed = $1",
				      (const char *const[]){ feeds[i] }, 1, export_row_cb, &rows);
	}
	bpk_free_names(feeds);
	bpk_store__put(repo->store, conn);
	for (size_t i = 0; err >= 0 && i < rows.cnt; i++) {
		struct export_row *r = &rows.items[i];
		/* Private feeds are exported on purpose only: act as their admin. */
		struct bpk_repo_auth admin = { .scope = BPK_REPO_SCOPE_ADMIN };
		_cleanup_free_ char *blob = NULL, *tgz = NULL, *dst = NULL, *l3af = NULL;
		const char *base = strrchr(r->name, '/') ? strrchr(r->name, '/') + 1 : r->name;
		char sha[65];
		uint64_t size;

		snprintf(admin.feed, sizeof(admin.feed), "%s", r->feed);
		err = bpk_repo__blob(repo, &admin, r->name, r->version, &blob, sha, &size, error);
		if (!err)
			err = bpk_repo__artifact(repo, &admin, r->name, r->version, "x.tar.gz", &tgz,
						 error);
		if (err)
			break;
		dst = xasprintf("%s/v1/packages/%s/%s/package.bpk", dir, r->name, r->version);
		l3af = xasprintf("%s/%s/%s/%s.tar.gz", dir, r->name, r->version, base);
		err = dst && l3af ? copy_file(blob, dst) : -ENOMEM;
		if (!err)
			err = copy_file(tgz, l3af);
		if (err)
			err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot export %s@%s: %s",
					r->name, r->version, strerror(-err));
	}
	export_rows_release(&rows);
	if (err < 0 && (!error || error->code == BPK_REPO_OK))
		err = repo_fail(error, BPK_REPO_E_INTERNAL, "cannot export: %s", strerror(-err));
	return err < 0 ? err : 0;
}

struct check_ctx {
	struct bpk_repo *repo;
	struct strbuf *report;
	size_t bad;
};

static int check_row(void *ctx, int ncols, const char *const *v)
{
	struct check_ctx *c = ctx;
	_cleanup_free_ char *path = repo_blob_path(c->repo, v[2]);
	_cleanup_free_ char *data = NULL;
	char sha[65];
	size_t len;

	if (!path || read_file(path, SIZE_MAX / 2, &data, &len) ||
	    bpk_sha256_hex(data, len, sha) || strcmp(sha, v[2])) {
		strbuf_addf(c->report, "%s@%s: blob %s missing or damaged\n", v[0], v[1], v[2]);
		c->bad++;
	}
	return 0;
}

int bpk_repo__check(struct bpk_repo *repo, char **ret_report, struct bpk_repo_error *error)
{
	struct strbuf report = STRBUF_INIT;
	struct check_ctx ctx = { repo, &report, 0 };
	struct bpk_store_conn *conn;
	char *db_report = NULL;
	int err;

	err = bpk_store__check(repo->store, &db_report);
	strbuf_addf(&report, "database: %s", db_report ? db_report : "cannot be checked\n");
	free(db_report);
	conn = bpk_store__get(repo->store);
	if (conn) {
		if (bpk_store__exec(repo->store, conn, "SELECT name, version, sha256 FROM versions",
				    NULL, 0, check_row, &ctx) < 0)
			ctx.bad++;
		bpk_store__put(repo->store, conn);
	}
	strbuf_addf(&report, "blobs: %zu bad\n", ctx.bad);
	*ret_report = strbuf_detach(&report, NULL);
	if (err || ctx.bad || !conn)
		return repo_fail(error, BPK_REPO_E_INTERNAL, "the repository is not consistent");
	return 0;
}

// SPDX-License-Identifier: BSD-2-Clause
/* The repository client: configuration, HTTP (libcurl), verified resolution, fetch and install. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "bpk_internal.h"
#include "config.h"
#include "crypto.h"

#define ERR_MAX 1024
/* Longest URL accepted for a repository, and longest repository name. */
#define URL_MAX 2048
#define REPO_NAME_MAX 64
/* Error answers are read into memory up to this many bytes, whatever the request. */
#define MAX_ERROR_BODY (64U << 10)
/* Longest server message kept in a sentence, and most lint details kept. */
#define MAX_SHOWN 400
#define MAX_DETAILS 1000
#define DEFAULT_TIMEOUT 30U
/* Largest package publish reads to hash (the server's own default limit is 64 MiB). */
#define MAX_PUBLISH_LEN (1ULL << 32)
/* Most versions an error message lists. */
#define MAX_LISTED_VERSIONS 10
/* The canonical form signatures cover (docs/spec/index.md §1.2). */
#define CANONICAL_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

struct bpk_repo {
	char *name;
	char *url;
	char *root_keyid;
	char *token_file;
	char *added;
	char *file;
	bool key_pinned;
	char *root; /* the trusted root document, compact JSON */
	size_t root_len;
};

/* The verified index of one feed of one repository, kept for the client's lifetime. */
struct feed_index {
	struct bpk_repo_client *client;
	const struct bpk_repo *repo;
	char *feed;
	struct bpk_index_client *index;
	bool updated;
	/* What the last HTTP failure of the fetch callback was, to explain the update's error. */
	char note[MAX_SHOWN + 64];
};

struct bpk_repo_client {
	char *config_dir;
	char *repos_dir;
	char *cache_dir;
	bpk_repo_progress_fn progress;
	void *progress_ctx;
	unsigned int timeout;
	int64_t now;

	bool loaded;
	struct bpk_repo *repos;
	size_t repo_cnt;
	struct feed_index **indexes;
	size_t index_cnt;

	/* The last failure. */
	char err[ERR_MAX];
	long http_status;
	char *server_code;
	struct bpk_repo_detail *details;
	size_t detail_cnt;

	/* What the last call returned, borrowed by the caller until the next. */
	json_t *answer;
	char *result_path;
};

struct bpk_repo_search {
	json_t *answer;
	uint64_t total;
	struct bpk_repo_hit *hits;
	char **strings; /* the joined lists the hits point to */
	size_t cnt;
};

struct bpk_repo_package {
	json_t *list;	/* GET /v1/packages/NAME */
	json_t *detail; /* GET /v1/packages/NAME/VERSION */
	struct bpk_repo_version *versions;
	size_t version_cnt;
	struct bpk_repo_version selected;
	struct bpk_repo_signer *signers;
	size_t signer_cnt;
	char *manifest;
	char *verified;
};

/* ---- errors ---- */

__attribute__((format(printf, 3, 4))) static int bail(struct bpk_repo_client *c, int err,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return err;
}

/* Put context in front of the sentence errstr holds: "CONTEXT: SENTENCE". Returns err. */
__attribute__((format(printf, 3, 4))) static int bail_context(struct bpk_repo_client *c, int err,
							      const char *fmt, ...)
{
	char old[ERR_MAX], context[ERR_MAX / 2];
	va_list ap;

	memcpy(old, c->err, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	snprintf(c->err, sizeof(c->err), "%s: %.*s", context, (int)(ERR_MAX / 2 - 4), old);
	return err;
}

static int fail_nomem(struct bpk_repo_client *c)
{
	return bail(c, -ENOMEM, "out of memory");
}

static void details_release(struct bpk_repo_client *c)
{
	size_t i;

	for (i = 0; i < c->detail_cnt; i++) {
		free((char *)c->details[i].id);
		free((char *)c->details[i].name);
		free((char *)c->details[i].path);
		free((char *)c->details[i].message);
	}
	free(c->details);
	c->details = NULL;
	c->detail_cnt = 0;
}

static void clear_error(struct bpk_repo_client *c)
{
	c->err[0] = '\0';
	c->http_status = 0;
	free(c->server_code);
	c->server_code = NULL;
	details_release(c);
}

/* Every public call starts from a clean slate: no error, no borrowed results. */
static void reset(struct bpk_repo_client *c)
{
	clear_error(c);
	json_decref(c->answer);
	c->answer = NULL;
	free(c->result_path);
	c->result_path = NULL;
}

const char *bpk_repo_client__errstr(const struct bpk_repo_client *c)
{
	return c->err[0] ? c->err : "no error";
}

long bpk_repo_client__http_status(const struct bpk_repo_client *c)
{
	return c->http_status;
}

const char *bpk_repo_client__server_code(const struct bpk_repo_client *c)
{
	return c->server_code;
}

size_t bpk_repo_client__detail_cnt(const struct bpk_repo_client *c)
{
	return c->detail_cnt;
}

const struct bpk_repo_detail *bpk_repo_client__detail(const struct bpk_repo_client *c, size_t idx)
{
	return idx < c->detail_cnt ? &c->details[idx] : NULL;
}

/* ---- small helpers ---- */

static bool is_hex(const char *s, size_t min, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isdigit((unsigned char)s[n]) && !(s[n] >= 'a' && s[n] <= 'f'))
			return false;
	return n >= min && n <= max;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf path; a missing path is not an error. Returns 0 or a negative errno. */
static int rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

static int sync_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	int fd, err = 0;

	if (flag != FTW_F && flag != FTW_DP)
		return 0;
	fd = open(path, (flag == FTW_DP ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fsync(fd) < 0)
		err = -1;
	if (fd >= 0)
		close(fd);
	return err;
}

/* fsync every file and directory under dir, so that a rename publishes complete contents. */
static int sync_tree(const char *dir)
{
	if (nftw(dir, sync_cb, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

static int fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

/* A string member, or NULL when absent or not a string. */
static const char *jstr(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A copy of untrusted text for a message: escaped and bounded. "" on ENOMEM. */
static char *shown(const char *s)
{
	return str_shown(s, MAX_SHOWN, NULL);
}

bool bpk_repo_name__valid(const char *name)
{
	size_t i;

	if (!name || !name[0] || strlen(name) > REPO_NAME_MAX)
		return false;
	if (!islower((unsigned char)name[0]) && !isdigit((unsigned char)name[0]))
		return false;
	for (i = 1; name[i]; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) &&
		    name[i] != '.' && name[i] != '_' && name[i] != '-')
			return false;
	return true;
}

char *bpk_repo_name__feed(const char *name)
{
	const char *slash = name ? strchr(name, '/') : NULL;

	if (!name)
		return NULL;
	return slash ? strndup(name, (size_t)(slash - name)) : strdup("public");
}

static bool feed_valid(const char *feed)
{
	return feed && bpk_name__valid(feed) && !strchr(feed, '/');
}

/* ---- the client object ---- */

/* $env, else root_dir as root, else $xdg/bpk, else ~/home_sub. NULL with errno ENOENT/ENOMEM. */
static char *default_dir(const char *env, const char *root_dir, const char *xdg,
			 const char *home_sub)
{
	const char *v = secure_getenv(env);

	if (v && *v)
		return strdup(v);
	if (geteuid() == 0)
		return strdup(root_dir);
	v = secure_getenv(xdg);
	if (v && v[0] == '/')
		return path_join(v, "bpk");
	v = secure_getenv("HOME");
	if (v && v[0] == '/')
		return path_join(v, home_sub);
	errno = ENOENT;
	return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct bpk_repo_client *bpk_repo_client__new(const struct bpk_repo_client_opts *opts)
{
	const char *config_dir = OPTS_GET(opts, config_dir, NULL);
	const char *cache_dir = OPTS_GET(opts, cache_dir, NULL);
	struct bpk_repo_client *c;
	int saved;

	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK) {
		errno = ENOMEM;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->progress = OPTS_GET(opts, progress, NULL);
	c->progress_ctx = OPTS_GET(opts, progress_ctx, NULL);
	c->timeout = OPTS_GET(opts, timeout, 0) ?: DEFAULT_TIMEOUT;
	c->now = OPTS_GET(opts, now, 0);
	c->config_dir = config_dir ? strdup(config_dir)
				   : default_dir("BPK_CONFIG_DIR", "/etc/bpk", "XDG_CONFIG_HOME",
						 ".config/bpk");
	if (!c->config_dir)
		goto fail;
	c->cache_dir = cache_dir ? strdup(cache_dir)
				 : default_dir("BPK_CACHE_DIR", "/var/cache/bpk", "XDG_CACHE_HOME",
					       ".cache/bpk");
	if (!c->cache_dir)
		goto fail;
	c->repos_dir = path_join(c->config_dir, BPK_REPO_CONFIG_SUBDIR);
	if (!c->repos_dir)
		goto fail;
	return c;
fail:
	saved = errno ?: ENOMEM;
	bpk_repo_client__free(c);
	errno = saved;
	return NULL;
}

static void repo_release(struct bpk_repo *r)
{
	free(r->name);
	free(r->url);
	free(r->root_keyid);
	free(r->token_file);
	free(r->added);
	free(r->file);
	free(r->root);
	memset(r, 0, sizeof(*r));
}

static void indexes_release(struct bpk_repo_client *c)
{
	size_t i;

	for (i = 0; i < c->index_cnt; i++) {
		bpk_index_client__free(c->indexes[i]->index);
		free(c->indexes[i]->feed);
		free(c->indexes[i]);
	}
	free(c->indexes);
	c->indexes = NULL;
	c->index_cnt = 0;
}

static void repos_release(struct bpk_repo_client *c)
{
	size_t i;

	/* The indexes point at the repositories. */
	indexes_release(c);
	for (i = 0; i < c->repo_cnt; i++)
		repo_release(&c->repos[i]);
	free(c->repos);
	c->repos = NULL;
	c->repo_cnt = 0;
	c->loaded = false;
}

void bpk_repo_client__free(struct bpk_repo_client *c)
{
	if (!c)
		return;
	reset(c);
	repos_release(c);
	free(c->config_dir);
	free(c->repos_dir);
	free(c->cache_dir);
	free(c);
}

const char *bpk_repo_client__config_dir(const struct bpk_repo_client *c)
{
	return c->config_dir;
}

const char *bpk_repo_client__cache_dir(const struct bpk_repo_client *c)
{
	return c->cache_dir;
}

/* ---- configuration files ---- */

const char *bpk_repo__name(const struct bpk_repo *r)
{
	return r->name;
}

const char *bpk_repo__url(const struct bpk_repo *r)
{
	return r->url;
}

const char *bpk_repo__root_keyid(const struct bpk_repo *r)
{
	return r->root_keyid;
}

bool bpk_repo__key_pinned(const struct bpk_repo *r)
{
	return r->key_pinned;
}

const char *bpk_repo__token_file(const struct bpk_repo *r)
{
	return r->token_file;
}

const char *bpk_repo__added(const struct bpk_repo *r)
{
	return r->added;
}

const char *bpk_repo__file(const struct bpk_repo *r)
{
	return r->file;
}

/* A repository URL: http(s)://, printable, no blanks, no query or fragment; '/' stripped. */
static char *normalize_url(const char *url)
{
	size_t len, i;

	if (!url || strlen(url) > URL_MAX)
		return NULL;
	if (!str_has_prefix(url, "http://") && !str_has_prefix(url, "https://"))
		return NULL;
	for (i = 0; url[i]; i++)
		if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f ||
		    url[i] == '?' || url[i] == '#')
			return NULL;
	len = strlen(url);
	while (len && url[len - 1] == '/')
		len--;
	if (len <= strlen("https://"))
		return NULL;
	return strndup(url, len);
}

static const char *const config_fields[] = {
	"name", "url", "root_keyid", "key_pinned", "token_file", "added", "root",
};

/* Parse one repos.d/NAME.json; every field checked, unknown fields refused. */
static int parse_repo(struct bpk_repo_client *c, const char *path, const char *file_name,
		      struct bpk_repo *ret)
{
	_cleanup_free_ char *data = NULL, *url = NULL;
	_cleanup_json_ json_t *doc = NULL;
	struct bpk_repo r = { 0 };
	const char *key, *name, *token;
	json_error_t jerr;
	json_t *value, *root;
	size_t len, i;
	int err;

	err = read_file(path, BPK_INDEX_MAX_ROOT_LEN + 65536, &data, &len);
	if (err)
		return bail(c, err, "cannot read '%s': %s", path, strerror(-err));
	doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc || !json_is_object(doc))
		return bail(c, -EINVAL, "'%s' is not a JSON object%s%s", path, doc ? "" : ": ",
			    doc ? "" : jerr.text);
	json_object_foreach(doc, key, value) {
		for (i = 0; i < ARRAY_SIZE(config_fields); i++)
			if (!strcmp(key, config_fields[i]))
				break;
		if (i == ARRAY_SIZE(config_fields))
			return bail(c, -EINVAL, "'%s': unknown field '%.64s'", path, key);
	}
	name = jstr(doc, "name");
	if (!name || !bpk_repo_name__valid(name) || strlen(file_name) != strlen(name) + 5 ||
	    strncmp(file_name, name, strlen(name)))
		return bail(c, -EINVAL, "'%s': 'name' must be the file's name without '.json'",
			    path);
	url = normalize_url(jstr(doc, "url"));
	if (!url || strcmp(url, jstr(doc, "url")))
		return bail(c, -EINVAL, "'%s': 'url' is not an http(s) URL without a trailing '/'",
			    path);
	if (!jstr(doc, "root_keyid") || !is_hex(jstr(doc, "root_keyid"), 64, 64))
		return bail(c, -EINVAL, "'%s': 'root_keyid' is not 64 lowercase hex digits", path);
	if (!json_is_boolean(json_object_get(doc, "key_pinned")))
		return bail(c, -EINVAL, "'%s': 'key_pinned' is not true or false", path);
	value = json_object_get(doc, "token_file");
	token = json_string_value(value);
	if (value && !json_is_null(value) && (!token || token[0] != '/'))
		return bail(c, -EINVAL, "'%s': 'token_file' is not an absolute path or null", path);
	if (!jstr(doc, "added"))
		return bail(c, -EINVAL, "'%s': 'added' is not a time", path);
	root = json_object_get(doc, "root");
	if (!json_is_object(root))
		return bail(c, -EINVAL, "'%s': 'root' is not the root document", path);

	r.name = strdup(name);
	r.url = TAKE_PTR(url);
	r.root_keyid = strdup(jstr(doc, "root_keyid"));
	r.token_file = token ? strdup(token) : NULL;
	r.added = strdup(jstr(doc, "added"));
	r.file = strdup(path);
	r.key_pinned = json_is_true(json_object_get(doc, "key_pinned"));
	r.root = json_dumps(root, JSON_COMPACT);
	if (!r.name || !r.url || !r.root_keyid || (token && !r.token_file) || !r.added || !r.file ||
	    !r.root) {
		repo_release(&r);
		return fail_nomem(c);
	}
	r.root_len = strlen(r.root);
	*ret = r;
	return 0;
}

static int repo_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bpk_repo *)a)->name, ((const struct bpk_repo *)b)->name);
}

int bpk_repo_client__load_config(struct bpk_repo_client *c)
{
	struct bpk_repo *repos = NULL, *grown;
	size_t cnt = 0, i;
	struct dirent *de;
	DIR *dir;
	int err = 0;

	reset(c);
	repos_release(c);
	dir = opendir(c->repos_dir);
	if (!dir) {
		if (errno != ENOENT)
			return bail(c, -errno, "cannot read '%s': %s", c->repos_dir,
				    strerror(errno));
		c->loaded = true;
		return 0;
	}
	while ((errno = 0, de = readdir(dir))) {
		_cleanup_free_ char *path = NULL;

		/* Editors' and atomic writes' temporary files: a leading '.', or no .json. */
		if (de->d_name[0] == '.' || !str_has_suffix(de->d_name, ".json"))
			continue;
		grown = realloc(repos, (cnt + 1) * sizeof(*repos));
		path = path_join(c->repos_dir, de->d_name);
		if (!grown || !path) {
			free(grown ? NULL : repos);
			repos = grown;
			err = fail_nomem(c);
			break;
		}
		repos = grown;
		err = parse_repo(c, path, de->d_name, &repos[cnt]);
		if (err)
			break;
		cnt++;
	}
	if (!err && errno)
		err = bail(c, -errno, "cannot read '%s': %s", c->repos_dir, strerror(errno));
	closedir(dir);
	if (err) {
		for (i = 0; i < cnt; i++)
			repo_release(&repos[i]);
		free(repos);
		return err;
	}
	if (cnt)
		qsort(repos, cnt, sizeof(*repos), repo_cmp);
	c->repos = repos;
	c->repo_cnt = cnt;
	c->loaded = true;
	return 0;
}

static int need_config(struct bpk_repo_client *c)
{
	return c->loaded ? 0 : bpk_repo_client__load_config(c);
}

size_t bpk_repo_client__repo_cnt(const struct bpk_repo_client *c)
{
	return c->repo_cnt;
}

const struct bpk_repo *bpk_repo_client__repo(const struct bpk_repo_client *c, size_t idx)
{
	return idx < c->repo_cnt ? &c->repos[idx] : NULL;
}

const struct bpk_repo *bpk_repo_client__find_repo(const struct bpk_repo_client *c,
						  const char *name)
{
	size_t i;

	for (i = 0; name && i < c->repo_cnt; i++)
		if (!strcmp(c->repos[i].name, name))
			return &c->repos[i];
	return NULL;
}

/* ---- tokens ---- */

/* The token in file: one line of printable ASCII without blanks. */
static int load_token(struct bpk_repo_client *c, const char *file, char **ret)
{
	_cleanup_free_ char *data = NULL;
	size_t len, i;
	int err;

	err = read_file(file, BPK_REPO_MAX_TOKEN_LEN, &data, &len);
	if (err)
		return bail(c, err, "cannot read token file '%s': %s", file,
			    err == -EFBIG ? "longer than a token" : strerror(-err));
	while (len && isspace((unsigned char)data[len - 1]))
		data[--len] = '\0';
	if (!len)
		return bail(c, -EINVAL, "token file '%s' is empty", file);
	for (i = 0; i < len; i++)
		if ((unsigned char)data[i] <= ' ' || (unsigned char)data[i] >= 0x7f)
			return bail(c, -EINVAL, "token file '%s' does not hold one token", file);
	*ret = TAKE_PTR(data);
	return 0;
}

/* The token to send to repo: override's, else the repository's, else none (*ret NULL). */
static int repo_token(struct bpk_repo_client *c, const struct bpk_repo *repo, const char *override,
		      char **ret)
{
	const char *file = override ?: repo->token_file;

	*ret = NULL;
	return file ? load_token(c, file, ret) : 0;
}

/* ---- HTTP ---- */

struct http_req {
	const char *method; /* "GET", "PUT" or "POST" */
	const char *url;
	const char *token;
	int body_fd; /* PUT: the body, body_len bytes from offset 0; -1: none */
	uint64_t body_len;
	int out_fd;	   /* a 200/206 answer goes into this file; -1: into memory */
	uint64_t out_from; /* out_fd: bytes already there, asked for with Range */
	uint64_t max_len;  /* the answer (memory) or the whole file (out_fd) */
	const char *progress_name;
	const char *content_type;
};

struct http_resp {
	long status;
	struct strbuf body;
	bool restarted; /* the server ignored Range and sent everything */
};

struct transfer {
	struct bpk_repo_client *c;
	const struct http_req *req;
	struct http_resp *resp;
	CURL *curl;
	bool started;
	bool to_file;
	bool too_long;
	bool error_too_long; /* an error answer to a download, past MAX_ERROR_BODY */
	bool bad_range;
	int io_err;
	int64_t range_start;
	uint64_t offset;
	uint64_t sent;
	struct bpk_repo_progress progress;
};

static void report(struct transfer *t)
{
	if (t->c->progress && t->req->progress_name)
		t->c->progress(t->c->progress_ctx, &t->progress);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct transfer *t = ctx;
	size_t n = size * nmemb;
	char line[256];
	unsigned long long start;

	if (n >= sizeof(line))
		return n;
	memcpy(line, data, n);
	line[n] = '\0';
	/* A new response (after "100 Continue", say) starts over. */
	if (!strncmp(line, "HTTP/", 5))
		t->range_start = -1;
	else if (!strncasecmp(line, "Content-Range:", 14) &&
		 sscanf(line + 14, " bytes %llu-", &start) == 1 && start <= INT64_MAX)
		t->range_start = (int64_t)start;
	return n;
}

/* The first bytes of the answer: decide where they go, now that the status is known. */
static bool begin_body(struct transfer *t)
{
	const struct http_req *req = t->req;
	long status = 0;

	t->started = true;
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	t->to_file = req->out_fd >= 0 && (status == 200 || status == 206);
	if (!t->to_file)
		return true;
	if (status == 206) {
		if (!req->out_from || t->range_start != (int64_t)req->out_from) {
			t->bad_range = true;
			return false;
		}
		t->offset = req->out_from;
	} else {
		/* The whole file, although a range was asked for: start again. */
		if (req->out_from) {
			if (ftruncate(req->out_fd, 0) < 0) {
				t->io_err = -errno;
				return false;
			}
			t->resp->restarted = true;
		}
		t->offset = 0;
	}
	t->progress.resumed_from = t->offset;
	t->progress.done = t->offset;
	return true;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct transfer *t = ctx;
	size_t n = size * nmemb, done = 0;

	if (!t->started && !begin_body(t))
		return 0;
	if (!t->to_file) {
		uint64_t max = t->req->out_fd >= 0 ? MAX_ERROR_BODY : t->req->max_len;

		if (t->resp->body.len + n > max) {
			if (t->req->out_fd >= 0)
				t->error_too_long = true;
			else
				t->too_long = true;
			return 0;
		}
		if (strbuf_add(&t->resp->body, data, n)) {
			t->io_err = -ENOMEM;
			return 0;
		}
		return n;
	}
	if (t->offset + n > t->req->max_len) {
		t->too_long = true;
		return 0;
	}
	while (done < n) {
		ssize_t w = pwrite(t->req->out_fd, data + done, n - done,
				   (off_t)(t->offset + done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			t->io_err = w < 0 ? -errno : -EIO;
			return 0;
		}
		done += (size_t)w;
	}
	t->offset += n;
	t->progress.done = t->offset;
	report(t);
	return n;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ctx)
{
	struct transfer *t = ctx;
	size_t want = size * nmemb;
	ssize_t n;

	do
		n = pread(t->req->body_fd, buf, want, (off_t)t->sent);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		t->io_err = -errno;
		return CURL_READFUNC_ABORT;
	}
	t->sent += (size_t)n;
	t->progress.done = t->sent;
	report(t);
	return (size_t)n;
}

/* libcurl's failure as an errno. */
static int curl_errno(CURLcode res)
{
	switch (res) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/*
 * Perform one request. Returns 0 when the server answered (whatever the status: see
 * resp->status), or a negative errno with errstr saying what went wrong on the way:
 * -EFBIG for an answer past req->max_len.
 */
static int http_perform(struct bpk_repo_client *c, const struct http_req *req,
			struct http_resp *resp)
{
	struct transfer t = { .c = c, .req = req, .resp = resp, .range_start = -1 };
	struct curl_slist *headers = NULL, *grown;
	char errbuf[CURL_ERROR_SIZE] = "", range[48], *auth = NULL, *ctype = NULL;
	CURLcode res;
	CURL *curl;
	int err = 0;

	memset(resp, 0, sizeof(*resp));
	strbuf_init(&resp->body);
	curl = curl_easy_init();
	if (!curl)
		return fail_nomem(c);
	t.curl = curl;
	t.progress.name = req->progress_name;
	t.progress.upload = req->body_fd >= 0;
	t.progress.total = req->body_fd >= 0 ? req->body_len : req->out_fd >= 0 ? req->max_len : 0;

	headers = curl_slist_append(NULL, req->out_fd >= 0 ? "Accept: */*"
							   : "Accept: application/json");
	if (headers && req->token) {
		auth = xasprintf("Authorization: Bearer %s", req->token);
		grown = auth ? curl_slist_append(headers, auth) : NULL;
		headers = grown ?: (curl_slist_free_all(headers), NULL);
	}
	if (headers && req->content_type) {
		ctype = xasprintf("Content-Type: %s", req->content_type);
		grown = ctype ? curl_slist_append(headers, ctype) : NULL;
		headers = grown ?: (curl_slist_free_all(headers), NULL);
	}
	if (!headers) {
		err = fail_nomem(c);
		goto out;
	}

	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "bpk/" BPK_VERSION);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)c->timeout);
	/* A transfer that moves nothing for timeout seconds is abandoned; a slow one is not. */
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (long)c->timeout);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
	/* A Content-Length past the bound is refused before a byte is read. */
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
			 (curl_off_t)(req->max_len < INT64_MAX ? req->max_len : INT64_MAX));
	if (req->out_fd >= 0 && req->out_from) {
		snprintf(range, sizeof(range), "%" PRIu64 "-", req->out_from);
		curl_easy_setopt(curl, CURLOPT_RANGE, range);
	}
	if (!strcmp(req->method, "PUT")) {
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(curl, CURLOPT_READDATA, &t);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
	} else if (!strcmp(req->method, "POST")) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
	} else {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	}

	res = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	/* An empty 200 to a ranged request still means "everything": there is nothing. */
	if (res == CURLE_OK && !t.started && req->out_fd >= 0 && resp->status == 200 &&
	    req->out_from) {
		if (ftruncate(req->out_fd, 0) < 0)
			t.io_err = -errno;
		resp->restarted = true;
	}
	t.progress.finished = true;
	report(&t);

	if (t.io_err)
		err = bail(c, t.io_err, "%s", t.io_err == -ENOMEM ? "out of memory"
								  : strerror(-t.io_err));
	else if (t.error_too_long)
		err = bail(c, -EPROTO, "'%s' answered %ld with more than %u bytes", req->url,
			   resp->status, MAX_ERROR_BODY);
	else if (t.bad_range)
		err = bail(c, -EPROTO, "'%s' answered a range request with the wrong range",
			   req->url);
	else if (t.too_long || res == CURLE_FILESIZE_EXCEEDED)
		err = bail(c, -EFBIG, "'%s' sent more than the %" PRIu64 " bytes expected",
			   req->url, req->max_len);
	/* A server may answer an upload early (413, 401) and close: that is an answer. */
	else if (res != CURLE_OK &&
		 !(resp->status >= 400 && (res == CURLE_SEND_ERROR || res == CURLE_RECV_ERROR)))
		err = bail(c, curl_errno(res), "cannot reach '%s': %s", req->url,
			   errbuf[0] ? errbuf : curl_easy_strerror(res));
out:
	curl_slist_free_all(headers);
	free(auth);
	free(ctype);
	curl_easy_cleanup(curl);
	if (err)
		strbuf_release(&resp->body);
	return err;
}

static int status_errno(long status)
{
	switch (status) {
	case 400:
		return -EINVAL;
	case 401:
		return -EACCES;
	case 403:
		return -EPERM;
	case 404:
		return -ENOENT;
	case 405:
		return -EOPNOTSUPP;
	case 409:
		return -EEXIST;
	case 413:
		return -EFBIG;
	case 416:
		return -ERANGE;
	default:
		return status >= 500 ? -EIO : -EPROTO;
	}
}

static const char *status_sentence(long status)
{
	switch (status) {
	case 400:
		return "the repository refused the request";
	case 401:
		return "the repository wants a valid token";
	case 403:
		return "the token does not allow this";
	case 404:
		return "not found";
	case 409:
		return "it already exists";
	case 413:
		return "too large for the repository";
	default:
		return status >= 500 ? "the repository failed" : "unexpected answer";
	}
}

/*
 * An error answer: keep the status, the server's code and details, and say it as a sentence
 * ("MESSAGE (HTTP 409 exists)"). Returns the status as a negative errno.
 */
static int http_error(struct bpk_repo_client *c, const struct http_resp *resp)
{
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_free_ char *message = NULL, *code = NULL;
	json_t *error, *details, *d;
	size_t i;

	clear_error(c);
	c->http_status = resp->status;
	doc = json_loadb(resp->body.buf ?: "", resp->body.len, 0, NULL);
	error = json_object_get(doc, "error");
	if (jstr(error, "code") && !(c->server_code = strdup(jstr(error, "code"))))
		return fail_nomem(c);
	if (jstr(error, "message"))
		message = shown(jstr(error, "message"));
	if (c->server_code)
		code = shown(c->server_code);
	details = json_object_get(error, "details");
	if (!details)
		details = json_object_get(doc, "details");
	if (json_is_array(details) && json_array_size(details)) {
		size_t n = json_array_size(details) < MAX_DETAILS ? json_array_size(details)
								   : MAX_DETAILS;

		c->details = calloc(n, sizeof(*c->details));
		if (!c->details)
			return fail_nomem(c);
		json_array_foreach(details, i, d) {
			struct bpk_repo_detail *x;

			if (c->detail_cnt == n)
				break;
			x = &c->details[c->detail_cnt];
			if (json_is_string(d)) {
				x->message = strdup(json_string_value(d));
			} else if (jstr(d, "message")) {
				x->message = strdup(jstr(d, "message"));
				x->id = jstr(d, "id") ? strdup(jstr(d, "id")) : NULL;
				x->name = jstr(d, "name") ? strdup(jstr(d, "name")) : NULL;
				x->path = jstr(d, "path") ? strdup(jstr(d, "path")) : NULL;
			} else {
				continue;
			}
			c->detail_cnt++;
			if (!x->message)
				return fail_nomem(c);
		}
	}
	bail(c, status_errno(resp->status), "%s (HTTP %ld%s%s)",
	     message && *message ? message : status_sentence(resp->status), resp->status,
	     code ? " " : "", code ?: "");
	return status_errno(resp->status);
}

/* GET or POST path on repo and parse the JSON answer (200 or 201) into *ret. */
static int api_json(struct bpk_repo_client *c, const struct bpk_repo *repo, const char *method,
		    const char *path, const char *token, json_t **ret)
{
	_cleanup_free_ char *url = xasprintf("%s%s", repo->url, path);
	struct http_req req = { .method = method, .url = url, .token = token, .body_fd = -1,
				.out_fd = -1, .max_len = BPK_REPO_MAX_JSON_LEN };
	struct http_resp resp;
	json_error_t jerr;
	json_t *doc;
	int err;

	if (!url)
		return fail_nomem(c);
	err = http_perform(c, &req, &resp);
	if (err)
		return err;
	if (resp.status != 200 && resp.status != 201) {
		err = http_error(c, &resp);
		strbuf_release(&resp.body);
		return err;
	}
	doc = json_loadb(resp.body.buf ?: "", resp.body.len, JSON_REJECT_DUPLICATES, &jerr);
	strbuf_release(&resp.body);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return bail(c, -EPROTO, "'%s' did not answer a JSON object", url);
	}
	*ret = doc;
	return 0;
}

/* ---- the verified index ---- */

/* The bpk_index_client fetch callback: FILE of the feed's index, over HTTP. */
static int index_fetch(void *ctx, const char *name, uint64_t max_len, void **ret_data,
		       size_t *ret_len)
{
	struct feed_index *fi = ctx;
	struct bpk_repo_client *c = fi->client;
	_cleanup_free_ char *url = NULL, *token = NULL;
	struct http_req req = { .method = "GET", .body_fd = -1, .out_fd = -1, .max_len = max_len };
	struct http_resp resp;
	int err;

	if (!name || !*name || name[0] == '.' || strchr(name, '/'))
		return -EINVAL;
	err = repo_token(c, fi->repo, NULL, &token);
	if (err) {
		snprintf(fi->note, sizeof(fi->note), "%.400s", c->err);
		return err;
	}
	if (!strcmp(fi->feed, "public"))
		url = xasprintf("%s/v1/index/%s", fi->repo->url, name);
	else
		url = xasprintf("%s/v1/feeds/%s/index/%s", fi->repo->url, fi->feed, name);
	if (!url)
		return -ENOMEM;
	req.url = url;
	req.token = token;
	err = http_perform(c, &req, &resp);
	if (err) {
		if (err != -EFBIG)
			snprintf(fi->note, sizeof(fi->note), "%.400s", c->err);
		return err;
	}
	if (resp.status == 200) {
		*ret_data = strbuf_detach(&resp.body, ret_len);
		return 0;
	}
	err = http_error(c, &resp);
	strbuf_release(&resp.body);
	/* The root walk ends on a missing N+1.root.json: not worth a note. */
	if (err != -ENOENT || !strstr(name, ".root.json"))
		snprintf(fi->note, sizeof(fi->note), "%.40s answered %.400s", name, c->err);
	return err;
}

static struct feed_index *find_index(struct bpk_repo_client *c, const struct bpk_repo *repo,
				     const char *feed)
{
	size_t i;

	for (i = 0; i < c->index_cnt; i++)
		if (c->indexes[i]->repo == repo && !strcmp(c->indexes[i]->feed, feed))
			return c->indexes[i];
	return NULL;
}

/* The state directory of repo's feed: CACHE/index/REPO/FEED. */
static char *state_dir(struct bpk_repo_client *c, const char *repo, const char *feed)
{
	return xasprintf("%s/index/%s%s%s", c->cache_dir, repo, feed ? "/" : "", feed ?: "");
}

/*
 * Update the index of feed of repo, its state in BASE/FEED where BASE is base, or
 * CACHE/index/REPO when base is NULL.
 */
static int update_index_at(struct bpk_repo_client *c, const struct bpk_repo *repo,
			   const char *feed, const char *base, struct feed_index **ret)
{
	_cleanup_free_ char *dir = NULL;
	struct feed_index *fi, **grown;
	int err;

	if (!feed_valid(feed))
		return bail(c, -EINVAL, "'%s' is not a feed name", feed ?: "");
	fi = find_index(c, repo, feed);
	if (fi && fi->updated) {
		*ret = fi;
		return 0;
	}
	if (!fi) {
		BPK_OPTS(bpk_index_client_opts, opts, .root = repo->root,
			 .root_len = repo->root_len,
			 .fetch = index_fetch, .now = c->now);

		dir = base ? path_join(base, feed) : state_dir(c, repo->name, feed);
		grown = realloc(c->indexes, (c->index_cnt + 1) * sizeof(*grown));
		if (!grown)
			return fail_nomem(c);
		c->indexes = grown;
		fi = calloc(1, sizeof(*fi));
		if (!fi || !dir || !(fi->feed = strdup(feed))) {
			free(fi);
			return fail_nomem(c);
		}
		fi->client = c;
		fi->repo = repo;
		opts.state_dir = dir;
		opts.fetch_ctx = fi;
		fi->index = bpk_index_client__new(&opts);
		if (!fi->index) {
			free(fi->feed);
			free(fi);
			return fail_nomem(c);
		}
		c->indexes[c->index_cnt++] = fi;
	}
	fi->note[0] = '\0';
	err = bpk_index_client__update(fi->index);
	if (err) {
		bool hidden = err == -ENOENT &&
			      bpk_index_client__err(fi->index) == BPK_INDEX_E_FETCH;

		if (hidden)
			return bail(c, -ENOENT, "'%s' shows no index for feed '%s' "
				    "(a private feed needs a read token)", repo->name, feed);
		return bail(c, err, "the index of feed '%s' of '%s' does not verify: %s%s%s%s",
			    feed, repo->name, bpk_index_client__errstr(fi->index),
			    fi->note[0] ? " (" : "", fi->note, fi->note[0] ? ")" : "");
	}
	/* The walk ends on a missing N+1.root.json: an answer, but not an error to keep. */
	clear_error(c);
	fi->updated = true;
	*ret = fi;
	return 0;
}

static int update_index(struct bpk_repo_client *c, const struct bpk_repo *repo, const char *feed,
			struct feed_index **ret)
{
	return update_index_at(c, repo, feed, NULL, ret);
}

int bpk_repo_client__index(struct bpk_repo_client *c, const struct bpk_repo *repo,
			   const char *feed, const struct bpk_index_meta **ret_meta)
{
	struct feed_index *fi;
	int err;

	reset(c);
	if (!repo || !feed)
		return bail(c, -EINVAL, "no repository or feed given");
	err = update_index(c, repo, feed, &fi);
	if (err)
		return err;
	*ret_meta = bpk_index_client__meta(fi->index);
	return 0;
}

/* ---- adding and removing repositories ---- */

/*
 * The root document must list keyid as a root key, carry that key (whose id it must be), and
 * be signed by it: so --key pins the key that vouches for everything else.
 */
static int check_root(struct bpk_repo_client *c, const json_t *doc, const char *keyid)
{
	_cleanup_pkey_ EVP_PKEY *pkey = NULL;
	_cleanup_free_ char *canon = NULL;
	json_t *signed_ = json_object_get(doc, "signed"), *ids, *id, *sig;
	char computed[BPK_KEYID_LEN + 1];
	const char *pem;
	bool listed = false;
	size_t i;

	if (!json_is_object(signed_) || !jstr(signed_, "_type") ||
	    strcmp(jstr(signed_, "_type"), "root"))
		return bail(c, -EKEYREJECTED, "the repository's root.json is not a root document");
	ids = json_object_get(json_object_get(json_object_get(signed_, "roles"), "root"), "keyids");
	json_array_foreach(ids, i, id)
		listed |= json_is_string(id) && !strcmp(json_string_value(id), keyid);
	if (!listed)
		return bail(c, -EKEYREJECTED,
			    "the repository's root.json does not list its root key %s as a "
			    "root key",
			    keyid);
	pem = jstr(json_object_get(json_object_get(json_object_get(signed_, "keys"), keyid),
				   "keyval"),
		   "public");
	pkey = pem ? bpk_key_from_pem(pem, strlen(pem), false) : NULL;
	if (!pkey || bpk_key_id(pkey, computed) || strcmp(computed, keyid))
		return bail(c, -EKEYREJECTED,
			    "the repository's root.json does not hold the public key of %s", keyid);
	canon = json_dumps(signed_, CANONICAL_FLAGS);
	if (!canon)
		return fail_nomem(c);
	json_array_foreach(json_object_get(doc, "signatures"), i, sig) {
		unsigned char *raw;
		size_t raw_len;
		bool ok;

		if (!jstr(sig, "keyid") || strcmp(jstr(sig, "keyid"), keyid) || !jstr(sig, "sig") ||
		    bpk_base64_decode(jstr(sig, "sig"), &raw, &raw_len))
			continue;
		ok = bpk_ed25519_verify(pkey, canon, strlen(canon), raw, raw_len);
		free(raw);
		if (ok)
			return 0;
	}
	return bail(c, -EKEYREJECTED, "the repository's root.json is not signed by its root key %s",
		    keyid);
}

/* GET the first root of the public index, else the current one. */
static int fetch_root(struct bpk_repo_client *c, const struct bpk_repo *repo, const char *token,
		      char **ret, size_t *ret_len)
{
	static const char *const names[] = { "1.root.json", "root.json" };
	struct http_resp resp;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		_cleanup_free_ char *url = xasprintf("%s/v1/index/%s", repo->url, names[i]);
		struct http_req req = { .method = "GET", .url = url, .token = token,
					.body_fd = -1, .out_fd = -1,
					.max_len = BPK_INDEX_MAX_ROOT_LEN };

		if (!url)
			return fail_nomem(c);
		err = http_perform(c, &req, &resp);
		if (err)
			return err;
		if (resp.status == 200) {
			*ret = strbuf_detach(&resp.body, ret_len);
			return 0;
		}
		err = http_error(c, &resp);
		strbuf_release(&resp.body);
		if (err != -ENOENT)
			break;
	}
	return bail_context(c, err, "cannot fetch the index root of '%s'", repo->url);
}

/* Whether the repository's root key id is the one asked for: all of it, or a prefix. */
static int match_key(struct bpk_repo_client *c, const char *want, const char *have)
{
	char lower[BPK_KEYID_LEN + 1];
	size_t i, n = strlen(want);

	if (n < 8 || n > BPK_KEYID_LEN)
		return bail(c, -EINVAL, "'%s' is not a key id (8 to 64 hex digits)", want);
	for (i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)want[i]);
	if (!is_hex(lower, 8, BPK_KEYID_LEN))
		return bail(c, -EINVAL, "'%s' is not a key id (8 to 64 hex digits)", want);
	if (strncmp(lower, have, n))
		return bail(c, -EKEYREJECTED,
			    "the repository's root key is %s, not the %s that was asked for", have,
			    lower);
	return 0;
}

/*
 * Without a service index, the root key is the root's own: the one whose id starts with key,
 * or without key the only one the root gives the root role.
 */
static int root_key_of(struct bpk_repo_client *c, const json_t *root, const char *key,
		       const char **ret)
{
	json_t *ids = json_object_get(json_object_get(json_object_get(json_object_get(root,
							"signed"), "roles"), "root"), "keyids");
	const char *found = NULL;
	size_t i, matches = 0;
	json_t *id;
	int err;

	json_array_foreach(ids, i, id) {
		const char *s = json_string_value(id);

		if (!s || !is_hex(s, 64, 64))
			continue;
		if (key) {
			err = match_key(c, key, s);
			if (err == -EINVAL)
				return err;
			if (err)
				continue;
		}
		found = s;
		matches++;
	}
	clear_error(c);
	if (matches == 1) {
		*ret = found;
		return 0;
	}
	if (key && !matches)
		return bail(c, -EKEYREJECTED, "the repository's root keys (in its root.json) do "
			    "not include %s", key);
	if (key)
		return bail(c, -EINVAL, "several root keys of the repository start with %s", key);
	return bail(c, matches ? -EINVAL : -EKEYREJECTED,
		    "the repository has no service index (/v1/) and its root.json names %zu root "
		    "keys: name one with --key", matches);
}

/* An absolute form of path, which must be a readable token file. */
static int absolute_token_file(struct bpk_repo_client *c, const char *path, char **ret)
{
	_cleanup_free_ char *token = NULL;
	char cwd[PATH_MAX];
	int err;

	err = load_token(c, path, &token);
	if (err)
		return err;
	if (path[0] == '/') {
		*ret = strdup(path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return bail(c, -errno, "cannot make '%s' absolute: %s", path,
				    strerror(errno));
		*ret = path_join(cwd, path);
	}
	return *ret ? 0 : fail_nomem(c);
}

static int write_config(struct bpk_repo_client *c, const struct bpk_repo *r, json_t *root)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_json_ json_t *doc = NULL;
	size_t len;
	int err;

	doc = json_pack("{s:s, s:s, s:s, s:b, s:s?, s:s, s:O}", "name", r->name, "url", r->url,
			"root_keyid", r->root_keyid, "key_pinned", r->key_pinned, "token_file",
			r->token_file, "added", r->added, "root", root);
	path = xasprintf("%s/%s.json", c->repos_dir, r->name);
	text = doc ? bpk_json_dump(doc, &len) : NULL;
	if (!doc || !path || !text)
		return fail_nomem(c);
	err = mkdir_p(c->repos_dir, 0755);
	if (!err)
		err = write_file_atomic(path, text, len, 0644);
	if (err)
		return bail(c, err, "cannot write '%s': %s", path, strerror(-err));
	return 0;
}

int bpk_repo_client__add(struct bpk_repo_client *c, const char *name, const char *url,
			 const struct bpk_repo_add_opts *opts, const struct bpk_repo **ret_repo)
{
	const char *key = OPTS_GET(opts, key, NULL), *token_file = OPTS_GET(opts, token_file, NULL);
	_cleanup_free_ char *token = NULL, *root_text = NULL, *dir = NULL, *fresh = NULL;
	_cleanup_free_ char *old = NULL;
	_cleanup_json_ json_t *service = NULL, *root = NULL;
	const struct bpk_repo *existing;
	struct bpk_repo r = { 0 };
	struct feed_index *fi;
	const char *keyid;
	char added[21];
	size_t root_len;
	int err;

	err = need_config(c);
	if (err)
		return err;
	reset(c);
	if (!bpk_repo_name__valid(name))
		return bail(c, -EINVAL, "'%s' is not a repository name ([a-z0-9][a-z0-9._-]*, "
			    "at most %d characters)", name ?: "", REPO_NAME_MAX);
	existing = bpk_repo_client__find_repo(c, name);
	if (existing && !OPTS_GET(opts, force, false))
		return bail(c, -EEXIST, "'%s' is already configured, in '%s'", name,
			    existing->file);
	r.name = strdup(name);
	r.url = normalize_url(url);
	if (!r.name) {
		err = fail_nomem(c);
		goto out;
	}
	if (!r.url) {
		err = bail(c, -EINVAL, "'%s' is not an http:// or https:// URL", url ?: "");
		goto out;
	}
	if (token_file) {
		err = absolute_token_file(c, token_file, &r.token_file);
		if (!err)
			err = load_token(c, r.token_file, &token);
		if (err)
			goto out;
	}

	err = api_json(c, &r, "GET", "/v1/", token, &service);
	if (err == -ENOENT || (err == -EPERM && !c->server_code)) {
		/*
		 * A static mirror (bpk-repo export behind nginx) may have no service index: a
		 * 404, or the 403 of a directory listing that is turned off.
		 */
		clear_error(c);
		err = 0;
	} else if (err) {
		if (c->http_status)
			bail_context(c, err, "'%s' is not a bpk repository", r.url);
		goto out;
	}
	keyid = jstr(service, "root_keyid");
	if (service && (!keyid || !is_hex(keyid, 64, 64))) {
		err = bail(c, -EPROTO, "'%s/v1/' names no root key ('root_keyid')", r.url);
		goto out;
	}
	if (keyid && key) {
		err = match_key(c, key, keyid);
		if (err)
			goto out;
	}
	if (bpk_index_time__format(c->now ?: (int64_t)time(NULL), added)) {
		err = bail(c, -ERANGE, "the clock is out of range");
		goto out;
	}

	err = fetch_root(c, &r, token, &root_text, &root_len);
	if (err == -ENOENT && !service)
		err = bail(c, err, "'%s' is not a bpk repository: it serves neither /v1/ nor "
			   "/v1/index/root.json", r.url);
	if (err)
		goto out;
	root = json_loadb(root_text, root_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		err = bail(c, -EKEYREJECTED, "the repository's root.json is not JSON");
		goto out;
	}
	if (!keyid) {
		err = root_key_of(c, root, key, &keyid);
		if (err)
			goto out;
	}
	r.root_keyid = strdup(keyid);
	r.key_pinned = key != NULL;
	r.added = strdup(added);
	if (!r.root_keyid || !r.added) {
		err = fail_nomem(c);
		goto out;
	}
	err = check_root(c, root, keyid);
	if (err)
		goto out;
	r.root = TAKE_PTR(root_text);
	r.root_len = root_len;

	/*
	 * Verify from this root alone, in a fresh state directory: state kept under the name
	 * before is not this repository's, but stays until the new one is verified.
	 */
	dir = state_dir(c, name, NULL);
	fresh = xasprintf("%s/index/.%s.new", c->cache_dir, name);
	old = xasprintf("%s/index/.%s.old", c->cache_dir, name);
	if (!dir || !fresh || !old) {
		err = fail_nomem(c);
		goto out;
	}
	indexes_release(c);
	err = rm_rf(fresh);
	if (err) {
		err = bail(c, err, "cannot remove '%s': %s", fresh, strerror(-err));
		goto out;
	}
	err = update_index_at(c, &r, "public", fresh, &fi);
	indexes_release(c);
	if (err) {
		rm_rf(fresh);
		goto out;
	}
	err = rm_rf(old);
	if (!err && rename(dir, old) < 0 && errno != ENOENT)
		err = -errno;
	if (!err && rename(fresh, dir) < 0)
		err = -errno;
	if (err) {
		err = bail(c, err, "cannot move '%s' into place: %s", fresh, strerror(-err));
		goto out;
	}
	rm_rf(old);
	err = write_config(c, &r, root);
	if (err)
		goto out;
	err = bpk_repo_client__load_config(c);
	if (!err && ret_repo)
		*ret_repo = bpk_repo_client__find_repo(c, name);
out:
	repo_release(&r);
	return err;
}

int bpk_repo_client__remove(struct bpk_repo_client *c, const char *name)
{
	const struct bpk_repo *repo;
	_cleanup_free_ char *dir = NULL;
	int err;

	err = need_config(c);
	if (err)
		return err;
	reset(c);
	repo = bpk_repo_client__find_repo(c, name);
	if (!repo)
		return bail(c, -ENOENT, "no repository is called '%s'", name ?: "");
	if (unlink(repo->file) < 0)
		return bail(c, -errno, "cannot remove '%s': %s", repo->file, strerror(errno));
	dir = state_dir(c, name, NULL);
	if (!dir)
		return fail_nomem(c);
	err = rm_rf(dir);
	if (err)
		return bail(c, err, "removed the configuration, but cannot remove '%s': %s", dir,
			    strerror(-err));
	return bpk_repo_client__load_config(c);
}

/* ---- resolution ---- */

/* Split NAME[@RANGE]; range is "*" when absent. */
static int parse_spec(const char *spec, char **ret_name, char **ret_range)
{
	const char *at = spec ? strchr(spec, '@') : NULL;
	_cleanup_free_ char *name = NULL, *range = NULL;

	if (!spec)
		return -EINVAL;
	name = at ? strndup(spec, (size_t)(at - spec)) : strdup(spec);
	range = strdup(at ? at + 1 : "*");
	if (!name || !range)
		return -ENOMEM;
	if (!bpk_name__valid(name) || !bpk_semver_range__valid(range))
		return -EINVAL;
	*ret_name = TAKE_PTR(name);
	*ret_range = TAKE_PTR(range);
	return 0;
}

bool bpk_repo_spec__valid(const char *spec)
{
	_cleanup_free_ char *name = NULL, *range = NULL;

	return parse_spec(spec, &name, &range) == 0;
}

static bool meta_has(const struct bpk_index_meta *m, const char *name)
{
	struct bpk_index_target t;
	size_t i, n = bpk_index_meta__target_cnt(m);

	for (i = 0; i < n; i++)
		if (!bpk_index_meta__target(m, i, &t) && !strcmp(t.name, name))
			return true;
	return false;
}

/* The version of name that range selects in m (see bpk_repo_client__resolve). */
static int pick(struct bpk_repo_client *c, const struct bpk_repo *repo,
		const struct bpk_index_meta *m, const char *name, const char *range,
		struct bpk_index_target *ret)
{
	struct bpk_index_target t, best = { 0 };
	struct strbuf list = STRBUF_INIT;
	const char *exact = NULL;
	size_t i, n = bpk_index_meta__target_cnt(m), seen = 0;
	bool found = false;
	int err;

	bpk_semver_range__is_exact(range, &exact);
	for (i = 0; i < n; i++) {
		if (bpk_index_meta__target(m, i, &t) || strcmp(t.name, name))
			continue;
		if (seen < MAX_LISTED_VERSIONS)
			strbuf_addf(&list, "%s%s%s", seen ? ", " : "", t.version,
				    t.yanked ? " (yanked)" : "");
		else if (seen == MAX_LISTED_VERSIONS)
			strbuf_addstr(&list, ", ...");
		seen++;
		if (exact) {
			if (strcmp(t.version, exact))
				continue;
		} else if (t.yanked || !bpk_semver_range__matches(range, t.version)) {
			continue;
		}
		if (!found || bpk_semver__cmp(t.version, best.version) > 0)
			best = t;
		found = true;
	}
	if (found) {
		strbuf_release(&list);
		*ret = best;
		return 0;
	}
	if (!seen)
		err = bail(c, -ENOENT, "'%s' has no package '%s'", repo->name, name);
	else
		err = bail(c, -ENOENT, "no version of '%s' in '%s' matches '%s' (there %s %s)",
			   name, repo->name, range, seen == 1 ? "is" : "are",
			   list.buf ?: "");
	strbuf_release(&list);
	return err;
}

/*
 * The repository to use for name: repo when given, else the only one, else the first by name
 * whose index (of name's feed) has the package. ret_fi is that feed's index when it was
 * updated on the way (NULL otherwise).
 */
static int select_repo(struct bpk_repo_client *c, const struct bpk_repo *repo, const char *name,
		       const struct bpk_repo **ret_repo, struct feed_index **ret_fi)
{
	_cleanup_free_ char *feed = bpk_repo_name__feed(name);
	struct strbuf why = STRBUF_INIT;
	struct feed_index *fi;
	size_t i;
	int err;

	*ret_fi = NULL;
	if (!feed)
		return fail_nomem(c);
	if (repo) {
		*ret_repo = repo;
		return 0;
	}
	err = need_config(c);
	if (err)
		return err;
	if (!c->repo_cnt)
		return bail(c, -ENOENT, "no repository is configured (see 'bpk repo add')");
	if (c->repo_cnt == 1) {
		*ret_repo = &c->repos[0];
		return 0;
	}
	for (i = 0; i < c->repo_cnt; i++) {
		err = update_index(c, &c->repos[i], feed, &fi);
		if (err) {
			strbuf_addf(&why, "; %s", c->err);
			continue;
		}
		if (meta_has(bpk_index_client__meta(fi->index), name)) {
			strbuf_release(&why);
			*ret_repo = &c->repos[i];
			*ret_fi = fi;
			return 0;
		}
	}
	err = bail(c, -ENOENT, "no configured repository has '%s'%s", name, why.buf ?: "");
	strbuf_release(&why);
	return err;
}

/* resolve without reset(), for fetch and install; also returns the feed's index. */
static int resolve(struct bpk_repo_client *c, const struct bpk_repo *repo, const char *spec,
		   const struct bpk_repo **ret_repo, struct feed_index **ret_fi,
		   struct bpk_index_target *ret_target)
{
	_cleanup_free_ char *name = NULL, *range = NULL, *feed = NULL;
	struct feed_index *fi;
	int err;

	err = parse_spec(spec, &name, &range);
	if (err == -ENOMEM)
		return fail_nomem(c);
	if (err)
		return bail(c, err, "'%s' is not NAME or NAME@RANGE", spec ?: "");
	err = select_repo(c, repo, name, &repo, &fi);
	if (err)
		return err;
	if (!fi) {
		feed = bpk_repo_name__feed(name);
		if (!feed)
			return fail_nomem(c);
		err = update_index(c, repo, feed, &fi);
		if (err)
			return err;
	}
	err = pick(c, repo, bpk_index_client__meta(fi->index), name, range, ret_target);
	if (err)
		return err;
	*ret_repo = repo;
	*ret_fi = fi;
	return 0;
}

int bpk_repo_client__resolve(struct bpk_repo_client *c, const struct bpk_repo *repo,
			     const char *spec, const struct bpk_repo **ret_repo,
			     struct bpk_index_target *ret_target)
{
	struct feed_index *fi;
	int err;

	reset(c);
	err = resolve(c, repo, spec, &repo, &fi, ret_target);
	if (!err && ret_repo)
		*ret_repo = repo;
	return err;
}

/* ---- search ---- */

void bpk_repo_search__free(struct bpk_repo_search *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->cnt * 3; i++)
		free(s->strings[i]);
	free(s->strings);
	free(s->hits);
	json_decref(s->answer);
	free(s);
}

uint64_t bpk_repo_search__total(const struct bpk_repo_search *s)
{
	return s->total;
}

size_t bpk_repo_search__cnt(const struct bpk_repo_search *s)
{
	return s->cnt;
}

const struct bpk_repo_hit *bpk_repo_search__hit(const struct bpk_repo_search *s, size_t idx)
{
	return idx < s->cnt ? &s->hits[idx] : NULL;
}

char *bpk_repo_search__to_json(const struct bpk_repo_search *s)
{
	return bpk_json_dump(s->answer, NULL);
}

/* The strings of a JSON array joined with ','; NULL when value is not such an array. */
static char *join_list(const json_t *value, bool *ret_nomem)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *item;
	size_t i;

	if (!json_is_array(value))
		return NULL;
	json_array_foreach(value, i, item) {
		if (!json_is_string(item))
			continue;
		if (strbuf_addf(&sb, "%s%s", sb.len ? "," : "", json_string_value(item))) {
			*ret_nomem = true;
			strbuf_release(&sb);
			return NULL;
		}
	}
	return strbuf_detach(&sb, NULL) ?: (*ret_nomem = true, NULL);
}

static int add_param(struct strbuf *sb, CURL *curl, const char *key, const char *value)
{
	char *escaped;
	int err;

	if (!value || !*value)
		return 0;
	escaped = curl_easy_escape(curl, value, 0);
	if (!escaped)
		return -ENOMEM;
	err = strbuf_addf(sb, "%c%s=%s", sb->len ? '&' : '?', key, escaped);
	curl_free(escaped);
	return err;
}

int bpk_repo_client__search(struct bpk_repo_client *c, const struct bpk_repo *repo,
			    const struct bpk_repo_search_opts *opts,
			    struct bpk_repo_search **ret_search)
{
	struct strbuf query = STRBUF_INIT;
	_cleanup_free_ char *token = NULL, *path = NULL;
	struct bpk_repo_search *s = NULL;
	uint32_t skip = OPTS_GET(opts, skip, 0), take = OPTS_GET(opts, take, 0);
	json_t *results, *hit, *total;
	char num[24];
	bool nomem = false;
	CURL *curl;
	size_t i;
	int err;

	reset(c);
	if (!repo)
		return bail(c, -EINVAL, "no repository given");
	if (take > 100)
		return bail(c, -EINVAL, "at most 100 results a page can be asked for");
	curl = curl_easy_init();
	if (!curl)
		return fail_nomem(c);
	err = add_param(&query, curl, "q", OPTS_GET(opts, query, NULL));
	err = err ?: add_param(&query, curl, "type", OPTS_GET(opts, type, NULL));
	err = err ?: add_param(&query, curl, "platform", OPTS_GET(opts, platform, NULL));
	err = err ?: add_param(&query, curl, "kernel", OPTS_GET(opts, kernel, NULL));
	err = err ?: add_param(&query, curl, "tag", OPTS_GET(opts, tag, NULL));
	err = err ?: add_param(&query, curl, "feed", OPTS_GET(opts, feed, NULL));
	snprintf(num, sizeof(num), "%u", skip);
	err = err ?: (skip ? add_param(&query, curl, "skip", num) : 0);
	snprintf(num, sizeof(num), "%u", take);
	err = err ?: (take ? add_param(&query, curl, "take", num) : 0);
	curl_easy_cleanup(curl);
	if (err) {
		strbuf_release(&query);
		return fail_nomem(c);
	}
	path = xasprintf("/v1/search%s", query.buf ?: "");
	strbuf_release(&query);
	if (!path)
		return fail_nomem(c);
	err = repo_token(c, repo, NULL, &token);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail_nomem(c);
	err = api_json(c, repo, "GET", path, token, &s->answer);
	if (err)
		goto fail;
	results = json_object_get(s->answer, "results");
	total = json_object_get(s->answer, "total");
	if (!json_is_array(results) || (total && !json_is_integer(total))) {
		err = bail(c, -EPROTO, "'%s' answered a search without a 'results' list",
			   repo->name);
		goto fail;
	}
	s->total = json_integer_value(total) > 0 ? (uint64_t)json_integer_value(total) : 0;
	s->hits = calloc(json_array_size(results) + 1, sizeof(*s->hits));
	s->strings = calloc(json_array_size(results) * 3 + 1, sizeof(*s->strings));
	if (!s->hits || !s->strings) {
		err = fail_nomem(c);
		goto fail;
	}
	json_array_foreach(results, i, hit) {
		struct bpk_repo_hit *h = &s->hits[s->cnt];
		char **strings = &s->strings[s->cnt * 3];

		h->name = jstr(hit, "name");
		h->version = jstr(hit, "version");
		if (!h->name || !bpk_name__valid(h->name) || !h->version ||
		    !bpk_semver__valid(h->version)) {
			err = bail(c, -EPROTO, "'%s' answered a search result without a valid "
				   "name and version (result %zu)", repo->name, i);
			goto fail;
		}
		h->feed = jstr(hit, "feed");
		h->description = jstr(hit, "description");
		h->kernel = jstr(hit, "kernel");
		h->published = jstr(hit, "published");
		h->score = json_number_value(json_object_get(hit, "score"));
		h->tags = strings[0] = join_list(json_object_get(hit, "tags"), &nomem);
		h->types = strings[1] = join_list(json_object_get(hit, "types"), &nomem);
		h->platforms = strings[2] = join_list(json_object_get(hit, "platforms"), &nomem);
		s->cnt++;
		if (nomem) {
			err = fail_nomem(c);
			goto fail;
		}
	}
	if (!total)
		s->total = s->cnt;
	*ret_search = s;
	return 0;
fail:
	bpk_repo_search__free(s);
	return err;
}

/* ---- package information ---- */

void bpk_repo_package__free(struct bpk_repo_package *p)
{
	if (!p)
		return;
	json_decref(p->list);
	json_decref(p->detail);
	free(p->versions);
	free(p->signers);
	free(p->manifest);
	free(p->verified);
	free(p);
}

const char *bpk_repo_package__name(const struct bpk_repo_package *p)
{
	return jstr(p->list, "name");
}

const char *bpk_repo_package__feed(const struct bpk_repo_package *p)
{
	return jstr(p->list, "feed");
}

size_t bpk_repo_package__version_cnt(const struct bpk_repo_package *p)
{
	return p->version_cnt;
}

const struct bpk_repo_version *bpk_repo_package__version(const struct bpk_repo_package *p,
							  size_t idx)
{
	return idx < p->version_cnt ? &p->versions[idx] : NULL;
}

const struct bpk_repo_version *bpk_repo_package__selected(const struct bpk_repo_package *p)
{
	return &p->selected;
}

size_t bpk_repo_package__signer_cnt(const struct bpk_repo_package *p)
{
	return p->signer_cnt;
}

const struct bpk_repo_signer *bpk_repo_package__signer(const struct bpk_repo_package *p,
						       size_t idx)
{
	return idx < p->signer_cnt ? &p->signers[idx] : NULL;
}

const char *bpk_repo_package__manifest_json(const struct bpk_repo_package *p)
{
	return p->manifest;
}

const char *bpk_repo_package__verified_json(const struct bpk_repo_package *p)
{
	return p->verified;
}

char *bpk_repo_package__to_json(const struct bpk_repo_package *p)
{
	_cleanup_json_ json_t *doc = json_pack("{s:O?, s:O?, s:O, s:O}", "name",
					       json_object_get(p->list, "name"), "feed",
					       json_object_get(p->list, "feed"), "versions",
					       json_object_get(p->list, "versions"), "selected",
					       p->detail);

	return doc ? bpk_json_dump(doc, NULL) : NULL;
}

/* A version entry (list or detail): "version" valid SemVer, the rest optional but typed. */
static bool parse_version(const json_t *obj, struct bpk_repo_version *ret)
{
	json_t *size = json_object_get(obj, "size");

	ret->version = jstr(obj, "version");
	if (!ret->version || !bpk_semver__valid(ret->version))
		return false;
	ret->yanked = json_is_true(json_object_get(obj, "yanked"));
	ret->published = jstr(obj, "published");
	ret->sha256 = jstr(obj, "sha256");
	if (ret->sha256 && !is_hex(ret->sha256, 64, 64))
		return false;
	if (size && (!json_is_integer(size) || json_integer_value(size) < 0))
		return false;
	ret->size = size ? (uint64_t)json_integer_value(size) : 0;
	return true;
}

static int parse_package(struct bpk_repo_client *c, const struct bpk_repo *repo, const char *name,
			 struct bpk_repo_package *p)
{
	json_t *versions = json_object_get(p->list, "versions"), *v;
	size_t i;

	if (!jstr(p->list, "name") || strcmp(jstr(p->list, "name"), name) ||
	    !json_is_array(versions))
		return bail(c, -EPROTO, "'%s' answered for '%s' without its name and versions",
			    repo->name, name);
	p->versions = calloc(json_array_size(versions) + 1, sizeof(*p->versions));
	if (!p->versions)
		return fail_nomem(c);
	json_array_foreach(versions, i, v) {
		if (!parse_version(v, &p->versions[i]))
			return bail(c, -EPROTO, "'%s' answered for '%s' with an invalid version "
				    "(entry %zu)", repo->name, name, i);
		p->version_cnt++;
	}
	return 0;
}

static int parse_detail(struct bpk_repo_client *c, const struct bpk_repo *repo, const char *name,
			const char *version, struct bpk_repo_package *p)
{
	json_t *signers = json_object_get(p->detail, "signers"), *s;
	json_t *manifest = json_object_get(p->detail, "manifest");
	json_t *verified = json_object_get(p->detail, "verified");
	size_t i;

	if (!parse_version(p->detail, &p->selected) || strcmp(p->selected.version, version) ||
	    !jstr(p->detail, "name") || strcmp(jstr(p->detail, "name"), name) ||
	    !json_is_object(manifest) || (signers && !json_is_array(signers)))
		return bail(c, -EPROTO, "'%s' answered for '%s@%s' without its name, version and "
			    "manifest", repo->name, name, version);
	p->signers = calloc(json_array_size(signers) + 1, sizeof(*p->signers));
	p->manifest = bpk_json_dump(manifest, NULL);
	if (!p->signers || !p->manifest)
		return fail_nomem(c);
	json_array_foreach(signers, i, s) {
		if (!jstr(s, "keyid"))
			return bail(c, -EPROTO, "'%s' lists a signer of '%s@%s' without a key id",
				    repo->name, name, version);
		p->signers[p->signer_cnt].keyid = jstr(s, "keyid");
		p->signers[p->signer_cnt].alg = jstr(s, "alg");
		p->signer_cnt++;
	}
	if (json_is_object(verified) && !(p->verified = bpk_json_dump(verified, NULL)))
		return fail_nomem(c);
	return 0;
}

int bpk_repo_client__info(struct bpk_repo_client *c, const struct bpk_repo *repo,
			  const char *name, const char *version,
			  struct bpk_repo_package **ret_package)
{
	_cleanup_free_ char *token = NULL, *path = NULL;
	struct bpk_repo_package *p;
	struct feed_index *fi;
	const char *chosen = version;
	size_t i;
	int err;

	reset(c);
	if (!bpk_name__valid(name))
		return bail(c, -EINVAL, "'%s' is not a package name", name ?: "");
	if (version && !bpk_semver__valid(version))
		return bail(c, -EINVAL, "'%s' is not a SemVer version", version);
	err = select_repo(c, repo, name, &repo, &fi);
	if (err)
		return err;
	err = repo_token(c, repo, NULL, &token);
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	path = xasprintf("/v1/packages/%s", name);
	if (!p || !path) {
		free(p);
		return fail_nomem(c);
	}
	err = api_json(c, repo, "GET", path, token, &p->list);
	if (err)
		goto fail;
	err = parse_package(c, repo, name, p);
	if (err)
		goto fail;
	/* The newest version not yanked, else the newest. */
	if (!chosen) {
		const char *newest = NULL, *live = NULL;

		for (i = 0; i < p->version_cnt; i++) {
			const struct bpk_repo_version *v = &p->versions[i];

			if (!newest || bpk_semver__cmp(v->version, newest) > 0)
				newest = v->version;
			if (!v->yanked && (!live || bpk_semver__cmp(v->version, live) > 0))
				live = v->version;
		}
		chosen = live ?: newest;
	}
	if (!chosen) {
		err = bail(c, -ENOENT, "'%s' has no version of '%s'", repo->name, name);
		goto fail;
	}
	free(path);
	path = xasprintf("/v1/packages/%s/%s", name, chosen);
	if (!path) {
		err = fail_nomem(c);
		goto fail;
	}
	err = api_json(c, repo, "GET", path, token, &p->detail);
	if (err)
		goto fail;
	err = parse_detail(c, repo, name, chosen, p);
	if (err)
		goto fail;
	*ret_package = p;
	return 0;
fail:
	bpk_repo_package__free(p);
	return err;
}

/* ---- publish and yank ---- */

static int sha256_fd(int fd, uint64_t len, char out[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[65536], md[32];
	uint64_t off = 0;
	int err = 0;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	while (off < len) {
		size_t want = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			err = -EIO;
			break;
		}
		off += (uint64_t)n;
	}
	if (!err && !EVP_DigestFinal_ex(ctx, md, NULL))
		err = -EIO;
	EVP_MD_CTX_free(ctx);
	if (!err)
		hex_encode(md, sizeof(md), out);
	return err;
}

int bpk_repo_client__publish(struct bpk_repo_client *c, const struct bpk_repo *repo,
			     const char *path, const struct bpk_repo_publish_opts *opts,
			     struct bpk_repo_published *ret)
{
	_cleanup_free_ char *token = NULL, *url = NULL, *base = NULL;
	_cleanup_close_ int fd = -1;
	struct http_req req = { .method = "PUT", .out_fd = -1, .max_len = BPK_REPO_MAX_JSON_LEN,
				.content_type = "application/vnd.bpk" };
	struct http_resp resp;
	json_t *size;
	char digest[65];
	struct stat st;
	int err;

	reset(c);
	if (!repo || !path)
		return bail(c, -EINVAL, "no repository or package given");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return bail(c, -errno, "%s", strerror(errno));
	if (fstat(fd, &st) < 0)
		return bail(c, -errno, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return bail(c, -EINVAL, "not a regular file");
	if ((uint64_t)st.st_size > MAX_PUBLISH_LEN)
		return bail(c, -EFBIG, "larger than %llu bytes", MAX_PUBLISH_LEN);
	err = sha256_fd(fd, (uint64_t)st.st_size, digest);
	if (err)
		return bail(c, err, "cannot read it: %s", strerror(-err));
	err = repo_token(c, repo, OPTS_GET(opts, token_file, NULL), &token);
	if (err)
		return err;
	url = xasprintf("%s/v1/packages", repo->url);
	base = strdup(strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	if (!url || !base)
		return fail_nomem(c);
	req.url = url;
	req.token = token;
	req.body_fd = fd;
	req.body_len = (uint64_t)st.st_size;
	req.progress_name = base;
	err = http_perform(c, &req, &resp);
	if (err)
		return err;
	if (resp.status != 200 && resp.status != 201) {
		err = http_error(c, &resp);
		strbuf_release(&resp.body);
		return err;
	}
	c->answer = json_loadb(resp.body.buf ?: "", resp.body.len, JSON_REJECT_DUPLICATES, NULL);
	strbuf_release(&resp.body);
	size = json_object_get(c->answer, "size");
	if (!jstr(c->answer, "name") || !jstr(c->answer, "version") || !jstr(c->answer, "sha256") ||
	    !json_is_integer(size))
		return bail(c, -EPROTO, "'%s' accepted the package but did not say what it "
			    "recorded", repo->name);
	if (strcmp(jstr(c->answer, "sha256"), digest) ||
	    json_integer_value(size) != (json_int_t)st.st_size)
		return bail(c, -EBADMSG, "'%s' recorded %" JSON_INTEGER_FORMAT
			    " bytes with SHA-256 %.64s, but the file is %jd bytes with SHA-256 %s",
			    repo->name, json_integer_value(size), jstr(c->answer, "sha256"),
			    (intmax_t)st.st_size, digest);
	if (ret) {
		ret->name = jstr(c->answer, "name");
		ret->version = jstr(c->answer, "version");
		ret->feed = jstr(c->answer, "feed");
		ret->sha256 = jstr(c->answer, "sha256");
		ret->size = (uint64_t)json_integer_value(size);
	}
	return 0;
}

int bpk_repo_client__yank(struct bpk_repo_client *c, const struct bpk_repo *repo,
			  const char *name, const char *version, bool yanked,
			  const struct bpk_repo_publish_opts *opts)
{
	_cleanup_free_ char *token = NULL, *path = NULL;
	int err;

	reset(c);
	if (!repo)
		return bail(c, -EINVAL, "no repository given");
	if (!bpk_name__valid(name) || !bpk_semver__valid(version))
		return bail(c, -EINVAL, "'%s@%s' is not NAME@VERSION", name ?: "", version ?: "");
	err = repo_token(c, repo, OPTS_GET(opts, token_file, NULL), &token);
	if (err)
		return err;
	path = xasprintf("/v1/packages/%s/%s/%s", name, version, yanked ? "yank" : "unyank");
	if (!path)
		return fail_nomem(c);
	err = api_json(c, repo, "POST", path, token, &c->answer);
	if (err)
		return err;
	if (json_is_boolean(json_object_get(c->answer, "yanked")) &&
	    json_is_true(json_object_get(c->answer, "yanked")) != yanked)
		return bail(c, -EPROTO, "'%s' answered that %s@%s is %s", repo->name, name, version,
			    yanked ? "not yanked" : "still yanked");
	return 0;
}

/* ---- fetch and install ---- */

/* "NAME-VERSION.bpk" with '/' in NAME as '-' (bpk_manifest__package_filename's form). */
static char *package_filename(const struct bpk_index_target *t)
{
	char *s = xasprintf("%s-%s.bpk", t->name, t->version), *p;

	for (p = s; p && *p; p++)
		if (*p == '/')
			*p = '-';
	return s;
}

/* Read what fd holds: at most max + 1 bytes, so a longer file shows. */
static int read_back(int fd, uint64_t max, char **ret, size_t *ret_len)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	return read_fd(fd, max < SIZE_MAX - 1 ? (size_t)max : SIZE_MAX - 2, ret, ret_len);
}

/*
 * Download target into part (resuming what it holds) and check it against the index. A part
 * that does not verify after a resumed or earlier download is started again once. On success
 * part holds the package, fsynced, and *ret its bytes.
 */
static int download(struct bpk_repo_client *c, struct feed_index *fi,
		    const struct bpk_index_target *t, const char *part, char **ret,
		    size_t *ret_len)
{
	_cleanup_free_ char *url = NULL, *token = NULL, *base = NULL;
	_cleanup_close_ int fd = -1;
	struct http_resp resp;
	struct stat st;
	int attempt, err;

	url = xasprintf("%s/v1/packages/%s/%s/package.bpk", fi->repo->url, t->name, t->version);
	base = package_filename(t);
	if (!url || !base)
		return fail_nomem(c);
	err = repo_token(c, fi->repo, NULL, &token);
	if (err)
		return err;
	fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
	if (fd < 0)
		return bail(c, -errno, "cannot open '%s': %s", part, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return bail(c, errno == EWOULDBLOCK ? -EBUSY : -errno,
			    "cannot lock '%s': %s", part,
			    errno == EWOULDBLOCK ? "another download into it is under way"
						 : strerror(errno));
	for (attempt = 0; attempt < 2; attempt++) {
		_cleanup_free_ char *data = NULL;
		size_t len;
		uint64_t have;

		if (fstat(fd, &st) < 0)
			return bail(c, -errno, "cannot stat '%s': %s", part, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return bail(c, -EINVAL, "'%s' is not a regular file", part);
		have = (uint64_t)st.st_size;
		if (have > t->size) {
			if (ftruncate(fd, 0) < 0)
				return bail(c, -errno, "cannot truncate '%s': %s", part,
					    strerror(errno));
			have = 0;
		}
		if (have < t->size) {
			struct http_req req = { .method = "GET", .url = url, .token = token,
						.body_fd = -1, .out_fd = fd, .out_from = have,
						.max_len = t->size, .progress_name = base };

			err = http_perform(c, &req, &resp);
			if (err == -EFBIG) {
				unlink(part);
				return bail(c, -EBADMSG, "the repository sent more than the "
					    "%" PRIu64 " bytes the index records for %s@%s",
					    t->size, t->name, t->version);
			}
			if (err)
				return err; /* the part stays, to resume */
			if (resp.status == 416 && have && attempt == 0) {
				/* The server does not see the part's bytes: from nothing, once. */
				strbuf_release(&resp.body);
				if (ftruncate(fd, 0) < 0)
					return bail(c, -errno, "cannot truncate '%s': %s", part,
						    strerror(errno));
				continue;
			}
			if (resp.status != 200 && resp.status != 206) {
				err = http_error(c, &resp);
				strbuf_release(&resp.body);
				if (fstat(fd, &st) == 0 && !st.st_size)
					unlink(part);
				return bail_context(c, err, "cannot download %s@%s", t->name,
						    t->version);
			}
			strbuf_release(&resp.body);
			if (resp.restarted)
				pr_info("the repository does not resume downloads: '%s' "
					"started again\n", part);
		}
		if (fsync(fd) < 0)
			return bail(c, -errno, "cannot sync '%s': %s", part, strerror(errno));
		err = read_back(fd, t->size, &data, &len);
		if (err == -EFBIG)
			len = (size_t)t->size + 1;
		else if (err)
			return bail(c, err, "cannot read '%s': %s", part, strerror(-err));
		err = err ? -EBADMSG
			  : bpk_index_client__verify_target(fi->index, t->name, t->version, data,
							    len);
		if (!err) {
			*ret = TAKE_PTR(data);
			*ret_len = len;
			return 0;
		}
		if (attempt == 0 && have > 0) {
			/* What was there before may be what is wrong: once more, from nothing. */
			pr_info("'%s' does not match the index; downloading it again\n", part);
			if (ftruncate(fd, 0) < 0)
				return bail(c, -errno, "cannot truncate '%s': %s", part,
					    strerror(errno));
			continue;
		}
		unlink(part);
		return bail(c, -EBADMSG,
			    "the package from '%s' is not the one its index records: %s",
			    fi->repo->name, err == -EBADMSG && len > t->size
				    ? "it is longer"
				    : bpk_index_client__errstr(fi->index));
	}
	return bail(c, -EBADMSG, "cannot download %s@%s", t->name, t->version);
}

/* CACHE/packages/SHA256.bpk */
static char *cache_path(struct bpk_repo_client *c, const struct bpk_index_target *t,
			const char *suffix)
{
	return xasprintf("%s/packages/%s.bpk%s", c->cache_dir, t->sha256, suffix);
}

/* The package from the cache, if a copy there still matches the index. */
static bool from_cache(struct bpk_repo_client *c, struct feed_index *fi,
		       const struct bpk_index_target *t, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *path = cache_path(c, t, ""), *data = NULL;
	size_t len;

	if (!path || read_file(path, (size_t)t->size, &data, &len))
		return false;
	if (bpk_index_client__verify_target(fi->index, t->name, t->version, data, len)) {
		pr_info("'%s' does not match the index; removed\n", path);
		unlink(path);
		return false;
	}
	*ret = TAKE_PTR(data);
	*ret_len = len;
	return true;
}

/* The package's signatures against the policy, and its manifest against the index. */
static int check_signatures(struct bpk_repo_client *c, const struct bpk_index_target *t,
			    const void *data, size_t len, const struct bpk_repo_fetch_opts *opts)
{
	struct bpk_verify_result *own = NULL, *result = OPTS_GET(opts, result, NULL);
	BPK_OPTS(bpk_verify_opts, vopts, .allow_unsigned = OPTS_GET(opts, allow_unsigned, false));
	int err;

	if (!result) {
		own = bpk_verify_result__new();
		if (!own)
			return fail_nomem(c);
		result = own;
	}
	err = bpk_verify__mem(data, len, OPTS_GET(opts, trust, NULL), &vopts, result);
	if (err == -EKEYREJECTED)
		err = bail(c, err, "refused by the trust policy: %s",
			   bpk_verify_result__reason(result) ?: "no reason given");
	else if (err)
		err = bail(c, err, "cannot verify the package: %s", strerror(-err));
	else if (!bpk_verify_result__name(result) || !bpk_verify_result__version(result) ||
		 strcmp(bpk_verify_result__name(result), t->name) ||
		 strcmp(bpk_verify_result__version(result), t->version))
		err = bail(c, -EBADMSG, "the package calls itself %s@%s, not %s@%s",
			   bpk_verify_result__name(result) ?: "?",
			   bpk_verify_result__version(result) ?: "?", t->name, t->version);
	bpk_verify_result__free(own);
	return err;
}

/*
 * The verified bytes of target: from the cache or downloaded into part, then checked against
 * the index and the trust policy. A refused download is removed.
 */
static int obtain(struct bpk_repo_client *c, struct feed_index *fi,
		  const struct bpk_index_target *t, const char *part,
		  const struct bpk_repo_fetch_opts *opts, char **ret, size_t *ret_len,
		  bool *ret_cached)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int err;

	/* A package past the container limit could never be opened: do not download it. */
	if (t->size > BPK_DEFAULT_MAX_COMPRESSED)
		return bail(c, -EFBIG, "the index records %" PRIu64 " bytes for %s@%s, more than "
			    "the %llu a package may have", t->size, t->name, t->version,
			    BPK_DEFAULT_MAX_COMPRESSED);
	*ret_cached = from_cache(c, fi, t, &data, &len);
	if (!*ret_cached) {
		err = download(c, fi, t, part, &data, &len);
		if (err)
			return err;
	}
	err = check_signatures(c, t, data, len, opts);
	if (err) {
		if (!*ret_cached)
			unlink(part);
		return err;
	}
	*ret = TAKE_PTR(data);
	*ret_len = len;
	return 0;
}

/* Keep a verified package in the cache; failing to is not worth failing the command. */
static void cache_store(struct bpk_repo_client *c, const struct bpk_index_target *t,
			const void *data, size_t len)
{
	_cleanup_free_ char *dir = xasprintf("%s/packages", c->cache_dir);
	_cleanup_free_ char *path = cache_path(c, t, "");
	int err = dir && path ? mkdir_p(dir, 0755) : -ENOMEM;

	if (!err)
		err = write_file_atomic(path, data, len, 0644);
	if (err)
		pr_info("cannot keep %s@%s in the cache: %s\n", t->name, t->version,
			strerror(-err));
}

static void set_fetched(struct bpk_repo_client *c, const struct bpk_repo *repo,
			const struct bpk_index_target *t, bool cached,
			struct bpk_repo_fetched *ret)
{
	if (!ret)
		return;
	memset(ret, 0, sizeof(*ret));
	ret->repo = repo;
	ret->target = *t;
	ret->path = c->result_path;
	ret->from_cache = cached;
}

int bpk_repo_client__fetch(struct bpk_repo_client *c, const struct bpk_repo *repo,
			   const char *spec, const char *dir,
			   const struct bpk_repo_fetch_opts *opts, struct bpk_repo_fetched *ret)
{
	_cleanup_free_ char *file = NULL, *final = NULL, *part = NULL, *data = NULL;
	struct bpk_index_target t;
	struct feed_index *fi;
	bool cached;
	size_t len;
	int err;

	reset(c);
	err = resolve(c, repo, spec, &repo, &fi, &t);
	if (err)
		return err;
	dir = dir ?: ".";
	err = mkdir_p(dir, 0755);
	if (err)
		return bail(c, err, "cannot create '%s': %s", dir, strerror(-err));
	file = package_filename(&t);
	final = file ? path_join(dir, file) : NULL;
	part = final ? xasprintf("%s.part", final) : NULL;
	if (!part)
		return fail_nomem(c);
	err = obtain(c, fi, &t, part, opts, &data, &len, &cached);
	if (err)
		return err;
	if (cached) {
		err = write_file_atomic(final, data, len, 0644);
		if (err)
			return bail(c, err, "cannot write '%s': %s", final, strerror(-err));
	} else {
		/* download() synced the part: the rename makes it whole or absent. */
		if (rename(part, final) < 0) {
			err = -errno;
			unlink(part);
			return bail(c, err, "cannot rename '%s': %s", part, strerror(-err));
		}
		err = fsync_dir(dir);
		if (err)
			return bail(c, err, "cannot sync '%s': %s", dir, strerror(-err));
		cache_store(c, &t, data, len);
	}
	c->result_path = TAKE_PTR(final);
	set_fetched(c, repo, &t, cached, ret);
	return 0;
}

int bpk_repo_client__install(struct bpk_repo_client *c, const struct bpk_repo *repo,
			     const char *spec, const char *root,
			     const struct bpk_repo_fetch_opts *opts, struct bpk_repo_fetched *ret)
{
	_cleanup_free_ char *parent = NULL, *final = NULL, *tmp = NULL, *part = NULL;
	_cleanup_free_ char *data = NULL, *cache_dir = NULL, *cached_path = NULL;
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_index_target t;
	struct feed_index *fi;
	struct bpk_pkg *pkg;
	struct stat st;
	bool cached;
	size_t len;
	int err;

	reset(c);
	err = resolve(c, repo, spec, &repo, &fi, &t);
	if (err)
		return err;
	root = root ?: BPK_REPO_DEFAULT_INSTALL_ROOT;
	parent = path_join(root, t.name);
	final = parent ? path_join(parent, t.version) : NULL;
	tmp = parent ? xasprintf("%s/.%s.XXXXXX", parent, t.version) : NULL;
	cache_dir = xasprintf("%s/packages", c->cache_dir);
	part = cache_path(c, &t, ".part");
	cached_path = cache_path(c, &t, "");
	if (!final || !tmp || !cache_dir || !part || !cached_path)
		return fail_nomem(c);
	if (lstat(final, &st) == 0) {
		c->result_path = TAKE_PTR(final);
		set_fetched(c, repo, &t, false, ret);
		if (ret)
			ret->already_installed = true;
		return 0;
	}
	err = mkdir_p(cache_dir, 0755);
	if (err)
		return bail(c, err, "cannot create '%s': %s", cache_dir, strerror(-err));
	err = obtain(c, fi, &t, part, opts, &data, &len, &cached);
	if (err)
		return err;
	if (!cached && rename(part, cached_path) < 0) {
		err = -errno;
		unlink(part);
		return bail(c, err, "cannot rename '%s': %s", part, strerror(-err));
	}

	pkg = bpk_pkg__open_mem(data, len, NULL, &diags);
	if (!pkg) {
		err = bail(c, -errno ?: -EINVAL, "cannot open the package: %s",
			   diags.cnt ? diags.items[0].message : strerror(errno));
		bpk_diags__release(&diags);
		return err;
	}
	bpk_diags__release(&diags);
	err = mkdir_p(parent, 0755);
	if (err) {
		bpk_pkg__free(pkg);
		return bail(c, err, "cannot create '%s': %s", parent, strerror(-err));
	}
	if (!mkdtemp(tmp)) {
		err = -errno;
		bpk_pkg__free(pkg);
		return bail(c, err, "cannot create a directory in '%s': %s", parent,
			    strerror(-err));
	}
	err = bpk_pkg__extract(pkg, tmp);
	bpk_pkg__free(pkg);
	if (!err)
		err = sync_tree(tmp);
	if (err) {
		rm_rf(tmp);
		return bail(c, err, "cannot extract into '%s': %s", tmp, strerror(-err));
	}
	if (chmod(tmp, 0755) < 0 || rename(tmp, final) < 0) {
		err = -errno;
		rm_rf(tmp);
		if (err == -EEXIST || err == -ENOTEMPTY)
			return bail(c, -EEXIST, "'%s' appeared while installing", final);
		return bail(c, err, "cannot rename '%s' to '%s': %s", tmp, final, strerror(-err));
	}
	err = fsync_dir(parent);
	if (err)
		return bail(c, err, "cannot sync '%s': %s", parent, strerror(-err));
	c->result_path = TAKE_PTR(final);
	set_fetched(c, repo, &t, cached, ret);
	return 0;
}

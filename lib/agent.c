// SPDX-License-Identifier: BSD-2-Clause
/* The node agent: fetch, verify, load, chain and pin l3afd's programs; re-adopt; report. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpk_internal.h"
#include "agent_internal.h"

#include <bpk/agent.h>
#include <bpk/chain.h>
#include <bpk/fuse.h>
#include <bpk/repo_client.h>

#define LOG_SIZE (256U << 10)
/* Largest object read out of an l3afd archive. */
#define OBJECT_MAX (64U << 20)
/* Longest XDP chain the kernel's tail-call limit (33) lets run whole, root included. */
#define XDP_CHAIN_MAX 32
#define TC_HOOK_CNT 3
/* Most probes one interface entry runs: each is a program, a link and a directory of pins. */
#define PROBES_MAX 64

struct bpk_agent {
	char *state_dir;
	char *pin_root;
	const struct bpk_trust *trust;
	bool allow_unsigned;
	bool no_fuse;
	unsigned int timeout;
	char **repos;		/* --repo URLs */
	size_t repo_cnt;
	/* The repository client of the apply under way (a fresh index view per apply), or NULL. */
	struct bpk_repo_client *rc;
	struct agent_db *db;
	json_t *configs;	/* {iface: l3afd entry} */
	json_t *chains;		/* {iface: {hook: [stage...]}} */
	uint64_t applies;
	uint64_t apply_errors;
	uint64_t adopted;	/* stages re-adopted at open */
};

/* ---- small helpers ---- */

static const char *jstr(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static int64_t jint(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static bool has_dir(json_t *stages, const char *dir)
{
	json_t *rec;
	size_t i;

	json_array_foreach(stages, i, rec)
		if (!strcmp(jstr(rec, "dir"), dir))
			return true;
	return false;
}

static char *hook_dir(const struct bpk_agent *a, const char *iface, int hook)
{
	return xasprintf("%s/%s/%s", a->pin_root, iface, bpk_agent_hook__name(hook));
}

/* Remove a directory of pins (one level of subdirectories: maps/), then the directory. */
static void remove_pins(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		_cleanup_free_ char *p = NULL;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = path_join(dir, de->d_name);
		if (!p)
			continue;
		if (de->d_type == DT_DIR)
			remove_pins(p);
		else
			unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int pinned_prog_info(const char *dir, struct bpf_prog_info *info)
{
	_cleanup_free_ char *p = path_join(dir, "prog");
	__u32 len = sizeof(*info);
	int fd, err;

	if (!p)
		return -ENOMEM;
	err = bpk_chain__open_pinned(p, &fd);
	if (err)
		return err;
	memset(info, 0, sizeof(*info));
	err = bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
	close(fd);
	return err;
}

static int open_sub(const char *dir, const char *sub, const char *name, int *ret_fd)
{
	_cleanup_free_ char *p = name ? xasprintf("%s/%s/%s", dir, sub, name) : path_join(dir, sub);

	return p ? bpk_chain__open_pinned(p, ret_fd) : -ENOMEM;
}

/* Detach a stage's TCX link now (if it has one), then remove its pins. */
static void remove_stage(json_t *rec)
{
	const char *dir = jstr(rec, "dir");
	int fd;

	if (!dir[0])
		return;
	if (open_sub(dir, "link", NULL, &fd) == 0) {
		bpk_chain_link__detach(fd);
		close(fd);
	}
	remove_pins(dir);
}

/* ---- where a program comes from ---- */

struct artifact {
	char *data;		/* the ELF object */
	size_t size;
	char *raw;		/* what was downloaded, which data may point into */
	size_t raw_size;
	struct bpk_pkg *pkg;
	json_t *info;		/* package, version, signer, source, digest */
};

static void artifact_release(struct artifact *art)
{
	if (art->pkg)
		bpk_pkg__free(art->pkg);
	else if (art->data != art->raw)
		free(art->data);
	free(art->raw);
	json_decref(art->info);
	memset(art, 0, sizeof(*art));
}

struct dl {
	struct strbuf sb;
	size_t max;
};

static size_t dl_write(char *ptr, size_t size, size_t n, void *ctx)
{
	struct dl *d = ctx;

	if (d->sb.len + size * n > d->max || strbuf_add(&d->sb, ptr, size * n))
		return 0;
	return size * n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/*
 * The download cache (docs/spec/agent.md §3): STATE/cache/downloads/SHA256 holds bytes by
 * their digest, and STATE/cache/downloads/url-SHA256(URL).json {"url", "sha256", "etag",
 * "last_modified"} what the URL answered last. The digest of a URL's bytes cannot be known
 * before asking (l3afd gives none), so the server is asked whether they changed: a 304 to
 * If-None-Match / If-Modified-Since reuses the kept bytes, and nothing is downloaded.
 */
struct dl_cache {
	char *record;		/* the URL's record */
	char *dir;
	json_t *known;		/* the record read, if its bytes are kept and intact */
	char *data;		/* those bytes */
	size_t size;
};

static void dl_cache_release(struct dl_cache *dc)
{
	free(dc->record);
	free(dc->dir);
	json_decref(dc->known);
	free(dc->data);
}

static int dl_cache_open(const struct bpk_agent *a, const char *url, struct dl_cache *dc)
{
	_cleanup_free_ char *blob = NULL;
	char key[65], got[65];
	const char *sha;

	memset(dc, 0, sizeof(*dc));
	if (bpk_sha256_hex(url, strlen(url), key))
		return -ENOMEM;
	dc->dir = xasprintf("%s/cache/downloads", a->state_dir);
	dc->record = xasprintf("%s/cache/downloads/url-%s.json", a->state_dir, key);
	if (!dc->dir || !dc->record)
		return -ENOMEM;
	dc->known = json_load_file(dc->record, 0, NULL);
	sha = jstr(dc->known, "sha256");
	if (!dc->known || strcmp(jstr(dc->known, "url"), url) || strlen(sha) != 64 ||
	    strspn(sha, "0123456789abcdef") != 64)
		goto forget;
	blob = path_join(dc->dir, sha);
	if (!blob || read_file(blob, BPK_DEFAULT_MAX_COMPRESSED, &dc->data, &dc->size) ||
	    bpk_sha256_hex(dc->data, dc->size, got) || strcmp(got, sha))
		goto forget;
	return 0;
forget:
	json_decref(dc->known);
	free(dc->data);
	dc->known = NULL;
	dc->data = NULL;
	return 0;
}

/* Keep data as the URL's answer, when the server gave a validator to ask with next time. */
static void dl_cache_store(struct dl_cache *dc, const char *url, const char *data, size_t size,
			   const char *etag, const char *last_modified)
{
	_cleanup_free_ char *blob = NULL, *text = NULL;
	json_t *rec;
	char sha[65];

	if ((!etag && !last_modified) || bpk_sha256_hex(data, size, sha) || mkdir_p(dc->dir, 0700))
		return;
	blob = path_join(dc->dir, sha);
	rec = json_pack("{s:s, s:s, s:s?, s:s?}", "url", url, "sha256", sha, "etag", etag,
			"last_modified", last_modified);
	text = rec ? json_dumps(rec, JSON_SORT_KEYS) : NULL;
	json_decref(rec);
	if (blob && text && !write_file_atomic(blob, data, size, 0600))
		write_file_atomic(dc->record, text, strlen(text), 0600);
}

static const char *dl_header(CURL *c, const char *name)
{
	struct curl_header *h;

	return curl_easy_header(c, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK ? h->value : NULL;
}

static int download(const struct bpk_agent *a, const char *url, struct bpk_error *error,
		    const char *field, char **ret, size_t *ret_len, bool *ret_cached)
{
	struct dl d = { STRBUF_INIT, BPK_DEFAULT_MAX_COMPRESSED };
	_cleanup_free_ char *inm = NULL, *ims = NULL;
	struct curl_slist *headers = NULL;
	struct dl_cache dc;
	CURL *c;
	CURLcode rc;
	long status = 0;
	int err;

	err = dl_cache_open(a, url, &dc);
	if (err) {
		dl_cache_release(&dc);
		return err;
	}
	pthread_once(&curl_once, curl_init);
	c = curl_easy_init();
	if (!c) {
		dl_cache_release(&dc);
		return -ENOMEM;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)a->timeout);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)a->timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
	if (dc.known) {
		if (jstr(dc.known, "etag")[0])
			inm = xasprintf("If-None-Match: %s", jstr(dc.known, "etag"));
		if (jstr(dc.known, "last_modified")[0])
			ims = xasprintf("If-Modified-Since: %s", jstr(dc.known, "last_modified"));
		if (inm)
			headers = curl_slist_append(headers, inm);
		if (ims)
			headers = curl_slist_append(headers, ims);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && status == 304 && dc.known) {
		*ret = TAKE_PTR(dc.data);
		*ret_len = dc.size;
		*ret_cached = true;
	} else if (rc == CURLE_OK && status == 200) {
		dl_cache_store(&dc, url, d.sb.buf ?: "", d.sb.len, dl_header(c, "ETag"),
			       dl_header(c, "Last-Modified"));
		*ret = strbuf_detach(&d.sb, ret_len);
		*ret_cached = false;
	} else {
		bpk_error__set(error, NULL, field, "%s: cannot download '%s': %s", field, url,
			       rc != CURLE_OK ? curl_easy_strerror(rc) : "the server did not answer 200");
		err = status == 404 ? -ENOENT : -EIO;
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	strbuf_release(&d.sb);
	dl_cache_release(&dc);
	return err;
}

/* Read a location: a path, file://PATH, or http(s)://... */
static int fetch(const struct bpk_agent *a, const char *loc, struct bpk_error *error,
		 const char *field, char **ret, size_t *ret_len, bool *ret_cached)
{
	int err;

	if (str_has_prefix(loc, "http://") || str_has_prefix(loc, "https://"))
		return download(a, loc, error, field, ret, ret_len, ret_cached);
	if (str_has_prefix(loc, "file://"))
		loc += strlen("file://");
	if (loc[0] != '/') {
		bpk_error__set(error, NULL, field,
			       "%s: '%s' is neither an absolute path nor a file://, http:// or https:// URL",
			       field, loc);
		return -EINVAL;
	}
	err = read_file(loc, BPK_DEFAULT_MAX_COMPRESSED, ret, ret_len);
	if (err)
		bpk_error__set(error, NULL, field, "%s: cannot read '%s': %s", field, loc,
			       strerror(-err));
	return err;
}

/* The object file object_file (or the only *.o) of an l3afd .tar.gz / .zip artifact. */
static int from_archive(struct artifact *art, const char *object_file, struct bpk_error *error,
			const char *field)
{
	struct archive *ar = archive_read_new();
	struct archive_entry *e;
	const char *want = object_file[0] ? object_file : NULL;
	int err = -ENOENT, r;

	if (!ar)
		return -ENOMEM;
	archive_read_support_filter_all(ar);
	archive_read_support_format_tar(ar);
	archive_read_support_format_zip(ar);
	if (archive_read_open_memory(ar, art->raw, art->raw_size) != ARCHIVE_OK) {
		err = -EINVAL;
		goto out;
	}
	while ((r = archive_read_next_header(ar, &e)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e), *base;
		int64_t size = archive_entry_size(e);

		if (!path || archive_entry_filetype(e) != AE_IFREG)
			continue;
		base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		if (want ? strcmp(base, want) : !str_has_suffix(base, ".o"))
			continue;
		if (size < 0 || size > OBJECT_MAX) {
			err = -EFBIG;
			break;
		}
		art->data = malloc(size ? (size_t)size : 1);
		if (!art->data) {
			err = -ENOMEM;
			break;
		}
		art->size = (size_t)size;
		err = archive_read_data(ar, art->data, art->size) == (la_ssize_t)art->size ? 0 : -EIO;
		break;
	}
	if (r != ARCHIVE_OK && r != ARCHIVE_EOF)
		err = -EINVAL;
out:
	archive_read_free(ar);
	if (err) {
		free(art->data);
		art->data = NULL;
		bpk_error__set(error, NULL, field, "%s: the archive holds no usable '%s' (%s)", field,
			       want ?: "*.o", strerror(-err));
	}
	return err;
}

/* A verified .bpk: its signer and the object that holds the program. */
static int from_package(const struct bpk_agent *a, struct artifact *art,
			const struct bpk_agent_prog *p, const char *version, struct bpk_error *error,
			const char *field)
{
	BPK_OPTS(bpk_verify_opts, vopts, .allow_unsigned = a->allow_unsigned);
	struct bpk_verify_result *res = bpk_verify_result__new();
	struct bpk_diags diags = BPK_DIAGS_INIT;
	const struct bpk_manifest *man;
	const char *signer = "", *obj = NULL;
	size_t i;
	int err;

	if (!res)
		return -ENOMEM;
	err = bpk_verify__mem(art->raw, art->raw_size, a->trust, &vopts, res);
	if (err) {
		bpk_error__set(error, NULL, field, "%s: package '%s' refused: %s", field,
			       p->artifact,
			       err == -EKEYREJECTED ? bpk_verify_result__reason(res) : strerror(-err));
		bpk_verify_result__free(res);
		return err == -EKEYREJECTED ? err : -EKEYREJECTED;
	}
	for (i = 0; i < bpk_verify_result__signer_cnt(res); i++)
		if (bpk_verify_result__signer(res, i)->trusted) {
			signer = bpk_verify_result__signer(res, i)->keyid;
			break;
		}
	art->pkg = bpk_pkg__open_mem(art->raw, art->raw_size, NULL, &diags);
	bpk_diags__release(&diags);
	if (!art->pkg) {
		bpk_verify_result__free(res);
		return -EKEYREJECTED;
	}
	man = bpk_pkg__manifest(art->pkg);
	if (version[0] && strcmp(version, bpk_manifest__version(man))) {
		bpk_error__set(error, NULL, field, "%s.version: '%s', but '%s' is version %s", field,
			       version, p->artifact, bpk_manifest__version(man));
		bpk_verify_result__free(res);
		return -EINVAL;
	}
	for (i = 0; i < bpk_pkg__entry_cnt(art->pkg); i++) {
		const void *data;
		size_t size;
		const char *path = bpk_pkg__entry(art->pkg, i, &data, &size);

		if (!bpk_path_is_object(path))
			continue;
		if (p->object_file[0] && strcmp(path, p->object_file) &&
		    strcmp(path + strlen("bpf/"), p->object_file))
			continue;
		obj = path;
		art->data = (char *)data;
		art->size = size;
		break;
	}
	if (!obj) {
		bpk_error__set(error, NULL, field, "%s.object_file: package '%s' has no object '%s'",
			       field, bpk_manifest__name(man), p->object_file[0] ? p->object_file : "bpf/*.o");
		bpk_verify_result__free(res);
		return -ENOENT;
	}
	art->info = json_pack("{s:s, s:s, s:s?, s:s, s:b}", "package", bpk_manifest__name(man),
			      "version", bpk_manifest__version(man), "signer",
			      signer[0] ? signer : NULL, "object", obj, "signed", signer[0] != 0);
	bpk_verify_result__free(res);
	return art->info ? 0 : -ENOMEM;
}

/* ---- programs from bpk repositories ---- */

static bool same_url(const char *x, const char *y)
{
	size_t nx = strlen(x), ny = strlen(y);

	while (nx && x[nx - 1] == '/')
		nx--;
	while (ny && y[ny - 1] == '/')
		ny--;
	return nx == ny && !strncmp(x, y, nx);
}

/* A repository name for a --repo URL: its host and port, "127.0.0.1-8080". */
static char *repo_name_of(const char *url)
{
	const char *h = strstr(url, "://");
	char *name, *q;

	h = h ? h + 3 : url;
	name = strndup(h, strcspn(h, "/?#"));
	for (q = name; q && *q; q++) {
		*q = (char)(*q >= 'A' && *q <= 'Z' ? *q - 'A' + 'a' : *q);
		if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '.' ||
		      *q == '-'))
			*q = '-';
	}
	if (name && (!name[0] || name[0] == '.' || name[0] == '-' || strlen(name) > 64)) {
		free(name);
		name = strdup("repo");
	}
	return name;
}

/*
 * The repository client of this apply: STATE/repos.d, with every --repo URL that is not
 * configured there added (its root key trusted on first use and kept from then on).
 */
static int repo_client(struct bpk_agent *a, struct bpk_error *error,
		       struct bpk_repo_client **ret)
{
	_cleanup_free_ char *cache = NULL;
	size_t i, j;
	int err;

	if (a->rc) {
		*ret = a->rc;
		return 0;
	}
	cache = path_join(a->state_dir, "cache");
	if (!cache)
		return -ENOMEM;
	{
		BPK_OPTS(bpk_repo_client_opts, opts, .config_dir = a->state_dir,
			 .cache_dir = cache, .timeout = a->timeout);

		a->rc = bpk_repo_client__new(&opts);
	}
	if (!a->rc)
		return -errno;
	err = bpk_repo_client__load_config(a->rc);
	if (err) {
		bpk_error__set(error, NULL, NULL, "cannot read the repositories in %s/%s: %s",
			       a->state_dir, BPK_REPO_CONFIG_SUBDIR, bpk_repo_client__errstr(a->rc));
		goto fail;
	}
	for (i = 0; i < a->repo_cnt; i++) {
		_cleanup_free_ char *name = NULL;
		bool known = false;

		for (j = 0; j < bpk_repo_client__repo_cnt(a->rc); j++)
			known = known ||
				same_url(bpk_repo__url(bpk_repo_client__repo(a->rc, j)), a->repos[i]);
		if (known)
			continue;
		name = repo_name_of(a->repos[i]);
		if (!name) {
			err = -ENOMEM;
			goto fail;
		}
		err = bpk_repo_client__add(a->rc, name, a->repos[i], NULL, NULL);
		if (err == -EEXIST) {
			/* another URL already took the name: number this one */
			char *alt = xasprintf("%.56s-%zu", name, i);

			free(name);
			name = alt;
			err = name ? bpk_repo_client__add(a->rc, name, a->repos[i], NULL, NULL) : -ENOMEM;
		}
		if (err) {
			bpk_error__set(error, NULL, NULL, "cannot add the bpk repository '%s': %s",
				       a->repos[i], bpk_repo_client__errstr(a->rc));
			goto fail;
		}
		pr_warn("added repository '%s' (%s), its root key trusted on first use and pinned from now on\n",
			name, a->repos[i]);
	}
	*ret = a->rc;
	return 0;
fail:
	bpk_repo_client__free(a->rc);
	a->rc = NULL;
	return err == -ENOENT ? -EIO : err;
}

static bool is_l3afd_archive(const char *artifact)
{
	return str_has_suffix(artifact, ".tar.gz") || str_has_suffix(artifact, ".tgz") ||
	       str_has_suffix(artifact, ".zip") || str_has_suffix(artifact, ".o");
}

/*
 * Whether p names a package of a bpk repository (docs/spec/agent.md §3): its artifact is no
 * path, URL or l3afd archive, and ebpf_package_repo_url is empty or a configured repository's
 * URL. Returns 1 with *ret_repo (NULL: any repository), 0 (not a repository package) or -errno.
 */
static int repo_package(struct bpk_agent *a, const struct bpk_agent_prog *p, const char *field,
			struct bpk_error *error, const struct bpk_repo **ret_repo)
{
	const char *url = p->ebpf_package_repo_url;
	struct bpk_repo_client *rc = NULL;
	size_t i;
	int err;

	*ret_repo = NULL;
	if (strstr(p->artifact, "://") || p->artifact[0] == '/' || is_l3afd_archive(p->artifact))
		return 0;
	if (url[0]) {
		bool listed = false;

		/* Only --repo and repos.d URLs are bpk repositories; others keep l3afd's layout. */
		for (i = 0; i < a->repo_cnt; i++)
			listed = listed || same_url(a->repos[i], url);
		if (!listed) {
			_cleanup_free_ char *dir = path_join(a->state_dir, BPK_REPO_CONFIG_SUBDIR);
			struct stat st;

			if (!dir)
				return -ENOMEM;
			if (stat(dir, &st))
				return 0;
		}
	}
	err = repo_client(a, error, &rc);
	if (err)
		return err;
	if (!bpk_repo_client__repo_cnt(rc)) {
		if (url[0])
			return 0;
		bpk_error__set(error, NULL, field,
			       "%s: '%s' names no path or URL, so it is a bpk package, but no bpk repository is configured (bpkd --repo URL)",
			       field, p->artifact[0] ? p->artifact : p->name);
		return -EINVAL;
	}
	if (!url[0])
		return 1;
	for (i = 0; i < bpk_repo_client__repo_cnt(rc); i++)
		if (same_url(bpk_repo__url(bpk_repo_client__repo(rc, i)), url)) {
			*ret_repo = bpk_repo_client__repo(rc, i);
			return 1;
		}
	return 0;
}

/* NAME or NAME@RANGE of a repository package: artifact without ".bpk", else name. */
static char *repo_spec(const struct bpk_agent_prog *p)
{
	const char *n = p->artifact[0] ? p->artifact : p->name;
	size_t len = strlen(n) - (str_has_suffix(n, ".bpk") ? 4 : 0);

	return p->version[0] ? xasprintf("%.*s@%s", (int)len, n, p->version)
			     : xasprintf("%.*s", (int)len, n);
}

static int repo_error(struct bpk_agent *a, int err, const char *spec, const char *field,
		      struct bpk_error *error)
{
	bpk_error__set(error, NULL, field, "%s: cannot resolve the bpk package '%s': %s", field,
		       spec, bpk_repo_client__errstr(a->rc));
	return err == -EINVAL || err == -ENOENT || err == -EKEYREJECTED ? err : -EIO;
}

/*
 * The version and digest p resolves to now, for its stage identity: a new version in range
 * is a new stage. "" when p is not a repository package. Caller frees; NULL on error.
 */
static char *repo_identity(struct bpk_agent *a, const struct bpk_agent_prog *p,
			   const char *field, struct bpk_error *error, int *ret_err)
{
	_cleanup_free_ char *spec = NULL;
	const struct bpk_repo *repo, *chosen;
	struct bpk_index_target t;
	int err;

	err = repo_package(a, p, field, error, &repo);
	if (err <= 0) {
		*ret_err = err;
		return err ? NULL : strdup("");
	}
	spec = repo_spec(p);
	if (!spec) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	if (!bpk_repo_spec__valid(spec)) {
		bpk_error__set(error, NULL, field,
			       "%s: '%s' is not a bpk package name with a SemVer range in version",
			       field, spec);
		*ret_err = -EINVAL;
		return NULL;
	}
	err = bpk_repo_client__resolve(a->rc, repo, spec, &chosen, &t);
	if (err) {
		*ret_err = repo_error(a, err, spec, field, error);
		return NULL;
	}
	return xasprintf("%s|%s@%s|%s", bpk_repo__name(chosen), t.name, t.version, t.sha256);
}

/*
 * A package from a bpk repository: the index chain verified, the package checked against the
 * index (size, SHA-256) and the trust policy, taken from STATE/cache/packages/ when a copy
 * there matches (no download), then opened as any .bpk.
 */
static int from_repo(struct bpk_agent *a, const struct bpk_agent_prog *p,
		     const struct bpk_repo *repo, const char *field, struct bpk_error *error,
		     struct artifact *art, char **ret_loc)
{
	BPK_OPTS(bpk_repo_fetch_opts, fopts, .trust = a->trust,
		 .allow_unsigned = a->allow_unsigned);
	_cleanup_free_ char *spec = repo_spec(p), *dir = path_join(a->state_dir, "fetch");
	_cleanup_free_ char *loc = NULL, *version = NULL;
	struct bpk_verify_result *res = bpk_verify_result__new();
	struct bpk_repo_fetched got;
	int err;

	if (!spec || !dir || !res) {
		bpk_verify_result__free(res);
		return -ENOMEM;
	}
	fopts.result = res;
	err = bpk_repo_client__fetch(a->rc, repo, spec, dir, &fopts, &got);
	if (err == -EKEYREJECTED) {
		bpk_error__set(error, NULL, field, "%s: package '%s' refused: %s", field, spec,
			       bpk_verify_result__reason(res) ?: bpk_repo_client__errstr(a->rc));
	} else if (err == -EBADMSG) {
		bpk_error__set(error, NULL, field, "%s: package '%s' refused: %s", field, spec,
			       bpk_repo_client__errstr(a->rc));
		err = -EKEYREJECTED;
	} else if (err) {
		err = repo_error(a, err, spec, field, error);
	}
	bpk_verify_result__free(res);
	if (err)
		return err;
	loc = xasprintf("%s/v1/packages/%s/%s/package.bpk", bpk_repo__url(got.repo),
			got.target.name, got.target.version);
	version = strdup(got.target.version);
	if (!loc || !version) {
		unlink(got.path);
		return -ENOMEM;
	}
	err = read_file(got.path, BPK_DEFAULT_MAX_COMPRESSED, &art->raw, &art->raw_size);
	unlink(got.path);
	if (err) {
		bpk_error__set(error, NULL, field, "%s: cannot read the fetched '%s': %s", field,
			       spec, strerror(-err));
		return err;
	}
	err = from_package(a, art, p, version, error, field);
	if (err)
		return err;
	json_object_set_new(art->info, "digest", json_string(got.target.sha256));
	json_object_set_new(art->info, "repo", json_string(bpk_repo__name(got.repo)));
	json_object_set_new(art->info, "from_cache", json_boolean(got.from_cache));
	*ret_loc = TAKE_PTR(loc);
	return 0;
}

/*
 * Where p's artifact is: an absolute path or URL in artifact, or l3afd's layout
 * {ebpf_package_repo_url}/{name}/{version}/{platform}/{artifact}.
 */
static char *locate(const struct bpk_agent_prog *p)
{
	const char *url = p->ebpf_package_repo_url;
	size_t n = strlen(url);

	if (strstr(p->artifact, "://") || p->artifact[0] == '/')
		return strdup(p->artifact);
	while (n && url[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s/%s/linux/%s", (int)n, url, p->name, p->version, p->artifact);
}

static int resolve(struct bpk_agent *a, const struct bpk_agent_prog *p, const char *field,
		   struct bpk_error *error, struct artifact *art, char **ret_loc)
{
	_cleanup_free_ char *loc = NULL;
	const struct bpk_repo *repo;
	bool cached = false;
	int err;

	err = repo_package(a, p, field, error, &repo);
	if (err < 0)
		return err;
	if (err)
		return from_repo(a, p, repo, field, error, art, ret_loc);
	if (!p->artifact[0]) {
		bpk_error__set(error, NULL, field, "%s.artifact: required", field);
		return -EINVAL;
	}
	/* Refused before anything is downloaded. */
	if (!str_has_suffix(p->artifact, ".bpk") && !a->allow_unsigned) {
		bpk_error__set(error, NULL, field,
			       "%s: '%s' is not a bpk package, so nothing vouches for it; bpkd runs such artifacts only with --allow-unsigned",
			       field, p->artifact);
		return -EKEYREJECTED;
	}
	if (!strstr(p->artifact, "://") && p->artifact[0] != '/' && !p->ebpf_package_repo_url[0]) {
		bpk_error__set(error, NULL, field,
			       "%s: artifact '%s' is not a path or URL, and ebpf_package_repo_url is empty",
			       field, p->artifact);
		return -EINVAL;
	}
	loc = locate(p);
	if (!loc)
		return -ENOMEM;
	err = fetch(a, loc, error, field, &art->raw, &art->raw_size, &cached);
	if (err)
		return err;
	if (str_has_suffix(p->artifact, ".bpk")) {
		err = from_package(a, art, p, p->version, error, field);
	} else if (art->raw_size >= 4 && !memcmp(art->raw, "\177ELF", 4)) {
		art->data = art->raw;
		art->size = art->raw_size;
	} else {
		err = from_archive(art, p->object_file, error, field);
	}
	if (!err && !art->info)
		art->info = json_pack("{s:s, s:s, s:n, s:s, s:b}", "package", p->name, "version",
				      p->version, "signer", "object",
				      p->object_file[0] ? p->object_file : p->artifact, "signed", 0);
	if (!err && !art->info)
		err = -ENOMEM;
	if (!err && cached)
		json_object_set_new(art->info, "from_cache", json_true());
	if (!err)
		*ret_loc = TAKE_PTR(loc);
	return err;
}

/* ---- loading one stage ---- */

/* Whether libbpf can attach a program of section sec by itself (bpf_program__attach). */
static bool probe_section(const char *sec)
{
	static const char *const prefixes[] = { "kprobe/", "kretprobe/", "tracepoint/", "tp/",
						"raw_tp/", "raw_tracepoint/" };
	size_t i;

	for (i = 0; sec && i < ARRAY_SIZE(prefixes); i++)
		if (str_has_prefix(sec, prefixes[i]) && sec[strlen(prefixes[i])])
			return true;
	return false;
}

static bool fits_hook(struct bpf_program *prog, int hook)
{
	enum bpf_prog_type t = bpf_program__type(prog);

	switch (hook) {
	case BPK_AGENT_HOOK_XDP_INGRESS:
		return t == BPF_PROG_TYPE_XDP;
	case BPK_AGENT_HOOK_PROBES:
		return (t == BPF_PROG_TYPE_KPROBE || t == BPF_PROG_TYPE_TRACEPOINT ||
			t == BPF_PROG_TYPE_RAW_TRACEPOINT) &&
		       probe_section(bpf_program__section_name(prog));
	default:
		return t == BPF_PROG_TYPE_SCHED_CLS;
	}
}

/* Write map_args into the maps pinned in dir/maps/. */
static int write_map_args(const char *dir, json_t *map_args, const char *field,
			  struct bpk_error *error)
{
	json_t *m, *kv;
	size_t i, j;

	json_array_foreach(map_args, i, m) {
		const char *name = jstr(m, "name");
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		int fd, err;

		err = open_sub(dir, "maps", name, &fd);
		if (err) {
			bpk_error__set(error, NULL, field, "%s.map_args[%zu].name: the program has no map '%s'",
				       field, i, name);
			return err == -ENOENT ? -EINVAL : err;
		}
		err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
		if (!err && info.type != BPF_MAP_TYPE_ARRAY && info.type != BPF_MAP_TYPE_HASH &&
		    info.type != BPF_MAP_TYPE_LRU_HASH) {
			bpk_error__set(error, NULL, field,
				       "%s.map_args[%zu].name: map '%s' is not an array or hash map (type %u)",
				       field, i, name, info.type);
			err = -EINVAL;
		}
		json_array_foreach(json_object_get(m, "args"), j, kv) {
			unsigned char key[8], value[8];
			uint64_t k = (uint64_t)jint(kv, "key"), v = (uint64_t)jint(kv, "value");

			if (err)
				break;
			if (bpk_agent_map_arg__encode(k, info.key_size, key) ||
			    bpk_agent_map_arg__encode(v, info.value_size, value)) {
				bpk_error__set(error, NULL, field,
					       "%s.map_args[%zu].args[%zu]: %" PRIu64 " -> %" PRIu64 " does not fit map '%s' (key %u bytes, value %u bytes; bpkd writes integers of 1, 2, 4 or 8 bytes)",
					       field, i, j, k, v, name, info.key_size, info.value_size);
				err = -EINVAL;
				break;
			}
			if (bpf_map_update_elem(fd, key, value, BPF_ANY)) {
				err = -errno;
				bpk_error__set(error, NULL, field,
					       "%s.map_args[%zu].args[%zu]: cannot write map '%s': %s",
					       field, i, j, name, strerror(-err));
			}
		}
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

/* Write back the map_args of stages (a rolled-back apply may have rewritten kept stages'). */
static void rewrite_map_args(json_t *stages)
{
	struct bpk_error ignored = BPK_ERROR_INIT;
	json_t *rec;
	size_t i;

	json_array_foreach(stages, i, rec)
		if (jstr(rec, "dir")[0])
			write_map_args(jstr(rec, "dir"), json_object_get(rec, "map_args"), "", &ignored);
	bpk_error__release(&ignored);
}

/* map_args of p as the stage record keeps them: [{"name", "args": [{"key", "value"}]}]. */
static json_t *map_args_json(const struct bpk_agent_prog *p)
{
	json_t *arr = json_array(), *args;
	size_t i, j;

	for (i = 0; arr && i < p->map_arg_cnt; i++) {
		args = json_array();
		for (j = 0; args && j < p->map_args[i].arg_cnt; j++)
			json_array_append_new(args, json_pack("{s:I, s:I}", "key",
							      (json_int_t)p->map_args[i].args[j].key,
							      "value",
							      (json_int_t)p->map_args[i].args[j].value));
		if (!args || json_array_append_new(arr, json_pack("{s:s, s:o}", "name",
								  p->map_args[i].name, "args", args)))
			goto fail;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

static json_t *monitor_maps_json(const struct bpk_agent_prog *p)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < p->monitor_map_cnt; i++)
		if (json_array_append_new(arr, json_pack("{s:s, s:I, s:s}", "name",
							 p->monitor_maps[i].name, "key",
							 (json_int_t)p->monitor_maps[i].key,
							 "aggregator", p->monitor_maps[i].aggregator))) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

/*
 * Load the program of art into dir: dir/prog, dir/maps/NAME. Fills rec's kernel fields. With
 * ret_obj (probes) the object stays open for bpf_program__attach at the switch: *ret_obj.
 */
static int load_stage(const struct bpk_agent_prog *p, int hook, const struct artifact *art,
		      const char *dir, const char *field, struct bpk_error *error, json_t *rec,
		      struct bpf_object **ret_obj)
{
	_cleanup_free_ char *log = calloc(1, LOG_SIZE), *obj_name = NULL, *prog_pin = NULL;
	struct bpf_program *prog, *chosen = NULL;
	struct bpf_prog_info info = { 0 };
	__u32 info_len = sizeof(info);
	const char *next_map = "";
	struct bpf_object *obj;
	libbpf_print_fn_t old_print;
	struct bpf_map *map;
	int err = 0, prog_arrays = 0;

	obj_name = strndup(p->name, 15);
	prog_pin = path_join(dir, "prog");
	if (!log || !obj_name || !prog_pin)
		return -ENOMEM;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = obj_name,
		    .kernel_log_buf = log, .kernel_log_size = LOG_SIZE, .kernel_log_level = 0);
	old_print = bpk_libbpf_print_begin(bpk_libbpf_print_debug);
	obj = bpf_object__open_mem(art->data, art->size, &open_opts);
	if (!obj) {
		err = -errno;
		bpk_error__set(error, NULL, field, "%s: libbpf cannot open the object: %s", field,
			       strerror(-err));
		goto out_print;
	}
	bpf_object__for_each_program(prog, obj) {
		bool want = p->entry_function_name[0]
				    ? !strcmp(bpf_program__name(prog), p->entry_function_name)
				    : fits_hook(prog, hook);

		if (want && !chosen)
			chosen = prog;
		else
			bpf_program__set_autoload(prog, false);
	}
	if (!chosen || !fits_hook(chosen, hook)) {
		bpk_error__set(error, NULL, field,
			       chosen ? "%s: program '%s' is not of the type %s needs"
				      : "%s: the object has no program '%s' of the type %s needs",
			       field, chosen ? bpf_program__name(chosen) : p->entry_function_name,
			       hook == BPK_AGENT_HOOK_PROBES
				       ? "probes (a kprobe/, kretprobe/, tracepoint/, tp/ or raw_tp/ section naming its target)"
				       : bpk_agent_hook__name(hook));
		err = -EINVAL;
		goto out;
	}
	/* DESIGN.md §4: refuse what cannot run here with the check's reason, before loading. */
	err = bpk_check__before_load(art->data, art->size,
				     art->pkg ? bpk_pkg__manifest(art->pkg) : NULL,
				     bpf_program__name(chosen), field, error);
	if (err)
		goto out;
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_PROG_ARRAY)
			continue;
		prog_arrays++;
		if (p->map_name[0] ? !strcmp(bpf_map__name(map), p->map_name) : prog_arrays == 1)
			next_map = bpf_map__name(map);
	}
	if (p->map_name[0] && !next_map[0]) {
		bpk_error__set(error, NULL, field, "%s.map_name: the object has no program array '%s'",
			       field, p->map_name);
		err = -EINVAL;
		goto out;
	}
	if (!p->map_name[0] && prog_arrays > 1)
		next_map = "";
	if (bpf_object__load(obj)) {
		err = -errno;
		bpk_error__set(error, NULL, field, "%s: the kernel refused program '%s' (%s)%s%s",
			       field, bpf_program__name(chosen), strerror(-err),
			       log[0] ? "; verifier log ends:\n" : "",
			       log[0] ? bpk_log_tail(log, 6) : "");
		err = -ENOEXEC;
		goto out;
	}
	bpf_object__for_each_map(map, obj) {
		_cleanup_free_ char *mp = NULL;

		/*
		 * libbpf's internal maps (.rodata, .bss, ...) live as long as the program; their
		 * names hold a '.', which bpffs refuses, and map_args never name them.
		 */
		if (bpf_map__is_pinned(map) || bpf_map__is_internal(map))
			continue;
		mp = xasprintf("%s/maps/%s", dir, bpf_map__name(map));
		err = mp ? bpk_chain__pin(bpf_map__fd(map), mp) : -ENOMEM;
		if (err) {
			bpk_error__set(error, NULL, field, "%s: cannot pin map '%s' in %s: %s", field,
				       bpf_map__name(map), dir, strerror(-err));
			goto out;
		}
	}
	err = bpk_chain__pin(bpf_program__fd(chosen), prog_pin);
	if (err) {
		bpk_error__set(error, NULL, field, "%s: cannot pin the program in %s: %s", field, dir,
			       strerror(-err));
		goto out;
	}
	if (bpf_obj_get_info_by_fd(bpf_program__fd(chosen), &info, &info_len) == 0)
		json_object_set_new(rec, "prog_id", json_integer(info.id));
	json_object_set_new(rec, "prog", json_string(bpf_program__name(chosen)));
	json_object_set_new(rec, "map_name", json_string(next_map));
	if (hook == BPK_AGENT_HOOK_PROBES)
		json_object_set_new(rec, "section", json_string(bpf_program__section_name(chosen)));
	if (ret_obj) {
		*ret_obj = TAKE_PTR(obj);
		goto out_print;
	}
out:
	/* The pins hold the program and its maps (program arrays included) from here on. */
	bpf_object__close(obj);
out_print:
	bpk_libbpf_print_end(old_print);
	return err;
}

/* ---- chains ---- */

static json_t *cur_chain(const struct bpk_agent *a, const char *iface, int hook)
{
	return json_object_get(json_object_get(a->chains, iface), bpk_agent_hook__name(hook));
}

static char *identity(const struct bpk_agent_prog *p)
{
	return xasprintf("%s|%s|%s|%s|%s|%s|%s", p->name, p->version, p->artifact,
			 p->ebpf_package_repo_url, p->object_file, p->entry_function_name,
			 p->map_name);
}

/* The plan for one hook: keep prefix cur[0..p) and suffix, load the middle of want. */
struct plan {
	json_t *cur;	/* borrowed: what runs (may be NULL) */
	json_t *want;	/* the new stage records, in order */
	size_t cur_cnt, want_cnt, p, s;
	bool loaded[XDP_CHAIN_MAX * 2 + 64];
	bool attached[XDP_CHAIN_MAX * 2 + 64];
	/* want[i] is a stage of cur (chains: the prefix and suffix; probes: same identity) */
	bool kept[XDP_CHAIN_MAX * 2 + 64];
	/*
	 * The objects loaded: probes', open until their programs are attached; the chains', until
	 * they are fused.
	 */
	struct bpf_object *objs[PROBES_MAX];
	bool root_created;
	/* Fused chains (xdp_ingress, tc_*; docs/spec/agent.md §4) */
	bool was_fused;		/* cur runs fused */
	bool fused;		/* want runs fused */
	bool changed;		/* want is not cur: other stages or another order */
	int fused_fd;		/* the new fused program, -1 */
	bool link_created;	/* HOOK/link made by this apply */
	bool link_updated;	/* HOOK/link pointed at another program by this apply */
};

static int prog_fd_of(json_t *rec, int *ret_fd)
{
	return open_sub(jstr(rec, "dir"), "prog", NULL, ret_fd);
}

static int next_array_fd(json_t *rec, int *ret_fd)
{
	const char *m = jstr(rec, "map_name");

	return m[0] ? open_sub(jstr(rec, "dir"), "maps", m, ret_fd) : -ENOENT;
}

/* Fill slot 0 of rec's program array with next (NULL: empty). */
static int link_to(json_t *rec, json_t *next, struct bpk_error *error)
{
	int arr, fd, err;

	err = next_array_fd(rec, &arr);
	if (err == -ENOENT && !next)
		return 0;
	if (err) {
		bpk_error__set(error, NULL, "map_name",
			       "xdp_ingress: '%s' has no program array (map_name) to pass packets on to '%s'",
			       jstr(rec, "name"), jstr(next, "name"));
		return -EINVAL;
	}
	if (!next) {
		err = bpk_prog_array__clear(arr, 0);
	} else {
		err = prog_fd_of(next, &fd);
		if (!err) {
			err = bpk_prog_array__set(arr, 0, fd);
			close(fd);
		}
		if (err)
			bpk_error__set(error, NULL, "map_name",
				       "xdp_ingress: cannot chain '%s' after '%s': %s",
				       jstr(next, "name"), jstr(rec, "name"), strerror(-err));
	}
	close(arr);
	return err;
}

/* Ids of the XDP chain as the kernel runs it: root slot 0, then each stage's slot 0. */
static size_t xdp_live_ids(const char *hdir, json_t *stages, uint32_t *ids, size_t max)
{
	struct bpk_xdp_root root;
	uint32_t id;
	size_t n = 0, i;
	json_t *rec;
	int fd;

	if (bpk_xdp_root__open_pinned(hdir, &root))
		return 0;
	if (bpk_prog_array__get(root.array_fd, 0, &id) == 0) {
		ids[n++] = id;
		while (n < max) {
			json_t *found = NULL;

			json_array_foreach(stages, i, rec)
				if ((uint32_t)jint(rec, "prog_id") == id)
					found = rec;
			if (!found || next_array_fd(found, &fd))
				break;
			if (bpk_prog_array__get(fd, 0, &id) == 0)
				ids[n++] = id;
			else
				id = 0;
			close(fd);
			if (!id)
				break;
		}
	}
	bpk_xdp_root__release(&root);
	return n;
}

static int tcx_attach_after(json_t *rec, int ifindex, int hook, json_t *before, json_t *after,
			    struct bpk_error *error)
{
	BPK_OPTS(bpk_tcx_opts, opts);
	struct bpk_chain_link_info li;
	_cleanup_free_ char *lp = path_join(jstr(rec, "dir"), "link");
	int fd, link, err;

	if (!lp)
		return -ENOMEM;
	if (after) {
		opts.flags = BPK_TCX_F_AFTER | BPK_TCX_F_LINK;
		opts.relative_id = (uint32_t)jint(after, "link_id");
	} else if (before) {
		opts.flags = BPK_TCX_F_BEFORE | BPK_TCX_F_LINK;
		opts.relative_id = (uint32_t)jint(before, "link_id");
	}
	err = prog_fd_of(rec, &fd);
	if (err)
		return err;
	err = bpk_tcx__attach(fd, ifindex, (enum bpk_chain_hook)hook, &opts, &link);
	close(fd);
	if (err) {
		bpk_error__set(error, NULL, bpk_agent_hook__name(hook),
			       "%s: cannot attach '%s': %s", bpk_agent_hook__name(hook),
			       jstr(rec, "name"), strerror(-err));
		return err;
	}
	err = bpk_chain__pin(link, lp);
	if (!err && bpk_chain_link__info(link, &li) == 0)
		json_object_set_new(rec, "link_id", json_integer(li.link_id));
	if (err)
		bpk_chain_link__detach(link);
	close(link);
	return err;
}

static void plan_release(struct plan *pl, bool undo)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pl->objs); i++) {
		bpf_object__close(pl->objs[i]);
		pl->objs[i] = NULL;
	}
	if (pl->fused_fd >= 0)
		close(pl->fused_fd);
	pl->fused_fd = -1;
	if (undo && pl->want)
		for (i = 0; i < pl->want_cnt; i++)
			if (pl->loaded[i])
				remove_stage(json_array_get(pl->want, i));
	json_decref(pl->want);
	pl->want = NULL;
}

/* ---- fused chains (docs/spec/agent.md §4, docs/spec/fuse.md) ---- */

#define MECHANISM_FUSED "fused"
/* The fused program's directory under the hook's: HOOK/fused@STAMP/prog. */
#define FUSED_DIR_PREFIX "fused@"
/* The program label of a fused chain's runs in /metrics: no stage runs on its own. */
#define FUSED_PROGRAM_LABEL "(fused)"

static bool fusable_hook(const struct bpk_agent *a, int hook)
{
	return !a->no_fuse && (hook == BPK_AGENT_HOOK_XDP_INGRESS ||
			       hook == BPK_AGENT_HOOK_TC_INGRESS || hook == BPK_AGENT_HOOK_TC_EGRESS);
}

static const char *portable_mechanism(int hook)
{
	return hook == BPK_AGENT_HOOK_XDP_INGRESS ? "tail_call" : "tcx";
}

/*
 * How a hook's chain runs, kept in each of its stage records as "chain": {"mechanism",
 * "fused_dir", "inlined"} or {"mechanism", "reason"}. Borrowed; NULL for records from before.
 */
static json_t *chain_meta(json_t *stages)
{
	return json_object_get(json_array_get(stages, 0), "chain");
}

static bool chain_fused(json_t *stages)
{
	return json_array_size(stages) &&
	       !strcmp(jstr(chain_meta(stages), "mechanism"), MECHANISM_FUSED);
}

static const char *fused_dir(json_t *stages)
{
	return chain_fused(stages) ? jstr(chain_meta(stages), "fused_dir") : "";
}

/* STATE/objects/SHA256.o: a stage's object, kept to fuse it again after a restart. */
static char *object_path(const struct bpk_agent *a, const char *sha)
{
	return xasprintf("%s/objects/%s.o", a->state_dir, sha);
}

static void object_save(const struct bpk_agent *a, const struct artifact *art, json_t *rec)
{
	_cleanup_free_ char *dir = xasprintf("%s/objects", a->state_dir), *path = NULL;
	char sha[65];

	if (!dir || bpk_sha256_hex(art->data, art->size, sha) || mkdir_p(dir, 0700))
		return;
	path = object_path(a, sha);
	/* Content-addressed: what is there already is these bytes. */
	if (path && (!access(path, F_OK) || !write_file_atomic(path, art->data, art->size, 0600)))
		json_object_set_new(rec, "object_sha256", json_string(sha));
}

/*
 * Open a kept stage's object again, as load_stage() loaded it, over the maps it has: the
 * pinned ones by path, libbpf's internal ones (.bss, .data, .rodata) from its program. Its
 * program is verified again; the maps' contents stay.
 */
/* Read the object a stage was loaded from, kept in STATE/objects; reason says why not. */
static int object_read(const struct bpk_agent *a, json_t *rec, char **ret_data, size_t *ret_size,
		       char *reason, size_t reason_size)
{
	_cleanup_free_ char *path = NULL;
	int err;

	if (!jstr(rec, "object_sha256")[0]) {
		snprintf(reason, reason_size, "'%s' was loaded by a bpkd that kept no copy of its object; apply it again to fuse",
			 jstr(rec, "name"));
		return -ENOENT;
	}
	path = object_path(a, jstr(rec, "object_sha256"));
	if (!path)
		return -ENOMEM;
	err = read_file(path, OBJECT_MAX, ret_data, ret_size);
	if (err)
		snprintf(reason, reason_size, "cannot reopen '%s' to fuse it: '%s': %s",
			 jstr(rec, "name"), path, strerror(-err));
	return err;
}

static int stage_reopen(json_t *rec, const char *data, size_t size, struct bpf_object **ret_obj,
			char *reason, size_t reason_size)
{
	_cleanup_free_ char *obj_name = NULL;
	_cleanup_free_ __u32 *map_ids = NULL;
	const char *dir = jstr(rec, "dir");
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), i;
	libbpf_print_fn_t old_print;
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *map;
	int prog_fd, err;

	obj_name = strndup(jstr(rec, "name"), 15);
	if (!obj_name)
		return -ENOMEM;
	err = prog_fd_of(rec, &prog_fd);
	if (err) {
		snprintf(reason, reason_size, "cannot reopen '%s' to fuse it: its program '%s/prog': %s",
			 jstr(rec, "name"), dir, strerror(-err));
		return err;
	}
	/* The ids of the maps the running program uses: its internal maps among them. */
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0 && info.nr_map_ids) {
		map_ids = calloc(info.nr_map_ids, sizeof(*map_ids));
		len = sizeof(info);
		info = (struct bpf_prog_info){ .nr_map_ids = info.nr_map_ids,
					       .map_ids = (__u64)(uintptr_t)map_ids };
		if (!map_ids || bpf_obj_get_info_by_fd(prog_fd, &info, &len))
			info.nr_map_ids = 0;
	}
	close(prog_fd);

	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = obj_name);
	old_print = bpk_libbpf_print_begin(bpk_libbpf_print_debug);
	obj = bpf_object__open_mem(data, size, &open_opts);
	if (!obj) {
		err = -errno;
		bpk_libbpf_print_end(old_print);
		snprintf(reason, reason_size, "cannot reopen '%s' to fuse it: %s", jstr(rec, "name"),
			 strerror(-err));
		return err;
	}
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), jstr(rec, "prog")));
	bpf_object__for_each_map(map, obj) {
		if (err || bpf_map__is_pinned(map) || bpf_map__pin_path(map))
			continue;
		if (!bpf_map__is_internal(map)) {
			_cleanup_free_ char *mp = xasprintf("%s/maps/%s", dir, bpf_map__name(map));

			err = mp ? bpf_map__set_pin_path(map, mp) : -ENOMEM;
			continue;
		}
		for (i = 0; i < info.nr_map_ids; i++) {
			struct bpf_map_info mi = { 0 };
			__u32 mlen = sizeof(mi);
			int fd = bpf_map_get_fd_by_id(map_ids[i]);

			if (fd < 0)
				continue;
			if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) &&
			    !strncmp(mi.name, bpf_map__name(map), sizeof(mi.name) - 1))
				err = bpf_map__reuse_fd(map, fd);
			close(fd);
		}
	}
	if (!err && bpf_object__load(obj))
		err = -errno;
	bpk_libbpf_print_end(old_print);
	if (err) {
		snprintf(reason, reason_size, "cannot reload '%s' over its maps to fuse it: %s",
			 jstr(rec, "name"), strerror(-err));
		bpf_object__close(obj);
		return err;
	}
	*ret_obj = obj;
	return 0;
}

/*
 * Fuse want into one program pinned in HOOK/fused@STAMP/prog: pl->fused_fd, *ret_dir,
 * whether the stages were inlined and whether it has their BTF. Otherwise reason says why not.
 */
static int fuse_build(const struct bpk_agent *a, const char *hdir, int hook, struct plan *pl,
		      char *reason, size_t reason_size, char **ret_dir, bool *ret_inlined,
		      bool *ret_btf)
{
	struct bpf_object *reopened[XDP_CHAIN_MAX * 2 + 64] = { 0 };
	struct bpk_fuse_stage stages[XDP_CHAIN_MAX * 2 + 64];
	char *objects[XDP_CHAIN_MAX * 2 + 64] = { 0 };
	size_t object_sizes[XDP_CHAIN_MAX * 2 + 64] = { 0 };
	_cleanup_free_ char *dir = NULL, *pin = NULL, *name = NULL;
	struct timespec ts;
	size_t i;
	int err = 0, fd = -1;

	if (pl->want_cnt > ARRAY_SIZE(stages))
		return -E2BIG;
	for (i = 0; !err && i < pl->want_cnt; i++) {
		json_t *rec = json_array_get(pl->want, i);
		struct bpf_object *obj = i < ARRAY_SIZE(pl->objs) ? pl->objs[i] : NULL;

		/*
		 * Its object: a kept stage is reloaded from it, and with every stage's the fused
		 * program has their BTF and source lines (a new stage fuses without).
		 */
		int read_err = object_read(a, rec, &objects[i], &object_sizes[i], reason,
					   reason_size);

		if (!obj) {
			err = read_err ?: stage_reopen(rec, objects[i], object_sizes[i], &reopened[i],
						       reason, reason_size);
			obj = reopened[i];
		}
		stages[i] = (struct bpk_fuse_stage){
			.prog = obj ? bpf_object__find_program_by_name(obj, jstr(rec, "prog")) : NULL,
			.object = objects[i],
			.object_size = object_sizes[i],
			/* TCX's verdicts, as the portable mechanism runs them: TCX_NEXT hands on. */
			.continue_on = hook == BPK_AGENT_HOOK_XDP_INGRESS
					       ? 0
					       : BPK_FUSE_VERDICT(TC_ACT_UNSPEC),
		};
	}
	if (!err) {
		name = xasprintf("bpk_%s", bpk_agent_hook__name(hook));
		LIBBPF_OPTS(bpk_fuse_opts, opts, .name = name, .reason = reason,
			    .reason_size = reason_size);
		err = name ? bpk_fuse__load(stages, pl->want_cnt, &opts, &fd) : -ENOMEM;
		*ret_inlined = opts.inlined;
		*ret_btf = opts.btf;
	}
	for (i = 0; i < ARRAY_SIZE(reopened); i++) {
		bpf_object__close(reopened[i]);
		free(objects[i]);
	}
	if (err)
		return err;
	clock_gettime(CLOCK_REALTIME, &ts);
	dir = xasprintf("%s/" FUSED_DIR_PREFIX "%llx%09ld", hdir, (unsigned long long)ts.tv_sec,
			ts.tv_nsec);
	pin = dir ? path_join(dir, "prog") : NULL;
	err = pin ? bpk_chain__pin(fd, pin) : -ENOMEM;
	if (err) {
		snprintf(reason, reason_size, "cannot pin the fused program in %s: %s", dir ?: hdir,
			 strerror(-err));
		close(fd);
		return err;
	}
	pl->fused_fd = fd;
	*ret_dir = TAKE_PTR(dir);
	return 0;
}

/*
 * Decide how the hook's new chain runs: as it did when it does not change; fused when every
 * stage fuses; else the portable way, the reason logged and kept for the status.
 */
static int fuse_plan(struct bpk_agent *a, const char *iface, int hook, struct plan *pl)
{
	_cleanup_free_ char *hdir = hook_dir(a, iface, hook), *dir = NULL;
	_cleanup_json_ json_t *meta = NULL;
	char reason[512] = "";
	bool inlined = false, btf = false;
	size_t i;

	pl->was_fused = chain_fused(pl->cur);
	pl->changed = pl->p != pl->want_cnt || pl->cur_cnt != pl->want_cnt;
	if (hook == BPK_AGENT_HOOK_PROBES || !pl->want_cnt)
		return 0;
	if (!pl->changed) {
		/* The kept records carry the chain's record over. */
		pl->fused = pl->was_fused;
		return 0;
	}
	if (!hdir)
		return -ENOMEM;
	if (a->no_fuse)
		snprintf(reason, sizeof(reason), "fusing is turned off (bpkd --no-fuse)");
	else if (fuse_build(a, hdir, hook, pl, reason, sizeof(reason), &dir, &inlined, &btf) == 0)
		pl->fused = true;
	meta = pl->fused ? json_pack("{s:s, s:s, s:b, s:b}", "mechanism", MECHANISM_FUSED,
				     "fused_dir", dir, "inlined", inlined, "btf", btf)
			 : json_pack("{s:s, s:s}", "mechanism", portable_mechanism(hook), "reason",
				     reason[0] ? reason : "cannot be fused");
	if (!meta)
		return -ENOMEM;
	for (i = 0; i < pl->want_cnt; i++)
		json_object_set(json_array_get(pl->want, i), "chain", meta);
	if (!pl->fused && !a->no_fuse)
		pr_info("'%s' %s runs with %s, not fused: %s\n", iface, bpk_agent_hook__name(hook),
			portable_mechanism(hook), reason);
	return 0;
}

/* The program pinned at dir/NAME, to put on a link or to expect there. */
static int pinned_prog(const char *dir, const char *name, int *ret_fd)
{
	_cleanup_free_ char *p = path_join(dir, name);

	return p ? bpk_chain__open_pinned(p, ret_fd) : -ENOMEM;
}

/*
 * Make the fused program of pl run on the hook: point HOOK/link at it (the fused chain's or
 * the XDP root's link), or attach a new link and pin it there. TC: ahead of the portable
 * chain's links, which settle_hook() detaches after the switch.
 */
static int fused_switch(const char *hdir, int ifindex, int hook, struct plan *pl,
			struct bpk_error *error)
{
	_cleanup_free_ char *lp = path_join(hdir, "link");
	int link = -1, old = -1, err;
	bool guarded = false;

	if (!lp)
		return -ENOMEM;
	if (bpk_chain__open_pinned(lp, &link) == 0) {
		/*
		 * Only if the link runs what bpkd put there (the fused chain, or the XDP root): a
		 * program swapped in behind bpkd's back is not replaced blindly.
		 */
		if (pl->was_fused)
			pinned_prog(fused_dir(pl->cur), "prog", &old);
		else if (hook == BPK_AGENT_HOOK_XDP_INGRESS)
			pinned_prog(hdir, BPK_XDP_ROOT_PIN_PROG, &old);
		err = bpk_chain_link__update(link, pl->fused_fd, old);
		guarded = old >= 0;
		if (old >= 0)
			close(old);
		pl->link_updated = !err;
	} else {
		if (hook == BPK_AGENT_HOOK_XDP_INGRESS) {
			err = bpk_xdp__attach(pl->fused_fd, ifindex, NULL, &link);
		} else {
			json_t *first = json_array_get(pl->cur, 0);
			BPK_OPTS(bpk_tcx_opts, opts);

			if (first && jint(first, "link_id")) {
				opts.flags = BPK_TCX_F_BEFORE | BPK_TCX_F_LINK;
				opts.relative_id = (uint32_t)jint(first, "link_id");
			}
			err = bpk_tcx__attach(pl->fused_fd, ifindex, (enum bpk_chain_hook)hook, &opts,
					      &link);
		}
		if (!err) {
			err = bpk_chain__pin(link, lp);
			if (err)
				bpk_chain_link__detach(link);
			pl->link_created = !err;
		}
	}
	if (link >= 0)
		close(link);
	if (err == -EPERM && guarded) {
		/* The kernel's answer to BPF_F_REPLACE with another program on the link. */
		bpk_error__set(error, NULL, bpk_agent_hook__name(hook),
			       "%s: the link runs a program bpkd did not put there; not replaced",
			       bpk_agent_hook__name(hook));
		err = -EBUSY;
	} else if (err == -EBUSY) {
		bpk_error__set(error, NULL, bpk_agent_hook__name(hook),
			       "%s: the interface runs an XDP program bpkd did not attach",
			       bpk_agent_hook__name(hook));
	} else if (err) {
		bpk_error__set(error, NULL, bpk_agent_hook__name(hook),
			       "%s: cannot switch to the fused chain: %s", bpk_agent_hook__name(hook),
			       strerror(-err));
	}
	return err;
}

/* Point HOOK/link back at the program cur ran with (an apply that failed after the switch). */
static void link_restore(const char *hdir, int hook, struct plan *pl)
{
	_cleanup_free_ char *lp = path_join(hdir, "link");
	int link, prog = -1;

	if (!lp || bpk_chain__open_pinned(lp, &link))
		return;
	if (pl->link_created) {
		bpk_chain_link__detach(link);
		unlink(lp);
	} else if (pl->link_updated &&
		   (pl->was_fused ? pinned_prog(fused_dir(pl->cur), "prog", &prog)
				  : hook == BPK_AGENT_HOOK_XDP_INGRESS
					    ? pinned_prog(hdir, BPK_XDP_ROOT_PIN_PROG, &prog)
					    : -ENOENT) == 0) {
		bpk_chain_link__update(link, prog, -1);
		close(prog);
	}
	close(link);
	pl->link_created = pl->link_updated = false;
}

static void unpin_root_prog(const char *hdir)
{
	_cleanup_free_ char *prog = path_join(hdir, BPK_XDP_ROOT_PIN_PROG);
	_cleanup_free_ char *array = path_join(hdir, BPK_XDP_ROOT_PIN_ARRAY);

	if (prog)
		unlink(prog);
	if (array)
		unlink(array);
}

/* Detach and unpin the link pinned at dir/link, if there is one. */
static void remove_link(const char *dir)
{
	_cleanup_free_ char *lp = path_join(dir, "link");
	int fd;

	if (lp && bpk_chain__open_pinned(lp, &fd) == 0) {
		bpk_chain_link__detach(fd);
		close(fd);
		unlink(lp);
	}
}

/*
 * After a switch (an apply's, or one a restart finished or rolled back), leave on the hook
 * only what its chain's mechanism uses, so that the pins say how it runs: fused, no stage has
 * a link and no root is pinned, and HOOK/link runs the recorded fused program; TC the portable
 * way, no HOOK/link. Fused programs other than the chain's go. Idempotent.
 */
static void settle_hook(const char *hdir, int hook, json_t *stages)
{
	const char *keep = fused_dir(stages);
	DIR *d;
	struct dirent *de;
	json_t *rec;
	size_t i;

	if (keep[0]) {
		_cleanup_free_ char *lp = path_join(hdir, "link");
		struct bpk_chain_link_info li;
		struct bpf_prog_info info;
		int link, prog;

		json_array_foreach(stages, i, rec) {
			if (hook != BPK_AGENT_HOOK_XDP_INGRESS)
				remove_link(jstr(rec, "dir"));
			json_object_del(rec, "link_id");
		}
		if (hook == BPK_AGENT_HOOK_XDP_INGRESS)
			unpin_root_prog(hdir);
		/* A rolled back apply may have pointed the link at its own fused program. */
		if (lp && bpk_chain__open_pinned(lp, &link) == 0) {
			if (bpk_chain_link__info(link, &li) == 0 && pinned_prog_info(keep, &info) == 0 &&
			    li.prog_id != info.id && pinned_prog(keep, "prog", &prog) == 0) {
				bpk_chain_link__update(link, prog, -1);
				close(prog);
			}
			close(link);
		}
	} else if (hook != BPK_AGENT_HOOK_XDP_INGRESS) {
		remove_link(hdir);
	}
	d = opendir(hdir);
	while (d && (de = readdir(d))) {
		_cleanup_free_ char *p = NULL;

		if (!str_has_prefix(de->d_name, FUSED_DIR_PREFIX))
			continue;
		p = path_join(hdir, de->d_name);
		if (p && strcmp(p, keep))
			remove_pins(p);
	}
	if (d)
		closedir(d);
}

/* Whether HOOK/link is attached and runs the fused program of stages. */
static bool fused_live(const char *hdir, json_t *stages)
{
	_cleanup_free_ char *lp = path_join(hdir, "link");
	struct bpk_chain_link_info li;
	struct bpf_prog_info info;
	bool ok;
	int fd;

	if (!lp || bpk_chain__open_pinned(lp, &fd))
		return false;
	ok = bpk_chain_link__info(fd, &li) == 0 && li.ifindex &&
	     pinned_prog_info(fused_dir(stages), &info) == 0 && info.id == li.prog_id;
	close(fd);
	return ok;
}

/* Remove the objects in STATE/objects that no recorded stage names. */
static void collect_objects(const struct bpk_agent *a)
{
	_cleanup_free_ char *dir = xasprintf("%s/objects", a->state_dir);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	const char *iface, *hn;
	json_t *hooks, *stages, *rec;
	size_t i;

	while (d && (de = readdir(d))) {
		_cleanup_free_ char *p = NULL;
		bool named = false;

		if (de->d_name[0] == '.')
			continue;
		json_object_foreach(a->chains, iface, hooks)
			json_object_foreach(hooks, hn, stages)
				json_array_foreach(stages, i, rec)
					if (!strncmp(de->d_name, jstr(rec, "object_sha256"), 64) &&
					    !strcmp(de->d_name + 64, ".o"))
						named = true;
		p = named ? NULL : path_join(dir, de->d_name);
		if (p)
			unlink(p);
	}
	if (d)
		closedir(d);
}

/*
 * A chain that could not be fused could not be chained the portable way either: say both,
 * since the first is what the operator can change (a stage that would fuse).
 */
static void why_not_fused(struct bpk_error *error, struct plan *pl)
{
	const char *reason = jstr(chain_meta(pl->want), "reason");
	_cleanup_free_ char *message = NULL, *field = NULL;

	if (pl->fused || !pl->changed || !reason[0] || !error || !error->message)
		return;
	message = strdup(error->message);
	field = error->field ? strdup(error->field) : NULL;
	if (message)
		bpk_error__set(error, error->file, field, "%s; and the chain cannot run fused: %s",
			       message, reason);
}

/* ---- apply ---- */

static bool same_json(json_t *a, json_t *b)
{
	return json_equal(a ? a : json_null(), b ? b : json_null());
}

/* The configuration entry of iface after op. New reference, NULL on ENOMEM. */
static json_t *next_config(const struct bpk_agent *a, enum bpk_agent_op op,
			   const struct bpk_agent_iface *f)
{
	json_t *old = json_object_get(a->configs, f->iface);
	json_t *cfg = old ? json_deep_copy(old) : json_pack("{s:s, s:s, s:{}}", "host_name",
							       f->host_name, "iface", f->iface,
							       "bpf_programs");
	json_t *bp = json_object_get(cfg, "bpf_programs"), *list, *e;
	size_t i, j;
	int h;

	if (!cfg || !bp)
		goto fail;
	if (f->host_name[0])
		json_object_set_new(cfg, "host_name", json_string(f->host_name));
	for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
		const char *hn = bpk_agent_hook__name(h);

		list = json_object_get(bp, hn);
		if (!list) {
			list = json_array();
			if (!list || json_object_set_new(bp, hn, list))
				goto fail;
		}
		if (op == BPK_AGENT_OP_UPDATE)
			json_array_clear(list);
		for (i = 0; i < f->prog_cnt[h]; i++) {
			const char *name = f->progs[h][i].name;

			/* add replaces a program of the same name, delete removes it */
			for (j = 0; j < json_array_size(list); j++) {
				e = json_array_get(list, j);
				if (!strcmp(jstr(e, "name"), name)) {
					json_array_remove(list, j);
					break;
				}
			}
			if (op != BPK_AGENT_OP_DELETE) {
				e = json_loads(f->progs[h][i].json, 0, NULL);
				if (!e || json_array_append_new(list, e))
					goto fail;
			}
		}
	}
	return cfg;
fail:
	json_decref(cfg);
	return NULL;
}

static bool config_empty(json_t *cfg)
{
	json_t *bp = json_object_get(cfg, "bpf_programs"), *list;
	const char *k;

	json_object_foreach(bp, k, list)
		if (json_array_size(list))
			return false;
	return true;
}

/* Plan one hook: records for the desired chain, prefix and suffix kept from what runs. */
static int plan_hook(struct bpk_agent *a, const char *iface, int hook,
		     const struct bpk_agent_iface *want, struct bpk_error *error, struct plan *pl)
{
	_cleanup_free_ const struct bpk_agent_prog **progs = NULL;
	bool by_identity;
	size_t n, i;
	int err;

	memset(pl, 0, sizeof(*pl));
	pl->fused_fd = -1;
	err = bpk_agent_iface__chain(want, hook, error, &progs, &n);
	if (err)
		return err;
	if (n > (hook == BPK_AGENT_HOOK_XDP_INGRESS ? XDP_CHAIN_MAX
		 : hook == BPK_AGENT_HOOK_PROBES   ? PROBES_MAX
						   : BPK_TCX_MAX_PROGS)) {
		bpk_error__set(error, NULL, bpk_agent_hook__name(hook),
			       "%s: %zu programs are more than one chain of this hook can run", iface,
			       n);
		return -EINVAL;
	}
	pl->cur = cur_chain(a, iface, hook);
	pl->cur_cnt = json_array_size(pl->cur);
	pl->want_cnt = n;
	pl->want = json_array();
	if (!pl->want)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		_cleanup_free_ char *base = identity(progs[i]), *field = NULL, *pkg = NULL;
		_cleanup_free_ char *id = NULL;
		json_t *rec;
		size_t k;

		for (k = 0; k < want->prog_cnt[hook]; k++)
			if (&want->progs[hook][k] == progs[i])
				break;
		field = xasprintf("%s.bpf_programs.%s[%zu]", iface, bpk_agent_hook__name(hook), k);
		if (!base || !field)
			return -ENOMEM;
		pkg = repo_identity(a, progs[i], field, error, &err);
		if (!pkg)
			return err ?: -ENOMEM;
		id = pkg[0] ? xasprintf("%s|%s", base, pkg) : strdup(base);
		rec = json_pack("{s:s, s:I, s:s?, s:o, s:o}", "name", progs[i]->name,
					"seq_id", (json_int_t)progs[i]->seq_id, "identity", id,
					"map_args", map_args_json(progs[i]), "monitor_maps",
					monitor_maps_json(progs[i]));

		if (!id || !rec || json_array_append_new(pl->want, rec))
			return -ENOMEM;
	}
	/*
	 * Chains: the longest common prefix, then the longest common suffix of what is left.
	 * Probes have no order: each keeps the stage of its identity, whatever else changes. So
	 * does a chain that runs fused (or nothing yet): a new fused program is built from all
	 * stages anyway, so a stage that moves keeps its maps, counters and state.
	 */
	by_identity = hook == BPK_AGENT_HOOK_PROBES ||
		      (fusable_hook(a, hook) && (!pl->cur_cnt || chain_fused(pl->cur)));
	while (hook != BPK_AGENT_HOOK_PROBES && pl->p < pl->cur_cnt && pl->p < n &&
	       !strcmp(jstr(json_array_get(pl->cur, pl->p), "identity"),
		       jstr(json_array_get(pl->want, pl->p), "identity")))
		pl->p++;
	while (hook != BPK_AGENT_HOOK_PROBES && pl->p + pl->s < pl->cur_cnt && pl->p + pl->s < n &&
	       !strcmp(jstr(json_array_get(pl->cur, pl->cur_cnt - 1 - pl->s), "identity"),
		       jstr(json_array_get(pl->want, n - 1 - pl->s), "identity")))
		pl->s++;
	/* Kept stages carry over their kernel fields; their seq_id and map_args are the new ones. */
	for (i = 0; i < n; i++) {
		json_t *rec = json_array_get(pl->want, i), *old = NULL, *keep, *c;
		const char *k;
		json_t *v;
		size_t j;

		if (by_identity) {
			json_array_foreach(pl->cur, j, c)
				if (!strcmp(jstr(c, "identity"), jstr(rec, "identity")))
					old = c;
		} else if (i < pl->p) {
			old = json_array_get(pl->cur, i);
		} else if (i >= n - pl->s) {
			old = json_array_get(pl->cur, pl->cur_cnt - (n - i));
		}
		if (!old)
			continue;
		pl->kept[i] = true;
		keep = json_deep_copy(old);
		if (!keep)
			return -ENOMEM;
		json_object_foreach(rec, k, v)
			json_object_set(keep, k, v);
		json_object_set_new(keep, "old_map_args",
				    json_deep_copy(json_object_get(old, "map_args")));
		json_array_set_new(pl->want, i, keep);
	}
	return 0;
}

/* Fetch, verify and load the middle of a plan into fresh directories. */
static int load_middle(struct bpk_agent *a, const char *iface, int hook,
		       const struct bpk_agent_iface *want, struct plan *pl,
		       struct bpk_error *error)
{
	_cleanup_free_ char *hdir = hook_dir(a, iface, hook);
	struct timespec ts;
	size_t i, k;
	int err;

	if (!hdir)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &ts);
	for (i = 0; i < pl->want_cnt; i++) {
		json_t *rec = json_array_get(pl->want, i);
		const struct bpk_agent_prog *p = NULL;
		struct artifact art = { 0 };
		_cleanup_free_ char *loc = NULL, *dir = NULL, *field = NULL;

		if (pl->kept[i])
			continue;
		for (k = 0; k < want->prog_cnt[hook]; k++)
			if (!strcmp(want->progs[hook][k].name, jstr(rec, "name"))) {
				p = &want->progs[hook][k];
				field = xasprintf("%s.bpf_programs.%s[%zu]", iface,
						  bpk_agent_hook__name(hook), k);
			}
		if (!p || !field)
			return -ENOMEM;
		/* A fresh directory each load: the old stage keeps running beside it until the switch. */
		dir = xasprintf("%s/%s@%llx%09ld", hdir, p->name, (unsigned long long)ts.tv_sec,
				ts.tv_nsec + (long)i);
		if (!dir)
			return -ENOMEM;
		err = resolve(a, p, field, error, &art, &loc);
		if (!err) {
			json_object_set_new(rec, "dir", json_string(dir));
			pl->loaded[i] = true;
			err = load_stage(p, hook, &art, dir, field, error, rec,
					 hook == BPK_AGENT_HOOK_PROBES || fusable_hook(a, hook)
						 ? &pl->objs[i]
						 : NULL);
		}
		if (!err && hook != BPK_AGENT_HOOK_PROBES)
			object_save(a, &art, rec);
		if (!err)
			err = write_map_args(dir, json_object_get(rec, "map_args"), field, error);
		if (!err) {
			json_object_update(rec, art.info);
			json_object_set_new(rec, "source", json_string(loc));
			json_object_set_new(rec, "loaded", json_integer(time(NULL)));
		}
		artifact_release(&art);
		if (err)
			return err;
	}
	return 0;
}

/*
 * XDP: fill the new stages' slots back to front; check the switch point can chain. Nothing
 * for a fused chain.
 */
static int xdp_build(struct plan *pl, struct bpk_error *error)
{
	/* Coming from a fused chain, whose stages chain nothing, every stage is linked. */
	size_t from = pl->was_fused ? 0 : pl->p;
	size_t to = pl->was_fused ? pl->want_cnt : pl->want_cnt - pl->s, i;
	int err;

	if (pl->fused)
		return 0;
	for (i = to; i-- > from;) {
		err = link_to(json_array_get(pl->want, i),
			      i + 1 < pl->want_cnt ? json_array_get(pl->want, i + 1) : NULL, error);
		if (err)
			return err;
	}
	if (from && pl->p < pl->want_cnt) {
		int fd;

		if (next_array_fd(json_array_get(pl->want, pl->p - 1), &fd)) {
			bpk_error__set(error, NULL, "map_name",
				       "xdp_ingress: '%s' has no program array (map_name) to pass packets on",
				       jstr(json_array_get(pl->want, pl->p - 1), "name"));
			return -EINVAL;
		}
		close(fd);
	}
	return 0;
}

/* XDP: the one write that makes the new chain run. */
static int xdp_switch(const char *hdir, int ifindex, struct plan *pl, struct bpk_error *error)
{
	struct bpk_xdp_root root;
	json_t *first = pl->p < pl->want_cnt ? json_array_get(pl->want, pl->p) : NULL;
	int err, fd;

	if (!pl->want_cnt) {
		_cleanup_free_ char *lp = path_join(hdir, "link");

		if (!pl->cur_cnt)
			return 0;
		/* Everything goes: detach the link (root's or fused) now; its pins go after. */
		if (lp && bpk_chain__open_pinned(lp, &fd) == 0) {
			bpk_chain_link__detach(fd);
			close(fd);
		}
		return 0;
	}
	if (pl->fused)
		return pl->changed ? fused_switch(hdir, ifindex, BPK_AGENT_HOOK_XDP_INGRESS, pl, error)
				   : 0;
	/* the last kept stage of the prefix points at the new middle (or suffix) */
	if (pl->p && !pl->was_fused)
		return link_to(json_array_get(pl->want, pl->p - 1), first, error);
	if (pl->was_fused)
		first = json_array_get(pl->want, 0);
	err = bpk_xdp_root__open_pinned(hdir, &root);
	if (err == -ENOENT) {
		err = bpk_xdp_root__create(NULL, &root);
		if (err) {
			bpk_error__set(error, NULL, "xdp_ingress", "cannot create the XDP root: %s",
				       strerror(-err));
			return err;
		}
		pl->root_created = true;
	} else if (err) {
		bpk_error__set(error, NULL, "xdp_ingress", "cannot re-adopt the XDP root in %s: %s",
			       hdir, strerror(-err));
		return err;
	}
	err = prog_fd_of(first, &fd);
	if (!err) {
		err = bpk_prog_array__set(root.array_fd, 0, fd);
		close(fd);
	}
	if (!err && pl->root_created && pl->was_fused) {
		/* The fused chain's link takes the root: one update, then the root's pins. */
		_cleanup_free_ char *lp = path_join(hdir, "link");
		int link;

		err = lp ? bpk_chain__open_pinned(lp, &link) : -ENOMEM;
		if (!err) {
			err = bpk_chain_link__update(link, root.prog_fd, -1);
			pl->link_updated = !err;
			close(link);
		}
		if (!err)
			err = bpk_xdp_root__pin(&root, hdir);
	} else if (!err && pl->root_created) {
		err = bpk_xdp_root__attach(&root, ifindex, NULL);
		if (!err)
			err = bpk_xdp_root__pin(&root, hdir);
		if (err && root.link_fd >= 0)
			bpk_chain_link__detach(root.link_fd);
	}
	if (err)
		bpk_error__set(error, NULL, "xdp_ingress",
			       err == -EBUSY ? "xdp_ingress: the interface runs an XDP program bpkd did not attach"
					     : "xdp_ingress: cannot switch to the new chain: %s",
			       strerror(-err));
	bpk_xdp_root__release(&root);
	return err;
}

/*
 * TC: attach the new middle in order, between the kept prefix and suffix (the whole chain,
 * after the fused chain's link, when it ran fused); or switch to the fused program.
 */
static int tc_attach(const char *hdir, int ifindex, int hook, struct plan *pl,
		     struct bpk_error *error)
{
	/* Coming from a fused chain, whose stages have no links, every stage is attached. */
	size_t from = pl->was_fused ? 0 : pl->p;
	size_t to = pl->was_fused ? pl->want_cnt : pl->want_cnt - pl->s, i;
	int err;

	if (pl->fused)
		return pl->changed ? fused_switch(hdir, ifindex, hook, pl, error) : 0;
	for (i = from; i < to; i++) {
		json_t *prev = i ? json_array_get(pl->want, i - 1) : NULL;
		json_t *next = pl->s && !pl->was_fused
				       ? json_array_get(pl->want, pl->want_cnt - pl->s)
				       : NULL;

		err = tcx_attach_after(json_array_get(pl->want, i), ifindex, hook, next, prev, error);
		if (err)
			return err;
		pl->attached[i] = true;
	}
	return 0;
}

static void tc_detach_new(struct plan *pl)
{
	size_t i;
	int fd;

	for (i = 0; i < pl->want_cnt; i++)
		if (pl->attached[i] &&
		    open_sub(jstr(json_array_get(pl->want, i), "dir"), "link", NULL, &fd) == 0) {
			bpk_chain_link__detach(fd);
			close(fd);
		}
}

/*
 * A probe's link as pinned in dir/link: its id and program's id. A pinned probe link cannot be
 * detached but by unpinning it, so one that opens is attached. 0 or -errno.
 */
static int probe_link_info(const char *dir, uint32_t *ret_link_id, uint32_t *ret_prog_id)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int fd, err;

	err = open_sub(dir, "link", NULL, &fd);
	if (err)
		return err;
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	*ret_link_id = info.id;
	*ret_prog_id = info.prog_id;
	return 0;
}

/*
 * libbpf finds a tracepoint's id in tracefs; under `ip netns exec`, which mounts a fresh /sys,
 * or on a host that never mounted it, there is none: mount it, as the agent does bpffs.
 */
static void tracefs_ensure(void)
{
	if (!access("/sys/kernel/tracing/events", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events", F_OK))
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		pr_warn("cannot mount tracefs on /sys/kernel/tracing: %s\n", strerror(errno));
}

/* Probes: attach each new program from its section name, and pin its link in dir/link. */
static int probes_attach(const char *iface, struct plan *pl, struct bpk_error *error)
{
	libbpf_print_fn_t old_print;
	size_t i;
	int err = 0;

	old_print = bpk_libbpf_print_begin(bpk_libbpf_print_debug);
	for (i = 0; !err && i < pl->want_cnt && i < PROBES_MAX; i++) {
		json_t *rec = json_array_get(pl->want, i);
		_cleanup_free_ char *lp = NULL;
		struct bpf_program *prog;
		struct bpf_link *link;
		uint32_t link_id, prog_id;

		if (!pl->objs[i])
			continue;
		prog = bpf_object__find_program_by_name(pl->objs[i], jstr(rec, "prog"));
		lp = path_join(jstr(rec, "dir"), "link");
		if (!prog || !lp) {
			err = -ENOMEM;
			break;
		}
		if (str_has_prefix(jstr(rec, "section"), "tracepoint/") ||
		    str_has_prefix(jstr(rec, "section"), "tp/"))
			tracefs_ensure();
		link = bpf_program__attach(prog);
		err = link ? 0 : -errno;
		if (err) {
			bpk_error__set(error, NULL, "probes", "%s.bpf_programs.probes: cannot attach '%s' to '%s': %s",
				       iface, jstr(rec, "name"), jstr(rec, "section"), strerror(-err));
			/* a target this kernel does not have is the configuration's fault */
			if (err == -ENOENT || err == -EINVAL)
				err = -EINVAL;
			break;
		}
		err = bpk_chain__pin(bpf_link__fd(link), lp);
		if (err)
			bpk_error__set(error, NULL, "probes", "%s.bpf_programs.probes: cannot pin the link of '%s' in %s: %s",
				       iface, jstr(rec, "name"), jstr(rec, "dir"), strerror(-err));
		/* The pin holds the link from here on; without it, this detaches. */
		bpf_link__destroy(link);
		if (err)
			break;
		pl->attached[i] = true;
		if (probe_link_info(jstr(rec, "dir"), &link_id, &prog_id) == 0)
			json_object_set_new(rec, "link_id", json_integer(link_id));
	}
	bpk_libbpf_print_end(old_print);
	return err;
}

/* Fill link_id of each probe from its pinned link (a pending record was written before). */
static void probe_link_ids(json_t *stages)
{
	uint32_t link_id, prog_id;
	json_t *rec;
	size_t i;

	json_array_foreach(stages, i, rec)
		if (probe_link_info(jstr(rec, "dir"), &link_id, &prog_id) == 0)
			json_object_set_new(rec, "link_id", json_integer(link_id));
}

/* Rewrite the maps of kept stages whose map_args changed. */
static int kept_map_args(struct plan *pl, const char *iface, int hook, struct bpk_error *error)
{
	size_t i;
	int err;

	for (i = 0; i < pl->want_cnt; i++) {
		json_t *rec = json_array_get(pl->want, i);
		_cleanup_free_ char *field = NULL;

		if (pl->loaded[i] || same_json(json_object_get(rec, "map_args"),
					       json_object_get(rec, "old_map_args")))
			continue;
		field = xasprintf("%s.bpf_programs.%s[%s]", iface, bpk_agent_hook__name(hook),
				  jstr(rec, "name"));
		if (!field)
			return -ENOMEM;
		err = write_map_args(jstr(rec, "dir"), json_object_get(rec, "map_args"), field,
				     error);
		if (err)
			return err;
	}
	return 0;
}

static void remove_dropped(struct plan *pl)
{
	json_t *rec;
	size_t i;

	json_array_foreach(pl->cur, i, rec)
		if (!has_dir(pl->want, jstr(rec, "dir")))
			remove_stage(rec);
}

static int apply_iface(struct bpk_agent *a, enum bpk_agent_op op,
		       const struct bpk_agent_iface *f, struct bpk_error *error)
{
	_cleanup_json_ json_t *cfg = NULL, *hooks = json_object();
	struct bpk_agent_payload *parsed = NULL;
	_cleanup_free_ char *text = NULL;
	struct plan plans[BPK_AGENT_HOOK_CNT];
	unsigned int ifindex;
	size_t i;
	int h, err = 0;

	memset(plans, 0, sizeof(plans));
	for (h = 0; h < BPK_AGENT_HOOK_CNT; h++)
		plans[h].fused_fd = -1;
	ifindex = if_nametoindex(f->iface);
	if (!ifindex) {
		bpk_error__set(error, NULL, "iface", "no interface '%s' here", f->iface);
		return -ENODEV;
	}
	cfg = next_config(a, op, f);
	text = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
	if (!hooks || !text)
		return -ENOMEM;
	/* The whole configuration of the interface, checked as a payload of its own. */
	err = bpk_agent_payload__parse(text, strlen(text), BPK_AGENT_PAYLOAD_PROGRAMS, error,
				       &parsed);
	if (err)
		return err;
	for (h = 0; !err && h < BPK_AGENT_HOOK_CNT; h++)
		err = plan_hook(a, f->iface, h, &parsed->ifaces[0], error, &plans[h]);
	for (h = 0; !err && h < BPK_AGENT_HOOK_CNT; h++)
		err = load_middle(a, f->iface, h, &parsed->ifaces[0], &plans[h], error);
	for (h = 0; !err && h < BPK_AGENT_HOOK_CNT; h++)
		err = fuse_plan(a, f->iface, h, &plans[h]);
	if (!err) {
		err = xdp_build(&plans[BPK_AGENT_HOOK_XDP_INGRESS], error);
		if (err)
			why_not_fused(error, &plans[BPK_AGENT_HOOK_XDP_INGRESS]);
	}
	for (h = 0; !err && h < BPK_AGENT_HOOK_CNT; h++) {
		json_t *copy = json_deep_copy(plans[h].want);

		if (!copy)
			err = -ENOMEM;
		else
			json_object_set_new(hooks, bpk_agent_hook__name(h), copy);
	}
	if (!err && agent_db_set_pending(a->db, f->iface, config_empty(cfg) ? NULL : cfg, hooks)) {
		bpk_error__set(error, NULL, NULL, "cannot record the apply: %s",
			       agent_db_errstr(a->db));
		err = -EIO;
	}
	if (err)
		goto fail;
	/*
	 * From here on the kernel changes: map_args of kept stages, new TCX links, new probes,
	 * the XDP slot (last, so that a restart which finds it switched knows all else was done).
	 */
	for (h = 0; !err && h < BPK_AGENT_HOOK_CNT; h++)
		err = kept_map_args(&plans[h], f->iface, h, error);
	for (h = BPK_AGENT_HOOK_TC_INGRESS; !err && h < TC_HOOK_CNT; h++) {
		_cleanup_free_ char *hdir = hook_dir(a, f->iface, h);

		err = hdir ? tc_attach(hdir, (int)ifindex, h, &plans[h], error) : -ENOMEM;
	}
	if (!err)
		err = probes_attach(f->iface, &plans[BPK_AGENT_HOOK_PROBES], error);
	if (!err) {
		_cleanup_free_ char *hdir = hook_dir(a, f->iface, BPK_AGENT_HOOK_XDP_INGRESS);

		err = hdir ? xdp_switch(hdir, (int)ifindex, &plans[BPK_AGENT_HOOK_XDP_INGRESS], error)
			   : -ENOMEM;
	}
	if (err) {
		/* New probes detach when plan_release unpins their links. */
		for (h = BPK_AGENT_HOOK_TC_INGRESS; h < TC_HOOK_CNT; h++)
			tc_detach_new(&plans[h]);
		for (h = 0; h < TC_HOOK_CNT; h++) {
			_cleanup_free_ char *hdir = hook_dir(a, f->iface, h);

			if (hdir)
				link_restore(hdir, h, &plans[h]);
		}
		for (h = 0; h < BPK_AGENT_HOOK_CNT; h++)
			rewrite_map_args(cur_chain(a, f->iface, h));
		agent_db_drop_pending(a->db, f->iface);
		goto fail;
	}
	/* Switched: what left the chains goes. */
	for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
		_cleanup_free_ char *hdir = hook_dir(a, f->iface, h);

		remove_dropped(&plans[h]);
		if (hdir && h != BPK_AGENT_HOOK_PROBES)
			settle_hook(hdir, h, plans[h].want);
		if (h == BPK_AGENT_HOOK_XDP_INGRESS && !plans[h].want_cnt && hdir)
			bpk_xdp_root__unpin(hdir);
		if (hdir)
			rmdir(hdir);
		for (i = 0; i < plans[h].want_cnt; i++)
			json_object_del(json_array_get(plans[h].want, i), "old_map_args");
	}
	{
		_cleanup_free_ char *idir = path_join(a->pin_root, f->iface);

		if (idir)
			rmdir(idir);
	}
	json_object_clear(hooks);
	for (h = 0; h < BPK_AGENT_HOOK_CNT; h++)
		if (plans[h].want_cnt)
			json_object_set(hooks, bpk_agent_hook__name(h), plans[h].want);
	if (agent_db_commit(a->db, f->iface, config_empty(cfg) ? NULL : cfg, hooks)) {
		/* What runs is right; the pending record lets the next open finish this. */
		bpk_error__set(error, NULL, NULL, "the chains are applied, but cannot be recorded: %s",
			       agent_db_errstr(a->db));
		err = -EIO;
	}
	if (config_empty(cfg))
		json_object_del(a->configs, f->iface);
	else
		json_object_set(a->configs, f->iface, cfg);
	if (json_object_size(hooks))
		json_object_set_new(a->chains, f->iface, json_deep_copy(hooks));
	else
		json_object_del(a->chains, f->iface);
	/* Objects of stages that left every chain (an upgrade's old version) are not needed. */
	collect_objects(a);
	for (h = 0; h < BPK_AGENT_HOOK_CNT; h++)
		plan_release(&plans[h], false);
	bpk_agent_payload__free(parsed);
	return err;
fail:
	for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
		if (plans[h].fused && plans[h].changed && fused_dir(plans[h].want)[0])
			remove_pins(fused_dir(plans[h].want));
		plan_release(&plans[h], true);
	}
	{
		_cleanup_free_ char *hdir = hook_dir(a, f->iface, BPK_AGENT_HOOK_XDP_INGRESS);

		if (plans[BPK_AGENT_HOOK_XDP_INGRESS].root_created && hdir) {
			if (plans[BPK_AGENT_HOOK_XDP_INGRESS].was_fused)
				unpin_root_prog(hdir); /* the link is the fused chain's again */
			else
				bpk_xdp_root__unpin(hdir);
		}
	}
	bpk_agent_payload__free(parsed);
	return err;
}

int bpk_agent__apply(struct bpk_agent *a, enum bpk_agent_op op,
		     const struct bpk_agent_payload *payload, struct bpk_error *error)
{
	size_t i;
	int err = 0;

	if (!a || !payload || (unsigned int)op > BPK_AGENT_OP_DELETE)
		return -EINVAL;
	a->applies++;
	for (i = 0; !err && i < payload->cnt; i++)
		err = apply_iface(a, op, &payload->ifaces[i], error);
	if (err)
		a->apply_errors++;
	/* The next apply sees the repositories' indexes as they are then. */
	bpk_repo_client__free(a->rc);
	a->rc = NULL;
	return err;
}

/* ---- open and re-adopt ---- */

/* Whether the root pinned in hdir is attached to an interface through its pinned link. */
static bool xdp_root_attached(const char *hdir)
{
	struct bpk_chain_link_info li;
	struct bpk_xdp_root root;
	bool ok;

	if (bpk_xdp_root__open_pinned(hdir, &root))
		return false;
	ok = root.link_fd >= 0 && bpk_chain_link__info(root.link_fd, &li) == 0 && li.ifindex;
	bpk_xdp_root__release(&root);
	return ok;
}

/* Whether HOOK/link is pinned and attached to an interface. */
static bool hook_link_attached(const char *hdir)
{
	_cleanup_free_ char *lp = path_join(hdir, "link");
	struct bpk_chain_link_info li;
	bool ok;
	int fd;

	if (!lp || bpk_chain__open_pinned(lp, &fd))
		return false;
	ok = bpk_chain_link__info(fd, &li) == 0 && li.ifindex;
	close(fd);
	return ok;
}

/* Fill link_id of each TC stage from its pinned link (a pending record was written before). */
static void tc_link_ids(json_t *stages)
{
	struct bpk_chain_link_info li;
	json_t *rec;
	size_t i;
	int fd;

	json_array_foreach(stages, i, rec) {
		if (open_sub(jstr(rec, "dir"), "link", NULL, &fd))
			continue;
		if (bpk_chain_link__info(fd, &li) == 0)
			json_object_set_new(rec, "link_id", json_integer(li.link_id));
		close(fd);
	}
}

/* Whether the kernel runs the chain recorded in stages (XDP: the slots; TC: the links). */
static bool chain_is_live(struct bpk_agent *a, const char *iface, int hook, json_t *stages)
{
	_cleanup_free_ char *hdir = hook_dir(a, iface, hook);
	uint32_t ids[XDP_CHAIN_MAX + 1];
	struct bpk_chain_link_info li;
	size_t i, n;
	json_t *rec;
	int fd;

	if (!hdir)
		return false;
	if (hook == BPK_AGENT_HOOK_PROBES) {
		json_array_foreach(stages, i, rec) {
			uint32_t link_id, prog_id;

			if (probe_link_info(jstr(rec, "dir"), &link_id, &prog_id) ||
			    prog_id != (uint32_t)jint(rec, "prog_id"))
				return false;
		}
		return true;
	}
	if (chain_fused(stages))
		return fused_live(hdir, stages);
	if (hook == BPK_AGENT_HOOK_XDP_INGRESS) {
		/*
		 * An empty chain runs when no link (the root's or a fused chain's) is attached; any
		 * other needs the root attached.
		 */
		if (!json_array_size(stages))
			return !hook_link_attached(hdir);
		if (!xdp_root_attached(hdir))
			return false;
		n = xdp_live_ids(hdir, stages, ids, ARRAY_SIZE(ids));
		if (n != json_array_size(stages))
			return false;
		json_array_foreach(stages, i, rec)
			if ((uint32_t)jint(rec, "prog_id") != ids[i])
				return false;
		return true;
	}
	json_array_foreach(stages, i, rec) {
		bool ok;

		if (open_sub(jstr(rec, "dir"), "link", NULL, &fd))
			return false;
		ok = bpk_chain_link__info(fd, &li) == 0 && li.ifindex != 0;
		close(fd);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * An apply was cut short (kill -9): finish it if the kernel already runs its chains, else
 * undo what it attached. Then remove stage directories no record names (a crash before the
 * pending record was written).
 */
static void recover(struct bpk_agent *a, const char *iface, json_t *pending)
{
	json_t *phooks = json_object_get(pending, "hooks");
	json_t *chooks = json_object_get(a->chains, iface);
	_cleanup_json_ json_t *empty = json_array();
	bool switched = true, xdp_changed;
	json_t *from, *to, *rec;
	size_t i;
	int h;

	{
		json_t *pc = json_object_get(phooks, "xdp_ingress");
		json_t *cc = json_object_get(chooks, "xdp_ingress");

		xdp_changed = !same_json(pc ? pc : empty, cc ? cc : empty);
		if (xdp_changed)
			switched = chain_is_live(a, iface, BPK_AGENT_HOOK_XDP_INGRESS, pc ? pc : empty);
		else
			for (h = BPK_AGENT_HOOK_TC_INGRESS; h < BPK_AGENT_HOOK_CNT; h++)
				switched = switched &&
					   chain_is_live(a, iface, h,
							 json_object_get(phooks, bpk_agent_hook__name(h)));
	}
	pr_info("'%s': an apply was cut short; the kernel %s, so it is %s\n", iface,
		switched ? "runs its chains" : "does not run its chains",
		switched ? "finished" : "rolled back");
	for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
		const char *hn = bpk_agent_hook__name(h);

		from = switched ? json_object_get(chooks, hn) : json_object_get(phooks, hn);
		to = switched ? json_object_get(phooks, hn) : json_object_get(chooks, hn);
		json_array_foreach(from, i, rec)
			if (!has_dir(to, jstr(rec, "dir")))
				remove_stage(rec);
		if (h != BPK_AGENT_HOOK_PROBES) {
			_cleanup_free_ char *hdir = hook_dir(a, iface, h);

			if (hdir)
				settle_hook(hdir, h, to);
		}
		if (h == BPK_AGENT_HOOK_XDP_INGRESS && !json_array_size(to)) {
			_cleanup_free_ char *hdir = hook_dir(a, iface, h);

			if (hdir)
				bpk_xdp_root__unpin(hdir);
		}
	}
	if (switched) {
		json_t *cfg = json_object_get(pending, "config");

		/* New TC stages and probes were recorded before their links existed. */
		for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
			json_array_foreach(json_object_get(phooks, bpk_agent_hook__name(h)), i, rec)
				json_object_del(rec, "old_map_args");
			if (h == BPK_AGENT_HOOK_PROBES)
				probe_link_ids(json_object_get(phooks, bpk_agent_hook__name(h)));
			else if (h != BPK_AGENT_HOOK_XDP_INGRESS)
				tc_link_ids(json_object_get(phooks, bpk_agent_hook__name(h)));
		}

		agent_db_commit(a->db, iface, json_is_object(cfg) ? cfg : NULL, phooks);
		if (json_is_object(cfg))
			json_object_set(a->configs, iface, cfg);
		else
			json_object_del(a->configs, iface);
		if (json_object_size(phooks))
			json_object_set(a->chains, iface, phooks);
		else
			json_object_del(a->chains, iface);
	} else {
		/* Kept stages may have had their new map_args written: the old ones go back. */
		for (h = 0; h < BPK_AGENT_HOOK_CNT; h++)
			rewrite_map_args(json_object_get(chooks, bpk_agent_hook__name(h)));
		agent_db_drop_pending(a->db, iface);
	}
}

/* Remove stage directories under PIN_ROOT that no committed record names. */
static void collect_orphans(struct bpk_agent *a)
{
	DIR *d = opendir(a->pin_root), *hd;
	struct dirent *de, *he;
	int h;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
			_cleanup_free_ char *hdir = hook_dir(a, de->d_name, h);
			json_t *stages = cur_chain(a, de->d_name, h);

			hd = hdir ? opendir(hdir) : NULL;
			while (hd && (he = readdir(hd))) {
				_cleanup_free_ char *p = NULL;

				if (he->d_name[0] == '.' || he->d_type != DT_DIR)
					continue;
				p = path_join(hdir, he->d_name);
				if (p && !has_dir(stages, p) && strcmp(p, fused_dir(stages))) {
					json_t *rec = json_pack("{s:s}", "dir", p);

					pr_info("removing '%s', which no applied chain records\n", p);

					remove_stage(rec);
					json_decref(rec);
				}
			}
			if (hd)
				closedir(hd);
			if (hdir && h != BPK_AGENT_HOOK_PROBES)
				settle_hook(hdir, h, stages);
			/* A root that no committed XDP chain uses (a first chain cut short). */
			if (hdir && h == BPK_AGENT_HOOK_XDP_INGRESS && !json_array_size(stages))
				bpk_xdp_root__unpin(hdir);
			if (hdir)
				rmdir(hdir);
		}
		{
			_cleanup_free_ char *idir = path_join(a->pin_root, de->d_name);

			if (idir)
				rmdir(idir);
		}
	}
	if (d)
		closedir(d);
	collect_objects(a);
}

struct bpk_agent *bpk_agent__open(const struct bpk_agent_opts *opts, struct bpk_error *error)
{
	const char *state = OPTS_GET(opts, state_dir, NULL);
	_cleanup_json_ json_t *pending = NULL;
	_cleanup_free_ char *db_path = NULL, *msg = NULL;
	struct bpk_agent *a;
	const char *iface;
	json_t *v, *hooks, *stages;
	int err;

	if (!state) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		errno = ENOMEM;
		return NULL;
	}
	a->state_dir = strdup(state);
	a->pin_root = strdup(OPTS_GET(opts, pin_root, NULL) ?: BPK_AGENT_PIN_ROOT);
	a->trust = OPTS_GET(opts, trust, NULL);
	a->allow_unsigned = OPTS_GET(opts, allow_unsigned, false);
	a->no_fuse = OPTS_GET(opts, no_fuse, false);
	a->timeout = OPTS_GET(opts, timeout, 0) ?: 30;
	if (OPTS_GET(opts, repo_cnt, 0)) {
		a->repos = calloc(opts->repo_cnt, sizeof(*a->repos));
		if (!a->repos) {
			err = -ENOMEM;
			goto fail;
		}
		for (a->repo_cnt = 0; a->repo_cnt < opts->repo_cnt; a->repo_cnt++) {
			a->repos[a->repo_cnt] = strdup(opts->repos[a->repo_cnt]);
			if (!a->repos[a->repo_cnt]) {
				err = -ENOMEM;
				goto fail;
			}
		}
	}
	db_path = path_join(state, BPK_AGENT_DB_NAME);
	if (!a->state_dir || !a->pin_root || !db_path) {
		err = -ENOMEM;
		goto fail;
	}
	err = mkdir_p(state, 0700);
	if (err) {
		bpk_error__set(error, state, NULL, "cannot create the state directory '%s': %s", state,
			       strerror(-err));
		goto fail;
	}
	a->db = agent_db_open(db_path, &msg);
	if (!a->db) {
		err = -errno;
		bpk_error__set(error, db_path, NULL, "%s", msg ?: "cannot open the database");
		goto fail;
	}
	err = agent_db_load(a->db, &a->configs, &a->chains, &pending);
	if (err) {
		bpk_error__set(error, db_path, NULL, "cannot read '%s': %s", db_path,
			       agent_db_errstr(a->db));
		goto fail;
	}
	if (str_has_prefix(a->pin_root, BPK_BPF_FS "/") && !bpk_path_on_bpffs(a->pin_root) &&
	    json_object_size(a->chains))
		bpk_bpffs_mount();
	json_object_foreach(pending, iface, v)
		recover(a, iface, v);
	collect_orphans(a);
	json_object_foreach(a->chains, iface, hooks) {
		const char *hn;

		json_object_foreach(hooks, hn, stages)
			a->adopted += json_array_size(stages);
	}
	return a;
fail:
	bpk_agent__free(a);
	errno = -err;
	return NULL;
}

void bpk_agent__free(struct bpk_agent *a)
{
	if (!a)
		return;
	agent_db_close(a->db);
	bpk_repo_client__free(a->rc);
	while (a->repo_cnt)
		free(a->repos[--a->repo_cnt]);
	free(a->repos);
	json_decref(a->configs);
	json_decref(a->chains);
	free(a->state_dir);
	free(a->pin_root);
	free(a);
}

/* ---- reports ---- */

char *bpk_agent__config_json(struct bpk_agent *a, const char *iface)
{
	json_t *v, *arr;
	const char *k;
	char *text;

	if (iface) {
		v = json_object_get(a->configs, iface);
		if (!v) {
			errno = ENOENT;
			return NULL;
		}
		return bpk_json_dump(v, NULL);
	}
	arr = json_array();
	json_object_foreach(a->configs, k, v)
		json_array_append(arr, v);
	text = arr ? bpk_json_dump(arr, NULL) : NULL;
	json_decref(arr);
	return text;
}

static bool stats_enabled(void)
{
	char c = '0';
	int fd = open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '0';
		close(fd);
	}
	return c == '1';
}

static char *rfc3339(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&tt, &tm))
		return NULL;
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return strdup(buf);
}

/*
 * A chain's mechanism in its status: "fused" with the fused program's id, pin, layout and
 * counters (its stages never run on their own), or the portable one and why it is not fused.
 */
static void status_mechanism(json_t *ho, int hook, json_t *stages)
{
	json_t *meta = chain_meta(stages);
	struct bpf_prog_info info;

	if (!chain_fused(stages)) {
		json_object_set_new(ho, "mechanism", json_string(portable_mechanism(hook)));
		if (jstr(meta, "reason")[0])
			json_object_set_new(ho, "not_fused", json_string(jstr(meta, "reason")));
		return;
	}
	json_object_set_new(ho, "mechanism", json_string(MECHANISM_FUSED));
	if (pinned_prog_info(fused_dir(stages), &info))
		memset(&info, 0, sizeof(info));
	json_object_set_new(ho, "fused",
			    json_pack("{s:I, s:s, s:s, s:b, s:I, s:I}", "prog_id", (json_int_t)info.id,
				      "pin", fused_dir(stages), "layout",
				      json_is_true(json_object_get(meta, "inlined")) ? "inline" : "calls",
				      "btf", json_is_true(json_object_get(meta, "btf")), "run_cnt",
				      (json_int_t)info.run_cnt, "run_time_ns",
				      (json_int_t)info.run_time_ns));
}

char *bpk_agent__status_json(struct bpk_agent *a)
{
	_cleanup_json_ json_t *root = json_object(), *ifs = json_array();
	const char *iface;
	json_t *hooks;
	int h;

	if (!root || !ifs)
		return NULL;
	json_object_set_new(root, "bpf_stats_enabled", json_boolean(stats_enabled()));
	json_object_set_new(root, "adopted_at_start", json_integer((json_int_t)a->adopted));
	json_object_foreach(a->chains, iface, hooks) {
		json_t *ifo = json_pack("{s:s, s:i, s:[]}", "iface", iface, "ifindex",
					(int)if_nametoindex(iface), "hooks");

		if (!ifo || json_array_append_new(ifs, ifo))
			return NULL;
		for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
			json_t *stages = json_object_get(hooks, bpk_agent_hook__name(h)), *rec;
			json_t *chain = json_array(), *ho;
			size_t i;

			if (!json_array_size(stages)) {
				json_decref(chain);
				continue;
			}
			ho = json_pack("{s:s, s:b, s:o}", "hook", bpk_agent_hook__name(h), "running",
				       chain_is_live(a, iface, h, stages), "chain", chain);
			if (!ho || json_array_append_new(json_object_get(ifo, "hooks"), ho))
				return NULL;
			if (h != BPK_AGENT_HOOK_PROBES)
				status_mechanism(ho, h, stages);
			json_array_foreach(stages, i, rec) {
				struct bpf_prog_info info;
				_cleanup_free_ char *when = rfc3339(jint(rec, "loaded"));
				bool pinned = pinned_prog_info(jstr(rec, "dir"), &info) == 0;
				json_t *po = json_pack(
					"{s:s, s:I, s:I, s:s, s:s, s:s?, s:s, s:s, s:s, s:s?, s:b}",
					"name", jstr(rec, "name"), "seq_id",
					(json_int_t)jint(rec, "seq_id"), "prog_id",
					(json_int_t)(pinned ? info.id : 0), "program", jstr(rec, "prog"),
					"package", jstr(rec, "package"), "signer",
					json_string_value(json_object_get(rec, "signer")), "version",
					jstr(rec, "version"), "source", jstr(rec, "source"), "pin",
					jstr(rec, "dir"), "loaded_at", when, "pinned", pinned);

				if (!po || json_array_append_new(chain, po))
					return NULL;
				if (h != BPK_AGENT_HOOK_XDP_INGRESS)
					json_object_set_new(po, "link_id", json_integer(jint(rec, "link_id")));
				if (h == BPK_AGENT_HOOK_PROBES)
					json_object_set_new(po, "attach_to",
							    json_string(jstr(rec, "section")));
				if (jstr(rec, "map_name")[0])
					json_object_set_new(po, "map_name",
							    json_string(jstr(rec, "map_name")));
				if (pinned) {
					json_object_set_new(po, "run_cnt", json_integer((json_int_t)info.run_cnt));
					json_object_set_new(po, "run_time_ns",
							    json_integer((json_int_t)info.run_time_ns));
				}
			}
		}
	}
	json_object_set_new(root, "interfaces", TAKE_PTR(ifs));
	json_object_set_new(root, "applies", json_integer((json_int_t)a->applies));
	json_object_set_new(root, "apply_errors", json_integer((json_int_t)a->apply_errors));
	return bpk_json_dump(root, NULL);
}

/* Sum of a monitor_maps entry over the CPUs of a per-CPU map, or its value; 0 or -errno. */
static int monitor_value(const char *dir, const char *map, uint64_t key, uint64_t *ret)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	unsigned char k[8];
	int fd, err, cpus = libbpf_num_possible_cpus(), i, n;
	_cleanup_free_ unsigned char *val = NULL;

	err = open_sub(dir, "maps", map, &fd);
	if (err)
		return err;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	if (!err)
		err = bpk_agent_map_arg__encode(key, info.key_size, k);
	if (!err && (info.value_size > 8 || cpus <= 0))
		err = -EINVAL;
	n = info.type == BPF_MAP_TYPE_PERCPU_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_HASH ? cpus : 1;
	if (!err && !(val = calloc((size_t)n, 8)))
		err = -ENOMEM;
	if (!err && bpf_map_lookup_elem(fd, k, val))
		err = -errno;
	close(fd);
	if (err)
		return err;
	*ret = 0;
	for (i = 0; i < n; i++) {
		uint64_t v = 0;

		memcpy(&v, val + (size_t)i * (n > 1 ? 8 : info.value_size), info.value_size);
		*ret += v;
	}
	return 0;
}

char *bpk_agent__metrics(struct bpk_agent *a)
{
	struct strbuf sb = STRBUF_INIT;
	const char *iface;
	json_t *hooks;
	int h, pass;

	static const char *const heads[] = {
		"# HELP bpkd_program_runs_total Times the program ran (kernel.bpf_stats_enabled=1).\n"
		"# TYPE bpkd_program_runs_total counter\n",
		"# HELP bpkd_program_run_time_seconds_total Time the program ran (kernel.bpf_stats_enabled=1).\n"
		"# TYPE bpkd_program_run_time_seconds_total counter\n",
		"# HELP bpkd_monitor_map_value A monitor_maps entry, summed over CPUs.\n"
		"# TYPE bpkd_monitor_map_value gauge\n",
	};

	strbuf_addf(&sb,
		    "# HELP bpkd_applies_total Configuration changes asked for.\n"
		    "# TYPE bpkd_applies_total counter\nbpkd_applies_total %" PRIu64 "\n"
		    "# HELP bpkd_apply_errors_total Configuration changes refused or failed.\n"
		    "# TYPE bpkd_apply_errors_total counter\nbpkd_apply_errors_total %" PRIu64 "\n"
		    "# HELP bpkd_bpf_stats_enabled Whether the kernel counts program runs.\n"
		    "# TYPE bpkd_bpf_stats_enabled gauge\nbpkd_bpf_stats_enabled %d\n",
		    a->applies, a->apply_errors, stats_enabled());
	for (pass = 0; pass < 3; pass++) {
		strbuf_addstr(&sb, heads[pass]);
		json_object_foreach(a->chains, iface, hooks) {
			for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
				json_t *stages = json_object_get(hooks, bpk_agent_hook__name(h)), *rec, *m;
				size_t i, j;

				json_array_foreach(stages, i, rec) {
					struct bpf_prog_info info;
					/* A fused chain's stages never run on their own: its program does. */
					bool fused = pass < 2 && chain_fused(stages);
					const char *dir = fused ? fused_dir(stages) : jstr(rec, "dir");

					if (fused && i)
						break;
					if (pass < 2) {
						if (pinned_prog_info(dir, &info))
							continue;
						if (pass == 0)
							strbuf_addf(&sb, "bpkd_program_runs_total{iface=\"%s\",hook=\"%s\",program=\"%s\"} %llu\n",
								    iface, bpk_agent_hook__name(h),
								    fused ? FUSED_PROGRAM_LABEL : jstr(rec, "name"),
								    (unsigned long long)info.run_cnt);
						else
							strbuf_addf(&sb, "bpkd_program_run_time_seconds_total{iface=\"%s\",hook=\"%s\",program=\"%s\"} %.9f\n",
								    iface, bpk_agent_hook__name(h),
								    fused ? FUSED_PROGRAM_LABEL : jstr(rec, "name"),
								    (double)info.run_time_ns / 1e9);
						continue;
					}
					json_array_foreach(json_object_get(rec, "monitor_maps"), j, m) {
						uint64_t v;

						if (monitor_value(dir, jstr(m, "name"),
								  (uint64_t)jint(m, "key"), &v))
							continue;
						strbuf_addf(&sb, "bpkd_monitor_map_value{iface=\"%s\",hook=\"%s\",program=\"%s\",map=\"%s\",key=\"%" PRId64 "\",aggregator=\"%s\"} %" PRIu64 "\n",
							    iface, bpk_agent_hook__name(h),
							    jstr(rec, "name"), jstr(m, "name"),
							    jint(m, "key"), jstr(m, "aggregator"), v);
					}
				}
			}
		}
	}
	return strbuf_detach(&sb, NULL);
}

/* ---- the client side ---- */

int bpk_agent_client__request(const char *base_url, const char *method, const char *path,
			      const char *body, long *ret_status, char **ret_body)
{
	return bpk_agent_client__request_opts(base_url, method, path, body, NULL, NULL, ret_status,
					      ret_body);
}

int bpk_agent_client__request_opts(const char *base_url, const char *method, const char *path,
				   const char *body, const struct bpk_agent_client_opts *opts,
				   struct bpk_error *error, long *ret_status, char **ret_body)
{
	struct dl d = { STRBUF_INIT, BPK_DEFAULT_MAX_COMPRESSED };
	_cleanup_free_ char *url = NULL;
	struct curl_slist *headers = NULL;
	const char *base = base_url ?: BPK_AGENT_DEFAULT_URL;
	const char *ca = OPTS_GET(opts, ca_file, NULL), *cert = OPTS_GET(opts, cert_file, NULL);
	const char *key = OPTS_GET(opts, key_file, NULL);
	char curl_error[CURL_ERROR_SIZE] = "";
	size_t n = strlen(base);
	long status = 0;
	CURLcode rc;
	CURL *c;

	while (n && base[n - 1] == '/')
		n--;
	url = xasprintf("%.*s%s", (int)n, base, path);
	pthread_once(&curl_once, curl_init);
	c = url ? curl_easy_init() : NULL;
	if (!c)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error);
	/* TLS to the agent: its certificate always verified; ours only when asked for. */
	if (ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	if (cert)
		curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
	if (key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, key);
	if (body) {
		headers = curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		strbuf_release(&d.sb);
		bpk_error__set(error, NULL, NULL, "%s",
			       curl_error[0] ? curl_error : curl_easy_strerror(rc));
		switch (rc) {
		case CURLE_COULDNT_CONNECT:
			return -ECONNREFUSED;
		case CURLE_OPERATION_TIMEDOUT:
			return -ETIMEDOUT;
		case CURLE_COULDNT_RESOLVE_HOST:
			return -EHOSTUNREACH;
		case CURLE_PEER_FAILED_VERIFICATION:
			return -EKEYREJECTED;
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
			return -ENOENT;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
			return -EPROTO;
		default:
			return -EIO;
		}
	}
	*ret_status = status;
	*ret_body = strbuf_detach(&d.sb, NULL);
	return 0;
}

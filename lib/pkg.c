// SPDX-License-Identifier: BSD-2-Clause
/* The .bpk container: deterministic writing, and reading with every check of DESIGN.md §2. */
#define ZLIB_CONST
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include <openssl/evp.h>

#include "bpk_internal.h"

/* The longest path ustar can hold (155-byte prefix, '/', 100-byte name). */
#define PKG_PATH_MAX 255
#define PKG_MODE_FILE 0644
#define PKG_MODE_EXEC 0755
/* gzip's operating-system byte for Unix; fixed so the bytes do not depend on the build host. */
#define GZIP_OS_UNIX 3

struct pkg_entry {
	char *path;
	/* Followed by a NUL byte, so that text entries can be used as C strings. */
	char *data;
	size_t size;
	bool executable;
	/* SHA-256 of data, computed while it was read: one pass over the bytes, not two. */
	char sha256[65];
};

struct bpk_pkg {
	/* Sorted by path (strcmp), whatever the order in the archive. */
	struct pkg_entry *entries;
	size_t entry_cnt;
	size_t entry_alloc;
	struct bpk_manifest *manifest;
	const struct pkg_entry *manifest_entry;
	uint64_t size;
	char digest[65];
};

/* ---- paths ---- */

/* Why path cannot name a package entry, or NULL when it can. */
static const char *path_problem(const char *path)
{
	const char *p, *comp;
	size_t n;

	if (!path || !*path)
		return "has an empty path";
	if (strlen(path) > PKG_PATH_MAX)
		return "has a path longer than 255 bytes";
	if (path[0] == '/')
		return "is absolute";
	for (p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f)
			return "contains a control character";
		/* A separator on Windows, where packages are also unpacked. */
		if (c == '\\')
			return "contains a backslash";
	}
	for (comp = path;; comp += n + 1) {
		n = strcspn(comp, "/");
		if (n == 2 && comp[0] == '.' && comp[1] == '.')
			return "has a '..' component";
		if (n == 1 && comp[0] == '.')
			return "has a '.' component";
		if (n == 0)
			return "has an empty component";
		if (!comp[n])
			break;
	}
	return NULL;
}

bool bpk_pkg_path__valid(const char *path)
{
	return !path_problem(path);
}

/*
 * A path fit to show: entry names come from untrusted bytes, so a hostile name cannot drive
 * the terminal that prints it. Long enough to recognise, short enough not to flood a log.
 * Valid paths are returned unchanged. NULL on ENOMEM.
 */
static char *shown_path(const char *path)
{
	return str_shown(path, 1024, NULL);
}

/*
 * Report one problem with one entry: where is the entry's (shown) path and the message reads
 * "entry 'PATH' <what>". Returns 0 or -ENOMEM.
 */
__attribute__((format(printf, 4, 5))) static int entry_diag(struct bpk_diags *diags,
							     enum bpk_diag_code code,
							     const char *path, const char *fmt, ...)
{
	_cleanup_free_ char *shown = NULL, *what = NULL;
	va_list ap;
	int n;

	if (!diags)
		return 0;
	shown = shown_path(path);
	va_start(ap, fmt);
	n = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (!shown || n < 0) {
		/* vasprintf leaves its pointer undefined on failure. */
		if (n < 0)
			what = NULL;
		return -ENOMEM;
	}
	return bpk_diags__add(diags, code, shown, "entry '%s' %s", shown, what);
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * In sorted paths, find one that repeats the one before it or lies below another entry
 * ("a" and "a/b": a file cannot also be a directory). Returns its index and through
 * ret_other what it clashes with, or cnt when there is no clash.
 */
static size_t find_clash(const char *const *paths, size_t cnt, const char **ret_other)
{
	char prefix[PKG_PATH_MAX + 1];
	const char *const *hit;
	const char *slash;
	size_t i, n;

	for (i = 0; i < cnt; i++) {
		if (i > 0 && !strcmp(paths[i - 1], paths[i])) {
			*ret_other = paths[i - 1];
			return i;
		}
		for (slash = strchr(paths[i], '/'); slash; slash = strchr(slash + 1, '/')) {
			const char *key = prefix;

			n = (size_t)(slash - paths[i]);
			/* Valid paths are at most PKG_PATH_MAX bytes; be safe anyway. */
			if (n > PKG_PATH_MAX)
				break;
			memcpy(prefix, paths[i], n);
			prefix[n] = '\0';
			hit = bsearch(&key, paths, cnt, sizeof(*paths), cmp_str_ptr);
			if (hit) {
				*ret_other = *hit;
				return i;
			}
		}
	}
	return cnt;
}

/* ---- reading ---- */

struct pkg_limits {
	uint64_t max_expanded;
	uint32_t max_entries;
};

static void entries_release(struct bpk_pkg *pkg)
{
	size_t i;

	for (i = 0; i < pkg->entry_cnt; i++) {
		free(pkg->entries[i].path);
		free(pkg->entries[i].data);
	}
	free(pkg->entries);
	pkg->entries = NULL;
	pkg->entry_cnt = 0;
	pkg->entry_alloc = 0;
}

void bpk_pkg__free(struct bpk_pkg *pkg)
{
	if (!pkg)
		return;
	entries_release(pkg);
	bpk_manifest__free(pkg->manifest);
	free(pkg);
}

/*
 * Record libarchive's complaint about the archive (corrupt or truncated gzip or tar) as E013,
 * naming the entry being read when there is one. Returns the negative errno to fail with.
 */
static int archive_failure(struct archive *a, const char *path, struct bpk_diags *diags)
{
	const char *msg = archive_error_string(a);
	int err;

	if (!msg)
		msg = "unreadable archive";
	if (path)
		err = entry_diag(diags, BPK_E_ARCHIVE, path, "cannot be read: %s", msg);
	else
		err = bpk_diags__add(diags, BPK_E_ARCHIVE, NULL, "cannot read the archive: %s",
				     msg);
	if (err)
		return err;
	return archive_errno(a) == ENOMEM ? -ENOMEM : -EINVAL;
}

/* Why entry is not a plain regular file, or NULL when it is one. */
static const char *type_problem(struct archive_entry *entry)
{
	/* libarchive reports a hard link as a regular file with a link target. */
	if (archive_entry_symlink(entry))
		return "is a symbolic link";
	if (archive_entry_hardlink(entry))
		return "is a hard link";
	switch (archive_entry_filetype(entry)) {
	case AE_IFREG:
		break;
	case AE_IFDIR:
		return "is a directory";
	case AE_IFLNK:
		return "is a symbolic link";
	case AE_IFCHR:
		return "is a character device";
	case AE_IFBLK:
		return "is a block device";
	case AE_IFIFO:
		return "is a fifo";
	case AE_IFSOCK:
		return "is a socket";
	default:
		return "is not a regular file";
	}
	/* Holes are a GNU/pax extension bpk never writes; refusing them keeps offsets simple. */
	if (archive_entry_sparse_count(entry) > 0)
		return "is a sparse file";
	return NULL;
}

/*
 * Read the data of the current entry, at most budget bytes. The bytes are counted as they
 * come out of libarchive: a header may lie, and a gzip bomb must stop at the limit rather
 * than when memory runs out.
 */
static int read_entry_data(struct archive *a, struct archive_entry *entry, const char *path,
			   uint64_t budget, uint64_t max_expanded, struct pkg_entry *pe,
			   struct bpk_diags *diags)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	const void *block;
	la_int64_t offset;
	EVP_MD_CTX *ctx;
	size_t n;
	int r, err;

	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	if (archive_entry_size_is_set(entry)) {
		la_int64_t declared = archive_entry_size(entry);

		if (declared < 0 || (uint64_t)declared > budget) {
			err = entry_diag(diags, BPK_E_ARCHIVE, path,
					 "declares %" PRId64 " bytes, which takes the package past"
					 " the limit of %" PRIu64 " expanded bytes",
					 (int64_t)declared, max_expanded);
			err = err ?: -EFBIG;
			goto fail;
		}
		/* Within budget, so a lying header costs at most the limit, never more. */
		err = strbuf_grow(&sb, (size_t)declared);
		if (err)
			goto fail;
	}
	for (;;) {
		r = archive_read_data_block(a, &block, &n, &offset);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			err = archive_failure(a, path, diags);
			goto fail;
		}
		if (offset < 0 || (uint64_t)offset != sb.len) {
			err = entry_diag(diags, BPK_E_ARCHIVE, path, "has holes in its data");
			err = err ?: -EINVAL;
			goto fail;
		}
		if (n > budget - sb.len) {
			err = entry_diag(diags, BPK_E_ARCHIVE, path,
					 "takes the package past the limit of %" PRIu64
					 " expanded bytes", max_expanded);
			err = err ?: -EFBIG;
			goto fail;
		}
		err = strbuf_add(&sb, block, n);
		if (err)
			goto fail;
		/* While the block is still in cache. */
		if (EVP_DigestUpdate(ctx, block, n) != 1) {
			err = -EIO;
			goto fail;
		}
	}
	/* Adding nothing NUL-terminates even an empty entry's buffer. */
	err = strbuf_add(&sb, "", 0);
	if (err)
		goto fail;
	if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != 32) {
		err = -EIO;
		goto fail;
	}
	EVP_MD_CTX_free(ctx);
	hex_encode(md, 32, pe->sha256);
	pe->data = strbuf_detach(&sb, &pe->size);
	return pe->data ? 0 : -ENOMEM;
fail:
	EVP_MD_CTX_free(ctx);
	strbuf_release(&sb);
	return err;
}

/* Check and read the entry at the archive's current header into pkg. */
static int read_entry(struct bpk_pkg *pkg, struct archive *a, struct archive_entry *entry,
		      const struct pkg_limits *lim, uint64_t *expanded, struct bpk_diags *diags)
{
	const char *path = archive_entry_pathname(entry);
	struct pkg_entry *pe;
	const char *why;
	int err;

	if (!path)
		path = "";
	if (pkg->entry_cnt >= lim->max_entries) {
		err = entry_diag(diags, BPK_E_ARCHIVE, path,
				 "is past the limit of %" PRIu32 " entries", lim->max_entries);
		return err ?: -EFBIG;
	}
	why = type_problem(entry);
	if (!why)
		why = path_problem(path);
	if (why) {
		err = entry_diag(diags, BPK_E_ARCHIVE, path, "%s", why);
		return err ?: -EINVAL;
	}
	if (pkg->entry_cnt == pkg->entry_alloc) {
		size_t alloc = pkg->entry_alloc ? pkg->entry_alloc * 2 : 16;
		struct pkg_entry *entries = reallocarray(pkg->entries, alloc, sizeof(*entries));

		if (!entries)
			return -ENOMEM;
		pkg->entries = entries;
		pkg->entry_alloc = alloc;
	}
	pe = &pkg->entries[pkg->entry_cnt];
	memset(pe, 0, sizeof(*pe));
	pe->path = strdup(path);
	if (!pe->path)
		return -ENOMEM;
	/* Counted before the data is read, so that entries_release() frees a partial one. */
	pkg->entry_cnt++;
	pe->executable = (archive_entry_perm(entry) & 0111) != 0;
	err = read_entry_data(a, entry, path, lim->max_expanded - *expanded, lim->max_expanded, pe,
			      diags);
	if (err)
		return err;
	*expanded += pe->size;
	return 0;
}

static int read_entries(struct bpk_pkg *pkg, const void *buf, size_t len,
			const struct pkg_limits *lim, struct bpk_diags *diags)
{
	struct archive_entry *entry;
	uint64_t expanded = 0;
	struct archive *a;
	int err = 0, r;

	a = archive_read_new();
	if (!a)
		return -ENOMEM;
	/*
	 * gzip and tar only: every other format and filter libarchive knows is attack surface
	 * bpk does not need. ARCHIVE_WARN here would mean an external gzip program: refuse it.
	 */
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(a) != ARCHIVE_OK) {
		err = -EOPNOTSUPP;
		goto out;
	}
	/*
	 * Read past the end-of-archive marker: an entry hidden after it (a second gzip member,
	 * say) would be unpacked by extractors that read on, so it must be seen and judged.
	 */
	if (archive_read_set_format_option(a, "tar", "read_concatenated_archives", "1") !=
	    ARCHIVE_OK) {
		err = -EOPNOTSUPP;
		goto out;
	}
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		err = archive_failure(a, NULL, diags);
		goto out;
	}
	/* The "none" filter is always there; a .bpk is compressed, so refuse a bare tar. */
	if (archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
		err = bpk_diags__add(diags, BPK_E_ARCHIVE, NULL,
				     "the package is not a gzip-compressed archive");
		err = err ?: -EINVAL;
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(a, &entry);
		if (r == ARCHIVE_EOF)
			break;
		/* A warning (malformed pax data, say) is as much a refusal as an error. */
		if (r != ARCHIVE_OK) {
			err = archive_failure(a, NULL, diags);
			goto out;
		}
		err = read_entry(pkg, a, entry, lim, &expanded, diags);
		if (err)
			goto out;
	}
out:
	archive_read_free(a);
	return err;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct pkg_entry *)a)->path, ((const struct pkg_entry *)b)->path);
}

static const struct pkg_entry *find_entry(const struct bpk_pkg *pkg, const char *path)
{
	struct pkg_entry key = { .path = (char *)path };

	if (!pkg->entry_cnt)
		return NULL;
	return bsearch(&key, pkg->entries, pkg->entry_cnt, sizeof(key), cmp_entry);
}

/* Sort the entries and refuse duplicates and files that would also be directories. */
static int sort_entries(struct bpk_pkg *pkg, struct bpk_diags *diags)
{
	_cleanup_free_ const char **paths = NULL;
	const char *other = NULL;
	size_t i, clash;
	int err;

	if (!pkg->entry_cnt)
		return 0;
	qsort(pkg->entries, pkg->entry_cnt, sizeof(*pkg->entries), cmp_entry);
	paths = calloc(pkg->entry_cnt, sizeof(*paths));
	if (!paths)
		return -ENOMEM;
	for (i = 0; i < pkg->entry_cnt; i++)
		paths[i] = pkg->entries[i].path;
	clash = find_clash(paths, pkg->entry_cnt, &other);
	if (clash == pkg->entry_cnt)
		return 0;
	if (!strcmp(other, paths[clash]))
		err = entry_diag(diags, BPK_E_ARCHIVE, paths[clash], "appears more than once");
	else
		err = entry_diag(diags, BPK_E_ARCHIVE, paths[clash],
				 "lies below '%s', which is a file", other);
	return err ?: -EINVAL;
}

static int load_manifest(struct bpk_pkg *pkg, struct bpk_diags *diags)
{
	const struct pkg_entry *pe = find_entry(pkg, BPK_MANIFEST_PATH);
	int err;

	if (!pe) {
		err = bpk_diags__add(diags, BPK_E_MISSING_MANIFEST, BPK_MANIFEST_PATH,
				     "the package has no %s", BPK_MANIFEST_PATH);
		return err ?: -EINVAL;
	}
	pkg->manifest_entry = pe;
	/* The manifest's own diagnostics say what is wrong with it. */
	pkg->manifest = bpk_manifest__parse(pe->data, pe->size, BPK_MANIFEST_PACKED, diags);
	if (!pkg->manifest)
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	return 0;
}

/*
 * Hold the entries to the manifest's "files": every entry but bpk.json and bpk.sig listed,
 * every listed file present with its size and SHA-256. Reports every mismatch.
 */
static int check_files(struct bpk_pkg *pkg, struct bpk_diags *diags)
{
	const struct bpk_manifest *m = pkg->manifest;
	const struct bpk_manifest_file *f;
	const struct pkg_entry *pe;
	int mismatches = 0, err;
	size_t i;

	for (i = 0; i < pkg->entry_cnt; i++) {
		pe = &pkg->entries[i];
		if (!strcmp(pe->path, BPK_MANIFEST_PATH) || !strcmp(pe->path, BPK_SIGNATURE_PATH))
			continue;
		if (bpk_manifest__find_file(m, pe->path))
			continue;
		err = entry_diag(diags, BPK_E_FILES_MISMATCH, pe->path,
				 "is not listed in %s 'files'", BPK_MANIFEST_PATH);
		if (err)
			return err;
		mismatches++;
	}
	for (i = 0; i < bpk_manifest__file_cnt(m); i++) {
		f = bpk_manifest__file(m, i);
		pe = find_entry(pkg, f->path);
		if (!pe) {
			err = entry_diag(diags, BPK_E_FILES_MISMATCH, f->path,
					 "is listed in %s 'files' but is not in the package",
					 BPK_MANIFEST_PATH);
		} else if (pe->size != f->size) {
			err = entry_diag(diags, BPK_E_FILES_MISMATCH, f->path,
					 "is %zu bytes but %s 'files' says %" PRIu64, pe->size,
					 BPK_MANIFEST_PATH, f->size);
		} else {
			if (!strcmp(pe->sha256, f->sha256))
				continue;
			err = entry_diag(diags, BPK_E_FILES_MISMATCH, f->path,
					 "has SHA-256 %s but %s 'files' says %s", pe->sha256,
					 BPK_MANIFEST_PATH, f->sha256);
		}
		if (err)
			return err;
		mismatches++;
	}
	return mismatches ? -EINVAL : 0;
}

struct bpk_pkg *bpk_pkg__open_mem(const void *buf, size_t len, const struct bpk_pkg_open_opts *opts,
				  struct bpk_diags *diags)
{
	uint64_t max_compressed = OPTS_GET(opts, max_compressed, 0) ?: BPK_DEFAULT_MAX_COMPRESSED;
	struct pkg_limits lim = {
		.max_expanded = OPTS_GET(opts, max_expanded, 0) ?: BPK_DEFAULT_MAX_EXPANDED,
		.max_entries = OPTS_GET(opts, max_entries, 0) ?: BPK_DEFAULT_MAX_ENTRIES,
	};
	struct bpk_pkg *pkg;
	int err;

	if (!buf && len) {
		errno = EINVAL;
		return NULL;
	}
	if (len > max_compressed) {
		err = bpk_diags__add(diags, BPK_E_ARCHIVE, NULL,
				     "the package is %zu bytes, past the limit of %" PRIu64
				     " bytes", len, max_compressed);
		errno = err ? -err : EFBIG;
		return NULL;
	}
	if (!len) {
		err = bpk_diags__add(diags, BPK_E_ARCHIVE, NULL, "the package is empty");
		errno = err ? -err : EINVAL;
		return NULL;
	}
	pkg = calloc(1, sizeof(*pkg));
	if (!pkg) {
		errno = ENOMEM;
		return NULL;
	}
	err = read_entries(pkg, buf, len, &lim, diags);
	if (!err)
		err = sort_entries(pkg, diags);
	if (!err)
		err = load_manifest(pkg, diags);
	if (!err && !OPTS_GET(opts, no_manifest_check, false))
		err = check_files(pkg, diags);
	if (!err && !OPTS_GET(opts, no_digest, false))
		err = bpk_sha256_hex(buf, len, pkg->digest);
	if (err) {
		bpk_pkg__free(pkg);
		errno = -err;
		return NULL;
	}
	pkg->size = len;
	return pkg;
}

struct bpk_pkg *bpk_pkg__open(const char *path, const struct bpk_pkg_open_opts *opts,
			      struct bpk_diags *diags)
{
	uint64_t max_compressed = OPTS_GET(opts, max_compressed, 0) ?: BPK_DEFAULT_MAX_COMPRESSED;
	_cleanup_free_ char *data = NULL;
	struct bpk_pkg *pkg;
	size_t len = 0;
	int err;

	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	err = read_file(path, max_compressed > SIZE_MAX ? SIZE_MAX : (size_t)max_compressed, &data,
			&len);
	if (err == -EFBIG) {
		err = bpk_diags__add(diags, BPK_E_ARCHIVE, path,
				     "'%s' is larger than the limit of %" PRIu64 " bytes", path,
				     max_compressed);
		errno = err ? -err : EFBIG;
		return NULL;
	}
	/* Other errors (ENOENT, EACCES...) are the caller's to report with the path. */
	if (err) {
		errno = -err;
		return NULL;
	}
	pkg = bpk_pkg__open_mem(data, len, opts, diags);
	return pkg;
}

/* ---- accessors ---- */

const struct bpk_manifest *bpk_pkg__manifest(const struct bpk_pkg *pkg)
{
	return pkg->manifest;
}

const void *bpk_pkg__manifest_bytes(const struct bpk_pkg *pkg, size_t *ret_len)
{
	if (ret_len)
		*ret_len = pkg->manifest_entry->size;
	return pkg->manifest_entry->data;
}

const char *bpk_pkg__digest(const struct bpk_pkg *pkg)
{
	return pkg->digest;
}

uint64_t bpk_pkg__size(const struct bpk_pkg *pkg)
{
	return pkg->size;
}

size_t bpk_pkg__entry_cnt(const struct bpk_pkg *pkg)
{
	return pkg->entry_cnt;
}

const char *bpk_pkg__entry(const struct bpk_pkg *pkg, size_t idx, const void **ret_data,
			   size_t *ret_size)
{
	const struct pkg_entry *pe;

	if (idx >= pkg->entry_cnt)
		return NULL;
	pe = &pkg->entries[idx];
	if (ret_data)
		*ret_data = pe->data;
	if (ret_size)
		*ret_size = pe->size;
	return pe->path;
}

const void *bpk_pkg__file(const struct bpk_pkg *pkg, const char *path, size_t *ret_size)
{
	const struct pkg_entry *pe = path ? find_entry(pkg, path) : NULL;

	if (!pe)
		return NULL;
	if (ret_size)
		*ret_size = pe->size;
	return pe->data;
}

/* ---- extraction ---- */

/* What extraction made, so that a failure can take it back. */
struct made_item {
	char *path;
	bool is_dir;
};

struct made_list {
	struct made_item *items;
	size_t cnt;
	size_t alloc;
};

static int made_add(struct made_list *made, const char *path, size_t len, bool is_dir)
{
	struct made_item *it;

	if (made->cnt == made->alloc) {
		size_t alloc = made->alloc ? made->alloc * 2 : 16;
		struct made_item *items = reallocarray(made->items, alloc, sizeof(*items));

		if (!items)
			return -ENOMEM;
		made->items = items;
		made->alloc = alloc;
	}
	it = &made->items[made->cnt];
	it->path = strndup(path, len);
	if (!it->path)
		return -ENOMEM;
	it->is_dir = is_dir;
	made->cnt++;
	return 0;
}

static void made_release(struct made_list *made)
{
	size_t i;

	for (i = 0; i < made->cnt; i++)
		free(made->items[i].path);
	free(made->items);
}

/*
 * Walk the directories of path below root_fd, one component at a time with O_NOFOLLOW, so
 * that a symlink planted in the target (or raced in) cannot lead outside it. With made, the
 * missing directories are created and recorded. Returns an fd of the parent directory and the
 * last component through ret_base, or a negative errno.
 */
static int open_parent(int root_fd, const char *path, struct made_list *made,
		       const char **ret_base)
{
	char comp[PKG_PATH_MAX + 1];
	const char *p = path, *slash;
	int fd, next, err;
	size_t n;

	fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	while ((slash = strchr(p, '/'))) {
		n = (size_t)(slash - p);
		if (n > PKG_PATH_MAX) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (made) {
			if (mkdirat(fd, comp, PKG_MODE_EXEC) == 0) {
				err = made_add(made, path, (size_t)(slash - path), true);
				if (err) {
					unlinkat(fd, comp, AT_REMOVEDIR);
					close(fd);
					return err;
				}
			} else if (errno != EEXIST) {
				err = -errno;
				close(fd);
				return err;
			}
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		err = -errno;
		close(fd);
		if (next < 0)
			return err;
		fd = next;
		p = slash + 1;
	}
	*ret_base = p;
	return fd;
}

static int extract_entry(int root_fd, const struct pkg_entry *pe, struct made_list *made)
{
	mode_t mode = pe->executable ? PKG_MODE_EXEC : PKG_MODE_FILE;
	_cleanup_close_ int dir_fd = -1;
	const char *base;
	int fd, err;

	if (!bpk_pkg_path__valid(pe->path))
		return -EINVAL;
	dir_fd = open_parent(root_fd, pe->path, made, &base);
	if (dir_fd < 0)
		return dir_fd;
	/* O_EXCL: never overwrite, nor write through, anything already there. */
	fd = openat(dir_fd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	err = made_add(made, pe->path, strlen(pe->path), false);
	if (err) {
		close(fd);
		unlinkat(dir_fd, base, 0);
		return err;
	}
	err = write_all(fd, pe->data, pe->size);
	/* The recorded mode exactly, whatever the umask. */
	if (!err && fchmod(fd, mode) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

/* Remove what extraction made, newest first, so that files go before their directories. */
static void undo_extract(int root_fd, const struct made_list *made)
{
	const char *base;
	size_t i;
	int fd;

	for (i = made->cnt; i-- > 0;) {
		fd = open_parent(root_fd, made->items[i].path, NULL, &base);
		if (fd < 0)
			continue;
		unlinkat(fd, base, made->items[i].is_dir ? AT_REMOVEDIR : 0);
		close(fd);
	}
}

int bpk_pkg__extract(const struct bpk_pkg *pkg, const char *dir)
{
	struct made_list made = { NULL, 0, 0 };
	int root_fd, err = 0;
	size_t i;

	if (!pkg || !dir)
		return -EINVAL;
	root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -errno;
	for (i = 0; i < pkg->entry_cnt && !err; i++)
		err = extract_entry(root_fd, &pkg->entries[i], &made);
	if (err)
		undo_extract(root_fd, &made);
	made_release(&made);
	close(root_fd);
	return err;
}

/* ---- writing ---- */

static int cmp_pkg_entry_ptr(const void *a, const void *b)
{
	return strcmp((*(const struct bpk_pkg_entry *const *)a)->path,
		      (*(const struct bpk_pkg_entry *const *)b)->path);
}

static la_ssize_t append_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	if (strbuf_add(ctx, buf, len)) {
		archive_set_error(a, ENOMEM, "out of memory");
		return -1;
	}
	return (la_ssize_t)len;
}

/* A failed libarchive call while writing, as a negative errno. */
static int archive_write_error(struct archive *a)
{
	int e = archive_errno(a);

	/* Pathname too long for ustar's 155 + 100 bytes: the caller's path is the problem. */
	if (e == ENOMEM || e == ENAMETOOLONG)
		return -e;
	return -EINVAL;
}

/* Write the entries, already checked and sorted, as an uncompressed ustar archive. */
static int write_tar(const struct bpk_pkg_entry *const *sorted, size_t cnt, struct strbuf *tar)
{
	struct archive_entry *entry = NULL;
	struct archive *a;
	const char *data;
	la_ssize_t n;
	size_t i, done;
	int err = 0;

	a = archive_write_new();
	if (!a)
		return -ENOMEM;
	entry = archive_entry_new();
	if (!entry) {
		err = -ENOMEM;
		goto out;
	}
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_open(a, tar, NULL, append_cb, NULL) != ARCHIVE_OK) {
		err = archive_write_error(a);
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		/* Only what is set here reaches the header: no owner names, times or devices. */
		archive_entry_clear(entry);
		archive_entry_copy_pathname(entry, sorted[i]->path);
		archive_entry_set_filetype(entry, AE_IFREG);
		archive_entry_set_perm(entry,
				       sorted[i]->executable ? PKG_MODE_EXEC : PKG_MODE_FILE);
		archive_entry_set_size(entry, (la_int64_t)sorted[i]->size);
		archive_entry_set_mtime(entry, 0, 0);
		archive_entry_set_uid(entry, 0);
		archive_entry_set_gid(entry, 0);
		if (archive_write_header(a, entry) != ARCHIVE_OK) {
			err = archive_write_error(a);
			goto out;
		}
		data = sorted[i]->data;
		for (done = 0; done < sorted[i]->size; done += (size_t)n) {
			n = archive_write_data(a, data + done, sorted[i]->size - done);
			if (n <= 0) {
				err = archive_write_error(a);
				goto out;
			}
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		err = archive_write_error(a);
out:
	archive_entry_free(entry);
	archive_write_free(a);
	return err;
}

/*
 * gzip with zlib directly rather than libarchive's filter: the header is set here field by
 * field (no name, mtime 0, OS fixed), so the bytes depend only on the input and zlib.
 */
static int gzip_deterministic(const void *in, size_t in_len, struct strbuf *out)
{
	gz_header header = { .os = GZIP_OS_UNIX };
	const unsigned char *next = in;
	size_t left = in_len, produced, room;
	z_stream zs = { 0 };
	int zerr, err = 0;

	if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	if (deflateSetHeader(&zs, &header) != Z_OK) {
		err = -EINVAL;
		goto out;
	}
	do {
		/* zlib counts in uInt; feed larger inputs in pieces. */
		if (!zs.avail_in && left) {
			zs.avail_in = left > UINT_MAX ? UINT_MAX : (uInt)left;
			zs.next_in = next;
			next += zs.avail_in;
			left -= zs.avail_in;
		}
		err = strbuf_grow(out, 1 << 16);
		if (err)
			goto out;
		zs.next_out = (unsigned char *)out->buf + out->len;
		room = out->alloc - out->len - 1;
		zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
		produced = zs.avail_out;
		zerr = deflate(&zs, left || zs.avail_in ? Z_NO_FLUSH : Z_FINISH);
		if (zerr != Z_OK && zerr != Z_STREAM_END && zerr != Z_BUF_ERROR) {
			err = -EIO;
			goto out;
		}
		out->len += produced - zs.avail_out;
	} while (zerr != Z_STREAM_END);
	out->buf[out->len] = '\0';
out:
	deflateEnd(&zs);
	return err;
}

int bpk_pkg__write_mem(const struct bpk_pkg_entry *entries, size_t cnt, void **ret_buf,
		       size_t *ret_len)
{
	const struct bpk_pkg_entry **sorted = NULL;
	struct strbuf tar = STRBUF_INIT, gz = STRBUF_INIT;
	const char **paths = NULL;
	const char *other;
	size_t i;
	int err = 0;

	if ((cnt && !entries) || !ret_buf || !ret_len)
		return -EINVAL;
	sorted = calloc(cnt ?: 1, sizeof(*sorted));
	paths = calloc(cnt ?: 1, sizeof(*paths));
	if (!sorted || !paths) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		const struct bpk_pkg_entry *e = &entries[i];

		if (!bpk_pkg_path__valid(e->path) || (e->size && !e->data)) {
			err = -EINVAL;
			goto out;
		}
		sorted[i] = &entries[i];
	}
	qsort(sorted, cnt, sizeof(*sorted), cmp_pkg_entry_ptr);
	for (i = 0; i < cnt; i++)
		paths[i] = sorted[i]->path;
	/* What a reader would refuse is never written. */
	if (find_clash(paths, cnt, &other) != cnt) {
		err = -EINVAL;
		goto out;
	}
	err = write_tar(sorted, cnt, &tar);
	if (!err)
		err = gzip_deterministic(tar.buf, tar.len, &gz);
	if (!err) {
		*ret_buf = strbuf_detach(&gz, ret_len);
		if (!*ret_buf)
			err = -ENOMEM;
	}
out:
	strbuf_release(&gz);
	strbuf_release(&tar);
	free(paths);
	free(sorted);
	return err;
}

int bpk_pkg__write_file(const struct bpk_pkg_entry *entries, size_t cnt, const char *path)
{
	_cleanup_free_ void *buf = NULL;
	size_t len = 0;
	int err;

	if (!path)
		return -EINVAL;
	err = bpk_pkg__write_mem(entries, cnt, &buf, &len);
	if (err)
		return err;
	return write_file_atomic(path, buf, len, PKG_MODE_FILE);
}

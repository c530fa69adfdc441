/* SPDX-License-Identifier: BSD-2-Clause */
/* The .bpk container: a deterministic gzip'd ustar archive, read with every check of §2. */
#ifndef BPK_PKG_H
#define BPK_PKG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpk/diag.h>

struct bpk_pkg;
struct bpk_manifest;

#define BPK_MANIFEST_PATH "bpk.json"
#define BPK_SIGNATURE_PATH "bpk.sig"

struct bpk_pkg_open_opts {
	size_t sz;
	uint64_t max_compressed;	/* 0: BPK_DEFAULT_MAX_COMPRESSED */
	uint64_t max_expanded;		/* 0: BPK_DEFAULT_MAX_EXPANDED (sum of entry sizes) */
	uint32_t max_entries;		/* 0: BPK_DEFAULT_MAX_ENTRIES */
	/*
	 * Skip the checks against the manifest (files listed, sizes, digests). Only for tools
	 * that must show a broken package; bpk never installs one opened this way.
	 */
	bool no_manifest_check;
	/*
	 * Skip the SHA-256 of the whole .bpk (bpk_pkg__digest() is then ""): a verifier that
	 * checks every file and the signature does not need it, and it is a second full hash.
	 */
	bool no_digest;
};
#define bpk_pkg_open_opts__last_field no_digest

/*
 * Read a package from memory. Refuses, with one E013 archive (or E001/E002/E008/E014)
 * diagnostic naming the entry: absolute paths, "..", empty or "." components, non-regular
 * entries (links, devices, directories, fifos), duplicate paths, more entries or more
 * expanded bytes than the limits, a missing or invalid bpk.json, entries not listed in the
 * manifest, and listed files that are missing or whose size or SHA-256 differ.
 * Returns the package, owned by the caller, or NULL with errno EINVAL (see diags), EFBIG
 * (past a limit) or ENOMEM.
 */
struct bpk_pkg *bpk_pkg__open_mem(const void *buf, size_t len, const struct bpk_pkg_open_opts *opts,
				  struct bpk_diags *diags);
/* The same for a file. */
struct bpk_pkg *bpk_pkg__open(const char *path, const struct bpk_pkg_open_opts *opts,
			      struct bpk_diags *diags);
void bpk_pkg__free(struct bpk_pkg *pkg);

/* The parsed manifest (owned by the package). */
const struct bpk_manifest *bpk_pkg__manifest(const struct bpk_pkg *pkg);
/* The exact bytes of bpk.json, which signatures cover. */
const void *bpk_pkg__manifest_bytes(const struct bpk_pkg *pkg, size_t *ret_len);
/* SHA-256 (hex) of the whole .bpk as read. */
const char *bpk_pkg__digest(const struct bpk_pkg *pkg);
uint64_t bpk_pkg__size(const struct bpk_pkg *pkg);

size_t bpk_pkg__entry_cnt(const struct bpk_pkg *pkg);
/* Entry idx, in archive (sorted) order. Returns its path; data and size through ret_*. */
const char *bpk_pkg__entry(const struct bpk_pkg *pkg, size_t idx, const void **ret_data,
			   size_t *ret_size);
/* Contents of the entry at path, or NULL if there is none. */
const void *bpk_pkg__file(const struct bpk_pkg *pkg, const char *path, size_t *ret_size);

/*
 * Extract every entry under dir, which must exist. Files are created with openat(O_EXCL |
 * O_NOFOLLOW) below dir only; intermediate directories are created, never followed if they
 * are symlinks. Returns 0 or a negative errno; on failure what was written is removed.
 */
int bpk_pkg__extract(const struct bpk_pkg *pkg, const char *dir);

/* One file to write into a package. */
struct bpk_pkg_entry {
	const char *path;
	const void *data;
	size_t size;
	bool executable; /* mode 0755 instead of 0644 */
};

/*
 * Write a package deterministically to memory: entries sorted by path, ustar, mtime 0,
 * uid/gid 0, uname/gname empty, mode 0644/0755, gzip level 9 with no name or time in its
 * header. The same entries always give the same bytes. Refuses unsafe or duplicate paths
 * with -EINVAL. Caller frees *ret_buf. Returns 0 or a negative errno.
 */
int bpk_pkg__write_mem(const struct bpk_pkg_entry *entries, size_t cnt, void **ret_buf,
		       size_t *ret_len);
/* The same, to path, atomically (temp file, fsync, rename). */
int bpk_pkg__write_file(const struct bpk_pkg_entry *entries, size_t cnt, const char *path);

/* Whether path is an acceptable package entry path (relative, no "..", "." or empty parts). */
bool bpk_pkg_path__valid(const char *path);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* The package manifest (bpk.json): parse, validate, query, edit and emit. */
#ifndef BPK_MANIFEST_H
#define BPK_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpk/diag.h>

struct bpk_manifest;
struct bpk_obj_info;

enum bpk_platform {
	BPK_PLATFORM_LINUX = 1 << 0,
	BPK_PLATFORM_WINDOWS = 1 << 1,
};

/* One entry of the manifest's "files" list. */
struct bpk_manifest_file {
	const char *path;
	const char *sha256; /* 64 lowercase hex digits */
	uint64_t size;
};

enum bpk_manifest_mode {
	/*
	 * A package being authored: the derived fields ("programs", "maps", "files") may be
	 * absent, since `bpk pack` writes them.
	 */
	BPK_MANIFEST_SOURCE,
	/* A packed package: the derived fields are required. */
	BPK_MANIFEST_PACKED,
};

/*
 * Parse and validate a manifest. Every problem found is appended to diags (which may be
 * NULL), each naming the field: "'version': "1.2" is not SemVer 2.0". Returns the manifest,
 * owned by the caller, or NULL with errno EINVAL (invalid; see diags) or ENOMEM.
 * Unknown fields are kept and emitted again unchanged.
 */
struct bpk_manifest *bpk_manifest__parse(const void *buf, size_t len, enum bpk_manifest_mode mode,
					 struct bpk_diags *diags);
void bpk_manifest__free(struct bpk_manifest *manifest);

/*
 * Emit as UTF-8 JSON, 2-space indented, keys in the manifest's own order (known fields in the
 * order of DESIGN.md §2 when bpk created them), ending in a newline. Deterministic.
 * Caller frees. NULL on ENOMEM.
 */
char *bpk_manifest__emit(const struct bpk_manifest *manifest, size_t *ret_len);

const char *bpk_manifest__name(const struct bpk_manifest *manifest);
const char *bpk_manifest__version(const struct bpk_manifest *manifest);
const char *bpk_manifest__description(const struct bpk_manifest *manifest);
const char *bpk_manifest__license(const struct bpk_manifest *manifest);
/* Feed of the package: the part of the name before '/', or "public". */
const char *bpk_manifest__feed(const struct bpk_manifest *manifest);
unsigned int bpk_manifest__platforms(const struct bpk_manifest *manifest);
/* requires.kernel, e.g. ">=5.15", or NULL. */
const char *bpk_manifest__kernel_req(const struct bpk_manifest *manifest);
bool bpk_manifest__requires_btf(const struct bpk_manifest *manifest);
/* True when "license" is one SPDX id (so no LICENSE file is needed). */
bool bpk_manifest__license_is_single_id(const struct bpk_manifest *manifest);
/* The base name of packed files: "NAME-VERSION.bpk" with '/' in NAME turned to '-'. Caller frees. */
char *bpk_manifest__package_filename(const struct bpk_manifest *manifest);

size_t bpk_manifest__file_cnt(const struct bpk_manifest *manifest);
const struct bpk_manifest_file *bpk_manifest__file(const struct bpk_manifest *manifest, size_t idx);
/* The "files" entry for path, or NULL. */
const struct bpk_manifest_file *bpk_manifest__find_file(const struct bpk_manifest *manifest,
							 const char *path);
/* Whether "programs"/"maps"/"files" are present (always true for a packed manifest). */
bool bpk_manifest__has_derived(const struct bpk_manifest *manifest);

/*
 * Replace the derived fields. objs are the inspected objects, with obj_paths their paths in
 * the package ("bpf/x.o"); files the complete list of package files except bpk.json and
 * bpk.sig. Author-written per-map fields ("config", "description") of maps with the same name
 * are kept. Returns 0 or a negative errno.
 */
int bpk_manifest__set_derived(struct bpk_manifest *manifest, const struct bpk_obj_info *const *objs,
			      const char *const *obj_paths, size_t obj_cnt,
			      const struct bpk_manifest_file *files, size_t file_cnt);

/*
 * Compare the manifest's "programs" and "maps" with what the objects say, appending E006/E007
 * naming the first differing field of each program or map. Returns the number of mismatches.
 */
int bpk_manifest__check_derived(const struct bpk_manifest *manifest,
				const struct bpk_obj_info *const *objs, const char *const *obj_paths,
				size_t obj_cnt, struct bpk_diags *diags);

/*
 * Validators, exposed for other modules and tests.
 * bpk_semver__valid: SemVer 2.0.0 (no leading 'v', no leading zeros, prerelease/build ok).
 * bpk_semver__cmp: SemVer precedence; both must be valid. Returns <0, 0, >0.
 * bpk_name__valid: [a-z0-9][a-z0-9._-]{0,99}, optionally "feed/name" with both parts so.
 * bpk_spdx__valid: an SPDX license expression (ids, "WITH" exceptions, AND/OR, parentheses);
 *   ids checked against the SPDX list bpk knows, LicenseRef-* allowed.
 * bpk_spdx__is_gpl_compatible: whether a BPF object's license string (as the kernel sees it,
 *   "GPL", "Dual BSD/GPL", ...) lets it call GPL-only helpers (the kernel's license_is_gpl_compatible).
 * bpk_kernel_req__valid / __matches: ">=5.15", ">=5.15 <6.0", "5.10.*"; matches a release.
 */
bool bpk_semver__valid(const char *version);
int bpk_semver__cmp(const char *a, const char *b);
bool bpk_name__valid(const char *name);
bool bpk_spdx__valid(const char *expression, const char **ret_bad_token);
bool bpk_spdx__is_gpl_compatible(const char *kernel_license_string);
bool bpk_kernel_req__valid(const char *req);
bool bpk_kernel_req__matches(const char *req, const char *release);
/* Whether req admits more than one kernel major.minor (so CO-RE matters). */
bool bpk_kernel_req__spans_versions(const char *req);

/*
 * SemVer ranges, for resolving NAME@RANGE (docs/spec/repository.md §6.2): "1.2.3" or
 * "=1.2.3" (exactly), "^1.2" (>=1.2.0 <2.0.0), "~1.2.3" (>=1.2.3 <1.3.0), "1.x", "*",
 * comparators ">=1.0.0 <2.0.0" (all must hold; blanks or commas between them), and
 * alternatives joined by "||". A prerelease version matches only a range that names a
 * prerelease of the same major.minor.patch.
 * __valid: whether range parses (at most 256 bytes; "" is not a range, "*" is).
 * __matches: whether version (valid SemVer) satisfies range; false when either is invalid.
 * __is_exact: whether range pins one version ("1.2.3" or "=1.2.3"); through ret_version (may
 *   be NULL) the version, pointing into range.
 */
bool bpk_semver_range__valid(const char *range);
bool bpk_semver_range__matches(const char *range, const char *version);
bool bpk_semver_range__is_exact(const char *range, const char **ret_version);

#endif

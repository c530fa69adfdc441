/* SPDX-License-Identifier: BSD-2-Clause */
/* The trust policy: which signing keys a host accepts, for which package names (trust.d/). */
#ifndef BPK_TRUST_H
#define BPK_TRUST_H

#include <stdbool.h>
#include <stddef.h>

#include <bpk/capability.h>
#include <bpk/sign.h>

struct bpk_trust;
struct bpk_trust_entry;

/* The policy file beside the key entries; every other *.json in the directory pins a key. */
#define BPK_TRUST_POLICY_FILE "policy.json"
/* Largest trust entry or policy file read (a PEM public key is ~113 bytes). */
#define BPK_TRUST_FILE_MAX (64U << 10)
/* Longest "comment", in bytes. */
#define BPK_TRUST_COMMENT_MAX 256

/* The directory bpk reads when none is given: SYSCONFDIR/bpk/trust.d (/etc/bpk/trust.d). */
const char *bpk_trust__default_dir(void);

/* An empty policy: trusts no key. NULL on ENOMEM. */
struct bpk_trust *bpk_trust__new(void);
/*
 * Load a trust directory: every regular file whose name ends in ".json" and does not start
 * with '.' (so editors' and atomic writes' temporary files are skipped), in name order.
 * policy.json holds the policy ({"min_signers": N}); each other file pins one key
 * (bpk_trust_entry__parse). Any malformed file, or two files pinning one key, refuses the
 * whole directory: a broken policy must neither trust less nor more than it says. Returns
 * the policy, owned by the caller, or NULL with errno ENOENT (no such directory), EINVAL
 * (refused; error names the file and field), EACCES and the like, ENOMEM.
 */
struct bpk_trust *bpk_trust__load_dir(const char *dir, struct bpk_error *error);
void bpk_trust__free(struct bpk_trust *trust);
/*
 * Build a policy in memory (for a daemon configured otherwise than by trust.d, and tests):
 * add entry, which trust then owns (also on failure), refusing a key already pinned
 * (-EEXIST); set how many trusted signatures a package needs (1 to BPK_SIG_MAX, else
 * -EINVAL). Return 0 or a negative errno.
 */
int bpk_trust__add_entry(struct bpk_trust *trust, struct bpk_trust_entry *entry);
int bpk_trust__set_min_signers(struct bpk_trust *trust, unsigned int min_signers);

/* The directory loaded, or NULL for bpk_trust__new(). */
const char *bpk_trust__dir(const struct bpk_trust *trust);
/* How many trusted signatures a package needs (policy.json "min_signers", default 1). */
unsigned int bpk_trust__min_signers(const struct bpk_trust *trust);
/*
 * Whether policy.json's "deny" names capability cap: a package any of whose programs has it
 * is refused, however it is signed. set_deny changes an in-memory policy (-EINVAL on a bad cap).
 */
bool bpk_trust__denies(const struct bpk_trust *trust, enum bpk_capability cap);
int bpk_trust__set_deny(struct bpk_trust *trust, enum bpk_capability cap, bool deny);
/* Path of the policy.json loaded, or NULL when there is none. */
const char *bpk_trust__policy_file(const struct bpk_trust *trust);
size_t bpk_trust__entry_cnt(const struct bpk_trust *trust);
/* Entry idx in file name order, owned by trust; NULL past the end. */
const struct bpk_trust_entry *bpk_trust__entry(const struct bpk_trust *trust, size_t idx);
/* The entry pinning the key with this id (64 hex digits), or NULL. */
const struct bpk_trust_entry *bpk_trust__find(const struct bpk_trust *trust, const char *keyid);
/*
 * The one entry whose key id starts with prefix: at least 8 lowercase hex digits (-EINVAL
 * otherwise). Returns 0, -ENOENT when no key matches, -ENOTUNIQ when several do.
 */
int bpk_trust__find_prefix(const struct bpk_trust *trust, const char *prefix,
			   const struct bpk_trust_entry **ret_entry);
/*
 * The policy as JSON: {"dir", "policy_file", "min_signers", "keys": [{"keyid", "file",
 * "names" (null for any name), "comment", "added"}]}. Caller frees. NULL on ENOMEM.
 */
char *bpk_trust__to_json(const struct bpk_trust *trust);

/* ---- entries ---- */

/*
 * Parse one trust entry file (file is its path, used in messages and kept): a JSON object
 * with "keyid" (64 lowercase hex digits, the id of public_key), "public_key" (PEM text of an
 * Ed25519 public key), and optionally "names" (a non-empty list of distinct name patterns),
 * "comment" (printable text, at most BPK_TRUST_COMMENT_MAX bytes) and "added" (RFC 3339 UTC
 * time, "2025-01-31T12:00:00Z"). Any other field is refused, since an older bpk ignoring a
 * restriction would trust more than meant. Returns the entry, owned by the caller, or NULL
 * with errno EINVAL (error names the field) or ENOMEM.
 */
struct bpk_trust_entry *bpk_trust_entry__parse(const void *buf, size_t len, const char *file,
					       struct bpk_error *error);
void bpk_trust_entry__free(struct bpk_trust_entry *entry);
const char *bpk_trust_entry__keyid(const struct bpk_trust_entry *entry);
/* The file the entry was read from (as given to the parser). */
const char *bpk_trust_entry__file(const struct bpk_trust_entry *entry);
/* "comment" and "added", or NULL when absent. */
const char *bpk_trust_entry__comment(const struct bpk_trust_entry *entry);
const char *bpk_trust_entry__added(const struct bpk_trust_entry *entry);
/* The public key, owned by entry. */
const struct bpk_key *bpk_trust_entry__key(const struct bpk_trust_entry *entry);
/* The name patterns; none means the key is trusted for every name. */
size_t bpk_trust_entry__name_cnt(const struct bpk_trust_entry *entry);
const char *bpk_trust_entry__name(const struct bpk_trust_entry *entry, size_t idx);
/*
 * Whether entry trusts its key for the package called name. Through ret_pattern (may be
 * NULL): the first pattern that matched, or NULL when the entry has no names.
 */
bool bpk_trust_entry__allows(const struct bpk_trust_entry *entry, const char *name,
			     const char **ret_pattern);

/*
 * Name patterns. A pattern is 1 to 201 bytes of [a-z0-9._-], '*', '?' and at most one '/',
 * with no empty part before or after the '/'. It must match the whole name: '*' matches any
 * run of characters (including none) other than '/', '?' exactly one character other than
 * '/', every other character itself. So "acme/" then '*' is every package of feed acme, and
 * a lone '*' every package of the public feed (names without a feed): a '*' never reaches
 * into another feed. No brackets, no escapes, no case folding.
 */
bool bpk_trust_pattern__valid(const char *pattern);
bool bpk_trust_pattern__match(const char *pattern, const char *name);

/* ---- editing a trust directory ---- */

struct bpk_trust_add_opts {
	size_t sz;
	/* Name patterns the key is trusted for; none: every name. */
	const char *const *names;
	size_t name_cnt;
	const char *comment;
	/* Replace the entry of a key that is already trusted instead of refusing (-EEXIST). */
	bool force;
};
#define bpk_trust_add_opts__last_field force

/*
 * Pin key's public half in dir (created if missing) as KEYID.json, written atomically. The
 * directory must load cleanly first. Refuses (-EEXIST) a key already pinned, in whatever
 * file, unless opts->force, which rewrites that file. Invalid names or comment: -EINVAL.
 * The entry written is returned through ret_entry (may be NULL), owned by the caller.
 * Returns 0 or a negative errno; error says why on a refusal.
 */
int bpk_trust__add(const char *dir, const struct bpk_key *key,
		   const struct bpk_trust_add_opts *opts, struct bpk_error *error,
		   struct bpk_trust_entry **ret_entry);
/*
 * Remove the entry whose key id is keyid or starts with it (bpk_trust__find_prefix's rules,
 * but hex digits in either case) from dir, which must load cleanly. The removed entry is
 * returned through ret_entry (may be NULL), owned by the caller. Returns 0, -EINVAL,
 * -ENOENT, -ENOTUNIQ or another negative errno; error says why.
 */
int bpk_trust__remove(const char *dir, const char *keyid, struct bpk_error *error,
		      struct bpk_trust_entry **ret_entry);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* Package signatures (DESIGN.md §3, level 1): Ed25519 keys, bpk.sig, signing and verifying. */
#ifndef BPK_SIGN_H
#define BPK_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpk/pkg.h>

struct bpk_key;
struct bpk_sigfile;
struct bpk_trust;
struct bpk_verify_result;

/* A key id: SHA-256 of the DER SubjectPublicKeyInfo, as 64 lowercase hex digits. */
#define BPK_KEYID_HEX_LEN 64
/* The only signature algorithm bpk makes and checks. */
#define BPK_SIG_ALG_ED25519 "ed25519"

/*
 * Why a call refused its input, for the calls that take one: the library never prints, so
 * it hands the caller one precise sentence instead. message names the file and field when
 * there is one ("'/etc/bpk/trust.d/a.json': 'names[1]': ..."); file and field repeat them
 * for programs. All three are NULL when nothing was refused. Release with
 * bpk_error__release(); a struct may be reused after that.
 */
struct bpk_error {
	char *file;
	char *field;
	char *message;
};
#define BPK_ERROR_INIT { NULL, NULL, NULL }

void bpk_error__release(struct bpk_error *error);
/*
 * Replace what error holds (error may be NULL: nothing happens): file and field (either may
 * be NULL) are copied, message is formatted. Returns 0 or -ENOMEM.
 */
int bpk_error__set(struct bpk_error *error, const char *file, const char *field, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

/* ---- keys ---- */

/* A fresh Ed25519 key pair. NULL with errno ENOMEM (or EIO when OpenSSL fails). */
struct bpk_key *bpk_key__generate(void);
/*
 * Parse a PEM Ed25519 key: a private key ("PRIVATE KEY", PKCS#8, unencrypted) or a public key
 * ("PUBLIC KEY"). NULL with errno EINVAL (not such a key; encrypted keys are refused rather
 * than prompting for a passphrase) or ENOMEM.
 */
struct bpk_key *bpk_key__from_pem(const void *pem, size_t len);
/* The same from a file (at most 64 KiB); errno also ENOENT, EACCES... */
struct bpk_key *bpk_key__load(const char *path);
void bpk_key__free(struct bpk_key *key);

/* Whether key holds the private half (so it can sign). */
bool bpk_key__has_private(const struct bpk_key *key);
/* The key id (64 hex digits), owned by key. */
const char *bpk_key__id(const struct bpk_key *key);
/* PEM text of the public key. Caller frees. NULL on ENOMEM. */
char *bpk_key__public_pem(const struct bpk_key *key, size_t *ret_len);

/*
 * Write base.pem (the private key, PKCS#8 PEM, mode 0600) and base.pub (the public key,
 * 0644). Both are created with O_EXCL: an existing file is never overwritten (-EEXIST), and
 * on any failure neither file is left behind. Returns 0 or a negative errno (-EINVAL when
 * key has no private half).
 */
int bpk_key__save(const struct bpk_key *key, const char *base);

/* ---- bpk.sig ---- */

/*
 * Parse bpk.sig: {"signatures":[{"keyid","alg","sig"}, ...]} (docs/spec/signing.md). Refuses
 * with EINVAL, error saying which field and why: invalid JSON, other fields, a keyid that is
 * not 64 lowercase hex digits or appears twice, an ed25519 "sig" that is not base64 of 64
 * bytes, more than BPK_SIG_MAX signatures. An "alg" other than ed25519 is kept (it may be a
 * newer bpk's) but never counts. Returns the parsed file, owned by the caller, or NULL with
 * errno EINVAL or ENOMEM.
 */
#define BPK_SIG_MAX 64
struct bpk_sigfile *bpk_sigfile__parse(const void *buf, size_t len, struct bpk_error *error);
/* An empty bpk.sig, for the first signature. NULL on ENOMEM. */
struct bpk_sigfile *bpk_sigfile__new(void);
void bpk_sigfile__free(struct bpk_sigfile *sigs);
size_t bpk_sigfile__cnt(const struct bpk_sigfile *sigs);
/* Signature idx: its key id and algorithm, owned by sigs; NULL past the end. */
const char *bpk_sigfile__keyid(const struct bpk_sigfile *sigs, size_t idx);
const char *bpk_sigfile__alg(const struct bpk_sigfile *sigs, size_t idx);
/*
 * Sign manifest (the exact bytes of bpk.json) with key, which must hold its private half.
 * A signature by the same key is replaced where it stands; otherwise the new one is
 * appended; ret_replaced (may be NULL) says which. The new signature is checked before it is
 * kept. Returns 0 or -EINVAL/-ENOMEM.
 */
int bpk_sigfile__sign(struct bpk_sigfile *sigs, const struct bpk_key *key, const void *manifest,
		      size_t manifest_len, bool *ret_replaced);
/* bpk.sig text: 2-space indented JSON, one trailing newline. Caller frees. NULL on ENOMEM. */
char *bpk_sigfile__emit(const struct bpk_sigfile *sigs, size_t *ret_len);

/* ---- signing packages ---- */

/*
 * Add a signature by key to the package in buf. The package must open with every container
 * check (bpk_pkg__open_mem) and its bpk.sig, if any, must parse: a broken package is never
 * signed (-EINVAL, error says why). The result is written with the deterministic writer:
 * every entry but bpk.sig keeps its bytes and mode. Caller frees *ret_buf. Returns 0 or a
 * negative errno.
 */
int bpk_sign__mem(const void *buf, size_t len, const struct bpk_key *key, struct bpk_error *error,
		  void **ret_buf, size_t *ret_len);

struct bpk_sign_opts {
	size_t sz;
	/* Where to write the signed package; NULL replaces the input, atomically. */
	const char *output;
};
#define bpk_sign_opts__last_field output

/*
 * bpk_sign__mem on the file at path, writing opts->output or path itself atomically (temp
 * file, fsync, rename). Through ret_replaced (may be NULL): whether a signature by the same
 * key was replaced rather than added. Returns 0 or a negative errno.
 */
int bpk_sign__file(const char *path, const struct bpk_key *key, const struct bpk_sign_opts *opts,
		   struct bpk_error *error, bool *ret_replaced);

struct bpk_add_entries_opts {
	size_t sz;
	/*
	 * Adding files changes bpk.json (its "files" list), so every existing signature stops
	 * matching. Without this flag a package with a bpk.sig entry is refused (-EEXIST);
	 * with it, bpk.sig is dropped and the package must be signed again.
	 */
	bool drop_signatures;
	/* Replace an entry that already exists instead of refusing (-EEXIST). */
	bool replace;
};
#define bpk_add_entries_opts__last_field replace

/*
 * Rewrite the package in buf with entries added, and its bpk.json "files" updated to list
 * them with their SHA-256 and size (a replaced file's line is updated where it stands; new
 * ones are appended). This is how files that the package signature must cover, such as the
 * kernel/NAME.p7s signatures of level 3, go in: add them first, then sign. The package must
 * open with every check; bpk.json and bpk.sig cannot be added (-EINVAL). The result is read
 * back with every check before it is returned. Caller frees *ret_buf. Returns 0 or a
 * negative errno; error says why on a refusal.
 */
int bpk_pkg__add_entries(const void *buf, size_t len, const struct bpk_pkg_entry *entries,
			 size_t cnt, const struct bpk_add_entries_opts *opts,
			 struct bpk_error *error, void **ret_buf, size_t *ret_len);

/* ---- verifying packages ---- */

enum bpk_verdict {
	/* Enough signatures by keys the policy trusts for this package's name. */
	BPK_VERDICT_TRUSTED,
	/* No signature at all, and the caller asked to allow that (development only). */
	BPK_VERDICT_UNSIGNED_ALLOWED,
	/* Refused: bpk_verify_result__reason() says why. */
	BPK_VERDICT_REFUSED,
};

enum bpk_signer_status {
	/* The signature matches and the policy admits the key for this package's name. */
	BPK_SIGNER_TRUSTED,
	/* No policy entry pins this key, so its signature cannot be checked; not counted. */
	BPK_SIGNER_UNKNOWN_KEY,
	/* The signature matches, but the key's policy entry does not cover the name. */
	BPK_SIGNER_NAME_NOT_ALLOWED,
	/* The key is pinned and the signature does not match bpk.json: the package is refused. */
	BPK_SIGNER_BAD_SIGNATURE,
	/* An algorithm bpk does not know; not counted. */
	BPK_SIGNER_UNSUPPORTED_ALG,
};

/* One signature of a verified package, owned by the result. */
struct bpk_signer {
	const char *keyid;
	const char *alg;
	enum bpk_signer_status status;
	bool trusted;			/* status == BPK_SIGNER_TRUSTED */
	const char *policy_file;	/* the trust entry that pins the key, or NULL */
	const char *comment;		/* that entry's comment, or NULL */
	const char *matched_name;	/* the pattern that admitted the name; NULL for any name */
	const char *reason;		/* why it does not count, or NULL when trusted */
};

struct bpk_verify_opts {
	size_t sz;
	/*
	 * Accept a package that carries no signature at all (no bpk.sig, or an empty list), as
	 * BPK_VERDICT_UNSIGNED_ALLOWED. A package with a malformed bpk.sig, a signature that
	 * does not match, a signature the policy does not accept or a damaged container is
	 * still refused.
	 */
	bool allow_unsigned;
	/* Limits for opening the package (bpk_verify__file/__mem); NULL for the defaults. */
	const struct bpk_pkg_open_opts *open_opts;
};
#define bpk_verify_opts__last_field open_opts

/* An empty result to verify into. NULL on ENOMEM. */
struct bpk_verify_result *bpk_verify_result__new(void);
void bpk_verify_result__free(struct bpk_verify_result *result);

/*
 * Verify the package at path (or in buf): open it with every container check, parse bpk.sig,
 * check each signature over the exact bytes of bpk.json and each signer against trust
 * (docs/spec/signing.md gives the order and every reason). result is reset and filled in
 * every case a verdict is reached. Returns 0 when the package is accepted (TRUSTED or
 * UNSIGNED_ALLOWED), -EKEYREJECTED when it is refused (the result says why), or another
 * negative errno when no verdict could be reached (-ENOENT and the like for an unreadable
 * file, -ENOMEM). trust may be NULL: nothing is trusted.
 */
int bpk_verify__file(const char *path, const struct bpk_trust *trust,
		     const struct bpk_verify_opts *opts, struct bpk_verify_result *result);
int bpk_verify__mem(const void *buf, size_t len, const struct bpk_trust *trust,
		    const struct bpk_verify_opts *opts, struct bpk_verify_result *result);
/* The same for a package already opened with every check (not with no_manifest_check). */
int bpk_pkg__verify(const struct bpk_pkg *pkg, const struct bpk_trust *trust,
		    const struct bpk_verify_opts *opts, struct bpk_verify_result *result);
/*
 * The signature checks alone: sig (bpk.sig's bytes; NULL when there is none) over manifest
 * (bpk.json's exact bytes) for the package called name. For callers that hold a manifest
 * apart from its package; the files are not checked. Returns as bpk_verify__file.
 */
int bpk_verify__manifest(const void *manifest, size_t manifest_len, const char *name,
			 const void *sig, size_t sig_len, const struct bpk_trust *trust,
			 const struct bpk_verify_opts *opts, struct bpk_verify_result *result);

enum bpk_verdict bpk_verify_result__verdict(const struct bpk_verify_result *result);
/* Whether the verdict accepts the package (TRUSTED or UNSIGNED_ALLOWED). */
bool bpk_verify_result__accepted(const struct bpk_verify_result *result);
/* The one reason for a refusal, fit to follow "cannot verify 'x.bpk': "; NULL otherwise. */
const char *bpk_verify_result__reason(const struct bpk_verify_result *result);
/* Package name and version from the manifest, or NULL when it could not be read. */
const char *bpk_verify_result__name(const struct bpk_verify_result *result);
const char *bpk_verify_result__version(const struct bpk_verify_result *result);
/* Trusted signatures counted, and how many the policy requires. */
unsigned int bpk_verify_result__trusted_cnt(const struct bpk_verify_result *result);
unsigned int bpk_verify_result__required_cnt(const struct bpk_verify_result *result);
size_t bpk_verify_result__signer_cnt(const struct bpk_verify_result *result);
const struct bpk_signer *bpk_verify_result__signer(const struct bpk_verify_result *result,
						   size_t idx);
/* The result as JSON (docs/spec/signing.md). Caller frees. NULL on ENOMEM. */
char *bpk_verify_result__to_json(const struct bpk_verify_result *result);
/* "trusted", "unsigned-allowed", "refused"; and "trusted", "unknown-key", ... */
const char *bpk_verdict__str(enum bpk_verdict verdict);
const char *bpk_signer_status__str(enum bpk_signer_status status);

#endif

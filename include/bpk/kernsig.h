/* SPDX-License-Identifier: BSD-2-Clause */
/* Level-3 signatures: kernel-verified loader bytecode (Linux 6.18 signed BPF_PROG_LOAD). */
#ifndef BPK_KERNSIG_H
#define BPK_KERNSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What is signed (docs/spec/kernel-signatures.md has the whole story): for each BPF object of a
 * package, libbpf's gen_loader turns the object into a *loader* (a BPF_PROG_TYPE_SYSCALL
 * program) and a *payload* (the data blob the loader reads: map and program attributes,
 * instructions, BTF). bpk puts a check of the payload's SHA-256 in front of the loader, signs
 * the loader's instructions with a detached CMS signature in bpftool 7.7's form, and stores the
 * three as kernel/NAME.loader, kernel/NAME.payload and kernel/NAME.p7s. The kernel checks the
 * signature over the loader; the loader checks the payload's hash, which the kernel computes
 * over an exclusive, frozen map only that loader may use.
 */

#define BPK_KSIG_SHA256_LEN 32

/* One object's level-3 artifacts. */
struct bpk_ksig_artifacts {
	void *loader;		/* loader instructions, the bytes the signature covers */
	size_t loader_len;
	void *payload;		/* the blob the loader reads from its payload map */
	size_t payload_len;
	void *signature;	/* DER CMS/PKCS#7 SignedData, detached; NULL if unsigned */
	size_t signature_len;
	unsigned char loader_sha256[BPK_KSIG_SHA256_LEN];  /* the payload map's excl_prog_hash */
	unsigned char payload_sha256[BPK_KSIG_SHA256_LEN]; /* what the loader checks at run time */
	uint32_t map_cnt;	/* maps and programs the loader creates: the size of its context */
	uint32_t prog_cnt;
};

/*
 * Build the loader and payload of one BPF object (name is the object's file name, e.g.
 * "ratelimit.o": libbpf derives map names from it, so it is part of the payload) and, when
 * key_pem_path and cert_der_path are given, sign the loader: key_pem_path is a PEM private key,
 * cert_der_path the DER X.509 certificate of that key, with a SubjectKeyIdentifier (the signer
 * is named by key id). The kernel's parsers take RSA keys; ECDSA P-256/P-384 only with
 * CONFIG_CRYPTO_ECDSA; not Ed25519. Both paths NULL give unsigned artifacts.
 * The caller frees *ret with bpk_ksig_artifacts__free().
 * Errors: -EINVAL (not an object libbpf can turn into a loader, unusable key or certificate,
 * key and certificate do not match, certificate without SubjectKeyIdentifier), -ENOENT and
 * other file errors, -ENOMEM, -EPERM (libbpf needed bpf() and was refused).
 */
int bpk_ksig__make(const char *name, const void *obj, size_t obj_len, const char *key_pem_path,
		   const char *cert_der_path, struct bpk_ksig_artifacts **ret);

/*
 * Wrap existing bytes (e.g. the three files read back from a package) as artifacts: copies
 * them and computes both hashes. signature may be NULL. map_cnt and prog_cnt come from
 * bpk_ksig__count() on the package's object. Returns 0, -EINVAL (loader not a whole number of
 * instructions, empty payload) or -ENOMEM.
 */
int bpk_ksig_artifacts__new(const void *loader, size_t loader_len, const void *payload,
			    size_t payload_len, const void *signature, size_t signature_len,
			    uint32_t map_cnt, uint32_t prog_cnt, struct bpk_ksig_artifacts **ret);
void bpk_ksig_artifacts__free(struct bpk_ksig_artifacts *art);

/* The numbers of maps and programs libbpf finds in an object. 0, -EINVAL or -ENOMEM. */
int bpk_ksig__count(const char *name, const void *obj, size_t obj_len, uint32_t *ret_map_cnt,
		    uint32_t *ret_prog_cnt);

/*
 * The detached CMS signature of data exactly as bpftool 7.7 makes it: SHA-256, no signed
 * attributes, no certificates, no S/MIME capabilities, signer identified by the certificate's
 * SubjectKeyIdentifier; DER. key_pem is a PEM private key, cert_der a DER certificate. With RSA
 * the bytes are deterministic. *ret_sig is the caller's to free().
 * Errors: -EINVAL (key, certificate, mismatch, no SubjectKeyIdentifier), -ENOMEM, -EIO.
 */
int bpk_ksig__sign(const void *data, size_t len, const void *key_pem, size_t key_pem_len,
		   const void *cert_der, size_t cert_der_len, void **ret_sig, size_t *ret_sig_len);

/*
 * Check in user space what the kernel's verify_pkcs7_signature() checks: sig is a DER CMS
 * SignedData over data (detached), made by the key of cert_der. Returns 0, -EBADMSG (not such
 * a CMS structure, or it carries attributes or certificates the kernel's form has not),
 * -EKEYREJECTED (the signature does not verify with that certificate), -EINVAL, -ENOMEM.
 */
int bpk_ksig__verify(const void *data, size_t len, const void *sig, size_t sig_len,
		     const void *cert_der, size_t cert_der_len);

/* kernel_signatures = off|prefer|require (the configuration key and bpkd's option). */
enum bpk_ksig_policy {
	BPK_KSIG_POLICY_OFF,
	BPK_KSIG_POLICY_PREFER,
	BPK_KSIG_POLICY_REQUIRE,
};

/* Parse "off", "prefer" or "require". Returns 0 or -EINVAL; *ret_policy untouched on failure. */
int bpk_ksig_policy__parse(const char *text, enum bpk_ksig_policy *ret_policy);
const char *bpk_ksig_policy__name(enum bpk_ksig_policy policy);

/* What the running kernel does with a signed BPF_PROG_LOAD. */
enum bpk_ksig_support {
	BPK_KSIG_SUPPORTED,	/* the kernel checked our probe's signature and rejected it */
	BPK_KSIG_NO_VERIFIER,	/* EOPNOTSUPP: built without CONFIG_SYSTEM_DATA_VERIFICATION */
	BPK_KSIG_TOO_OLD,	/* E2BIG: older than 6.18, the attribute fields are unknown */
	BPK_KSIG_UNKNOWN,	/* could not tell: bpf() refused or missing, or an odd answer */
};

struct bpk_ksig_probe {
	enum bpk_ksig_support support;
	int err;		/* the positive errno BPF_PROG_LOAD answered, 0 if it succeeded */
	char message[256];	/* plain words: "this kernel cannot verify BPF signatures: …" */
};

/*
 * Ask the running kernel once, by loading a two-instruction socket filter with a bogus
 * signature checked against the builtin trusted keyring (keyring_id 0), and remember the
 * answer for the life of the process. Always returns 0; the answer is in *ret.
 */
int bpk_ksig__probe(struct bpk_ksig_probe *ret);
/* The classification of one BPF_PROG_LOAD answer (positive errno, 0 for success). */
void bpk_ksig__classify(int err, struct bpk_ksig_probe *ret);

enum bpk_ksig_verdict {
	BPK_KSIG_LOAD_PLAIN,	/* load as usual, without level 3 (policy off) */
	BPK_KSIG_LOAD_SIGNED,	/* load through the signed loader */
	BPK_KSIG_LOAD_WARN,	/* load without kernel verification, and say why */
	BPK_KSIG_REFUSE,	/* do not load, and say why */
};

struct bpk_ksig_decision {
	enum bpk_ksig_verdict verdict;
	char message[384];	/* empty for LOAD_PLAIN and LOAD_SIGNED */
};

/*
 * Apply the policy to a probe result for a package that has (or lacks) level-3 artifacts.
 * Pure: no system calls. Fills *ret.
 */
void bpk_ksig__decide(enum bpk_ksig_policy policy, const struct bpk_ksig_probe *probe,
		      bool has_artifacts, struct bpk_ksig_decision *ret);

struct bpk_ksig_load_opts {
	size_t sz;
	/*
	 * Keyring the kernel searches for the signer's key: a keyring serial or a KEY_SPEC_*
	 * special id (default KEY_SPEC_SESSION_KEYRING, -3); 0, 1, 2 name the builtin,
	 * secondary and platform system keyrings.
	 */
	int32_t keyring_id;
	bool keyring_id_set;
	/* DER certificate to add to that keyring (add_key "asymmetric") for the load; optional. */
	const void *cert_der;
	size_t cert_der_len;
	/*
	 * Load the loader without the signature attributes: what policy prefer does where the
	 * kernel cannot verify. The exclusive frozen payload map and the loader's hash check
	 * still bind the payload to the loader.
	 */
	bool without_signature;
	/* Verifier log for the loader, optional. */
	char *log_buf;
	size_t log_size;
};
#define bpk_ksig_load_opts__last_field log_size

/* What a loader run created: fds owned by the caller (bpk_ksig_loaded__free closes them). */
struct bpk_ksig_loaded {
	int *prog_fds;
	uint32_t prog_cnt;
	int *map_fds;
	uint32_t map_cnt;
};
void bpk_ksig_loaded__free(struct bpk_ksig_loaded *loaded);

/*
 * Load one object through its loader: register the certificate, create the payload map with
 * excl_prog_hash = SHA-256 of the loader, write the payload, freeze it, BPF_PROG_LOAD the
 * loader (BPF_PROG_TYPE_SYSCALL) with signature, signature_size and keyring_id, and run it.
 * All through bpf() directly. On success *ret holds the programs and maps the loader made.
 * Errors are the kernel's answers, unchanged: -EOPNOTSUPP (the kernel cannot verify
 * signatures), -EKEYREJECTED / -EBADMSG / -ENOKEY (bad signature), -EINVAL (e.g. unknown
 * keyring), -EACCES (exclusive map refused the program), -E2BIG (kernel too old), the loader's
 * own negative return value (-EINVAL when the payload's hash does not match), -EPERM, -ENOMEM.
 * Details go to the print callback.
 */
int bpk_ksig__load(const struct bpk_ksig_artifacts *art, const struct bpk_ksig_load_opts *opts,
		   struct bpk_ksig_loaded **ret);

struct bpk_error;

/* Package paths of an object's level-3 files: kernel/NAME.loader, .payload and .p7s. */
#define BPK_KSIG_DIR "kernel/"

/*
 * Level 3 for a whole package: for every bpf/NAME.o, build its loader and payload, sign the
 * loader with key_pem_path/cert_der_path (as bpk_ksig__make), and add kernel/NAME.loader,
 * kernel/NAME.payload and kernel/NAME.p7s to the package, listed in bpk.json "files" so that
 * the package signature covers them. That changes bpk.json, so a package that already has
 * package signatures is refused (-EEXIST) unless drop_signatures (then it must be signed
 * again); existing kernel/ files are replaced. Caller frees *ret_buf. Returns 0 or a negative
 * errno; error (may be NULL) says why on a refusal.
 */
int bpk_ksig__sign_package(const void *buf, size_t len, const char *key_pem_path,
			   const char *cert_der_path, bool drop_signatures, struct bpk_error *error,
			   void **ret_buf, size_t *ret_len);

#endif

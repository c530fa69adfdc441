/* SPDX-License-Identifier: BSD-2-Clause */
/* Internal to libbpk: Ed25519 keys and signatures, key ids and base64, on OpenSSL 3. */
#ifndef BPK_CRYPTO_H
#define BPK_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#define BPK_ED25519_SIG_LEN 64
/* A key id: SHA-256 of the DER SubjectPublicKeyInfo, 64 lowercase hex digits. */
#define BPK_KEYID_LEN 64

/* A fresh Ed25519 key. NULL on failure. Free with EVP_PKEY_free. */
EVP_PKEY *bpk_ed25519_generate(void);

/*
 * Parse a PEM private key ("PRIVATE KEY") or public key ("PUBLIC KEY"); the key must be
 * Ed25519. Encrypted keys are refused (never a passphrase prompt), the canonical public form
 * is read without OpenSSL's slow decoder, and OpenSSL's error queue is left empty.
 * Returns NULL with errno EINVAL (not PEM, not Ed25519, encrypted) or ENOMEM.
 */
EVP_PKEY *bpk_key_from_pem(const void *pem, size_t len, bool want_private);

/* PEM text of the private (PKCS#8, unencrypted) or public key. Caller frees. NULL on ENOMEM. */
char *bpk_key_to_pem(EVP_PKEY *key, bool private_part, size_t *ret_len);

/* The key id of a key's public part, into out (65 bytes). Returns 0 or -EINVAL/-ENOMEM. */
int bpk_key_id(EVP_PKEY *key, char out[BPK_KEYID_LEN + 1]);

/* Sign data with an Ed25519 private key. Returns 0 or -EINVAL. */
int bpk_ed25519_sign(EVP_PKEY *key, const void *data, size_t len,
		     unsigned char sig[BPK_ED25519_SIG_LEN]);
/* Whether sig is a valid signature of data by key. */
bool bpk_ed25519_verify(EVP_PKEY *key, const void *data, size_t len, const unsigned char *sig,
			size_t sig_len);

/* Standard base64 with padding, no newlines. Caller frees. NULL on ENOMEM. */
char *bpk_base64_encode(const void *data, size_t len);
/*
 * Decode standard base64 (padding required, no whitespace). Returns 0 and a heap buffer, or
 * -EINVAL for malformed input, -ENOMEM.
 */
int bpk_base64_decode(const char *text, unsigned char **ret_data, size_t *ret_len);

static inline void evp_pkey_freep(EVP_PKEY **k)
{
	EVP_PKEY_free(*k);
}
#define _cleanup_pkey_ __attribute__((cleanup(evp_pkey_freep)))

#endif

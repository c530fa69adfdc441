// SPDX-License-Identifier: BSD-2-Clause
/* Ed25519 keys and signatures, key ids and base64: the primitives every signature level uses. */
#include <errno.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bpk_internal.h"
#include "crypto.h"

EVP_PKEY *bpk_ed25519_generate(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

/*
 * The canonical PEM of an Ed25519 public key, as OpenSSL and bpk write it: the DER
 * SubjectPublicKeyInfo of RFC 8410 is this 12-byte prefix and the 32 key bytes, which is
 * 60 base64 characters on one line.
 */
static const unsigned char ed25519_spki_prefix[12] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
							0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
#define PEM_PUBLIC_BEGIN "-----BEGIN PUBLIC KEY-----\n"
#define PEM_PUBLIC_END "\n-----END PUBLIC KEY-----"
#define SPKI_B64_LEN 60

/*
 * Read a public key in exactly that canonical form without OpenSSL's decoder, which costs
 * OpenSSL 3.0 about half a millisecond a key: trust policies and index roots are loaded on
 * every verify, and this is most of their cost. Anything else (other line breaks, other
 * keys) returns NULL with errno ENOMSG and goes the general way. The result is the same key.
 */
static EVP_PKEY *canonical_public_pem(const char *pem, size_t len)
{
	const size_t head = sizeof(PEM_PUBLIC_BEGIN) - 1, tail = sizeof(PEM_PUBLIC_END) - 1;
	_cleanup_free_ unsigned char *der = NULL;
	char b64[SPKI_B64_LEN + 1];
	size_t der_len = 0, rest;
	EVP_PKEY *pkey;
	int err;

	if (len < head + SPKI_B64_LEN + tail) {
		errno = ENOMSG;
		return NULL;
	}
	rest = len - head - SPKI_B64_LEN - tail;
	if (memcmp(pem, PEM_PUBLIC_BEGIN, head) ||
	    memcmp(pem + head + SPKI_B64_LEN, PEM_PUBLIC_END, tail) ||
	    !(rest == 0 || (rest == 1 && pem[len - 1] == '\n'))) {
		errno = ENOMSG;
		return NULL;
	}
	memcpy(b64, pem + head, SPKI_B64_LEN);
	b64[SPKI_B64_LEN] = '\0';
	err = bpk_base64_decode(b64, &der, &der_len);
	if (err == -ENOMEM) {
		errno = ENOMEM;
		return NULL;
	}
	if (err || der_len != sizeof(ed25519_spki_prefix) + 32 ||
	    memcmp(der, ed25519_spki_prefix, sizeof(ed25519_spki_prefix))) {
		errno = ENOMSG;
		return NULL;
	}
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
					   der + sizeof(ed25519_spki_prefix), 32);
	if (!pkey) {
		ERR_clear_error();
		errno = EINVAL;
	}
	return pkey;
}

EVP_PKEY *bpk_key_from_pem(const void *pem, size_t len, bool want_private)
{
	BIO *bio;
	EVP_PKEY *key;

	if (len > INT32_MAX) {
		errno = EINVAL;
		return NULL;
	}
	/*
	 * OpenSSL would ask the terminal for a passphrase: a library (and a daemon) must not,
	 * so encrypted keys are refused before they reach it.
	 */
	if (memmem(pem, len, "ENCRYPTED", 9)) {
		errno = EINVAL;
		return NULL;
	}
	if (!want_private) {
		key = canonical_public_pem(pem, len);
		if (key || errno != ENOMSG)
			return key;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		errno = ENOMEM;
		return NULL;
	}
	key = want_private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
			   : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	/* A failed parse leaves errors queued in OpenSSL; they are not the next caller's. */
	ERR_clear_error();
	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(key);
		errno = EINVAL;
		return NULL;
	}
	return key;
}

char *bpk_key_to_pem(EVP_PKEY *key, bool private_part, size_t *ret_len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;
	int ok;

	if (!bio)
		return NULL;
	ok = private_part ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
			  : PEM_write_bio_PUBKEY(bio, key);
	n = BIO_get_mem_data(bio, &data);
	if (ok && n > 0 && (out = malloc((size_t)n + 1))) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		if (ret_len)
			*ret_len = (size_t)n;
	}
	BIO_free(bio);
	return out;
}

int bpk_key_id(EVP_PKEY *key, char out[BPK_KEYID_LEN + 1])
{
	unsigned char der[sizeof(ed25519_spki_prefix) + 32], *encoded = NULL;
	size_t raw_len = 32;
	int len, err;

	/*
	 * An Ed25519 SubjectPublicKeyInfo is the fixed prefix and the raw key: building it here
	 * gives the same bytes as i2d_PUBKEY() without OpenSSL 3.0's encoder, which costs as
	 * much as the rest of loading a trust policy.
	 */
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 &&
	    EVP_PKEY_get_raw_public_key(key, der + sizeof(ed25519_spki_prefix), &raw_len) == 1 &&
	    raw_len == 32) {
		memcpy(der, ed25519_spki_prefix, sizeof(ed25519_spki_prefix));
		return bpk_sha256_hex(der, sizeof(der), out);
	}
	len = i2d_PUBKEY(key, &encoded);
	if (len <= 0)
		return -EINVAL;
	err = bpk_sha256_hex(encoded, (size_t)len, out);
	OPENSSL_free(encoded);
	return err;
}

int bpk_ed25519_sign(EVP_PKEY *key, const void *data, size_t len,
		     unsigned char sig[BPK_ED25519_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sig_len = BPK_ED25519_SIG_LEN;
	int ok;

	if (!ctx)
		return -ENOMEM;
	/* Ed25519 is one-shot: no digest, the whole message at once. */
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	     EVP_DigestSign(ctx, sig, &sig_len, data, len) == 1 && sig_len == BPK_ED25519_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EINVAL;
}

bool bpk_ed25519_verify(EVP_PKEY *key, const void *data, size_t len, const unsigned char *sig,
			size_t sig_len)
{
	EVP_MD_CTX *ctx;
	bool ok;

	if (sig_len != BPK_ED25519_SIG_LEN)
		return false;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return false;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
	     EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

char *bpk_base64_encode(const void *data, size_t len)
{
	char *out;

	if (len > (INT32_MAX / 4) * 3)
		return NULL;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

int bpk_base64_decode(const char *text, unsigned char **ret_data, size_t *ret_len)
{
	size_t len = strlen(text), pad = 0, i;
	unsigned char *out;
	int n;

	if (len % 4 || len > INT32_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		char c = text[i];

		if (c == '=' && i >= len - 2)
			continue;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return -EINVAL;
		if (i >= len - 2 && text[len - 2] == '=' && text[len - 1] != '=')
			return -EINVAL;
	}
	if (len && text[len - 1] == '=')
		pad++;
	if (len > 1 && text[len - 2] == '=')
		pad++;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	n = len ? EVP_DecodeBlock(out, (const unsigned char *)text, (int)len) : 0;
	if (n < 0 || (size_t)n < pad) {
		free(out);
		return -EINVAL;
	}
	*ret_data = out;
	*ret_len = (size_t)n - pad;
	return 0;
}

// SPDX-License-Identifier: BSD-2-Clause
/* Ed25519 keys and signatures, key ids and base64: the primitives every signature level uses. */
#include <errno.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bpk_internal.h"
#include "crypto.h"

EVP_PKEY *bpk_ed25519_generate(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

EVP_PKEY *bpk_key_from_pem(const void *pem, size_t len, bool want_private)
{
	BIO *bio;
	EVP_PKEY *key;

	if (len > INT32_MAX) {
		errno = EINVAL;
		return NULL;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		errno = ENOMEM;
		return NULL;
	}
	key = want_private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
			   : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
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
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(key, &der), err;

	if (len <= 0)
		return -EINVAL;
	err = bpk_sha256_hex(der, (size_t)len, out);
	OPENSSL_free(der);
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

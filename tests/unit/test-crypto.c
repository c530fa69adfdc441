// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the signature primitives: Ed25519 round trips, key ids, base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <openssl/x509.h>

#include "bpk_internal.h"
#include "crypto.h"

static void test_sign_verify(void **state)
{
	EVP_PKEY *key = bpk_ed25519_generate(), *pub, *priv;
	unsigned char sig[BPK_ED25519_SIG_LEN];
	char id[65], id_pub[65], *pem_priv, *pem_pub;
	size_t len;

	assert_non_null(key);
	assert_int_equal(bpk_ed25519_sign(key, "hello", 5, sig), 0);
	assert_true(bpk_ed25519_verify(key, "hello", 5, sig, sizeof(sig)));
	assert_false(bpk_ed25519_verify(key, "hellO", 5, sig, sizeof(sig)));
	assert_false(bpk_ed25519_verify(key, "hello", 5, sig, sizeof(sig) - 1));
	sig[10] ^= 1;
	assert_false(bpk_ed25519_verify(key, "hello", 5, sig, sizeof(sig)));

	pem_priv = bpk_key_to_pem(key, true, &len);
	assert_non_null(strstr(pem_priv, "BEGIN PRIVATE KEY"));
	pem_pub = bpk_key_to_pem(key, false, &len);
	assert_non_null(strstr(pem_pub, "BEGIN PUBLIC KEY"));
	priv = bpk_key_from_pem(pem_priv, strlen(pem_priv), true);
	pub = bpk_key_from_pem(pem_pub, strlen(pem_pub), false);
	assert_non_null(priv);
	assert_non_null(pub);
	assert_null(bpk_key_from_pem(pem_pub, strlen(pem_pub), true));
	assert_null(bpk_key_from_pem("junk", 4, false));

	/* The key id is the SHA-256 of the DER public key, whichever half it is computed from. */
	assert_int_equal(bpk_key_id(key, id), 0);
	assert_int_equal(bpk_key_id(pub, id_pub), 0);
	assert_string_equal(id, id_pub);
	unsigned char *der = NULL;
	int der_len = i2d_PUBKEY(pub, &der);
	char want[65];
	assert_int_equal(bpk_sha256_hex(der, (size_t)der_len, want), 0);
	assert_string_equal(id, want);
	OPENSSL_free(der);

	assert_int_equal(bpk_ed25519_sign(priv, "x", 1, sig), 0);
	assert_true(bpk_ed25519_verify(pub, "x", 1, sig, sizeof(sig)));

	free(pem_priv);
	free(pem_pub);
	EVP_PKEY_free(key);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
}

static void test_base64(void **state)
{
	static const struct {
		const char *plain, *encoded;
	} vectors[] = { /* RFC 4648 §10 */
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	static const char *const bad[] = { "Zg=", "Zg=a", "Z===", "Zm9v\n", "Zm 9", "=Zm9", "Zm9*" };
	unsigned char *out;
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(vectors); i++) {
		char *enc = bpk_base64_encode(vectors[i].plain, strlen(vectors[i].plain));

		assert_string_equal(enc, vectors[i].encoded);
		free(enc);
		assert_int_equal(bpk_base64_decode(vectors[i].encoded, &out, &len), 0);
		assert_int_equal(len, strlen(vectors[i].plain));
		assert_memory_equal(out, vectors[i].plain, len);
		free(out);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (bpk_base64_decode(bad[i], &out, &len) != -EINVAL)
			fail_msg("'%s' decoded", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

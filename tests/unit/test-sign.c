// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of package signatures: keys, bpk.sig, signing, adding files and every verdict. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509.h>

#include <cmocka.h>

#include "test-util.h"
#include "test-manifest.h"

#include <bpk/bpk.h>

#include "bpk_internal.h"
#include "crypto.h"

/* ---- fixtures ---- */

static const char readme[] = "# demo\n\nA demonstration package that drops nothing.\n";
static const char object[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\xf7\0binary\0data";
static const char vector[] = "{\"input\": \"00\", \"ret\": 2}\n";
static const char script[] = "#!/bin/sh\necho run\n";

static const struct bpk_pkg_entry demo_files[] = {
	{ "README.md", readme, sizeof(readme) - 1, false },
	{ "bpf/demo.o", object, sizeof(object) - 1, false },
	{ "tests/pass.json", vector, sizeof(vector) - 1, false },
	{ "tools/run.sh", script, sizeof(script) - 1, true },
};
#define DEMO_CNT ARRAY_SIZE(demo_files)

/* A package of the demo files called name, plus extra entries (bpk.sig, say) not listed. */
static void *make_pkg(const char *name, const struct bpk_pkg_entry *extra, size_t extra_cnt,
		      size_t *ret_len)
{
	struct bpk_pkg_entry all[DEMO_CNT + 4];
	char *manifest = test_manifest(name, "1.0.0", demo_files, DEMO_CNT);
	void *buf = NULL;

	assert_true(extra_cnt <= 3);
	memcpy(all, demo_files, sizeof(demo_files));
	all[DEMO_CNT] = (struct bpk_pkg_entry){ BPK_MANIFEST_PATH, manifest, strlen(manifest),
						false };
	if (extra_cnt)
		memcpy(&all[DEMO_CNT + 1], extra, extra_cnt * sizeof(*extra));
	assert_int_equal(bpk_pkg__write_mem(all, DEMO_CNT + 1 + extra_cnt, &buf, ret_len), 0);
	free(manifest);
	return buf;
}

/* A trust directory under tmp pinning key for names (NULL: every name). */
static char *trust_dir_with(const char *tmp, const struct bpk_key *key, const char *names,
			    const char *comment)
{
	char *dir = xasprintf("%s/trust.d", tmp);
	const char *list[1] = { names };
	BPK_OPTS(bpk_trust_add_opts, opts, .names = list, .name_cnt = names ? 1 : 0,
		 .comment = comment);
	struct bpk_error error = BPK_ERROR_INIT;

	assert_non_null(dir);
	assert_int_equal(bpk_trust__add(dir, key, &opts, &error, NULL), 0);
	return dir;
}

static struct bpk_trust *load_trust(const char *dir)
{
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_trust *trust = bpk_trust__load_dir(dir, &error);

	if (!trust)
		print_message("trust: %s\n", error.message ?: "(no message)");
	assert_non_null(trust);
	return trust;
}

static void *sign(const void *buf, size_t len, const struct bpk_key *key, size_t *ret_len)
{
	struct bpk_error error = BPK_ERROR_INIT;
	void *out = NULL;
	int err = bpk_sign__mem(buf, len, key, &error, &out, ret_len);

	if (err)
		print_message("sign: %s\n", error.message ?: strerror(-err));
	assert_int_equal(err, 0);
	return out;
}

/* Verify buf and expect verdict; returns the reason (owned by res) for a refusal. */
static const char *expect_verdict(struct bpk_verify_result *res, const void *buf, size_t len,
				  const struct bpk_trust *trust, bool allow_unsigned,
				  enum bpk_verdict want)
{
	BPK_OPTS(bpk_verify_opts, opts, .allow_unsigned = allow_unsigned);
	int err = bpk_verify__mem(buf, len, trust, &opts, res);

	if (bpk_verify_result__verdict(res) != want)
		print_message("verdict %s: %s\n",
			      bpk_verdict__str(bpk_verify_result__verdict(res)),
			      bpk_verify_result__reason(res) ?: "(no reason)");
	assert_int_equal(bpk_verify_result__verdict(res), want);
	assert_int_equal(err, want == BPK_VERDICT_REFUSED ? -EKEYREJECTED : 0);
	assert_int_equal(bpk_verify_result__accepted(res), want != BPK_VERDICT_REFUSED);
	if (want == BPK_VERDICT_REFUSED)
		assert_non_null(bpk_verify_result__reason(res));
	else
		assert_null(bpk_verify_result__reason(res));
	return bpk_verify_result__reason(res);
}

static void assert_contains(const char *s, const char *want)
{
	if (!s || !strstr(s, want))
		print_message("'%s' does not contain '%s'\n", s ?: "(null)", want);
	assert_non_null(s);
	assert_non_null(strstr(s, want));
}

/* bpk.sig of a package, parsed. */
static struct bpk_sigfile *sig_of(const void *buf, size_t len)
{
	struct bpk_pkg *pkg = bpk_pkg__open_mem(buf, len, NULL, NULL);
	struct bpk_sigfile *sigs;
	const void *sig;
	size_t sig_len = 0;

	assert_non_null(pkg);
	sig = bpk_pkg__file(pkg, BPK_SIGNATURE_PATH, &sig_len);
	assert_non_null(sig);
	sigs = bpk_sigfile__parse(sig, sig_len, NULL);
	assert_non_null(sigs);
	bpk_pkg__free(pkg);
	return sigs;
}

/* The mode of every entry in a package, as "path=mode;" in archive order. */
static char *modes_of(const void *buf, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	struct archive_entry *e;
	struct archive *a = archive_read_new();

	assert_int_equal(archive_read_support_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_memory(a, buf, len), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK)
		assert_int_equal(strbuf_addf(&sb, "%s=%o;", archive_entry_pathname(e),
					     (unsigned int)archive_entry_perm(e)), 0);
	archive_read_free(a);
	return strbuf_detach(&sb, NULL);
}

/* ---- keys ---- */

static void test_key_generate_save_load(void **state)
{
	char *tmp = test_temp_dir("test-sign"), *base = xasprintf("%s/k", tmp), *pem_path, *pub_path;
	struct bpk_key *key = bpk_key__generate(), *priv, *pub;
	unsigned char *der = NULL;
	char want[65], *before, *after, *pem;
	size_t len, len2;
	struct stat st;
	int der_len;

	assert_non_null(key);
	assert_true(bpk_key__has_private(key));
	assert_int_equal(strlen(bpk_key__id(key)), BPK_KEYID_HEX_LEN);
	assert_int_equal(bpk_key__save(key, base), 0);
	pem_path = xasprintf("%s.pem", base);
	pub_path = xasprintf("%s.pub", base);
	assert_int_equal(stat(pem_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(pub_path, &st), 0);
	assert_int_equal(st.st_mode & 0600, 0600);

	/* Never overwritten, not even half. */
	assert_int_equal(read_file(pem_path, 4096, &before, &len), 0);
	bpk_key__free(key);
	key = bpk_key__generate();
	assert_int_equal(bpk_key__save(key, base), -EEXIST);
	assert_int_equal(read_file(pem_path, 4096, &after, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(before, after, len);
	free(after);
	/* Only the public file in the way: the private one must not be left behind. */
	assert_int_equal(unlink(pem_path), 0);
	assert_int_equal(bpk_key__save(key, base), -EEXIST);
	assert_int_equal(access(pem_path, F_OK), -1);
	/* Put the original private key back. */
	assert_int_equal(write_file_atomic(pem_path, before, len, 0600), 0);

	priv = bpk_key__load(pem_path);
	pub = bpk_key__load(pub_path);
	assert_non_null(priv);
	assert_non_null(pub);
	assert_true(bpk_key__has_private(priv));
	assert_false(bpk_key__has_private(pub));
	assert_string_equal(bpk_key__id(priv), bpk_key__id(pub));
	assert_string_not_equal(bpk_key__id(priv), bpk_key__id(key));

	/* The id is the SHA-256 of the DER SubjectPublicKeyInfo. */
	assert_int_equal(read_file(pub_path, 4096, &pem, &len), 0);
	{
		EVP_PKEY *pkey = bpk_key_from_pem(pem, len, false);

		assert_non_null(pkey);
		der_len = i2d_PUBKEY(pkey, &der);
		assert_true(der_len > 0);
		assert_int_equal(bpk_sha256_hex(der, (size_t)der_len, want), 0);
		OPENSSL_free(der);
		EVP_PKEY_free(pkey);
	}
	assert_string_equal(bpk_key__id(pub), want);

	bpk_key__free(key);
	bpk_key__free(priv);
	bpk_key__free(pub);
	free(before);
	free(pem);
	free(pem_path);
	free(pub_path);
	free(base);
	test_rm_rf(tmp);
	free(tmp);
}

static void test_key_pem_forms(void **state)
{
	struct bpk_key *key = bpk_key__generate(), *a, *b;
	char *pem = bpk_key__public_pem(key, NULL), *crlf;
	struct strbuf sb = STRBUF_INIT;
	const char *p;

	assert_non_null(pem);
	/* The canonical form (read without OpenSSL's decoder) ... */
	a = bpk_key__from_pem(pem, strlen(pem));
	assert_non_null(a);
	/* ... and a CRLF form (read by OpenSSL) give the same key and id. */
	for (p = pem; *p; p++)
		assert_int_equal(*p == '\n' ? strbuf_addstr(&sb, "\r\n") : strbuf_add(&sb, p, 1),
				 0);
	crlf = strbuf_detach(&sb, NULL);
	b = bpk_key__from_pem(crlf, strlen(crlf));
	assert_non_null(b);
	assert_string_equal(bpk_key__id(a), bpk_key__id(key));
	assert_string_equal(bpk_key__id(b), bpk_key__id(key));
	assert_false(bpk_key__has_private(a));

	/* Not a key, an encrypted key, another algorithm's key: EINVAL, no prompt. */
	errno = 0;
	assert_null(bpk_key__from_pem("junk", 4));
	assert_int_equal(errno, EINVAL);
	assert_null(bpk_key__from_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
				      "-----END ENCRYPTED PRIVATE KEY-----\n", 75));
	assert_int_equal(errno, EINVAL);
	{
		static const char ec[] = "-----BEGIN PUBLIC KEY-----\n"
			"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEVU4ccm7RxLq/3qxdMCvwr5Lfr4iy\n"
			"Mc6cLbPUSkl4MKUeiKAW1d0sG7CFBDwQhiHzw/zRCUbTXLt7IHj0Ta1c6A==\n"
			"-----END PUBLIC KEY-----\n";

		assert_null(bpk_key__from_pem(ec, strlen(ec)));
		assert_int_equal(errno, EINVAL);
	}
	/* A canonical-looking PEM whose DER is not Ed25519's goes to OpenSSL and is refused. */
	{
		unsigned char *der = NULL;
		char *b64, *bad;
		size_t der_len = 0;

		b64 = strndup(pem + strlen("-----BEGIN PUBLIC KEY-----\n"), 60);
		assert_int_equal(bpk_base64_decode(b64, &der, &der_len), 0);
		assert_int_equal(der_len, 44);
		assert_int_equal(der[8], 0x70); /* 1.3.101.112, id-Ed25519 */
		der[8] = 0x71;			/* 1.3.101.113, id-Ed448 */
		free(b64);
		b64 = bpk_base64_encode(der, der_len);
		bad = xasprintf("-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n", b64);
		errno = 0;
		assert_null(bpk_key__from_pem(bad, strlen(bad)));
		assert_int_equal(errno, EINVAL);
		free(bad);
		free(b64);
		free(der);
	}
	bpk_key__free(a);
	bpk_key__free(b);
	bpk_key__free(key);
	free(pem);
	free(crlf);
}

/* ---- bpk.sig ---- */

static void expect_sig_refused(const char *text, const char *want_field, const char *want_msg)
{
	struct bpk_error error = BPK_ERROR_INIT;

	errno = 0;
	assert_null(bpk_sigfile__parse(text, strlen(text), &error));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(error.file, BPK_SIGNATURE_PATH);
	if (want_field) {
		assert_non_null(error.field);
		assert_string_equal(error.field, want_field);
	}
	assert_contains(error.message, want_msg);
	bpk_error__release(&error);
}

static void test_sigfile_parse(void **state)
{
	static const char *const keyid =
		"3f2a000000000000000000000000000000000000000000000000000000000000";
	char text[1024], sig64[89], sig63[89];
	unsigned char raw[64] = { 1, 2, 3 };
	struct bpk_sigfile *sigs;
	struct strbuf sb = STRBUF_INIT;
	char *b64, *emitted;
	size_t i;

	b64 = bpk_base64_encode(raw, 64);
	snprintf(sig64, sizeof(sig64), "%s", b64);
	free(b64);
	b64 = bpk_base64_encode(raw, 63);
	snprintf(sig63, sizeof(sig63), "%s", b64);
	free(b64);

	snprintf(text, sizeof(text),
		 "{\"signatures\":[{\"keyid\":\"%s\",\"alg\":\"ed25519\",\"sig\":\"%s\"},"
		 "{\"keyid\":\"%.63s1\",\"alg\":\"ml-dsa-44\",\"sig\":\"whatever\"}]}",
		 keyid, sig64, keyid);
	sigs = bpk_sigfile__parse(text, strlen(text), NULL);
	assert_non_null(sigs);
	assert_int_equal(bpk_sigfile__cnt(sigs), 2);
	assert_string_equal(bpk_sigfile__keyid(sigs, 0), keyid);
	assert_string_equal(bpk_sigfile__alg(sigs, 0), "ed25519");
	/* A newer bpk's algorithm is kept as it is, to be written back when signing. */
	assert_string_equal(bpk_sigfile__alg(sigs, 1), "ml-dsa-44");
	assert_null(bpk_sigfile__keyid(sigs, 2));
	emitted = bpk_sigfile__emit(sigs, NULL);
	assert_non_null(strstr(emitted, "\"whatever\""));
	bpk_sigfile__free(sigs);
	sigs = bpk_sigfile__parse(emitted, strlen(emitted), NULL);
	assert_non_null(sigs);
	assert_int_equal(bpk_sigfile__cnt(sigs), 2);
	bpk_sigfile__free(sigs);
	free(emitted);

	sigs = bpk_sigfile__parse("{\"signatures\":[]}", 17, NULL);
	assert_non_null(sigs);
	assert_int_equal(bpk_sigfile__cnt(sigs), 0);
	bpk_sigfile__free(sigs);

	expect_sig_refused("{\"signatures\":[", NULL, "bpk.sig is not valid JSON");
	expect_sig_refused("", NULL, "bpk.sig is not valid JSON");
	expect_sig_refused("[]", NULL, "must hold a JSON object, not a list");
	expect_sig_refused("{}", "signatures", "'signatures' must be a list, not missing");
	expect_sig_refused("{\"signatures\":{}}", "signatures", "must be a list, not an object");
	expect_sig_refused("{\"signatures\":[],\"x\":1}", "x", "unknown field 'x'");
	expect_sig_refused("{\"signatures\":[],\"signatures\":[]}", NULL, "duplicate");
	expect_sig_refused("{\"signatures\":[1]}", "signatures[0]", "must be an object");
	snprintf(text, sizeof(text), "{\"signatures\":[{\"keyid\":\"%s\",\"alg\":\"ed25519\"}]}",
		 keyid);
	expect_sig_refused(text, "signatures[0].sig", "'signatures[0].sig' is missing");
	snprintf(text, sizeof(text),
		 "{\"signatures\":[{\"keyid\":\"%s\",\"alg\":\"ed25519\",\"sig\":\"%s\","
		 "\"x\":1}]}", keyid, sig64);
	expect_sig_refused(text, "signatures[0].x", "unknown field 'x'");
	snprintf(text, sizeof(text),
		 "{\"signatures\":[{\"keyid\":\"3F2A\",\"alg\":\"ed25519\",\"sig\":\"%s\"}]}",
		 sig64);
	expect_sig_refused(text, "signatures[0].keyid", "'3F2A' is not a key id");
	snprintf(text, sizeof(text),
		 "{\"signatures\":[{\"keyid\":\"%s\",\"alg\":\"ed25519\",\"sig\":\"%s\"}]}",
		 keyid, sig63);
	expect_sig_refused(text, "signatures[0].sig", "decodes to 63 bytes");
	snprintf(text, sizeof(text),
		 "{\"signatures\":[{\"keyid\":\"%s\",\"alg\":\"ed25519\","
		 "\"sig\":\"not base64!\"}]}", keyid);
	expect_sig_refused(text, "signatures[0].sig", "is not base64");
	snprintf(text, sizeof(text),
		 "{\"signatures\":[{\"keyid\":\"%s\",\"alg\":\"Ed 25519\",\"sig\":\"%s\"}]}",
		 keyid, sig64);
	expect_sig_refused(text, "signatures[0].alg", "is not an algorithm name");
	snprintf(text, sizeof(text),
		 "{\"signatures\":[{\"keyid\":\"%s\",\"alg\":\"ed25519\",\"sig\":\"%s\"},"
		 "{\"keyid\":\"%s\",\"alg\":\"ed25519\",\"sig\":\"%s\"}]}",
		 keyid, sig64, keyid, sig64);
	expect_sig_refused(text, "signatures[1].keyid", "signs twice");
	snprintf(text, sizeof(text),
		 "{\"signatures\":[{\"keyid\":\"%s\\u0000\",\"alg\":\"ed25519\",\"sig\":\"%s\"}]}",
		 keyid, sig64);
	/* jansson refuses NUL bytes in strings outright (bpk.sig checks them again anyway). */
	expect_sig_refused(text, NULL, "\\u0000 is not allowed");
	/* A control character in a refused value is shown escaped, never as it is. */
	expect_sig_refused("{\"signatures\":[{\"keyid\":\"\\u001b[31m\",\"alg\":\"ed25519\","
			   "\"sig\":\"\"}]}", "signatures[0].keyid", "'\\x1b[31m' is not");

	assert_int_equal(strbuf_addstr(&sb, "{\"signatures\":["), 0);
	for (i = 0; i <= BPK_SIG_MAX; i++)
		assert_int_equal(strbuf_addf(&sb, "%s{\"keyid\":\"%064zx\",\"alg\":\"x\","
					     "\"sig\":\"\"}", i ? "," : "", i), 0);
	assert_int_equal(strbuf_addstr(&sb, "]}"), 0);
	expect_sig_refused(sb.buf, "signatures", "past the limit of 64");
	strbuf_release(&sb);
}

static void test_sigfile_sign_replaces(void **state)
{
	struct bpk_key *k1 = bpk_key__generate(), *k2 = bpk_key__generate();
	struct bpk_sigfile *sigs = bpk_sigfile__new();
	char *first, *second;
	bool replaced = true;

	assert_int_equal(bpk_sigfile__sign(sigs, k1, "m1", 2, &replaced), 0);
	assert_false(replaced);
	assert_int_equal(bpk_sigfile__sign(sigs, k2, "m1", 2, &replaced), 0);
	assert_false(replaced);
	first = bpk_sigfile__emit(sigs, NULL);
	assert_int_equal(bpk_sigfile__sign(sigs, k1, "m2", 2, &replaced), 0);
	assert_true(replaced);
	second = bpk_sigfile__emit(sigs, NULL);
	/* Same count and order, k1's signature changed in place, k2's untouched. */
	assert_int_equal(bpk_sigfile__cnt(sigs), 2);
	assert_string_equal(bpk_sigfile__keyid(sigs, 0), bpk_key__id(k1));
	assert_string_equal(bpk_sigfile__keyid(sigs, 1), bpk_key__id(k2));
	assert_string_not_equal(first, second);
	assert_int_equal(strlen(first), strlen(second));
	assert_memory_equal(strstr(first, bpk_key__id(k2)), strstr(second, bpk_key__id(k2)),
			    strlen(strstr(first, bpk_key__id(k2))));
	free(first);
	free(second);
	bpk_sigfile__free(sigs);
	bpk_key__free(k1);
	bpk_key__free(k2);
}

/* ---- signing and verifying ---- */

static void test_sign_then_verify(void **state)
{
	char *tmp = test_temp_dir("test-sign"), *dir, *modes_before, *modes_after;
	struct bpk_key *key = bpk_key__generate();
	struct bpk_verify_result *res = bpk_verify_result__new();
	size_t len, signed_len, again_len, i;
	struct bpk_pkg *before, *after;
	void *buf, *signed_buf, *again;
	const struct bpk_signer *s;
	struct bpk_trust *trust;
	char *json;
	json_t *root;

	dir = trust_dir_with(tmp, key, "acme/*", "acme-release");
	trust = load_trust(dir);
	buf = make_pkg("acme/demo", NULL, 0, &len);
	signed_buf = sign(buf, len, key, &signed_len);

	expect_verdict(res, signed_buf, signed_len, trust, false, BPK_VERDICT_TRUSTED);
	assert_string_equal(bpk_verify_result__name(res), "acme/demo");
	assert_string_equal(bpk_verify_result__version(res), "1.0.0");
	assert_int_equal(bpk_verify_result__trusted_cnt(res), 1);
	assert_int_equal(bpk_verify_result__required_cnt(res), 1);
	assert_int_equal(bpk_verify_result__signer_cnt(res), 1);
	s = bpk_verify_result__signer(res, 0);
	assert_string_equal(s->keyid, bpk_key__id(key));
	assert_string_equal(s->alg, "ed25519");
	assert_int_equal(s->status, BPK_SIGNER_TRUSTED);
	assert_true(s->trusted);
	assert_string_equal(s->comment, "acme-release");
	assert_string_equal(s->matched_name, "acme/*");
	assert_null(s->reason);
	assert_non_null(strstr(s->policy_file, bpk_key__id(key)));
	assert_null(bpk_verify_result__signer(res, 1));

	json = bpk_verify_result__to_json(res);
	root = json_loads(json, 0, NULL);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "verdict")), "trusted");
	assert_true(json_is_true(json_object_get(root, "accepted")));
	assert_true(json_is_null(json_object_get(root, "reason")));
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(root, "signers"), 0), "status")),
			    "trusted");
	json_decref(root);
	free(json);

	/* Every entry but bpk.sig keeps its bytes and its mode; the sig is the one addition. */
	before = bpk_pkg__open_mem(buf, len, NULL, NULL);
	after = bpk_pkg__open_mem(signed_buf, signed_len, NULL, NULL);
	assert_non_null(before);
	assert_non_null(after);
	assert_int_equal(bpk_pkg__entry_cnt(after), bpk_pkg__entry_cnt(before) + 1);
	for (i = 0; i < bpk_pkg__entry_cnt(before); i++) {
		const void *d1, *d2;
		size_t n1, n2;
		const char *path = bpk_pkg__entry(before, i, &d1, &n1);

		d2 = bpk_pkg__file(after, path, &n2);
		assert_non_null(d2);
		assert_int_equal(n1, n2);
		assert_memory_equal(d1, d2, n1);
	}
	modes_before = modes_of(buf, len);
	modes_after = modes_of(signed_buf, signed_len);
	assert_non_null(strstr(modes_before, "tools/run.sh=755;"));
	assert_non_null(strstr(modes_after, "tools/run.sh=755;"));
	assert_non_null(strstr(modes_after, "bpk.sig=644;"));
	bpk_pkg__free(before);
	bpk_pkg__free(after);

	/* Deterministic: signing the signed package again with the same key changes nothing. */
	again = sign(signed_buf, signed_len, key, &again_len);
	assert_int_equal(again_len, signed_len);
	assert_memory_equal(again, signed_buf, signed_len);

	/* Through bpk_verify__manifest, the manifest and bpk.sig alone give the same verdict. */
	after = bpk_pkg__open_mem(signed_buf, signed_len, NULL, NULL);
	{
		size_t ml, sl;
		const void *m = bpk_pkg__manifest_bytes(after, &ml);
		const void *sg = bpk_pkg__file(after, BPK_SIGNATURE_PATH, &sl);

		assert_int_equal(bpk_verify__manifest(m, ml, "acme/demo", sg, sl, trust, NULL, res),
				 0);
		assert_int_equal(bpk_verify__manifest(m, ml, "other/demo", sg, sl, trust, NULL,
						      res), -EKEYREJECTED);
		assert_int_equal(bpk_pkg__verify(after, trust, NULL, res), 0);
	}
	bpk_pkg__free(after);

	free(modes_before);
	free(modes_after);
	free(again);
	free(buf);
	free(signed_buf);
	bpk_trust__free(trust);
	bpk_verify_result__free(res);
	bpk_key__free(key);
	test_rm_rf(tmp);
	free(tmp);
	free(dir);
}

static void test_two_signers_min_signers(void **state)
{
	char *tmp = test_temp_dir("test-sign"), *dir, *policy;
	struct bpk_key *author = bpk_key__generate(), *org = bpk_key__generate();
	struct bpk_verify_result *res = bpk_verify_result__new();
	BPK_OPTS(bpk_trust_add_opts, opts, .comment = "acme-org");
	void *buf, *one, *two, *three;
	size_t len, one_len, two_len, three_len;
	struct bpk_sigfile *sigs;
	struct bpk_trust *trust;

	dir = trust_dir_with(tmp, author, NULL, "ada");
	assert_int_equal(bpk_trust__add(dir, org, &opts, NULL, NULL), 0);
	policy = xasprintf("%s/policy.json", dir);
	assert_int_equal(write_file_atomic(policy, "{\"min_signers\": 2}\n", 19, 0644), 0);
	trust = load_trust(dir);
	assert_int_equal(bpk_trust__min_signers(trust), 2);

	buf = make_pkg("demo", NULL, 0, &len);
	one = sign(buf, len, author, &one_len);
	assert_string_equal(expect_verdict(res, one, one_len, trust, false, BPK_VERDICT_REFUSED),
			    "1 trusted signature, policy requires 2");
	assert_int_equal(bpk_verify_result__trusted_cnt(res), 1);
	two = sign(one, one_len, org, &two_len);
	expect_verdict(res, two, two_len, trust, false, BPK_VERDICT_TRUSTED);
	assert_int_equal(bpk_verify_result__trusted_cnt(res), 2);
	assert_int_equal(bpk_verify_result__required_cnt(res), 2);
	assert_int_equal(bpk_verify_result__signer_cnt(res), 2);
	assert_string_equal(bpk_verify_result__signer(res, 0)->comment, "ada");
	assert_string_equal(bpk_verify_result__signer(res, 1)->comment, "acme-org");

	/* The author signing again replaces their entry: still two signatures, same order. */
	three = sign(two, two_len, author, &three_len);
	sigs = sig_of(three, three_len);
	assert_int_equal(bpk_sigfile__cnt(sigs), 2);
	assert_string_equal(bpk_sigfile__keyid(sigs, 0), bpk_key__id(author));
	assert_string_equal(bpk_sigfile__keyid(sigs, 1), bpk_key__id(org));
	bpk_sigfile__free(sigs);
	expect_verdict(res, three, three_len, trust, false, BPK_VERDICT_TRUSTED);

	free(buf);
	free(one);
	free(two);
	free(three);
	free(policy);
	bpk_trust__free(trust);
	bpk_verify_result__free(res);
	bpk_key__free(author);
	bpk_key__free(org);
	test_rm_rf(tmp);
	free(tmp);
	free(dir);
}

static void test_sign_file(void **state)
{
	char *tmp = test_temp_dir("test-sign"), *path = xasprintf("%s/demo.bpk", tmp);
	char *out = xasprintf("%s/out.bpk", tmp), *data, *orig;
	struct bpk_key *k1 = bpk_key__generate(), *k2 = bpk_key__generate();
	BPK_OPTS(bpk_sign_opts, opts, .output = out);
	struct bpk_error error = BPK_ERROR_INIT;
	size_t len, data_len, orig_len;
	struct bpk_sigfile *sigs;
	bool replaced = true;
	void *buf;

	buf = make_pkg("demo", NULL, 0, &len);
	assert_int_equal(write_file_atomic(path, buf, len, 0644), 0);
	/* -o leaves the input as it was. */
	assert_int_equal(bpk_sign__file(path, k1, &opts, &error, &replaced), 0);
	assert_false(replaced);
	assert_int_equal(read_file(path, 1 << 20, &orig, &orig_len), 0);
	assert_int_equal(orig_len, len);
	assert_memory_equal(orig, buf, len);
	/* In place by default; the same key again replaces. */
	assert_int_equal(bpk_sign__file(path, k1, NULL, &error, &replaced), 0);
	assert_false(replaced);
	assert_int_equal(bpk_sign__file(path, k2, NULL, &error, &replaced), 0);
	assert_false(replaced);
	assert_int_equal(bpk_sign__file(path, k1, NULL, &error, &replaced), 0);
	assert_true(replaced);
	assert_int_equal(read_file(path, 1 << 20, &data, &data_len), 0);
	sigs = sig_of(data, data_len);
	assert_int_equal(bpk_sigfile__cnt(sigs), 2);
	bpk_sigfile__free(sigs);
	/* Mode 0644, and no temporary file left beside it. */
	{
		struct dirent **names = NULL;
		struct stat st;
		int n, j;

		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0644);
		n = scandir(tmp, &names, NULL, alphasort);
		assert_int_equal(n, 4);
		assert_string_equal(names[2]->d_name, "demo.bpk");
		assert_string_equal(names[3]->d_name, "out.bpk");
		for (j = 0; j < n; j++)
			free(names[j]);
		free(names);
	}
	assert_int_equal(bpk_sign__file("/nonexistent/x.bpk", k1, NULL, &error, NULL), -ENOENT);

	bpk_error__release(&error);
	free(data);
	free(orig);
	free(buf);
	free(path);
	free(out);
	bpk_key__free(k1);
	bpk_key__free(k2);
	test_rm_rf(tmp);
	free(tmp);
}

static void test_sign_refuses(void **state)
{
	struct bpk_key *key = bpk_key__generate(), *pub;
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_pkg_entry tampered[DEMO_CNT + 1], garbage_sig;
	char *manifest, *pem;
	void *buf, *out = NULL;
	size_t len, out_len;

	/* A package whose README does not match its manifest is not signed. */
	manifest = test_manifest("demo", "1.0.0", demo_files, DEMO_CNT);
	memcpy(tampered, demo_files, sizeof(demo_files));
	tampered[0].data = "# demo\n\nA demonstration package that drops NOTHING!\n";
	tampered[DEMO_CNT] = (struct bpk_pkg_entry){ BPK_MANIFEST_PATH, manifest,
						     strlen(manifest), false };
	assert_int_equal(bpk_pkg__write_mem(tampered, DEMO_CNT + 1, &buf, &len), 0);
	assert_int_equal(bpk_sign__mem(buf, len, key, &error, &out, &out_len), -EINVAL);
	assert_null(out);
	assert_contains(error.message, "cannot sign a broken package: entry 'README.md' has "
				       "SHA-256");
	free(buf);
	free(manifest);

	/* Nor one whose bpk.sig cannot be read: its signatures would be lost. */
	garbage_sig = (struct bpk_pkg_entry){ BPK_SIGNATURE_PATH, "garbage", 7, false };
	buf = make_pkg("demo", &garbage_sig, 1, &len);
	assert_int_equal(bpk_sign__mem(buf, len, key, &error, &out, &out_len), -EINVAL);
	assert_contains(error.message, "bpk.sig is not valid JSON");

	/* A public key cannot sign. */
	pem = bpk_key__public_pem(key, NULL);
	pub = bpk_key__from_pem(pem, strlen(pem));
	assert_int_equal(bpk_sign__mem(buf, len, pub, &error, &out, &out_len), -EINVAL);
	assert_contains(error.message, "is a public key");
	/* Not a package at all. */
	assert_int_equal(bpk_sign__mem("hello", 5, key, &error, &out, &out_len), -EINVAL);
	assert_contains(error.message, "cannot sign a broken package");

	bpk_error__release(&error);
	free(buf);
	free(pem);
	bpk_key__free(pub);
	bpk_key__free(key);
}

static void test_verify_refusals(void **state)
{
	char *tmp = test_temp_dir("test-sign"), *dir, *other_dir, *m2;
	struct bpk_key *key = bpk_key__generate(), *stranger = bpk_key__generate();
	struct bpk_verify_result *res = bpk_verify_result__new();
	struct bpk_pkg_entry entries[DEMO_CNT + 2], empty_sig;
	void *unsigned_buf, *signed_buf, *forged, *stranger_buf, *empty, *tampered;
	size_t len, signed_len, forged_len, stranger_len, empty_len, tampered_len;
	struct bpk_trust *trust, *narrow;
	struct bpk_pkg *pkg;
	const void *sig;
	size_t sig_len;
	char want[256];

	dir = trust_dir_with(tmp, key, NULL, NULL);
	trust = load_trust(dir);
	unsigned_buf = make_pkg("demo", NULL, 0, &len);

	/* Unsigned: refused by default, accepted only when asked. */
	assert_string_equal(expect_verdict(res, unsigned_buf, len, trust, false,
					   BPK_VERDICT_REFUSED), "unsigned package");
	expect_verdict(res, unsigned_buf, len, trust, true, BPK_VERDICT_UNSIGNED_ALLOWED);
	empty_sig = (struct bpk_pkg_entry){ BPK_SIGNATURE_PATH, "{\"signatures\":[]}", 17, false };
	empty = make_pkg("demo", &empty_sig, 1, &empty_len);
	assert_string_equal(expect_verdict(res, empty, empty_len, trust, false,
					   BPK_VERDICT_REFUSED),
			    "unsigned package (bpk.sig holds no signature)");
	expect_verdict(res, empty, empty_len, trust, true, BPK_VERDICT_UNSIGNED_ALLOWED);

	/* Signed by a key the policy does not pin, or with no policy at all. */
	stranger_buf = sign(unsigned_buf, len, stranger, &stranger_len);
	snprintf(want, sizeof(want), "signature by unknown key %s", bpk_key__id(stranger));
	assert_string_equal(expect_verdict(res, stranger_buf, stranger_len, trust, false,
					   BPK_VERDICT_REFUSED), want);
	assert_int_equal(bpk_verify_result__signer(res, 0)->status, BPK_SIGNER_UNKNOWN_KEY);
	assert_string_equal(expect_verdict(res, stranger_buf, stranger_len, NULL, true,
					   BPK_VERDICT_REFUSED), want);

	/* A trusted key outside its names. */
	signed_buf = sign(unsigned_buf, len, key, &signed_len);
	{
		char *ntmp = test_temp_dir("test-sign");

		other_dir = trust_dir_with(ntmp, key, "acme/*", "acme-release");
		narrow = load_trust(other_dir);
		snprintf(want, sizeof(want), "signed by key %s (acme-release) which is trusted "
			 "only for 'acme/*', not 'demo'", bpk_key__id(key));
		assert_string_equal(expect_verdict(res, signed_buf, signed_len, narrow, false,
						   BPK_VERDICT_REFUSED), want);
		assert_int_equal(bpk_verify_result__signer(res, 0)->status,
				 BPK_SIGNER_NAME_NOT_ALLOWED);
		bpk_trust__free(narrow);
		test_rm_rf(ntmp);
		free(ntmp);
	}

	/* A signature that does not match: the manifest edited, the old bpk.sig kept. */
	pkg = bpk_pkg__open_mem(signed_buf, signed_len, NULL, NULL);
	sig = bpk_pkg__file(pkg, BPK_SIGNATURE_PATH, &sig_len);
	m2 = test_manifest("demo", "1.0.0", demo_files, DEMO_CNT);
	*strstr(m2, "A demonstration") = 'a';
	memcpy(entries, demo_files, sizeof(demo_files));
	entries[DEMO_CNT] = (struct bpk_pkg_entry){ BPK_MANIFEST_PATH, m2, strlen(m2), false };
	entries[DEMO_CNT + 1] = (struct bpk_pkg_entry){ BPK_SIGNATURE_PATH, sig, sig_len, false };
	assert_int_equal(bpk_pkg__write_mem(entries, DEMO_CNT + 2, &forged, &forged_len), 0);
	snprintf(want, sizeof(want), "signature by key %s does not match bpk.json (tampered?)",
		 bpk_key__id(key));
	assert_string_equal(expect_verdict(res, forged, forged_len, trust, false,
					   BPK_VERDICT_REFUSED), want);
	assert_int_equal(bpk_verify_result__signer(res, 0)->status, BPK_SIGNER_BAD_SIGNATURE);
	/* --allow-unsigned does not excuse a bad signature... */
	expect_verdict(res, forged, forged_len, trust, true, BPK_VERDICT_REFUSED);

	/* ... nor a file that does not match the manifest, signed as it is. */
	entries[DEMO_CNT].data = bpk_pkg__manifest_bytes(pkg, &entries[DEMO_CNT].size);
	entries[0].data = "# demo\n\nA demonstration package that drops NOTHING!\n";
	assert_int_equal(bpk_pkg__write_mem(entries, DEMO_CNT + 2, &tampered, &tampered_len), 0);
	assert_contains(expect_verdict(res, tampered, tampered_len, trust, true,
				       BPK_VERDICT_REFUSED),
			"entry 'README.md' has SHA-256 ");
	assert_null(bpk_verify_result__name(res));

	/*
	 * A bad signature by a pinned key outweighs a good one: the package's bytes are not
	 * what that key signed.
	 */
	{
		struct bpk_key *second = bpk_key__generate();
		struct bpk_sigfile *sigs = bpk_sigfile__parse(sig, sig_len, NULL);
		BPK_OPTS(bpk_trust_add_opts, none);
		void *both;
		size_t both_len, text_len;
		char *text;

		assert_int_equal(bpk_trust__add(dir, second, &none, NULL, NULL), 0);
		bpk_trust__free(trust);
		trust = load_trust(dir);
		/* Good by key; by second, over other bytes than this bpk.json. */
		assert_int_equal(bpk_sigfile__sign(sigs, second, "other", 5, NULL), 0);
		text = bpk_sigfile__emit(sigs, &text_len);
		memcpy(entries, demo_files, sizeof(demo_files));
		entries[DEMO_CNT].data = bpk_pkg__manifest_bytes(pkg, &entries[DEMO_CNT].size);
		entries[DEMO_CNT + 1] = (struct bpk_pkg_entry){ BPK_SIGNATURE_PATH, text, text_len,
								false };
		assert_int_equal(bpk_pkg__write_mem(entries, DEMO_CNT + 2, &both, &both_len), 0);
		snprintf(want, sizeof(want), "signature by key %s does not match bpk.json "
			 "(tampered?)", bpk_key__id(second));
		assert_string_equal(expect_verdict(res, both, both_len, trust, false,
						   BPK_VERDICT_REFUSED), want);
		assert_int_equal(bpk_verify_result__trusted_cnt(res), 1);
		assert_int_equal(bpk_verify_result__signer(res, 0)->status, BPK_SIGNER_TRUSTED);
		assert_int_equal(bpk_verify_result__signer(res, 1)->status,
				 BPK_SIGNER_BAD_SIGNATURE);
		free(both);
		free(text);
		bpk_sigfile__free(sigs);
		bpk_key__free(second);
	}

	bpk_pkg__free(pkg);
	free(m2);
	free(unsigned_buf);
	free(signed_buf);
	free(forged);
	free(stranger_buf);
	free(empty);
	free(tampered);
	bpk_trust__free(trust);
	bpk_verify_result__free(res);
	bpk_key__free(key);
	bpk_key__free(stranger);
	test_rm_rf(tmp);
	free(tmp);
	free(dir);
	free(other_dir);
}

static void test_verify_file(void **state)
{
	char *tmp = test_temp_dir("test-sign"), *path = xasprintf("%s/demo.bpk", tmp), *json;
	struct bpk_verify_result *res = bpk_verify_result__new();
	struct bpk_key *key = bpk_key__generate();
	void *buf;
	size_t len;

	buf = make_pkg("demo", NULL, 0, &len);
	assert_int_equal(write_file_atomic(path, buf, len, 0644), 0);
	assert_int_equal(bpk_sign__file(path, key, NULL, NULL, NULL), 0);
	assert_int_equal(bpk_verify__file(path, NULL, NULL, res), -EKEYREJECTED);
	json = bpk_verify_result__to_json(res);
	assert_non_null(strstr(json, "\"package\": \""));
	assert_non_null(strstr(json, "\"verdict\": \"refused\""));
	assert_non_null(strstr(json, "\"status\": \"unknown-key\""));
	free(json);
	/* No verdict on a file that cannot be read: that is an error, not a refusal. */
	assert_int_equal(bpk_verify__file("/nonexistent.bpk", NULL, NULL, res), -ENOENT);
	assert_int_equal(bpk_verify_result__verdict(res), BPK_VERDICT_REFUSED);
	assert_false(bpk_verify_result__accepted(res));
	/* Garbage is judged (refused), with the container's reason. */
	assert_int_equal(write_file_atomic(path, "garbage", 7, 0644), 0);
	assert_int_equal(bpk_verify__file(path, NULL, NULL, res), -EKEYREJECTED);
	assert_contains(bpk_verify_result__reason(res), "archive");

	free(buf);
	free(path);
	bpk_verify_result__free(res);
	bpk_key__free(key);
	test_rm_rf(tmp);
	free(tmp);
}

/* ---- adding files ---- */

static void test_add_entries(void **state)
{
	static const char p7s[] = "\x30\x82\x01\x00 pkcs7";
	const struct bpk_pkg_entry add[] = {
		{ "kernel/demo.o.p7s", p7s, sizeof(p7s) - 1, false },
	};
	const struct bpk_pkg_entry replace[] = {
		{ "README.md", "# demo\n\nNew words.\n", 19, false },
	};
	BPK_OPTS(bpk_add_entries_opts, drop, .drop_signatures = true);
	BPK_OPTS(bpk_add_entries_opts, repl, .replace = true);
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_key *key = bpk_key__generate();
	void *buf, *out = NULL, *signed_buf, *out2 = NULL;
	size_t len, out_len, signed_len, out2_len, i;
	const struct bpk_manifest_file *f;
	struct bpk_pkg *before, *after;
	const void *data;
	char digest[65];

	buf = make_pkg("demo", NULL, 0, &len);
	assert_int_equal(bpk_pkg__add_entries(buf, len, add, 1, NULL, &error, &out, &out_len), 0);
	before = bpk_pkg__open_mem(buf, len, NULL, NULL);
	after = bpk_pkg__open_mem(out, out_len, NULL, NULL);
	assert_non_null(after);
	f = bpk_manifest__find_file(bpk_pkg__manifest(after), "kernel/demo.o.p7s");
	assert_non_null(f);
	assert_int_equal(f->size, sizeof(p7s) - 1);
	assert_int_equal(bpk_sha256_hex(p7s, sizeof(p7s) - 1, digest), 0);
	assert_string_equal(f->sha256, digest);
	/* The new file is appended; the manifest's other lines and every other file stay. */
	assert_int_equal(bpk_manifest__file_cnt(bpk_pkg__manifest(after)), DEMO_CNT + 1);
	assert_string_equal(bpk_manifest__file(bpk_pkg__manifest(after), DEMO_CNT)->path,
			    "kernel/demo.o.p7s");
	for (i = 0; i < DEMO_CNT; i++) {
		size_t n;

		data = bpk_pkg__file(after, demo_files[i].path, &n);
		assert_int_equal(n, demo_files[i].size);
		assert_memory_equal(data, demo_files[i].data, n);
	}
	{
		char *modes = modes_of(out, out_len);

		assert_non_null(strstr(modes, "tools/run.sh=755;"));
		free(modes);
	}
	bpk_pkg__free(before);
	bpk_pkg__free(after);

	/* An entry that exists: refused, unless replacing, which updates its line in place. */
	assert_int_equal(bpk_pkg__add_entries(out, out_len, add, 1, NULL, &error, &out2,
					      &out2_len), -EEXIST);
	assert_contains(error.message, "already has an entry 'kernel/demo.o.p7s'");
	assert_int_equal(bpk_pkg__add_entries(out, out_len, replace, 1, &repl, &error, &out2,
					      &out2_len), 0);
	after = bpk_pkg__open_mem(out2, out2_len, NULL, NULL);
	assert_non_null(after);
	assert_string_equal(bpk_manifest__file(bpk_pkg__manifest(after), 0)->path, "README.md");
	assert_int_equal(bpk_manifest__file(bpk_pkg__manifest(after), 0)->size, 19);
	bpk_pkg__free(after);
	free(out2);

	/* bpk.json and bpk.sig are bpk's to write. */
	{
		const struct bpk_pkg_entry bad[] = { { BPK_SIGNATURE_PATH, "{}", 2, false } };

		assert_int_equal(bpk_pkg__add_entries(buf, len, bad, 1, NULL, &error, &out2,
						      &out2_len), -EINVAL);
	}

	/* A signed package: refused unless the signatures are dropped explicitly. */
	signed_buf = sign(buf, len, key, &signed_len);
	assert_int_equal(bpk_pkg__add_entries(signed_buf, signed_len, add, 1, NULL, &error, &out2,
					      &out2_len), -EEXIST);
	assert_contains(error.message, "the package is signed");
	assert_int_equal(bpk_pkg__add_entries(signed_buf, signed_len, add, 1, &drop, &error,
					      &out2, &out2_len), 0);
	after = bpk_pkg__open_mem(out2, out2_len, NULL, NULL);
	assert_null(bpk_pkg__file(after, BPK_SIGNATURE_PATH, NULL));
	assert_non_null(bpk_pkg__file(after, "kernel/demo.o.p7s", NULL));
	bpk_pkg__free(after);
	/* ... and the same bytes as adding to the unsigned package. */
	assert_int_equal(out2_len, out_len);
	assert_memory_equal(out2, out, out_len);

	bpk_error__release(&error);
	free(out2);
	free(signed_buf);
	free(out);
	free(buf);
	bpk_key__free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_generate_save_load),
		cmocka_unit_test(test_key_pem_forms),
		cmocka_unit_test(test_sigfile_parse),
		cmocka_unit_test(test_sigfile_sign_replaces),
		cmocka_unit_test(test_sign_then_verify),
		cmocka_unit_test(test_two_signers_min_signers),
		cmocka_unit_test(test_sign_file),
		cmocka_unit_test(test_sign_refuses),
		cmocka_unit_test(test_verify_refusals),
		cmocka_unit_test(test_verify_file),
		cmocka_unit_test(test_add_entries),
	};

	bpk_set_print(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of level-3 kernel signatures (lib/kernsig.c): CMS, loader, probe, policy, maps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/bpf.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <zlib.h>

#include <bpk/bpk.h>

#include "util.h"

/* A temp dir with keys and certificates made by the openssl command, shared by the tests. */
static char tmpdir[] = "/tmp/bpk-ksig-XXXXXX";

static char *tmp_path(const char *name)
{
	return path_join(tmpdir, name);
}

static void read_all(const char *name, char **data, size_t *len)
{
	char *path = tmp_path(name);

	assert_int_equal(read_file(path, 1 << 24, data, len), 0);
	free(path);
}

static int make_keys(void **state)
{
	static const struct {
		const char *name, *newkey, *extra;
	} keys[] = {
		{ "rsa", "rsa:2048", "" },
		{ "other", "rsa:2048", "" },
		{ "ec", "ec -pkeyopt ec_paramgen_curve:P-256", "" },
		{ "ed", "ed25519", "" },
		{ "noski", "rsa:2048", "-addext subjectKeyIdentifier=none" },
	};
	size_t i;

	if (!mkdtemp(tmpdir))
		return -1;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		char cmd[1024];

		snprintf(cmd, sizeof(cmd),
			 "openssl req -x509 -newkey %s -nodes -keyout %s/%s.pem -outform DER "
			 "-out %s/%s.der -days 2 -subj /CN=bpk-ksig-%s %s >/dev/null 2>&1",
			 keys[i].newkey, tmpdir, keys[i].name, tmpdir, keys[i].name, keys[i].name,
			 keys[i].extra);
		if (system(cmd) != 0) {
			fprintf(stderr, "cannot run: %s\n", cmd);
			return -1;
		}
	}
	return 0;
}

static int remove_keys(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *object_path(const char *file)
{
	const char *dir = getenv("BPK_TEST_BPF_DIR");

	if (!dir)
		fail_msg("BPK_TEST_BPF_DIR is not set (run through meson test)");
	return path_join(dir, file);
}

static void sign_with(const char *key, const char *cert, const void *data, size_t len, int want,
		      void **sig, size_t *sig_len)
{
	char *k, *c;
	size_t kl, cl;

	read_all(key, &k, &kl);
	read_all(cert, &c, &cl);
	assert_int_equal(bpk_ksig__sign(data, len, k, kl, c, cl, sig, sig_len), want);
	free(k);
	free(c);
}

static int verify_with(const char *cert, const void *data, size_t len, const void *sig,
		       size_t sig_len)
{
	char *c;
	size_t cl;
	int err;

	read_all(cert, &c, &cl);
	err = bpk_ksig__verify(data, len, sig, sig_len, c, cl);
	free(c);
	return err;
}

static X509 *load_cert(const char *name)
{
	const unsigned char *p;
	char *c;
	size_t cl;
	X509 *x;

	read_all(name, &c, &cl);
	p = (const unsigned char *)c;
	x = d2i_X509(NULL, &p, (long)cl);
	free(c);
	assert_non_null(x);
	return x;
}

/*
 * The bytes are bpftool 7.7's form, checked field by field with OpenSSL's own parser, then
 * verified the way the kernel does: detached content, the certificate's key, no chain.
 */
static void check_cms_form(const void *sig, size_t sig_len, const char *cert_name,
			   const void *data, size_t len, int want_pkey_nid)
{
	const unsigned char *p = sig;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)sig_len);
	STACK_OF(CMS_SignerInfo) *infos;
	STACK_OF(X509) *certs, *trusted;
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *serial = NULL;
	X509_ALGOR *dig = NULL, *sigalg = NULL;
	EVP_PKEY *pk = NULL;
	CMS_SignerInfo *si;
	X509 *cert = load_cert(cert_name);
	BIO *in, *bad;
	unsigned char *flipped;

	assert_non_null(cms);
	/* One DER object, nothing after it. */
	assert_ptr_equal(p, (const unsigned char *)sig + sig_len);
	assert_int_equal(OBJ_obj2nid(CMS_get0_type(cms)), NID_pkcs7_signed);
	assert_int_equal(CMS_is_detached(cms), 1);
	certs = CMS_get1_certs(cms);
	assert_true(!certs || sk_X509_num(certs) == 0);
	sk_X509_pop_free(certs, X509_free);
	infos = CMS_get0_SignerInfos(cms);
	assert_int_equal(sk_CMS_SignerInfo_num(infos), 1);
	si = sk_CMS_SignerInfo_value(infos, 0);
	assert_true(CMS_signed_get_attr_count(si) < 0);	/* no signed attributes at all */
	assert_true(CMS_unsigned_get_attr_count(si) < 0);
	assert_int_equal(CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &serial), 1);
	assert_non_null(keyid);	/* subjectKeyIdentifier, not issuerAndSerialNumber */
	assert_null(issuer);
	assert_int_equal(ASN1_STRING_cmp(keyid, X509_get0_subject_key_id(cert)), 0);
	assert_int_equal(CMS_SignerInfo_cert_cmp(si, cert), 0);
	CMS_SignerInfo_get0_algs(si, &pk, NULL, &dig, &sigalg);
	assert_int_equal(OBJ_obj2nid(dig->algorithm), NID_sha256);
	if (want_pkey_nid == EVP_PKEY_RSA)
		assert_int_equal(OBJ_obj2nid(sigalg->algorithm), NID_rsaEncryption);

	trusted = sk_X509_new_null();
	assert_non_null(trusted);
	assert_true(sk_X509_push(trusted, cert));
	in = BIO_new_mem_buf(data, (int)len);
	assert_int_equal(CMS_verify(cms, trusted, NULL, in, NULL,
				    CMS_BINARY | CMS_DETACHED | CMS_NO_SIGNER_CERT_VERIFY),
			 1);
	flipped = malloc(len);
	memcpy(flipped, data, len);
	flipped[len / 2] ^= 0x01;
	bad = BIO_new_mem_buf(flipped, (int)len);
	assert_int_not_equal(CMS_verify(cms, trusted, NULL, bad, NULL,
					CMS_BINARY | CMS_DETACHED | CMS_NO_SIGNER_CERT_VERIFY),
			     1);
	ERR_clear_error();
	free(flipped);
	BIO_free(in);
	BIO_free(bad);
	sk_X509_pop_free(trusted, X509_free);
	CMS_ContentInfo_free(cms);
}

static void test_sign_form(void **state)
{
	static const char data[] = "loader instructions stand-in, 8-byte multiple..";
	void *sig, *sig2;
	size_t sig_len, sig2_len;
	unsigned char *bad;

	sign_with("rsa.pem", "rsa.der", data, sizeof(data), 0, &sig, &sig_len);
	check_cms_form(sig, sig_len, "rsa.der", data, sizeof(data), EVP_PKEY_RSA);
	assert_int_equal(verify_with("rsa.der", data, sizeof(data), sig, sig_len), 0);
	assert_int_equal(verify_with("other.der", data, sizeof(data), sig, sig_len), -EKEYREJECTED);

	/* No signing time or nonce: with RSA the same input gives the same bytes. */
	sign_with("rsa.pem", "rsa.der", data, sizeof(data), 0, &sig2, &sig2_len);
	assert_int_equal(sig_len, sig2_len);
	assert_memory_equal(sig, sig2, sig_len);
	free(sig2);

	/* A flipped byte of the signed bytes, or of the signature, fails like in the kernel. */
	bad = malloc(sizeof(data));
	memcpy(bad, data, sizeof(data));
	bad[3] ^= 0x80;
	assert_int_equal(verify_with("rsa.der", bad, sizeof(data), sig, sig_len), -EKEYREJECTED);
	free(bad);
	bad = malloc(sig_len);
	memcpy(bad, sig, sig_len);
	bad[sig_len - 5] ^= 0x01; /* inside the RSA signature value, the last field */
	assert_int_equal(verify_with("rsa.der", data, sizeof(data), bad, sig_len), -EKEYREJECTED);
	free(bad);
	assert_int_equal(verify_with("rsa.der", data, sizeof(data), sig, sig_len - 1), -EBADMSG);
	free(sig);

	/* ECDSA P-256 makes the same form (the kernel needs CONFIG_CRYPTO_ECDSA to check it). */
	sign_with("ec.pem", "ec.der", data, sizeof(data), 0, &sig, &sig_len);
	check_cms_form(sig, sig_len, "ec.der", data, sizeof(data), EVP_PKEY_EC);
	assert_int_equal(verify_with("ec.der", data, sizeof(data), sig, sig_len), 0);
	free(sig);

	/* Refused: Ed25519 (no kernel parses it), a mismatched pair, a cert without key id. */
	sign_with("ed.pem", "ed.der", data, sizeof(data), -EINVAL, &sig, &sig_len);
	sign_with("rsa.pem", "other.der", data, sizeof(data), -EINVAL, &sig, &sig_len);
	sign_with("noski.pem", "noski.der", data, sizeof(data), -EINVAL, &sig, &sig_len);
	sign_with("rsa.pem", "rsa.pem", data, sizeof(data), -EINVAL, &sig, &sig_len);
}

/* A CMS signature with the usual signed attributes is not the kernel's form: refused. */
static void test_verify_refuses_attributes(void **state)
{
	static const char data[] = "some bytes";
	X509 *cert = load_cert("rsa.der");
	unsigned char *der = NULL;
	CMS_ContentInfo *cms;
	EVP_PKEY *key;
	BIO *in, *kb;
	char *k, *c;
	size_t kl, cl;
	int der_len;

	read_all("rsa.pem", &k, &kl);
	read_all("rsa.der", &c, &cl);
	kb = BIO_new_mem_buf(k, (int)kl);
	key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	in = BIO_new_mem_buf(data, sizeof(data));
	cms = CMS_sign(cert, key, NULL, in, CMS_DETACHED | CMS_BINARY);
	assert_non_null(cms);
	der_len = i2d_CMS_ContentInfo(cms, &der);
	assert_true(der_len > 0);
	assert_int_equal(bpk_ksig__verify(data, sizeof(data), der, (size_t)der_len, c, cl),
			 -EBADMSG);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	EVP_PKEY_free(key);
	X509_free(cert);
	BIO_free(in);
	BIO_free(kb);
	free(k);
	free(c);
}

static void test_policy(void **state)
{
	enum bpk_ksig_policy p = BPK_KSIG_POLICY_PREFER;

	assert_int_equal(bpk_ksig_policy__parse("off", &p), 0);
	assert_int_equal(p, BPK_KSIG_POLICY_OFF);
	assert_int_equal(bpk_ksig_policy__parse("prefer", &p), 0);
	assert_int_equal(p, BPK_KSIG_POLICY_PREFER);
	assert_int_equal(bpk_ksig_policy__parse("require", &p), 0);
	assert_int_equal(p, BPK_KSIG_POLICY_REQUIRE);
	assert_int_equal(bpk_ksig_policy__parse("Require", &p), -EINVAL);
	assert_int_equal(bpk_ksig_policy__parse("", &p), -EINVAL);
	assert_int_equal(bpk_ksig_policy__parse(NULL, &p), -EINVAL);
	assert_int_equal(p, BPK_KSIG_POLICY_REQUIRE); /* untouched on failure */
	assert_string_equal(bpk_ksig_policy__name(BPK_KSIG_POLICY_OFF), "off");
	assert_string_equal(bpk_ksig_policy__name(BPK_KSIG_POLICY_PREFER), "prefer");
	assert_string_equal(bpk_ksig_policy__name(BPK_KSIG_POLICY_REQUIRE), "require");
}

static void test_classify(void **state)
{
	struct bpk_ksig_probe p;

	bpk_ksig__classify(EOPNOTSUPP, &p);
	assert_int_equal(p.support, BPK_KSIG_NO_VERIFIER);
	assert_int_equal(p.err, EOPNOTSUPP);
	assert_true(str_has_prefix(p.message, "this kernel cannot verify BPF signatures: "));
	assert_non_null(strstr(p.message, "CONFIG_SYSTEM_DATA_VERIFICATION"));
	bpk_ksig__classify(E2BIG, &p);
	assert_int_equal(p.support, BPK_KSIG_TOO_OLD);
	assert_true(str_has_prefix(p.message, "this kernel cannot verify BPF signatures: "));
	assert_non_null(strstr(p.message, "6.18"));
	bpk_ksig__classify(EBADMSG, &p);
	assert_int_equal(p.support, BPK_KSIG_SUPPORTED);
	bpk_ksig__classify(EKEYREJECTED, &p);
	assert_int_equal(p.support, BPK_KSIG_SUPPORTED);
	bpk_ksig__classify(EPERM, &p);
	assert_int_equal(p.support, BPK_KSIG_UNKNOWN);
	assert_non_null(strstr(p.message, "CAP_BPF"));
	bpk_ksig__classify(ENOSPC, &p);
	assert_int_equal(p.support, BPK_KSIG_UNKNOWN);
	assert_non_null(strstr(p.message, "ENOSPC"));
	bpk_ksig__classify(0, &p);
	assert_int_equal(p.support, BPK_KSIG_UNKNOWN);
}

static void test_decide(void **state)
{
	struct bpk_ksig_probe no, yes;
	struct bpk_ksig_decision d;

	bpk_ksig__classify(EOPNOTSUPP, &no);
	bpk_ksig__classify(EBADMSG, &yes);

	bpk_ksig__decide(BPK_KSIG_POLICY_OFF, &no, true, &d);
	assert_int_equal(d.verdict, BPK_KSIG_LOAD_PLAIN);
	assert_string_equal(d.message, "");
	bpk_ksig__decide(BPK_KSIG_POLICY_REQUIRE, &no, true, &d);
	assert_int_equal(d.verdict, BPK_KSIG_REFUSE);
	assert_true(str_has_prefix(d.message, "this kernel cannot verify BPF signatures: "));
	assert_non_null(strstr(d.message, "require"));
	bpk_ksig__decide(BPK_KSIG_POLICY_PREFER, &no, true, &d);
	assert_int_equal(d.verdict, BPK_KSIG_LOAD_WARN);
	assert_true(str_has_prefix(d.message, "this kernel cannot verify BPF signatures: "));
	assert_non_null(strstr(d.message, "without kernel verification"));
	bpk_ksig__decide(BPK_KSIG_POLICY_PREFER, &yes, true, &d);
	assert_int_equal(d.verdict, BPK_KSIG_LOAD_SIGNED);
	bpk_ksig__decide(BPK_KSIG_POLICY_REQUIRE, &yes, true, &d);
	assert_int_equal(d.verdict, BPK_KSIG_LOAD_SIGNED);
	bpk_ksig__decide(BPK_KSIG_POLICY_REQUIRE, &yes, false, &d);
	assert_int_equal(d.verdict, BPK_KSIG_REFUSE);
	assert_non_null(strstr(d.message, "no kernel signatures"));
	bpk_ksig__decide(BPK_KSIG_POLICY_PREFER, &yes, false, &d);
	assert_int_equal(d.verdict, BPK_KSIG_LOAD_WARN);
	bpk_ksig__decide(BPK_KSIG_POLICY_OFF, &yes, false, &d);
	assert_int_equal(d.verdict, BPK_KSIG_LOAD_PLAIN);
}

static struct bpk_ksig_artifacts *make_artifacts(const char *obj_file, bool signed_)
{
	struct bpk_ksig_artifacts *art = NULL;
	char *path = object_path(obj_file), *obj, *key = NULL, *cert = NULL;
	size_t len;
	int err;

	assert_int_equal(read_file(path, 1 << 24, &obj, &len), 0);
	if (signed_) {
		key = tmp_path("rsa.pem");
		cert = tmp_path("rsa.der");
	}
	err = bpk_ksig__make(obj_file, obj, len, key, cert, &art);
	if (err)
		fail_msg("bpk_ksig__make(%s): %s", obj_file, strerror(-err));
	free(path);
	free(obj);
	free(key);
	free(cert);
	return art;
}

static void test_make(void **state)
{
	struct bpk_ksig_artifacts *art = make_artifacts("xdp_counter.o", true), *again;
	const struct bpf_insn *insn = art->loader;
	unsigned char h[SHA256_DIGEST_LENGTH];
	uint64_t dw;
	int i;

	assert_int_equal(art->loader_len % sizeof(struct bpf_insn), 0);
	assert_true(art->payload_len > 0);
	assert_int_equal(art->map_cnt, 2);
	assert_int_equal(art->prog_cnt, 1);
	SHA256(art->payload, art->payload_len, h);
	assert_memory_equal(h, art->payload_sha256, sizeof(h));
	SHA256(art->loader, art->loader_len, h);
	assert_memory_equal(h, art->loader_sha256, sizeof(h));

	/* The loader starts with the check of the payload's hash: map index 0, four dwords. */
	for (i = 0; i < 4; i++) {
		const struct bpf_insn *c = insn + 8 * i;

		assert_int_equal(c[0].code, BPF_LD | BPF_DW | BPF_IMM);
		assert_int_equal(c[0].src_reg, BPF_PSEUDO_MAP_IDX);
		assert_int_equal(c[0].imm, 0);
		assert_int_equal(c[2].off, 8 * i);
		dw = (uint32_t)c[3].imm | (uint64_t)(uint32_t)c[4].imm << 32;
		assert_memory_equal(&dw, art->payload_sha256 + 8 * i, 8);
		assert_int_equal(c[7].code, BPF_JMP | BPF_EXIT);
	}

	assert_non_null(art->signature);
	check_cms_form(art->signature, art->signature_len, "rsa.der", art->loader, art->loader_len,
		       EVP_PKEY_RSA);
	assert_int_equal(verify_with("rsa.der", art->loader, art->loader_len, art->signature,
				     art->signature_len),
			 0);

	/* Same object, same key: same loader, payload and signature (reproducible packages). */
	again = make_artifacts("xdp_counter.o", true);
	assert_int_equal(again->loader_len, art->loader_len);
	assert_memory_equal(again->loader, art->loader, art->loader_len);
	assert_int_equal(again->payload_len, art->payload_len);
	assert_memory_equal(again->payload, art->payload, art->payload_len);
	assert_int_equal(again->signature_len, art->signature_len);
	assert_memory_equal(again->signature, art->signature, art->signature_len);
	bpk_ksig_artifacts__free(again);

	/*
	 * Unsigned, the loader and payload are the same bytes: bpk load rebuilds them from the
	 * object to check that the package's kernel/ files were made from it.
	 */
	again = make_artifacts("xdp_counter.o", false);
	assert_null(again->signature);
	assert_int_equal(again->loader_len, art->loader_len);
	assert_memory_equal(again->loader, art->loader, art->loader_len);
	assert_int_equal(again->payload_len, art->payload_len);
	assert_memory_equal(again->payload, art->payload, art->payload_len);
	bpk_ksig_artifacts__free(again);
	again = make_artifacts("tc_classifier.o", false);
	assert_true(again->payload_len != art->payload_len ||
		    memcmp(again->payload, art->payload, art->payload_len));
	bpk_ksig_artifacts__free(again);
	bpk_ksig_artifacts__free(art);

	assert_int_equal(bpk_ksig__make("x.o", "not an ELF", 10, NULL, NULL, &art), -EINVAL);
}

/* ---- tests that talk to the kernel ------------------------------------------------- */

static long sys_bpf(int cmd, void *attr, size_t size)
{
	return syscall(__NR_bpf, cmd, attr, (unsigned int)size);
}

/* Whether bpf() is usable here; prints why not, for the skip. */
static bool can_bpf(void)
{
	union bpf_attr attr;
	long fd;

	if (geteuid() != 0) {
		print_message("skipped: needs root for bpf()\n");
		return false;
	}
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	fd = sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
	if (fd < 0) {
		print_message("skipped: bpf() unavailable: %s\n", strerror(errno));
		return false;
	}
	close((int)fd);
	return true;
}

/*
 * Whether the running kernel is one of the machines DESIGN.md §8 describes: 6.18 or later,
 * without CONFIG_SYSTEM_DATA_VERIFICATION. There the answers are known exactly.
 */
static bool kernel_without_verifier(void)
{
	struct utsname u;
	unsigned int major = 0, minor = 0;
	char line[256];
	bool without = false;
	gzFile f;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2 ||
	    major * 1000 + minor < 6018)
		return false;
	f = gzopen("/proc/config.gz", "r");
	if (!f)
		return false;
	while (gzgets(f, line, sizeof(line)))
		if (str_has_prefix(line, "# CONFIG_SYSTEM_DATA_VERIFICATION is not set"))
			without = true;
	gzclose(f);
	return without;
}

static void test_probe(void **state)
{
	struct bpk_ksig_probe p, again;

	if (!can_bpf())
		skip();
	assert_int_equal(bpk_ksig__probe(&p), 0);
	print_message("probe: %s (errno %d)\n", p.message, p.err);
	assert_int_not_equal(p.support, BPK_KSIG_UNKNOWN);
	if (kernel_without_verifier()) {
		assert_int_equal(p.support, BPK_KSIG_NO_VERIFIER);
		assert_int_equal(p.err, EOPNOTSUPP);
		assert_true(str_has_prefix(p.message,
					   "this kernel cannot verify BPF signatures: "));
	}
	assert_int_equal(bpk_ksig__probe(&again), 0); /* cached: the same answer */
	assert_memory_equal(&p, &again, sizeof(p));
}

static int prog_info(int fd, struct bpf_prog_info *info)
{
	union bpf_attr attr;

	memset(info, 0, sizeof(*info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = sizeof(*info);
	attr.info.info = (uint64_t)(uintptr_t)info;
	return (int)sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr));
}

/*
 * The whole level-3 load: signed, where the kernel answers EOPNOTSUPP here, then the policy,
 * then what prefer does: the same loader without the signature attributes, which still checks
 * the payload's hash and loads the object's programs.
 */
static void test_load(void **state)
{
	struct bpk_ksig_artifacts *art, *tampered;
	struct bpk_ksig_loaded *loaded = NULL;
	struct bpk_ksig_decision decision;
	struct bpk_ksig_probe probe;
	struct bpf_prog_info info;
	unsigned char *payload;
	char *cert;
	size_t cert_len;
	int err;

	if (!can_bpf())
		skip();
	art = make_artifacts("xdp_counter.o", true);
	read_all("rsa.der", &cert, &cert_len);
	bpk_ksig__probe(&probe);

	BPK_OPTS(bpk_ksig_load_opts, opts, .cert_der = cert, .cert_der_len = cert_len);
	err = bpk_ksig__load(art, &opts, &loaded);
	print_message("signed load: %s\n", err ? strerror(-err) : "loaded");
	if (probe.support == BPK_KSIG_NO_VERIFIER) {
		assert_int_equal(err, -EOPNOTSUPP);
		assert_null(loaded);
		bpk_ksig__decide(BPK_KSIG_POLICY_REQUIRE, &probe, true, &decision);
		assert_int_equal(decision.verdict, BPK_KSIG_REFUSE);
		bpk_ksig__decide(BPK_KSIG_POLICY_PREFER, &probe, true, &decision);
		assert_int_equal(decision.verdict, BPK_KSIG_LOAD_WARN);
		print_message("prefer: %s\n", decision.message);
	} else if (probe.support == BPK_KSIG_SUPPORTED) {
		assert_int_equal(err, 0);
		bpk_ksig_loaded__free(TAKE_PTR(loaded));
	}

	/* An unknown keyring: the kernel's key lookup fails before any verification. */
	BPK_OPTS(bpk_ksig_load_opts, bad_ring, .keyring_id = 0x7ffffff0, .keyring_id_set = true);
	assert_int_equal(bpk_ksig__load(art, &bad_ring, &loaded), -EINVAL);

	BPK_OPTS(bpk_ksig_load_opts, unsigned_opts, .without_signature = true);
	assert_int_equal(bpk_ksig__load(art, &unsigned_opts, &loaded), 0);
	assert_int_equal(loaded->prog_cnt, 1);
	assert_int_equal(loaded->map_cnt, 2);
	assert_true(loaded->prog_fds[0] > 0);
	assert_true(loaded->map_fds[0] > 0 && loaded->map_fds[1] > 0);
	assert_int_equal(prog_info(loaded->prog_fds[0], &info), 0);
	assert_int_equal(info.type, BPF_PROG_TYPE_XDP);
	assert_string_equal(info.name, "xdp_count");
	bpk_ksig_loaded__free(loaded);

	/*
	 * A payload changed after signing: the exclusive map takes it (the loader is the same),
	 * the kernel hashes it, and the loader's own check refuses it with -EINVAL.
	 */
	payload = malloc(art->payload_len);
	memcpy(payload, art->payload, art->payload_len);
	payload[art->payload_len - 1] ^= 0x01;
	assert_int_equal(bpk_ksig_artifacts__new(art->loader, art->loader_len, payload,
						 art->payload_len, art->signature,
						 art->signature_len, art->map_cnt, art->prog_cnt,
						 &tampered),
			 0);
	loaded = NULL;
	assert_int_equal(bpk_ksig__load(tampered, &unsigned_opts, &loaded), -EINVAL);
	assert_null(loaded);
	bpk_ksig_artifacts__free(tampered);
	free(payload);
	free(cert);
	bpk_ksig_artifacts__free(art);
}

/* Linux 6.18 BPF_MAP_CREATE and bpf_map_info, spelled out again as a check of lib/'s. */
struct map_create_618 {
	uint32_t map_type, key_size, value_size, max_entries, map_flags, inner_map_fd, numa_node;
	char map_name[16];
	uint32_t map_ifindex, btf_fd, btf_key_type_id, btf_value_type_id, btf_vmlinux_value_type_id;
	uint64_t map_extra;
	int32_t value_type_btf_obj_fd, map_token_fd;
	uint64_t excl_prog_hash;
	uint32_t excl_prog_hash_size;
};
_Static_assert(offsetof(struct map_create_618, excl_prog_hash) == 80, "excl_prog_hash");

struct map_info_618 {
	struct bpf_map_info v61; /* up to map_extra, 88 bytes */
	uint64_t hash;
	uint32_t hash_size;
};
_Static_assert(offsetof(struct map_info_618, hash) == 88, "hash");

static int excl_map(const unsigned char hash[32])
{
	struct map_create_618 attr = {
		.map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 1,
		.excl_prog_hash = (uint64_t)(uintptr_t)hash, .excl_prog_hash_size = 32,
	};

	return (int)sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
}

/* r1 = map (ld_imm64 BPF_PSEUDO_MAP_FD); r0 = ret; exit */
static void map_prog(struct bpf_insn insns[4], int map_fd, int ret)
{
	memset(insns, 0, 4 * sizeof(*insns));
	insns[0].code = BPF_LD | BPF_DW | BPF_IMM;
	insns[0].dst_reg = BPF_REG_1;
	insns[0].src_reg = BPF_PSEUDO_MAP_FD;
	insns[0].imm = map_fd;
	insns[2].code = BPF_ALU64 | BPF_MOV | BPF_K;
	insns[2].imm = ret;
	insns[3].code = BPF_JMP | BPF_EXIT;
}

static int load_socket_filter(const struct bpf_insn *insns, size_t cnt)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)cnt;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	return (int)sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
}

/*
 * An exclusive map takes only the program whose hash it was made with. The hash the kernel
 * compares is its prog->digest: SHA-256 of the instructions as passed to BPF_PROG_LOAD, with the
 * imm of map-fd ld_imm64 pairs zeroed (bpf_prog_calc_tag()), so it does not depend on fd
 * numbers. Found here by experiment; this test keeps it true.
 */
static void test_exclusive_map(void **state)
{
	struct bpf_insn a[4], b[4], purged[4];
	unsigned char ha[32], raw[32];
	int map_fd, fd;

	if (!can_bpf())
		skip();
	map_prog(purged, 0, 0);
	SHA256((const unsigned char *)purged, sizeof(purged), ha);
	map_fd = excl_map(ha);
	if (map_fd < 0 && (errno == E2BIG || errno == EINVAL)) {
		print_message("skipped: this kernel has no exclusive maps (%s)\n", strerror(errno));
		skip();
	}
	assert_true(map_fd >= 0);

	map_prog(b, map_fd, 1); /* other instructions */
	fd = load_socket_filter(b, 4);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, EACCES);

	map_prog(a, map_fd, 0);
	fd = load_socket_filter(a, 4);
	assert_true(fd >= 0);
	close(fd);

	/*
	 * The fd is not part of the hash: a map made with the hash of A's bytes as sent, fd
	 * included, refuses A. The next fd number is predicted from the lowest free one.
	 */
	close(map_fd);
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	map_prog(a, fd, 0);
	SHA256((const unsigned char *)a, sizeof(a), raw);
	map_fd = excl_map(raw);
	assert_true(map_fd >= 0);
	if (map_fd == fd) {
		fd = load_socket_filter(a, 4);
		assert_int_equal(fd, -1);
		assert_int_equal(errno, EACCES);
	}
	close(map_fd);

	/* Size other than 32 is refused at creation. */
	struct map_create_618 attr = {
		.map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 1,
		.excl_prog_hash = (uint64_t)(uintptr_t)ha, .excl_prog_hash_size = 16,
	};
	assert_int_equal(sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr)), -1);
	assert_int_equal(errno, EINVAL);
}

/* bpf_map_info.hash: the kernel's SHA-256 of an array map's values, as user space computes it. */
static void test_map_hash(void **state)
{
	unsigned char value[40], want[32], got[32];
	struct map_info_618 info;
	union bpf_attr attr;
	uint32_t key = 0;
	int fd, i;

	if (!can_bpf())
		skip();
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = sizeof(value);
	attr.max_entries = 1;
	fd = (int)sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
	assert_true(fd >= 0);
	for (i = 0; i < (int)sizeof(value); i++)
		value[i] = (unsigned char)(i * 7 + 1);
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)fd;
	attr.key = (uint64_t)(uintptr_t)&key;
	attr.value = (uint64_t)(uintptr_t)value;
	assert_int_equal(sys_bpf(BPF_MAP_UPDATE_ELEM, &attr, sizeof(attr)), 0);
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)fd;
	assert_int_equal(sys_bpf(BPF_MAP_FREEZE, &attr, sizeof(attr)), 0);

	memset(&info, 0, sizeof(info));
	info.hash = (uint64_t)(uintptr_t)got;
	info.hash_size = sizeof(got);
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr))) {
		print_message("skipped: this kernel has no map hashes (%s)\n", strerror(errno));
		close(fd);
		skip();
	}
	SHA256(value, sizeof(value), want);
	assert_memory_equal(got, want, sizeof(want));

	info.hash_size = 16; /* only SHA-256's size is accepted */
	assert_int_equal(sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)), -1);
	assert_int_equal(errno, EINVAL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_form),
		cmocka_unit_test(test_verify_refuses_attributes),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_make),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_exclusive_map),
		cmocka_unit_test(test_map_hash),
	};

	bpk_set_print(NULL);
	return cmocka_run_group_tests(tests, make_keys, remove_keys);
}

// SPDX-License-Identifier: BSD-2-Clause
/* Level-3 signatures: make, check and load kernel-verified loaders, calling bpf() directly. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/keyctl.h>

#include <bpf/libbpf.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bpk_internal.h"

/*
 * Debian 12's libbpf 1.1 and UAPI 6.1 headers know none of the 6.18 fields, so the attributes
 * this module needs are spelled out here, copied in shape (not code) from Linux 6.18's
 * include/uapi/linux/bpf.h. Their offsets are ABI and checked below; a kernel that does not
 * know a field answers E2BIG when it is non-zero (bpf_check_uarg_tail_zero()).
 */

/* union bpf_attr, BPF_PROG_LOAD, Linux 6.18 (sizeof 168). */
struct ksig_prog_load_attr {
	uint32_t prog_type;
	uint32_t insn_cnt;
	uint64_t insns;
	uint64_t license;
	uint32_t log_level;
	uint32_t log_size;
	uint64_t log_buf;
	uint32_t kern_version;
	uint32_t prog_flags;
	char prog_name[16];
	uint32_t prog_ifindex;
	uint32_t expected_attach_type;
	uint32_t prog_btf_fd;
	uint32_t func_info_rec_size;
	uint64_t func_info;
	uint32_t func_info_cnt;
	uint32_t line_info_rec_size;
	uint64_t line_info;
	uint32_t line_info_cnt;
	uint32_t attach_btf_id;
	uint32_t attach_prog_fd;
	uint32_t core_relo_cnt;
	uint64_t fd_array;
	uint64_t core_relos;
	uint32_t core_relo_rec_size;
	uint32_t log_true_size;		/* 6.4 */
	int32_t prog_token_fd;		/* 6.9 */
	uint32_t fd_array_cnt;		/* 6.13 */
	uint64_t signature;		/* 6.18: pointer to the DER PKCS#7 signature */
	uint32_t signature_size;	/* 6.18 */
	int32_t keyring_id;		/* 6.18: keyring serial, KEY_SPEC_* id, or 0..2 system */
};
_Static_assert(offsetof(struct ksig_prog_load_attr, fd_array) == 120, "fd_array");
_Static_assert(offsetof(struct ksig_prog_load_attr, fd_array_cnt) == 148, "fd_array_cnt");
_Static_assert(offsetof(struct ksig_prog_load_attr, signature) == 152, "signature");
_Static_assert(offsetof(struct ksig_prog_load_attr, signature_size) == 160, "signature_size");
_Static_assert(offsetof(struct ksig_prog_load_attr, keyring_id) == 164, "keyring_id");
_Static_assert(sizeof(struct ksig_prog_load_attr) == 168, "BPF_PROG_LOAD attr size");

/* union bpf_attr, BPF_MAP_CREATE, Linux 6.18. */
struct ksig_map_create_attr {
	uint32_t map_type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	uint32_t inner_map_fd;
	uint32_t numa_node;
	char map_name[16];
	uint32_t map_ifindex;
	uint32_t btf_fd;
	uint32_t btf_key_type_id;
	uint32_t btf_value_type_id;
	uint32_t btf_vmlinux_value_type_id;
	uint64_t map_extra;
	int32_t value_type_btf_obj_fd;	/* 6.9 */
	int32_t map_token_fd;		/* 6.9 */
	uint64_t excl_prog_hash;	/* 6.18: SHA-256 of the one program that may use the map */
	uint32_t excl_prog_hash_size;	/* 6.18: must be 32 */
};
_Static_assert(offsetof(struct ksig_map_create_attr, map_extra) == 64, "map_extra");
_Static_assert(offsetof(struct ksig_map_create_attr, excl_prog_hash) == 80, "excl_prog_hash");
_Static_assert(offsetof(struct ksig_map_create_attr, excl_prog_hash_size) == 88, "hash size");

/* struct bpf_map_info, Linux 6.18: hash/hash_size ask the kernel for SHA-256 of the values. */
struct ksig_map_info {
	uint32_t type;
	uint32_t id;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	char name[16];
	uint32_t ifindex;
	uint32_t btf_vmlinux_value_type_id;
	uint64_t netns_dev;
	uint64_t netns_ino;
	uint32_t btf_id;
	uint32_t btf_key_type_id;
	uint32_t btf_value_type_id;
	uint32_t btf_vmlinux_id;
	uint64_t map_extra;
	uint64_t hash;			/* 6.18 */
	uint32_t hash_size;		/* 6.18 */
	uint32_t pad;
};
_Static_assert(offsetof(struct ksig_map_info, map_extra) == 80, "map_extra");
_Static_assert(offsetof(struct ksig_map_info, hash) == 88, "hash");
_Static_assert(offsetof(struct ksig_map_info, hash_size) == 96, "hash_size");

/*
 * The context a libbpf gen_loader program reads and fills (libbpf 1.1 skel_internal.h):
 * a header, then one descriptor per map, then one per program, in object order.
 */
struct ksig_loader_ctx {
	uint32_t sz;
	uint32_t flags;
	uint32_t log_level;
	uint32_t log_size;
	uint64_t log_buf;
};
struct ksig_map_desc {
	int32_t map_fd;
	uint32_t max_entries;
	uint64_t initial_value;
};
struct ksig_prog_desc {
	int32_t prog_fd;
};
_Static_assert(sizeof(struct ksig_loader_ctx) == 24, "loader ctx");
_Static_assert(sizeof(struct ksig_map_desc) == 16, "map desc");

#define KSIG_MAX_SIG_LEN (64U << 10)
#define KSIG_MAX_BLOB (256U << 20)

static long sys_bpf(int cmd, void *attr, size_t size)
{
	return syscall(__NR_bpf, cmd, attr, (unsigned int)size);
}

static int sha256(const void *data, size_t len, unsigned char out[BPK_KSIG_SHA256_LEN])
{
	unsigned int n = 0;

	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) || n != BPK_KSIG_SHA256_LEN)
		return -EIO;
	return 0;
}

/* ---- loader: libbpf's gen_loader plus bpk's payload-hash check --------------------------- */

/*
 * libbpf sends its messages to one process-wide callback. While it builds a loader for us its
 * messages go to bpk's print callback at debug level, not to stderr (bpk_libbpf_print_begin).
 */

static struct bpf_object *ksig_open(const char *name, const void *obj, size_t obj_len)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name);
	struct bpf_object *bobj;

	if (!obj || !obj_len) {
		errno = EINVAL;
		return NULL;
	}
	bobj = bpf_object__open_mem(obj, obj_len, &opts);
	if (!bobj && !errno)
		errno = EINVAL;
	return bobj;
}

static void ksig_count(struct bpf_object *bobj, uint32_t *maps, uint32_t *progs)
{
	struct bpf_program *prog;
	struct bpf_map *map;

	*maps = *progs = 0;
	bpf_object__for_each_map(map, bobj)
		(*maps)++;
	bpf_object__for_each_program(prog, bobj)
		(*progs)++;
}

int bpk_ksig__count(const char *name, const void *obj, size_t obj_len, uint32_t *ret_map_cnt,
		    uint32_t *ret_prog_cnt)
{
	struct bpf_object *bobj;
	libbpf_print_fn_t old;

	old = bpk_libbpf_print_begin(bpk_libbpf_print_debug);
	bobj = ksig_open(name, obj, obj_len);
	bpk_libbpf_print_end(old);
	if (!bobj)
		return -errno;
	ksig_count(bobj, ret_map_cnt, ret_prog_cnt);
	bpf_object__close(bobj);
	return 0;
}

#define KSIG_HASH_CHECK_INSNS 32

static struct bpf_insn ksig_insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off,
				  .imm = imm };
}

/*
 * libbpf 1.1's loader trusts its payload. Linux 6.18's design (libbpf 1.6 gen_loader with
 * gen_hash) makes the signed loader check the payload itself: the payload map is fd_array[0],
 * its struct bpf_map starts with the SHA-256 the kernel computed of its values (filled in by
 * BPF_OBJ_GET_INFO_BY_FD with a hash buffer, after BPF_MAP_FREEZE), and the loader compares it
 * with the hash embedded in its own, signed, instructions. bpk emits that check in front of the
 * 1.1 loader, four times:
 *	r2 = map[0] (ld_imm64, BPF_PSEUDO_MAP_IDX)	the struct bpf_map *, not its value
 *	r3 = *(u64 *)(r2 + 8 * i)			bytes 8i..8i+7 of map->sha
 *	r4 = expected dword i (ld_imm64)
 *	if r3 == r4 goto +2
 *	r0 = -EINVAL
 *	exit
 * It runs before the loader opens any fd, so a mismatch simply returns -EINVAL; r1 (the
 * context) is left alone for the loader's first instruction. Jumps inside the 1.1 loader are
 * relative and never leave it, so putting instructions in front of it moves nothing.
 */
static void ksig_emit_hash_check(struct bpf_insn *out, const unsigned char hash[32])
{
	size_t n = 0;
	int i;

	for (i = 0; i < 4; i++) {
		uint64_t dw;

		memcpy(&dw, hash + 8 * i, sizeof(dw)); /* map->sha read as a u64, host order */
		out[n++] = ksig_insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_2, BPF_PSEUDO_MAP_IDX, 0,
				     0);
		out[n++] = ksig_insn(0, 0, 0, 0, 0);
		out[n++] = ksig_insn(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_3, BPF_REG_2, 8 * i, 0);
		out[n++] = ksig_insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_4, 0, 0,
				     (int32_t)(uint32_t)dw);
		out[n++] = ksig_insn(0, 0, 0, 0, (int32_t)(uint32_t)(dw >> 32));
		out[n++] = ksig_insn(BPF_JMP | BPF_JEQ | BPF_X, BPF_REG_3, BPF_REG_4, 2, 0);
		out[n++] = ksig_insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, -EINVAL);
		out[n++] = ksig_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
}

static int ksig_gen_loader(const char *name, const void *obj, size_t obj_len,
			   struct bpk_ksig_artifacts *art)
{
	LIBBPF_OPTS(gen_loader_opts, gen);
	unsigned char payload_hash[BPK_KSIG_SHA256_LEN];
	struct bpf_object *bobj;
	libbpf_print_fn_t old;
	size_t prefix = KSIG_HASH_CHECK_INSNS * sizeof(struct bpf_insn);
	int err;

	old = bpk_libbpf_print_begin(bpk_libbpf_print_debug);
	bobj = ksig_open(name, obj, obj_len);
	err = bobj ? 0 : -errno;
	if (!err)
		err = bpf_object__gen_loader(bobj, &gen);
	/* With a gen_loader attached, "load" records what it would do instead of doing it. */
	if (!err)
		err = bpf_object__load(bobj);
	bpk_libbpf_print_end(old);
	if (err) {
		pr_debug("gen_loader for '%s' failed: %s\n", name, strerror(-err));
		err = err == -EPERM ? -EPERM : err == -ENOMEM ? -ENOMEM : -EINVAL;
		goto out;
	}
	if (!gen.insns_sz || gen.insns_sz % sizeof(struct bpf_insn) || !gen.data_sz ||
	    gen.insns_sz > KSIG_MAX_BLOB || gen.data_sz > KSIG_MAX_BLOB) {
		err = -EINVAL;
		goto out;
	}
	ksig_count(bobj, &art->map_cnt, &art->prog_cnt);

	art->payload = malloc(gen.data_sz);
	art->loader = malloc(prefix + gen.insns_sz);
	if (!art->payload || !art->loader) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(art->payload, gen.data, gen.data_sz);
	art->payload_len = gen.data_sz;
	err = sha256(art->payload, art->payload_len, payload_hash);
	if (err)
		goto out;
	memcpy(art->payload_sha256, payload_hash, sizeof(payload_hash));
	ksig_emit_hash_check(art->loader, payload_hash);
	memcpy((char *)art->loader + prefix, gen.insns, gen.insns_sz);
	art->loader_len = prefix + gen.insns_sz;
	err = sha256(art->loader, art->loader_len, art->loader_sha256);
out:
	bpf_object__close(bobj); /* frees gen.insns and gen.data: copied above */
	return err;
}

/* ---- signing and checking: bpftool 7.7's CMS form -------------------------------------- */

static X509 *ksig_cert_from_der(const void *der, size_t len)
{
	const unsigned char *p = der;
	X509 *cert;

	if (!der || !len || len > INT32_MAX)
		return NULL;
	cert = d2i_X509(NULL, &p, (long)len);
	if (cert && p != (const unsigned char *)der + len) { /* trailing bytes: not one DER cert */
		X509_free(cert);
		return NULL;
	}
	return cert;
}

int bpk_ksig__sign(const void *data, size_t len, const void *key_pem, size_t key_pem_len,
		   const void *cert_der, size_t cert_der_len, void **ret_sig, size_t *ret_sig_len)
{
	const unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_NOCERTS | CMS_NOATTR |
				   CMS_NOSMIMECAP | CMS_PARTIAL;
	CMS_ContentInfo *cms = NULL;
	unsigned char *der = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	BIO *in = NULL, *kb = NULL;
	void *sig;
	int der_len, err = -EINVAL;

	if (!data || len > INT32_MAX || !key_pem || key_pem_len > INT32_MAX)
		return -EINVAL;
	kb = BIO_new_mem_buf(key_pem, (int)key_pem_len);
	in = BIO_new_mem_buf(data, (int)len);
	if (!kb || !in) {
		err = -ENOMEM;
		goto out;
	}
	key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	cert = ksig_cert_from_der(cert_der, cert_der_len);
	if (!key || !cert || !X509_check_private_key(cert, key)) {
		pr_debug("kernel signature: unusable key or certificate, or they do not match\n");
		goto out;
	}
	/*
	 * The kernel's X.509 parser knows RSA, ECDSA (with CONFIG_CRYPTO_ECDSA) and SM2, not
	 * Ed25519 (add_key answers ENOPKG): refuse what no kernel could check.
	 */
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA && EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
		pr_debug("kernel signature: the kernel verifies RSA and ECDSA keys only\n");
		goto out;
	}
	/* CMS_USE_KEYID names the signer by SubjectKeyIdentifier, as the kernel looks it up. */
	if (!X509_get0_subject_key_id(cert)) {
		pr_debug("kernel signature: certificate has no SubjectKeyIdentifier\n");
		goto out;
	}
	cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	if (!cms)
		goto out_ssl;
	if (!CMS_add1_signer(cms, cert, key, EVP_sha256(),
			     CMS_NOCERTS | CMS_BINARY | CMS_NOSMIMECAP | CMS_USE_KEYID |
				     CMS_NOATTR))
		goto out_ssl;
	if (CMS_final(cms, in, NULL, CMS_NOCERTS | CMS_BINARY | CMS_DETACHED) != 1)
		goto out_ssl;
	der_len = i2d_CMS_ContentInfo(cms, &der);
	if (der_len <= 0)
		goto out_ssl;
	sig = malloc((size_t)der_len);
	if (!sig) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(sig, der, (size_t)der_len);
	*ret_sig = sig;
	*ret_sig_len = (size_t)der_len;
	err = 0;
	goto out;
out_ssl:
	pr_debug("kernel signature: OpenSSL: %s\n", ERR_reason_error_string(ERR_peek_last_error()));
	err = -EIO;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	X509_free(cert);
	EVP_PKEY_free(key);
	BIO_free(in);
	BIO_free(kb);
	return err;
}

int bpk_ksig__verify(const void *data, size_t len, const void *sig, size_t sig_len,
		     const void *cert_der, size_t cert_der_len)
{
	const unsigned char *p = sig;
	STACK_OF(CMS_SignerInfo) *infos;
	STACK_OF(X509) *certs = NULL, *embedded = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	X509 *cert = NULL;
	BIO *in = NULL;
	int err = -EBADMSG;

	if (!data || len > INT32_MAX || !sig || !sig_len || sig_len > KSIG_MAX_SIG_LEN)
		return -EINVAL;
	cert = ksig_cert_from_der(cert_der, cert_der_len);
	if (!cert)
		return -EINVAL;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)sig_len);
	if (!cms || p != (const unsigned char *)sig + sig_len ||
	    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed || CMS_is_detached(cms) != 1)
		goto out;
	/* The kernel's form: one signer, no attributes, no certificates inside. */
	infos = CMS_get0_SignerInfos(cms);
	embedded = CMS_get1_certs(cms);
	if (sk_CMS_SignerInfo_num(infos) != 1 || (embedded && sk_X509_num(embedded)))
		goto out;
	si = sk_CMS_SignerInfo_value(infos, 0);
	if (CMS_signed_get_attr_count(si) >= 0 || CMS_unsigned_get_attr_count(si) >= 0)
		goto out;
	err = -ENOMEM;
	in = BIO_new_mem_buf(data, (int)len);
	certs = sk_X509_new_null();
	if (!in || !certs || !sk_X509_push(certs, cert))
		goto out;
	cert = NULL; /* owned by certs now */
	/*
	 * The kernel does not build a chain: it finds the signer's key in the keyring by key id
	 * and checks the signature. So: the given certificate is the signer, no chain check.
	 */
	err = CMS_verify(cms, certs, NULL, in, NULL,
			 CMS_BINARY | CMS_DETACHED | CMS_NO_SIGNER_CERT_VERIFY | CMS_NOINTERN) == 1
		      ? 0
		      : -EKEYREJECTED;
out:
	ERR_clear_error();
	sk_X509_pop_free(embedded, X509_free);
	sk_X509_pop_free(certs, X509_free);
	X509_free(cert);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return err;
}

/* ---- artifacts ----------------------------------------------------------------------- */

void bpk_ksig_artifacts__free(struct bpk_ksig_artifacts *art)
{
	if (!art)
		return;
	free(art->loader);
	free(art->payload);
	free(art->signature);
	free(art);
}

int bpk_ksig_artifacts__new(const void *loader, size_t loader_len, const void *payload,
			    size_t payload_len, const void *signature, size_t signature_len,
			    uint32_t map_cnt, uint32_t prog_cnt, struct bpk_ksig_artifacts **ret)
{
	struct bpk_ksig_artifacts *art;
	int err;

	if (!loader || !loader_len || loader_len % sizeof(struct bpf_insn) ||
	    loader_len > KSIG_MAX_BLOB || !payload || !payload_len || payload_len > KSIG_MAX_BLOB ||
	    (signature && (!signature_len || signature_len > KSIG_MAX_SIG_LEN)))
		return -EINVAL;
	art = calloc(1, sizeof(*art));
	if (!art)
		return -ENOMEM;
	art->loader = malloc(loader_len);
	art->payload = malloc(payload_len);
	art->signature = signature ? malloc(signature_len) : NULL;
	if (!art->loader || !art->payload || (signature && !art->signature)) {
		bpk_ksig_artifacts__free(art);
		return -ENOMEM;
	}
	memcpy(art->loader, loader, loader_len);
	art->loader_len = loader_len;
	memcpy(art->payload, payload, payload_len);
	art->payload_len = payload_len;
	if (signature) {
		memcpy(art->signature, signature, signature_len);
		art->signature_len = signature_len;
	}
	art->map_cnt = map_cnt;
	art->prog_cnt = prog_cnt;
	err = sha256(loader, loader_len, art->loader_sha256);
	if (!err)
		err = sha256(payload, payload_len, art->payload_sha256);
	if (err) {
		bpk_ksig_artifacts__free(art);
		return err;
	}
	*ret = art;
	return 0;
}

int bpk_ksig__make(const char *name, const void *obj, size_t obj_len, const char *key_pem_path,
		   const char *cert_der_path, struct bpk_ksig_artifacts **ret)
{
	_cleanup_free_ char *key = NULL, *cert = NULL;
	struct bpk_ksig_artifacts *art;
	size_t key_len = 0, cert_len = 0;
	int err;

	if (!name || !obj || !obj_len || !key_pem_path != !cert_der_path)
		return -EINVAL;
	if (key_pem_path) {
		err = read_file(key_pem_path, 1 << 20, &key, &key_len);
		if (!err)
			err = read_file(cert_der_path, 1 << 20, &cert, &cert_len);
		if (err)
			return err;
	}
	art = calloc(1, sizeof(*art));
	if (!art)
		return -ENOMEM;
	err = ksig_gen_loader(name, obj, obj_len, art);
	if (!err && key)
		err = bpk_ksig__sign(art->loader, art->loader_len, key, key_len, cert, cert_len,
				     &art->signature, &art->signature_len);
	if (err) {
		bpk_ksig_artifacts__free(art);
		return err;
	}
	*ret = art;
	return 0;
}

/* ---- probe and policy -------------------------------------------------------------------- */

int bpk_ksig_policy__parse(const char *text, enum bpk_ksig_policy *ret_policy)
{
	static const char *const names[] = { "off", "prefer", "require" };
	size_t i;

	for (i = 0; text && i < ARRAY_SIZE(names); i++) {
		if (!strcmp(text, names[i])) {
			*ret_policy = (enum bpk_ksig_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *bpk_ksig_policy__name(enum bpk_ksig_policy policy)
{
	switch (policy) {
	case BPK_KSIG_POLICY_OFF:
		return "off";
	case BPK_KSIG_POLICY_PREFER:
		return "prefer";
	case BPK_KSIG_POLICY_REQUIRE:
		return "require";
	}
	return "?";
}

void bpk_ksig__classify(int err, struct bpk_ksig_probe *ret)
{
	const char *what;

	ret->err = err;
	switch (err) {
	case EOPNOTSUPP:
		ret->support = BPK_KSIG_NO_VERIFIER;
		what = "this kernel cannot verify BPF signatures: it was built without "
		       "CONFIG_SYSTEM_DATA_VERIFICATION (signed BPF_PROG_LOAD answered EOPNOTSUPP)";
		break;
	case E2BIG:
		ret->support = BPK_KSIG_TOO_OLD;
		what = "this kernel cannot verify BPF signatures: it predates signed BPF programs "
		       "(Linux 6.18) and refused the signature fields of BPF_PROG_LOAD (E2BIG)";
		break;
	case EBADMSG:
	case EKEYREJECTED:
	case ENOKEY:
	case ENOPKG:
	case EMSGSIZE:
	case EINVAL:
		/* The bogus signature reached the verifier (or the keyring lookup): refused. */
		ret->support = BPK_KSIG_SUPPORTED;
		what = "this kernel verifies BPF signatures";
		break;
	case 0:
		ret->support = BPK_KSIG_UNKNOWN;
		what = "cannot tell whether this kernel verifies BPF signatures: it accepted a "
		       "bogus signature";
		break;
	case EPERM:
	case EACCES:
		ret->support = BPK_KSIG_UNKNOWN;
		what = "cannot tell whether this kernel verifies BPF signatures: not allowed to "
		       "load BPF programs (CAP_BPF needed)";
		break;
	case ENOSYS:
		ret->support = BPK_KSIG_UNKNOWN;
		what = "this kernel cannot verify BPF signatures: it has no bpf() system call";
		break;
	default:
		ret->support = BPK_KSIG_UNKNOWN;
		snprintf(ret->message, sizeof(ret->message),
			 "cannot tell whether this kernel verifies BPF signatures: BPF_PROG_LOAD "
			 "answered %s (%s)",
			 strerrorname_np(err) ? strerrorname_np(err) : "?", strerror(err));
		return;
	}
	snprintf(ret->message, sizeof(ret->message), "%s", what);
}

static struct bpk_ksig_probe ksig_probe_result;
static pthread_once_t ksig_probe_once = PTHREAD_ONCE_INIT;

static void ksig_probe_run(void)
{
	/* r0 = 0; exit: valid anywhere, so only the signature can make the load fail. */
	struct bpf_insn insns[] = {
		ksig_insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		ksig_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	/* Not a PKCS#7 message: a verifying kernel answers EBADMSG. */
	static const unsigned char bogus[16] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	struct ksig_prog_load_attr attr = {
		.prog_type = BPF_PROG_TYPE_SOCKET_FILTER,
		.insn_cnt = ARRAY_SIZE(insns),
		.insns = (uint64_t)(uintptr_t)insns,
		.license = (uint64_t)(uintptr_t)"GPL",
		.signature = (uint64_t)(uintptr_t)bogus,
		.signature_size = sizeof(bogus),
		/* The builtin trusted keyring: it always exists, so the key lookup cannot fail. */
		.keyring_id = 0,
	};
	long fd = sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));

	if (fd >= 0)
		close((int)fd);
	bpk_ksig__classify(fd >= 0 ? 0 : errno, &ksig_probe_result);
	pr_debug("kernel signature probe: %s\n", ksig_probe_result.message);
}

int bpk_ksig__probe(struct bpk_ksig_probe *ret)
{
	pthread_once(&ksig_probe_once, ksig_probe_run);
	*ret = ksig_probe_result;
	return 0;
}

void bpk_ksig__decide(enum bpk_ksig_policy policy, const struct bpk_ksig_probe *probe,
		      bool has_artifacts, struct bpk_ksig_decision *ret)
{
	ret->message[0] = '\0';
	if (policy == BPK_KSIG_POLICY_OFF) {
		ret->verdict = BPK_KSIG_LOAD_PLAIN;
		return;
	}
	if (!has_artifacts) {
		ret->verdict = policy == BPK_KSIG_POLICY_REQUIRE ? BPK_KSIG_REFUSE
								 : BPK_KSIG_LOAD_WARN;
		snprintf(ret->message, sizeof(ret->message),
			 policy == BPK_KSIG_POLICY_REQUIRE
				 ? "the package has no kernel signatures (kernel/*.p7s), and "
				   "kernel_signatures = require refuses to load it"
				 : "the package has no kernel signatures (kernel/*.p7s): loading "
				   "it without kernel verification (kernel_signatures = prefer)");
		return;
	}
	if (probe->support == BPK_KSIG_SUPPORTED) {
		ret->verdict = BPK_KSIG_LOAD_SIGNED;
		return;
	}
	if (policy == BPK_KSIG_POLICY_REQUIRE) {
		ret->verdict = BPK_KSIG_REFUSE;
		snprintf(ret->message, sizeof(ret->message),
			 "%s; kernel_signatures = require refuses to load without it",
			 probe->message);
	} else {
		ret->verdict = BPK_KSIG_LOAD_WARN;
		snprintf(ret->message, sizeof(ret->message),
			 "%s; loading without kernel verification (kernel_signatures = prefer)",
			 probe->message);
	}
}

/* ---- loading ------------------------------------------------------------------------- */

void bpk_ksig_loaded__free(struct bpk_ksig_loaded *loaded)
{
	uint32_t i;

	if (!loaded)
		return;
	for (i = 0; i < loaded->prog_cnt; i++)
		if (loaded->prog_fds[i] > 0)
			close(loaded->prog_fds[i]);
	for (i = 0; i < loaded->map_cnt; i++)
		if (loaded->map_fds[i] > 0)
			close(loaded->map_fds[i]);
	free(loaded->prog_fds);
	free(loaded->map_fds);
	free(loaded);
}

/* The payload map: one array entry holding the payload, usable only by the loader, frozen. */
static int ksig_payload_map(const struct bpk_ksig_artifacts *art)
{
	struct ksig_map_create_attr attr = {
		.map_type = BPF_MAP_TYPE_ARRAY,
		.key_size = sizeof(uint32_t),
		.value_size = (uint32_t)art->payload_len,
		.max_entries = 1,
		.excl_prog_hash = (uint64_t)(uintptr_t)art->loader_sha256,
		.excl_prog_hash_size = BPK_KSIG_SHA256_LEN,
	};
	unsigned char kernel_hash[BPK_KSIG_SHA256_LEN];
	struct ksig_map_info info = {
		.hash = (uint64_t)(uintptr_t)kernel_hash,
		.hash_size = sizeof(kernel_hash),
	};
	union bpf_attr elem, freeze, get;
	uint32_t key = 0;
	int fd, err;

	memcpy(attr.map_name, "bpk_ksig_data", sizeof("bpk_ksig_data"));
	fd = (int)sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
	if (fd < 0) {
		err = -errno;
		pr_debug("kernel signature: payload map: %s\n", strerror(-err));
		return err;
	}
	memset(&elem, 0, sizeof(elem));
	elem.map_fd = (uint32_t)fd;
	elem.key = (uint64_t)(uintptr_t)&key;
	elem.value = (uint64_t)(uintptr_t)art->payload;
	memset(&freeze, 0, sizeof(freeze));
	freeze.map_fd = (uint32_t)fd;
	memset(&get, 0, sizeof(get));
	get.info.bpf_fd = (uint32_t)fd;
	get.info.info_len = sizeof(info);
	get.info.info = (uint64_t)(uintptr_t)&info;
	/*
	 * Asking for the hash after freezing is what stores it in the map's struct bpf_map,
	 * where the loader's check reads it.
	 */
	if (sys_bpf(BPF_MAP_UPDATE_ELEM, &elem, sizeof(elem)) ||
	    sys_bpf(BPF_MAP_FREEZE, &freeze, sizeof(freeze)) ||
	    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &get, sizeof(get))) {
		err = -errno;
		pr_debug("kernel signature: payload map setup: %s\n", strerror(-err));
		close(fd);
		return err;
	}
	if (memcmp(kernel_hash, art->payload_sha256, sizeof(kernel_hash))) {
		pr_warn("kernel signature: the kernel's hash of the payload differs from ours\n");
		close(fd);
		return -EBADMSG;
	}
	return fd;
}

static long ksig_add_key(const struct bpk_ksig_load_opts *opts, int32_t keyring)
{
	long key = syscall(SYS_add_key, "asymmetric", "bpk kernel signature",
			   OPTS_GET(opts, cert_der, NULL), OPTS_GET(opts, cert_der_len, 0),
			   keyring);

	if (key < 0)
		pr_debug("kernel signature: add_key asymmetric: %s\n", strerror(errno));
	return key < 0 ? -errno : key;
}

/* Hand the fds the loader wrote into its context to a bpk_ksig_loaded. */
static int ksig_take_fds(const struct bpk_ksig_artifacts *art, struct ksig_loader_ctx *ctx,
			 struct bpk_ksig_loaded **ret)
{
	struct ksig_map_desc *maps = (struct ksig_map_desc *)(ctx + 1);
	struct ksig_prog_desc *progs = (struct ksig_prog_desc *)(maps + art->map_cnt);
	struct bpk_ksig_loaded *loaded = calloc(1, sizeof(*loaded));
	uint32_t i;

	if (loaded) {
		loaded->map_fds = calloc(art->map_cnt + 1, sizeof(int));
		loaded->prog_fds = calloc(art->prog_cnt + 1, sizeof(int));
	}
	if (!loaded || !loaded->map_fds || !loaded->prog_fds) {
		for (i = 0; i < art->map_cnt; i++)
			if (maps[i].map_fd > 0)
				close(maps[i].map_fd);
		for (i = 0; i < art->prog_cnt; i++)
			if (progs[i].prog_fd > 0)
				close(progs[i].prog_fd);
		if (loaded) {
			free(loaded->map_fds);
			free(loaded->prog_fds);
			free(loaded);
		}
		return -ENOMEM;
	}
	for (i = 0; i < art->map_cnt; i++)
		loaded->map_fds[i] = maps[i].map_fd;
	for (i = 0; i < art->prog_cnt; i++)
		loaded->prog_fds[i] = progs[i].prog_fd;
	loaded->map_cnt = art->map_cnt;
	loaded->prog_cnt = art->prog_cnt;
	*ret = loaded;
	return 0;
}

/* Payload map, loader load (signed or not), loader run; the key is already in place. */
static int ksig_load_and_run(const struct bpk_ksig_artifacts *art,
			     const struct bpk_ksig_load_opts *opts, bool sign, int32_t keyring,
			     struct bpk_ksig_loaded **ret)
{
	size_t ctx_sz = sizeof(struct ksig_loader_ctx) +
			art->map_cnt * sizeof(struct ksig_map_desc) +
			art->prog_cnt * sizeof(struct ksig_prog_desc);
	_cleanup_free_ struct ksig_loader_ctx *ctx = calloc(1, ctx_sz);
	_cleanup_close_ int map_fd = -1, prog_fd = -1;
	struct ksig_prog_load_attr attr = { 0 };
	union bpf_attr run;
	int err;

	if (!ctx)
		return -ENOMEM;
	ctx->sz = (uint32_t)ctx_sz;
	map_fd = ksig_payload_map(art);
	if (map_fd < 0)
		return map_fd;

	attr.prog_type = BPF_PROG_TYPE_SYSCALL;
	attr.insn_cnt = (uint32_t)(art->loader_len / sizeof(struct bpf_insn));
	attr.insns = (uint64_t)(uintptr_t)art->loader;
	attr.license = (uint64_t)(uintptr_t)"Dual BSD/GPL";
	attr.prog_flags = BPF_F_SLEEPABLE; /* the loader calls bpf_sys_bpf(), which may sleep */
	memcpy(attr.prog_name, "bpk_ksig_loader", sizeof("bpk_ksig_loader"));
	attr.fd_array = (uint64_t)(uintptr_t)&map_fd; /* map index 0 in the loader's ld_imm64 */
	if (OPTS_GET(opts, log_buf, NULL) && OPTS_GET(opts, log_size, 0)) {
		attr.log_level = 1;
		attr.log_buf = (uint64_t)(uintptr_t)OPTS_GET(opts, log_buf, NULL);
		attr.log_size = (uint32_t)OPTS_GET(opts, log_size, 0);
	}
	if (sign) {
		attr.signature = (uint64_t)(uintptr_t)art->signature;
		attr.signature_size = (uint32_t)art->signature_len;
		attr.keyring_id = keyring;
	}
	/* Unsigned, stop before the 6.18 fields, so older kernels take it too. */
	prog_fd = (int)sys_bpf(BPF_PROG_LOAD, &attr,
			       sign ? sizeof(attr)
				    : offsetof(struct ksig_prog_load_attr, signature));
	if (prog_fd < 0) {
		err = -errno;
		pr_debug("kernel signature: loader BPF_PROG_LOAD: %s\n", strerror(-err));
		return err;
	}

	memset(&run, 0, sizeof(run));
	run.test.prog_fd = (uint32_t)prog_fd;
	run.test.ctx_in = (uint64_t)(uintptr_t)ctx;
	run.test.ctx_size_in = (uint32_t)ctx_sz;
	if (sys_bpf(BPF_PROG_TEST_RUN, &run, sizeof(run))) {
		err = -errno;
		pr_debug("kernel signature: running the loader: %s\n", strerror(-err));
		return err;
	}
	if ((int32_t)run.test.retval < 0) {
		err = (int32_t)run.test.retval;
		pr_debug("kernel signature: the loader failed: %s\n", strerror(-err));
		return err;
	}
	return ksig_take_fds(art, ctx, ret);
}

int bpk_ksig__load(const struct bpk_ksig_artifacts *art, const struct bpk_ksig_load_opts *opts,
		   struct bpk_ksig_loaded **ret)
{
	bool sign = !OPTS_GET(opts, without_signature, false);
	int32_t keyring = OPTS_GET(opts, keyring_id_set, false) ? OPTS_GET(opts, keyring_id, 0)
								 : KEY_SPEC_SESSION_KEYRING;
	long key = 0;
	int err;

	if (!art || !art->loader_len || art->loader_len % sizeof(struct bpf_insn) ||
	    art->loader_len / sizeof(struct bpf_insn) > UINT32_MAX || !art->payload_len ||
	    art->payload_len > UINT32_MAX || (sign && !art->signature) || art->map_cnt > 4096 ||
	    art->prog_cnt > 4096)
		return -EINVAL;
	if (sign && OPTS_GET(opts, cert_der, NULL)) {
		key = ksig_add_key(opts, keyring);
		if (key < 0)
			return (int)key;
	}
	err = ksig_load_and_run(art, opts, sign, keyring, ret);
	/* The key is needed only while the kernel checks the signature. */
	if (key > 0)
		syscall(SYS_keyctl, KEYCTL_INVALIDATE, key);
	return err;
}

/* ---- whole packages ---- */

int bpk_ksig__sign_package(const void *buf, size_t len, const char *key_pem_path,
			   const char *cert_der_path, bool drop_signatures, struct bpk_error *error,
			   void **ret_buf, size_t *ret_len)
{
	BPK_OPTS(bpk_add_entries_opts, add_opts, .drop_signatures = drop_signatures,
		 .replace = true);
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_ksig_artifacts **arts = NULL;
	struct bpk_pkg_entry *entries = NULL;
	char **paths = NULL;
	struct bpk_pkg *pkg;
	size_t i, n_obj = 0, n = 0, cnt;
	int err = 0;

	pkg = bpk_pkg__open_mem(buf, len, NULL, &diags);
	if (!pkg) {
		const struct bpk_diag *d = bpk_diags__first_error(&diags);

		err = errno == ENOMEM ? -ENOMEM : -EINVAL;
		bpk_error__set(error, NULL, NULL, "not a valid package: %s",
			       d ? d->message : strerror(-err));
		bpk_diags__release(&diags);
		return err;
	}
	cnt = bpk_pkg__entry_cnt(pkg);
	arts = calloc(cnt, sizeof(*arts));
	entries = calloc(3 * cnt, sizeof(*entries));
	paths = calloc(3 * cnt, sizeof(*paths));
	if (!arts || !entries || !paths) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		const void *data;
		size_t size, base_len;
		const char *path = bpk_pkg__entry(pkg, i, &data, &size), *base;

		if (!bpk_path_is_object(path))
			continue;
		base = path + strlen("bpf/");
		base_len = strlen(base) - strlen(".o");
		err = bpk_ksig__make(base, data, size, key_pem_path, cert_der_path, &arts[n_obj]);
		if (err) {
			bpk_error__set(error, path, NULL, "cannot make the level-3 signature of '%s': %s",
				       path,
				       err == -EINVAL ? "libbpf cannot build its loader, or the key or certificate is unusable (RSA or ECDSA with a subjectKeyIdentifier; not Ed25519)"
						      : strerror(-err));
			goto out;
		}
		paths[n] = xasprintf(BPK_KSIG_DIR "%.*s.loader", (int)base_len, base);
		paths[n + 1] = xasprintf(BPK_KSIG_DIR "%.*s.payload", (int)base_len, base);
		paths[n + 2] = xasprintf(BPK_KSIG_DIR "%.*s.p7s", (int)base_len, base);
		if (!paths[n] || !paths[n + 1] || !paths[n + 2]) {
			err = -ENOMEM;
			goto out;
		}
		entries[n] = (struct bpk_pkg_entry){ paths[n], arts[n_obj]->loader,
						     arts[n_obj]->loader_len, false };
		entries[n + 1] = (struct bpk_pkg_entry){ paths[n + 1], arts[n_obj]->payload,
							 arts[n_obj]->payload_len, false };
		entries[n + 2] = (struct bpk_pkg_entry){ paths[n + 2], arts[n_obj]->signature,
							 arts[n_obj]->signature_len, false };
		n += 3;
		n_obj++;
	}
	if (!n_obj) {
		bpk_error__set(error, NULL, NULL, "the package has no bpf/*.o object to sign");
		err = -EINVAL;
		goto out;
	}
	err = bpk_pkg__add_entries(buf, len, entries, n, &add_opts, error, ret_buf, ret_len);
out:
	for (i = 0; i < n_obj; i++)
		bpk_ksig_artifacts__free(arts[i]);
	for (i = 0; paths && i < 3 * cnt; i++)
		free(paths[i]);
	free(paths);
	free(entries);
	free(arts);
	bpk_pkg__free(pkg);
	bpk_diags__release(&diags);
	return err;
}

// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target for the signed index: any bytes as each role document, through the client. */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"
#include "crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first input byte picks the document the rest of the input stands for; the other files
 * come from a valid repository made once, signed by this fixed key. A test key, published
 * here on purpose: it makes the repository, and so the seed corpus, the same on every run.
 */
enum fuzz_mode {
	FUZZ_NEXT_ROOT,	 /* 2.root.json, after the trusted 1.root.json */
	FUZZ_TIMESTAMP,	 /* timestamp.json */
	FUZZ_SNAPSHOT,	 /* snapshot.json, under a timestamp signed to match it */
	FUZZ_TARGETS,	 /* targets.json, under a snapshot and timestamp signed to match it */
	FUZZ_TRUSTED,	 /* the root trusted out of band */
	FUZZ_MODE_CNT,
};

static const char fuzz_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MC4CAQAwBQYDK2VwBCIEIApKR9DKBEmo+53uSTjdVCJIC9tNESTdPSlwYCuklIn5\n"
	"-----END PRIVATE KEY-----\n";
#define FUZZ_NOW 1790000000LL
#define CANONICAL (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

struct file {
	const char *name;
	char *data;
	size_t len;
};

enum { F_ROOT1, F_ROOT2, F_TIMESTAMP, F_SNAPSHOT, F_TARGETS, F_CNT };
static struct file base[F_CNT] = {
	{ "1.root.json" }, { "2.root.json" }, { "timestamp.json" }, { "snapshot.json" },
	{ "targets.json" },
};
static EVP_PKEY *fuzz_key;
static char fuzz_key_id[BPK_KEYID_LEN + 1];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* A repository with two packages and a second root version, all signed by the fixed key. */
static void make_base(void)
{
	BPK_OPTS(bpk_index_opts, opts, .now = FUZZ_NOW);
	char dir[] = "/tmp/bpk-fuzz-index.XXXXXX", hex[65];
	struct bpk_index_target t = { .name = "acme/pkt", .version = "1.0.0", .sha256 = hex,
				      .size = 3 };
	struct bpk_index *idx;
	size_t i;
	int role;

	fuzz_key = bpk_key_from_pem(fuzz_key_pem, strlen(fuzz_key_pem), true);
	idx = bpk_index__new(&opts);
	if (!fuzz_key || bpk_key_id(fuzz_key, fuzz_key_id) || !idx || !mkdtemp(dir))
		abort();
	for (role = 0; role < BPK_INDEX_ROLE_CNT; role++)
		if (bpk_index__add_key(idx, role, fuzz_key_pem, strlen(fuzz_key_pem)))
			abort();
	if (bpk_index__create(idx, dir) || bpk_sha256_hex("pkt", 3, hex) ||
	    bpk_index__add_target(idx, &t))
		abort();
	t.name = "ratelimit";
	t.version = "1.2.0-rc.1";
	t.yanked = true;
	if (bpk_index__add_target(idx, &t) || bpk_index__publish(idx) ||
	    bpk_index__clear_keys(idx, BPK_INDEX_ROOT) ||
	    bpk_index__add_key(idx, BPK_INDEX_ROOT, fuzz_key_pem, strlen(fuzz_key_pem)) ||
	    bpk_index__rotate_root(idx))
		abort();
	bpk_index__free(idx);
	for (i = 0; i < F_CNT; i++) {
		char *path = path_join(dir, base[i].name);

		if (!path || read_file(path, 1 << 20, &base[i].data, &base[i].len))
			abort();
		free(path);
	}
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Serves files from memory, as a mirror would; nothing else exists. */
static int fetch_mem(void *ctx, const char *name, uint64_t max_len, void **ret_data,
		     size_t *ret_len)
{
	const struct file *files = ctx;
	size_t i;

	for (i = 0; i < F_CNT; i++) {
		if (files[i].data && !strcmp(files[i].name, name)) {
			void *copy = malloc(files[i].len + 1);

			if (!copy)
				return -ENOMEM;
			memcpy(copy, files[i].data, files[i].len);
			*ret_data = copy;
			*ret_len = files[i].len;
			return 0;
		}
	}
	return -ENOENT;
}

/* signed.version of a document, when it has one: so the parent's record can match it. */
static json_int_t doc_version(const char *data, size_t len)
{
	json_t *doc = json_loadb(data, len, 0, NULL);
	json_t *signed_ = json_object_get(doc, "signed");
	json_int_t v = json_integer_value(json_object_get(signed_, "version"));

	json_decref(doc);
	return v > 0 ? v : 1;
}

/* A document of type, recording child (name, data) at its version, signed by the fixed key. */
static char *sign_parent(const char *type, const char *name, const char *data, size_t len,
			 size_t *ret_len)
{
	unsigned char sig[BPK_ED25519_SIG_LEN];
	char hex[65], *canon, *b64, *text;
	json_t *signed_, *doc;

	if (bpk_sha256_hex(data, len, hex))
		return NULL;
	signed_ = json_pack("{s:s, s:s, s:I, s:s, s:{s:{s:I, s:I, s:{s:s}}}}", "_type", type,
			    "spec_version", "1.0", "version", (json_int_t)1000, "expires",
			    "2100-01-01T00:00:00Z", "meta", name, "version", doc_version(data, len),
			    "length", (json_int_t)len, "hashes", "sha256", hex);
	canon = signed_ ? json_dumps(signed_, CANONICAL) : NULL;
	if (!canon || bpk_ed25519_sign(fuzz_key, canon, strlen(canon), sig)) {
		free(canon);
		json_decref(signed_);
		return NULL;
	}
	b64 = bpk_base64_encode(sig, sizeof(sig));
	doc = json_pack("{s:o, s:[{s:s, s:s}]}", "signed", signed_, "signatures", "keyid",
			fuzz_key_id, "sig", b64 ? b64 : "");
	text = doc ? json_dumps(doc, CANONICAL) : NULL;
	if (text)
		*ret_len = strlen(text);
	free(b64);
	free(canon);
	json_decref(doc);
	return text;
}

/* What a caller of a verified index does: list, look up, check a package. */
static void use_index(struct bpk_index_client *c)
{
	const struct bpk_index_meta *m = bpk_index_client__meta(c);
	struct bpk_index_target t;
	size_t i;
	int role;

	for (role = 0; role < BPK_INDEX_ROLE_CNT; role++) {
		for (i = 0; i < bpk_index_meta__keyid_cnt(m, role); i++)
			if (strlen(bpk_index_meta__keyid(m, role, i)) != BPK_KEYID_LEN)
				abort();
	}
	for (i = 0; !bpk_index_meta__target(m, i, &t); i++) {
		if (bpk_index_meta__find(m, t.name, t.version, &t))
			abort();
		bpk_index_client__verify_target(c, t.name, t.version, "pkt", 3);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BPK_OPTS(bpk_index_client_opts, opts, .now = FUZZ_NOW + 60, .fetch = fetch_mem,
		 .max_timestamp_len = 1 << 20);
	struct file files[F_CNT];
	char *made[2] = { NULL, NULL };
	const char *doc = (const char *)data + 1;
	struct bpk_index_client *c;
	size_t len = size ? size - 1 : 0;

	if (!fuzz_key) {
		bpk_set_print(NULL);
		make_base();
	}
	if (!size)
		return 0;
	memcpy(files, base, sizeof(files));
	files[F_ROOT1].data = NULL; /* trusted, never fetched */
	opts.root = base[F_ROOT1].data;
	opts.root_len = base[F_ROOT1].len;

	switch ((enum fuzz_mode)(data[0] % FUZZ_MODE_CNT)) {
	case FUZZ_NEXT_ROOT:
		files[F_ROOT2].data = (char *)doc;
		files[F_ROOT2].len = len;
		break;
	case FUZZ_TIMESTAMP:
		files[F_TIMESTAMP].data = (char *)doc;
		files[F_TIMESTAMP].len = len;
		break;
	case FUZZ_SNAPSHOT:
		files[F_SNAPSHOT].data = (char *)doc;
		files[F_SNAPSHOT].len = len;
		made[0] = sign_parent("timestamp", "snapshot.json", doc, len,
				      &files[F_TIMESTAMP].len);
		files[F_TIMESTAMP].data = made[0];
		break;
	case FUZZ_TARGETS:
		files[F_TARGETS].data = (char *)doc;
		files[F_TARGETS].len = len;
		made[0] = sign_parent("snapshot", "targets.json", doc, len, &files[F_SNAPSHOT].len);
		files[F_SNAPSHOT].data = made[0];
		if (made[0])
			made[1] = sign_parent("timestamp", "snapshot.json", made[0],
					      files[F_SNAPSHOT].len, &files[F_TIMESTAMP].len);
		files[F_TIMESTAMP].data = made[1];
		break;
	case FUZZ_TRUSTED:
	default:
		opts.root = doc;
		opts.root_len = len;
		break;
	}

	opts.fetch_ctx = files;
	c = bpk_index_client__new(&opts);
	if (!c)
		abort();
	if (!bpk_index_client__update(c))
		use_index(c);
	else if (!*bpk_index_client__errstr(c))
		abort(); /* every refusal says why */
	bpk_index_client__free(c);
	free(made[0]);
	free(made[1]);
	return 0;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Benchmark: verifying a signed 1 MiB package, as `bpk verify` does, against one SHA-256 of its
 * bytes. Run from the build directory: bench/bench-verify [-n REPS] [-s MIB] [OBJECT.o]
 *
 * The package is what a large real one looks like: a real BPF object (tests/bpf/xdp_counter.o
 * when found), its README and test vector, and a 1 MiB object whose bulk is incompressible
 * data (random bytes standing in for a lookup table or model weights in .rodata). Incompressible
 * is deliberate: with compressible objects the .bpk is smaller than what it holds, so any
 * verifier must inflate and hash several times the bytes the baseline hashes, and the ratio
 * would measure zlib, not bpk. Here the .bpk and its contents are the same size, and the ratio
 * shows what verifying costs beyond hashing the bytes once.
 *
 * Each repetition times, interleaved: verify = load the trust directory + bpk_verify__file()
 * (read, gunzip, untar, every check, the SHA-256 of every file, the Ed25519 signature, the
 * policy) and baseline = OpenSSL's SHA-256 of the .bpk bytes in memory. Medians are printed
 * with verify_ratio = verify / baseline (goal: at most 1.5). -s makes the incompressible part
 * MIB MiB instead of 1, to show how the fixed costs (policy, Ed25519) weigh less on larger
 * packages.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"


static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-verify: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* Deterministic incompressible bytes (xorshift64*), so that every run packs the same package. */
static void fill_random(unsigned char *buf, size_t len)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		buf[i] = (unsigned char)((x * 0x2545f4914f6cdd1dULL) >> 56);
	}
}

/* A packed manifest listing files; programs point at the real object. */
static char *manifest_for(const struct bpk_pkg_entry *files, size_t cnt, size_t *ret_len)
{
	json_t *root, *list = json_array();
	char digest[65];
	size_t i;
	char *text;

	for (i = 0; i < cnt; i++) {
		if (bpk_sha256_hex(files[i].data, files[i].size, digest))
			die("sha256", ENOMEM);
		json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "path", files[i].path,
						      "sha256", digest, "size",
						      (json_int_t)files[i].size));
	}
	root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:[s], s:[s], s:[{s:s, s:s, s:s, s:s, s:s, "
			 "s:s, s:[], s:[], s:[]}], s:[], s:o}",
			 "bpk", 1, "name", "acme/bench", "version", "1.0.0", "description",
			 "A large package for the verify benchmark", "license", "GPL-2.0-only",
			 "authors", "Bench <bench@example.org>", "platforms", "linux", "programs",
			 "name", "xdp_prog", "object", "bpf/xdp_counter.o", "section", "xdp",
			 "type", "xdp", "attach", "xdp", "chain", "tailcall", "helpers", "kfuncs",
			 "maps", "maps", "files", list);
	if (!root)
		die("manifest", ENOMEM);
	text = bpk_json_dump(root, ret_len);
	json_decref(root);
	return text;
}

int main(int argc, char **argv)
{
	static const char readme[] = "# bench\n\nA package made for the verify benchmark: one real "
				     "XDP object and a large table of incompressible data.\n";
	static const char vector[] = "{\"program\": \"xdp_prog\", \"cases\": []}\n";
	const char *object_path = NULL, *env;
	char tmpl[] = "/tmp/bpk-bench-verify.XXXXXX", *dir, path[256], trust_dir[256];
	struct bpk_pkg_entry entries[5];
	char *object = NULL, *manifest;
	unsigned char *payload;
	void *unsigned_buf, *signed_buf;
	size_t object_len = 0, unsigned_len, signed_len, manifest_len, reps = 300, i, cnt = 0;
	size_t payload_size = 1U << 20;
	double *t_verify, *t_sha, *t_open, *t_trust, *t_sig, m_verify, m_sha, m_open;
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_verify_result *res;
	struct bpk_key *key;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len;
	int opt, err;

	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		if (opt == 'n' && atoi(optarg) >= 5) {
			reps = (size_t)atoi(optarg);
		} else if (opt == 's' && atoi(optarg) >= 1 && atoi(optarg) <= 48) {
			payload_size = (size_t)atoi(optarg) << 20;
		} else {
			fprintf(stderr, "usage: bench-verify [-n REPS] [-s MIB] [OBJECT.o]\n");
			return 2;
		}
	}
	if (optind < argc)
		object_path = argv[optind];
	else if ((env = getenv("BPK_TEST_BPF_DIR")))
		object_path = xasprintf("%s/xdp_counter.o", env);
	else
		object_path = "tests/bpf/xdp_counter.o";
	err = read_file(object_path, 16U << 20, &object, &object_len);
	if (err)
		die(object_path, err);

	bpk_set_print(NULL);
	dir = mkdtemp(tmpl);
	if (!dir)
		die("mkdtemp", errno);
	snprintf(path, sizeof(path), "%s/acme-bench-1.0.0.bpk", dir);
	snprintf(trust_dir, sizeof(trust_dir), "%s/trust.d", dir);

	payload = malloc(payload_size);
	if (!payload)
		die("malloc", ENOMEM);
	fill_random(payload, payload_size);
	entries[cnt++] = (struct bpk_pkg_entry){ "README.md", readme, sizeof(readme) - 1, false };
	entries[cnt++] = (struct bpk_pkg_entry){ "bpf/xdp_counter.o", object, object_len, false };
	entries[cnt++] = (struct bpk_pkg_entry){ "bpf/table.o", payload, payload_size, false };
	entries[cnt++] = (struct bpk_pkg_entry){ "tests/xdp_counter.json", vector,
						 sizeof(vector) - 1, false };
	manifest = manifest_for(entries, cnt, &manifest_len);
	entries[cnt++] = (struct bpk_pkg_entry){ "bpk.json", manifest, manifest_len, false };
	err = bpk_pkg__write_mem(entries, cnt, &unsigned_buf, &unsigned_len);
	if (err)
		die("write package", err);

	key = bpk_key__generate();
	if (!key)
		die("generate key", errno);
	err = bpk_sign__mem(unsigned_buf, unsigned_len, key, &error, &signed_buf, &signed_len);
	if (err)
		die(error.message ?: "sign", err);
	err = write_file_atomic(path, signed_buf, signed_len, 0644);
	if (err)
		die(path, err);
	err = bpk_trust__add(trust_dir, key, NULL, &error, NULL);
	if (err)
		die(error.message ?: "trust add", err);

	t_verify = calloc(reps, sizeof(double));
	t_sha = calloc(reps, sizeof(double));
	t_open = calloc(reps, sizeof(double));
	t_trust = calloc(reps, sizeof(double));
	t_sig = calloc(reps, sizeof(double));
	res = bpk_verify_result__new();
	if (!t_verify || !t_sha || !t_open || !t_trust || !t_sig || !res)
		die("malloc", ENOMEM);
	/* Warm the page cache, the allocator and OpenSSL's lazy initialisation first. */
	for (i = 0; i < reps + 5; i++) {
		struct bpk_trust *trust;
		struct bpk_pkg *pkg;
		double t0, t1, t2, t3, t4, t5;

		t0 = now_ns();
		trust = bpk_trust__load_dir(trust_dir, NULL);
		err = trust ? bpk_verify__file(path, trust, NULL, res) : -errno;
		bpk_trust__free(trust);
		t1 = now_ns();
		if (err)
			die(bpk_verify_result__reason(res) ?: "verify", err);
		if (EVP_Digest(signed_buf, signed_len, md, &md_len, EVP_sha256(), NULL) != 1)
			die("EVP_Digest", EIO);
		t2 = now_ns();
		/* The parts alone, to show where the time goes. */
		pkg = bpk_pkg__open(path, NULL, NULL);
		t3 = now_ns();
		if (!pkg)
			die("open", errno);
		trust = bpk_trust__load_dir(trust_dir, NULL);
		t4 = now_ns();
		err = trust ? bpk_pkg__verify(pkg, trust, NULL, res) : -errno;
		t5 = now_ns();
		if (err)
			die("verify", err);
		bpk_trust__free(trust);
		bpk_pkg__free(pkg);
		if (i >= 5) {
			t_verify[i - 5] = t1 - t0;
			t_sha[i - 5] = t2 - t1;
			t_open[i - 5] = t3 - t2;
			t_trust[i - 5] = t4 - t3;
			t_sig[i - 5] = t5 - t4;
		}
	}
	m_verify = median(t_verify, reps);
	m_sha = median(t_sha, reps);
	m_open = median(t_open, reps);
	printf("package: %zu bytes (%zu bytes of files), %zu repetitions\n", signed_len,
	       payload_size + object_len + sizeof(readme) + sizeof(vector) + manifest_len,
	       reps);
	printf("verify_median_us = %.1f\n", m_verify / 1e3);
	printf("  open_median_us = %.1f (container, every file's SHA-256, the package digest)\n",
	       m_open / 1e3);
	printf("  policy_median_us = %.1f (loading trust.d)\n", median(t_trust, reps) / 1e3);
	printf("  signatures_median_us = %.1f (Ed25519 and the policy, package open)\n",
	       median(t_sig, reps) / 1e3);
	printf("sha256_median_us = %.1f\n", m_sha / 1e3);
	printf("verify_ratio = %.2f\n", m_verify / m_sha);

	bpk_verify_result__free(res);
	bpk_key__free(key);
	free(t_verify);
	free(t_sha);
	free(t_open);
	free(t_trust);
	free(t_sig);
	free(payload);
	free(manifest);
	free(object);
	free(unsigned_buf);
	free(signed_buf);
	bpk_error__release(&error);
	nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

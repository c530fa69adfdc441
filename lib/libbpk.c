// SPDX-License-Identifier: BSD-2-Clause
/* Library-wide state: the print callback, version, digests and JSON output. */
#include <pthread.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/vfs.h>

#include <openssl/evp.h>

#include "bpk_internal.h"
#include "config.h"

__attribute__((format(printf, 2, 0))) static int default_print(enum bpk_print_level level,
								 const char *fmt, va_list ap)
{
	if (level != BPK_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bpk_print_fn_t print_fn = default_print;

bpk_print_fn_t bpk_set_print(bpk_print_fn_t fn)
{
	bpk_print_fn_t old = print_fn;

	print_fn = fn;
	return old;
}

void bpk_vprint(enum bpk_print_level level, const char *fmt, va_list ap)
{
	int saved = errno;

	if (print_fn)
		print_fn(level, fmt, ap);
	errno = saved;
}

void bpk_print(enum bpk_print_level level, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (!print_fn)
		return;
	va_start(ap, fmt);
	print_fn(level, fmt, ap);
	va_end(ap);
	errno = saved;
}

static pthread_mutex_t libbpf_print_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

libbpf_print_fn_t bpk_libbpf_print_begin(libbpf_print_fn_t fn)
{
	pthread_mutex_lock(&libbpf_print_lock);
	return libbpf_set_print(fn);
}

void bpk_libbpf_print_end(libbpf_print_fn_t previous)
{
	libbpf_set_print(previous);
	pthread_mutex_unlock(&libbpf_print_lock);
}

__attribute__((format(printf, 2, 0))) int bpk_libbpf_print_debug(enum libbpf_print_level level,
								 const char *fmt, va_list ap)
{
	bpk_vprint(BPK_DEBUG, fmt, ap);
	return 0;
}

const char *bpk_log_tail(const char *log, int lines)
{
	const char *p = log + strlen(log);

	while (p > log && lines >= 0)
		if (*--p == '\n')
			lines--;
	return p == log ? p : p + 1;
}

bool bpk_cmp_holds(enum bpk_cmp_op op, int cmp)
{
	switch (op) {
	case BPK_CMP_EQ:
		return cmp == 0;
	case BPK_CMP_GE:
		return cmp >= 0;
	case BPK_CMP_GT:
		return cmp > 0;
	case BPK_CMP_LE:
		return cmp <= 0;
	case BPK_CMP_LT:
		return cmp < 0;
	}
	return false;
}

const char *bpk_version(void)
{
	return BPK_VERSION;
}

int bpk_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != sizeof(md))
		return -EIO;
	hex_encode(md, sizeof(md), out);
	return 0;
}

char *bpk_json_dump(const json_t *root, size_t *ret_len)
{
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	struct strbuf sb = STRBUF_INIT;

	if (!text)
		return NULL;
	if (strbuf_addstr(&sb, text) || strbuf_addstr(&sb, "\n")) {
		free(text);
		strbuf_release(&sb);
		return NULL;
	}
	free(text);
	return strbuf_detach(&sb, ret_len);
}

#define BPF_FS_MAGIC 0xcafe4a11

bool bpk_path_on_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int bpk_bpffs_mount(void)
{
	int err;

	if (bpk_path_on_bpffs(BPK_BPF_FS))
		return 0;
	err = mkdir_p(BPK_BPF_FS, 0755);
	if (err)
		return err;
	if (mount("bpf", BPK_BPF_FS, "bpf", 0, "mode=0700") < 0)
		return -errno;
	return 0;
}

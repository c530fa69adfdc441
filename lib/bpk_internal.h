/* SPDX-License-Identifier: BSD-2-Clause */
/* Internal to libbpk: logging, options access, digests and shared JSON helpers. */
#ifndef BPK_INTERNAL_H
#define BPK_INTERNAL_H

#include <errno.h>
#include <jansson.h>

#include <bpf/libbpf.h>

#include <bpk/bpk.h>

#include "util.h"

__attribute__((format(printf, 2, 3))) void bpk_print(enum bpk_print_level level,
						     const char *fmt, ...);
__attribute__((format(printf, 2, 0))) void bpk_vprint(enum bpk_print_level level,
						      const char *fmt, va_list ap);
#define pr_warn(fmt, ...) bpk_print(BPK_WARN, "libbpk: " fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) bpk_print(BPK_INFO, "libbpk: " fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) bpk_print(BPK_DEBUG, "libbpk: " fmt, ##__VA_ARGS__)

/* libbpf's opts discipline: a caller's struct may be older (smaller) or newer than ours. */
#ifndef offsetofend
#define offsetofend(TYPE, FIELD) (offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))
#endif
#define OPTS_HAS(opts, field)                                                                      \
	((opts) && (opts)->sz >= offsetofend(__typeof__(*(opts)), field))
#define OPTS_GET(opts, field, fallback) (OPTS_HAS(opts, field) ? (opts)->field : (fallback))

/*
 * libbpf has one process-wide print callback. Every module that redirects it does so through
 * this pair, under one recursive lock, so that threads (bpkd) never undo each other's
 * redirection and nesting (lint -> inspect, load -> kernsig) restores in order. begin
 * returns the callback to hand back to end.
 */
libbpf_print_fn_t bpk_libbpf_print_begin(libbpf_print_fn_t fn);
void bpk_libbpf_print_end(libbpf_print_fn_t previous);
/* A libbpf print callback that sends its messages to bpk's print callback at DEBUG. */
int bpk_libbpf_print_debug(enum libbpf_print_level level, const char *fmt, va_list ap);
/* The last lines of a verifier log (where it says why), pointing into log. */
const char *bpk_log_tail(const char *log, int lines);

/* The comparison of a version constraint (a SemVer range, a kernel requirement). */
enum bpk_cmp_op { BPK_CMP_EQ, BPK_CMP_GE, BPK_CMP_GT, BPK_CMP_LE, BPK_CMP_LT };
/* Whether a version that compares cmp (<0, 0, >0) against the constraint's satisfies op. */
bool bpk_cmp_holds(enum bpk_cmp_op op, int cmp);

/* Where bpffs is mounted; DESIGN.md §8: these machines do not mount it at boot. */
#define BPK_BPF_FS "/sys/fs/bpf"
/* Whether path is on a bpf filesystem. */
bool bpk_path_on_bpffs(const char *path);
/* Mount bpffs on BPK_BPF_FS unless one is there. Returns 0 or a negative errno. */
int bpk_bpffs_mount(void);

/* SHA-256 of data as 64 lowercase hex digits plus NUL. Returns 0 or -ENOMEM/-EIO. */
int bpk_sha256_hex(const void *data, size_t len, char out[65]);

/* Cleanup for jansson values (jansson >= 2.9 provides json_decrefp). */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Emit JSON the way bpk always does: 2-space indent, given key order, trailing newline. */
char *bpk_json_dump(const json_t *root, size_t *ret_len);

/* Internal: the manifest's JSON tree (borrowed), for modules that need raw access. */
struct bpk_manifest;
json_t *bpk_manifest_json(const struct bpk_manifest *manifest);
/* Internal: an inspection report as a jansson object (new reference). */
json_t *bpk_obj_info_json(const struct bpk_obj_info *info);
json_t *bpk_diags_json(const struct bpk_diags *diags);

/*
 * Regular names in dir/sub (sub may be NULL) ending in suffix, sorted, as "sub/name"; a
 * missing directory gives an empty list. *ret_names is NULL-terminated; free it with
 * bpk_free_names(). Returns 0 or -ENOMEM.
 */
int bpk_list_dir(const char *dir, const char *sub, const char *suffix, char ***ret_names,
		 size_t *ret_cnt);
void bpk_free_names(char **names);
/*
 * The files of a package source directory that go into the package (README.md and LICENSE
 * when they exist, bpf/NAME.o, tests/NAME.json), in that order: pack writes them and lint judges
 * them, so both take the list from here. Same ownership as bpk_list_dir.
 */
int bpk_source_files(const char *dir, char ***ret_names, size_t *ret_cnt);
/* Whether a package path names a BPF object: bpf/NAME.o, directly under bpf/. */
bool bpk_path_is_object(const char *path);
/* Whether a package path names a test vector: tests/NAME.json, directly under tests/. */
bool bpk_path_is_test_vector(const char *path);

/* Hex digits (spaces and colons allowed between bytes) to bytes. 0, -EINVAL or -ENOMEM. */
int bpk_hex_decode(const char *hex, unsigned char **ret, size_t *ret_len);
/* bpk_packet__build on an already parsed description. */
int bpk_packet_build_json(json_t *desc, unsigned char **ret_packet, size_t *ret_len,
			  char **ret_error);

#endif

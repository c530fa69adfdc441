/* SPDX-License-Identifier: BSD-2-Clause */
/* libbpk: the public API. Everything the bpk, bpk-repo and bpkd binaries do is a call here. */
#ifndef BPK_BPK_H
#define BPK_BPK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif


/*
 * Options structs follow libbpf: the first member is `size_t sz`, set by BPK_OPTS(), so a
 * struct may grow without breaking callers built against an older header.
 */
#define BPK_OPTS(TYPE, NAME, ...)                                                                  \
	struct TYPE NAME = ({                                                                      \
		memset(&NAME, 0, sizeof(struct TYPE));                                             \
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };                           \
	})

enum bpk_print_level {
	BPK_WARN,
	BPK_INFO,
	BPK_DEBUG,
};

typedef int (*bpk_print_fn_t)(enum bpk_print_level level, const char *format, va_list args);

/*
 * The library never prints. Context that only it knows (a verifier log, a compiler command
 * line) goes through this callback; the default prints warnings to stderr. Returns the
 * previous callback. NULL silences the library.
 */
bpk_print_fn_t bpk_set_print(bpk_print_fn_t fn);

/* The library's version, e.g. "0.1.0". */
const char *bpk_version(void);

/* Package format version this library reads and writes. */
#define BPK_FORMAT_VERSION 1

/* Default container limits (DESIGN.md §2). */
#define BPK_DEFAULT_MAX_COMPRESSED (64ULL << 20)
#define BPK_DEFAULT_MAX_EXPANDED (64ULL << 20)
#define BPK_DEFAULT_MAX_ENTRIES 10000U

#include <bpk/diag.h>
#include <bpk/manifest.h>
#include <bpk/inspect.h>
#include <bpk/pkg.h>
#include <bpk/lint.h>
#include <bpk/build.h>
#include <bpk/sign.h>
#include <bpk/trust.h>
#include <bpk/index.h>
#include <bpk/kernsig.h>
#include <bpk/testrun.h>
#include <bpk/capability.h>
#include <bpk/load.h>
#include <bpk/repo.h>
#include <bpk/review.h>
#include <bpk/repo_client.h>
#include <bpk/chain.h>
#include <bpk/agent.h>
#include <bpk/check.h>
#include <bpk/fuse.h>
#include <bpk/xdp_dispatcher.h>

#ifdef __cplusplus
}
#endif

#endif

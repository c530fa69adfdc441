/* SPDX-License-Identifier: BSD-2-Clause */
/* Authoring: scaffold a package (init), compile its BPF sources (build), pack it (pack). */
#ifndef BPK_BUILD_H
#define BPK_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include <bpk/diag.h>

/* Program types `bpk init` can scaffold. */
enum bpk_template {
	BPK_TEMPLATE_XDP,
	BPK_TEMPLATE_TC,
	BPK_TEMPLATE_TRACEPOINT,
	BPK_TEMPLATE_KPROBE,
	BPK_TEMPLATE_CGROUP_SKB,
};

/* "xdp" -> BPK_TEMPLATE_XDP; returns 0 or -EINVAL. */
int bpk_template__parse(const char *type, enum bpk_template *ret_template);

struct bpk_init_opts {
	size_t sz;
	const char *author;	/* default: "Your Name <you@example.com>" */
	bool force;		/* write into a non-empty directory */
};
#define bpk_init_opts__last_field force

/*
 * Create a package directory dir for package name: bpk.json, README.md, src/NAME.bpf.c (a
 * compilable CO-RE program of the template's type), tests/NAME.json (a passing test vector)
 * and .gitignore. Refuses (-EEXIST) a non-empty dir unless opts->force, and never overwrites
 * a file. Returns 0 or a negative errno (-EINVAL: invalid name).
 */
int bpk_init__scaffold(const char *dir, const char *name, enum bpk_template template,
		       const struct bpk_init_opts *opts);

struct bpk_build_opts {
	size_t sz;
	const char *clang;	/* default "clang" */
	const char *bpftool;	/* default "bpftool" */
	const char *vmlinux_btf;/* default "/sys/kernel/btf/vmlinux" */
	const char *const *extra_cflags; /* NULL-terminated, may be NULL */
	bool verbose;		/* report each command through the print callback at INFO */
};
#define bpk_build_opts__last_field verbose

/*
 * Compile every src/NAME.bpf.c (or NAME.bpf.c at the top) of dir into bpf/NAME.o with
 * clang -target bpf -O2 -g. A vmlinux.h is generated into .bpk-build/ from the kernel's BTF
 * with bpftool when a source includes it. The compiler's diagnostics go to stderr as the
 * compiler wrote them. Returns 0, -ENOENT (no sources), -ENOEXEC (a compiler failed) or
 * another negative errno.
 */
int bpk_build__dir(const char *dir, const struct bpk_build_opts *opts);

struct bpk_pack_opts {
	size_t sz;
	const char *output;	/* file to write; default DIR/NAME-VERSION.bpk */
	bool update_manifest;	/* also rewrite DIR/bpk.json with the derived fields */
};
#define bpk_pack_opts__last_field update_manifest

/*
 * Inspect dir's objects, fill the manifest's programs, maps and files, lint the result and,
 * when lint finds no error, write the package. Every lint finding is appended to diags.
 * The path written is returned through ret_path (caller frees; may be NULL).
 * Returns 0, -EINVAL (lint errors; nothing written), or another negative errno.
 */
int bpk_pack__dir(const char *dir, const struct bpk_pack_opts *opts, struct bpk_diags *diags,
		  char **ret_path);

#endif

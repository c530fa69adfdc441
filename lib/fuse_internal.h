/* SPDX-License-Identifier: BSD-2-Clause */
/* Inside fused chains: a stage's BTF, functions and lines, as lib/fuse_btf.c reads them. */
#ifndef BPK_FUSE_INTERNAL_H
#define BPK_FUSE_INTERNAL_H

#include <stddef.h>

#include <linux/bpf.h>

struct bpf_program;
struct btf;

struct fuse_stage_btf {
	struct btf *btf;		/* the kernel's copy of the stage's BTF */
	/* insn_off: an index into the stage's final instructions (bpf_program__insns()) */
	struct bpf_func_info *funcs;
	size_t func_cnt;
	struct bpf_line_info *lines;	/* strings: the stage's BTF's */
	size_t line_cnt;
};

/*
 * Read the func and line info of prog's final instructions from its object's .BTF.ext (the
 * ELF it was loaded from, elf_size bytes): its main body from its own section, each
 * subprogram libbpf appended from the .text function with the same code. 0, or a negative
 * errno when the object has none or they cannot be placed; *ret is then untouched.
 */
int fuse_stage_btf_read(const struct bpf_program *prog, const void *elf, size_t elf_size,
			struct fuse_stage_btf *ret);
void fuse_stage_btf_release(struct fuse_stage_btf *sb);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* Fused chains: several loaded XDP (or TC) programs run in order as one verified program. */
#ifndef BPK_FUSE_H
#define BPK_FUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_program;

/*
 * A set of verdicts, one bit per verdict: BPK_FUSE_VERDICT(XDP_PASS), BPK_FUSE_VERDICT(TC_ACT_OK)
 * | BPK_FUSE_VERDICT(TC_ACT_UNSPEC). Verdicts 0 to 62 are bits 0 to 62; TC_ACT_UNSPEC (-1) is
 * bit 63. The return value is compared as 32 bits, as the kernel reads a program's verdict.
 */
#define BPK_FUSE_VERDICT(verdict) (1ULL << ((uint64_t)(verdict) & 63))

/* One stage of a fused chain. Plain data, the caller's. */
struct bpk_fuse_stage {
	/*
	 * The stage: a program of an object the caller loaded with bpf_object__load(). Its final
	 * instructions (maps resolved to fds, its subprograms appended) are copied, so the object
	 * must stay open until bpk_fuse__load() returns; the fused program then holds its own
	 * references to the stage's maps, which it shares with the stage.
	 */
	const struct bpf_program *prog;
	/*
	 * The verdicts on which the next stage runs (libxdp's chain_call_actions); any other
	 * ends the chain with that verdict. 0: XDP_PASS for XDP, TC_ACT_OK for sched_cls.
	 */
	uint64_t continue_on;
	/*
	 * Optional: the ELF object the stage was loaded from (object_size bytes, borrowed for
	 * the call). When every stage gives its own, the fused program carries the stages' BTF,
	 * functions and source lines (bpftool prog dump shows them), read from each object's
	 * .BTF.ext; without, or when that fails, it goes without BTF.
	 */
	const void *object;
	size_t object_size;
};

struct bpk_fuse_opts {
	size_t sz;
	const char *name;	/* the fused program's name (15 characters kept); NULL: "bpk_fused" */
	/*
	 * Where to put the verifier's log of a refused load, NUL-terminated, as much as fits
	 * (its last lines also go to the print callback at BPK_WARN). NULL: a buffer of bpk's.
	 */
	char *log_buf;
	size_t log_size;
	unsigned int flags;	/* BPK_FUSE_F_* */
	/* Out: set by a successful bpk_fuse__load(), whether the stages were inlined. */
	bool inlined;
	/* Out, when not NULL: on a refusal, one line on why (also said to the print callback). */
	char *reason;
	size_t reason_size;
	/* Out: set by a successful bpk_fuse__load(), whether the program carries the stages' BTF. */
	bool btf;
};
#define bpk_fuse_opts__last_field btf

/*
 * Keep every stage a BPF-to-BPF call of the dispatcher, as the verifier first sees the chain,
 * rather than the default inline layout (no call and no return per stage), which bpk uses
 * whenever the verifier takes it. For comparison and for tests.
 */
#define BPK_FUSE_F_CALLS (1U << 0)

/*
 * Whether prog can be a stage of a fused chain, judged from its final instructions and what
 * the kernel knows of it: 0 when it can; otherwise the reason goes to the print callback (and
 * into reason, reason_size bytes, NUL-terminated, when reason is not NULL) and
 * the answer is -EINVAL (NULL, or a program that is not loaded), -EOPNOTSUPP (a program type
 * other than XDP and sched_cls; a bpf_tail_call, whose tail-called program would end the
 * whole fused program; a call of a module's kfunc, which names the stage's fd_array; a
 * callback passed to bpf_loop, bpf_for_each_map_elem or a timer, which the verifier takes
 * only with BTF func_info, so only when bpk_fuse__load() is given the stage's object;
 * LD_ABS/LD_IND, which the kernel refuses next to BPF-to-BPF calls; an ld_imm64 kind bpk does not know) or -EACCES (a
 * license that is not GPL-compatible). What only the verifier can judge (stack depth across
 * the call chain, call depth, complexity) is left to bpk_fuse__load().
 */
int bpk_fuse__check(const struct bpf_program *prog, char *reason, size_t reason_size);

/*
 * Build and load one program that runs stages[0..cnt) in order, each with the context, going
 * on while the stage's verdict is in its continue_on set, else returning that verdict; the
 * last stage's verdict is the program's. Each stage's main body is inlined one after the
 * other (its subprograms stay subprograms); where the verifier refuses that (a stage frame
 * that leaves no room for the saved context), a dispatcher calls each stage as a BPF-to-BPF
 * subprogram instead (docs/spec/fuse.md). Every stage must pass bpk_fuse__check() and all must share the program type,
 * expected attach type and XDP frags flag, which the fused program gets; it is loaded
 * without BTF and with the license "GPL". The fd (O_CLOEXEC) goes to *ret_prog_fd and is the
 * caller's; nothing is attached. Returns 0; -EINVAL (stages NULL, cnt 0, stages that do not
 * agree on type, attach type or frags), an error of bpk_fuse__check(), -E2BIG (more
 * instructions than a program may have), -ENOMEM, or the kernel's answer to the load: the
 * verifier's refusal (usually -EINVAL or -EACCES, its log's tail through the print callback
 * and in opts->log_buf), -EPERM without the privilege. *ret_prog_fd is untouched on failure.
 */
int bpk_fuse__load(const struct bpk_fuse_stage *stages, size_t cnt,
		   struct bpk_fuse_opts *opts, int *ret_prog_fd);

#endif

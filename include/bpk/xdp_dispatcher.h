/* SPDX-License-Identifier: BSD-2-Clause */
/* libxdp's multi-program XDP dispatcher, used only where the kernel takes freplace programs. */
#ifndef BPK_XDP_DISPATCHER_H
#define BPK_XDP_DISPATCHER_H

#include <stddef.h>

struct bpf_object;

/*
 * Whether the kernel runs what libxdp's dispatcher needs: an XDP program with BTF, and a
 * BPF_PROG_TYPE_EXT (freplace) program loaded against one of its functions and linked to it.
 * The probe loads and links two tiny programs of its own and closes them; nothing is cached,
 * nothing is attached to an interface. Returns 0 when the kernel allows it; otherwise a negative
 * errno: the kernel's answer to the step that failed (-EPERM: the kernel refuses EXT programs,
 * or the caller may not load BPF at all; -EINVAL, -ENOTSUPP (524), -E2BIG: the kernel does not
 * know EXT or its attach fields), or -ENOMEM. Either way reason (may be NULL) receives one
 * plain sentence, NUL-terminated and cut to reason_sz, saying which step the kernel refused
 * and its errno name, e.g. "the kernel refuses BPF_PROG_TYPE_EXT (freplace) programs: EPERM".
 */
int bpk_xdp_dispatcher__probe(char *reason, size_t reason_sz);

/*
 * One program for the dispatcher. Plain data, the caller's.
 *
 * libxdp links a program to a dispatcher slot by loading it as BPF_PROG_TYPE_EXT, so it takes
 * an object that is opened and not yet loaded, never a loaded XDP program's fd: the kernel
 * freplaces a function only with an EXT program.
 */
struct bpk_xdp_dispatcher_prog {
	/*
	 * Opened with bpf_object__open*(), not loaded, one object for one entry: the attach loads
	 * it, prog_name as BPF_PROG_TYPE_EXT (its other programs with their own types). It must
	 * carry BTF (clang -g). The caller still owns and closes it; the dispatcher holds its
	 * own references to the program and its maps.
	 */
	struct bpf_object *obj;
	const char *prog_name;	/* the program's name; NULL: the object's first program */
	/* Order in the chain: lower runs first. 0 keeps the program's own (its .xdp_run_config
	 * section, else libxdp's default, 50). */
	unsigned int run_prio;
};

struct bpk_xdp_dispatcher_opts {
	size_t sz;
	unsigned int flags;	/* BPK_XDP_DISPATCHER_F_* */
};
#define bpk_xdp_dispatcher_opts__last_field flags

/* Attach in generic (skb) mode rather than the driver's native mode. */
#define BPK_XDP_DISPATCHER_F_SKB (1U << 0)

/* The most programs one dispatcher holds (libxdp's MAX_DISPATCHER_ACTIONS). */
#define BPK_XDP_DISPATCHER_MAX_PROGS 10

/*
 * Run progs on interface ifindex through libxdp's dispatcher: each program in run_prio order,
 * the next one running when a program returns XDP_PASS, any other verdict ending the chain
 * (DESIGN.md §6). Programs are added to a dispatcher already on the interface. libxdp pins the
 * dispatcher under /sys/fs/bpf/xdp (bpffs is mounted first when it is not), so it outlives the
 * caller until bpk_xdp_dispatcher__detach().
 *
 * Unlike libxdp, this never falls back to a single program without a dispatcher: when
 * bpk_xdp_dispatcher__probe() fails, the call refuses before touching the interface and the
 * probe's reason goes to the print callback; and should libxdp fall back anyway, its program
 * is detached again. libxdp's print callback, process-wide, is redirected to bpk's for the
 * call, under the lock libbpk takes for libbpf's: a caller using libxdp itself on another
 * thread at the same time would lose its messages.
 *
 * Returns 0, or -EINVAL (progs NULL, cnt 0, ifindex not positive, unknown flags, an entry
 * without an object, or two entries sharing one), -E2BIG (more than BPK_XDP_DISPATCHER_MAX_PROGS programs),
 * -EOPNOTSUPP (no dispatcher on this kernel, or libxdp fell back to a single program),
 * -EEXIST (an XDP program that is not a dispatcher is attached there) or another negative
 * errno from libxdp. On failure nothing new is attached, but the objects may have been
 * loaded: close them.
 */
int bpk_xdp_dispatcher__attach(const struct bpk_xdp_dispatcher_prog *progs, size_t cnt,
			       int ifindex, const struct bpk_xdp_dispatcher_opts *opts);

/*
 * Detach the dispatcher on interface ifindex with every program it runs, and remove its pins.
 * Returns 0, -EINVAL (ifindex not positive), -ENOENT (no dispatcher there: nothing is
 * attached, or a single program that is not a dispatcher, which is left alone) or another
 * negative errno from libxdp.
 */
int bpk_xdp_dispatcher__detach(int ifindex);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* Kernel-facing chaining of programs on an interface: TCX links and the XDP tail-call root. */
#ifndef BPK_CHAIN_H
#define BPK_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The hooks a node agent chains programs on, named as l3afd's bpf_programs lists are
 * (DESIGN.md §6). The names (bpk_chain_hook__name) are the pin directory names of the spec.
 */
enum bpk_chain_hook {
	BPK_CHAIN_HOOK_XDP_INGRESS,	/* XDP: tail-call root, see bpk_xdp_root__* */
	BPK_CHAIN_HOOK_TC_INGRESS,	/* TCX ingress link (BPF_TCX_INGRESS) */
	BPK_CHAIN_HOOK_TC_EGRESS,	/* TCX egress link (BPF_TCX_EGRESS) */
};

/* "xdp_ingress", "tc_ingress", "tc_egress"; NULL for a value outside the enum. */
const char *bpk_chain_hook__name(enum bpk_chain_hook hook);

/* ---- TCX: several programs on one hook, each held by a link, in an explicit order ---- */

/*
 * Where a new link goes. Without BEFORE or AFTER it is appended. BEFORE or AFTER with no
 * relative object means first or last. The relative object is a program unless
 * BPK_TCX_F_LINK says it is a link; it is named by fd or by id, not both.
 */
enum bpk_tcx_flags {
	BPK_TCX_F_BEFORE = 1 << 0,
	BPK_TCX_F_AFTER = 1 << 1,
	BPK_TCX_F_LINK = 1 << 2,
};

struct bpk_tcx_opts {
	size_t sz;
	uint32_t flags;			/* enum bpk_tcx_flags */
	int relative_fd;		/* program (or link) fd; 0 for none */
	uint32_t relative_id;		/* or its id; 0 for none */
	uint64_t expected_revision;	/* refuse (-ESTALE) if the chain changed since; 0: any */
};
#define bpk_tcx_opts__last_field expected_revision

/* The kernel's limit of programs on one TCX hook: BPF_MPROG_MAX (64) less a terminating slot. */
#define BPK_TCX_MAX_PROGS 63

/* One TCX hook as the kernel runs it: ids in order, first runs first. Plain data. */
struct bpk_tcx_chain {
	uint64_t revision;	/* grows with every change to the hook */
	uint32_t cnt;
	uint32_t prog_ids[BPK_TCX_MAX_PROGS];
	uint32_t link_ids[BPK_TCX_MAX_PROGS];	/* 0 for a program attached without a link */
};

/*
 * Whether this kernel has TCX (Linux 6.6+). Loads a two-instruction sched_cls program and
 * asks for a TCX link on ifindex 0, which no interface has: a kernel that knows TCX answers
 * ENODEV, one that does not answers EINVAL. Nothing is attached. Returns 0 when TCX is
 * there, -EOPNOTSUPP when it is not, -EPERM without the privilege to load programs, or
 * another negative errno.
 */
int bpk_tcx__probe(void);

/*
 * Attach a sched_cls program to ifindex at hook (BPK_CHAIN_HOOK_TC_INGRESS or _EGRESS) as a
 * TCX link, placed as opts says (NULL: appended). The link is the caller's (*ret_link_fd,
 * O_CLOEXEC): closing its last fd or pin detaches the program. Returns 0, -EINVAL (bad
 * hook or opts, or a program of another type), -ENOENT (the relative object is not on that
 * hook), -EEXIST (the program is already on it), -ESTALE (expected_revision is not the
 * hook's), -ERANGE (the hook is full), -ENODEV (no such interface), or another negative
 * errno. A kernel without TCX answers -EINVAL: ask bpk_tcx__probe() first.
 */
int bpk_tcx__attach(int prog_fd, int ifindex, enum bpk_chain_hook hook,
		    const struct bpk_tcx_opts *opts, int *ret_link_fd);

/*
 * The programs on a TCX hook, in the order they run, and the hook's revision. Returns 0,
 * -EINVAL (not a TCX hook), -ENODEV (no such interface), -EOPNOTSUPP (no TCX here), -ENOSPC
 * (a kernel that allows more than BPK_TCX_MAX_PROGS has more), or another negative errno.
 */
int bpk_tcx__query(int ifindex, enum bpk_chain_hook hook, struct bpk_tcx_chain *ret_chain);

/* ---- Links (TCX and XDP alike) ---- */

/* What a link is attached to, read back from the kernel. Plain data. */
struct bpk_chain_link_info {
	uint32_t link_id;
	uint32_t prog_id;
	uint32_t ifindex;	/* 0 once the link is detached (or its interface is gone) */
	enum bpk_chain_hook hook;
};

/*
 * Replace the program of a link in place (BPF_LINK_UPDATE): the hook never runs without a
 * program and keeps its order; packets see either the old program or the new one. With
 * expected_old_prog_fd >= 0 the kernel refuses (-EPERM) when the link does not hold that
 * program, so two agents cannot overwrite each other unseen. Returns 0, -EPERM, -EINVAL
 * (a program of the wrong type), -ENOLINK (the link was detached), or another negative errno.
 */
int bpk_chain_link__update(int link_fd, int new_prog_fd, int expected_old_prog_fd);

/*
 * Detach a link from its hook now (BPF_LINK_DETACH), even while fds or pins still hold it;
 * what holds it then holds a link to nothing. Closing the last fd of an unpinned link does the
 * same. Returns 0 or a negative errno.
 */
int bpk_chain_link__detach(int link_fd);

/*
 * The program, interface and hook of an XDP or TCX link. Returns 0, -EINVAL (a link of
 * another kind), or another negative errno.
 */
int bpk_chain_link__info(int link_fd, struct bpk_chain_link_info *ret_info);

/* ---- Pins ---- */

/*
 * Pin a program, map or link fd at path, creating the missing directories (0700) and, when
 * path is under /sys/fs/bpf and nothing is mounted there, mounting bpffs first. The pin holds
 * the object until it is unlinked. Returns 0, -EEXIST (path is taken), -ENOTSUP (path is not
 * on a bpf filesystem), or another negative errno.
 */
int bpk_chain__pin(int fd, const char *path);

/* Open a pinned program, map or link (BPF_OBJ_GET): *ret_fd, O_CLOEXEC. 0 or -errno. */
int bpk_chain__open_pinned(const char *path, int *ret_fd);

/* ---- XDP: l3afd's cooperative tail-call chain (DESIGN.md §6) ---- */

/*
 * The root of an XDP chain: a program that tail-calls slot 0 of its program array and lets
 * the packet through (XDP_PASS) when that slot is empty. Each chained program, in l3afd's
 * protocol, ends by tail-calling slot 0 of its own program array, which the agent fills with
 * the next program. Embedded struct: the fds are the holder's, -1 when absent.
 */
struct bpk_xdp_root {
	int prog_fd;	/* the root program, "xdp_root" */
	int array_fd;	/* its program array, "xdp_root_array", one slot */
	int link_fd;	/* the XDP link on an interface, or -1 */
};

/* Names of the pins in a hook directory (docs/spec/chaining.md). */
#define BPK_XDP_ROOT_PIN_PROG "xdp_root"
#define BPK_XDP_ROOT_PIN_ARRAY "xdp_root_array"
#define BPK_XDP_ROOT_PIN_LINK "link"

/* All fds -1. */
void bpk_xdp_root__init(struct bpk_xdp_root *root);
/* Close the fds that are open and set them to -1; what is pinned stays. NULL is fine. */
void bpk_xdp_root__release(struct bpk_xdp_root *root);

struct bpk_xdp_root_opts {
	size_t sz;
	/*
	 * Load the root with BPF_F_XDP_HAS_FRAGS. A program array takes only programs that agree
	 * with its first user on this, so a chain of xdp.frags programs needs a frags root.
	 */
	bool frags;
};
#define bpk_xdp_root_opts__last_field frags

/*
 * Create a root: its program array and the root program (built from instructions, no ELF),
 * loaded with expected attach type BPF_XDP like libbpf's SEC("xdp"), not attached (link_fd
 * -1). Remember (DESIGN.md §8) that the array's slots are flushed when its last user-space
 * reference goes: pin it or keep array_fd open for as long as the chain must run. opts may be
 * NULL. Returns 0, -EPERM without privilege, or another negative errno; *ret_root is
 * untouched on failure.
 */
int bpk_xdp_root__create(const struct bpk_xdp_root_opts *opts, struct bpk_xdp_root *ret_root);

struct bpk_xdp_attach_opts {
	size_t sz;
	uint32_t xdp_flags;	/* XDP_FLAGS_SKB_MODE or XDP_FLAGS_DRV_MODE; 0: the driver's */
};
#define bpk_xdp_attach_opts__last_field xdp_flags

/*
 * Attach any XDP program (a fused chain, docs/spec/fuse.md) to ifindex with an XDP link; the
 * link's fd (O_CLOEXEC) goes to *ret_link_fd and is the caller's. Replace the program later
 * with bpk_chain_link__update(). Returns 0, -EBUSY (the interface has an XDP program already),
 * -ENODEV, or another negative errno.
 */
int bpk_xdp__attach(int prog_fd, int ifindex, const struct bpk_xdp_attach_opts *opts,
		    int *ret_link_fd);

/*
 * Attach root->prog_fd to ifindex with an XDP link and keep the link in root->link_fd.
 * Replace the root later with bpk_chain_link__update(). Returns 0, -EBUSY (the interface has
 * an XDP program already), -EEXIST (root is attached already), -ENODEV, or another negative
 * errno.
 */
int bpk_xdp_root__attach(struct bpk_xdp_root *root, int ifindex,
			 const struct bpk_xdp_attach_opts *opts);

/*
 * Pin the root's program, array and (when attached) link in dir (see bpk_chain__pin for the
 * directories and bpffs). All or nothing: on failure no new pin stays. Returns 0, -EEXIST
 * (something is pinned there already) or another negative errno.
 */
int bpk_xdp_root__pin(const struct bpk_xdp_root *root, const char *dir);

/*
 * Re-adopt a root pinned in dir, as an agent does after a restart: open the pins, change
 * nothing. The link is optional (link_fd -1 when not pinned). Checks that the program runs
 * the array and that the link, if any, holds that program. Returns 0, -ENOENT (nothing
 * pinned there), -EINVAL (the pins do not belong together), or another negative errno;
 * *ret_root is untouched on failure.
 */
int bpk_xdp_root__open_pinned(const char *dir, struct bpk_xdp_root *ret_root);

/*
 * Remove the pins bpk_xdp_root__pin made in dir, and dir when it is then empty. The link is
 * detached once no fd holds it any more. Returns 0 or a negative errno (a missing pin is not
 * an error).
 */
int bpk_xdp_root__unpin(const char *dir);

/* ---- Program arrays: the slots of a tail-call chain ---- */

/*
 * Put prog_fd in slot key of a program array. Replacing a slot is atomic: a packet tail-calls
 * either the old program or the new one. Returns 0, -EINVAL (the program does not fit the
 * array: another type, or attach type), -E2BIG (no such slot), or another negative errno.
 */
int bpk_prog_array__set(int array_fd, uint32_t key, int prog_fd);

/* Empty slot key (the tail call falls through). Emptying an empty slot is not an error. */
int bpk_prog_array__clear(int array_fd, uint32_t key);

/* The id of the program in slot key: 0, -ENOENT (empty slot), or another negative errno. */
int bpk_prog_array__get(int array_fd, uint32_t key, uint32_t *ret_prog_id);

#endif

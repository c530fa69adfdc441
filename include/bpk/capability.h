/* SPDX-License-Identifier: BSD-2-Clause */
/* Capability report: what a program's bytecode is able to do, in words, with the evidence. */
#ifndef BPK_CAPABILITY_H
#define BPK_CAPABILITY_H

#include <stdbool.h>
#include <stddef.h>

struct bpk_obj_info;
struct bpk_prog_report;

/* The classes; ids are stable ("write-user-memory") and listed in docs/spec/capabilities.md. */
enum bpk_capability {
	BPK_CAP_FILTER_PACKETS,		/* may drop or pass packets (packet program types) */
	BPK_CAP_REDIRECT_PACKETS,	/* redirects to other devices, CPUs or sockets */
	BPK_CAP_REWRITE_PACKETS,	/* changes packet bytes or size through helpers */
	BPK_CAP_READ_KERNEL_MEMORY,	/* reads arbitrary kernel memory */
	BPK_CAP_READ_USER_MEMORY,	/* reads user-space memory of the current process */
	BPK_CAP_WRITE_USER_MEMORY,	/* writes user-space memory (bpf_probe_write_user) */
	BPK_CAP_OVERRIDE_RETURN,	/* overrides a kernel function's return value */
	BPK_CAP_SEND_SIGNALS,		/* sends signals to processes */
	BPK_CAP_BPF_SYSCALL,		/* calls the bpf() syscall from BPF */
	BPK_CAP_TAIL_CALLS,		/* jumps to other programs through a program array */
	BPK_CAP_PINNED_MAPS,		/* shares state with others through maps pinned by name */
	BPK_CAP_USER_SPACE_OUTPUT,	/* sends data to user space (ring/perf buffers, trace pipe) */
	BPK_CAP_PROCESS_INFO,		/* reads who is running: pid, uid, comm, task */
	BPK_CAP_SOCKET_CONTROL,		/* changes socket options or binds sockets */
	BPK_CAP_KFUNCS,			/* calls kernel functions (kfuncs) */
	BPK_CAP_CNT,
};

/* One capability of one program and why bpk believes it. */
struct bpk_capability_finding {
	enum bpk_capability cap;
	const char *id;		/* "write-user-memory" */
	const char *words;	/* "writes user-space memory of processes" */
	char *evidence;		/* "calls bpf_probe_write_user" (owned by the list) */
};

struct bpk_capability_list {
	struct bpk_capability_finding *items;
	size_t cnt;
};

/*
 * Classify what prog (a program of obj) can do, from its type, helpers, kfuncs and the maps it
 * uses. Derived, never declared: the same bytes always give the same list, in enum order.
 * Returns 0 or -ENOMEM; release the list with bpk_capability_list__release().
 */
int bpk_capabilities__of_prog(const struct bpk_obj_info *obj, const struct bpk_prog_report *prog,
			      struct bpk_capability_list *ret_list);
void bpk_capability_list__release(struct bpk_capability_list *list);

/* Id and words of a class; NULL for an unknown one. Lookup by id: -EINVAL if unknown. */
const char *bpk_capability__id(enum bpk_capability cap);
const char *bpk_capability__words(enum bpk_capability cap);
int bpk_capability__from_id(const char *id, enum bpk_capability *ret_cap);

#endif

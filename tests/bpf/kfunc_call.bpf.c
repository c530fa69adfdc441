// SPDX-License-Identifier: GPL-2.0-only
/* Exercises calls to kfuncs (extern __ksym functions); compiled and inspected, never loaded. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct;

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tp_btf/task_newtask")
int on_newtask(unsigned long long *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx[0];
	struct task_struct *held = bpf_task_acquire(task);

	if (held)
		bpf_task_release(held);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

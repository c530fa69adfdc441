// SPDX-License-Identifier: GPL-2.0-only
/* Exercises bpk check's CO-RE check: a relocation against a field no kernel's task_struct has. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* The kernel's task_struct, as a program that expects a field that does not exist sees it. */
struct task_struct {
	int bpk_no_such_field;
} __attribute__((preserve_access_index));

SEC("kprobe/do_unlinkat")
int probe_missing_field(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int value = 0;

	/* Reached on every run, so the verifier meets libbpf's poisoned instruction. */
	bpf_core_read(&value, sizeof(value), &task->bpk_no_such_field);
	return value;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/* Exercises a tracepoint program with CO-RE relocations on a locally declared kernel struct. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Only the fields read here; CO-RE finds their offsets in the running kernel's BTF. */
struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int pid = 0, tgid = 0;

	bpf_core_read(&pid, sizeof(pid), &task->pid);
	bpf_core_read(&tgid, sizeof(tgid), &task->tgid);
	if (pid == tgid)
		bpf_ringbuf_output(&events, &pid, sizeof(pid), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/* Exercises bpkd's probes: a tracepoint program counting getppid() calls into an array map. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} getppid_calls SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_getppid(void *ctx)
{
	__u32 key = 0;
	__u64 *calls = bpf_map_lookup_elem(&getppid_calls, &key);

	if (calls)
		__sync_fetch_and_add(calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/* Exercises a cgroup_skb program, whose expected attach type (ingress) comes from its section. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} ingress_bytes SEC(".maps");

SEC("cgroup_skb/ingress")
int count_ingress(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *bytes = bpf_map_lookup_elem(&ingress_bytes, &key);

	if (bytes)
		__sync_fetch_and_add(bytes, skb->len);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/* Exercises the end of an XDP chain: a stage that counts and drops, so no later stage runs. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Its l3afd map_name: the agent fills it as any stage's, but a stage that drops never calls it. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 1);
} drop_next SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} drop_packets SEC(".maps");

SEC("xdp")
int xdp_chain_drop(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *packets = bpf_map_lookup_elem(&drop_packets, &key);

	if (packets)
		__sync_fetch_and_add(packets, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/* A fused-chain stage that ends the chain: counts the packet and drops it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} fuse_drop_map SEC(".maps");

SEC("xdp")
int xdp_fuse_drop(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&fuse_drop_map, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

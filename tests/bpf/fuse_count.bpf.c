// SPDX-License-Identifier: GPL-2.0-only
/* A fused-chain stage: counts packets and sums byte 20 as it finds it, then passes the packet. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* [0]: packets, [1]: sum of byte 20, which shows what the stages before this one wrote. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
} fuse_count_map SEC(".maps");

SEC("xdp")
int xdp_fuse_count(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&fuse_count_map, &key);

	if (value)
		*value += 1;
	key = 1;
	value = bpf_map_lookup_elem(&fuse_count_map, &key);
	if (value && data + 21 <= end)
		*value += data[20];
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

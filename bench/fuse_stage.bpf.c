// SPDX-License-Identifier: GPL-2.0-only
/* One stage of the fused-chain benchmark: chain_stage.bpf.c's unit of work, with no tail call. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} stage_count SEC(".maps");

SEC("xdp")
int xdp_fuse_stage(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	__u32 key = 0;
	__u64 *count;

	if (data + 16 > end)
		return XDP_PASS;
	/* The unit of work: read a byte of the packet, add it to this stage's counter. */
	count = bpf_map_lookup_elem(&stage_count, &key);
	if (count)
		*count += data[0] + 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

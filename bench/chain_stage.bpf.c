// SPDX-License-Identifier: GPL-2.0-only
/* One stage of the chain benchmark: a unit of work, then l3afd's tail call to the next stage. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* l3afd's protocol: the agent puts the next program in slot 0 of this array. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 1);
} stage_next SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} stage_count SEC(".maps");

SEC("xdp")
int xdp_stage(struct xdp_md *ctx)
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
	bpf_tail_call(ctx, &stage_next, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

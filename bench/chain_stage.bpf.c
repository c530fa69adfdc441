// SPDX-License-Identifier: GPL-2.0-only
/* One stage of the chain benchmark: a unit of work, then l3afd's tail call to the next stage. */
#include "stage.h"

/* l3afd's protocol: the agent puts the next program in slot 0 of this array. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 1);
} stage_next SEC(".maps");

SEC("xdp")
int xdp_stage(struct xdp_md *ctx)
{
	if (!stage_work(ctx))
		return XDP_PASS;
	bpf_tail_call(ctx, &stage_next, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

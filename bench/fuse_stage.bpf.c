// SPDX-License-Identifier: GPL-2.0-only
/* One stage of the fused-chain benchmark: chain_stage.bpf.c's unit of work, with no tail call. */
#include "stage.h"

SEC("xdp")
int xdp_fuse_stage(struct xdp_md *ctx)
{
	stage_work(ctx);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

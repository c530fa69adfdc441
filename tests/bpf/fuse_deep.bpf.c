// SPDX-License-Identifier: GPL-2.0-only
/*
 * A fused-chain stage whose frame is the whole 512-byte stack (504 bytes and 4 more): no room is left below it for
 * the fused program's saved context, so bpk_fuse__load() keeps the call layout. Counts
 * packets in .bss and passes them.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 fuse_deep_count;

SEC("xdp")
int xdp_fuse_deep(struct xdp_md *ctx)
{
	volatile __u64 frame[63];
	volatile __u32 extra = ctx->rx_queue_index;
	__u64 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 63; i++)
		frame[i] = (__u64)i + ctx->ingress_ifindex;
#pragma unroll
	for (i = 0; i < 63; i++)
		sum += frame[i];
	fuse_deep_count += 1 + ((sum + extra) & 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

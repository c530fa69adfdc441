// SPDX-License-Identifier: GPL-2.0-only
/* Exercises a verifier rejection: reads the packet without checking data_end first. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_unbounded(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;

	/* No bounds check against data_end: the verifier must refuse this load. */
	return data[12] == 0x08 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

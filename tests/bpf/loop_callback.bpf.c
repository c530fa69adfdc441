// SPDX-License-Identifier: GPL-2.0-only
/* Exercises a bpf_loop() callback, a subprogram reached by address rather than by a call. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct loop_ctx {
	__u32 sum;
};

/* Only the callback calls bpf_get_prandom_u32(): inspection must follow the function pointer. */
static int add_random(__u32 index, void *data)
{
	struct loop_ctx *lctx = data;

	lctx->sum += bpf_get_prandom_u32() & 1;
	return 0;
}

SEC("xdp")
int xdp_loop(struct xdp_md *ctx)
{
	struct loop_ctx lctx = { 0 };

	bpf_loop(4, add_random, &lctx, 0);
	return lctx.sum ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

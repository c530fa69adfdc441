// SPDX-License-Identifier: GPL-2.0-only
/* Exercises a non-GPL license string together with bpf_trace_printk, a GPL-only helper. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_log(struct xdp_md *ctx)
{
	bpf_printk("packet on queue %u", ctx->rx_queue_index);
	return XDP_PASS;
}

/* What lint must flag: the kernel would refuse bpf_trace_printk for this program. */
char LICENSE[] SEC("license") = "Proprietary";

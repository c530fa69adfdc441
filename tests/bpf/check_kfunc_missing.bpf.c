// SPDX-License-Identifier: GPL-2.0-only
/* Exercises bpk check's kfunc lookup: an XDP program calling a kfunc no kernel has. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* No kernel defines this function: the check must name it. */
extern int bpk_no_such_kfunc(int x) __ksym;

SEC("xdp")
int xdp_missing_kfunc(struct xdp_md *ctx)
{
	return bpk_no_such_kfunc(ctx->ingress_ifindex) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

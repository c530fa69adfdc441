// SPDX-License-Identifier: GPL-2.0-only
/* Exercises a program in a section name that libbpf cannot map to a program type. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("bogus/thing")
int mystery(void *ctx)
{
	return 0;
}

SEC("xdp")
int xdp_fine(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/* Exercises bpk check's helper probe: a TC program calling a helper only XDP programs may use. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_uses_xdp_helper(struct __sk_buff *skb)
{
	/* bpf_xdp_adjust_head is for XDP programs; the kernel refuses it to sched_cls. */
	if (bpf_xdp_adjust_head((struct xdp_md *)skb, 0))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/* Exercises a SEC("tc") program (sched_cls) that reads packet bytes. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int tc_mark_ipv6(struct __sk_buff *skb)
{
	__u16 proto;

	if (bpf_skb_load_bytes(skb, 12, &proto, sizeof(proto)))
		return TC_ACT_OK;
	if (proto == bpf_htons(0x86dd))
		skb->mark = 6;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

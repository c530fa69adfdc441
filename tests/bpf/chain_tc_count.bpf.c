// SPDX-License-Identifier: GPL-2.0-only
/* Exercises TCX chaining: count the packet and hand it to the next program of the hook. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} tc_packets SEC(".maps");

SEC("tc")
int tc_chain_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *packets = bpf_map_lookup_elem(&tc_packets, &key);

	if (packets)
		__sync_fetch_and_add(packets, 1);
	/*
	 * TC_ACT_UNSPEC (-1) is TCX_NEXT: run the next program on the hook, and after the last
	 * carry on as if none were attached. TC_ACT_OK (TCX_PASS) would end the chain here.
	 */
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";

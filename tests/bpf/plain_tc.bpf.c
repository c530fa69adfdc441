// SPDX-License-Identifier: GPL-2.0-only
/*
 * A TC program that knows nothing of chaining: it counts packets and hands them on
 * (TC_ACT_UNSPEC, which is TCX_NEXT). bpkd fuses a chain of such programs.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} plain_tc_packets SEC(".maps");

SEC("tc")
int tc_plain(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&plain_tc_packets, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/* A fused-chain TC stage: counts the packet, rewrites byte 20 and hands the packet on. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* [0]: packets, [1]: sum of byte 20 as this stage found it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
} fuse_tc_map SEC(".maps");

SEC("tc")
int tc_fuse(struct __sk_buff *skb)
{
	unsigned char *data = (unsigned char *)(long)skb->data;
	unsigned char *end = (unsigned char *)(long)skb->data_end;
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&fuse_tc_map, &key);

	if (value)
		*value += 1;
	if (data + 21 > end)
		return TC_ACT_OK;
	key = 1;
	value = bpf_map_lookup_elem(&fuse_tc_map, &key);
	if (value)
		*value += data[20];
	data[20] = (unsigned char)(data[20] * 3 + 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

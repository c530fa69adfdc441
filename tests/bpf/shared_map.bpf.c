// SPDX-License-Identifier: GPL-2.0-only
/* Exercises two programs of different types sharing one map and a .rodata configuration. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
} hits SEC(".maps");

/* Set by the loader before load; lives in .rodata, which libbpf turns into a map. */
const volatile __u32 sample_every = 1;

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&hits, &slot);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("xdp")
int xdp_hits(struct xdp_md *ctx)
{
	if (sample_every)
		count(0);
	return XDP_PASS;
}

SEC("tc")
int tc_hits(struct __sk_buff *skb)
{
	count(1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/*
 * An XDP program that knows nothing of chaining: it counts packets and passes them. bpkd fuses
 * a chain of such programs. [0] counts in the map; [1] copies a count kept in .bss, so that a
 * test sees whether the program's .bss survived the chain being rebuilt around it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef PLAIN_VERSION
#define PLAIN_VERSION 1
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 3);
} plain_packets SEC(".maps");

__u64 bss_packets;

SEC("xdp")
int xdp_plain(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&plain_packets, &key);
	__u64 seen = __sync_fetch_and_add(&bss_packets, 1) + 1;

	if (value)
		__sync_fetch_and_add(value, 1);
	key = 1;
	value = bpf_map_lookup_elem(&plain_packets, &key);
	if (value && *value < seen)
		*value = seen;
	/* [2]: which build runs, so that an upgrade shows. */
	key = 2;
	value = bpf_map_lookup_elem(&plain_packets, &key);
	if (value)
		*value = PLAIN_VERSION;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

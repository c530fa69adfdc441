// SPDX-License-Identifier: GPL-2.0-only
/* Exercises l3afd's XDP chaining: count the packet, then tail-call the next program, if any. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The l3afd map_name of this program: the agent puts the next program of the chain in slot 0. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 1);
} count_next SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} count_packets SEC(".maps");

SEC("xdp")
int xdp_chain_count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *packets = bpf_map_lookup_elem(&count_packets, &key);

	if (packets)
		__sync_fetch_and_add(packets, 1);
	bpf_tail_call(ctx, &count_next, 0);
	/* The last program of the chain, or one whose next slot is empty: pass the packet on. */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/* Exercises bpkd's map_args and global data: an l3afd-protocol XDP stage that drops or passes on. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Its l3afd map_name: the agent puts the next stage in slot 0. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 1);
} mode_next SEC(".maps");

/* Written by map_args: key 0 = drop_mode drops every packet, anything else passes it on. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} mode_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} mode_packets SEC(".maps");

/* Global data, so that the agent loads a stage with .rodata and .bss maps. */
volatile const __u32 drop_mode = 1;
__u64 mode_seen;

SEC("xdp")
int xdp_mode(struct xdp_md *ctx)
{
	__u32 key = 0, *mode = bpf_map_lookup_elem(&mode_cfg, &key);
	__u64 *packets = bpf_map_lookup_elem(&mode_packets, &key);

	if (packets)
		__sync_fetch_and_add(packets, 1);
	mode_seen++;
	if (mode && *mode == drop_mode)
		return XDP_DROP;
	bpf_tail_call(ctx, &mode_next, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

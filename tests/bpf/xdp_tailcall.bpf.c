// SPDX-License-Identifier: GPL-2.0-only
/* Exercises a tail call through a program array, from one of two XDP programs. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 8);
} jmp_table SEC(".maps");

SEC("xdp")
int xdp_root(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp_table, 0);
	/* Reached only when slot 0 is empty: let the packet through. */
	return XDP_PASS;
}

SEC("xdp")
int xdp_drop_all(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

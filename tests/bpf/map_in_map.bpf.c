// SPDX-License-Identifier: GPL-2.0-only
/* Exercises maps of maps and programs filled in by .maps, a .bss counter and a Kconfig extern. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} inner_a SEC(".maps"), inner_b SEC(".maps");

/* Initialised through relocations in .rel.maps, which libbpf reads at open. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { &inner_a, &inner_b },
};

int xdp_next(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int(void *));
} next_progs SEC(".maps") = {
	.values = { [1] = (void *)&xdp_next },
};

/* Resolved by libbpf from the running kernel's configuration, through its .kconfig map. */
extern int LINUX_KERNEL_VERSION __kconfig;
__u64 packets = 0;

SEC("xdp")
int xdp_next(struct xdp_md *ctx)
{
	packets++;
	return LINUX_KERNEL_VERSION ? XDP_PASS : XDP_ABORTED;
}

SEC("xdp")
int xdp_outer(struct xdp_md *ctx)
{
	__u32 key = 0;
	void *inner = bpf_map_lookup_elem(&outer, &key);

	if (inner && bpf_map_lookup_elem(inner, &key))
		bpf_tail_call(ctx, &next_progs, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

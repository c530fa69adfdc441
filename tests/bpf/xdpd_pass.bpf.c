// SPDX-License-Identifier: GPL-2.0-only
/* A slot of libxdp's dispatcher: count the packet and pass it on to the next program. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} xdpd_pass_packets SEC(".maps");

/* The dispatcher's slots are "int prog0(struct xdp_md *ctx)": freplace needs that prototype. */
SEC("xdp")
int xdpd_pass(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *packets = bpf_map_lookup_elem(&xdpd_pass_packets, &key);

	if (packets)
		__sync_fetch_and_add(packets, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/* A slot of libxdp's dispatcher: count the packet and drop it, which ends the chain. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} xdpd_drop_packets SEC(".maps");

SEC("xdp")
int xdpd_drop(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *packets = bpf_map_lookup_elem(&xdpd_drop_packets, &key);

	if (packets)
		__sync_fetch_and_add(packets, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

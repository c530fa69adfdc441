// SPDX-License-Identifier: GPL-2.0-only
/* Exercises a map pinned by name (LIBBPF_PIN_BY_NAME) beside one that is not pinned. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 256);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} blocklist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} drops SEC(".maps");

SEC("xdp")
int xdp_block(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex, zero = 0;
	__u64 *n;

	if (!bpf_map_lookup_elem(&blocklist, &key))
		return XDP_PASS;
	n = bpf_map_lookup_elem(&drops, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/* Exercises a BTF hash map, a per-CPU array and a .text subprogram with a helper of its own. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
} pkts_by_len SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} last_seen SEC(".maps");

/*
 * Lives in .text and is the only caller of bpf_ktime_get_ns(): inspection must follow the call
 * to report that helper and the per-CPU map for the program.
 */
static __noinline int stamp(__u32 slot)
{
	__u64 *ts = bpf_map_lookup_elem(&last_seen, &slot);

	if (!ts)
		return 0;
	*ts = bpf_ktime_get_ns();
	return 1;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u64 one = 1, *cnt;

	cnt = bpf_map_lookup_elem(&pkts_by_len, &len);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&pkts_by_len, &len, &one, BPF_NOEXIST);
	stamp(len & 3);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/* The chain benchmark's baseline: the work of N stages done inline in one program. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define UNITS_MAX 16

/* How many stages' work to do; the benchmark sets it before loading. */
const volatile __u32 units = 10;

/* One counter per unit, as each stage of the chain has its own. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, UNITS_MAX);
} mono_count SEC(".maps");

SEC("xdp")
int xdp_mono(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	__u32 i;

	if (data + 16 > end)
		return XDP_PASS;
	for (i = 0; i < UNITS_MAX; i++) {
		__u32 key = i;
		__u64 *count;

		if (i >= units)
			break;
		/* The same unit of work as a stage: read a byte, add it to that unit's counter. */
		count = bpf_map_lookup_elem(&mono_count, &key);
		if (count)
			*count += data[i & 15] + 1;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

/* SPDX-License-Identifier: GPL-2.0-only */
/* The chain benchmark's unit of work, shared by its tail-call stage and its fused stage. */
#ifndef BPK_BENCH_STAGE_H
#define BPK_BENCH_STAGE_H

#include <stdbool.h>

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Each stage's own counter (every load of a stage object has its own). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} stage_count SEC(".maps");

/*
 * The unit of work: read a byte of the packet, add it to this stage's counter. False when the
 * packet is too short to work on (the stage then passes it).
 */
static __always_inline bool stage_work(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	__u32 key = 0;
	__u64 *count;

	if (data + 16 > end)
		return false;
	count = bpf_map_lookup_elem(&stage_count, &key);
	if (count)
		*count += data[0] + 1;
	return true;
}

#endif

// SPDX-License-Identifier: GPL-2.0-only
/* A fused-chain stage with a subprogram of its own: rewrites byte 20, counts, passes the packet. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} fuse_mark_map SEC(".maps");

/* Not inlined, so the stage keeps a BPF-to-BPF call of its own once fused. */
static __attribute__((noinline)) int mark(unsigned char *byte)
{
	*byte = (unsigned char)(*byte * 5 + 3);
	return 0;
}

SEC("xdp")
int xdp_fuse_mark(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&fuse_mark_map, &key);

	if (value)
		*value += 1;
	if (data + 21 <= end)
		mark(&data[20]);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/*
 * A fused-chain stage with a bpf_loop() callback, a subprogram reached by its address: adds
 * byte 20 of the packet (as earlier stages left it) plus the loop index four times, counts,
 * and passes the packet. It fuses only with its object's BTF (the verifier wants func info
 * for a callback).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* [0]: packets, [1]: what the loop added up. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
} fuse_loop_map SEC(".maps");

struct loop_ctx {
	__u64 byte;
	__u64 sum;
};

static int add_byte(__u32 index, void *data)
{
	struct loop_ctx *lctx = data;

	lctx->sum += lctx->byte + index;
	return 0;
}

SEC("xdp")
int xdp_fuse_loop(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	struct loop_ctx lctx = { 0 };
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&fuse_loop_map, &key);

	if (data + 21 <= end)
		lctx.byte = data[20];
	if (value)
		*value += 1;
	bpf_loop(4, add_byte, &lctx, 0);
	key = 1;
	value = bpf_map_lookup_elem(&fuse_loop_map, &key);
	if (value)
		*value += lctx.sum;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

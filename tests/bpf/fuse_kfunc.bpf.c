// SPDX-License-Identifier: GPL-2.0-only
/*
 * A fused-chain stage that calls a kfunc (bpf_cast_to_kern_ctx, Linux 6.3+), counts, and
 * passes the packet. A kfunc call names a vmlinux BTF id; it fuses with its object's BTF.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} fuse_kfunc_map SEC(".maps");

SEC("xdp")
int xdp_fuse_kfunc(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&fuse_kfunc_map, &key);

	if (value && bpf_cast_to_kern_ctx(ctx))
		*value += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

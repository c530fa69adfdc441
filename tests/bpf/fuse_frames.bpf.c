// SPDX-License-Identifier: GPL-2.0-only
/*
 * A stage that uses all 8 call frames the verifier allows (the program and 7 nested
 * subprograms): it loads alone, but a fused chain's dispatcher adds a frame above it, so the
 * verifier refuses the fused chain ("the call stack of 9 frames is too deep").
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define FRAME(name, next)                                                                          \
	static __attribute__((noinline)) int name(volatile int *depth)                            \
	{                                                                                          \
		*depth += 1;                                                                       \
		return next(depth) + 1;                                                            \
	}

static __attribute__((noinline)) int frame7(volatile int *depth)
{
	*depth += 1;
	return 0;
}
FRAME(frame6, frame7)
FRAME(frame5, frame6)
FRAME(frame4, frame5)
FRAME(frame3, frame4)
FRAME(frame2, frame3)
FRAME(frame1, frame2)

SEC("xdp")
int xdp_fuse_frames(struct xdp_md *ctx)
{
	volatile int depth = 0;

	return frame1(&depth) == 6 ? XDP_PASS : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Benchmark: ns per packet through an l3afd-protocol XDP tail-call chain against the same work
 * in one program. Run as root: BUILD/bench/bench-chain [-r REPEAT] [-b BEST_OF] [BPF_DIR]
 * (BPF_DIR holds chain_stage.o and chain_mono.o: BUILD/bench), or ninja -C BUILD bench-chain-run.
 *
 * The chain is what bpkd builds (lib/chain.c): an XDP root (bpk_xdp_root__create) whose slot 0
 * holds stage 1; each stage is its own load of bench/chain_stage.bpf.c (its own counter and
 * its own "stage_next" program array, as every l3afd program has), does one unit of work (read
 * a packet byte, add it to its counter) and tail-calls slot 0 of its array, filled with the
 * next stage by bpk_prog_array__set(); the last stage's slot is empty, so it passes the packet.
 * The baseline is bench/chain_mono.bpf.c: the same N units inline in one program, run without
 * a root. Both run through BPF_PROG_TEST_RUN on a 64-byte packet with REPEAT repeats (default
 * 1e6), taking turns; the kernel's average per run is taken, best of BEST_OF (default 5).
 * Prints `chain_tailcall N=… ns=… monolithic_ns=…` for N = 1, 2, 5, 10 and
 * chain_tailcall_ratio = tail-call chain of 10 / monolithic 10 units.
 *
 * The fused chain (lib/fuse.c) runs the same N units as N loads of bench/fuse_stage.bpf.c (the
 * stage's work without the tail call, each with its own counter) fused into one program by
 * bpk_fuse__load(), in its default inline layout and in its call layout (BPK_FUSE_F_CALLS);
 * each takes its turn with the other programs. Prints `chain_fused N=… fused_ns=…
 * fused_calls_ns=… tailcall_ns=… monolithic_ns=… fused_ratio=…` for each N, fused_ratio =
 * fused chain of 10 / monolithic 10 units, and fused_calls_ratio the same for the call layout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <bpk/bpk.h>

#include "util.h"

#define STAGES_MAX 10
#define PACKET_LEN 64

static unsigned int repeat = 1000000;
static unsigned int best_of = 5;

/* A .rodata variable of an opened, not yet loaded object: set its first u32. */
static int set_rodata_u32(struct bpf_object *obj, __u32 value)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		size_t size;
		void *data;

		if (!str_has_suffix(bpf_map__name(map), ".rodata"))
			continue;
		data = (void *)bpf_map__initial_value(map, &size);
		if (!data || size < sizeof(value))
			return -EINVAL;
		memcpy(data, &value, sizeof(value));
		return 0;
	}
	return -ENOENT;
}

/* Open and load dir/name.o, its .rodata's first u32 set to param unless 0. */
static struct bpf_object *load(const char *dir, const char *name, __u32 param, int *ret_prog_fd)
{
	_cleanup_free_ char *path = xasprintf("%s/%s.o", dir, name);
	struct bpf_object *obj = path ? bpf_object__open_file(path, NULL) : NULL;
	struct bpf_program *prog;

	if (!obj) {
		fprintf(stderr, "error: cannot open '%s': %s\n", path ?: name, strerror(errno));
		return NULL;
	}
	if ((param && set_rodata_u32(obj, param)) || bpf_object__load(obj)) {
		fprintf(stderr, "error: cannot load '%s': %s\n", path, strerror(errno));
		bpf_object__close(obj);
		return NULL;
	}
	prog = bpf_object__next_program(obj, NULL);
	*ret_prog_fd = bpf_program__fd(prog);
	return obj;
}

/* One BPF_PROG_TEST_RUN of REPEAT runs: the kernel's average ns per run, or -1. */
static double run_once(int prog_fd)
{
	unsigned char packet[PACKET_LEN];
	unsigned int i;

	for (i = 0; i < sizeof(packet); i++)
		packet[i] = (unsigned char)(i * 7 + 1);
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet, .data_size_in = sizeof(packet),
		    .repeat = repeat);
	if (bpf_prog_test_run_opts(prog_fd, &run)) {
		fprintf(stderr, "error: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		return -1;
	}
	if (run.retval != XDP_PASS) {
		fprintf(stderr, "error: the program returned %u, not XDP_PASS\n", run.retval);
		return -1;
	}
	return run.duration;
}

/* The programs timed for one chain length, in turn. */
enum timed { TAILCALL, MONOLITHIC, FUSED, FUSED_CALLS, TIMED_COUNT };

/*
 * Best (lowest) of best_of runs of each program, taking turns so that whatever else the
 * machine does weighs on all alike. The kernel times its loop itself and leaves out the time
 * it yields the CPU, which wall time around the call would count on a busy machine.
 */
static int time_all(const int fds[TIMED_COUNT], double ret_ns[TIMED_COUNT])
{
	unsigned int i, t;

	for (i = 0; i < best_of; i++) {
		for (t = 0; t < TIMED_COUNT; t++) {
			double ns = run_once(fds[t]);

			if (ns < 0)
				return -1;
			if (!i || ns < ret_ns[t])
				ret_ns[t] = ns;
		}
	}
	return 0;
}

/*
 * The first len fuse stages as one fused program, inlined or (flags BPK_FUSE_F_CALLS) called:
 * its fd, or -1.
 */
static int fuse_chain(struct bpf_object **fuse_stages, unsigned int len, unsigned int flags)
{
	struct bpk_fuse_stage stages[STAGES_MAX];
	LIBBPF_OPTS(bpk_fuse_opts, opts, .flags = flags);
	unsigned int i;
	int fd = -1, err;

	for (i = 0; i < len; i++)
		stages[i] = (struct bpk_fuse_stage){
			.prog = bpf_object__next_program(fuse_stages[i], NULL),
		};
	err = bpk_fuse__load(stages, len, &opts, &fd);
	if (err) {
		fprintf(stderr, "error: cannot fuse %u stages: %s\n", len, strerror(-err));
		return -1;
	}
	if (opts.inlined != !(flags & BPK_FUSE_F_CALLS)) {
		fprintf(stderr, "error: %u stages fused %s, not as asked\n", len,
			opts.inlined ? "inline" : "with calls");
		close(fd);
		return -1;
	}
	return fd;
}

static int counter(struct bpf_object *obj, const char *map_name, __u32 key, __u64 *ret)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, map_name);

	return map && !bpf_map_lookup_elem(bpf_map__fd(map), &key, ret) ? 0 : -ENOENT;
}

/* Link stage k to k+1 for k < len, cut the chain after stage len, put stage 1 in the root. */
static int build_chain(struct bpf_object **stages, const int *stage_fds, unsigned int len,
		       const struct bpk_xdp_root *root)
{
	unsigned int i;
	int err;

	for (i = 0; i < len; i++) {
		struct bpf_map *next = bpf_object__find_map_by_name(stages[i], "stage_next");

		err = i + 1 < len ? bpk_prog_array__set(bpf_map__fd(next), 0, stage_fds[i + 1])
				  : bpk_prog_array__clear(bpf_map__fd(next), 0);
		if (err) {
			fprintf(stderr, "error: cannot chain stage %u: %s\n", i + 1, strerror(-err));
			return err;
		}
	}
	err = bpk_prog_array__set(root->array_fd, 0, stage_fds[0]);
	if (err)
		fprintf(stderr, "error: cannot fill the root's slot: %s\n", strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	static const unsigned int lengths[] = { 1, 2, 5, 10 };
	struct bpf_object *stages[STAGES_MAX] = { 0 }, *mono[ARRAY_SIZE(lengths)] = { 0 };
	struct bpf_object *fuse_stages[STAGES_MAX] = { 0 };
	double ns[ARRAY_SIZE(lengths)][TIMED_COUNT];
	int stage_fds[STAGES_MAX], mono_fds[ARRAY_SIZE(lengths)], c, ret = 1, fd, err;
	struct bpk_xdp_root root;
	const char *dir = "bench";
	size_t n, last = ARRAY_SIZE(lengths) - 1;

	while ((c = getopt(argc, argv, "r:b:")) != -1) {
		if (c == 'r')
			repeat = (unsigned int)strtoul(optarg, NULL, 0);
		else if (c == 'b')
			best_of = (unsigned int)strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (optind < argc)
		dir = argv[optind];
	if (!repeat || !best_of)
		return 2;
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	bpk_xdp_root__init(&root);
	if (bpk_xdp_root__create(NULL, &root)) {
		fprintf(stderr, "error: cannot create the XDP root (root needed)\n");
		return 1;
	}
	for (n = 0; n < STAGES_MAX; n++) {
		stages[n] = load(dir, "chain_stage", 0, &stage_fds[n]);
		if (!stages[n])
			goto out;
		fuse_stages[n] = load(dir, "fuse_stage", 0, &fd);
		if (!fuse_stages[n])
			goto out;
	}
	for (n = 0; n < ARRAY_SIZE(lengths); n++) {
		mono[n] = load(dir, "chain_mono", lengths[n], &mono_fds[n]);
		if (!mono[n])
			goto out;
	}

	for (n = 0; n < ARRAY_SIZE(lengths); n++) {
		unsigned int len = lengths[n];
		__u64 hits = 0;
		int fds[TIMED_COUNT] = {
			[TAILCALL] = root.prog_fd,
			[MONOLITHIC] = mono_fds[n],
			[FUSED] = fuse_chain(fuse_stages, len, 0),
			[FUSED_CALLS] = fuse_chain(fuse_stages, len, BPK_FUSE_F_CALLS),
		};

		err = fds[FUSED] < 0 || fds[FUSED_CALLS] < 0 ||
		      build_chain(stages, stage_fds, len, &root) || time_all(fds, ns[n]);
		close(fds[FUSED]);
		close(fds[FUSED_CALLS]);
		if (err)
			goto out;
		/* Proof the whole fused chain ran: its last stage counted packets. */
		if (counter(fuse_stages[len - 1], "stage_count", 0, &hits) || !hits) {
			fprintf(stderr, "error: fused stage %u never ran\n", len);
			goto out;
		}
		hits = 0;
		/* Proof the whole chain ran: the last stage of this length counted packets. */
		if (counter(stages[len - 1], "stage_count", 0, &hits) || !hits) {
			fprintf(stderr, "error: stage %u never ran: the chain is cut\n", len);
			goto out;
		}
		printf("chain_tailcall N=%u ns=%.0f monolithic_ns=%.0f (root + %u tail-called stages; one program with %u units inline)\n",
		       len, ns[n][TAILCALL], ns[n][MONOLITHIC], len, len);
	}
	for (n = 0; n < ARRAY_SIZE(lengths); n++)
		printf("chain_fused N=%u fused_ns=%.0f fused_calls_ns=%.0f tailcall_ns=%.0f monolithic_ns=%.0f fused_ratio=%.2f\n",
		       lengths[n], ns[n][FUSED], ns[n][FUSED_CALLS], ns[n][TAILCALL],
		       ns[n][MONOLITHIC], ns[n][FUSED] / ns[n][MONOLITHIC]);
	printf("fused_ratio=%.2f (fused N=10 %.0f ns / monolithic %.0f ns; BPF_PROG_TEST_RUN repeat=%u, best of %u)\n",
	       ns[last][FUSED] / ns[last][MONOLITHIC], ns[last][FUSED], ns[last][MONOLITHIC],
	       repeat, best_of);
	printf("fused_calls_ratio=%.2f (the call layout, N=10 %.0f ns / monolithic %.0f ns)\n",
	       ns[last][FUSED_CALLS] / ns[last][MONOLITHIC], ns[last][FUSED_CALLS],
	       ns[last][MONOLITHIC]);
	printf("chain_tailcall_ratio=%.2f (tailcall N=10 %.0f ns / monolithic %.0f ns; BPF_PROG_TEST_RUN repeat=%u, best of %u)\n",
	       ns[last][TAILCALL] / ns[last][MONOLITHIC], ns[last][TAILCALL],
	       ns[last][MONOLITHIC], repeat, best_of);
	ret = 0;
out:
	for (n = 0; n < ARRAY_SIZE(lengths); n++)
		bpf_object__close(mono[n]);
	for (n = 0; n < STAGES_MAX; n++) {
		bpf_object__close(stages[n]);
		bpf_object__close(fuse_stages[n]);
	}
	bpk_xdp_root__release(&root);
	return ret;
}

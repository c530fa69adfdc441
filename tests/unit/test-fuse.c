// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for fused chains: a fused program does what its stages do one by one, for real. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test-util.h"

#include <unistd.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"

#define CHAIN_MAX 10
#define PACKET_LEN 64

static bool have_root;

static void require_root(void)
{
	if (!have_root) {
		print_message("skipped: loading programs and running them needs root\n");
		skip();
	}
}

static int group_setup(void **state)
{
	have_root = geteuid() == 0;
	return 0;
}

/* The test stages (tests/bpf/fuse_*.bpf.c), each with one array of counters. */
enum kind { COUNT, MARK, DROP, TC, DEEP, LOOP };

static const struct {
	const char *file;
	const char *map;
	uint32_t values;
} kinds[] = {
	[COUNT] = { "fuse_count.o", "fuse_count_map", 2 },
	[MARK] = { "fuse_mark.o", "fuse_mark_map", 1 },
	[DROP] = { "fuse_drop.o", "fuse_drop_map", 1 },
	[TC] = { "fuse_tc.o", "fuse_tc_map", 2 },
	/* A frame of 512 bytes, its counter in .bss (value [0] of the internal map). */
	[DEEP] = { "fuse_deep.o", ".bss", 1 },
	/* A bpf_loop() callback: fuses only with its object's BTF. */
	[LOOP] = { "fuse_loop.o", "fuse_loop_map", 2 },
};

/* One loaded instance: its own object, so its own maps. */
struct stage {
	enum kind kind;
	struct bpf_object *obj;
	struct bpf_program *prog;
	int prog_fd;
	int map_fd;
	char *object;		/* the ELF it was loaded from, for the fused program's BTF */
	size_t object_size;
};

static struct bpf_object *open_object(const char *file)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", getenv("BPK_TEST_BPF_DIR"), file);
	struct bpf_object *obj = bpf_object__open_file(path, NULL);

	assert_non_null(obj);
	return obj;
}

static void stage_load(struct stage *s, enum kind kind)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", getenv("BPK_TEST_BPF_DIR"), kinds[kind].file);
	struct bpf_map *map;

	s->kind = kind;
	assert_int_equal(read_file(path, 1 << 24, &s->object, &s->object_size), 0);
	s->obj = open_object(kinds[kind].file);
	assert_int_equal(bpf_object__load(s->obj), 0);
	s->prog = bpf_object__next_program(s->obj, NULL);
	assert_non_null(s->prog);
	s->prog_fd = bpf_program__fd(s->prog);
	map = bpf_object__find_map_by_name(s->obj, kinds[kind].map);
	assert_non_null(map);
	s->map_fd = bpf_map__fd(map);
	assert_true(s->prog_fd >= 0 && s->map_fd >= 0);
}

static void stage_close(struct stage *s)
{
	bpf_object__close(s->obj);
	free(s->object);
	memset(s, 0, sizeof(*s));
}

static void counters(const struct stage *s, uint64_t ret[2])
{
	uint32_t key;

	ret[0] = ret[1] = 0;
	for (key = 0; key < kinds[s->kind].values; key++)
		assert_int_equal(bpf_map_lookup_elem(s->map_fd, &key, &ret[key]), 0);
}

/* A test run of prog_fd on packet (len bytes), rewritten in place; the verdict. */
static int32_t run(int prog_fd, unsigned char *packet, uint32_t len)
{
	unsigned char out[PACKET_LEN + 256];

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	assert_int_equal(bpf_prog_test_run_opts(prog_fd, &opts), 0);
	assert_int_equal(opts.data_size_out, len);
	memcpy(packet, out, len);
	return (int32_t)opts.retval;
}

static uint64_t continue_set(const struct stage *s, const uint64_t *continue_on, size_t i)
{
	if (continue_on && continue_on[i])
		return continue_on[i];
	return s->kind == TC ? BPK_FUSE_VERDICT(TC_ACT_OK) : BPK_FUSE_VERDICT(XDP_PASS);
}

/*
 * What the kernel holds agrees with the layout bpk_fuse__load() reports: inlined, its
 * functions are the stages' own subprograms and one more; with calls, also the dispatcher and
 * at least the first stage. (The verifier drops the stages no path reaches, and the first
 * instruction would not tell: the kernel puts a prologue of its own before a sched_cls
 * program that writes the packet.)
 */
static void check_functions(int prog_fd, const struct stage *stages, size_t cnt, bool inlined)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info), subprogs = 0;
	size_t i;

	for (i = 0; i < cnt; i++)
		subprogs += stages[i].kind == MARK || stages[i].kind == LOOP;
	assert_int_equal(bpf_obj_get_info_by_fd(prog_fd, &info, &len), 0);
	if (inlined)
		assert_in_range(info.nr_jited_func_lens, 1, 1 + subprogs);
	else
		assert_in_range(info.nr_jited_func_lens, 2, 1 + cnt + subprogs);
}

/*
 * The fused program carries BTF with functions and source lines the kernel took (what bpftool
 * prog dump shows), and the first line names one of the stages' sources.
 */
static void check_btf(int prog_fd)
{
	struct bpf_line_info lines[1];
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	struct btf *btf;
	const char *file;

	assert_int_equal(bpf_obj_get_info_by_fd(prog_fd, &info, &len), 0);
	assert_true(info.btf_id != 0);
	assert_true(info.nr_func_info >= 1);
	assert_true(info.nr_line_info >= 2);
	info = (struct bpf_prog_info){ .nr_line_info = 1, .line_info_rec_size = sizeof(lines[0]),
				       .line_info = (uint64_t)(uintptr_t)lines };
	len = sizeof(info);
	assert_int_equal(bpf_obj_get_info_by_fd(prog_fd, &info, &len), 0);
	btf = btf__load_from_kernel_by_id(info.btf_id);
	assert_non_null(btf);
	file = btf__name_by_offset(btf, lines[0].file_name_off);
	assert_non_null(file);
	assert_non_null(strstr(file, ".bpf.c"));
	btf__free(btf);
}

/*
 * Whether the stages' frames leave room for the inline layout's saved context. The verifier
 * drops the stages after a drop that ends the chain, so their frames do not count.
 */
static bool fits_inline(const struct stage *stages, size_t cnt, const uint64_t *continue_on)
{
	size_t i;

	for (i = 0; i < cnt; i++) {
		if (stages[i].kind == DEEP)
			return false;
		if (stages[i].kind == DROP &&
		    !(continue_set(&stages[i], continue_on, i) & BPK_FUSE_VERDICT(XDP_DROP)))
			return true;
	}
	return true;
}

/*
 * The proof, for each layout (with the stages' BTF): on each packet, the fused program's
 * verdict, output packet and every stage's counter increments equal those of running the
 * stages one by one, each on the packet the one before left, stopping at the first verdict
 * outside the stage's continue_on set.
 */
static void check_layout(struct stage *stages, size_t cnt, const uint64_t *continue_on,
			 unsigned int flags)
{
	struct bpk_fuse_stage fuse[CHAIN_MAX];
	static const uint32_t lens[] = { PACKET_LEN, PACKET_LEN, 14 };
	LIBBPF_OPTS(bpk_fuse_opts, opts, .flags = flags);
	size_t i, p;
	int fd = -1;

	for (i = 0; i < cnt; i++)
		fuse[i] = (struct bpk_fuse_stage){ .prog = stages[i].prog,
						   .continue_on = continue_on ? continue_on[i] : 0,
						   .object = stages[i].object,
						   .object_size = stages[i].object_size };
	assert_int_equal(bpk_fuse__load(fuse, cnt, &opts, &fd), 0);
	assert_true(fd >= 0);
	assert_true(opts.btf);
	check_btf(fd);
	assert_int_equal(opts.inlined,
			 !(flags & BPK_FUSE_F_CALLS) && fits_inline(stages, cnt, continue_on));
	check_functions(fd, stages, cnt, opts.inlined);

	for (p = 0; p < ARRAY_SIZE(lens); p++) {
		unsigned char by_one[PACKET_LEN], fused[PACKET_LEN];
		uint64_t before[CHAIN_MAX][2], middle[CHAIN_MAX][2], after[CHAIN_MAX][2];
		int32_t verdict = 0, fused_verdict;
		size_t j;

		for (j = 0; j < PACKET_LEN; j++)
			by_one[j] = (unsigned char)(j * 13 + p * 7 + 1);
		memcpy(fused, by_one, sizeof(fused));
		for (i = 0; i < cnt; i++)
			counters(&stages[i], before[i]);
		for (i = 0; i < cnt; i++) {
			verdict = run(stages[i].prog_fd, by_one, lens[p]);
			if (!(continue_set(&stages[i], continue_on, i) & BPK_FUSE_VERDICT(verdict)))
				break;
		}
		for (i = 0; i < cnt; i++)
			counters(&stages[i], middle[i]);
		fused_verdict = run(fd, fused, lens[p]);
		for (i = 0; i < cnt; i++)
			counters(&stages[i], after[i]);

		assert_int_equal(fused_verdict, verdict);
		assert_memory_equal(fused, by_one, lens[p]);
		for (i = 0; i < cnt; i++) {
			assert_int_equal(after[i][0] - middle[i][0], middle[i][0] - before[i][0]);
			assert_int_equal(after[i][1] - middle[i][1], middle[i][1] - before[i][1]);
		}
	}
	close(fd);
}

static void check_chain(struct stage *stages, size_t cnt, const uint64_t *continue_on)
{
	check_layout(stages, cnt, continue_on, 0);
	check_layout(stages, cnt, continue_on, BPK_FUSE_F_CALLS);
}

/* A small deterministic generator, so a failing chain can be rebuilt. */
static uint32_t next_random(uint32_t *seed)
{
	*seed = *seed * 1103515245U + 12345U;
	return *seed >> 16;
}

static void test_xdp_chains(void **state)
{
	uint32_t seed = 7;
	size_t len, round, i;

	require_root();
	for (len = 1; len <= CHAIN_MAX; len++) {
		for (round = 0; round < 3; round++) {
			struct stage stages[CHAIN_MAX] = { 0 };
			char shape[CHAIN_MAX + 1] = { 0 };

			for (i = 0; i < len; i++) {
				/*
				 * Drops are rarer, so long chains mostly run through; a deep
				 * frame, rarer still, sends a chain to the call layout; a loop
				 * stage brings a callback.
				 */
				uint32_t r = next_random(&seed) % 17;
				enum kind kind = r < 6 ? COUNT : r < 12 ? MARK : r < 14 ? DROP
					       : r < 15 ? DEEP : LOOP;

				stage_load(&stages[i], kind);
				shape[i] = "cmdtDl"[kind];
			}
			print_message("chain %s\n", shape);
			check_chain(stages, len, NULL);
			for (i = 0; i < len; i++)
				stage_close(&stages[i]);
		}
	}
}

/* A stop verdict ends the chain; a stage told to continue on it does not. */
static void test_xdp_stop_verdict(void **state)
{
	static const enum kind shape[] = { COUNT, DROP, MARK, COUNT };
	struct stage stages[ARRAY_SIZE(shape)];
	uint64_t through_drop[ARRAY_SIZE(shape)] = {
		[1] = BPK_FUSE_VERDICT(XDP_PASS) | BPK_FUSE_VERDICT(XDP_DROP),
	};
	uint64_t before[2], after[2];
	unsigned char packet[PACKET_LEN] = { 0 };
	struct bpk_fuse_stage fuse[ARRAY_SIZE(shape)];
	size_t i;
	int fd = -1;

	require_root();
	for (i = 0; i < ARRAY_SIZE(shape); i++) {
		stage_load(&stages[i], shape[i]);
		fuse[i] = (struct bpk_fuse_stage){ .prog = stages[i].prog };
	}
	check_chain(stages, ARRAY_SIZE(shape), NULL);
	check_chain(stages, ARRAY_SIZE(shape), through_drop);

	/* Said plainly: the default chain drops and the stages after the drop never run. */
	assert_int_equal(bpk_fuse__load(fuse, ARRAY_SIZE(shape), NULL, &fd), 0);
	counters(&stages[3], before);
	assert_int_equal(run(fd, packet, sizeof(packet)), XDP_DROP);
	counters(&stages[3], after);
	assert_int_equal(after[0], before[0]);
	close(fd);
	/* Continuing on XDP_DROP too, the last stage runs and passes the packet. */
	fuse[1].continue_on = through_drop[1];
	assert_int_equal(bpk_fuse__load(fuse, ARRAY_SIZE(shape), NULL, &fd), 0);
	assert_int_equal(run(fd, packet, sizeof(packet)), XDP_PASS);
	counters(&stages[3], after);
	assert_int_equal(after[0], before[0] + 1);
	close(fd);
	for (i = 0; i < ARRAY_SIZE(shape); i++)
		stage_close(&stages[i]);
}

static void test_tc_chains(void **state)
{
	struct stage stages[4];
	uint64_t unspec_only[4] = {
		BPK_FUSE_VERDICT(TC_ACT_UNSPEC), BPK_FUSE_VERDICT(TC_ACT_UNSPEC),
		BPK_FUSE_VERDICT(TC_ACT_UNSPEC), BPK_FUSE_VERDICT(TC_ACT_UNSPEC),
	};
	size_t len, i;

	require_root();
	for (i = 0; i < ARRAY_SIZE(stages); i++)
		stage_load(&stages[i], TC);
	for (len = 1; len <= ARRAY_SIZE(stages); len++)
		check_chain(stages, len, NULL);
	/* TC_ACT_OK outside the set: the first stage ends the chain. */
	check_chain(stages, ARRAY_SIZE(stages), unspec_only);
	for (i = 0; i < ARRAY_SIZE(stages); i++)
		stage_close(&stages[i]);
}

/* A frame of 512 bytes leaves no room for the saved context: the call layout, still right. */
static void test_deep_frame(void **state)
{
	static const enum kind shape[] = { COUNT, DEEP, MARK, DEEP, COUNT };
	struct stage stages[ARRAY_SIZE(shape)];
	size_t i;

	require_root();
	for (i = 0; i < ARRAY_SIZE(shape); i++)
		stage_load(&stages[i], shape[i]);
	check_chain(stages, 1, NULL);
	check_chain(stages, 2, NULL);
	check_chain(stages, ARRAY_SIZE(shape), NULL);
	for (i = 0; i < ARRAY_SIZE(shape); i++)
		stage_close(&stages[i]);
}

static void test_refused(void **state)
{
	struct stage count, tc, tail;
	struct bpf_object *unloaded, *callback;
	struct bpk_fuse_stage fuse[2] = { 0 };
	int fd = -1;

	require_root();
	stage_load(&count, COUNT);
	stage_load(&tc, TC);
	tail.obj = open_object("chain_xdp_count.o");
	assert_int_equal(bpf_object__load(tail.obj), 0);
	tail.prog = bpf_object__next_program(tail.obj, NULL);
	unloaded = open_object("fuse_count.o");

	/* An empty chain. */
	assert_int_equal(bpk_fuse__load(NULL, 0, NULL, &fd), -EINVAL);
	fuse[0].prog = count.prog;
	assert_int_equal(bpk_fuse__load(fuse, 0, NULL, &fd), -EINVAL);
	/* Mixed types. */
	fuse[1].prog = tc.prog;
	assert_int_equal(bpk_fuse__load(fuse, 2, NULL, &fd), -EINVAL);
	/* A stage with a tail call, and the reason said. */
	{
		char reason[256];

		assert_int_equal(bpk_fuse__check(tail.prog, reason, sizeof(reason)), -EOPNOTSUPP);
		assert_non_null(strstr(reason, "'xdp_chain_count' calls bpf_tail_call"));
	}
	fuse[1].prog = tail.prog;
	assert_int_equal(bpk_fuse__load(fuse, 2, NULL, &fd), -EOPNOTSUPP);
	/* A stage with a callback (bpf_loop), which needs BTF func_info. */
	callback = open_object("loop_callback.o");
	assert_int_equal(bpf_object__load(callback), 0);
	fuse[1].prog = bpf_object__next_program(callback, NULL);
	assert_int_equal(bpk_fuse__load(fuse, 2, NULL, &fd), -EOPNOTSUPP);
	bpf_object__close(callback);
	/* A stage that loads alone, but not under the dispatcher's frame: the verifier's reason. */
	{
		struct bpf_object *frames = open_object("fuse_frames.o");
		char reason[256];
		LIBBPF_OPTS(bpk_fuse_opts, opts, .reason = reason, .reason_size = sizeof(reason));

		assert_int_equal(bpf_object__load(frames), 0);
		fuse[1].prog = bpf_object__next_program(frames, NULL);
		assert_int_equal(bpk_fuse__check(fuse[1].prog, reason, sizeof(reason)), 0);
		assert_true(bpk_fuse__load(fuse, 2, &opts, &fd) < 0);
		print_message("refused: %s\n", reason);
		assert_non_null(strstr(reason, "the verifier refused the fused chain of 2 stages"));
		assert_non_null(strstr(reason, "too deep"));
		bpf_object__close(frames);
	}
	/* A callback fuses with its object's BTF, and is refused without it. */
	{
		struct stage loop;

		stage_load(&loop, LOOP);
		fuse[1] = (struct bpk_fuse_stage){ .prog = loop.prog };
		assert_int_equal(bpk_fuse__load(fuse, 2, NULL, &fd), -EOPNOTSUPP);
		fuse[0].object = count.object;
		fuse[0].object_size = count.object_size;
		fuse[1].object = loop.object;
		fuse[1].object_size = loop.object_size;
		assert_int_equal(bpk_fuse__load(fuse, 2, NULL, &fd), 0);
		close(fd);
		fd = -1;
		fuse[0].object = fuse[1].object = NULL;
		stage_close(&loop);
	}
	/* A kfunc call (of vmlinux) fuses, with its object's BTF or without. */
	{
		_cleanup_free_ char *path = xasprintf("%s/fuse_kfunc.o", getenv("BPK_TEST_BPF_DIR"));
		struct bpf_object *kfunc = open_object("fuse_kfunc.o");
		unsigned char packet[PACKET_LEN] = { 0 };
		char *object = NULL;
		size_t size = 0;

		assert_int_equal(read_file(path, 1 << 24, &object, &size), 0);
		assert_int_equal(bpf_object__load(kfunc), 0);
		fuse[1] = (struct bpk_fuse_stage){ .prog = bpf_object__next_program(kfunc, NULL) };
		assert_int_equal(bpk_fuse__check(fuse[1].prog, NULL, 0), 0);
		assert_int_equal(bpk_fuse__load(fuse, 2, NULL, &fd), 0);
		assert_int_equal(run(fd, packet, sizeof(packet)), XDP_PASS);
		close(fd);
		fuse[0].object = count.object;
		fuse[0].object_size = count.object_size;
		fuse[1].object = object;
		fuse[1].object_size = size;
		assert_int_equal(bpk_fuse__load(fuse, 2, NULL, &fd), 0);
		assert_int_equal(run(fd, packet, sizeof(packet)), XDP_PASS);
		close(fd);
		fd = -1;
		fuse[0].object = fuse[1].object = NULL;
		free(object);
		/* The kfunc ran, in both: its stage counted twice. */
		{
			uint32_t key = 0;
			uint64_t value = 0;
			struct bpf_map *map = bpf_object__find_map_by_name(kfunc, "fuse_kfunc_map");

			assert_non_null(map);
			assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(map), &key, &value), 0);
			assert_int_equal(value, 2);
		}
		bpf_object__close(kfunc);
	}
	/* A stage not loaded, and no stage at all. */
	fuse[1].prog = bpf_object__next_program(unloaded, NULL);
	assert_int_equal(bpk_fuse__load(fuse, 2, NULL, &fd), -EINVAL);
	fuse[1].prog = NULL;
	assert_int_equal(bpk_fuse__load(fuse, 2, NULL, &fd), -EINVAL);
	assert_int_equal(fd, -1);
	/* Refusals leave the stages fit to fuse. */
	fuse[1].prog = count.prog;
	assert_int_equal(bpk_fuse__check(count.prog, NULL, 0), 0);
	assert_int_equal(bpk_fuse__load(fuse, 2, NULL, &fd), 0);
	close(fd);

	bpf_object__close(unloaded);
	bpf_object__close(tail.obj);
	stage_close(&tc);
	stage_close(&count);
}

/* The fused program shares the stages' maps and outlives their objects. */
static void test_outlives_objects(void **state)
{
	struct stage s;
	struct bpk_fuse_stage fuse[1];
	unsigned char packet[PACKET_LEN] = { 0 };
	uint32_t key = 0;
	uint64_t value = 0;
	int fd = -1, map_fd;

	require_root();
	stage_load(&s, COUNT);
	fuse[0] = (struct bpk_fuse_stage){ .prog = s.prog };
	assert_int_equal(bpk_fuse__load(fuse, 1, NULL, &fd), 0);
	map_fd = dup(s.map_fd);
	assert_true(map_fd >= 0);
	stage_close(&s);
	assert_int_equal(run(fd, packet, sizeof(packet)), XDP_PASS);
	assert_int_equal(bpf_map_lookup_elem(map_fd, &key, &value), 0);
	assert_int_equal(value, 1);
	close(map_fd);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xdp_chains),
		cmocka_unit_test(test_xdp_stop_verdict),
		cmocka_unit_test(test_tc_chains),
		cmocka_unit_test(test_deep_frame),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_outlives_objects),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, group_setup, NULL);
}

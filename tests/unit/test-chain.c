// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for chaining: TCX order, replace and pins, and the XDP tail-call root, for real. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test-util.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"

/*
 * Every test that needs the kernel runs in a network and mount namespace of its own, made by
 * the group setup: the interface is that namespace's lo (never the host's), and the pins go to
 * a bpffs mounted for the test alone. Both vanish with the process, whatever happens.
 */
static bool have_root;
static int lo_ifindex;
static char *bpffs_dir;

static void require_root(void)
{
	if (!have_root) {
		print_message("skipped: loading programs and attaching them needs root\n");
		skip();
	}
}

static int group_setup(void **state)
{
	if (geteuid() != 0)
		return 0;
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		print_message("cannot make a network and mount namespace: %s\n", strerror(errno));
		return -1;
	}
	/* Mounts made from here on stay in this namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	lo_ifindex = (int)if_nametoindex("lo");
	if (lo_ifindex <= 0)
		return -1;
	bpffs_dir = test_temp_dir("test-chain");
	if (mount("bpf", bpffs_dir, "bpf", 0, "mode=0700") < 0) {
		print_message("cannot mount bpffs on %s: %s\n", bpffs_dir, strerror(errno));
		return -1;
	}
	have_root = true;
	return 0;
}

static int group_teardown(void **state)
{
	if (bpffs_dir) {
		umount2(bpffs_dir, MNT_DETACH);
		rmdir(bpffs_dir);
		free(bpffs_dir);
	}
	return 0;
}

/* One loaded instance of a test object: its program and, by role, its maps. */
struct stage {
	struct bpf_object *obj;
	int prog_fd;
	int next_fd;	/* the l3afd-style program array, or -1 */
	int count_fd;	/* the packet counter */
	uint32_t id;
};

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *map = name ? bpf_object__find_map_by_name(obj, name) : NULL;

	return map ? bpf_map__fd(map) : -1;
}

static void stage_load(struct stage *s, const char *file, const char *next, const char *count)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", getenv("BPK_TEST_BPF_DIR"), file);
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	struct bpf_program *prog;

	s->obj = bpf_object__open_file(path, NULL);
	assert_non_null(s->obj);
	assert_int_equal(bpf_object__load(s->obj), 0);
	prog = bpf_object__next_program(s->obj, NULL);
	assert_non_null(prog);
	s->prog_fd = bpf_program__fd(prog);
	s->next_fd = map_fd(s->obj, next);
	s->count_fd = map_fd(s->obj, count);
	assert_true(s->prog_fd >= 0 && s->count_fd >= 0);
	assert_int_equal(bpf_obj_get_info_by_fd(s->prog_fd, &info, &len), 0);
	s->id = info.id;
}

static void xdp_count_load(struct stage *s)
{
	stage_load(s, "chain_xdp_count.o", "count_next", "count_packets");
}

static void xdp_drop_load(struct stage *s)
{
	stage_load(s, "chain_xdp_drop.o", "drop_next", "drop_packets");
}

static void tc_count_load(struct stage *s)
{
	stage_load(s, "chain_tc_count.o", NULL, "tc_packets");
}

static void stage_close(struct stage *s)
{
	bpf_object__close(s->obj);
	memset(s, 0, sizeof(*s));
}

static uint64_t counter(int fd)
{
	uint32_t key = 0;
	uint64_t value = 0;

	assert_int_equal(bpf_map_lookup_elem(fd, &key, &value), 0);
	return value;
}

static uint32_t prog_id(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	assert_int_equal(bpf_obj_get_info_by_fd(prog_fd, &info, &len), 0);
	return info.id;
}

/* Run prog_fd once on a 64-byte frame (XDP needs at least 14) and return its verdict. */
static int run_xdp(int prog_fd)
{
	unsigned char frame[64] = { [12] = 0x08, [13] = 0x00 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(prog_fd, &opts), 0);
	return (int)opts.retval;
}

/* The hook's order must be exactly the programs given, first to last. */
static void assert_tcx_order(enum bpk_chain_hook hook, const struct stage *const *want, size_t n)
{
	struct bpk_tcx_chain chain;
	size_t i;

	assert_int_equal(bpk_tcx__query(lo_ifindex, hook, &chain), 0);
	assert_int_equal(chain.cnt, n);
	for (i = 0; i < n; i++) {
		if (chain.prog_ids[i] != want[i]->id)
			fail_msg("position %zu runs program %u, expected %u", i, chain.prog_ids[i],
				 want[i]->id);
		assert_true(chain.link_ids[i] != 0);
	}
}

static uint32_t link_id(int link_fd)
{
	struct bpk_chain_link_info info;

	assert_int_equal(bpk_chain_link__info(link_fd, &info), 0);
	return info.link_id;
}

static void test_hook_names(void **state)
{
	assert_string_equal(bpk_chain_hook__name(BPK_CHAIN_HOOK_XDP_INGRESS), "xdp_ingress");
	assert_string_equal(bpk_chain_hook__name(BPK_CHAIN_HOOK_TC_INGRESS), "tc_ingress");
	assert_string_equal(bpk_chain_hook__name(BPK_CHAIN_HOOK_TC_EGRESS), "tc_egress");
	assert_null(bpk_chain_hook__name((enum bpk_chain_hook)42));
}

static void test_tcx_probe(void **state)
{
	require_root();
	/* Linux 6.6 brought TCX; these machines run 6.18 (DESIGN.md §8). */
	assert_int_equal(bpk_tcx__probe(), 0);
}

static void test_tcx_order(void **state)
{
	struct stage a, b, c, d, e;
	int la = -1, lb = -1, lc = -1, ld = -1, le = -1, fd = -1;
	struct bpk_tcx_chain chain;

	require_root();
	tc_count_load(&a);
	tc_count_load(&b);
	tc_count_load(&c);
	tc_count_load(&d);
	tc_count_load(&e);

	/* Appended: [a]. */
	assert_int_equal(bpk_tcx__attach(a.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, NULL,
					 &la), 0);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &a }, 1);

	/* Before a program named by fd: [b, a]. */
	BPK_OPTS(bpk_tcx_opts, before_a, .flags = BPK_TCX_F_BEFORE, .relative_fd = a.prog_fd);
	assert_int_equal(bpk_tcx__attach(b.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS,
					 &before_a, &lb), 0);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &b, &a }, 2);

	/* After a link named by id: [b, c, a]. */
	BPK_OPTS(bpk_tcx_opts, after_b, .flags = BPK_TCX_F_AFTER | BPK_TCX_F_LINK,
		 .relative_id = link_id(lb));
	assert_int_equal(bpk_tcx__attach(c.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS,
					 &after_b, &lc), 0);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &b, &c, &a }, 3);

	/* A stale revision is refused and changes nothing; the current one is taken. */
	assert_int_equal(bpk_tcx__query(lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, &chain), 0);
	BPK_OPTS(bpk_tcx_opts, stale, .flags = BPK_TCX_F_BEFORE,
		 .expected_revision = chain.revision - 1);
	assert_int_equal(bpk_tcx__attach(d.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, &stale,
					 &fd), -ESTALE);
	assert_int_equal(fd, -1);
	/* BEFORE with no relative object: first. */
	BPK_OPTS(bpk_tcx_opts, first, .flags = BPK_TCX_F_BEFORE,
		 .expected_revision = chain.revision);
	assert_int_equal(bpk_tcx__attach(d.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, &first,
					 &ld), 0);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &d, &b, &c, &a }, 4);

	/* A program is on a hook once; a relative program must be on the hook. */
	assert_int_equal(bpk_tcx__attach(a.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, NULL,
					 &fd), -EEXIST);
	BPK_OPTS(bpk_tcx_opts, after_e, .flags = BPK_TCX_F_AFTER, .relative_fd = e.prog_fd);
	assert_int_equal(bpk_tcx__attach(c.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_EGRESS, &after_e,
					 &fd), -ENOENT);

	/* Egress is a hook of its own. */
	assert_int_equal(bpk_tcx__attach(e.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_EGRESS, NULL,
					 &le), 0);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_EGRESS, (const struct stage *[]){ &e }, 1);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &d, &b, &c, &a }, 4);

	/* Closing the last fd of an unpinned link detaches it. */
	close(ld);
	close(le);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &b, &c, &a }, 3);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_EGRESS, NULL, 0);
	close(la);
	close(lb);
	close(lc);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, NULL, 0);
	stage_close(&a);
	stage_close(&b);
	stage_close(&c);
	stage_close(&d);
	stage_close(&e);
}

static void test_tcx_replace_detach(void **state)
{
	struct stage a, b, c, n;
	int la = -1, lb = -1, lc = -1;
	struct bpk_tcx_chain before, after;
	struct bpk_chain_link_info info;

	require_root();
	tc_count_load(&a);
	tc_count_load(&b);
	tc_count_load(&c);
	tc_count_load(&n);
	assert_int_equal(bpk_tcx__attach(a.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, NULL,
					 &la), 0);
	assert_int_equal(bpk_tcx__attach(b.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, NULL,
					 &lb), 0);
	assert_int_equal(bpk_tcx__attach(c.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, NULL,
					 &lc), 0);
	assert_int_equal(bpk_tcx__query(lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, &before), 0);

	/* The old-program check: b's link does not hold a, so nothing changes. */
	assert_int_equal(bpk_chain_link__update(lb, n.prog_fd, a.prog_fd), -EPERM);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &a, &b, &c }, 3);

	/* In place: same link, same position, new program, and a new revision. */
	assert_int_equal(bpk_chain_link__update(lb, n.prog_fd, b.prog_fd), 0);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &a, &n, &c }, 3);
	assert_int_equal(bpk_tcx__query(lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, &after), 0);
	assert_int_equal(after.link_ids[1], before.link_ids[1]);
	assert_true(after.revision > before.revision);
	assert_int_equal(bpk_chain_link__info(lb, &info), 0);
	assert_int_equal(info.prog_id, n.id);
	assert_int_equal(info.ifindex, lo_ifindex);
	assert_int_equal(info.hook, BPK_CHAIN_HOOK_TC_INGRESS);

	/* Without the check, and back. */
	assert_int_equal(bpk_chain_link__update(lb, b.prog_fd, -1), 0);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &a, &b, &c }, 3);

	/* Detached while its fd is still open: the rest keep their order. */
	assert_int_equal(bpk_chain_link__detach(lb), 0);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &a, &c }, 2);
	assert_int_equal(bpk_chain_link__info(lb, &info), 0);
	assert_int_equal(info.ifindex, 0);
	assert_int_equal(bpk_chain_link__update(lb, n.prog_fd, -1), -ENOLINK);

	close(la);
	close(lb);
	close(lc);
	stage_close(&a);
	stage_close(&b);
	stage_close(&c);
	stage_close(&n);
}

static void test_tcx_full(void **state)
{
	/* r0 = TC_ACT_UNSPEC (TCX_NEXT); exit */
	static const struct bpf_insn next[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int progs[BPK_TCX_MAX_PROGS + 1], links[BPK_TCX_MAX_PROGS + 1];
	struct bpk_tcx_chain chain;
	size_t i;

	require_root();
	for (i = 0; i < ARRAY_SIZE(progs); i++) {
		progs[i] = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "next", "GPL", next, 2, NULL);
		assert_true(progs[i] >= 0);
	}
	for (i = 0; i < BPK_TCX_MAX_PROGS; i++) {
		int err = bpk_tcx__attach(progs[i], lo_ifindex, BPK_CHAIN_HOOK_TC_EGRESS, NULL,
					  &links[i]);

		if (err)
			fail_msg("program %zu of %d: %s", i + 1, BPK_TCX_MAX_PROGS, strerror(-err));
	}
	assert_int_equal(bpk_tcx__query(lo_ifindex, BPK_CHAIN_HOOK_TC_EGRESS, &chain), 0);
	assert_int_equal(chain.cnt, BPK_TCX_MAX_PROGS);
	assert_int_equal(chain.prog_ids[BPK_TCX_MAX_PROGS - 1],
			 prog_id(progs[BPK_TCX_MAX_PROGS - 1]));
	/* One more does not fit. */
	assert_int_equal(bpk_tcx__attach(progs[BPK_TCX_MAX_PROGS], lo_ifindex,
					 BPK_CHAIN_HOOK_TC_EGRESS, NULL, &links[BPK_TCX_MAX_PROGS]),
			 -ERANGE);
	for (i = 0; i < BPK_TCX_MAX_PROGS; i++)
		close(links[i]);
	for (i = 0; i < ARRAY_SIZE(progs); i++)
		close(progs[i]);
	assert_int_equal(bpk_tcx__query(lo_ifindex, BPK_CHAIN_HOOK_TC_EGRESS, &chain), 0);
	assert_int_equal(chain.cnt, 0);
}

static void test_tcx_pinned(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/eth9/tc_ingress/a", bpffs_dir);
	struct bpk_chain_link_info info;
	struct stage a, b;
	int la = -1, lb = -1, fd = -1;

	require_root();
	tc_count_load(&a);
	tc_count_load(&b);
	assert_int_equal(bpk_tcx__attach(a.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, NULL,
					 &la), 0);
	assert_int_equal(bpk_chain__pin(la, path), 0);
	assert_int_equal(bpk_chain__pin(la, path), -EEXIST);
	/* The pin holds the link: no fd and no program object left, still attached. */
	close(la);
	stage_close(&a);
	assert_int_equal(bpk_chain__open_pinned(path, &fd), 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(bpk_chain_link__info(fd, &info), 0);
	assert_int_equal(info.hook, BPK_CHAIN_HOOK_TC_INGRESS);
	assert_int_equal(info.ifindex, lo_ifindex);
	a.id = info.prog_id;
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &a }, 1);
	/* A re-adopted link orders like any other. */
	BPK_OPTS(bpk_tcx_opts, before, .flags = BPK_TCX_F_BEFORE | BPK_TCX_F_LINK,
		 .relative_fd = fd);
	assert_int_equal(bpk_tcx__attach(b.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, &before,
					 &lb), 0);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &b, &a }, 2);
	/* Unpinned and closed, it goes. */
	assert_int_equal(unlink(path), 0);
	close(fd);
	assert_tcx_order(BPK_CHAIN_HOOK_TC_INGRESS, (const struct stage *[]){ &b }, 1);
	close(lb);
	stage_close(&b);
}

static void test_xdp_chain_run(void **state)
{
	struct bpk_xdp_root root;
	struct stage one, two, drop;
	uint32_t id;

	require_root();
	assert_int_equal(bpk_xdp_root__create(NULL, &root), 0);
	assert_true(fcntl(root.prog_fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(root.link_fd, -1);
	xdp_count_load(&one);
	xdp_count_load(&two);
	xdp_drop_load(&drop);

	/* An empty root lets the packet through. */
	assert_int_equal(bpk_prog_array__get(root.array_fd, 0, &id), -ENOENT);
	assert_int_equal(run_xdp(root.prog_fd), XDP_PASS);

	/* root -> one -> two: both count, the last one passes. */
	assert_int_equal(bpk_prog_array__set(root.array_fd, 0, one.prog_fd), 0);
	assert_int_equal(bpk_prog_array__set(one.next_fd, 0, two.prog_fd), 0);
	assert_int_equal(bpk_prog_array__get(root.array_fd, 0, &id), 0);
	assert_int_equal(id, one.id);
	assert_int_equal(run_xdp(root.prog_fd), XDP_PASS);
	assert_int_equal(counter(one.count_fd), 1);
	assert_int_equal(counter(two.count_fd), 1);

	/* root -> one -> drop (-> two): a verdict other than passing on ends the chain. */
	assert_int_equal(bpk_prog_array__set(one.next_fd, 0, drop.prog_fd), 0);
	assert_int_equal(bpk_prog_array__set(drop.next_fd, 0, two.prog_fd), 0);
	assert_int_equal(run_xdp(root.prog_fd), XDP_DROP);
	assert_int_equal(counter(one.count_fd), 2);
	assert_int_equal(counter(drop.count_fd), 1);
	assert_int_equal(counter(two.count_fd), 1);

	/* Emptying the root's slot takes the whole chain out; emptying twice is fine. */
	assert_int_equal(bpk_prog_array__clear(root.array_fd, 0), 0);
	assert_int_equal(bpk_prog_array__clear(root.array_fd, 0), 0);
	assert_int_equal(run_xdp(root.prog_fd), XDP_PASS);
	assert_int_equal(counter(one.count_fd), 2);

	/* A slot takes only what the kernel would tail-call: no sched_cls, no slot 1. */
	struct stage tc;

	tc_count_load(&tc);
	assert_int_equal(bpk_prog_array__set(root.array_fd, 0, tc.prog_fd), -EINVAL);
	assert_int_equal(bpk_prog_array__set(root.array_fd, 1, one.prog_fd), -E2BIG);
	stage_close(&tc);
	/*
	 * Nor an XDP program loaded without expected attach type BPF_XDP: this kernel holds a
	 * program array to the attach type of its first user, the root (libbpf's SEC("xdp") sets
	 * BPF_XDP, so packaged programs fit).
	 */
	static const struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int plain = bpf_prog_load(BPF_PROG_TYPE_XDP, "plain", "GPL", pass, 2, NULL);

	assert_true(plain >= 0);
	assert_int_equal(bpk_prog_array__set(root.array_fd, 0, plain), -EINVAL);
	close(plain);

	bpk_xdp_root__release(&root);
	assert_int_equal(root.prog_fd, -1);
	bpk_xdp_root__release(&root);
	stage_close(&one);
	stage_close(&two);
	stage_close(&drop);
}

/* DESIGN.md §8, shown: an array nobody in user space holds loses its slots. */
static void test_xdp_unpinned_array_is_flushed(void **state)
{
	struct bpk_xdp_root root;
	struct stage one;
	int i;

	require_root();
	assert_int_equal(bpk_xdp_root__create(NULL, &root), 0);
	xdp_count_load(&one);
	assert_int_equal(bpk_prog_array__set(root.array_fd, 0, one.prog_fd), 0);
	assert_int_equal(run_xdp(root.prog_fd), XDP_PASS);
	assert_int_equal(counter(one.count_fd), 1);
	/*
	 * The root program still holds the map, but not as a user: the kernel empties the slot,
	 * from a work item, so soon rather than at once.
	 */
	close(root.array_fd);
	root.array_fd = -1;
	for (i = 0; i < 500; i++) {
		uint64_t before = counter(one.count_fd);

		assert_int_equal(run_xdp(root.prog_fd), XDP_PASS);
		if (counter(one.count_fd) == before)
			break;
		usleep(10000);
	}
	if (i == 500)
		fail_msg("the slot of an array without user references still runs after 5 s");
	bpk_xdp_root__release(&root);
	stage_close(&one);
}

static void test_xdp_root_pinned(void **state)
{
	_cleanup_free_ char *dir = xasprintf("%s/bpk/lo/xdp_ingress", bpffs_dir);
	_cleanup_free_ char *next1 = xasprintf("%s/one_next", dir);
	_cleanup_free_ char *count1 = xasprintf("%s/one_count", dir);
	_cleanup_free_ char *count2 = xasprintf("%s/two_count", dir);
	struct bpk_xdp_root root, again, other;
	struct bpk_chain_link_info info;
	struct stage one, two;
	int next_fd, c1, c2;
	uint32_t root_id, one_id, two_id, id;
	struct stat st;

	require_root();
	assert_int_equal(bpk_xdp_root__create(NULL, &root), 0);
	xdp_count_load(&one);
	xdp_count_load(&two);
	root_id = prog_id(root.prog_fd);
	one_id = one.id;
	two_id = two.id;
	assert_int_equal(bpk_prog_array__set(root.array_fd, 0, one.prog_fd), 0);
	assert_int_equal(bpk_prog_array__set(one.next_fd, 0, two.prog_fd), 0);
	/* Generic XDP: lo has no driver hook. */
	BPK_OPTS(bpk_xdp_attach_opts, skb, .xdp_flags = XDP_FLAGS_SKB_MODE);
	assert_int_equal(bpk_xdp_root__attach(&root, lo_ifindex, &skb), 0);
	assert_int_equal(bpk_xdp_root__attach(&root, lo_ifindex, &skb), -EEXIST);
	assert_int_equal(bpk_chain_link__info(root.link_fd, &info), 0);
	assert_int_equal(info.hook, BPK_CHAIN_HOOK_XDP_INGRESS);
	assert_int_equal(info.ifindex, lo_ifindex);
	assert_int_equal(info.prog_id, root_id);

	/* What an agent pins: the root, and each stage's program array and maps. */
	assert_int_equal(bpk_xdp_root__pin(&root, dir), 0);
	assert_int_equal(bpk_xdp_root__pin(&root, dir), -EEXIST);
	assert_int_equal(bpk_chain__pin(one.next_fd, next1), 0);
	assert_int_equal(bpk_chain__pin(one.count_fd, count1), 0);
	assert_int_equal(bpk_chain__pin(two.count_fd, count2), 0);

	/* The agent goes away: every fd and object it had is closed. */
	bpk_xdp_root__release(&root);
	stage_close(&one);
	stage_close(&two);

	/* Restarted, it re-adopts the pins and finds the chain as it was. */
	assert_int_equal(bpk_xdp_root__open_pinned(dir, &again), 0);
	assert_true(again.link_fd >= 0);
	assert_int_equal(prog_id(again.prog_fd), root_id);
	assert_int_equal(bpk_chain_link__info(again.link_fd, &info), 0);
	assert_int_equal(info.prog_id, root_id);
	assert_int_equal(info.ifindex, lo_ifindex);
	assert_int_equal(bpk_prog_array__get(again.array_fd, 0, &id), 0);
	assert_int_equal(id, one_id);
	assert_int_equal(bpk_chain__open_pinned(next1, &next_fd), 0);
	assert_int_equal(bpk_prog_array__get(next_fd, 0, &id), 0);
	assert_int_equal(id, two_id);
	assert_int_equal(bpk_chain__open_pinned(count1, &c1), 0);
	assert_int_equal(bpk_chain__open_pinned(count2, &c2), 0);
	assert_int_equal(run_xdp(again.prog_fd), XDP_PASS);
	assert_int_equal(counter(c1), 1);
	assert_int_equal(counter(c2), 1);

	/* Swap the root on the interface: refused unless the link holds what we think. */
	assert_int_equal(bpk_xdp_root__create(NULL, &other), 0);
	assert_int_equal(bpk_chain_link__update(again.link_fd, other.prog_fd, other.prog_fd),
			 -EPERM);
	assert_int_equal(bpk_chain_link__update(again.link_fd, other.prog_fd, again.prog_fd), 0);
	assert_int_equal(bpk_chain_link__info(again.link_fd, &info), 0);
	assert_int_equal(info.prog_id, prog_id(other.prog_fd));
	/* Now the pins no longer belong together, and re-adopting them says so. */
	struct bpk_xdp_root mismatch = { .prog_fd = 1234, .array_fd = 1234, .link_fd = 1234 };

	assert_int_equal(bpk_xdp_root__open_pinned(dir, &mismatch), -EINVAL);
	assert_int_equal(mismatch.prog_fd, 1234);
	assert_int_equal(bpk_chain_link__update(again.link_fd, again.prog_fd, other.prog_fd), 0);
	bpk_xdp_root__release(&other);

	/* Unpinned and closed, the root leaves the interface. */
	assert_int_equal(bpk_xdp_root__unpin(dir), 0);
	assert_int_equal(stat(dir, &st), 0); /* the stages' pins are still there */
	assert_int_equal(unlink(next1), 0);
	assert_int_equal(unlink(count1), 0);
	assert_int_equal(unlink(count2), 0);
	assert_int_equal(bpk_xdp_root__unpin(dir), 0);
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(bpk_xdp_root__open_pinned(dir, &mismatch), -ENOENT);
	bpk_xdp_root__release(&again);
	close(next_fd);
	close(c1);
	close(c2);
	/* The interface is free again: a new root attaches. */
	assert_int_equal(bpk_xdp_root__create(NULL, &root), 0);
	assert_int_equal(bpk_xdp_root__attach(&root, lo_ifindex, &skb), 0);
	bpk_xdp_root__release(&root);
}

static void test_pin_mounts_bpffs(void **state)
{
	_cleanup_free_ char *path = NULL;
	struct bpk_xdp_root root;
	struct statfs st;
	int fd = -1;

	require_root();
	/* In this test's own mount namespace: take bpffs away from /sys/fs/bpf, if it is there. */
	umount2("/sys/fs/bpf", MNT_DETACH);
	assert_int_equal(bpk_xdp_root__create(NULL, &root), 0);
	path = xasprintf("/sys/fs/bpf/bpk-test-%d/a/b/xdp_root", (int)getpid());
	assert_int_equal(bpk_chain__pin(root.prog_fd, path), 0);
	assert_int_equal(statfs("/sys/fs/bpf", &st), 0);
	assert_int_equal(st.f_type, 0xcafe4a11);
	assert_int_equal(bpk_chain__open_pinned(path, &fd), 0);
	assert_int_equal(prog_id(fd), prog_id(root.prog_fd));
	close(fd);
	unlink(path);
	/* Off bpffs, the pin is refused in words, not with the kernel's EPERM. */
	free(path);
	path = xasprintf("%s-not-bpffs/x", bpffs_dir);
	assert_int_equal(bpk_chain__pin(root.prog_fd, path), -ENOTSUP);
	free(path);
	path = xasprintf("%s-not-bpffs", bpffs_dir);
	rmdir(path);
	bpk_xdp_root__release(&root);
}

static void test_bad_arguments(void **state)
{
	struct bpk_tcx_chain chain;
	struct stage a;
	int fd = -1;

	require_root();
	tc_count_load(&a);
	/* XDP is not a TCX hook. */
	assert_int_equal(bpk_tcx__attach(a.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_XDP_INGRESS, NULL,
					 &fd), -EINVAL);
	assert_int_equal(bpk_tcx__query(lo_ifindex, BPK_CHAIN_HOOK_XDP_INGRESS, &chain), -EINVAL);
	/* Before and after at once; a link with nothing named; fd and id at once. */
	BPK_OPTS(bpk_tcx_opts, both, .flags = BPK_TCX_F_BEFORE | BPK_TCX_F_AFTER);
	assert_int_equal(bpk_tcx__attach(a.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, &both,
					 &fd), -EINVAL);
	BPK_OPTS(bpk_tcx_opts, link, .flags = BPK_TCX_F_BEFORE | BPK_TCX_F_LINK);
	assert_int_equal(bpk_tcx__attach(a.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, &link,
					 &fd), -EINVAL);
	BPK_OPTS(bpk_tcx_opts, two, .flags = BPK_TCX_F_AFTER, .relative_fd = a.prog_fd,
		 .relative_id = a.id);
	assert_int_equal(bpk_tcx__attach(a.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, &two,
					 &fd), -EINVAL);
	/* A relative object without saying before or after. */
	BPK_OPTS(bpk_tcx_opts, nowhere, .relative_fd = a.prog_fd);
	assert_int_equal(bpk_tcx__attach(a.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS,
					 &nowhere, &fd), -EINVAL);
	/* No such interface. */
	assert_int_equal(bpk_tcx__attach(a.prog_fd, 999999, BPK_CHAIN_HOOK_TC_INGRESS, NULL, &fd),
			 -ENODEV);
	assert_int_equal(fd, -1);
	/* An XDP program on a TCX hook. */
	struct stage x;

	xdp_count_load(&x);
	assert_int_equal(bpk_tcx__attach(x.prog_fd, lo_ifindex, BPK_CHAIN_HOOK_TC_INGRESS, NULL,
					 &fd), -EINVAL);
	/* A program fd is not a link. */
	struct bpk_chain_link_info info;

	assert_int_equal(bpk_chain_link__info(x.prog_fd, &info), -EINVAL);
	assert_int_equal(bpk_chain__open_pinned("/nonexistent/pin", &fd), -ENOENT);
	stage_close(&x);
	stage_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hook_names),
		cmocka_unit_test(test_tcx_probe),
		cmocka_unit_test(test_tcx_order),
		cmocka_unit_test(test_tcx_replace_detach),
		cmocka_unit_test(test_tcx_full),
		cmocka_unit_test(test_tcx_pinned),
		cmocka_unit_test(test_xdp_chain_run),
		cmocka_unit_test(test_xdp_unpinned_array_is_flushed),
		cmocka_unit_test(test_xdp_root_pinned),
		cmocka_unit_test(test_pin_mounts_bpffs),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

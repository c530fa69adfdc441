// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests for libxdp's dispatcher behind bpk's freplace probe. Run with no argument: the probe
 * and the refused arguments. With "attach" (a kernel that takes freplace) or "refuse" (one that
 * does not): the part that holds on this kernel, on a veth pair in a namespace of its own; the
 * other part exits 77, so that meson counts it skipped, never passed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <bpk/bpk.h>

#define PACKET_LEN 64
#define VETH "xdpd0"
#define VETH_PEER "xdpd1"

static char probe_reason[256];
static int probe_err;
/* Set by a test of the part that skipped, so that main() can say so to meson. */
static bool part_skipped;

static void skip_because(const char *why)
{
	print_message("skipped: %s\n", why);
	part_skipped = true;
	skip();
}

static void require_root(void)
{
	if (geteuid() != 0)
		skip_because("attaching XDP programs needs root");
}

static int group_setup(void **state)
{
	probe_err = bpk_xdp_dispatcher__probe(probe_reason, sizeof(probe_reason));
	return 0;
}

/* The namespace a test made, removed by the teardown even when the test fails. */
static struct {
	char name[32];
	int host_fd;
	int ifindex;
} netns = { .host_fd = -1 };

static void run_ip(const char *fmt, ...)
{
	_cleanup_free_ char *cmd = NULL;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* A veth pair, both ends up, in a new namespace that this process enters. */
static void netns_enter(void)
{
	_cleanup_free_ char *path = NULL;
	int fd;

	snprintf(netns.name, sizeof(netns.name), "bpk-xdpd-%d", (int)getpid());
	run_ip("ip netns add %s", netns.name);
	run_ip("ip -n %s link add " VETH " type veth peer name " VETH_PEER, netns.name);
	run_ip("ip -n %s link set " VETH " up && ip -n %s link set " VETH_PEER " up", netns.name,
	       netns.name);
	netns.host_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(netns.host_fd >= 0);
	path = xasprintf("/run/netns/%s", netns.name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(setns(fd, CLONE_NEWNET), 0);
	close(fd);
	netns.ifindex = (int)if_nametoindex(VETH);
	assert_true(netns.ifindex > 0);
}

static int netns_teardown(void **state)
{
	_cleanup_free_ char *cmd = NULL;

	if (netns.host_fd >= 0) {
		if (setns(netns.host_fd, CLONE_NEWNET) < 0)
			return -1;
		close(netns.host_fd);
		netns.host_fd = -1;
	}
	if (netns.name[0]) {
		/* Deleting the namespace takes the veth pair, and any XDP program on it, along. */
		cmd = xasprintf("ip netns del %s", netns.name);
		netns.name[0] = '\0';
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static struct bpf_object *open_object(const char *file)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", test_bpf_dir(), file);
	struct bpf_object *obj = bpf_object__open_file(path, NULL);

	assert_non_null(obj);
	return obj;
}

static uint64_t counter(struct bpf_object *obj, const char *map)
{
	uint64_t value = 0;
	uint32_t key = 0;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, map)),
					     &key, &value),
			 0);
	return value;
}

/* The id of the XDP program on ifindex (native or generic), 0 when there is none. */
static uint32_t xdp_prog_id(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, opts);

	assert_int_equal(bpf_xdp_query(ifindex, 0, &opts), 0);
	return opts.prog_id;
}

/* Either an answer or a refusal that says why, whatever the kernel. */
static void test_probe(void **state)
{
	char small[8];

	print_message("probe: %d: %s\n", probe_err, probe_reason);
	assert_true(probe_err == 0 || (probe_err < 0 && probe_err > -4096));
	assert_true(probe_reason[0] != '\0');
	/* Nothing cached: the same answer again, without a reason buffer or with a short one. */
	assert_int_equal(bpk_xdp_dispatcher__probe(NULL, 0), probe_err);
	memset(small, 'x', sizeof(small));
	assert_int_equal(bpk_xdp_dispatcher__probe(small, sizeof(small)), probe_err);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, probe_reason, sizeof(small) - 1);
}

/* Refused before the probe and before libxdp: no kernel or privilege needed. */
static void test_invalid(void **state)
{
	struct bpk_xdp_dispatcher_prog progs[BPK_XDP_DISPATCHER_MAX_PROGS + 1] = { 0 };
	struct bpf_object *obj = open_object("xdpd_pass.o");
	BPK_OPTS(bpk_xdp_dispatcher_opts, opts, .flags = 1U << 31);

	assert_int_equal(bpk_xdp_dispatcher__attach(NULL, 0, 1, NULL), -EINVAL);
	assert_int_equal(bpk_xdp_dispatcher__attach(NULL, 1, 1, NULL), -EINVAL);
	progs[0].obj = obj;
	assert_int_equal(bpk_xdp_dispatcher__attach(progs, 0, 1, NULL), -EINVAL);
	assert_int_equal(bpk_xdp_dispatcher__attach(progs, 1, 0, NULL), -EINVAL);
	assert_int_equal(bpk_xdp_dispatcher__attach(progs, 1, -1, NULL), -EINVAL);
	assert_int_equal(bpk_xdp_dispatcher__attach(progs, 1, 1, &opts), -EINVAL);
	/* An entry without an object, two entries of one object, one entry too many. */
	assert_int_equal(bpk_xdp_dispatcher__attach(progs, 2, 1, NULL), -EINVAL);
	progs[1].obj = obj;
	assert_int_equal(bpk_xdp_dispatcher__attach(progs, 2, 1, NULL), -EINVAL);
	assert_int_equal(bpk_xdp_dispatcher__attach(progs, BPK_XDP_DISPATCHER_MAX_PROGS + 1, 1,
						    NULL),
			 -E2BIG);
	assert_int_equal(bpk_xdp_dispatcher__detach(0), -EINVAL);
	/* The object is left as it was: still not loaded. */
	assert_true(bpf_program__fd(bpf_object__next_program(obj, NULL)) < 0);
	bpf_object__close(obj);
}

/* Where the kernel takes freplace: two programs in one dispatcher, in run_prio order. */
static void test_attach(void **state)
{
	struct bpf_object *pass, *drop;
	struct xdp_multiprog *mp;
	unsigned char packet[PACKET_LEN] = { 0 }, out[PACKET_LEN + 256];

	require_root();
	if (probe_err)
		skip_because(probe_reason);
	netns_enter();
	pass = open_object("xdpd_pass.o");
	drop = open_object("xdpd_drop.o");
	/* Given in the wrong order: run_prio puts the one that passes first. */
	const struct bpk_xdp_dispatcher_prog progs[] = {
		{ .obj = drop, .prog_name = "xdpd_drop", .run_prio = 20 },
		{ .obj = pass, .prog_name = "xdpd_pass", .run_prio = 10 },
	};
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet, .data_size_in = sizeof(packet),
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	assert_int_equal(bpk_xdp_dispatcher__attach(progs, 2, netns.ifindex, NULL), 0);
	mp = xdp_multiprog__get_from_ifindex(netns.ifindex);
	assert_int_equal(libxdp_get_error(mp), 0);
	assert_false(xdp_multiprog__is_legacy(mp));
	assert_int_equal(xdp_multiprog__program_count(mp), 2);
	assert_int_equal(xdp_prog_id(netns.ifindex),
			 xdp_program__id(xdp_multiprog__main_prog(mp)));

	/* The dispatcher runs the counter, which passes the packet on to the one that drops it. */
	assert_int_equal(bpf_prog_test_run_opts(xdp_program__fd(xdp_multiprog__main_prog(mp)),
						&run),
			 0);
	assert_int_equal(run.retval, XDP_DROP);
	assert_int_equal(counter(pass, "xdpd_pass_packets"), 1);
	assert_int_equal(counter(drop, "xdpd_drop_packets"), 1);
	xdp_multiprog__close(mp);

	/* The dispatcher holds its own references: it outlives the caller's objects. */
	bpf_object__close(pass);
	bpf_object__close(drop);
	assert_int_not_equal(xdp_prog_id(netns.ifindex), 0);
	assert_int_equal(bpk_xdp_dispatcher__detach(netns.ifindex), 0);
	assert_int_equal(xdp_prog_id(netns.ifindex), 0);
	assert_int_equal(bpk_xdp_dispatcher__detach(netns.ifindex), -ENOENT);
}

/*
 * Where the kernel refuses freplace: no dispatcher, and no silent single program either (libxdp
 * falls back to one when it is given one), on the interface or in the object.
 */
static void test_refuse(void **state)
{
	struct bpf_object *pass;
	BPK_OPTS(bpk_xdp_dispatcher_opts, skb, .flags = BPK_XDP_DISPATCHER_F_SKB);

	require_root();
	if (!probe_err)
		skip_because("the kernel takes freplace programs, so bpk does not refuse the dispatcher");
	netns_enter();
	pass = open_object("xdpd_pass.o");
	const struct bpk_xdp_dispatcher_prog progs[] = { { .obj = pass } };

	assert_int_equal(bpk_xdp_dispatcher__attach(progs, 1, netns.ifindex, NULL), -EOPNOTSUPP);
	assert_int_equal(bpk_xdp_dispatcher__attach(progs, 1, netns.ifindex, &skb), -EOPNOTSUPP);
	assert_int_equal(xdp_prog_id(netns.ifindex), 0);
	assert_true(bpf_program__fd(bpf_object__next_program(pass, NULL)) < 0);
	assert_int_equal(bpk_xdp_dispatcher__detach(netns.ifindex), -ENOENT);
	bpf_object__close(pass);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest common[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_invalid),
	};
	const struct CMUnitTest attach[] = {
		cmocka_unit_test_teardown(test_attach, netns_teardown),
	};
	const struct CMUnitTest refuse[] = {
		cmocka_unit_test_teardown(test_refuse, netns_teardown),
	};
	const char *part = argc > 1 ? argv[1] : "";
	int failed;

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (!strcmp(part, "attach"))
		failed = cmocka_run_group_tests(attach, group_setup, NULL);
	else if (!strcmp(part, "refuse"))
		failed = cmocka_run_group_tests(refuse, group_setup, NULL);
	else
		failed = cmocka_run_group_tests(common, group_setup, NULL);
	/* meson's code for a skip: each part holds one test, so its skip is the part's result. */
	return failed ? failed : part_skipped ? 77 : 0;
}

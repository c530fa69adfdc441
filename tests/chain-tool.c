// SPDX-License-Identifier: BSD-2-Clause
/* A test driver for libbpk's chaining calls, until the agent and CLI have them (t0040). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <bpk/bpk.h>

#include "util.h"

static const char usage[] =
	"usage: chain-tool COMMAND ARGS...\n"
	"  tcx-probe                         exit 0 if the kernel has TCX\n"
	"  load OBJ DIR                      load OBJ; pin its program as DIR/prog, maps in DIR\n"
	"  prog-id PIN                       print the id of a pinned program\n"
	"  count MAP [KEY]                   print the u64 at KEY (default 0) of a pinned map\n"
	"  xdp-root DIR [IFNAME]             create an XDP root, attach it to IFNAME, pin in DIR\n"
	"  xdp-adopt DIR                     re-open a pinned root; print its program, link, slot\n"
	"  slot-set ARRAY PROG               put a pinned program in slot 0 of a pinned array\n"
	"  slot-get ARRAY                    print the id of the program in slot 0\n"
	"  tcx-attach IFNAME HOOK PROG LINK [before|after RELATIVE_LINK]\n"
	"                                    attach a pinned program at HOOK (tc_ingress,\n"
	"                                    tc_egress), pin its link as LINK\n"
	"  tcx-query IFNAME HOOK             print 'revision R', then 'PROG_ID LINK_ID' in order\n"
	"  link-update LINK NEW_PROG [OLD_PROG]\n"
	"                                    replace the program of a pinned link\n"
	"  link-info LINK                    print 'PROG_ID IFINDEX HOOK LINK_ID' of a pinned link\n"
	"  test-run PROG N                   run a pinned XDP program N times on one IPv4/ICMP\n"
	"                                    frame (BPF_PROG_TEST_RUN); print its return value\n";

static int die(const char *what, const char *subject, int err)
{
	fprintf(stderr, "error: %s '%s': %s\n", what, subject, strerror(err < 0 ? -err : err));
	return 1;
}

static int open_pin(const char *path, int *ret_fd)
{
	int err = bpk_chain__open_pinned(path, ret_fd);

	if (err)
		die("cannot open pin", path, err);
	return err;
}

static int ifindex_of(const char *name)
{
	int ifindex = (int)if_nametoindex(name);

	if (!ifindex)
		die("no interface", name, errno);
	return ifindex;
}

static int hook_of(const char *name, enum bpk_chain_hook *ret)
{
	if (!strcmp(name, "tc_ingress"))
		*ret = BPK_CHAIN_HOOK_TC_INGRESS;
	else if (!strcmp(name, "tc_egress"))
		*ret = BPK_CHAIN_HOOK_TC_EGRESS;
	else
		return die("not a TCX hook", name, EINVAL), -EINVAL;
	return 0;
}

static int cmd_load(const char *obj_path, const char *dir)
{
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	struct bpf_program *prog;
	struct bpf_map *map;
	char *path;
	int err;

	if (!obj)
		return die("cannot open", obj_path, errno);
	err = bpf_object__load(obj);
	if (err) {
		bpf_object__close(obj);
		return die("cannot load", obj_path, err);
	}
	bpf_object__for_each_map(map, obj) {
		path = xasprintf("%s/%s", dir, bpf_map__name(map));
		err = path ? bpk_chain__pin(bpf_map__fd(map), path) : -ENOMEM;
		if (err)
			die("cannot pin", path ?: dir, err);
		free(path);
		if (err)
			goto out;
	}
	prog = bpf_object__next_program(obj, NULL);
	path = xasprintf("%s/prog", dir);
	err = prog && path ? bpk_chain__pin(bpf_program__fd(prog), path) : -ENOENT;
	if (err)
		die("cannot pin the program of", obj_path, err);
	free(path);
out:
	/* The pins hold the program and its maps (program arrays included) from here on. */
	bpf_object__close(obj);
	return err ? 1 : 0;
}

static int cmd_prog_id(const char *pin)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	int fd;

	if (open_pin(pin, &fd))
		return 1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return die("cannot read", pin, errno);
	printf("%u\n", info.id);
	close(fd);
	return 0;
}

static int cmd_count(const char *pin, const char *key_text)
{
	uint32_t key = key_text ? (uint32_t)strtoul(key_text, NULL, 0) : 0;
	uint64_t value;
	int fd;

	if (open_pin(pin, &fd))
		return 1;
	if (bpf_map_lookup_elem(fd, &key, &value))
		return die("cannot read", pin, errno);
	printf("%llu\n", (unsigned long long)value);
	close(fd);
	return 0;
}

/* A pinned XDP program run on one Ethernet + IPv4 + ICMP echo frame, never attached anywhere. */
static int cmd_test_run(const char *pin, const char *times)
{
	static const unsigned char frame[] = {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, /* ethernet, IPv4 */
		0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 240, 50, 1, 10, 240, 50, 2,
		8, 0, 0xf7, 0xfe, 0, 1, 0, 0, /* ICMP echo request */
	};
	unsigned char out[sizeof(frame) + 256];
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = sizeof(frame),
		    .data_out = out, .data_size_out = sizeof(out));
	int fd;

	run.repeat = (unsigned int)strtoul(times, NULL, 10);
	if (open_pin(pin, &fd))
		return 1;
	if (bpf_prog_test_run_opts(fd, &run))
		return die("cannot test-run", pin, errno);
	printf("%u\n", run.retval);
	close(fd);
	return 0;
}

static int cmd_xdp_root(const char *dir, const char *ifname)
{
	struct bpk_xdp_root root;
	int err;

	err = bpk_xdp_root__create(NULL, &root);
	if (err)
		return die("cannot create the XDP root for", dir, err);
	if (ifname) {
		int ifindex = ifindex_of(ifname);

		err = ifindex > 0 ? bpk_xdp_root__attach(&root, ifindex, NULL) : -ENODEV;
		if (err && ifindex > 0)
			die("cannot attach the XDP root to", ifname, err);
	}
	if (!err) {
		err = bpk_xdp_root__pin(&root, dir);
		if (err)
			die("cannot pin the XDP root in", dir, err);
	}
	bpk_xdp_root__release(&root);
	return err ? 1 : 0;
}

static int cmd_xdp_adopt(const char *dir)
{
	struct bpk_chain_link_info link = { 0 };
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info), slot = 0;
	struct bpk_xdp_root root;
	int err;

	err = bpk_xdp_root__open_pinned(dir, &root);
	if (err)
		return die("cannot re-adopt the XDP root in", dir, err);
	if (bpf_obj_get_info_by_fd(root.prog_fd, &info, &len))
		err = -errno;
	if (!err && root.link_fd >= 0)
		err = bpk_chain_link__info(root.link_fd, &link);
	if (!err) {
		err = bpk_prog_array__get(root.array_fd, 0, &slot);
		if (err == -ENOENT)
			err = 0;
	}
	if (!err)
		printf("root %u link %u ifindex %u slot %u\n", info.id, link.link_id, link.ifindex,
		       slot);
	bpk_xdp_root__release(&root);
	return err ? die("cannot read the XDP root in", dir, err) : 0;
}

static int cmd_slot_set(const char *array_pin, const char *prog_pin)
{
	int array_fd, prog_fd, err;

	if (open_pin(array_pin, &array_fd))
		return 1;
	if (open_pin(prog_pin, &prog_fd))
		return 1;
	err = bpk_prog_array__set(array_fd, 0, prog_fd);
	close(array_fd);
	close(prog_fd);
	return err ? die("cannot fill slot 0 of", array_pin, err) : 0;
}

static int cmd_slot_get(const char *array_pin)
{
	uint32_t id;
	int fd, err;

	if (open_pin(array_pin, &fd))
		return 1;
	err = bpk_prog_array__get(fd, 0, &id);
	close(fd);
	if (err)
		return die("cannot read slot 0 of", array_pin, err);
	printf("%u\n", id);
	return 0;
}

static int cmd_tcx_attach(int argc, char **argv)
{
	int ifindex = ifindex_of(argv[0]), prog_fd, rel_fd = -1, link_fd = -1, err;
	enum bpk_chain_hook hook;

	BPK_OPTS(bpk_tcx_opts, opts);
	if (ifindex <= 0 || hook_of(argv[1], &hook) || open_pin(argv[2], &prog_fd))
		return 1;
	if (argc == 6) {
		if (strcmp(argv[4], "before") && strcmp(argv[4], "after"))
			return die("not 'before' or 'after'", argv[4], EINVAL);
		if (open_pin(argv[5], &rel_fd))
			return 1;
		opts.flags = BPK_TCX_F_LINK |
			     (!strcmp(argv[4], "before") ? BPK_TCX_F_BEFORE : BPK_TCX_F_AFTER);
		opts.relative_fd = rel_fd;
	}
	err = bpk_tcx__attach(prog_fd, ifindex, hook, &opts, &link_fd);
	if (err)
		return die("cannot attach", argv[2], err);
	err = bpk_chain__pin(link_fd, argv[3]);
	if (err)
		return die("cannot pin", argv[3], err);
	close(link_fd);
	close(prog_fd);
	if (rel_fd >= 0)
		close(rel_fd);
	return 0;
}

static int cmd_tcx_query(const char *ifname, const char *hook_name)
{
	struct bpk_tcx_chain chain;
	enum bpk_chain_hook hook;
	int ifindex = ifindex_of(ifname), err;
	uint32_t i;

	if (ifindex <= 0 || hook_of(hook_name, &hook))
		return 1;
	err = bpk_tcx__query(ifindex, hook, &chain);
	if (err)
		return die("cannot query", ifname, err);
	printf("revision %llu\n", (unsigned long long)chain.revision);
	for (i = 0; i < chain.cnt; i++)
		printf("%u %u\n", chain.prog_ids[i], chain.link_ids[i]);
	return 0;
}

static int cmd_link_update(int argc, char **argv)
{
	int link_fd, new_fd, old_fd = -1, err;

	if (open_pin(argv[0], &link_fd) || open_pin(argv[1], &new_fd))
		return 1;
	if (argc == 3 && open_pin(argv[2], &old_fd))
		return 1;
	err = bpk_chain_link__update(link_fd, new_fd, old_fd);
	close(link_fd);
	close(new_fd);
	if (old_fd >= 0)
		close(old_fd);
	return err ? die("cannot update", argv[0], err) : 0;
}

static int cmd_link_info(const char *pin)
{
	struct bpk_chain_link_info info;
	int fd, err;

	if (open_pin(pin, &fd))
		return 1;
	err = bpk_chain_link__info(fd, &info);
	close(fd);
	if (err)
		return die("cannot read", pin, err);
	printf("%u %u %s %u\n", info.prog_id, info.ifindex, bpk_chain_hook__name(info.hook),
	       info.link_id);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int n = argc - 2;
	char **args = argv + 2;

	if (!strcmp(cmd, "tcx-probe") && n == 0) {
		int err = bpk_tcx__probe();

		return err ? die("no TCX", "kernel", err) : 0;
	}
	if (!strcmp(cmd, "load") && n == 2)
		return cmd_load(args[0], args[1]);
	if (!strcmp(cmd, "prog-id") && n == 1)
		return cmd_prog_id(args[0]);
	if (!strcmp(cmd, "count") && (n == 1 || n == 2))
		return cmd_count(args[0], n == 2 ? args[1] : NULL);
	if (!strcmp(cmd, "xdp-root") && (n == 1 || n == 2))
		return cmd_xdp_root(args[0], n == 2 ? args[1] : NULL);
	if (!strcmp(cmd, "xdp-adopt") && n == 1)
		return cmd_xdp_adopt(args[0]);
	if (!strcmp(cmd, "slot-set") && n == 2)
		return cmd_slot_set(args[0], args[1]);
	if (!strcmp(cmd, "slot-get") && n == 1)
		return cmd_slot_get(args[0]);
	if (!strcmp(cmd, "tcx-attach") && (n == 4 || n == 6))
		return cmd_tcx_attach(n, args);
	if (!strcmp(cmd, "tcx-query") && n == 2)
		return cmd_tcx_query(args[0], args[1]);
	if (!strcmp(cmd, "link-update") && (n == 2 || n == 3))
		return cmd_link_update(n, args);
	if (!strcmp(cmd, "link-info") && n == 1)
		return cmd_link_info(args[0]);
	if (!strcmp(cmd, "test-run") && n == 2)
		return cmd_test_run(args[0], args[1]);
	fputs(usage, stderr);
	return 2;
}

// SPDX-License-Identifier: BSD-2-Clause
/* Chaining on an interface: TCX links through bpf() itself, and l3afd's XDP tail-call root. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>

#include "bpk_internal.h"

/*
 * TCX (Linux 6.6, "bpf: Add fd-based tcx multi-prog infra with link support") is newer than
 * Debian 12's libbpf 1.1 and its 6.1 UAPI headers, so the values and attribute layouts this
 * module needs are spelled out here, taken from Linux's include/uapi/linux/bpf.h (6.6 to
 * 6.18; the layout is ABI and has not moved). The names carry a CHAIN_ prefix so that a newer
 * <linux/bpf.h>, where some are enum constants, cannot collide with them.
 */

/* enum bpf_attach_type: BPF_NETFILTER is 45, then BPF_TCX_INGRESS, BPF_TCX_EGRESS. */
#define CHAIN_BPF_TCX_INGRESS 46
#define CHAIN_BPF_TCX_EGRESS 47
/* enum bpf_link_type: BPF_LINK_TYPE_TCX = 11 (BPF_LINK_TYPE_XDP = 6 is in the 6.1 headers). */
#define CHAIN_BPF_LINK_TYPE_TCX 11

/* "Generic attachment flags" (BPF_F_REPLACE, 1 << 2, is in the 6.1 headers). */
#define CHAIN_BPF_F_BEFORE (1U << 3)
#define CHAIN_BPF_F_AFTER (1U << 4)
#define CHAIN_BPF_F_ID (1U << 5)
/* The anonymous enum of BPF_MAP_CREATE flags: BPF_F_LINK = (1U << 13), reused by mprog. */
#define CHAIN_BPF_F_LINK (1U << 13)

/* union bpf_attr, the BPF_LINK_CREATE struct with its tcx member (Linux 6.6+). */
struct chain_link_create_attr {
	uint32_t prog_fd;
	uint32_t target_ifindex;
	uint32_t attach_type;
	uint32_t flags;
	uint32_t relative_fd;		/* tcx: union { relative_fd; relative_id; } */
	uint32_t pad;
	uint64_t expected_revision;	/* tcx */
};
_Static_assert(offsetof(struct chain_link_create_attr, attach_type) == 8, "attach_type");
_Static_assert(offsetof(struct chain_link_create_attr, relative_fd) == 16, "tcx.relative_fd");
_Static_assert(offsetof(struct chain_link_create_attr, expected_revision) == 24,
	       "tcx.expected_revision");

/* union bpf_attr, the BPF_PROG_QUERY struct as Linux 6.6 grew it for mprog (tcx). */
struct chain_query_attr {
	uint32_t target_ifindex;	/* union { target_fd; target_ifindex; } */
	uint32_t attach_type;
	uint32_t query_flags;
	uint32_t attach_flags;
	uint64_t prog_ids;
	uint32_t count;			/* union { prog_cnt; count; }, in and out */
	uint32_t pad;			/* __u32 :32 */
	uint64_t prog_attach_flags;
	uint64_t link_ids;		/* 6.6 */
	uint64_t link_attach_flags;	/* 6.6 */
	uint64_t revision;		/* 6.6, out */
};
_Static_assert(offsetof(struct chain_query_attr, prog_ids) == 16, "query.prog_ids");
_Static_assert(offsetof(struct chain_query_attr, count) == 24, "query.count");
_Static_assert(offsetof(struct chain_query_attr, prog_attach_flags) == 32,
	       "query.prog_attach_flags");
_Static_assert(offsetof(struct chain_query_attr, link_ids) == 40, "query.link_ids");
_Static_assert(offsetof(struct chain_query_attr, link_attach_flags) == 48,
	       "query.link_attach_flags");
_Static_assert(offsetof(struct chain_query_attr, revision) == 56, "query.revision");
_Static_assert(sizeof(struct chain_query_attr) == 64, "query size");

/*
 * struct bpf_link_info up to the interface: its union starts at 16 for every kind of link;
 * xdp is { ifindex }, tcx (6.6) is { ifindex, attach_type }. A shorter info_len is fine.
 */
struct chain_link_info {
	uint32_t type;
	uint32_t id;
	uint32_t prog_id;
	uint32_t pad;
	uint32_t ifindex;
	uint32_t attach_type;
};
_Static_assert(offsetof(struct chain_link_info, ifindex) == offsetof(struct bpf_link_info,
								     xdp.ifindex), "link_info");

/* Values the 6.1 headers do have, checked so that the comments above stay true. */
_Static_assert(BPF_XDP == 37, "BPF_XDP");
_Static_assert(BPF_LINK_TYPE_XDP == 6, "BPF_LINK_TYPE_XDP");
_Static_assert(BPF_F_REPLACE == (1U << 2), "BPF_F_REPLACE");
_Static_assert(BPF_LINK_CREATE == 28 && BPF_PROG_QUERY == 16, "bpf_cmd");

#define BPF_FS BPK_BPF_FS
#define ROOT_LOG_SIZE 4096

static long sys_bpf(int cmd, void *attr, size_t size)
{
	return syscall(__NR_bpf, cmd, attr, (unsigned int)size);
}

const char *bpk_chain_hook__name(enum bpk_chain_hook hook)
{
	switch (hook) {
	case BPK_CHAIN_HOOK_XDP_INGRESS:
		return "xdp_ingress";
	case BPK_CHAIN_HOOK_TC_INGRESS:
		return "tc_ingress";
	case BPK_CHAIN_HOOK_TC_EGRESS:
		return "tc_egress";
	}
	return NULL;
}

static int tcx_attach_type(enum bpk_chain_hook hook, uint32_t *ret)
{
	switch (hook) {
	case BPK_CHAIN_HOOK_TC_INGRESS:
		*ret = CHAIN_BPF_TCX_INGRESS;
		return 0;
	case BPK_CHAIN_HOOK_TC_EGRESS:
		*ret = CHAIN_BPF_TCX_EGRESS;
		return 0;
	default:
		return -EINVAL;
	}
}

int bpk_tcx__probe(void)
{
	/* r0 = 0; exit */
	static const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct chain_link_create_attr attr = { .attach_type = CHAIN_BPF_TCX_INGRESS };
	int prog_fd, fd, err;

	prog_fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "bpk_tcx_probe", "Dual BSD/GPL", insns,
				ARRAY_SIZE(insns), NULL);
	if (prog_fd < 0)
		return prog_fd;
	attr.prog_fd = prog_fd;
	/* ifindex 0 names no interface: a kernel with TCX gets as far as looking it up. */
	fd = sys_bpf(BPF_LINK_CREATE, &attr, sizeof(attr));
	err = fd < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd); /* cannot happen; if it did, closing the link undoes it */
	close(prog_fd);
	if (!err || err == -ENODEV)
		return 0;
	return err == -EINVAL ? -EOPNOTSUPP : err;
}

int bpk_tcx__attach(int prog_fd, int ifindex, enum bpk_chain_hook hook,
		    const struct bpk_tcx_opts *opts, int *ret_link_fd)
{
	uint32_t flags = OPTS_GET(opts, flags, 0);
	int relative_fd = OPTS_GET(opts, relative_fd, 0);
	uint32_t relative_id = OPTS_GET(opts, relative_id, 0);
	struct chain_link_create_attr attr = {
		.prog_fd = (uint32_t)prog_fd,
		.target_ifindex = (uint32_t)ifindex,
		.expected_revision = OPTS_GET(opts, expected_revision, 0),
	};
	bool relative = relative_fd > 0 || relative_id;
	int fd, err;

	if (prog_fd < 0 || ifindex <= 0 || !ret_link_fd)
		return -EINVAL;
	err = tcx_attach_type(hook, &attr.attach_type);
	if (err)
		return err;
	if (flags & ~(uint32_t)(BPK_TCX_F_BEFORE | BPK_TCX_F_AFTER | BPK_TCX_F_LINK))
		return -EINVAL;
	/* One place, named one way: the kernel would guess otherwise. */
	if ((flags & BPK_TCX_F_BEFORE) && (flags & BPK_TCX_F_AFTER))
		return -EINVAL;
	if ((relative_fd > 0 && relative_id) || relative_fd < 0)
		return -EINVAL;
	if (relative && !(flags & (BPK_TCX_F_BEFORE | BPK_TCX_F_AFTER)))
		return -EINVAL;
	if ((flags & BPK_TCX_F_LINK) && !relative)
		return -EINVAL;
	if (flags & BPK_TCX_F_BEFORE)
		attr.flags |= CHAIN_BPF_F_BEFORE;
	if (flags & BPK_TCX_F_AFTER)
		attr.flags |= CHAIN_BPF_F_AFTER;
	if (flags & BPK_TCX_F_LINK)
		attr.flags |= CHAIN_BPF_F_LINK;
	if (relative_id) {
		attr.flags |= CHAIN_BPF_F_ID;
		attr.relative_fd = relative_id;
	} else {
		attr.relative_fd = (uint32_t)relative_fd;
	}
	fd = sys_bpf(BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0) {
		err = -errno;
		pr_debug("TCX link on ifindex %d (%s): %s\n", ifindex, bpk_chain_hook__name(hook),
			 strerror(-err));
		return err;
	}
	*ret_link_fd = fd;
	return 0;
}

int bpk_tcx__query(int ifindex, enum bpk_chain_hook hook, struct bpk_tcx_chain *ret_chain)
{
	struct bpk_tcx_chain chain = { 0 };
	struct chain_query_attr attr = {
		.target_ifindex = (uint32_t)ifindex,
		.prog_ids = (uint64_t)(uintptr_t)chain.prog_ids,
		.link_ids = (uint64_t)(uintptr_t)chain.link_ids,
		.count = BPK_TCX_MAX_PROGS,
	};
	int err;

	if (ifindex <= 0 || !ret_chain)
		return -EINVAL;
	err = tcx_attach_type(hook, &attr.attach_type);
	if (err)
		return err;
	if (sys_bpf(BPF_PROG_QUERY, &attr, sizeof(attr)) < 0) {
		err = -errno;
		/* A kernel without TCX knows no such attach type. */
		return err == -EINVAL ? -EOPNOTSUPP : err;
	}
	chain.revision = attr.revision;
	chain.cnt = attr.count < BPK_TCX_MAX_PROGS ? attr.count : BPK_TCX_MAX_PROGS;
	*ret_chain = chain;
	return 0;
}

int bpk_chain_link__update(int link_fd, int new_prog_fd, int expected_old_prog_fd)
{
	LIBBPF_OPTS(bpf_link_update_opts, opts);

	if (link_fd < 0 || new_prog_fd < 0)
		return -EINVAL;
	if (expected_old_prog_fd >= 0) {
		opts.flags = BPF_F_REPLACE;
		opts.old_prog_fd = (uint32_t)expected_old_prog_fd;
	}
	return bpf_link_update(link_fd, new_prog_fd, &opts) ? -errno : 0;
}

int bpk_chain_link__detach(int link_fd)
{
	if (link_fd < 0)
		return -EINVAL;
	return bpf_link_detach(link_fd) ? -errno : 0;
}

/*
 * Whether fd is a BPF link. The info of a program or map would be read as well and its first
 * word taken for a link type, so ask the file itself.
 */
static bool fd_is_link(int fd)
{
	char proc[64], target[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, target, sizeof(target) - 1);
	if (n < 0)
		return true; /* no /proc: let the kernel's answer stand */
	target[n] = '\0';
	/* BPF_LINK_CREATE names the file "bpf_link", BPF_OBJ_GET "bpf-link". */
	return strcmp(target, "anon_inode:bpf_link") == 0 ||
	       strcmp(target, "anon_inode:bpf-link") == 0;
}

int bpk_chain_link__info(int link_fd, struct bpk_chain_link_info *ret_info)
{
	struct chain_link_info info = { 0 };
	uint32_t len = sizeof(info);
	struct bpk_chain_link_info out = { 0 };

	if (link_fd < 0 || !ret_info)
		return -EINVAL;
	if (!fd_is_link(link_fd))
		return -EINVAL;
	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -errno;
	switch (info.type) {
	case BPF_LINK_TYPE_XDP:
		out.hook = BPK_CHAIN_HOOK_XDP_INGRESS;
		break;
	case CHAIN_BPF_LINK_TYPE_TCX:
		if (info.attach_type == CHAIN_BPF_TCX_INGRESS)
			out.hook = BPK_CHAIN_HOOK_TC_INGRESS;
		else if (info.attach_type == CHAIN_BPF_TCX_EGRESS)
			out.hook = BPK_CHAIN_HOOK_TC_EGRESS;
		else
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	out.link_id = info.id;
	out.prog_id = info.prog_id;
	out.ifindex = info.ifindex;
	*ret_info = out;
	return 0;
}

/* Pins live only on bpffs, which the machines bpk runs on may not mount at boot (§8). */
static int ensure_bpffs(const char *path)
{
	if (strcmp(path, BPF_FS) && !str_has_prefix(path, BPF_FS "/"))
		return 0;
	return bpk_bpffs_mount();
}

/* mkdir -p dir, which must be on bpffs. */
static int make_pin_dir(const char *dir)
{
	int err = ensure_bpffs(dir);

	if (!err)
		err = mkdir_p(dir, 0700);
	if (err) {
		pr_warn("cannot create '%s': %s\n", dir, strerror(-err));
		return err;
	}
	if (!bpk_path_on_bpffs(dir)) {
		pr_warn("'%s' is not on a bpf filesystem (mount -t bpf bpf DIR)\n", dir);
		return -ENOTSUP;
	}
	return 0;
}

int bpk_chain__pin(int fd, const char *path)
{
	_cleanup_free_ char *copy = NULL;
	int err;

	if (fd < 0 || !path || !*path)
		return -EINVAL;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	err = make_pin_dir(dirname(copy));
	if (err)
		return err;
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

int bpk_chain__open_pinned(const char *path, int *ret_fd)
{
	int fd;

	if (!path || !ret_fd)
		return -EINVAL;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

void bpk_xdp_root__init(struct bpk_xdp_root *root)
{
	root->prog_fd = -1;
	root->array_fd = -1;
	root->link_fd = -1;
}

void bpk_xdp_root__release(struct bpk_xdp_root *root)
{
	if (!root)
		return;
	if (root->link_fd >= 0)
		close(root->link_fd);
	if (root->prog_fd >= 0)
		close(root->prog_fd);
	if (root->array_fd >= 0)
		close(root->array_fd);
	bpk_xdp_root__init(root);
}

int bpk_xdp_root__create(const struct bpk_xdp_root_opts *opts, struct bpk_xdp_root *ret_root)
{
	_cleanup_free_ char *log = NULL;
	_cleanup_close_ int array_fd = -1;
	int prog_fd;

	if (!ret_root)
		return -EINVAL;
	array_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, BPK_XDP_ROOT_PIN_ARRAY, sizeof(uint32_t),
				  sizeof(uint32_t), 1, NULL);
	if (array_fd < 0)
		return -errno;

	/* bpf_tail_call(ctx, &xdp_root_array, 0); return XDP_PASS; -- ctx is still in r1. */
	const struct bpf_insn insns[] = {
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = array_fd },
		{ 0 }, /* the upper half of the 64-bit immediate */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	log = calloc(1, ROOT_LOG_SIZE);
	if (!log)
		return -ENOMEM;
	LIBBPF_OPTS(bpf_prog_load_opts, load_opts, .expected_attach_type = BPF_XDP,
		    .prog_flags = OPTS_GET(opts, frags, false) ? BPF_F_XDP_HAS_FRAGS : 0,
		    .log_buf = log, .log_size = ROOT_LOG_SIZE);
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, BPK_XDP_ROOT_PIN_PROG, "Dual BSD/GPL", insns,
				ARRAY_SIZE(insns), &load_opts);
	if (prog_fd < 0) {
		int err = -errno;

		pr_warn("the kernel refused the XDP root program: %s%s%s\n", strerror(-err),
			log[0] ? "; verifier log ends:\n" : "", log[0] ? bpk_log_tail(log, 8) : "");
		return err;
	}
	ret_root->prog_fd = prog_fd;
	ret_root->array_fd = TAKE_FD(array_fd);
	ret_root->link_fd = -1;
	return 0;
}

int bpk_xdp__attach(int prog_fd, int ifindex, const struct bpk_xdp_attach_opts *opts,
		    int *ret_link_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, link_opts, .flags = OPTS_GET(opts, xdp_flags, 0));
	int fd;

	if (prog_fd < 0 || ifindex <= 0 || !ret_link_fd)
		return -EINVAL;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &link_opts);
	if (fd < 0)
		return -errno;
	*ret_link_fd = fd;
	return 0;
}

int bpk_xdp_root__attach(struct bpk_xdp_root *root, int ifindex,
			 const struct bpk_xdp_attach_opts *opts)
{
	if (!root || root->prog_fd < 0 || ifindex <= 0)
		return -EINVAL;
	if (root->link_fd >= 0)
		return -EEXIST;
	return bpk_xdp__attach(root->prog_fd, ifindex, opts, &root->link_fd);
}

static const char *const root_pins[] = {
	BPK_XDP_ROOT_PIN_PROG,
	BPK_XDP_ROOT_PIN_ARRAY,
	BPK_XDP_ROOT_PIN_LINK,
};

int bpk_xdp_root__pin(const struct bpk_xdp_root *root, const char *dir)
{
	int fds[ARRAY_SIZE(root_pins)];
	size_t i, pinned;
	int err;

	if (!root || !dir || root->prog_fd < 0 || root->array_fd < 0)
		return -EINVAL;
	fds[0] = root->prog_fd;
	fds[1] = root->array_fd;
	fds[2] = root->link_fd;
	err = make_pin_dir(dir);
	if (err)
		return err;
	for (pinned = 0; pinned < ARRAY_SIZE(root_pins); pinned++) {
		_cleanup_free_ char *path = NULL;

		if (fds[pinned] < 0)
			break; /* not attached: no link to pin, and the link is last */
		path = path_join(dir, root_pins[pinned]);
		if (!path) {
			err = -ENOMEM;
			break;
		}
		if (bpf_obj_pin(fds[pinned], path)) {
			err = -errno;
			pr_warn("cannot pin '%s': %s\n", path, strerror(-err));
			break;
		}
	}
	if (!err)
		return 0;
	for (i = 0; i < pinned; i++) {
		_cleanup_free_ char *path = path_join(dir, root_pins[i]);

		if (path)
			unlink(path);
	}
	return err;
}

/* Whether the program prog_fd uses the map map_fd. */
static int prog_uses_map(int prog_fd, int map_fd)
{
	struct bpf_map_info map_info = { 0 };
	struct bpf_prog_info info = { 0 };
	uint32_t map_ids[8], len = sizeof(info), i;

	if (bpf_obj_get_info_by_fd(map_fd, &map_info, &(uint32_t){ sizeof(map_info) }))
		return -errno;
	info.nr_map_ids = ARRAY_SIZE(map_ids);
	info.map_ids = (uint64_t)(uintptr_t)map_ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	for (i = 0; i < info.nr_map_ids && i < ARRAY_SIZE(map_ids); i++)
		if (map_ids[i] == map_info.id)
			return 0;
	return -EINVAL;
}

/* Open the pins of dir into root (fds -1 before); the link may be missing. */
static int open_root_pins(const char *dir, struct bpk_xdp_root *root)
{
	_cleanup_free_ char *prog_path = path_join(dir, BPK_XDP_ROOT_PIN_PROG);
	_cleanup_free_ char *array_path = path_join(dir, BPK_XDP_ROOT_PIN_ARRAY);
	_cleanup_free_ char *link_path = path_join(dir, BPK_XDP_ROOT_PIN_LINK);
	int err;

	if (!prog_path || !array_path || !link_path)
		return -ENOMEM;
	err = bpk_chain__open_pinned(prog_path, &root->prog_fd);
	if (!err)
		err = bpk_chain__open_pinned(array_path, &root->array_fd);
	if (!err) {
		err = bpk_chain__open_pinned(link_path, &root->link_fd);
		if (err == -ENOENT)
			err = 0; /* pinned before it was attached */
	}
	return err;
}

/* Whether the pins of a root belong together: the program runs the array, the link the program. */
static int check_root(const struct bpk_xdp_root *root, const char *dir)
{
	struct bpf_prog_info info = { 0 };
	struct bpk_chain_link_info link;
	uint32_t len = sizeof(info);
	int err;

	err = prog_uses_map(root->prog_fd, root->array_fd);
	if (err) {
		pr_warn("'%s': the root program does not use the pinned array\n", dir);
		return err;
	}
	if (root->link_fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(root->prog_fd, &info, &len))
		return -errno;
	err = bpk_chain_link__info(root->link_fd, &link);
	if (err)
		return err;
	if (link.hook != BPK_CHAIN_HOOK_XDP_INGRESS || link.prog_id != info.id) {
		pr_warn("'%s': the pinned link does not run the root program\n", dir);
		return -EINVAL;
	}
	return 0;
}

int bpk_xdp_root__open_pinned(const char *dir, struct bpk_xdp_root *ret_root)
{
	struct bpk_xdp_root root;
	int err;

	if (!dir || !ret_root)
		return -EINVAL;
	bpk_xdp_root__init(&root);
	err = open_root_pins(dir, &root);
	if (!err)
		err = check_root(&root, dir);
	if (err) {
		bpk_xdp_root__release(&root);
		return err;
	}
	*ret_root = root;
	return 0;
}

int bpk_xdp_root__unpin(const char *dir)
{
	size_t i;
	int err = 0;

	if (!dir)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(root_pins); i++) {
		_cleanup_free_ char *path = path_join(dir, root_pins[i]);

		if (!path)
			return -ENOMEM;
		if (unlink(path) < 0 && errno != ENOENT && !err)
			err = -errno;
	}
	if (!err && rmdir(dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		err = -errno;
	return err;
}

int bpk_prog_array__set(int array_fd, uint32_t key, int prog_fd)
{
	uint32_t value = (uint32_t)prog_fd;

	if (array_fd < 0 || prog_fd < 0)
		return -EINVAL;
	return bpf_map_update_elem(array_fd, &key, &value, BPF_ANY) ? -errno : 0;
}

int bpk_prog_array__clear(int array_fd, uint32_t key)
{
	if (array_fd < 0)
		return -EINVAL;
	if (bpf_map_delete_elem(array_fd, &key))
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

int bpk_prog_array__get(int array_fd, uint32_t key, uint32_t *ret_prog_id)
{
	uint32_t id;

	if (array_fd < 0 || !ret_prog_id)
		return -EINVAL;
	/* From user space a program array answers the id of the program in the slot. */
	if (bpf_map_lookup_elem(array_fd, &key, &id))
		return -errno;
	*ret_prog_id = id;
	return 0;
}

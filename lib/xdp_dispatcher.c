// SPDX-License-Identifier: BSD-2-Clause
/* libxdp's multi-program XDP dispatcher, behind a probe of the freplace support it relies on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/btf.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "bpk_internal.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's internal "not supported", seen by user space as is */
#endif

#define PROBE_LOG_SIZE 4096

static const char *errno_name(int err, char *buf, size_t buf_sz)
{
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	if (err == ENOTSUPP)
		return "ENOTSUPP";
	snprintf(buf, buf_sz, "error %d", err);
	return buf;
}

__attribute__((format(printf, 3, 4))) static void set_reason(char *reason, size_t reason_sz,
							       const char *fmt, ...)
{
	va_list ap;

	if (!reason || !reason_sz)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, reason_sz, fmt, ap);
	va_end(ap);
}

/*
 * The BTF libxdp's dispatcher slots have, "int f(struct xdp_md *ctx)": the kernel matches an
 * EXT program's prototype against its target's, and resolves the pointer to the context by
 * the struct's name. Returns the id of the function, or a negative errno.
 */
static int probe_btf_add(struct btf *btf)
{
	static const char *const members[] = { "data", "data_end", "data_meta",
					       "ingress_ifindex", "rx_queue_index",
					       "egress_ifindex" };
	int int_id, u32_id, ctx_id, ptr_id, proto_id, err;
	size_t i;

	int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	u32_id = btf__add_int(btf, "__u32", 4, 0);
	if (int_id < 0 || u32_id < 0)
		return int_id < 0 ? int_id : u32_id;
	ctx_id = btf__add_struct(btf, "xdp_md", 4 * ARRAY_SIZE(members));
	if (ctx_id < 0)
		return ctx_id;
	for (i = 0; i < ARRAY_SIZE(members); i++) {
		err = btf__add_field(btf, members[i], u32_id, 32 * i, 0);
		if (err)
			return err;
	}
	ptr_id = btf__add_ptr(btf, ctx_id);
	proto_id = ptr_id < 0 ? ptr_id : btf__add_func_proto(btf, int_id);
	if (proto_id < 0)
		return proto_id;
	err = btf__add_func_param(btf, "ctx", ptr_id);
	if (err)
		return err;
	return btf__add_func(btf, "bpk_probe", BTF_FUNC_GLOBAL, proto_id);
}

/* The probe's steps, with what each failure means for the dispatcher. */
static int probe_run(char *reason, size_t reason_sz)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpf_func_info func_info = { .insn_off = 0 };
	char log[PROBE_LOG_SIZE] = "", name_buf[32];
	int func_id, xdp_fd = -1, ext_fd = -1, link_fd = -1, err;
	LIBBPF_OPTS(bpf_prog_load_opts, xdp_opts, .func_info = &func_info, .func_info_cnt = 1,
		    .func_info_rec_size = sizeof(func_info));
	LIBBPF_OPTS(bpf_prog_load_opts, ext_opts, .func_info = &func_info, .func_info_cnt = 1,
		    .func_info_rec_size = sizeof(func_info), .log_buf = log,
		    .log_size = sizeof(log), .log_level = 1);
	struct btf *btf;

	btf = btf__new_empty();
	if (!btf) {
		err = -errno;
		set_reason(reason, reason_sz, "cannot build the probe's BTF: %s",
			   errno_name(-err, name_buf, sizeof(name_buf)));
		return err;
	}
	func_id = probe_btf_add(btf);
	if (func_id < 0) {
		err = func_id;
		set_reason(reason, reason_sz, "cannot build the probe's BTF: %s",
			   errno_name(-err, name_buf, sizeof(name_buf)));
		goto out;
	}
	err = btf__load_into_kernel(btf);
	if (err) {
		set_reason(reason, reason_sz,
			   err == -EPERM ?
				   "the kernel refuses to load BTF (bpk needs root, or CAP_BPF): %s" :
				   "the kernel refuses BTF, which freplace programs and their targets need: %s",
			   errno_name(-err, name_buf, sizeof(name_buf)));
		goto out;
	}
	func_info.type_id = func_id;
	xdp_opts.prog_btf_fd = ext_opts.prog_btf_fd = btf__fd(btf);
	xdp_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bpk_probe_xdp", "GPL", insns,
			       ARRAY_SIZE(insns), &xdp_opts);
	if (xdp_fd < 0) {
		err = -errno;
		set_reason(reason, reason_sz,
			   err == -EPERM ?
				   "the kernel refuses to load an XDP program (bpk needs root, or CAP_BPF and CAP_NET_ADMIN): %s" :
				   "the kernel refuses an XDP program with BTF function information: %s",
			   errno_name(-err, name_buf, sizeof(name_buf)));
		goto out;
	}

	/* What libxdp does for each slot: an EXT program whose target is a dispatcher function. */
	ext_opts.attach_prog_fd = xdp_fd;
	ext_opts.attach_btf_id = func_id;
	ext_fd = bpf_prog_load(BPF_PROG_TYPE_EXT, "bpk_probe_ext", "GPL", insns, ARRAY_SIZE(insns),
			       &ext_opts);
	if (ext_fd < 0) {
		err = -errno;
		if (log[0])
			pr_debug("xdp dispatcher: probe: the verifier said: %s\n", bpk_log_tail(log, 3));
		set_reason(reason, reason_sz,
			   err == -EPERM ?
				   "the kernel refuses BPF_PROG_TYPE_EXT (freplace) programs: %s" :
				   "the kernel does not load a BPF_PROG_TYPE_EXT (freplace) program: %s",
			   errno_name(-err, name_buf, sizeof(name_buf)));
		goto out;
	}

	/*
	 * Loading is not all: the dispatcher runs a slot only once the EXT program is linked. No
	 * target and no attach type: the kernel links an EXT program to the one it was loaded for.
	 * Kernels before 5.10 link it only through BPF_RAW_TRACEPOINT_OPEN, as libxdp knows.
	 */
	link_fd = bpf_link_create(ext_fd, 0, 0, NULL);
	if (link_fd < 0 && errno == EINVAL)
		link_fd = bpf_raw_tracepoint_open(NULL, ext_fd);
	if (link_fd < 0) {
		err = -errno;
		set_reason(reason, reason_sz,
			   "the kernel loads BPF_PROG_TYPE_EXT (freplace) programs but does not link one to its target: %s",
			   errno_name(-err, name_buf, sizeof(name_buf)));
		goto out;
	}
	err = 0;
	set_reason(reason, reason_sz,
		   "the kernel loads and links BPF_PROG_TYPE_EXT (freplace) programs");
out:
	if (link_fd >= 0)
		close(link_fd);
	if (ext_fd >= 0)
		close(ext_fd);
	if (xdp_fd >= 0)
		close(xdp_fd);
	btf__free(btf);
	return err;
}

int bpk_xdp_dispatcher__probe(char *reason, size_t reason_sz)
{
	libbpf_print_fn_t previous;
	int err;

	/* libbpf prints the kernel's BTF log when BTF is refused: that is the probe's answer. */
	previous = bpk_libbpf_print_begin(bpk_libbpf_print_debug);
	err = probe_run(reason, reason_sz);
	bpk_libbpf_print_end(previous);
	if (err && reason && reason_sz)
		pr_debug("xdp dispatcher: probe: %s\n", reason);
	return err;
}

__attribute__((format(printf, 2, 0))) static int libxdp_print_forward(enum libxdp_print_level level,
									const char *fmt, va_list ap)
{
	bpk_vprint(level == LIBXDP_WARN ? BPK_WARN :
		   level == LIBXDP_INFO ? BPK_INFO : BPK_DEBUG, fmt, ap);
	return 0;
}

/*
 * libxdp has one process-wide print callback, like libbpf. Redirecting both under bpk's libbpf
 * lock keeps libbpk's own calls from undoing each other's redirection.
 */
struct print_saved {
	libbpf_print_fn_t libbpf;
	libxdp_print_fn_t libxdp;
};

static void print_begin(struct print_saved *saved)
{
	saved->libbpf = bpk_libbpf_print_begin(bpk_libbpf_print_debug);
	saved->libxdp = libxdp_set_print(libxdp_print_forward);
}

static void print_end(const struct print_saved *saved)
{
	libxdp_set_print(saved->libxdp);
	bpk_libbpf_print_end(saved->libbpf);
}

/* libxdp returns either an error pointer or NULL with errno, depending on its build. */
static int libxdp_ptr_err(const void *ptr)
{
	long err = libxdp_get_error(ptr);

	if (err)
		return (int)err;
	return ptr ? 0 : -ENOENT;
}

/*
 * What runs on ifindex: *ret_cnt programs in a dispatcher (0 when nothing is attached), with
 * *ret_legacy when it is a single program that is not a dispatcher, *ret_main_id its id.
 */
static int dispatcher_query(int ifindex, int *ret_cnt, bool *ret_legacy, uint32_t *ret_main_id)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	int err = libxdp_ptr_err(mp);

	*ret_cnt = 0;
	*ret_legacy = false;
	*ret_main_id = 0;
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	*ret_legacy = xdp_multiprog__is_legacy(mp);
	*ret_main_id = xdp_program__id(xdp_multiprog__main_prog(mp));
	*ret_cnt = *ret_legacy ? 0 : xdp_multiprog__program_count(mp);
	xdp_multiprog__close(mp);
	return 0;
}

/* Undo libxdp's fallback: the single program it attached, found by id, and nothing else. */
static void detach_fallback(int ifindex, uint32_t prog_id)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	int err;

	if (libxdp_ptr_err(mp))
		return;
	if (xdp_multiprog__is_legacy(mp) &&
	    xdp_program__id(xdp_multiprog__main_prog(mp)) == prog_id) {
		err = xdp_multiprog__detach(mp);
		if (err)
			pr_warn("xdp dispatcher: cannot detach the program libxdp attached on ifindex %d without a dispatcher: %s\n",
				ifindex, strerror(-err));
	}
	xdp_multiprog__close(mp);
}

static int check_progs(const struct bpk_xdp_dispatcher_prog *progs, size_t cnt)
{
	size_t i, j;

	if (cnt > BPK_XDP_DISPATCHER_MAX_PROGS) {
		pr_warn("xdp dispatcher: %zu programs, one dispatcher holds %d at most\n", cnt,
			BPK_XDP_DISPATCHER_MAX_PROGS);
		return -E2BIG;
	}
	for (i = 0; i < cnt; i++) {
		if (!progs[i].obj) {
			pr_warn("xdp dispatcher: program %zu has no object\n", i);
			return -EINVAL;
		}
		/* libxdp loads an object once: its second program would be XDP, not EXT. */
		for (j = 0; j < i; j++) {
			if (progs[j].obj == progs[i].obj) {
				pr_warn("xdp dispatcher: programs %zu and %zu share one object; each needs its own\n",
					j, i);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int attach_locked(const struct bpk_xdp_dispatcher_prog *progs, size_t cnt, int ifindex,
			 enum xdp_attach_mode mode)
{
	struct xdp_program *xdp_progs[BPK_XDP_DISPATCHER_MAX_PROGS] = { NULL };
	int before, after, err;
	uint32_t main_id;
	bool legacy;
	size_t i;

	err = dispatcher_query(ifindex, &before, &legacy, &main_id);
	if (err) {
		pr_warn("xdp dispatcher: cannot query ifindex %d: %s\n", ifindex, strerror(-err));
		return err;
	}
	if (legacy) {
		/* libxdp would replace it with a dispatcher; it is not bpk's to replace. */
		pr_warn("xdp dispatcher: ifindex %d runs XDP program %u, which is not a dispatcher\n",
			ifindex, main_id);
		return -EEXIST;
	}

	for (i = 0; i < cnt; i++) {
		DECLARE_LIBXDP_OPTS(xdp_program_opts, xdp_opts, .obj = progs[i].obj,
				    .prog_name = progs[i].prog_name);

		xdp_progs[i] = xdp_program__create(&xdp_opts);
		err = libxdp_ptr_err(xdp_progs[i]);
		if (err) {
			xdp_progs[i] = NULL;
			pr_warn("xdp dispatcher: no program '%s' in object %zu: %s\n",
				progs[i].prog_name ?: "(first)", i, strerror(-err));
			goto out;
		}
		if (progs[i].run_prio) {
			err = xdp_program__set_run_prio(xdp_progs[i], progs[i].run_prio);
			if (err)
				goto out;
		}
	}

	err = xdp_program__attach_multi(xdp_progs, cnt, ifindex, mode, 0);
	if (err) {
		pr_warn("xdp dispatcher: libxdp cannot attach %zu programs to ifindex %d: %s\n", cnt,
			ifindex, strerror(-err));
		goto out;
	}

	/* libxdp attaches one program alone when its dispatcher fails: bpk wants no surprise. */
	err = dispatcher_query(ifindex, &after, &legacy, &main_id);
	if (!err && (legacy || after != before + (int)cnt)) {
		pr_warn("xdp dispatcher: libxdp attached %s on ifindex %d, not a dispatcher of %zu programs\n",
			legacy ? "a single program" : "something else", ifindex, before + cnt);
		if (legacy)
			detach_fallback(ifindex, xdp_program__id(xdp_progs[0]));
		err = -EOPNOTSUPP;
	}
out:
	for (i = 0; i < cnt; i++)
		xdp_program__close(xdp_progs[i]);
	return err;
}

int bpk_xdp_dispatcher__attach(const struct bpk_xdp_dispatcher_prog *progs, size_t cnt,
			       int ifindex, const struct bpk_xdp_dispatcher_opts *opts)
{
	unsigned int flags = OPTS_GET(opts, flags, 0);
	struct print_saved saved;
	char reason[256];
	int err;

	if (!progs || !cnt || ifindex <= 0 || (flags & ~BPK_XDP_DISPATCHER_F_SKB))
		return -EINVAL;
	err = check_progs(progs, cnt);
	if (err)
		return err;

	/* Refuse here rather than let libxdp fall back to a single program without saying so. */
	err = bpk_xdp_dispatcher__probe(reason, sizeof(reason));
	if (err) {
		pr_warn("xdp dispatcher: not available: %s\n", reason);
		return -EOPNOTSUPP;
	}
	/* libxdp pins the dispatcher and its links there (DESIGN.md §8: not mounted at boot). */
	err = bpk_bpffs_mount();
	if (err) {
		pr_warn("xdp dispatcher: cannot mount bpffs on %s: %s\n", BPK_BPF_FS, strerror(-err));
		return err;
	}

	print_begin(&saved);
	err = attach_locked(progs, cnt, ifindex,
			    flags & BPK_XDP_DISPATCHER_F_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE);
	print_end(&saved);
	return err;
}

int bpk_xdp_dispatcher__detach(int ifindex)
{
	struct xdp_multiprog *mp;
	struct print_saved saved;
	int err;

	if (ifindex <= 0)
		return -EINVAL;

	print_begin(&saved);
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_ptr_err(mp);
	if (err) {
		mp = NULL;
	} else if (xdp_multiprog__is_legacy(mp)) {
		pr_debug("xdp dispatcher: ifindex %d runs a program that is not a dispatcher; left alone\n",
			 ifindex);
		err = -ENOENT;
	} else {
		err = xdp_multiprog__detach(mp);
	}
	xdp_multiprog__close(mp);
	print_end(&saved);
	return err;
}

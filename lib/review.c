// SPDX-License-Identifier: BSD-2-Clause
/* The publish-time review: every program through the verifier, every test vector run, one record. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <bpk/pkg.h>
#include <bpk/review.h>
#include <bpk/testrun.h>

#include "bpk_internal.h"

#define LOG_SIZE (256U << 10)

const char *bpk_review_status__str(enum bpk_review_status status)
{
	static const char *const names[] = {
		[BPK_REVIEW_VERIFIED] = "verified",
		[BPK_REVIEW_FAILED] = "failed",
		[BPK_REVIEW_NOT_VERIFIED] = "not verified here",
	};

	return status < ARRAY_SIZE(names) ? names[status] : "unknown";
}

/*
 * Load program index idx of the object alone. Returns 1 when it loaded, 0 when the kernel
 * refused it (*ret_error says why), -EPERM when this process may not load programs at all.
 */
static int load_one(const char *path, const void *data, size_t len, size_t idx, char *log,
		    uint32_t *ret_insns, char **ret_name, char **ret_error)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = path, .kernel_log_buf = log,
		    .kernel_log_size = LOG_SIZE, .kernel_log_level = 1);
	struct bpf_prog_info info = { 0 };
	uint32_t info_len = sizeof(info);
	struct bpf_program *prog, *p;
	struct bpf_object *obj;
	size_t i = 0;
	int ret, err;

	log[0] = '\0';
	obj = bpf_object__open_mem(data, len, &open_opts);
	if (!obj) {
		*ret_error = xasprintf("libbpf cannot open '%s': %s", path, strerror(errno));
		return 0;
	}
	prog = NULL;
	bpf_object__for_each_program(p, obj) {
		bpf_program__set_autoload(p, i == idx);
		if (i++ == idx)
			prog = p;
	}
	if (!prog) {
		bpf_object__close(obj);
		return -ENOENT;
	}
	*ret_name = strdup(bpf_program__name(prog));
	if (bpf_object__load(obj)) {
		err = errno;
		/*
		 * EPERM with an empty log: not allowed to load at all. The verifier's own
		 * refusals are EACCES or EINVAL, with a log saying why.
		 */
		if (err == EPERM && !log[0]) {
			ret = -EPERM;
		} else {
			*ret_error = xasprintf("the verifier refused it (%s): %s", strerror(err),
					       bpk_log_tail(log, 6));
			ret = 0;
		}
	} else {
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &info_len))
			*ret_insns = info.verified_insns;
		ret = 1;
	}
	bpf_object__close(obj);
	return ret;
}

static size_t program_count(const char *path, const void *data, size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = path);
	struct bpf_object *obj = bpf_object__open_mem(data, len, &open_opts);
	struct bpf_program *p;
	size_t n = 0;

	bpf_object__for_each_program(p, obj)
		n++;
	bpf_object__close(obj);
	return n;
}

static char *kernel_name(void)
{
	struct utsname u;

	if (uname(&u))
		return strdup("Linux");
	return xasprintf("%s %s %s", u.sysname, u.release, u.machine);
}

int bpk_review__pkg(const struct bpk_pkg *pkg, const struct bpk_review_opts *opts,
		    enum bpk_review_status *ret_status, char **ret_json)
{
	_cleanup_free_ char *log = malloc(LOG_SIZE), *kernel = kernel_name();
	_cleanup_json_ json_t *root = NULL;
	json_t *programs = json_array();
	struct bpk_test_report *report = NULL;
	enum bpk_review_status status = BPK_REVIEW_VERIFIED;
	libbpf_print_fn_t old_print;
	size_t loaded = 0, total = 0;
	_cleanup_free_ char *summary = NULL;
	int err = 0;

	if (!log || !kernel || !programs) {
		json_decref(programs);
		return -ENOMEM;
	}
	old_print = bpk_libbpf_print_begin(bpk_libbpf_print_debug);
	for (size_t e = 0; !err && e < bpk_pkg__entry_cnt(pkg); e++) {
		const void *data;
		size_t len, n;
		const char *path = bpk_pkg__entry(pkg, e, &data, &len);

		if (!bpk_path_is_object(path))
			continue;
		n = program_count(path, data, len);
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *name = NULL, *why = NULL;
			uint32_t insns = 0;
			int ret = load_one(path, data, len, i, log, &insns, &name, &why);

			if (ret == -EPERM) {
				status = BPK_REVIEW_NOT_VERIFIED;
				break;
			}
			if (ret < 0)
				continue;
			total++;
			loaded += ret == 1;
			if (ret == 0)
				status = BPK_REVIEW_FAILED;
			if (json_array_append_new(programs,
						  json_pack("{s:s, s:s, s:b, s:I, s:s?}", "name",
							    name ?: "", "object", path, "loaded",
							    ret == 1, "verified_insns",
							    (json_int_t)insns, "error", why)))
				err = -ENOMEM;
		}
		if (status == BPK_REVIEW_NOT_VERIFIED)
			break;
	}
	bpk_libbpf_print_end(old_print);
	if (err) {
		json_decref(programs);
		return err;
	}

	if (status == BPK_REVIEW_NOT_VERIFIED) {
		summary = xasprintf("not verified here: %s may not load BPF programs",
				    kernel);
	} else {
		if (!OPTS_GET(opts, skip_tests, false)) {
			err = bpk_test__pkg(pkg, NULL, &report);
			if (err && err != -ENOENT) {
				json_decref(programs);
				return err;
			}
		}
		if (report && report->failed)
			status = BPK_REVIEW_FAILED;
		if (status == BPK_REVIEW_FAILED)
			summary = xasprintf("failed on %s: %zu/%zu programs loaded, %zu/%zu cases passed",
					    kernel, loaded, total, report ? report->passed : 0,
					    report ? report->cnt : 0);
		else if (report)
			summary = xasprintf("verified and tested on %s: %zu/%zu cases%s", kernel,
					    report->passed, report->cnt,
					    report->skipped ? " (some skipped)" : "");
		else
			summary = xasprintf("verified on %s: %zu program%s; no test vectors", kernel,
					    total, total == 1 ? "" : "s");
	}
	root = json_pack("{s:s, s:s, s:s?, s:o, s:{s:I, s:I, s:I, s:I}}", "status",
			 bpk_review_status__str(status), "kernel", kernel, "summary", summary,
			 "programs", programs, "tests", "passed",
			 (json_int_t)(report ? report->passed : 0), "failed",
			 (json_int_t)(report ? report->failed : 0), "skipped",
			 (json_int_t)(report ? report->skipped : 0), "total",
			 (json_int_t)(report ? report->cnt : 0));
	bpk_test_report__free(report);
	if (!root)
		return -ENOMEM;
	*ret_json = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!*ret_json)
		return -ENOMEM;
	*ret_status = status;
	return 0;
}

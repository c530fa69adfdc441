// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for bpk check: each check fails on a package or object built to break it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test-util.h"

#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"

static char *read_object(const char *object, size_t *ret_len)
{
	char *src = xasprintf("%s/%s.o", test_bpf_dir(), object), *data;

	assert_int_equal(read_file(src, 64 << 20, &data, ret_len), 0);
	free(src);
	return data;
}

static bool have_btf(void)
{
	return access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}

/* A packed package of one test object with the given "requires" JSON, opened. */
static struct bpk_pkg *make_pkg(const char *object, const char *requires)
{
	char *dir = test_temp_dir("test-check"), *manifest, *data, *rel, *out;
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_pkg *pkg;
	size_t len;

	manifest = xasprintf(
	    "{\"bpk\": 1, \"name\": \"t\", \"version\": \"1.0.0\", \"description\": \"d\","
	    " \"license\": \"GPL-2.0-only\", \"authors\": [\"a\"], \"platforms\": [\"linux\"],"
	    " \"source\": {\"url\": \"https://example.com/t.git\"}, \"requires\": %s}",
	    requires);
	test_put(dir, "bpk.json", manifest, strlen(manifest));
	test_put(dir, "README.md",
	    "# t\n\nA package for the check unit test, long enough to explain itself.\n",
	    strlen("# t\n\nA package for the check unit test, long enough to explain itself.\n"));
	data = read_object(object, &len);
	rel = xasprintf("bpf/%s.o", object);
	test_put(dir, rel, data, len);
	out = path_join(dir, "t.bpk");
	BPK_OPTS(bpk_pack_opts, popts, .output = out);
	if (bpk_pack__dir(dir, &popts, &diags, NULL)) {
		const struct bpk_diag *d = bpk_diags__first_error(&diags);

		fail_msg("pack: %s", d ? d->message : "failed");
	}
	pkg = bpk_pkg__open(out, NULL, &diags);
	assert_non_null(pkg);
	bpk_diags__release(&diags);
	test_rm_rf(dir);
	free(dir);
	free(out);
	free(rel);
	free(data);
	free(manifest);
	return pkg;
}

static bool root(void)
{
	if (geteuid() == 0)
		return true;
	print_message("skipped: asking the kernel about helpers and loading needs root\n");
	return false;
}

static void test_supported_package(void **state)
{
	struct bpk_check_result *res = NULL;
	struct utsname u;
	struct bpk_pkg *pkg;
	char *req, *json;
	int i;

	assert_int_equal(uname(&u), 0);
	req = xasprintf("{\"kernel\": \">=5.15\", \"arch\": [\"%s\"]}", u.machine);
	pkg = make_pkg("xdp_counter", req);
	assert_int_equal(bpk_check__pkg(pkg, NULL, &res), 0);
	assert_true(res->ok);
	assert_null(bpk_check_result__reason(res));
	assert_string_equal(res->package, "t");
	assert_string_equal(res->release, u.release);
	assert_int_equal(res->prog_cnt, 1);
	assert_string_equal(res->progs[0].name, "xdp_count");
	assert_string_equal(res->progs[0].object, "bpf/xdp_counter.o");
	assert_int_equal(res->progs[0].failed, -1);
	for (i = 0; i < BPK_CHECK_CNT; i++)
		assert_int_not_equal(res->progs[0].items[i].status, BPK_CHECK_FAIL);
	assert_int_equal(res->progs[0].items[BPK_CHECK_KERNEL].status, BPK_CHECK_PASS);
	assert_int_equal(res->progs[0].items[BPK_CHECK_ARCH].status, BPK_CHECK_PASS);
	if (geteuid() == 0) {
		assert_true(res->probed);
		assert_int_equal(res->progs[0].items[BPK_CHECK_HELPERS].status, BPK_CHECK_PASS);
		assert_int_equal(res->progs[0].items[BPK_CHECK_LOAD].status, BPK_CHECK_PASS);
	}
	json = bpk_check_result__to_json(res);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"ok\": true"));
	assert_non_null(strstr(json, "\"kernel\": {\n"));
	free(json);
	bpk_check_result__free(res);
	bpk_pkg__free(pkg);
	free(req);
}

static void test_kernel_too_old(void **state)
{
	struct bpk_check_result *res = NULL;
	struct bpk_pkg *pkg = make_pkg("xdp_counter", "{\"kernel\": \">=99.0\"}");
	struct utsname u;
	char *json;

	assert_int_equal(uname(&u), 0);
	assert_int_equal(bpk_check__pkg(pkg, NULL, &res), 0);
	assert_false(res->ok);
	assert_int_equal(res->progs[0].failed, BPK_CHECK_KERNEL);
	assert_non_null(strstr(res->progs[0].reason, u.release));
	assert_non_null(strstr(res->progs[0].reason, ">=99.0"));
	assert_non_null(strstr(bpk_check_result__reason(res),
			       "program 'xdp_count' (bpf/xdp_counter.o): kernel"));
	json = bpk_check_result__to_json(res);
	assert_non_null(strstr(json, "\"ok\": false"));
	assert_non_null(strstr(json, "\"failed\": \"kernel\""));
	free(json);
	bpk_check_result__free(res);

	/* The release judged by can be given: an older one fails a requirement this one meets. */
	bpk_pkg__free(pkg);
	pkg = make_pkg("xdp_counter", "{\"kernel\": \">=5.15\"}");
	BPK_OPTS(bpk_check_opts, opts, .release = "5.10.0-21-amd64", .flags = BPK_CHECK_F_NO_LOAD);
	assert_int_equal(bpk_check__pkg(pkg, &opts, &res), 0);
	assert_false(res->ok);
	assert_string_equal(res->progs[0].reason,
			    "kernel 5.10.0-21-amd64 does not satisfy requires.kernel '>=5.15'");
	bpk_check_result__free(res);
	bpk_pkg__free(pkg);
}

static void test_arch(void **state)
{
	struct bpk_check_result *res = NULL;
	struct bpk_pkg *pkg = make_pkg("xdp_counter", "{\"arch\": [\"s390x\", \"aarch64\"]}");

	BPK_OPTS(bpk_check_opts, opts, .machine = "x86_64", .flags = BPK_CHECK_F_NO_LOAD);
	assert_int_equal(bpk_check__pkg(pkg, &opts, &res), 0);
	assert_false(res->ok);
	assert_int_equal(res->progs[0].failed, BPK_CHECK_ARCH);
	assert_string_equal(res->progs[0].reason,
			    "this machine is x86_64, but requires.arch lists only s390x, aarch64");
	bpk_check_result__free(res);
	bpk_pkg__free(pkg);
}

static void test_missing_kfunc(void **state)
{
	struct bpk_check_result *res = NULL;
	struct bpk_error error = BPK_ERROR_INIT;
	size_t len;
	char *data;

	if (!have_btf()) {
		print_message("skipped: needs /sys/kernel/btf/vmlinux\n");
		skip();
	}
	data = read_object("check_kfunc_missing", &len);
	assert_int_equal(bpk_check__object(data, len, "check_kfunc_missing.o", NULL, NULL, &res),
			 0);
	assert_false(res->ok);
	assert_int_equal(res->prog_cnt, 1);
	assert_int_equal(res->progs[0].failed, BPK_CHECK_KFUNCS);
	assert_non_null(strstr(res->progs[0].reason, "'bpk_no_such_kfunc'"));
	/* The first failure decides; the trial load is not tried after it. */
	assert_int_equal(res->progs[0].items[BPK_CHECK_LOAD].status, BPK_CHECK_SKIP);
	bpk_check_result__free(res);

	/* What a loader (bpkd) calls before it loads the program. */
	assert_int_equal(
	    bpk_check__before_load(data, len, NULL, "xdp_missing_kfunc", "eth0.stage", &error),
	    -EOPNOTSUPP);
	assert_non_null(strstr(
	    error.message,
	    "eth0.stage: program 'xdp_missing_kfunc' cannot run here: kfunc 'bpk_no_such_kfunc'"));
	bpk_error__release(&error);
	free(data);

	/* Without kernel BTF the kfunc cannot be found, and the check says BTF is the reason. */
	data = read_object("check_kfunc_missing", &len);
	BPK_OPTS(bpk_check_opts, opts, .btf_path = "/nonexistent/vmlinux");
	assert_int_equal(bpk_check__object(data, len, "x.o", NULL, &opts, &res), 0);
	assert_int_equal(res->progs[0].failed, BPK_CHECK_BTF);
	assert_false(res->btf);
	assert_non_null(strstr(res->progs[0].reason, "bpk_no_such_kfunc"));
	bpk_check_result__free(res);
	free(data);
}

static void test_helper_not_allowed(void **state)
{
	struct bpk_check_result *res = NULL;
	size_t len;
	char *data;

	if (!root())
		skip();
	data = read_object("check_bad_helper", &len);
	assert_int_equal(bpk_check__object(data, len, "check_bad_helper.o", NULL, NULL, &res), 0);
	assert_false(res->ok);
	assert_int_equal(res->progs[0].failed, BPK_CHECK_HELPERS);
	assert_string_equal(
	    res->progs[0].reason,
	    "helper bpf_xdp_adjust_head is not available to sched_cls programs on this kernel");
	bpk_check_result__free(res);
	free(data);
}

static void test_core_unresolved(void **state)
{
	struct bpk_check_result *res = NULL;
	size_t len;
	char *data;

	if (!root() || !have_btf())
		skip();
	data = read_object("check_core_missing", &len);
	assert_int_equal(bpk_check__object(data, len, "check_core_missing.o", NULL, NULL, &res), 0);
	assert_false(res->ok);
	assert_int_equal(res->progs[0].failed, BPK_CHECK_CORE);
	assert_non_null(strstr(res->progs[0].reason, "bpk_no_such_field"));
	bpk_check_result__free(res);

	/* Without the trial load nothing else stands in its way. */
	BPK_OPTS(bpk_check_opts, opts, .flags = BPK_CHECK_F_NO_LOAD);
	assert_int_equal(bpk_check__object(data, len, "check_core_missing.o", NULL, &opts, &res),
			 0);
	assert_true(res->ok);
	assert_int_equal(res->progs[0].items[BPK_CHECK_CORE].status, BPK_CHECK_SKIP);
	bpk_check_result__free(res);
	free(data);
}

static void test_verifier_and_filters(void **state)
{
	struct bpk_check_result *res = NULL;
	size_t len;
	char *data;

	if (!root())
		skip();
	data = read_object("xdp_unbounded", &len);
	assert_int_equal(bpk_check__object(data, len, "xdp_unbounded.o", NULL, NULL, &res), 0);
	assert_false(res->ok);
	assert_int_equal(res->progs[0].failed, BPK_CHECK_LOAD);
	assert_non_null(strstr(res->progs[0].reason, "the kernel refused it"));
	bpk_check_result__free(res);
	free(data);

	/* One program of several; an unknown one is -ENOENT. */
	data = read_object("caps_all", &len);
	BPK_OPTS(bpk_check_opts, opts, .program = "caps_xdp");
	assert_int_equal(bpk_check__object(data, len, "caps_all.o", NULL, &opts, &res), 0);
	assert_int_equal(res->prog_cnt, 1);
	assert_true(res->ok);
	bpk_check_result__free(res);
	opts.program = "no_such_program";
	assert_int_equal(bpk_check__object(data, len, "caps_all.o", NULL, &opts, &res), -ENOENT);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_supported_package),
	    cmocka_unit_test(test_kernel_too_old),
	    cmocka_unit_test(test_arch),
	    cmocka_unit_test(test_missing_kfunc),
	    cmocka_unit_test(test_helper_not_allowed),
	    cmocka_unit_test(test_core_unresolved),
	    cmocka_unit_test(test_verifier_and_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

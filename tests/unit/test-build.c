// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for authoring: init scaffolds, build compiles, pack derives and is reproducible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test-util.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"

static bool exists(const char *dir, const char *rel)
{
	char *p = path_join(dir, rel);
	bool ok = access(p, F_OK) == 0;

	free(p);
	return ok;
}

static void test_template_parse(void **state)
{
	enum bpk_template t;

	assert_int_equal(bpk_template__parse("xdp", &t), 0);
	assert_int_equal(t, BPK_TEMPLATE_XDP);
	assert_int_equal(bpk_template__parse("cgroup_skb", &t), 0);
	assert_int_equal(t, BPK_TEMPLATE_CGROUP_SKB);
	assert_int_equal(bpk_template__parse("socket", &t), -EINVAL);
}

static void test_init_scaffold(void **state)
{
	char *root = test_temp_dir("test-build"), *dir = path_join(root, "pkg"), *manifest_path, *text;
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_manifest *m;
	size_t len;

	assert_int_equal(bpk_init__scaffold(dir, "acme/my-prog", BPK_TEMPLATE_TC, NULL), 0);
	assert_true(exists(dir, "bpk.json"));
	assert_true(exists(dir, "README.md"));
	assert_true(exists(dir, "src/my-prog.bpf.c"));
	assert_true(exists(dir, "tests/my-prog.json"));
	assert_true(exists(dir, ".gitignore"));

	/* The scaffolded manifest is valid as it stands. */
	manifest_path = path_join(dir, "bpk.json");
	assert_int_equal(read_file(manifest_path, 1 << 20, &text, &len), 0);
	m = bpk_manifest__parse(text, len, BPK_MANIFEST_SOURCE, &diags);
	assert_non_null(m);
	assert_string_equal(bpk_manifest__name(m), "acme/my-prog");
	assert_string_equal(bpk_manifest__feed(m), "acme");
	bpk_manifest__free(m);
	free(text);

	/* The program's identifiers are C identifiers. */
	char *src = path_join(dir, "src/my-prog.bpf.c");
	assert_int_equal(read_file(src, 1 << 20, &text, &len), 0);
	assert_non_null(strstr(text, "int my_prog_tc(struct __sk_buff *skb)"));
	assert_null(strstr(text, "@"));
	free(text);
	free(src);

	/* Never over a non-empty directory, never with a bad name, never half. */
	assert_int_equal(bpk_init__scaffold(dir, "other", BPK_TEMPLATE_XDP, NULL), -EEXIST);
	assert_int_equal(bpk_init__scaffold(dir, "Bad Name", BPK_TEMPLATE_XDP, NULL), -EINVAL);
	BPK_OPTS(bpk_init_opts, force, .force = true);
	/* With force, missing files are added and existing ones kept as they are. */
	char *readme = path_join(dir, "README.md");
	assert_int_equal(unlink(readme), 0);
	int fd = open(manifest_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_int_equal(write_all(fd, "mine", 4), 0);
	close(fd);
	assert_int_equal(bpk_init__scaffold(dir, "acme/my-prog", BPK_TEMPLATE_TC, &force), 0);
	assert_true(exists(dir, "README.md"));
	assert_int_equal(read_file(manifest_path, 1 << 20, &text, &len), 0);
	assert_string_equal(text, "mine");
	free(text);
	free(readme);

	free(manifest_path);
	free(dir);
	test_rm_rf(root);
	free(root);
}

static bool can_build(void)
{
	return access("/sys/kernel/btf/vmlinux", R_OK) == 0 && system("command -v bpftool >/dev/null") == 0 &&
	       system("command -v clang >/dev/null") == 0;
}

static int quiet(enum bpk_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static void test_build_pack(void **state)
{
	char *root, *dir, *out1, *out2, *b1, *b2, *written = NULL;
	struct bpk_diags diags = BPK_DIAGS_INIT;
	size_t l1, l2;

	if (!can_build()) {
		print_message("skipped: needs /sys/kernel/btf/vmlinux, bpftool and clang\n");
		skip();
	}
	root = test_temp_dir("test-build");
	dir = path_join(root, "pkt");
	assert_int_equal(bpk_init__scaffold(dir, "pkt", BPK_TEMPLATE_XDP, NULL), 0);

	/* pack before build: no objects. */
	assert_int_equal(bpk_pack__dir(dir, NULL, &diags, NULL), -EINVAL);
	assert_string_equal(bpk_diags__first_error(&diags)->id, "E005");
	bpk_diags__release(&diags);

	assert_int_equal(bpk_build__dir(dir, NULL), 0);
	assert_true(exists(dir, "bpf/pkt.o"));
	assert_true(exists(dir, ".bpk-build/vmlinux.h"));

	out1 = path_join(root, "one.bpk");
	out2 = path_join(root, "two.bpk");
	BPK_OPTS(bpk_pack_opts, o1, .output = out1);
	BPK_OPTS(bpk_pack_opts, o2, .output = out2);
	assert_int_equal(bpk_pack__dir(dir, &o1, &diags, &written), 0);
	assert_string_equal(written, out1);
	assert_int_equal(bpk_diags__count(&diags, BPK_SEV_ERROR), 0);
	sleep(1);
	assert_int_equal(bpk_pack__dir(dir, &o2, &diags, NULL), 0);
	assert_int_equal(read_file(out1, 64 << 20, &b1, &l1), 0);
	assert_int_equal(read_file(out2, 64 << 20, &b2, &l2), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);

	/* The package holds the derived manifest. */
	struct bpk_pkg *pkg = bpk_pkg__open(out1, NULL, &diags);
	assert_non_null(pkg);
	const struct bpk_manifest *m = bpk_pkg__manifest(pkg);
	assert_true(bpk_manifest__has_derived(m));
	assert_non_null(bpk_manifest__find_file(m, "bpf/pkt.o"));
	assert_non_null(bpk_manifest__find_file(m, "tests/pkt.json"));
	json_t *prog = json_array_get(json_object_get(bpk_manifest_json(m), "programs"), 0);
	assert_string_equal(json_string_value(json_object_get(prog, "name")), "pkt_xdp");
	assert_string_equal(json_string_value(json_object_get(prog, "type")), "xdp");
	assert_string_equal(json_string_value(json_object_get(prog, "chain")), "none");
	bpk_pkg__free(pkg);

	/* A compile error fails the build and leaves no object. */
	char *src = path_join(dir, "src/pkt.bpf.c");
	int fd = open(src, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, "syntax error;\n", 14), 0);
	close(fd);
	char *obj = path_join(dir, "bpf/pkt.o");
	unlink(obj);
	bpk_print_fn_t old = bpk_set_print(quiet);
	int saved = dup(STDERR_FILENO), devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	dup2(devnull, STDERR_FILENO);
	assert_int_equal(bpk_build__dir(dir, NULL), -ENOEXEC);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(devnull);
	bpk_set_print(old);
	assert_false(exists(dir, "bpf/pkt.o"));

	bpk_diags__release(&diags);
	free(obj);
	free(src);
	free(b1);
	free(b2);
	free(written);
	free(out1);
	free(out2);
	free(dir);
	test_rm_rf(root);
	free(root);
}

static void test_build_without_sources(void **state)
{
	char *root = test_temp_dir("test-build");
	bpk_print_fn_t old = bpk_set_print(quiet);

	assert_int_equal(bpk_build__dir(root, NULL), -ENOENT);
	assert_int_equal(bpk_build__dir("/nonexistent/dir", NULL), -ENOENT);
	bpk_set_print(old);
	test_rm_rf(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_parse),
		cmocka_unit_test(test_init_scaffold),
		cmocka_unit_test(test_build_pack),
		cmocka_unit_test(test_build_without_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

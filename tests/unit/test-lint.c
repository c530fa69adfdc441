// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for lint: each rule fires on a package built to break it, and only then. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test-util.h"

#include <stdio.h>
#include <sys/stat.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"

static void put_str(const char *dir, const char *rel, const char *text)
{
	test_put(dir, rel, text, strlen(text));
}

static void put_object(const char *dir, const char *object)
{
	char *src = xasprintf("%s/%s.o", test_bpf_dir(), object), *rel = xasprintf("bpf/%s.o", object);
	char *data;
	size_t len;

	assert_int_equal(read_file(src, 64 << 20, &data, &len), 0);
	test_put(dir, rel, data, len);
	free(data);
	free(src);
	free(rel);
}

/* A package directory that lints clean, around one test object; extra JSON is merged in. */
static char *make_pkg(const char *object, const char *license, const char *platforms)
{
	char *dir = test_temp_dir("test-lint"), *manifest;

	manifest = xasprintf("{\"bpk\": 1, \"name\": \"t\", \"version\": \"1.0.0\", \"description\": \"d\","
			     " \"license\": \"%s\", \"authors\": [\"a\"], \"platforms\": %s,"
			     " \"source\": {\"url\": \"https://example.com/t.git\"},"
			     " \"requires\": {\"kernel\": \">=5.15\"}}",
			     license, platforms);
	put_str(dir, "bpk.json", manifest);
	put_str(dir, "README.md",
		"# t\n\nA package for a lint unit test. It is long enough to explain itself, which "
		"is what the short-readme rule asks for.\n");
	put_str(dir, "tests/t.json", "{\"program\": \"x\", \"cases\": []}");
	put_object(dir, object);
	free(manifest);
	return dir;
}

static void rm_rf(char *dir)
{
	test_rm_rf(dir);
	free(dir);
}

static bool has(const struct bpk_diags *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->cnt; i++)
		if (!strcmp(d->items[i].id, id))
			return true;
	return false;
}

static void dump(const struct bpk_diags *d)
{
	size_t i;

	for (i = 0; i < d->cnt; i++)
		print_message("  %s %s: %s\n", d->items[i].id, d->items[i].name, d->items[i].message);
}

/* Lint dir; require exactly the ids given (space-separated), in any order. */
static void expect_ids(const char *dir, const char *ids)
{
	struct bpk_diags d = BPK_DIAGS_INIT;
	char *copy = strdup(ids), *tok, *save = NULL;
	size_t want = 0, i;

	assert_int_equal(bpk_lint__dir(dir, &d), 0);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		want++;
		if (!has(&d, tok)) {
			dump(&d);
			fail_msg("lint did not report %s", tok);
		}
	}
	/* Nothing beyond what was asked for (counting repeats of an asked id once each). */
	for (i = 0; i < d.cnt; i++)
		if (!strstr(ids, d.items[i].id)) {
			dump(&d);
			fail_msg("unexpected %s", d.items[i].id);
		}
	free(copy);
	bpk_diags__release(&d);
	(void)want;
}

static void test_clean(void **state)
{
	char *dir = make_pkg("xdp_counter", "GPL-2.0-only", "[\"linux\"]");

	expect_ids(dir, "");
	rm_rf(dir);
}

static void test_gpl_helper(void **state)
{
	char *dir = make_pkg("proprietary_printk", "LicenseRef-Proprietary", "[\"linux\"]");
	struct bpk_diags d = BPK_DIAGS_INIT;

	put_str(dir, "LICENSE", "All rights reserved.\n");
	expect_ids(dir, "E009");
	assert_int_equal(bpk_lint__dir(dir, &d), 0);
	assert_string_equal(d.items[0].where, "bpf/proprietary_printk.o:xdp_log");
	assert_non_null(strstr(d.items[0].message, "bpf_trace_printk"));
	bpk_diags__release(&d);
	rm_rf(dir);
}

static void test_license_string_mismatch(void **state)
{
	/* A GPL object in a package the manifest calls MIT. */
	char *dir = make_pkg("xdp_counter", "MIT", "[\"linux\"]");

	expect_ids(dir, "W005");
	rm_rf(dir);
}

static void test_windows(void **state)
{
	char *dir = make_pkg("cgroup_skb", "GPL-2.0-only", "[\"linux\", \"windows\"]");

	expect_ids(dir, "E010");
	rm_rf(dir);
}

static void test_unknown_section(void **state)
{
	char *dir = make_pkg("bogus_section", "GPL-2.0-only", "[\"linux\"]");

	expect_ids(dir, "E011");
	rm_rf(dir);
}

static void test_missing_docs(void **state)
{
	char *dir = make_pkg("xdp_counter", "GPL-2.0-only OR MIT", "[\"linux\"]");
	char *readme = path_join(dir, "README.md"), *tests = path_join(dir, "tests/t.json");

	unlink(readme);
	unlink(tests);
	expect_ids(dir, "E003 E004 W003");
	put_str(dir, "README.md", "# t\n");
	expect_ids(dir, "E004 W007 W003");
	free(readme);
	free(tests);
	rm_rf(dir);
}

static void test_core_warning(void **state)
{
	/* A kprobe program that reads kernel memory with CO-RE: only its capability to declare. */
	char *dir = make_pkg("kprobe_core", "GPL-2.0-only", "[\"linux\"]");

	expect_ids(dir, "W009");
	rm_rf(dir);
}

static void test_capability_allow_list(void **state)
{
	char *dir = make_pkg("xdp_tailcall", "GPL-2.0-only", "[\"linux\"]");
	char *manifest = path_join(dir, "bpk.json"), *text;
	struct bpk_diags d = BPK_DIAGS_INIT;
	size_t len;

	/* Without an allow-list, nothing sensitive: clean. */
	expect_ids(dir, "");
	/* An allow-list that leaves out tail calls: the program exceeds it. */
	assert_int_equal(read_file(manifest, 1 << 20, &text, &len), 0);
	text[len - 1] = '\0';
	char *with = xasprintf("%s, \"capabilities\": [\"filter-packets\"]}", text);
	put_str(dir, "bpk.json", with);
	expect_ids(dir, "E016");
	assert_int_equal(bpk_lint__dir(dir, &d), 0);
	assert_non_null(strstr(d.items[0].message, "'capabilities' does not allow tail-calls"));
	assert_non_null(strstr(d.items[0].message, "calls bpf_tail_call"));
	bpk_diags__release(&d);
	/* An unknown id is a manifest error naming the entry. */
	free(with);
	with = xasprintf("%s, \"capabilities\": [\"fly\"]}", text);
	put_str(dir, "bpk.json", with);
	assert_int_equal(bpk_lint__dir(dir, &d), 0);
	assert_string_equal(d.items[0].where, "capabilities[0]");
	bpk_diags__release(&d);
	free(with);
	free(text);
	free(manifest);
	rm_rf(dir);
}

static void test_no_objects_no_manifest(void **state)
{
	char *dir = test_temp_dir("test-lint");

	expect_ids(dir, "E014 E003 E005 W003");
	assert_int_equal(bpk_lint__dir("/nonexistent", NULL), -ENOENT);
	rm_rf(dir);
}

static void test_stale_manifest(void **state)
{
	char *dir = make_pkg("xdp_counter", "GPL-2.0-only", "[\"linux\"]");
	BPK_OPTS(bpk_pack_opts, opts, .update_manifest = true);
	struct bpk_diags d = BPK_DIAGS_INIT;
	char *out = path_join(dir, "t.bpk");

	opts.output = out;
	assert_int_equal(bpk_pack__dir(dir, &opts, &d, NULL), 0);
	bpk_diags__release(&d);
	expect_ids(dir, "");
	/* The same object path, other programs: programs, maps and files all go stale. */
	char *src = xasprintf("%s/tc_classifier.o", test_bpf_dir()), *data;
	size_t len;
	assert_int_equal(read_file(src, 64 << 20, &data, &len), 0);
	test_put(dir, "bpf/xdp_counter.o", data, len);
	expect_ids(dir, "E006 E007 E008");

	/* The package written before is still clean. */
	struct bpk_pkg *pkg = bpk_pkg__open(out, NULL, &d);
	assert_non_null(pkg);
	assert_int_equal(bpk_lint__pkg(pkg, &d), 0);
	assert_int_equal(d.cnt, 0);
	bpk_pkg__free(pkg);
	free(data);
	free(src);
	free(out);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_gpl_helper),
		cmocka_unit_test(test_license_string_mismatch),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_missing_docs),
		cmocka_unit_test(test_core_warning),
		cmocka_unit_test(test_capability_allow_list),
		cmocka_unit_test(test_no_objects_no_manifest),
		cmocka_unit_test(test_stale_manifest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

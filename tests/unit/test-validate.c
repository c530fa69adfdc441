// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the manifest value validators: SemVer, names, SPDX, kernel ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../../lib/validate.c"

static void test_semver_valid(void **state)
{
	static const char *const good[] = {
		"0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7",
		"1.0.0-x.7.z.92", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85",
		"1.0.0-rc.1+build.1", "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
	};
	static const char *const bad[] = {
		"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "v1.2.3", "1.2.3-",
		"1.2.3+", "1.2.3-01", "1.2.3-a..b", "1.2.3 ", " 1.2.3", "1.2.-3", "1.2.3-é",
		"99999999999999999999999.0.0",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		assert_true(bpk_semver__valid(good[i]));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (bpk_semver__valid(bad[i]))
			fail_msg("'%s' accepted as SemVer", bad[i]);
	}
	assert_false(bpk_semver__valid(NULL));
}

static void test_semver_order(void **state)
{
	/* The precedence example of semver.org §11, in increasing order. */
	static const char *const order[] = {
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0", "10.0.0",
	};
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(order); i++)
		for (j = 0; j < ARRAY_SIZE(order); j++) {
			int c = bpk_semver__cmp(order[i], order[j]);
			int want = i < j ? -1 : i > j;

			if (c != want)
				fail_msg("cmp(%s, %s) = %d, want %d", order[i], order[j], c, want);
		}
	/* Build metadata does not count. */
	assert_int_equal(bpk_semver__cmp("1.0.0+a", "1.0.0+b"), 0);
}

static void test_names(void **state)
{
	assert_true(bpk_name__valid("ratelimit"));
	assert_true(bpk_name__valid("acme/xdp-fw.v2_beta"));
	assert_true(bpk_name__valid("0day"));
	assert_false(bpk_name__valid(""));
	assert_false(bpk_name__valid("Ratelimit"));
	assert_false(bpk_name__valid("-x"));
	assert_false(bpk_name__valid(".x"));
	assert_false(bpk_name__valid("a/b/c"));
	assert_false(bpk_name__valid("/a"));
	assert_false(bpk_name__valid("a/"));
	assert_false(bpk_name__valid("a b"));
	assert_false(bpk_name__valid("../x"));
	char long_name[102];
	memset(long_name, 'a', 101);
	long_name[101] = '\0';
	assert_false(bpk_name__valid(long_name));
	long_name[100] = '\0';
	assert_true(bpk_name__valid(long_name));
}

static void test_spdx(void **state)
{
	const char *bad_token = NULL;

	assert_true(bpk_spdx__valid("MIT", NULL));
	assert_true(bpk_spdx__valid("GPL-2.0-only OR BSD-2-Clause", NULL));
	assert_true(bpk_spdx__valid("(GPL-2.0-only OR BSD-2-Clause) AND MIT", NULL));
	assert_true(bpk_spdx__valid("GPL-2.0-only WITH Linux-syscall-note", NULL));
	assert_true(bpk_spdx__valid("LicenseRef-Acme-1.0", NULL));
	assert_true(bpk_spdx__valid("Apache-2.0+", NULL));
	assert_false(bpk_spdx__valid("GPL", &bad_token));
	assert_string_equal(bad_token, "GPL");
	assert_false(bpk_spdx__valid("MIT OR", &bad_token));
	assert_false(bpk_spdx__valid("MIT AND (BSD-2-Clause", &bad_token));
	assert_false(bpk_spdx__valid("MIT WITH Bogus-exception", &bad_token));
	assert_string_equal(bad_token, "Bogus-exception");
	assert_false(bpk_spdx__valid("MIT MIT", &bad_token));
	assert_false(bpk_spdx__valid("", &bad_token));
	assert_false(bpk_spdx__valid("((((((((((((((((((((MIT))))))))))))))))))))", &bad_token));

	assert_true(bpk_spdx__is_gpl_compatible("GPL"));
	assert_true(bpk_spdx__is_gpl_compatible("Dual BSD/GPL"));
	assert_false(bpk_spdx__is_gpl_compatible("Proprietary"));
	assert_false(bpk_spdx__is_gpl_compatible("GPL-2.0-only"));
	assert_false(bpk_spdx__is_gpl_compatible(NULL));
}

static void test_kernel_req(void **state)
{
	assert_true(bpk_kernel_req__valid(">=5.15"));
	assert_true(bpk_kernel_req__valid(">=5.15 <6.8"));
	assert_true(bpk_kernel_req__valid("6.1.*"));
	assert_true(bpk_kernel_req__valid("=6.6"));
	assert_false(bpk_kernel_req__valid(""));
	assert_false(bpk_kernel_req__valid(">=five"));
	assert_false(bpk_kernel_req__valid(">=5.15x"));
	assert_false(bpk_kernel_req__valid(">=*"));

	assert_true(bpk_kernel_req__matches(">=5.15", "6.18.44-fc-v782"));
	assert_false(bpk_kernel_req__matches(">=6.19", "6.18.44-fc-v782"));
	assert_true(bpk_kernel_req__matches(">=5.15 <6.19", "6.18.44"));
	assert_false(bpk_kernel_req__matches(">=5.15 <6.18", "6.18.0"));
	assert_true(bpk_kernel_req__matches("6.18.*", "6.18.3"));
	assert_false(bpk_kernel_req__matches("6.1.*", "6.18.3"));
	assert_false(bpk_kernel_req__matches(">=5.15", "garbage"));

	assert_true(bpk_kernel_req__spans_versions(">=5.15"));
	assert_true(bpk_kernel_req__spans_versions(">=5.15 <6.8"));
	assert_false(bpk_kernel_req__spans_versions("6.1.*"));
	assert_false(bpk_kernel_req__spans_versions("=6.6"));
	assert_false(bpk_kernel_req__spans_versions(">=6.1 <6.2"));
	assert_false(bpk_kernel_req__spans_versions(">=6.1 <6.2.0"));
	assert_false(bpk_kernel_req__spans_versions(">=6.1 <=6.1.90"));
	assert_true(bpk_kernel_req__spans_versions(">=6.1 <=6.2"));
	assert_true(bpk_kernel_req__spans_versions(">=6.1 <6.3"));
	assert_true(bpk_kernel_req__spans_versions(">=5.15 <6.1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_semver_valid), cmocka_unit_test(test_semver_order),
		cmocka_unit_test(test_names),	     cmocka_unit_test(test_spdx),
		cmocka_unit_test(test_kernel_req),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

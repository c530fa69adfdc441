// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of SemVer ranges: syntax, every operator's bounds, prereleases and alternatives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"

static void test_valid(void **state)
{
	static const char *const valid[] = {
		"*", "x", "1", "1.2", "1.2.3", "=1.2.3", "1.x", "1.2.x", "1.2.*", "1.x.x",
		"^1.2.3", "^0.2", "^0", "~1.2.3", "~1", ">=1.0.0 <2.0.0", ">=1.0.0, <2.0.0",
		">1.2", "<=2", "1.2.3-rc.1", "1.2.3+build.5", "^1.2.3-beta.2+b", "1.x || >=3.1.0",
		"  ^1.2  ", ">=1.0.0\t<2.0.0", "<*", "18446744073709551609.0.0",
	};
	static const char *const invalid[] = {
		"", " ", "v1.2.3", "01.2.3", "1.02", "1.2.3.4", "1.x.3", "^", ">=", ">= 1.0.0",
		"1.2.3-", "1.2.3-01", "1.2-rc.1", "a.b.c", "1.0.0 ||", "|| 1.0.0", "1.0.0 | 2.0.0",
		">=1.0.0<2.0.0", "~>1.2", "1.2.3 - 2.0.0", "18446744073709551610.0.0", "1..2",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		if (!bpk_semver_range__valid(valid[i]))
			print_message("'%s' should be valid\n", valid[i]);
		assert_true(bpk_semver_range__valid(valid[i]));
	}
	for (i = 0; i < ARRAY_SIZE(invalid); i++) {
		if (bpk_semver_range__valid(invalid[i]))
			print_message("'%s' should be invalid\n", invalid[i]);
		assert_false(bpk_semver_range__valid(invalid[i]));
	}
	assert_false(bpk_semver_range__valid(NULL));
}

static void test_matches(void **state)
{
	static const struct {
		const char *range, *version;
		bool match;
	} cases[] = {
		{ "*", "0.0.1", true },
		{ "*", "99.1.2", true },
		{ "1.2.3", "1.2.3", true },
		{ "1.2.3", "1.2.4", false },
		{ "=1.2.3", "1.2.3+build", true },
		{ "1.2", "1.2.0", true },
		{ "1.2", "1.2.99", true },
		{ "1.2", "1.3.0", false },
		{ "1.x", "1.9.9", true },
		{ "1.x", "2.0.0", false },
		{ "1", "1.0.0", true },
		{ "1", "0.9.9", false },
		/* Caret: the left-most non-zero part stays. */
		{ "^1.2.3", "1.2.3", true },
		{ "^1.2.3", "1.9.0", true },
		{ "^1.2.3", "1.2.2", false },
		{ "^1.2.3", "2.0.0", false },
		{ "^1.2", "1.2.0", true },
		{ "^1.2", "1.1.9", false },
		{ "^0.2.3", "0.2.9", true },
		{ "^0.2.3", "0.3.0", false },
		{ "^0.0.3", "0.0.3", true },
		{ "^0.0.3", "0.0.4", false },
		{ "^0.0", "0.0.9", true },
		{ "^0.0", "0.1.0", false },
		{ "^0", "0.9.0", true },
		{ "^0", "1.0.0", false },
		/* Tilde: patch updates (minor updates for ~1). */
		{ "~1.2.3", "1.2.9", true },
		{ "~1.2.3", "1.3.0", false },
		{ "~1.2.3", "1.2.2", false },
		{ "~1.2", "1.2.0", true },
		{ "~1", "1.5.0", true },
		{ "~1", "2.0.0", false },
		/* Comparators, and partial versions in them. */
		{ ">=1.0.0 <2.0.0", "1.5.0", true },
		{ ">=1.0.0 <2.0.0", "2.0.0", false },
		{ ">=1.0.0, <2.0.0", "0.9.0", false },
		{ ">1.2.3", "1.2.3", false },
		{ ">1.2.3", "1.2.4", true },
		{ ">1.2", "1.2.9", false },
		{ ">1.2", "1.3.0", true },
		{ "<=1.2", "1.2.9", true },
		{ "<=1.2", "1.3.0", false },
		{ "<=1.2.3", "1.2.3", true },
		{ "<1.2", "1.1.9", true },
		{ "<1.2", "1.2.0", false },
		{ "<2", "1.99.0", true },
		{ "<*", "1.0.0", false },
		{ ">*", "1.0.0", false },
		/* Alternatives. */
		{ "1.x || >=3.1.0", "1.4.0", true },
		{ "1.x || >=3.1.0", "2.0.0", false },
		{ "1.x || >=3.1.0", "3.1.0", true },
		/* Prereleases only when named, for the same x.y.z. */
		{ "*", "1.0.0-rc.1", false },
		{ "^1.0.0", "1.1.0-rc.1", false },
		{ ">=1.0.0-rc.1", "1.0.0-rc.2", true },
		{ ">=1.0.0-rc.1", "1.0.0", true },
		{ ">=1.0.0-rc.1", "1.0.1-rc.1", false },
		{ "^1.2.3-beta.2", "1.2.3-beta.10", true },
		{ "^1.2.3-beta.2", "1.2.3-beta.1", false },
		{ "1.2.3-rc.1", "1.2.3-rc.1", true },
		{ "<2.0.0", "2.0.0-rc.1", false },
		/* The largest numbers have no next version: no upper bound. */
		{ "^18446744073709551609", "18446744073709551609.7.0", true },
		{ ">18446744073709551609", "18446744073709551609.7.0", false },
		/* Invalid either side. */
		{ "^1", "1.0", false },
		{ "nope", "1.0.0", false },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		bool got = bpk_semver_range__matches(cases[i].range, cases[i].version);

		if (got != cases[i].match)
			print_message("'%s' against '%s': got %d\n", cases[i].range,
				      cases[i].version, got);
		assert_int_equal(got, cases[i].match);
	}
	assert_false(bpk_semver_range__matches(NULL, "1.0.0"));
	assert_false(bpk_semver_range__matches("*", NULL));
}

static void test_exact(void **state)
{
	const char *v = NULL;

	assert_true(bpk_semver_range__is_exact("1.2.3", &v));
	assert_string_equal(v, "1.2.3");
	assert_true(bpk_semver_range__is_exact("=1.0.0-rc.1", &v));
	assert_string_equal(v, "1.0.0-rc.1");
	assert_true(bpk_semver_range__is_exact("2.0.0", NULL));
	assert_false(bpk_semver_range__is_exact("1.2", &v));
	assert_false(bpk_semver_range__is_exact("^1.2.3", &v));
	assert_false(bpk_semver_range__is_exact(">=1.2.3", &v));
	assert_false(bpk_semver_range__is_exact(NULL, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

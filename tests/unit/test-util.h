/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers every unit test needs: a scratch directory and its removal. Include after cmocka.h. */
#ifndef BPK_TEST_UTIL_H
#define BPK_TEST_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int test_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* rm -rf path, without a shell; fails the test when anything cannot be removed. */
static inline void test_rm_rf(const char *path)
{
	assert_int_equal(nftw(path, test_rm_cb, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* A new directory /tmp/bpk-TAG-XXXXXX; the caller frees the path (and removes the tree). */
static inline char *test_temp_dir(const char *tag)
{
	char *dir = NULL;

	assert_true(asprintf(&dir, "/tmp/bpk-%s-XXXXXX", tag) > 0);
	assert_non_null(mkdtemp(dir));
	return dir;
}

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers unit tests share: a scratch directory, the test objects, files. Include after cmocka.h. */
#ifndef BPK_TEST_UTIL_H
#define BPK_TEST_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

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

/* Where meson built the test BPF objects (tests/bpf/). */
static inline const char *test_bpf_dir(void)
{
	const char *d = getenv("BPK_TEST_BPF_DIR");

	if (!d)
		fail_msg("BPK_TEST_BPF_DIR is not set (run through meson test)");
	return d;
}

/* Write data to dir/rel, making the directories on the way. */
static inline void test_put(const char *dir, const char *rel, const void *data, size_t len)
{
	char *p = path_join(dir, rel), *slash = strrchr(p, '/');

	*slash = '\0';
	assert_int_equal(mkdir_p(p, 0755), 0);
	*slash = '/';
	assert_int_equal(write_file_atomic(p, data, len, 0644), 0);
	free(p);
}

#endif

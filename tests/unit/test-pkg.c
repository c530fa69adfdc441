// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the .bpk container: deterministic writing, every refusal, safe extraction. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cmocka.h>

#include "test-util.h"

#include <bpk/bpk.h>

#include "util.h"

/* ---- fixtures ---- */

static const char readme[] = "# demo\n\nA demonstration package that drops nothing.\n";
/* The same length, other bytes: only the digest tells them apart. */
static const char tampered_readme[] = "# demo\n\nA demonstration package that drops NOTHING!\n";
/* Binary, with NUL bytes, so that nothing treats entry data as a string. */
static const char object[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\xf7\0binary\0data";
static const char vector[] = "{\"input\": \"00\", \"ret\": 2}\n";
static const char script[] = "#!/bin/sh\necho run\n";

static const struct bpk_pkg_entry demo_files[] = {
	{ "tests/pass.json", vector, sizeof(vector) - 1, false },
	{ "README.md", readme, sizeof(readme) - 1, false },
	{ "tools/run.sh", script, sizeof(script) - 1, true },
	{ "bpf/demo.o", object, sizeof(object) - 1, false },
};
#define DEMO_CNT ARRAY_SIZE(demo_files)

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL), 1);
	assert_int_equal(mdlen, 32);
	hex_encode(md, sizeof(md), out);
}

/* A packed manifest whose "files" list the given files, with their real sizes and digests. */
static char *manifest_for(const struct bpk_pkg_entry *files, size_t cnt)
{
	json_t *root, *list;
	char digest[65];
	char *text;
	size_t i;

	list = json_array();
	assert_non_null(list);
	for (i = 0; i < cnt; i++) {
		sha256_hex(files[i].data, files[i].size, digest);
		assert_int_equal(json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "path",
								       files[i].path, "sha256",
								       digest, "size",
								       (json_int_t)files[i].size)),
				 0);
	}
	root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:[s], s:[s], s:[{s:s, s:s, s:s, s:s, s:s, "
			 "s:s, s:[], s:[], s:[]}], s:[], s:o}",
			 "bpk", 1, "name", "demo", "version", "1.0.0", "description",
			 "A demonstration package", "license", "GPL-2.0-only", "authors",
			 "Jane Doe <jane@example.org>", "platforms", "linux", "programs", "name",
			 "xdp_demo", "object", "bpf/demo.o", "section", "xdp", "type", "xdp",
			 "attach", "xdp", "chain", "tailcall", "helpers", "kfuncs", "maps", "maps",
			 "files", list);
	assert_non_null(root);
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	assert_non_null(text);
	json_decref(root);
	return text;
}

/*
 * Write a package of files plus a bpk.json that lists listed (files when NULL). Returns the
 * bytes; *ret_manifest (if not NULL) gets the manifest text.
 */
static void *pack_listing(const struct bpk_pkg_entry *files, size_t cnt,
			  const struct bpk_pkg_entry *listed, size_t listed_cnt, size_t *ret_len,
			  char **ret_manifest)
{
	struct bpk_pkg_entry *all = calloc(cnt + 1, sizeof(*all));
	char *manifest;
	void *buf = NULL;

	assert_non_null(all);
	manifest = listed ? manifest_for(listed, listed_cnt) : manifest_for(files, cnt);
	memcpy(all, files, cnt * sizeof(*files));
	all[cnt] = (struct bpk_pkg_entry){ BPK_MANIFEST_PATH, manifest, strlen(manifest), false };
	assert_int_equal(bpk_pkg__write_mem(all, cnt + 1, &buf, ret_len), 0);
	free(all);
	if (ret_manifest)
		*ret_manifest = manifest;
	else
		free(manifest);
	return buf;
}

static void *pack(const struct bpk_pkg_entry *files, size_t cnt, size_t *ret_len)
{
	return pack_listing(files, cnt, NULL, 0, ret_len, NULL);
}

/* An archive entry written with libarchive directly, bypassing every check of bpk's writer. */
struct raw_entry {
	const char *path;
	unsigned int type; /* AE_IF*; 0 for a regular file */
	const void *data;  /* NULL: size zero bytes */
	size_t size;
	const char *link;  /* symlink target (AE_IFLNK) or hard link target */
};

static la_ssize_t append_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	assert_int_equal(strbuf_add(ctx, buf, len), 0);
	return (la_ssize_t)len;
}

static void *raw_archive(const struct raw_entry *entries, size_t cnt, bool gzip, size_t *ret_len)
{
	static const char zeros[1 << 16];
	struct strbuf sb = STRBUF_INIT;
	struct archive_entry *e;
	struct archive *a;
	size_t i, done, n;

	a = archive_write_new();
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_ustar(a), ARCHIVE_OK);
	if (gzip)
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	/* No padding of the compressed stream to 10 KiB: small seeds for the fuzzer. */
	assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open(a, &sb, NULL, append_cb, NULL), ARCHIVE_OK);
	for (i = 0; i < cnt; i++) {
		const struct raw_entry *r = &entries[i];
		unsigned int type = r->type ? r->type : AE_IFREG;

		e = archive_entry_new();
		assert_non_null(e);
		archive_entry_copy_pathname(e, r->path);
		archive_entry_set_filetype(e, type);
		archive_entry_set_perm(e, 0644);
		if (type == AE_IFLNK)
			archive_entry_copy_symlink(e, r->link);
		else if (r->link)
			archive_entry_copy_hardlink(e, r->link);
		if (type == AE_IFCHR || type == AE_IFBLK)
			archive_entry_set_rdev(e, makedev(1, 3));
		archive_entry_set_size(e, type == AE_IFREG && !r->link ? (la_int64_t)r->size : 0);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		for (done = 0; type == AE_IFREG && !r->link && done < r->size; done += n) {
			n = r->size - done;
			if (r->data) {
				const char *from = (const char *)r->data + done;

				assert_int_equal(archive_write_data(a, from, n), (la_ssize_t)n);
			} else {
				n = n > sizeof(zeros) ? sizeof(zeros) : n;
				assert_int_equal(archive_write_data(a, zeros, n), (la_ssize_t)n);
			}
		}
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return strbuf_detach(&sb, ret_len);
}

/* gzip bytes as they are (libarchive's "raw" format holds one stream of data). */
static void *gzip_raw(const void *data, size_t len, size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;
	struct archive_entry *e;
	struct archive *a;

	a = archive_write_new();
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open(a, &sb, NULL, append_cb, NULL), ARCHIVE_OK);
	e = archive_entry_new();
	archive_entry_set_pathname(e, "raw");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)len);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return strbuf_detach(&sb, ret_len);
}

/* The bytes inside a gzip stream, read with libarchive's "raw" format. */
static void *gunzip_raw(const void *data, size_t len, size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;
	struct archive_entry *e;
	struct archive *a;
	char chunk[4096];
	la_ssize_t n;

	a = archive_read_new();
	assert_non_null(a);
	assert_int_equal(archive_read_support_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_read_support_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_memory(a, data, len), ARCHIVE_OK);
	assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
		assert_int_equal(strbuf_add(&sb, chunk, (size_t)n), 0);
	assert_int_equal(n, 0);
	archive_read_free(a);
	return strbuf_detach(&sb, ret_len);
}

/*
 * Assert that open_mem refuses buf with errno want_errno and exactly one diagnostic want_id,
 * whose where is want_where (NULL: no where) and whose message contains want_msg (if given).
 */
static void expect_refused(const void *buf, size_t len, const struct bpk_pkg_open_opts *opts,
			   int want_errno, const char *want_id, const char *want_where,
			   const char *want_msg)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_pkg *pkg;

	errno = 0;
	pkg = bpk_pkg__open_mem(buf, len, opts, &diags);
	if (pkg || diags.cnt != 1 || errno != want_errno) {
		size_t i;

		for (i = 0; i < diags.cnt; i++)
			print_message("diag %s %s: %s\n", diags.items[i].id,
				      diags.items[i].where ?: "(none)", diags.items[i].message);
	}
	assert_null(pkg);
	assert_int_equal(errno, want_errno);
	assert_int_equal(diags.cnt, 1);
	assert_string_equal(diags.items[0].id, want_id);
	assert_int_equal(diags.items[0].severity, BPK_SEV_ERROR);
	if (want_where) {
		assert_non_null(diags.items[0].where);
		assert_string_equal(diags.items[0].where, want_where);
	} else {
		assert_null(diags.items[0].where);
	}
	if (want_msg && !strstr(diags.items[0].message, want_msg))
		fail_msg("message \"%s\" lacks \"%s\"", diags.items[0].message, want_msg);
	bpk_diags__release(&diags);
}

/* Build a hostile archive from raw entries, gzip'd, and expect one E013 refusal. */
static void expect_raw_refused(const struct raw_entry *entries, size_t cnt, int want_errno,
			       const char *want_where, const char *want_msg)
{
	size_t len;
	void *buf = raw_archive(entries, cnt, true, &len);

	expect_refused(buf, len, NULL, want_errno, "E013", want_where, want_msg);
	free(buf);
}

/* Names in dir, sorted and joined with ',' ("" when empty). */
static char *list_dir(const char *dir)
{
	struct dirent **names;
	struct strbuf sb = STRBUF_INIT;
	int n, i;

	n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			if (sb.len)
				assert_int_equal(strbuf_addstr(&sb, ","), 0);
			assert_int_equal(strbuf_addstr(&sb, names[i]->d_name), 0);
		}
		free(names[i]);
	}
	free(names);
	/* strbuf_detach() of a never-written buffer is not NUL-terminated; adding nothing is. */
	assert_int_equal(strbuf_add(&sb, "", 0), 0);
	return strbuf_detach(&sb, NULL);
}

/* ---- paths ---- */

static void test_path_valid(void **state)
{
	static const char *const good[] = {
		"a", "README.md", "bpf/demo.o", "a/b/c", ".hidden", "a..b", "...", "a.", "-x",
		"caf\xc3\xa9", "x y",
	};
	static const char *const bad[] = {
		"", "/", "/etc/passwd", "a/", "/a", "a//b", ".", "..", "./a", "a/.", "a/./b",
		"../evil", "a/../../evil", "a/..", "a\\b", "..\\evil", "a\nb", "a\tb", "\x1b[31m",
		"a\x7f",
	};
	char longest[257];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		if (!bpk_pkg_path__valid(good[i]))
			fail_msg("'%s' should be valid", good[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (bpk_pkg_path__valid(bad[i]))
			fail_msg("'%s' should be invalid", bad[i]);
	assert_false(bpk_pkg_path__valid(NULL));
	memset(longest, 'a', sizeof(longest));
	longest[255] = '\0';
	assert_true(bpk_pkg_path__valid(longest));
	longest[255] = 'a';
	longest[256] = '\0';
	assert_false(bpk_pkg_path__valid(longest));
}

/* ---- writing ---- */

static void test_round_trip(void **state)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	const struct bpk_pkg_entry *want;
	char *manifest, digest[65];
	const void *data;
	struct bpk_pkg *pkg;
	size_t len, size, i, j;
	const char *path, *prev = "";
	void *buf;

	buf = pack_listing(demo_files, DEMO_CNT, NULL, 0, &len, &manifest);
	pkg = bpk_pkg__open_mem(buf, len, NULL, &diags);
	assert_non_null(pkg);
	assert_int_equal(diags.cnt, 0);

	assert_int_equal(bpk_pkg__entry_cnt(pkg), DEMO_CNT + 1);
	for (i = 0; i < bpk_pkg__entry_cnt(pkg); i++) {
		path = bpk_pkg__entry(pkg, i, &data, &size);
		assert_non_null(path);
		/* Sorted bytewise, whatever the order they were given in. */
		assert_true(strcmp(prev, path) < 0);
		prev = path;
		if (!strcmp(path, BPK_MANIFEST_PATH)) {
			assert_int_equal(size, strlen(manifest));
			assert_memory_equal(data, manifest, size);
			continue;
		}
		for (want = NULL, j = 0; j < DEMO_CNT; j++)
			if (!strcmp(demo_files[j].path, path))
				want = &demo_files[j];
		assert_non_null(want);
		assert_int_equal(size, want->size);
		assert_memory_equal(data, want->data, size);
		assert_ptr_equal(bpk_pkg__file(pkg, path, &size), data);
	}
	assert_null(bpk_pkg__entry(pkg, DEMO_CNT + 1, &data, &size));
	assert_string_equal(bpk_pkg__entry(pkg, 0, NULL, NULL), "README.md");
	assert_null(bpk_pkg__file(pkg, "missing", &size));
	assert_null(bpk_pkg__file(pkg, "bpf", &size));

	data = bpk_pkg__manifest_bytes(pkg, &size);
	assert_int_equal(size, strlen(manifest));
	assert_memory_equal(data, manifest, size);
	assert_non_null(bpk_pkg__manifest(pkg));
	assert_string_equal(bpk_manifest__name(bpk_pkg__manifest(pkg)), "demo");

	sha256_hex(buf, len, digest);
	assert_string_equal(bpk_pkg__digest(pkg), digest);
	assert_int_equal(bpk_pkg__size(pkg), len);

	bpk_pkg__free(pkg);
	bpk_pkg__free(NULL);
	free(manifest);
	free(buf);
}

static void test_deterministic(void **state)
{
	struct bpk_pkg_entry reversed[DEMO_CNT + 1];
	char *manifest = manifest_for(demo_files, DEMO_CNT);
	_cleanup_free_ char *dir = test_temp_dir("test-pkg"), *path = path_join(dir, "demo.bpk");
	_cleanup_free_ char *from_file = NULL;
	void *first = NULL, *second = NULL;
	size_t first_len, second_len, file_len, i;

	for (i = 0; i < DEMO_CNT; i++)
		reversed[DEMO_CNT - i] = demo_files[i];
	reversed[0] =
		(struct bpk_pkg_entry){ BPK_MANIFEST_PATH, manifest, strlen(manifest), false };
	assert_int_equal(bpk_pkg__write_mem(reversed, DEMO_CNT + 1, &first, &first_len), 0);
	/* A second later, with the entries in another order: not one byte may differ. */
	sleep(1);
	for (i = 0; i < DEMO_CNT + 1; i++)
		if (i % 2) {
			struct bpk_pkg_entry t = reversed[i];

			reversed[i] = reversed[i - 1];
			reversed[i - 1] = t;
		}
	assert_int_equal(bpk_pkg__write_mem(reversed, DEMO_CNT + 1, &second, &second_len), 0);
	assert_int_equal(first_len, second_len);
	assert_memory_equal(first, second, first_len);

	assert_int_equal(bpk_pkg__write_file(reversed, DEMO_CNT + 1, path), 0);
	assert_int_equal(read_file(path, SIZE_MAX, &from_file, &file_len), 0);
	assert_int_equal(file_len, first_len);
	assert_memory_equal(from_file, first, first_len);
	/* Written atomically: no temporary file is left next to it. */
	free(from_file);
	from_file = list_dir(dir);
	assert_string_equal(from_file, "demo.bpk");

	test_rm_rf(dir);
	free(first);
	free(second);
	free(manifest);
}

/* The bytes are what DESIGN.md §2 promises: gzip without name or time, ustar, fixed owners. */
static void test_headers(void **state)
{
	const unsigned char *gz;
	struct archive_entry *e;
	struct archive *a;
	char prev[300] = "";
	size_t len, n = 0;
	void *buf = pack(demo_files, DEMO_CNT, &len);

	gz = buf;
	assert_true(len > 18);
	assert_int_equal(gz[0], 0x1f);
	assert_int_equal(gz[1], 0x8b);
	assert_int_equal(gz[2], 8);	/* deflate */
	assert_int_equal(gz[3], 0);	/* FLG: no name, comment, extra or header CRC */
	assert_int_equal(gz[4] | gz[5] | gz[6] | gz[7], 0); /* MTIME */
	assert_int_equal(gz[8], 2);	/* XFL: maximum compression */
	assert_int_equal(gz[9], 3);	/* OS: Unix, whatever the build host */

	a = archive_read_new();
	assert_non_null(a);
	assert_int_equal(archive_read_support_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_memory(a, buf, len), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e) ?: "";

		assert_int_equal(archive_format(a), ARCHIVE_FORMAT_TAR_USTAR);
		assert_int_equal(archive_filter_code(a, 0), ARCHIVE_FILTER_GZIP);
		assert_true(strcmp(prev, path) < 0);
		snprintf(prev, sizeof(prev), "%s", path);
		assert_int_equal(archive_entry_filetype(e), AE_IFREG);
		assert_int_equal(archive_entry_perm(e),
				 !strcmp(path, "tools/run.sh") ? 0755 : 0644);
		assert_int_equal(archive_entry_mtime(e), 0);
		assert_int_equal(archive_entry_uid(e), 0);
		assert_int_equal(archive_entry_gid(e), 0);
		assert_true(!archive_entry_uname(e) || !*archive_entry_uname(e));
		assert_true(!archive_entry_gname(e) || !*archive_entry_gname(e));
		assert_null(archive_entry_symlink(e));
		assert_null(archive_entry_hardlink(e));
		n++;
	}
	assert_int_equal(n, DEMO_CNT + 1);
	archive_read_free(a);
	free(buf);
}

static void test_write_refuses(void **state)
{
	static const char *const bad[] = { "/abs", "../evil", "a/../b", "./a", "a//b", "a/",
					   "", "a\\b", "a\x01" };
	struct bpk_pkg_entry entries[2] = { { "README.md", readme, sizeof(readme) - 1, false } };
	char unsplittable[121];
	void *buf = NULL;
	size_t len = 0, i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		entries[1] = (struct bpk_pkg_entry){ bad[i], "x", 1, false };
		if (bpk_pkg__write_mem(entries, 2, &buf, &len) != -EINVAL)
			fail_msg("'%s' was not refused", bad[i]);
		assert_null(buf);
	}
	entries[1] = (struct bpk_pkg_entry){ NULL, "x", 1, false };
	assert_int_equal(bpk_pkg__write_mem(entries, 2, &buf, &len), -EINVAL);
	/* Duplicates, and a file that another path needs as a directory. */
	entries[1] = entries[0];
	assert_int_equal(bpk_pkg__write_mem(entries, 2, &buf, &len), -EINVAL);
	entries[1] = (struct bpk_pkg_entry){ "README.md/x", "x", 1, false };
	assert_int_equal(bpk_pkg__write_mem(entries, 2, &buf, &len), -EINVAL);
	/* Data missing for a non-empty entry. */
	entries[1] = (struct bpk_pkg_entry){ "x", NULL, 1, false };
	assert_int_equal(bpk_pkg__write_mem(entries, 2, &buf, &len), -EINVAL);
	/* A valid path that ustar cannot hold: over 100 bytes without a '/' to split at. */
	memset(unsplittable, 'n', sizeof(unsplittable) - 1);
	unsplittable[sizeof(unsplittable) - 1] = '\0';
	entries[1] = (struct bpk_pkg_entry){ unsplittable, "x", 1, false };
	assert_int_equal(bpk_pkg__write_mem(entries, 2, &buf, &len), -ENAMETOOLONG);
	assert_null(buf);
	assert_int_equal(bpk_pkg__write_file(entries, 2, "/nonexistent-dir/x.bpk"), -ENAMETOOLONG);
	entries[1] = (struct bpk_pkg_entry){ "x", "x", 1, false };
	assert_int_equal(bpk_pkg__write_file(entries, 2, "/nonexistent-dir/x.bpk"), -ENOENT);
}

/* A long path split over ustar's prefix and name fields comes back whole. */
static void test_long_path(void **state)
{
	struct bpk_pkg_entry files[2] = { { "README.md", readme, sizeof(readme) - 1, false } };
	BPK_OPTS(bpk_pkg_open_opts, opts, .no_manifest_check = false);
	struct bpk_diags diags = BPK_DIAGS_INIT;
	char path[256];
	struct bpk_pkg *pkg;
	size_t len, size;
	void *buf;

	memset(path, 'd', 150);
	path[150] = '/';
	memset(path + 151, 'f', 99);
	path[250] = '\0';
	files[1] = (struct bpk_pkg_entry){ path, "long", 4, false };
	buf = pack(files, 2, &len);
	pkg = bpk_pkg__open_mem(buf, len, &opts, &diags);
	assert_non_null(pkg);
	assert_int_equal(diags.cnt, 0);
	assert_memory_equal(bpk_pkg__file(pkg, path, &size), "long", 4);
	assert_int_equal(size, 4);
	bpk_pkg__free(pkg);
	free(buf);
}

/* ---- hostile containers ---- */

#define README_RAW { "README.md", 0, readme, sizeof(readme) - 1, NULL }

static void test_refuse_paths(void **state)
{
	const struct raw_entry absolute[] = { README_RAW, { "/etc/passwd", 0, "x", 1, NULL } };
	const struct raw_entry dotdot[] = { README_RAW, { "../evil", 0, "x", 1, NULL } };
	const struct raw_entry deep[] = { README_RAW, { "a/../../evil", 0, "x", 1, NULL } };
	const struct raw_entry dot[] = { { "./x", 0, "x", 1, NULL } };
	const struct raw_entry empty_comp[] = { { "a//b", 0, "x", 1, NULL } };
	const struct raw_entry backslash[] = { { "..\\evil", 0, "x", 1, NULL } };
	const struct raw_entry control[] = { { "a\x1b[2Jb", 0, "x", 1, NULL } };
	const struct raw_entry nameless[] = { README_RAW, { "", 0, "x", 1, NULL } };

	expect_raw_refused(absolute, 2, EINVAL, "/etc/passwd", "entry '/etc/passwd' is absolute");
	expect_raw_refused(dotdot, 2, EINVAL, "../evil", "entry '../evil' has a '..' component");
	expect_raw_refused(deep, 2, EINVAL, "a/../../evil", "has a '..' component");
	expect_raw_refused(dot, 1, EINVAL, "./x", "entry './x' has a '.' component");
	expect_raw_refused(empty_comp, 1, EINVAL, "a//b", "has an empty component");
	expect_raw_refused(backslash, 1, EINVAL, "..\\x5cevil", "contains a backslash");
	/* Shown escaped, so that printing the diagnostic cannot drive a terminal. */
	expect_raw_refused(control, 1, EINVAL, "a\\x1b[2Jb", "contains a control character");
	/* Found by the fuzzer: an empty name must be reported, not read past. */
	expect_raw_refused(nameless, 2, EINVAL, "", "entry '' has an empty path");
}

static void test_refuse_types(void **state)
{
	const struct raw_entry symlink[] = { README_RAW, { "bpf", AE_IFLNK, NULL, 0, "/etc" } };
	const struct raw_entry hardlink[] = { README_RAW, { "copy", 0, NULL, 0, "README.md" } };
	const struct raw_entry chr[] = { README_RAW, { "null", AE_IFCHR, NULL, 0, NULL } };
	const struct raw_entry blk[] = { README_RAW, { "disk", AE_IFBLK, NULL, 0, NULL } };
	const struct raw_entry fifo[] = { README_RAW, { "pipe", AE_IFIFO, NULL, 0, NULL } };
	const struct raw_entry dir[] = { { "bpf", AE_IFDIR, NULL, 0, NULL }, README_RAW };

	expect_raw_refused(symlink, 2, EINVAL, "bpf", "entry 'bpf' is a symbolic link");
	expect_raw_refused(hardlink, 2, EINVAL, "copy", "entry 'copy' is a hard link");
	expect_raw_refused(chr, 2, EINVAL, "null", "is a character device");
	expect_raw_refused(blk, 2, EINVAL, "disk", "is a block device");
	expect_raw_refused(fifo, 2, EINVAL, "pipe", "is a fifo");
	/* ustar stores a directory's name with a trailing '/'. */
	expect_raw_refused(dir, 2, EINVAL, "bpf/", "is a directory");
}

static void test_refuse_duplicates(void **state)
{
	const struct raw_entry dup[] = { README_RAW, { "bpf/x.o", 0, "1", 1, NULL },
					 { "README.md", 0, "other", 5, NULL } };
	const struct raw_entry clash[] = { { "bpf", 0, "file", 4, NULL },
					   { "bpf/x.o", 0, "obj", 3, NULL } };

	expect_raw_refused(dup, 3, EINVAL, "README.md", "entry 'README.md' appears more than once");
	expect_raw_refused(clash, 2, EINVAL, "bpf/x.o", "lies below 'bpf', which is a file");
}

static void test_refuse_limits(void **state)
{
	const struct raw_entry many[] = { { "a", 0, "a", 1, NULL }, { "b", 0, "b", 1, NULL },
					  { "c", 0, "c", 1, NULL }, { "d", 0, "d", 1, NULL },
					  { "e", 0, "e", 1, NULL } };
	const struct raw_entry big[] = { README_RAW, { "big.bin", 0, NULL, 2000, NULL } };
	const struct raw_entry sum[] = { { "part1", 0, NULL, 512 << 10, NULL },
					 { "part2", 0, NULL, 512 << 10, NULL },
					 { "part3", 0, NULL, 512 << 10, NULL } };
	BPK_OPTS(bpk_pkg_open_opts, few, .max_entries = 3);
	BPK_OPTS(bpk_pkg_open_opts, small, .max_expanded = 1000);
	BPK_OPTS(bpk_pkg_open_opts, mib, .max_expanded = 1 << 20);
	BPK_OPTS(bpk_pkg_open_opts, tiny, .max_compressed = 100);
	size_t len;
	void *buf;

	buf = raw_archive(many, ARRAY_SIZE(many), true, &len);
	expect_refused(buf, len, &few, EFBIG, "E013", "d", "is past the limit of 3 entries");
	/* Past the compressed limit before a byte is decompressed. */
	expect_refused(buf, len, &tiny, EFBIG, "E013", NULL, "past the limit of 100 bytes");
	free(buf);

	buf = raw_archive(big, ARRAY_SIZE(big), true, &len);
	expect_refused(buf, len, &small, EFBIG, "E013", "big.bin",
		       "past the limit of 1000 expanded bytes");
	free(buf);

	/* Each entry fits, their sum does not. */
	buf = raw_archive(sum, ARRAY_SIZE(sum), true, &len);
	expect_refused(buf, len, &mib, EFBIG, "E013", "part3",
		       "past the limit of 1048576 expanded bytes");
	free(buf);
}

/* 70 MiB of zeros compress to a few dozen KiB: refused at the default limit, not unpacked. */
static void test_refuse_bomb(void **state)
{
	const struct raw_entry bomb[] = { README_RAW, { "bomb.bin", 0, NULL, 70 << 20, NULL } };
	size_t len;
	void *buf = raw_archive(bomb, ARRAY_SIZE(bomb), true, &len);

	assert_true(len < (1 << 20));
	expect_refused(buf, len, NULL, EFBIG, "E013", "bomb.bin",
		       "past the limit of 67108864 expanded bytes");
	free(buf);
}

/* Overwrite the size field of the first ustar header and fix its checksum. */
static void patch_ustar_size(unsigned char *tar, unsigned long size)
{
	unsigned int sum = 0;
	size_t i;

	snprintf((char *)tar + 124, 12, "%011lo", size);
	memset(tar + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += tar[i];
	snprintf((char *)tar + 148, 8, "%06o", sum);
	tar[155] = ' ';
}

static void test_refuse_lying_header(void **state)
{
	const struct raw_entry one[] = { { "liar.bin", 0, "0123456789", 10, NULL } };
	BPK_OPTS(bpk_pkg_open_opts, small, .max_expanded = 1000);
	size_t tar_len, len;
	void *tar = raw_archive(one, 1, false, &tar_len), *buf;

	/* A header that claims more than the archive holds: refused, never over-read. */
	patch_ustar_size(tar, 300000);
	buf = gzip_raw(tar, tar_len, &len);
	expect_refused(buf, len, &small, EFBIG, "E013", "liar.bin", "declares 300000 bytes");
	expect_refused(buf, len, NULL, EINVAL, "E013", "liar.bin", "cannot be read");
	free(buf);
	free(tar);
}

static void test_refuse_corrupt(void **state)
{
	static const unsigned char garbage[] = "this is not a package at all, just some text...";
	const struct raw_entry one[] = { README_RAW };
	struct bpk_diags diags = BPK_DIAGS_INIT;
	size_t len, tar_len, cut;
	void *buf = pack(demo_files, DEMO_CNT, &len), *tar;

	expect_refused(garbage, sizeof(garbage), NULL, EINVAL, "E013", NULL, NULL);
	expect_refused("", 0, NULL, EINVAL, "E013", NULL, "empty");
	expect_refused(buf, 10, NULL, EINVAL, "E013", NULL, NULL);
	/* Cut anywhere, the package is refused with one E013 and no crash or leak. */
	for (cut = 11; cut < len; cut += len / 13 + 1) {
		assert_null(bpk_pkg__open_mem(buf, cut, NULL, &diags));
		assert_int_equal(errno, EINVAL);
		assert_int_equal(diags.cnt, 1);
		assert_string_equal(diags.items[0].id, "E013");
		bpk_diags__release(&diags);
	}
	/* One flipped byte in the middle of the deflate stream. */
	((unsigned char *)buf)[len / 2] ^= 0x55;
	assert_null(bpk_pkg__open_mem(buf, len, NULL, &diags));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(diags.cnt, 1);
	assert_string_equal(diags.items[0].id, "E013");
	bpk_diags__release(&diags);
	free(buf);

	/* A tar that is not compressed. */
	tar = raw_archive(one, 1, false, &tar_len);
	expect_refused(tar, tar_len, NULL, EINVAL, "E013", NULL, "not a gzip-compressed archive");
	free(tar);
}

/* ---- the manifest ---- */

static void test_refuse_manifest(void **state)
{
	static const char bad_json[] = "{\"bpk\": 1, \"name\": ";
	struct bpk_pkg_entry files[DEMO_CNT + 1];
	size_t len;
	void *buf;

	/* No bpk.json at all. */
	assert_int_equal(bpk_pkg__write_mem(demo_files, DEMO_CNT, &buf, &len), 0);
	expect_refused(buf, len, NULL, EINVAL, "E014", "bpk.json", "no bpk.json");
	free(buf);

	/* Not JSON: the manifest module says why. */
	memcpy(files, demo_files, sizeof(demo_files));
	files[DEMO_CNT] = (struct bpk_pkg_entry){ BPK_MANIFEST_PATH, bad_json,
						  sizeof(bad_json) - 1, false };
	assert_int_equal(bpk_pkg__write_mem(files, DEMO_CNT + 1, &buf, &len), 0);
	expect_refused(buf, len, NULL, EINVAL, "E001", "bpk.json", NULL);
	free(buf);
}

static void test_refuse_files_mismatch(void **state)
{
	struct bpk_pkg_entry files[DEMO_CNT + 1];
	BPK_OPTS(bpk_pkg_open_opts, lax, .no_manifest_check = true);
	struct bpk_diags diags = BPK_DIAGS_INIT;
	char listed_digest[65], real_digest[65], want[256];
	struct bpk_pkg *pkg;
	size_t len;
	void *buf;

	/* An entry the manifest does not list. */
	memcpy(files, demo_files, sizeof(demo_files));
	files[DEMO_CNT] = (struct bpk_pkg_entry){ "extra.txt", "sneaky", 6, false };
	buf = pack_listing(files, DEMO_CNT + 1, demo_files, DEMO_CNT, &len, NULL);
	expect_refused(buf, len, NULL, EINVAL, "E008", "extra.txt",
		       "entry 'extra.txt' is not listed in bpk.json 'files'");
	/* Tools that show broken packages may skip the check. */
	pkg = bpk_pkg__open_mem(buf, len, &lax, &diags);
	assert_non_null(pkg);
	assert_int_equal(diags.cnt, 0);
	assert_int_equal(bpk_pkg__entry_cnt(pkg), DEMO_CNT + 2);
	bpk_pkg__free(pkg);
	free(buf);

	/* bpk.sig is the one file that is never listed. */
	files[DEMO_CNT] = (struct bpk_pkg_entry){ BPK_SIGNATURE_PATH, "{}", 2, false };
	buf = pack_listing(files, DEMO_CNT + 1, demo_files, DEMO_CNT, &len, NULL);
	pkg = bpk_pkg__open_mem(buf, len, NULL, &diags);
	assert_non_null(pkg);
	assert_int_equal(diags.cnt, 0);
	bpk_pkg__free(pkg);
	free(buf);

	/* A listed file that is missing (bpf/demo.o is files[3]). */
	buf = pack_listing(demo_files, DEMO_CNT - 1, demo_files, DEMO_CNT, &len, NULL);
	expect_refused(buf, len, NULL, EINVAL, "E008", "bpf/demo.o",
		       "entry 'bpf/demo.o' is listed in bpk.json 'files' but is not in the "
		       "package");
	free(buf);

	/* A size that differs. */
	memcpy(files, demo_files, sizeof(demo_files));
	files[1].size--;
	buf = pack_listing(files, DEMO_CNT, demo_files, DEMO_CNT, &len, NULL);
	snprintf(want, sizeof(want), "entry 'README.md' is %zu bytes but bpk.json 'files' says %zu",
		 files[1].size, demo_files[1].size);
	expect_refused(buf, len, NULL, EINVAL, "E008", "README.md", want);
	free(buf);

	/* Same size, other bytes: only the digest tells. */
	assert_int_equal(sizeof(tampered_readme), sizeof(readme));
	files[1] = (struct bpk_pkg_entry){ "README.md", tampered_readme, sizeof(readme) - 1,
					   false };
	buf = pack_listing(files, DEMO_CNT, demo_files, DEMO_CNT, &len, NULL);
	sha256_hex(readme, sizeof(readme) - 1, listed_digest);
	sha256_hex(tampered_readme, sizeof(readme) - 1, real_digest);
	snprintf(want, sizeof(want),
		 "entry 'README.md' has SHA-256 %s but bpk.json 'files' says %s", real_digest,
		 listed_digest);
	expect_refused(buf, len, NULL, EINVAL, "E008", "README.md", want);
	free(buf);
}

/* ---- files ---- */

static void test_open_file(void **state)
{
	_cleanup_free_ char *dir = test_temp_dir("test-pkg"), *path = path_join(dir, "demo.bpk");
	_cleanup_free_ char *missing = path_join(dir, "missing.bpk");
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_pkg *pkg;
	char digest[65], want[512];
	size_t len;
	void *buf = pack(demo_files, DEMO_CNT, &len);

	assert_int_equal(write_file_atomic(path, buf, len, 0644), 0);
	pkg = bpk_pkg__open(path, NULL, &diags);
	assert_non_null(pkg);
	assert_int_equal(diags.cnt, 0);
	sha256_hex(buf, len, digest);
	assert_string_equal(bpk_pkg__digest(pkg), digest);
	assert_int_equal(bpk_pkg__size(pkg), len);
	bpk_pkg__free(pkg);

	{
		BPK_OPTS(bpk_pkg_open_opts, opts, .max_compressed = len - 1);

		snprintf(want, sizeof(want), "'%s' is larger than the limit of %zu bytes", path,
			 len - 1);
		errno = 0;
		assert_null(bpk_pkg__open(path, &opts, &diags));
		assert_int_equal(errno, EFBIG);
		assert_int_equal(diags.cnt, 1);
		assert_string_equal(diags.items[0].id, "E013");
		assert_string_equal(diags.items[0].where, path);
		assert_string_equal(diags.items[0].message, want);
		bpk_diags__release(&diags);
	}

	/* A system error is errno's to tell, not a diagnostic about the package. */
	errno = 0;
	assert_null(bpk_pkg__open(missing, NULL, &diags));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(diags.cnt, 0);
	assert_null(bpk_pkg__open(dir, NULL, &diags));
	assert_int_equal(errno, EISDIR);

	test_rm_rf(dir);
	free(buf);
}

/* ---- extraction ---- */

static struct bpk_pkg *open_demo(void)
{
	struct bpk_pkg *pkg;
	size_t len;
	void *buf = pack(demo_files, DEMO_CNT, &len);

	pkg = bpk_pkg__open_mem(buf, len, NULL, NULL);
	assert_non_null(pkg);
	free(buf);
	return pkg;
}

static void test_extract(void **state)
{
	_cleanup_free_ char *dir = test_temp_dir("test-pkg"), *listing = NULL, *missing = NULL;
	struct bpk_pkg *pkg = open_demo();
	mode_t old_umask;
	struct stat st;
	size_t i, len;

	/* The recorded modes, whatever the umask. */
	old_umask = umask(077);
	assert_int_equal(bpk_pkg__extract(pkg, dir), 0);
	umask(old_umask);
	for (i = 0; i < DEMO_CNT; i++) {
		_cleanup_free_ char *path = path_join(dir, demo_files[i].path), *data = NULL;

		assert_int_equal(read_file(path, SIZE_MAX, &data, &len), 0);
		assert_int_equal(len, demo_files[i].size);
		assert_memory_equal(data, demo_files[i].data, len);
		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, demo_files[i].executable ? 0755 : 0644);
	}
	listing = list_dir(dir);
	assert_string_equal(listing, "README.md,bpf,bpk.json,tests,tools");

	/* Nothing is overwritten: a second extraction fails and leaves the first intact. */
	assert_int_equal(bpk_pkg__extract(pkg, dir), -EEXIST);
	free(listing);
	listing = list_dir(dir);
	assert_string_equal(listing, "README.md,bpf,bpk.json,tests,tools");

	missing = path_join(dir, "missing");
	assert_int_equal(bpk_pkg__extract(pkg, missing), -ENOENT);

	test_rm_rf(dir);
	bpk_pkg__free(pkg);
}

static void test_extract_symlink(void **state)
{
	_cleanup_free_ char *dir = test_temp_dir("test-pkg"), *outside = test_temp_dir("test-pkg");
	_cleanup_free_ char *link = path_join(dir, "bpf"), *listing = NULL;
	struct bpk_pkg *pkg = open_demo();
	char target[PATH_MAX];
	ssize_t n;
	int err;

	/* bpf -> a directory outside: writing bpf/demo.o through it would escape. */
	assert_int_equal(symlink(outside, link), 0);
	err = bpk_pkg__extract(pkg, dir);
	assert_true(err == -ELOOP || err == -ENOTDIR);
	listing = list_dir(outside);
	assert_string_equal(listing, "");
	free(listing);
	/* README.md, written before bpf/, was taken back; the symlink itself is untouched. */
	listing = list_dir(dir);
	assert_string_equal(listing, "bpf");
	n = readlink(link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, outside);

	test_rm_rf(dir);
	test_rm_rf(outside);
	bpk_pkg__free(pkg);
}

static void test_extract_undo(void **state)
{
	_cleanup_free_ char *dir = test_temp_dir("test-pkg"), *listing = NULL, *data = NULL;
	_cleanup_free_ char *tools = path_join(dir, "tools"), *there = path_join(tools, "run.sh");
	struct bpk_pkg *pkg = open_demo();
	size_t len;

	/*
	 * tools/run.sh exists already, in a directory that is not bpk's: extraction fails on
	 * the last entry, and removes every file and directory it created, but nothing else.
	 */
	assert_int_equal(mkdir(tools, 0755), 0);
	assert_int_equal(write_file_atomic(there, "mine", 4, 0600), 0);
	assert_int_equal(bpk_pkg__extract(pkg, dir), -EEXIST);
	listing = list_dir(dir);
	assert_string_equal(listing, "tools");
	free(listing);
	listing = list_dir(tools);
	assert_string_equal(listing, "run.sh");
	assert_int_equal(read_file(there, 100, &data, &len), 0);
	assert_string_equal(data, "mine");

	test_rm_rf(dir);
	bpk_pkg__free(pkg);
}

/* ---- the fuzzer's corpus, replayed: whatever a seed holds, no crash and a clear answer ---- */

static void test_corpus(void **state)
{
	const char *srcdir = getenv("BPK_TEST_SRCDIR");
	struct dirent **names = NULL;
	char dir[PATH_MAX];
	size_t replayed = 0;
	int n, i;

	if (!srcdir) {
		print_message("skipped: BPK_TEST_SRCDIR is not set, so the corpus is not found\n");
		skip();
	}
	snprintf(dir, sizeof(dir), "%s/../fuzz/corpus/pkg", srcdir);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		fail_msg("cannot read the seed corpus %s: %s", dir, strerror(errno));
	for (i = 0; i < n; i++) {
		BPK_OPTS(bpk_pkg_open_opts, opts, .max_compressed = 1 << 20,
			 .max_expanded = 1 << 20, .max_entries = 64);
		_cleanup_free_ char *path = path_join(dir, names[i]->d_name), *data = NULL;
		struct bpk_diags diags = BPK_DIAGS_INIT;
		struct bpk_pkg *pkg;
		size_t len;

		if (names[i]->d_name[0] != '.' &&
		    read_file(path, 1 << 20, &data, &len) == 0) {
			pkg = bpk_pkg__open_mem(data, len, &opts, &diags);
			/* The valid seeds stay valid as the manifest rules evolve. */
			if (str_has_prefix(names[i]->d_name, "valid-") && !pkg)
				fail_msg("seed %s is refused: %s", names[i]->d_name,
					 diags.cnt ? diags.items[0].message : strerror(errno));
			/* Refused with a reason, or accepted without one. */
			if (pkg)
				assert_int_equal(bpk_diags__count(&diags, BPK_SEV_ERROR), 0);
			else if (errno != ENOMEM)
				assert_non_null(bpk_diags__first_error(&diags));
			bpk_pkg__free(pkg);
			bpk_diags__release(&diags);
			replayed++;
		}
		free(names[i]);
	}
	free(names);
	assert_true(replayed > 0);
}

/* ---- the seed corpus of fuzz/fuzz-pkg.c ---- */

static void write_seed(const char *dir, const char *name, const void *buf, size_t len)
{
	_cleanup_free_ char *path = path_join(dir, name);

	assert_int_equal(write_file_atomic(path, buf, len, 0644), 0);
}

static void write_raw_seed(const char *dir, const char *name, const struct raw_entry *entries,
			   size_t cnt)
{
	size_t len;
	void *buf = raw_archive(entries, cnt, true, &len);

	write_seed(dir, name, buf, len);
	free(buf);
}

/*
 * BPK_PKG_WRITE_CORPUS=DIR test-pkg (re)writes the fuzzer's seeds instead of testing: valid
 * packages from bpk's writer, and the hostile archives of the tests above, small enough for
 * its 1 MiB limits.
 */
static void test_write_corpus(void **state)
{
	const char *dir = getenv("BPK_PKG_WRITE_CORPUS");
	const struct raw_entry dotdot[] = { README_RAW, { "../evil", 0, "x", 1, NULL } };
	const struct raw_entry absolute[] = { README_RAW, { "/etc/passwd", 0, "x", 1, NULL } };
	const struct raw_entry symlink[] = { README_RAW, { "bpf", AE_IFLNK, NULL, 0, "/etc" } };
	const struct raw_entry hardlink[] = { README_RAW, { "copy", 0, NULL, 0, "README.md" } };
	const struct raw_entry chr[] = { README_RAW, { "null", AE_IFCHR, NULL, 0, NULL } };
	const struct raw_entry fifo[] = { README_RAW, { "pipe", AE_IFIFO, NULL, 0, NULL } };
	const struct raw_entry dir_entry[] = { { "bpf", AE_IFDIR, NULL, 0, NULL }, README_RAW };
	const struct raw_entry dup[] = { README_RAW, README_RAW };
	const struct raw_entry clash[] = { { "bpf", 0, "file", 4, NULL },
					   { "bpf/x.o", 0, "obj", 3, NULL } };
	const struct raw_entry bomb[] = { README_RAW, { "bomb.bin", 0, NULL, 2 << 20, NULL } };
	struct bpk_pkg_entry files[DEMO_CNT + 1], long_files[2];
	struct raw_entry many[65];
	char names[65][8], long_path[251];
	size_t len, tar_len, i;
	void *buf, *tar;

	buf = pack(demo_files, DEMO_CNT, &len);
	write_seed(dir, "valid-demo.bpk", buf, len);
	write_seed(dir, "truncated.bpk", buf, len / 2);
	/* The fuzzer gzips what is not gzip already: a bare tar lets it mutate the tar itself. */
	tar = gunzip_raw(buf, len, &tar_len);
	write_seed(dir, "tar-demo.tar", tar, tar_len);
	free(tar);
	free(buf);

	memcpy(files, demo_files, sizeof(demo_files));
	files[DEMO_CNT] = (struct bpk_pkg_entry){ BPK_SIGNATURE_PATH, "{\"signatures\":[]}", 17,
						  false };
	buf = pack_listing(files, DEMO_CNT + 1, demo_files, DEMO_CNT, &len, NULL);
	write_seed(dir, "valid-signed.bpk", buf, len);
	free(buf);

	memset(long_path, 'd', 150);
	long_path[150] = '/';
	memset(long_path + 151, 'f', 99);
	long_path[250] = '\0';
	long_files[0] = demo_files[1];
	long_files[1] = (struct bpk_pkg_entry){ long_path, "", 0, false };
	buf = pack(long_files, 2, &len);
	write_seed(dir, "valid-long-path.bpk", buf, len);
	free(buf);

	files[DEMO_CNT] = (struct bpk_pkg_entry){ "extra.txt", "sneaky", 6, false };
	buf = pack_listing(files, DEMO_CNT + 1, demo_files, DEMO_CNT, &len, NULL);
	write_seed(dir, "unlisted.bpk", buf, len);
	free(buf);
	buf = pack_listing(demo_files, DEMO_CNT - 1, demo_files, DEMO_CNT, &len, NULL);
	write_seed(dir, "missing-file.bpk", buf, len);
	free(buf);
	memcpy(files, demo_files, sizeof(demo_files));
	files[1].size--;
	buf = pack_listing(files, DEMO_CNT, demo_files, DEMO_CNT, &len, NULL);
	write_seed(dir, "size-mismatch.bpk", buf, len);
	free(buf);
	files[1] = (struct bpk_pkg_entry){ "README.md", tampered_readme, sizeof(readme) - 1,
					   false };
	buf = pack_listing(files, DEMO_CNT, demo_files, DEMO_CNT, &len, NULL);
	write_seed(dir, "digest-mismatch.bpk", buf, len);
	free(buf);
	assert_int_equal(bpk_pkg__write_mem(demo_files, DEMO_CNT, &buf, &len), 0);
	write_seed(dir, "no-manifest.bpk", buf, len);
	free(buf);
	memcpy(files, demo_files, sizeof(demo_files));
	files[DEMO_CNT] = (struct bpk_pkg_entry){ BPK_MANIFEST_PATH, "{\"bpk\": 1, \"name\": ", 19,
						  false };
	assert_int_equal(bpk_pkg__write_mem(files, DEMO_CNT + 1, &buf, &len), 0);
	write_seed(dir, "bad-json.bpk", buf, len);
	free(buf);

	write_raw_seed(dir, "dotdot.bpk", dotdot, ARRAY_SIZE(dotdot));
	write_raw_seed(dir, "absolute.bpk", absolute, ARRAY_SIZE(absolute));
	write_raw_seed(dir, "symlink.bpk", symlink, ARRAY_SIZE(symlink));
	write_raw_seed(dir, "hardlink.bpk", hardlink, ARRAY_SIZE(hardlink));
	write_raw_seed(dir, "chr.bpk", chr, ARRAY_SIZE(chr));
	write_raw_seed(dir, "fifo.bpk", fifo, ARRAY_SIZE(fifo));
	write_raw_seed(dir, "directory.bpk", dir_entry, ARRAY_SIZE(dir_entry));
	write_raw_seed(dir, "duplicate.bpk", dup, ARRAY_SIZE(dup));
	write_raw_seed(dir, "clash.bpk", clash, ARRAY_SIZE(clash));
	write_raw_seed(dir, "bomb.bpk", bomb, ARRAY_SIZE(bomb));
	for (i = 0; i < ARRAY_SIZE(many); i++) {
		snprintf(names[i], sizeof(names[i]), "f%zu", i);
		many[i] = (struct raw_entry){ names[i], 0, "x", 1, NULL };
	}
	write_raw_seed(dir, "many-entries.bpk", many, ARRAY_SIZE(many));

	tar = raw_archive(dotdot, 1, false, &tar_len);
	write_seed(dir, "plain-tar.bpk", tar, tar_len);
	patch_ustar_size(tar, 300000);
	buf = gzip_raw(tar, tar_len, &len);
	write_seed(dir, "lying-header.bpk", buf, len);
	free(buf);
	free(tar);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_valid),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_write_refuses),
		cmocka_unit_test(test_long_path),
		cmocka_unit_test(test_refuse_paths),
		cmocka_unit_test(test_refuse_types),
		cmocka_unit_test(test_refuse_duplicates),
		cmocka_unit_test(test_refuse_limits),
		cmocka_unit_test(test_refuse_bomb),
		cmocka_unit_test(test_refuse_lying_header),
		cmocka_unit_test(test_refuse_corrupt),
		cmocka_unit_test(test_refuse_manifest),
		cmocka_unit_test(test_refuse_files_mismatch),
		cmocka_unit_test(test_open_file),
		cmocka_unit_test(test_extract),
		cmocka_unit_test(test_extract_symlink),
		cmocka_unit_test(test_extract_undo),
		cmocka_unit_test(test_corpus),
	};
	const struct CMUnitTest write_corpus[] = {
		cmocka_unit_test(test_write_corpus),
	};

	/* The library never prints; keep it so even for warnings. */
	bpk_set_print(NULL);
	if (getenv("BPK_PKG_WRITE_CORPUS"))
		return cmocka_run_group_tests(write_corpus, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

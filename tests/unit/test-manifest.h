/* SPDX-License-Identifier: BSD-2-Clause */
/* The manifest of the demonstration package that unit tests pack and sign. Include after cmocka.h. */
#ifndef BPK_TEST_MANIFEST_H
#define BPK_TEST_MANIFEST_H

#include <jansson.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"

/*
 * A packed manifest (bpk.json) for name@version with one XDP program in bpf/demo.o, whose
 * "files" list files with their real sizes and digests. The caller frees it.
 */
static inline char *test_manifest(const char *name, const char *version,
				  const struct bpk_pkg_entry *files, size_t cnt)
{
	json_t *root, *list = json_array();
	char digest[65];
	char *text;
	size_t i;

	assert_non_null(list);
	for (i = 0; i < cnt; i++) {
		assert_int_equal(bpk_sha256_hex(files[i].data, files[i].size, digest), 0);
		assert_int_equal(json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "path",
								       files[i].path, "sha256",
								       digest, "size",
								       (json_int_t)files[i].size)),
				 0);
	}
	root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:[s], s:[s], s:[{s:s, s:s, s:s, s:s, s:s, "
			 "s:s, s:[], s:[], s:[]}], s:[], s:o}",
			 "bpk", 1, "name", name, "version", version, "description",
			 "A demonstration package", "license", "GPL-2.0-only", "authors",
			 "Jane Doe <jane@example.org>", "platforms", "linux", "programs", "name",
			 "xdp_demo", "object", "bpf/demo.o", "section", "xdp", "type", "xdp",
			 "attach", "xdp", "chain", "tailcall", "helpers", "kfuncs", "maps", "maps",
			 "files", list);
	assert_non_null(root);
	text = bpk_json_dump(root, NULL);
	assert_non_null(text);
	json_decref(root);
	return text;
}

#endif

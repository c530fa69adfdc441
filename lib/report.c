// SPDX-License-Identifier: BSD-2-Clause
/* Reports that combine modules: a package's manifest, entries and inspected objects as JSON. */
#include <string.h>

#include "bpk_internal.h"

char *bpk_pkg__inspect_json(const struct bpk_pkg *pkg)
{
	const struct bpk_manifest *m = bpk_pkg__manifest(pkg);
	_cleanup_json_ json_t *root = NULL;
	json_t *entries, *objects;
	size_t i, n = bpk_pkg__entry_cnt(pkg);

	root = json_pack("{s:s, s:s, s:s, s:s, s:I, s:O, s:[], s:{}}", "name",
			 bpk_manifest__name(m), "version", bpk_manifest__version(m), "feed",
			 bpk_manifest__feed(m), "digest", bpk_pkg__digest(pkg), "size",
			 (json_int_t)bpk_pkg__size(pkg), "manifest", bpk_manifest_json(m),
			 "entries", "objects");
	if (!root)
		goto nomem;
	entries = json_object_get(root, "entries");
	objects = json_object_get(root, "objects");
	for (i = 0; i < n; i++) {
		const void *data;
		size_t size;
		const char *path = bpk_pkg__entry(pkg, i, &data, &size);
		struct bpk_obj_info *obj;
		json_t *report;

		if (json_array_append_new(entries, json_pack("{s:s, s:I}", "path", path, "size",
							     (json_int_t)size)))
			goto nomem;
		if (!bpk_path_is_object(path))
			continue;
		obj = bpk_obj_info__inspect_mem(data, size, path, NULL);
		if (!obj)
			return NULL;
		report = bpk_obj_info_json(obj);
		bpk_obj_info__free(obj);
		if (!report || json_object_set_new(objects, path, report))
			goto nomem;
	}
	return bpk_json_dump(root, NULL);
nomem:
	errno = ENOMEM;
	return NULL;
}

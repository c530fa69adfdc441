// SPDX-License-Identifier: BSD-2-Clause
/* Lint: the rules that make a package acceptable, run on a source directory or a package. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/bpf.h>

#include "bpk_internal.h"

#define MAX_SOURCE_FILE (64U << 20)
#define SHORT_README 120

/* A file of the package being linted, wherever it lives. */
struct lint_file {
	char *path;
	const void *data;
	size_t size;
	char *owned; /* data read from disk, freed with the file */
};

struct lint_input {
	struct lint_file *files;
	size_t file_cnt;
	const struct bpk_manifest *manifest; /* NULL when bpk.json is missing or invalid */
	bool packed;
};

static const struct lint_file *input_file(const struct lint_input *in, const char *path)
{
	size_t i;

	for (i = 0; i < in->file_cnt; i++)
		if (!strcmp(in->files[i].path, path))
			return &in->files[i];
	return NULL;
}

bool bpk_path_is_object(const char *path)
{
	return str_has_prefix(path, "bpf/") && str_has_suffix(path, ".o") && !strchr(path + 4, '/');
}

bool bpk_path_is_test_vector(const char *path)
{
	return str_has_prefix(path, "tests/") && str_has_suffix(path, ".json") &&
	       !strchr(path + strlen("tests/"), '/');
}

/* ---- the rules ---- */

static void lint_docs(const struct lint_input *in, struct bpk_diags *diags)
{
	const struct lint_file *readme = input_file(in, "README.md");

	if (!readme || readme->size == 0)
		bpk_diags__add(diags, BPK_E_MISSING_README, "README.md",
			       readme ? "README.md is empty" : "README.md is missing");
	else if (readme->size < SHORT_README)
		bpk_diags__add(diags, BPK_W_SHORT_README, "README.md",
			       "README.md has %zu bytes; say what the program does, its maps and how to configure it",
			       readme->size);
	if (in->manifest && !bpk_manifest__license_is_single_id(in->manifest) &&
	    !input_file(in, "LICENSE"))
		bpk_diags__add(diags, BPK_E_MISSING_LICENSE, "LICENSE",
			       "'license' is \"%s\", not a single SPDX id, so a LICENSE file is required",
			       bpk_manifest__license(in->manifest));
}

/* Whether an SPDX expression names a GPL family license anywhere. */
static bool spdx_mentions_gpl(const char *expr)
{
	return expr && (strstr(expr, "GPL-") || strstr(expr, "GPL+"));
}

static bool reads_kernel_memory(const struct bpk_prog_report *p)
{
	static const int tracing_types[] = {
		BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_TRACEPOINT, BPF_PROG_TYPE_RAW_TRACEPOINT,
		BPF_PROG_TYPE_PERF_EVENT, BPF_PROG_TYPE_TRACING, BPF_PROG_TYPE_LSM,
		BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tracing_types); i++)
		if (p->prog_type == tracing_types[i])
			return true;
	for (i = 0; i < p->helper_cnt; i++)
		if (strstr(p->helpers[i], "probe_read"))
			return true;
	return false;
}

/* Capabilities a reviewer must see declared: they reach beyond the program's own packet. */
static bool capability_is_sensitive(enum bpk_capability cap)
{
	switch (cap) {
	case BPK_CAP_READ_KERNEL_MEMORY:
	case BPK_CAP_READ_USER_MEMORY:
	case BPK_CAP_WRITE_USER_MEMORY:
	case BPK_CAP_OVERRIDE_RETURN:
	case BPK_CAP_SEND_SIGNALS:
	case BPK_CAP_BPF_SYSCALL:
		return true;
	default:
		return false;
	}
}

/*
 * The author's "capabilities" allow-list bounds what every program may do; without one,
 * sensitive capabilities are pointed out so that the author declares them.
 */
static int lint_capabilities(const struct lint_input *in, const char *where,
			     const struct bpk_obj_info *obj, const struct bpk_prog_report *p,
			     struct bpk_diags *diags)
{
	json_t *allowed = in->manifest ? json_object_get(bpk_manifest_json(in->manifest),
							 "capabilities")
				       : NULL;
	struct bpk_capability_list caps;
	size_t i, j;
	int err = bpk_capabilities__of_prog(obj, p, &caps);

	if (err)
		return err;
	for (i = 0; i < caps.cnt; i++) {
		const struct bpk_capability_finding *f = &caps.items[i];
		bool listed = false;

		for (j = 0; j < json_array_size(allowed); j++)
			listed |= !strcmp(json_string_value(json_array_get(allowed, j)) ?: "", f->id);
		if (allowed && !listed)
			bpk_diags__add(diags, BPK_E_CAPABILITY, where,
				       "program '%s' %s (%s: %s) but 'capabilities' does not allow %s",
				       p->name, f->words, f->id, f->evidence, f->id);
		else if (!allowed && capability_is_sensitive(f->cap))
			bpk_diags__add(diags, BPK_W_UNDECLARED_CAPABILITY, where,
				       "program '%s' %s (%s: %s); declare it in bpk.json \"capabilities\" so reviewers and trust policies see it",
				       p->name, f->words, f->id, f->evidence);
	}
	bpk_capability_list__release(&caps);
	return 0;
}

static void lint_object(const struct lint_input *in, const char *path,
			const struct bpk_obj_info *obj, struct bpk_diags *diags)
{
	const struct bpk_manifest *m = in->manifest;
	const char *kreq = m ? bpk_manifest__kernel_req(m) : NULL;
	bool gpl_ok = bpk_spdx__is_gpl_compatible(obj->license);
	bool needs_core = false;
	char where[512];
	size_t i, j;

	if (!obj->has_btf)
		bpk_diags__add(diags, BPK_W_NO_BTF, path,
			       "'%s' has no BTF: build it with -g so the kernel and tools can read its types",
			       path);
	if (!obj->license)
		bpk_diags__add(diags, BPK_E_NO_LICENSE_STRING, path,
			       "'%s' has no \"license\" section (add: char LICENSE[] SEC(\"license\") = \"GPL\";)",
			       path);
	else if (m && spdx_mentions_gpl(bpk_manifest__license(m)) != gpl_ok)
		bpk_diags__add(diags, BPK_W_LICENSE_STRING, path,
			       "'%s' declares license \"%s\" to the kernel but bpk.json says \"%s\"",
			       path, obj->license, bpk_manifest__license(m));

	for (i = 0; i < obj->prog_cnt; i++) {
		const struct bpk_prog_report *p = &obj->progs[i];

		snprintf(where, sizeof(where), "%s:%s", path, p->name);
		for (j = 0; obj->license && !gpl_ok && j < p->helper_cnt; j++)
			if (bpk_helper__gpl_only(p->helper_ids[j]))
				bpk_diags__add(diags, BPK_E_GPL_HELPER, where,
					       "program '%s' calls GPL-only helper %s but '%s' has license \"%s\"; the kernel will refuse to load it",
					       p->name, p->helpers[j], path, obj->license);
		if (m && (bpk_manifest__platforms(m) & BPK_PLATFORM_WINDOWS)) {
			if (!bpk_prog_type__on_windows(p->type))
				bpk_diags__add(diags, BPK_E_WINDOWS_UNSUPPORTED, where,
					       "program '%s' has type %s, which eBPF for Windows does not support",
					       p->name, p->type);
			for (j = 0; j < p->helper_cnt; j++)
				if (!bpk_helper__on_windows(p->helpers[j]))
					bpk_diags__add(diags, BPK_E_WINDOWS_UNSUPPORTED, where,
						       "program '%s' calls %s, which eBPF for Windows does not provide",
						       p->name, p->helpers[j]);
		}
		needs_core |= reads_kernel_memory(p);
		lint_capabilities(in, where, obj, p, diags);
	}
	/* CO-RE only matters for code that reads kernel structures whose layout varies. */
	if (needs_core && obj->core_relo_cnt == 0 && (!kreq || bpk_kernel_req__spans_versions(kreq)))
		bpk_diags__add(diags, BPK_W_NO_CORE, path,
			       "'%s' reads kernel memory without CO-RE relocations but requires.kernel is \"%s\"; use BPF_CORE_READ so one object runs on every kernel",
			       path, kreq ? kreq : "(any)");
}

static int lint_objects(const struct lint_input *in, struct bpk_diags *diags)
{
	const struct bpk_obj_info **objs;
	const char **paths;
	size_t i, n = 0, seen = 0;
	int err = 0;

	objs = calloc(in->file_cnt, sizeof(*objs));
	paths = calloc(in->file_cnt, sizeof(*paths));
	if (!objs || !paths) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < in->file_cnt; i++) {
		const struct lint_file *f = &in->files[i];
		struct bpk_obj_info *obj;

		if (!bpk_path_is_object(f->path))
			continue;
		seen++;
		obj = bpk_obj_info__inspect_mem(f->data, f->size, f->path, diags);
		if (!obj) {
			if (errno == ENOMEM) {
				err = -ENOMEM;
				goto out;
			}
			continue; /* E012 is in diags */
		}
		objs[n] = obj;
		paths[n++] = f->path;
		lint_object(in, f->path, obj, diags);
	}
	if (!seen)
		bpk_diags__add(diags, BPK_E_NO_OBJECTS, "bpf/",
			       "the package has no BPF object under bpf/ (run 'bpk build')");
	if (in->manifest && n)
		bpk_manifest__check_derived(in->manifest, objs, paths, n, diags);
out:
	for (i = 0; objs && i < n; i++)
		bpk_obj_info__free((struct bpk_obj_info *)objs[i]);
	free(objs);
	free(paths);
	return err;
}

/* In a source dir the "files" list, when present, must match what pack would write. */
static void lint_file_list(const struct lint_input *in, struct bpk_diags *diags)
{
	const struct bpk_manifest *m = in->manifest;
	char digest[65];
	size_t i;

	if (!m || in->packed || !bpk_manifest__has_derived(m))
		return;
	for (i = 0; i < bpk_manifest__file_cnt(m); i++) {
		const struct bpk_manifest_file *mf = bpk_manifest__file(m, i);
		const struct lint_file *f = input_file(in, mf->path);

		if (!f) {
			bpk_diags__add(diags, BPK_E_FILES_MISMATCH, mf->path,
				       "'%s' is listed in bpk.json 'files' but missing", mf->path);
			continue;
		}
		if (f->size != mf->size || bpk_sha256_hex(f->data, f->size, digest) ||
		    strcmp(digest, mf->sha256))
			bpk_diags__add(diags, BPK_E_FILES_MISMATCH, mf->path,
				       "'%s' changed since bpk.json 'files' was written (run 'bpk pack')",
				       mf->path);
	}
	for (i = 0; i < in->file_cnt; i++)
		if (strcmp(in->files[i].path, BPK_MANIFEST_PATH) &&
		    !bpk_manifest__find_file(m, in->files[i].path))
			bpk_diags__add(diags, BPK_E_FILES_MISMATCH, in->files[i].path,
				       "'%s' is not listed in bpk.json 'files' (run 'bpk pack')",
				       in->files[i].path);
}

static void lint_metadata(const struct lint_input *in, struct bpk_diags *diags)
{
	json_t *root, *maps, *map;
	size_t i, tests = 0;

	for (i = 0; i < in->file_cnt; i++)
		tests += bpk_path_is_test_vector(in->files[i].path);
	if (!tests)
		bpk_diags__add(diags, BPK_W_NO_TESTS, "tests/",
			       "no test vectors under tests/: add tests/NAME.json so 'bpk test' can check the programs");
	if (!in->manifest)
		return;
	root = bpk_manifest_json(in->manifest);
	if (!json_object_get(root, "source"))
		bpk_diags__add(diags, BPK_W_NO_SOURCE, "source",
			       "no 'source.url': reviewers cannot find the code the objects were built from");
	if (!bpk_manifest__kernel_req(in->manifest))
		bpk_diags__add(diags, BPK_W_NO_KERNEL_REQ, "requires.kernel",
			       "no 'requires.kernel': say which kernels the programs need (e.g. \">=5.15\")");
	maps = json_object_get(root, "maps");
	json_array_foreach(maps, i, map) {
		if (json_is_true(json_object_get(map, "config")) &&
		    !json_object_get(map, "description"))
			bpk_diags__add(diags, BPK_W_NO_DESCRIPTION_MAP, "maps",
				       "configuration map '%s' has no description",
				       json_string_value(json_object_get(map, "name")) ?: "?");
	}
}

static int lint_input(const struct lint_input *in, struct bpk_diags *diags)
{
	int err;

	lint_docs(in, diags);
	err = lint_objects(in, diags);
	if (err)
		return err;
	lint_file_list(in, diags);
	lint_metadata(in, diags);
	return 0;
}

/* ---- inputs ---- */

static void release_input(struct lint_input *in)
{
	size_t i;

	for (i = 0; i < in->file_cnt; i++) {
		free(in->files[i].path);
		free(in->files[i].owned);
	}
	free(in->files);
}

static int add_disk_file(struct lint_input *in, const char *dir, const char *rel)
{
	_cleanup_free_ char *full = path_join(dir, rel);
	struct lint_file *files, *f;
	int err;

	if (!full)
		return -ENOMEM;
	files = reallocarray(in->files, in->file_cnt + 1, sizeof(*files));
	if (!files)
		return -ENOMEM;
	in->files = files;
	f = &files[in->file_cnt];
	memset(f, 0, sizeof(*f));
	err = read_file(full, MAX_SOURCE_FILE, &f->owned, &f->size);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	f->data = f->owned;
	f->path = strdup(rel);
	if (!f->path) {
		free(f->owned);
		return -ENOMEM;
	}
	in->file_cnt++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int bpk_list_dir(const char *dir, const char *sub, const char *suffix, char ***ret_names,
		 size_t *ret_cnt)
{
	_cleanup_free_ char *path = sub ? path_join(dir, sub) : strdup(dir);
	char **names = NULL, **grown;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if (!path)
		return -ENOMEM;
	d = opendir(path);
	if (!d) {
		*ret_names = calloc(1, sizeof(char *));
		*ret_cnt = 0;
		return *ret_names ? 0 : -ENOMEM;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !str_has_suffix(de->d_name, suffix))
			continue;
		grown = reallocarray(names, n + 2, sizeof(*names));
		if (!grown)
			goto nomem;
		names = grown;
		names[n] = sub ? xasprintf("%s/%s", sub, de->d_name) : strdup(de->d_name);
		if (!names[n])
			goto nomem;
		names[++n] = NULL;
	}
	closedir(d);
	if (!names && !(names = calloc(1, sizeof(char *))))
		return -ENOMEM;
	qsort(names, n, sizeof(*names), cmp_str);
	*ret_names = names;
	*ret_cnt = n;
	return 0;
nomem:
	closedir(d);
	while (n)
		free(names[--n]);
	free(names);
	return -ENOMEM;
}

void bpk_free_names(char **names)
{
	size_t i;

	for (i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

int bpk_source_files(const char *dir, char ***ret_names, size_t *ret_cnt)
{
	static const char *const fixed[] = { "README.md", "LICENSE" };
	char **objs = NULL, **tests = NULL, **names = NULL;
	size_t i, n = 0, n_objs = 0, n_tests = 0;
	int err;

	err = bpk_list_dir(dir, "bpf", ".o", &objs, &n_objs);
	if (!err)
		err = bpk_list_dir(dir, "tests", ".json", &tests, &n_tests);
	if (!err && !(names = calloc(ARRAY_SIZE(fixed) + n_objs + n_tests + 1, sizeof(*names))))
		err = -ENOMEM;
	for (i = 0; !err && i < ARRAY_SIZE(fixed); i++) {
		_cleanup_free_ char *full = path_join(dir, fixed[i]);

		if (!full)
			err = -ENOMEM;
		else if (access(full, F_OK) == 0 && !(names[n++] = strdup(fixed[i])))
			err = -ENOMEM;
	}
	/* The listed names move into the result. */
	for (i = 0; !err && i < n_objs; i++)
		names[n++] = TAKE_PTR(objs[i]);
	for (i = 0; !err && i < n_tests; i++)
		names[n++] = TAKE_PTR(tests[i]);
	bpk_free_names(objs);
	bpk_free_names(tests);
	if (err) {
		bpk_free_names(names);
		return err;
	}
	*ret_names = names;
	*ret_cnt = n;
	return 0;
}

int bpk_lint__dir(const char *dir, struct bpk_diags *diags)
{
	struct lint_input in = { 0 };
	struct bpk_manifest *m = NULL;
	const struct lint_file *mf;
	char **names = NULL;
	size_t i, n;
	struct stat st;
	int err;

	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	err = add_disk_file(&in, dir, BPK_MANIFEST_PATH);
	if (!err)
		err = bpk_source_files(dir, &names, &n);
	for (i = 0; !err && i < n; i++)
		err = add_disk_file(&in, dir, names[i]);
	if (err)
		goto out;
	mf = input_file(&in, BPK_MANIFEST_PATH);
	if (!mf)
		bpk_diags__add(diags, BPK_E_MISSING_MANIFEST, BPK_MANIFEST_PATH,
			       "bpk.json is missing (run 'bpk init' to create one)");
	else
		m = bpk_manifest__parse(mf->data, mf->size, BPK_MANIFEST_SOURCE, diags);
	in.manifest = m;
	err = lint_input(&in, diags);
out:
	bpk_manifest__free(m);
	bpk_free_names(names);
	release_input(&in);
	return err;
}

int bpk_lint__pkg(const struct bpk_pkg *pkg, struct bpk_diags *diags)
{
	struct lint_input in = { .manifest = bpk_pkg__manifest(pkg), .packed = true };
	size_t i, n = bpk_pkg__entry_cnt(pkg);
	int err;

	in.files = calloc(n ? n : 1, sizeof(*in.files));
	if (!in.files)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *path = bpk_pkg__entry(pkg, i, &in.files[i].data, &in.files[i].size);

		in.files[i].path = strdup(path);
		if (!in.files[i].path) {
			release_input(&in);
			return -ENOMEM;
		}
		in.file_cnt++;
	}
	err = lint_input(&in, diags);
	release_input(&in);
	return err;
}

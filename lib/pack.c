// SPDX-License-Identifier: BSD-2-Clause
/* Pack: derive the manifest's programs, maps and files from a source dir and write a .bpk. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bpk_internal.h"

#define MAX_PACK_FILE (64U << 20)

struct pack_file {
	char *path;
	char *data;
	size_t size;
	char sha256[65];
};

struct pack_state {
	struct pack_file *files;
	size_t file_cnt;
};

static void pack_state_release(struct pack_state *st)
{
	size_t i;

	for (i = 0; i < st->file_cnt; i++) {
		free(st->files[i].path);
		free(st->files[i].data);
	}
	free(st->files);
}

/* Read dir/rel into the package. */
static int pack_add(struct pack_state *st, const char *dir, const char *rel)
{
	_cleanup_free_ char *full = path_join(dir, rel);
	struct pack_file *files, *f;
	int err;

	if (!full)
		return -ENOMEM;
	files = reallocarray(st->files, st->file_cnt + 1, sizeof(*files));
	if (!files)
		return -ENOMEM;
	st->files = files;
	f = &files[st->file_cnt];
	memset(f, 0, sizeof(*f));
	err = read_file(full, MAX_PACK_FILE, &f->data, &f->size);
	if (err) {
		pr_warn("cannot read '%s': %s\n", full, strerror(-err));
		return err;
	}
	f->path = strdup(rel);
	if (!f->path || bpk_sha256_hex(f->data, f->size, f->sha256)) {
		free(f->path);
		free(f->data);
		return -ENOMEM;
	}
	st->file_cnt++;
	return 0;
}

static int collect(struct pack_state *st, const char *dir)
{
	char **names = NULL;
	size_t i, n = 0;
	int err = bpk_source_files(dir, &names, &n);

	for (i = 0; !err && i < n; i++)
		err = pack_add(st, dir, names[i]);
	bpk_free_names(names);
	return err;
}

/* Inspect the objects and write programs/maps/files into m. */
static int derive_manifest(struct bpk_manifest *m, const struct pack_state *st,
			   struct bpk_diags *diags)
{
	const struct bpk_obj_info **objs = calloc(st->file_cnt + 1, sizeof(*objs));
	const char **paths = calloc(st->file_cnt + 1, sizeof(*paths));
	struct bpk_manifest_file *files = calloc(st->file_cnt + 1, sizeof(*files));
	size_t i, n = 0;
	int err = 0;

	if (!objs || !paths || !files) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < st->file_cnt; i++) {
		const struct pack_file *f = &st->files[i];
		struct bpk_obj_info *obj;

		files[i] = (struct bpk_manifest_file){ f->path, f->sha256, f->size };
		if (!bpk_path_is_object(f->path))
			continue;
		obj = bpk_obj_info__inspect_mem(f->data, f->size, f->path, diags);
		if (!obj) {
			err = errno == ENOMEM ? -ENOMEM : -EINVAL;
			goto out;
		}
		objs[n] = obj;
		paths[n++] = f->path;
	}
	if (!n) {
		bpk_diags__add(diags, BPK_E_NO_OBJECTS, "bpf/",
			       "the package has no BPF object under bpf/ (run 'bpk build')");
		err = -EINVAL;
		goto out;
	}
	err = bpk_manifest__set_derived(m, objs, paths, n, files, st->file_cnt);
out:
	for (i = 0; objs && i < n; i++)
		bpk_obj_info__free((struct bpk_obj_info *)objs[i]);
	free(objs);
	free(paths);
	free(files);
	return err;
}

int bpk_pack__dir(const char *dir, const struct bpk_pack_opts *opts, struct bpk_diags *diags,
		  char **ret_path)
{
	_cleanup_free_ char *manifest_path = path_join(dir, BPK_MANIFEST_PATH);
	_cleanup_free_ char *text = NULL, *out_path = NULL, *emitted = NULL;
	struct pack_state st = { 0 };
	struct bpk_manifest *m = NULL;
	struct bpk_pkg_entry *entries = NULL;
	struct bpk_pkg *pkg = NULL;
	void *bytes = NULL;
	size_t len, emitted_len, i;
	const char *output = OPTS_GET(opts, output, NULL);
	size_t errors_before = bpk_diags__count(diags, BPK_SEV_ERROR);
	int err;

	if (!manifest_path)
		return -ENOMEM;
	err = read_file(manifest_path, MAX_PACK_FILE, &text, &len);
	if (err == -ENOENT) {
		bpk_diags__add(diags, BPK_E_MISSING_MANIFEST, BPK_MANIFEST_PATH,
			       "'%s' is missing (run 'bpk init' to create one)", manifest_path);
		return -EINVAL;
	}
	if (err)
		return err;
	m = bpk_manifest__parse(text, len, BPK_MANIFEST_SOURCE, diags);
	if (!m)
		return -errno;
	err = collect(&st, dir);
	if (err)
		goto out;
	err = derive_manifest(m, &st, diags);
	if (err)
		goto out;
	emitted = bpk_manifest__emit(m, &emitted_len);
	entries = calloc(st.file_cnt + 1, sizeof(*entries));
	if (!emitted || !entries) {
		err = -ENOMEM;
		goto out;
	}
	entries[0] = (struct bpk_pkg_entry){ BPK_MANIFEST_PATH, emitted, emitted_len, false };
	for (i = 0; i < st.file_cnt; i++)
		entries[i + 1] = (struct bpk_pkg_entry){ st.files[i].path, st.files[i].data,
							 st.files[i].size, false };
	err = bpk_pkg__write_mem(entries, st.file_cnt + 1, &bytes, &len);
	if (err)
		goto out;

	/* Lint exactly the bytes that would be published: read them back as any client would. */
	pkg = bpk_pkg__open_mem(bytes, len, NULL, diags);
	if (!pkg) {
		err = errno == ENOMEM ? -ENOMEM : -EINVAL;
		goto out;
	}
	err = bpk_lint__pkg(pkg, diags);
	if (err)
		goto out;
	if (bpk_diags__count(diags, BPK_SEV_ERROR) > errors_before) {
		err = -EINVAL;
		goto out;
	}

	if (output) {
		out_path = strdup(output);
	} else {
		_cleanup_free_ char *base = bpk_manifest__package_filename(m);

		out_path = base ? path_join(dir, base) : NULL;
	}
	if (!out_path) {
		err = -ENOMEM;
		goto out;
	}
	err = write_file_atomic(out_path, bytes, len, 0644);
	if (err) {
		pr_warn("cannot write '%s': %s\n", out_path, strerror(-err));
		goto out;
	}
	if (OPTS_GET(opts, update_manifest, false)) {
		err = write_file_atomic(manifest_path, emitted, emitted_len, 0644);
		if (err)
			goto out;
	}
	if (ret_path)
		*ret_path = TAKE_PTR(out_path);
out:
	bpk_pkg__free(pkg);
	free(bytes);
	free(entries);
	bpk_manifest__free(m);
	pack_state_release(&st);
	return err;
}

// SPDX-License-Identifier: BSD-2-Clause
/* The package manifest (bpk.json): parse with every field checked, query, derive, emit. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "bpk_internal.h"

struct bpk_manifest {
	json_t *root;
	enum bpk_manifest_mode mode;
	/* Views into root, rebuilt after every change. */
	struct bpk_manifest_file *files;
	size_t file_cnt;
	unsigned int platforms;
	char *feed;
};

static const char *const known_arches[] = {
	"x86_64", "aarch64", "arm", "riscv64", "s390x", "ppc64le", "loongarch64", "mips64",
};

#define MAX_DESCRIPTION 1024
#define MAX_LIST 1024

/* ---- validation ---- */

struct checker {
	struct bpk_diags *diags;
	int errors;
};

__attribute__((format(printf, 3, 4))) static void bad(struct checker *ck, const char *where,
						      const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	ck->errors++;
	bpk_diags__add(ck->diags, BPK_E_MANIFEST_FIELD, where, "'%s': %s", where,
		       msg ? msg : "invalid");
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

/* Fetch key of obj as a string; reports a missing (if required) or mistyped field. */
static const char *get_string(struct checker *ck, json_t *obj, const char *key, const char *where,
			      bool required)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		if (required)
			bad(ck, where, "is required");
		return NULL;
	}
	if (!json_is_string(v)) {
		bad(ck, where, "must be a string, not %s", json_kind(v));
		return NULL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		bad(ck, where, "contains a NUL character");
		return NULL;
	}
	return json_string_value(v);
}

static json_t *get_typed(struct checker *ck, json_t *obj, const char *key, const char *where,
			 json_type type, bool required)
{
	static const char *const names[] = {
		[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array", [JSON_STRING] = "a string",
		[JSON_INTEGER] = "an integer", [JSON_REAL] = "a number", [JSON_TRUE] = "a boolean",
		[JSON_FALSE] = "a boolean", [JSON_NULL] = "null",
	};
	json_t *v = json_object_get(obj, key);

	if (!v) {
		if (required)
			bad(ck, where, "is required");
		return NULL;
	}
	if (type == JSON_TRUE ? !json_is_boolean(v) : json_typeof(v) != type) {
		bad(ck, where, "must be %s, not %s", names[type], json_kind(v));
		return NULL;
	}
	return v;
}

static bool printable_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
			return false;
	return true;
}

static bool is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return s[64] == '\0';
}

static bool is_url(const char *s)
{
	return (str_has_prefix(s, "https://") || str_has_prefix(s, "http://")) &&
	       strlen(s) > strlen("https://") && strlen(s) < 2048 && !strpbrk(s, " \t\r\n\"<>");
}

/*
 * Check that key is an array of strings, each accepted by valid (may be NULL); at most max
 * entries; unique if asked. Returns the array or NULL.
 */
static json_t *check_string_list(struct checker *ck, json_t *obj, const char *key,
				 const char *where, bool required, bool non_empty, bool unique,
				 bool (*valid)(const char *), const char *what)
{
	json_t *arr = get_typed(ck, obj, key, where, JSON_ARRAY, required);
	char item[256];
	size_t i, j;

	if (!arr)
		return NULL;
	if (non_empty && json_array_size(arr) == 0)
		bad(ck, where, "must not be empty");
	if (json_array_size(arr) > MAX_LIST)
		bad(ck, where, "has %zu entries; at most %d are allowed", json_array_size(arr),
		    MAX_LIST);
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *v = json_array_get(arr, i);

		snprintf(item, sizeof(item), "%s[%zu]", where, i);
		if (!json_is_string(v)) {
			bad(ck, item, "must be a string, not %s", json_kind(v));
			continue;
		}
		if (strlen(json_string_value(v)) != json_string_length(v)) {
			bad(ck, item, "contains a NUL character");
			continue;
		}
		if (valid && !valid(json_string_value(v))) {
			bad(ck, item, "\"%s\" is not %s", json_string_value(v), what);
			continue;
		}
		for (j = 0; unique && j < i; j++)
			if (json_equal(v, json_array_get(arr, j)))
				bad(ck, item, "\"%s\" is listed twice", json_string_value(v));
	}
	return arr;
}

static bool non_empty_text(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return *s && strlen(s) <= 256;
}

static bool valid_tag(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool valid_capability(const char *s)
{
	enum bpk_capability cap;

	return bpk_capability__from_id(s, &cap) == 0;
}

static bool valid_platform(const char *s)
{
	return !strcmp(s, "linux") || !strcmp(s, "windows");
}

static bool valid_arch(const char *s)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known_arches); i++)
		if (!strcmp(s, known_arches[i]))
			return true;
	return false;
}

static bool valid_identifier(const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return n > 0 && n < 256;
}

static void check_source(struct checker *ck, json_t *root)
{
	json_t *src = get_typed(ck, root, "source", "source", JSON_OBJECT, false);
	const char *s;

	if (!src)
		return;
	s = get_string(ck, src, "url", "source.url", true);
	if (s && !is_url(s))
		bad(ck, "source.url", "\"%s\" is not an http(s) URL", s);
	s = get_string(ck, src, "commit", "source.commit", false);
	if (s && !valid_identifier(s))
		bad(ck, "source.commit", "\"%s\" is not a commit id", s);
}

static void check_requires(struct checker *ck, json_t *root)
{
	json_t *req = get_typed(ck, root, "requires", "requires", JSON_OBJECT, false);
	const char *s;

	if (!req)
		return;
	s = get_string(ck, req, "kernel", "requires.kernel", false);
	if (s && !bpk_kernel_req__valid(s))
		bad(ck, "requires.kernel",
		    "\"%s\" is not a kernel range (e.g. \">=5.15\", \">=5.15 <6.8\", \"6.1.*\")", s);
	get_typed(ck, req, "btf", "requires.btf", JSON_TRUE, false);
	check_string_list(ck, req, "arch", "requires.arch", false, true, true, valid_arch,
			  "a known architecture (x86_64, aarch64, arm, riscv64, s390x, ppc64le, loongarch64, mips64)");
}

static void check_programs(struct checker *ck, json_t *root, bool required)
{
	static const char *const string_fields[] = { "name", "object", "section", "type", "attach" };
	json_t *arr = get_typed(ck, root, "programs", "programs", JSON_ARRAY, required);
	char where[96], field[128];
	size_t i, k;

	if (!arr)
		return;
	if (required && json_array_size(arr) == 0)
		bad(ck, "programs", "must list at least one program");
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *p = json_array_get(arr, i);
		const char *chain;

		snprintf(where, sizeof(where), "programs[%zu]", i);
		if (!json_is_object(p)) {
			bad(ck, where, "must be an object, not %s", json_kind(p));
			continue;
		}
		for (k = 0; k < ARRAY_SIZE(string_fields); k++) {
			const char *s;

			snprintf(field, sizeof(field), "%s.%s", where, string_fields[k]);
			s = get_string(ck, p, string_fields[k], field, true);
			if (s && !valid_identifier(s))
				bad(ck, field, "\"%s\" is not a valid value", s);
		}
		snprintf(field, sizeof(field), "%s.object", where);
		{
			const char *obj = json_string_value(json_object_get(p, "object"));

			if (obj && (!bpk_pkg_path__valid(obj) || !bpk_path_is_object(obj)))
				bad(ck, field, "\"%s\" is not a path of the form bpf/NAME.o", obj);
		}
		snprintf(field, sizeof(field), "%s.chain", where);
		chain = get_string(ck, p, "chain", field, true);
		if (chain && strcmp(chain, "tailcall") && strcmp(chain, "tcx") && strcmp(chain, "none"))
			bad(ck, field, "\"%s\" is not one of tailcall, tcx, none", chain);
		snprintf(field, sizeof(field), "%s.helpers", where);
		check_string_list(ck, p, "helpers", field, true, false, true, valid_identifier,
				  "a helper name");
		snprintf(field, sizeof(field), "%s.kfuncs", where);
		check_string_list(ck, p, "kfuncs", field, true, false, true, valid_identifier,
				  "a kfunc name");
		snprintf(field, sizeof(field), "%s.maps", where);
		check_string_list(ck, p, "maps", field, true, false, true, valid_identifier,
				  "a map name");
		snprintf(field, sizeof(field), "%s.capabilities", where);
		check_string_list(ck, p, "capabilities", field, false, false, true,
				  valid_capability, "a capability id (see docs/spec/capabilities.md)");
	}
}

static void check_u32(struct checker *ck, json_t *obj, const char *key, const char *where,
		      bool required)
{
	json_t *v = get_typed(ck, obj, key, where, JSON_INTEGER, required);

	if (v && (json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX))
		bad(ck, where, "%lld is out of range 0..4294967295",
		    (long long)json_integer_value(v));
}

static void check_maps(struct checker *ck, json_t *root, bool required)
{
	json_t *arr = get_typed(ck, root, "maps", "maps", JSON_ARRAY, required);
	static const char *const sizes[] = { "key_size", "value_size", "max_entries" };
	char where[96], field[128];
	size_t i, j, k;

	for (i = 0; arr && i < json_array_size(arr); i++) {
		json_t *m = json_array_get(arr, i);
		const char *name, *s;

		snprintf(where, sizeof(where), "maps[%zu]", i);
		if (!json_is_object(m)) {
			bad(ck, where, "must be an object, not %s", json_kind(m));
			continue;
		}
		snprintf(field, sizeof(field), "%s.name", where);
		name = get_string(ck, m, "name", field, true);
		if (name && !valid_identifier(name))
			bad(ck, field, "\"%s\" is not a map name", name);
		for (j = 0; name && j < i; j++)
			if (json_equal(json_object_get(m, "name"),
				       json_object_get(json_array_get(arr, j), "name")))
				bad(ck, field, "map \"%s\" is listed twice", name);
		snprintf(field, sizeof(field), "%s.type", where);
		s = get_string(ck, m, "type", field, true);
		if (s && !valid_identifier(s))
			bad(ck, field, "\"%s\" is not a map type", s);
		for (k = 0; k < ARRAY_SIZE(sizes); k++) {
			snprintf(field, sizeof(field), "%s.%s", where, sizes[k]);
			check_u32(ck, m, sizes[k], field, true);
		}
		snprintf(field, sizeof(field), "%s.config", where);
		get_typed(ck, m, "config", field, JSON_TRUE, false);
		snprintf(field, sizeof(field), "%s.description", where);
		s = get_string(ck, m, "description", field, false);
		if (s && (strlen(s) > MAX_DESCRIPTION || !printable_text(s)))
			bad(ck, field, "must be printable text of at most %d bytes", MAX_DESCRIPTION);
	}
}

static void check_files(struct checker *ck, json_t *root, bool required)
{
	json_t *arr = get_typed(ck, root, "files", "files", JSON_ARRAY, required);
	char where[96], field[128];
	size_t i, j;

	for (i = 0; arr && i < json_array_size(arr); i++) {
		json_t *f = json_array_get(arr, i), *size;
		const char *path, *sha;

		snprintf(where, sizeof(where), "files[%zu]", i);
		if (!json_is_object(f)) {
			bad(ck, where, "must be an object, not %s", json_kind(f));
			continue;
		}
		snprintf(field, sizeof(field), "%s.path", where);
		path = get_string(ck, f, "path", field, true);
		if (path && !bpk_pkg_path__valid(path))
			bad(ck, field, "\"%s\" is not a safe relative path", path);
		else if (path && (!strcmp(path, BPK_MANIFEST_PATH) || !strcmp(path, BPK_SIGNATURE_PATH)))
			bad(ck, field, "\"%s\" must not be listed (it is not covered by the digests)",
			    path);
		for (j = 0; path && j < i; j++)
			if (json_equal(json_object_get(f, "path"),
				       json_object_get(json_array_get(arr, j), "path")))
				bad(ck, field, "\"%s\" is listed twice", path);
		snprintf(field, sizeof(field), "%s.sha256", where);
		sha = get_string(ck, f, "sha256", field, true);
		if (sha && !is_hex64(sha))
			bad(ck, field, "\"%s\" is not 64 lowercase hex digits", sha);
		snprintf(field, sizeof(field), "%s.size", where);
		size = get_typed(ck, f, "size", field, JSON_INTEGER, true);
		if (size && json_integer_value(size) < 0)
			bad(ck, field, "must not be negative");
	}
}

static void check_manifest(struct checker *ck, json_t *root, enum bpk_manifest_mode mode)
{
	bool packed = mode == BPK_MANIFEST_PACKED;
	json_t *v;
	const char *s, *bad_token = NULL;

	v = get_typed(ck, root, "bpk", "bpk", JSON_INTEGER, true);
	if (v && json_integer_value(v) != BPK_FORMAT_VERSION)
		bad(ck, "bpk", "format version %lld is not supported (this bpk reads version %d)",
		    (long long)json_integer_value(v), BPK_FORMAT_VERSION);

	s = get_string(ck, root, "name", "name", true);
	if (s && !bpk_name__valid(s))
		bad(ck, "name", "\"%s\" is not a package name ([a-z0-9][a-z0-9._-]{0,99}, optionally feed/name)", s);

	s = get_string(ck, root, "version", "version", true);
	if (s && !bpk_semver__valid(s))
		bad(ck, "version", "\"%s\" is not SemVer 2.0", s);

	s = get_string(ck, root, "description", "description", true);
	if (s && (!*s || strlen(s) > MAX_DESCRIPTION || !printable_text(s)))
		bad(ck, "description", "must be printable text of 1 to %d bytes", MAX_DESCRIPTION);

	s = get_string(ck, root, "license", "license", true);
	if (s && !bpk_spdx__valid(s, &bad_token))
		bad(ck, "license", "\"%s\" is not an SPDX license expression (at \"%s\")", s,
		    bad_token && *bad_token ? bad_token : "end");

	check_string_list(ck, root, "authors", "authors", true, true, false, non_empty_text,
			  "an author (non-empty printable text of at most 256 bytes)");
	check_source(ck, root);
	s = get_string(ck, root, "homepage", "homepage", false);
	if (s && !is_url(s))
		bad(ck, "homepage", "\"%s\" is not an http(s) URL", s);
	check_string_list(ck, root, "tags", "tags", false, false, true, valid_tag,
			  "a tag ([a-z0-9-], 1 to 32 characters)");
	check_string_list(ck, root, "platforms", "platforms", true, true, true, valid_platform,
			  "a platform (linux or windows)");
	check_requires(ck, root);
	check_string_list(ck, root, "capabilities", "capabilities", false, false, true,
			  valid_capability, "a capability id (see docs/spec/capabilities.md)");
	check_programs(ck, root, packed);
	check_maps(ck, root, packed);
	check_files(ck, root, packed);
}

/* ---- construction and queries ---- */

static int rebuild_views(struct bpk_manifest *m)
{
	json_t *files = json_object_get(m->root, "files"), *platforms, *v;
	const char *name = json_string_value(json_object_get(m->root, "name"));
	const char *slash;
	size_t i;

	free(m->files);
	m->files = NULL;
	m->file_cnt = 0;
	if (json_is_array(files) && json_array_size(files)) {
		m->files = calloc(json_array_size(files), sizeof(*m->files));
		if (!m->files)
			return -ENOMEM;
		json_array_foreach(files, i, v) {
			struct bpk_manifest_file *f = &m->files[m->file_cnt];

			f->path = json_string_value(json_object_get(v, "path"));
			f->sha256 = json_string_value(json_object_get(v, "sha256"));
			f->size = (uint64_t)json_integer_value(json_object_get(v, "size"));
			if (f->path && f->sha256)
				m->file_cnt++;
		}
	}
	m->platforms = 0;
	platforms = json_object_get(m->root, "platforms");
	json_array_foreach(platforms, i, v) {
		if (!strcmp(json_string_value(v) ?: "", "linux"))
			m->platforms |= BPK_PLATFORM_LINUX;
		else if (!strcmp(json_string_value(v) ?: "", "windows"))
			m->platforms |= BPK_PLATFORM_WINDOWS;
	}
	free(m->feed);
	slash = name ? strchr(name, '/') : NULL;
	m->feed = slash ? strndup(name, (size_t)(slash - name)) : strdup("public");
	return m->feed ? 0 : -ENOMEM;
}

struct bpk_manifest *bpk_manifest__parse(const void *buf, size_t len, enum bpk_manifest_mode mode,
					 struct bpk_diags *diags)
{
	struct checker ck = { .diags = diags };
	struct bpk_manifest *m;
	json_error_t jerr;
	json_t *root;
	int err;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		bpk_diags__add(diags, BPK_E_MANIFEST_SYNTAX, BPK_MANIFEST_PATH,
			       "bpk.json is not valid JSON: %s at line %d, column %d", jerr.text,
			       jerr.line, jerr.column);
		errno = EINVAL;
		return NULL;
	}
	if (!json_is_object(root)) {
		bpk_diags__add(diags, BPK_E_MANIFEST_SYNTAX, BPK_MANIFEST_PATH,
			       "bpk.json must hold a JSON object, not %s", json_kind(root));
		json_decref(root);
		errno = EINVAL;
		return NULL;
	}
	check_manifest(&ck, root, mode);
	if (ck.errors) {
		json_decref(root);
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		json_decref(root);
		errno = ENOMEM;
		return NULL;
	}
	m->root = root;
	m->mode = mode;
	err = rebuild_views(m);
	if (err) {
		bpk_manifest__free(m);
		errno = -err;
		return NULL;
	}
	return m;
}

void bpk_manifest__free(struct bpk_manifest *m)
{
	if (!m)
		return;
	json_decref(m->root);
	free(m->files);
	free(m->feed);
	free(m);
}

json_t *bpk_manifest_json(const struct bpk_manifest *m)
{
	return m->root;
}

char *bpk_manifest__emit(const struct bpk_manifest *m, size_t *ret_len)
{
	return bpk_json_dump(m->root, ret_len);
}

static const char *field_string(const struct bpk_manifest *m, const char *key)
{
	return json_string_value(json_object_get(m->root, key));
}

const char *bpk_manifest__name(const struct bpk_manifest *m)
{
	return field_string(m, "name");
}

const char *bpk_manifest__version(const struct bpk_manifest *m)
{
	return field_string(m, "version");
}

const char *bpk_manifest__description(const struct bpk_manifest *m)
{
	return field_string(m, "description");
}

const char *bpk_manifest__license(const struct bpk_manifest *m)
{
	return field_string(m, "license");
}

const char *bpk_manifest__feed(const struct bpk_manifest *m)
{
	return m->feed;
}

unsigned int bpk_manifest__platforms(const struct bpk_manifest *m)
{
	return m->platforms;
}

const char *bpk_manifest__kernel_req(const struct bpk_manifest *m)
{
	return json_string_value(json_object_get(json_object_get(m->root, "requires"), "kernel"));
}

bool bpk_manifest__requires_btf(const struct bpk_manifest *m)
{
	return json_is_true(json_object_get(json_object_get(m->root, "requires"), "btf"));
}

bool bpk_manifest__license_is_single_id(const struct bpk_manifest *m)
{
	const char *l = bpk_manifest__license(m);

	return l && !strpbrk(l, " ()") && !str_has_prefix(l, "LicenseRef-") &&
	       !str_has_prefix(l, "DocumentRef-");
}

char *bpk_manifest__package_filename(const struct bpk_manifest *m)
{
	char *s = xasprintf("%s-%s.bpk", bpk_manifest__name(m), bpk_manifest__version(m));
	char *p;

	for (p = s; p && *p; p++)
		if (*p == '/')
			*p = '-';
	return s;
}

size_t bpk_manifest__file_cnt(const struct bpk_manifest *m)
{
	return m->file_cnt;
}

const struct bpk_manifest_file *bpk_manifest__file(const struct bpk_manifest *m, size_t idx)
{
	return idx < m->file_cnt ? &m->files[idx] : NULL;
}

const struct bpk_manifest_file *bpk_manifest__find_file(const struct bpk_manifest *m,
							 const char *path)
{
	size_t i;

	for (i = 0; i < m->file_cnt; i++)
		if (!strcmp(m->files[i].path, path))
			return &m->files[i];
	return NULL;
}

bool bpk_manifest__has_derived(const struct bpk_manifest *m)
{
	return json_object_get(m->root, "programs") && json_object_get(m->root, "maps") &&
	       json_object_get(m->root, "files");
}

/* ---- derived fields ---- */

static json_t *string_array(char *const *items, size_t cnt)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < cnt; i++)
		if (json_array_append_new(arr, json_string(items[i]))) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static bool map_is_internal(const struct bpk_obj_info *obj, const char *name)
{
	size_t i;

	for (i = 0; i < obj->map_cnt; i++)
		if (!strcmp(obj->maps[i].name, name))
			return obj->maps[i].internal;
	return false;
}

/* The maps a program uses that are part of its interface (not libbpf's .rodata and kin). */
static json_t *interface_maps(const struct bpk_obj_info *obj, const struct bpk_prog_report *p)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < p->map_cnt; i++)
		if (!map_is_internal(obj, p->maps[i]) &&
		    json_array_append_new(arr, json_string(p->maps[i]))) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

/* What the program can do, as capability ids (never trusted from the author). */
static json_t *capability_ids(const struct bpk_obj_info *obj, const struct bpk_prog_report *p)
{
	struct bpk_capability_list caps;
	json_t *arr;
	size_t i;

	if (bpk_capabilities__of_prog(obj, p, &caps))
		return NULL;
	arr = json_array();
	for (i = 0; arr && i < caps.cnt; i++)
		if (json_array_append_new(arr, json_string(caps.items[i].id))) {
			json_decref(arr);
			arr = NULL;
		}
	bpk_capability_list__release(&caps);
	return arr;
}

static json_t *derive_program(const struct bpk_obj_info *obj, const struct bpk_prog_report *p,
			      const char *object)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "name", p->name,
			 "object", object, "section", p->section, "type", p->type, "attach",
			 p->attach, "chain", p->chain, "helpers",
			 string_array(p->helpers, p->helper_cnt), "kfuncs",
			 string_array(p->kfuncs, p->kfunc_cnt), "maps", interface_maps(obj, p),
			 "capabilities", capability_ids(obj, p));
}

static json_t *derive_map(const struct bpk_map_report *mr)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I}", "name", mr->name, "type", mr->type,
			 "key_size", (json_int_t)mr->key_size, "value_size",
			 (json_int_t)mr->value_size, "max_entries", (json_int_t)mr->max_entries);
}

static json_t *find_by_name(json_t *arr, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "name")) ?: "", name))
			return v;
	return NULL;
}

/* The programs and maps the objects imply, in object then ELF order; maps unique by name. */
static int derive(const struct bpk_obj_info *const *objs, const char *const *obj_paths,
		  size_t obj_cnt, json_t **ret_programs, json_t **ret_maps)
{
	_cleanup_json_ json_t *programs = json_array(), *maps = json_array();
	size_t i, j;

	if (!programs || !maps)
		return -ENOMEM;
	for (i = 0; i < obj_cnt; i++) {
		for (j = 0; j < objs[i]->prog_cnt; j++)
			if (json_array_append_new(programs,
						  derive_program(objs[i], &objs[i]->progs[j],
								 obj_paths[i])))
				return -ENOMEM;
		for (j = 0; j < objs[i]->map_cnt; j++) {
			const struct bpk_map_report *mr = &objs[i]->maps[j];

			/* libbpf's .rodata/.bss maps are implementation detail, not interface. */
			if (mr->internal || find_by_name(maps, mr->name))
				continue;
			if (json_array_append_new(maps, derive_map(mr)))
				return -ENOMEM;
		}
	}
	*ret_programs = TAKE_PTR(programs);
	*ret_maps = TAKE_PTR(maps);
	return 0;
}

int bpk_manifest__set_derived(struct bpk_manifest *m, const struct bpk_obj_info *const *objs,
			      const char *const *obj_paths, size_t obj_cnt,
			      const struct bpk_manifest_file *files, size_t file_cnt)
{
	json_t *programs = NULL, *maps = NULL, *old_maps, *v, *old, *file_arr;
	size_t i;
	int err;

	err = derive(objs, obj_paths, obj_cnt, &programs, &maps);
	if (err)
		return err;
	/* Keep what only the author can say about a map. */
	old_maps = json_object_get(m->root, "maps");
	json_array_foreach(maps, i, v) {
		old = find_by_name(old_maps, json_string_value(json_object_get(v, "name")));
		if (old && json_object_get(old, "config"))
			json_object_set(v, "config", json_object_get(old, "config"));
		if (old && json_object_get(old, "description"))
			json_object_set(v, "description", json_object_get(old, "description"));
	}
	file_arr = json_array();
	for (i = 0; file_arr && i < file_cnt; i++)
		if (json_array_append_new(file_arr, json_pack("{s:s, s:s, s:I}", "path",
							      files[i].path, "sha256",
							      files[i].sha256, "size",
							      (json_int_t)files[i].size)))
			break;
	if (!file_arr || i < file_cnt || json_object_set_new(m->root, "programs", programs) ||
	    json_object_set_new(m->root, "maps", maps) ||
	    json_object_set_new(m->root, "files", file_arr)) {
		json_decref(file_arr);
		return -ENOMEM;
	}
	return rebuild_views(m);
}

/* The entry of list that stands for want: same name and, for programs, same object. */
static json_t *find_entry(json_t *list, json_t *want)
{
	json_t *object = json_object_get(want, "object"), *v;
	const char *name = json_string_value(json_object_get(want, "name")) ?: "";
	size_t i;

	json_array_foreach(list, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "name")) ?: "", name) &&
		    (!object || json_equal(object, json_object_get(v, "object"))))
			return v;
	return NULL;
}

/* Name the first field where two program (or map) entries differ. */
static const char *first_difference(json_t *want, json_t *have)
{
	const char *key;
	json_t *v;

	json_object_foreach(want, key, v) {
		/* Author-only map fields are not derived. */
		if (!strcmp(key, "config") || !strcmp(key, "description"))
			continue;
		if (!json_equal(v, json_object_get(have, key)))
			return key;
	}
	return NULL;
}

static char *describe(json_t *v)
{
	return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(missing)");
}

static int compare_list(json_t *want_list, json_t *have_list, const char *what,
			enum bpk_diag_code code, struct bpk_diags *diags)
{
	char where[128];
	json_t *want, *have;
	size_t i;
	int mismatches = 0;

	json_array_foreach(want_list, i, want) {
		const char *name = json_string_value(json_object_get(want, "name"));
		const char *key;

		have = find_entry(have_list, want);
		if (!have) {
			bpk_diags__add(diags, code, what,
				       "%s \"%s\" is in the objects but not in bpk.json '%s'",
				       what[0] == 'p' ? "program" : "map", name, what);
			mismatches++;
			continue;
		}
		key = first_difference(want, have);
		if (key) {
			_cleanup_free_ char *w = describe(json_object_get(want, key));
			_cleanup_free_ char *h = describe(json_object_get(have, key));

			snprintf(where, sizeof(where), "%s[%s].%s", what, name, key);
			bpk_diags__add(diags, code, where,
				       "'%s': bpk.json says %s but the object says %s", where,
				       h ? h : "?", w ? w : "?");
			mismatches++;
		}
	}
	json_array_foreach(have_list, i, have) {
		const char *name = json_string_value(json_object_get(have, "name")) ?: "?";

		if (!find_entry(want_list, have)) {
			bpk_diags__add(diags, code, what,
				       "%s \"%s\" is in bpk.json '%s' but in no object",
				       what[0] == 'p' ? "program" : "map", name, what);
			mismatches++;
		}
	}
	return mismatches;
}

int bpk_manifest__check_derived(const struct bpk_manifest *m,
				const struct bpk_obj_info *const *objs, const char *const *obj_paths,
				size_t obj_cnt, struct bpk_diags *diags)
{
	_cleanup_json_ json_t *programs = NULL, *maps = NULL;
	int n = 0, err;

	err = derive(objs, obj_paths, obj_cnt, &programs, &maps);
	if (err)
		return err;
	if (json_object_get(m->root, "programs"))
		n += compare_list(programs, json_object_get(m->root, "programs"), "programs",
				  BPK_E_PROGRAMS_MISMATCH, diags);
	if (json_object_get(m->root, "maps"))
		n += compare_list(maps, json_object_get(m->root, "maps"), "maps",
				  BPK_E_MAPS_MISMATCH, diags);
	return n;
}

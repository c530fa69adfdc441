// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for bpk.json: every field checked with a named error, round trip, derived fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"

static const char valid_manifest[] =
	"{\n"
	"  \"bpk\": 1,\n"
	"  \"name\": \"ratelimit\",\n"
	"  \"version\": \"1.2.0\",\n"
	"  \"description\": \"Rate limits packets per source\",\n"
	"  \"license\": \"GPL-2.0-only OR BSD-2-Clause\",\n"
	"  \"authors\": [\"A. Author <a@example.com>\"],\n"
	"  \"source\": {\"url\": \"https://example.com/rl.git\", \"commit\": \"abc123\"},\n"
	"  \"homepage\": \"https://example.com\",\n"
	"  \"tags\": [\"xdp\", \"ddos\"],\n"
	"  \"platforms\": [\"linux\"],\n"
	"  \"requires\": {\"kernel\": \">=5.15\", \"btf\": true, \"arch\": [\"x86_64\"]},\n"
	"  \"x-vendor\": {\"kept\": [1, 2, 3]}\n"
	"}\n";

static struct bpk_manifest *parse(const char *text, enum bpk_manifest_mode mode,
				  struct bpk_diags *diags)
{
	return bpk_manifest__parse(text, strlen(text), mode, diags);
}

static void test_valid(void **state)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_manifest *m = parse(valid_manifest, BPK_MANIFEST_SOURCE, &diags);

	assert_non_null(m);
	assert_int_equal(diags.cnt, 0);
	assert_string_equal(bpk_manifest__name(m), "ratelimit");
	assert_string_equal(bpk_manifest__version(m), "1.2.0");
	assert_string_equal(bpk_manifest__feed(m), "public");
	assert_string_equal(bpk_manifest__kernel_req(m), ">=5.15");
	assert_true(bpk_manifest__requires_btf(m));
	assert_int_equal(bpk_manifest__platforms(m), BPK_PLATFORM_LINUX);
	assert_false(bpk_manifest__license_is_single_id(m));
	assert_false(bpk_manifest__has_derived(m));
	char *fn = bpk_manifest__package_filename(m);
	assert_string_equal(fn, "ratelimit-1.2.0.bpk");
	free(fn);
	bpk_manifest__free(m);

	/* A packed manifest needs the derived fields. */
	m = parse(valid_manifest, BPK_MANIFEST_PACKED, &diags);
	assert_null(m);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(diags.cnt, 3);
	assert_string_equal(diags.items[0].where, "programs");
	assert_string_equal(diags.items[0].message, "'programs': is required");
	bpk_diags__release(&diags);
}

static void test_round_trip_keeps_unknown_fields(void **state)
{
	struct bpk_manifest *m = parse(valid_manifest, BPK_MANIFEST_SOURCE, NULL);
	size_t len;
	char *out;

	assert_non_null(m);
	out = bpk_manifest__emit(m, &len);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	assert_non_null(strstr(out, "\"x-vendor\": {\n    \"kept\": [\n      1,"));
	/* Key order is preserved: name comes before version comes before x-vendor. */
	assert_true(strstr(out, "\"name\"") < strstr(out, "\"version\""));
	assert_true(strstr(out, "\"version\"") < strstr(out, "\"x-vendor\""));
	/* Emitting the re-parsed text gives the same bytes. */
	struct bpk_manifest *again = bpk_manifest__parse(out, len, BPK_MANIFEST_SOURCE, NULL);
	assert_non_null(again);
	char *out2 = bpk_manifest__emit(again, NULL);
	assert_string_equal(out, out2);
	free(out);
	free(out2);
	bpk_manifest__free(m);
	bpk_manifest__free(again);
}

/* Replace the value of one field in valid_manifest and expect one named error. */
struct field_case {
	const char *json_patch; /* jansson pack-free: raw JSON object merged in */
	const char *where;
	const char *message;
};

static void check_case(const struct field_case *c)
{
	json_t *root = json_loads(valid_manifest, JSON_PRESERVE_ORDER, NULL);
	json_t *patch = json_loads(c->json_patch, 0, NULL);
	struct bpk_diags diags = BPK_DIAGS_INIT;
	const char *key;
	json_t *v;
	char *text;

	assert_non_null(root);
	if (!patch)
		fail_msg("bad patch %s", c->json_patch);
	json_object_foreach(patch, key, v) {
		if (json_is_null(v))
			json_object_del(root, key);
		else
			json_object_set(root, key, v);
	}
	text = json_dumps(root, JSON_PRESERVE_ORDER);
	assert_null(parse(text, BPK_MANIFEST_SOURCE, &diags));
	if (diags.cnt != 1)
		fail_msg("%s: %zu diagnostics, want 1 (first: %s)", c->json_patch, diags.cnt,
			 diags.cnt ? diags.items[0].message : "none");
	assert_string_equal(diags.items[0].id, "E002");
	assert_string_equal(diags.items[0].where, c->where);
	if (!strstr(diags.items[0].message, c->message))
		fail_msg("message '%s' lacks '%s'", diags.items[0].message, c->message);
	bpk_diags__release(&diags);
	free(text);
	json_decref(patch);
	json_decref(root);
}

static void test_field_errors(void **state)
{
	static const struct field_case cases[] = {
		{ "{\"bpk\": null}", "bpk", "is required" },
		{ "{\"bpk\": 2}", "bpk", "format version 2 is not supported" },
		{ "{\"bpk\": \"1\"}", "bpk", "must be an integer, not a string" },
		{ "{\"name\": null}", "name", "is required" },
		{ "{\"name\": \"Rate Limit\"}", "name", "is not a package name" },
		{ "{\"name\": 7}", "name", "must be a string, not an integer" },
		{ "{\"version\": \"1.2\"}", "version", "\"1.2\" is not SemVer 2.0" },
		{ "{\"description\": \"\"}", "description", "printable text" },
		{ "{\"license\": \"GPL\"}", "license", "is not an SPDX license expression (at \"GPL\")" },
		{ "{\"authors\": []}", "authors", "must not be empty" },
		{ "{\"authors\": [3]}", "authors[0]", "must be a string, not an integer" },
		{ "{\"source\": {\"url\": \"ftp://x\"}}", "source.url", "not an http(s) URL" },
		{ "{\"source\": {}}", "source.url", "is required" },
		{ "{\"homepage\": \"example.com\"}", "homepage", "not an http(s) URL" },
		{ "{\"tags\": [\"XDP\"]}", "tags[0]", "is not a tag" },
		{ "{\"tags\": [\"xdp\", \"xdp\"]}", "tags[1]", "listed twice" },
		{ "{\"platforms\": [\"macos\"]}", "platforms[0]", "is not a platform" },
		{ "{\"platforms\": null}", "platforms", "is required" },
		{ "{\"requires\": {\"kernel\": \"new\"}}", "requires.kernel", "is not a kernel range" },
		{ "{\"requires\": {\"btf\": \"yes\"}}", "requires.btf", "must be a boolean" },
		{ "{\"requires\": {\"arch\": [\"vax\"]}}", "requires.arch[0]", "known architecture" },
		{ "{\"programs\": {}}", "programs", "must be an array, not an object" },
		{ "{\"programs\": [{\"name\": \"p\", \"object\": \"p.o\", \"section\": \"xdp\", \"type\": \"xdp\", \"attach\": \"xdp\", \"chain\": \"none\", \"helpers\": [], \"kfuncs\": [], \"maps\": []}]}",
		  "programs[0].object", "bpf/NAME.o" },
		{ "{\"programs\": [{\"name\": \"p\", \"object\": \"bpf/p.o\", \"section\": \"xdp\", \"type\": \"xdp\", \"attach\": \"xdp\", \"chain\": \"magic\", \"helpers\": [], \"kfuncs\": [], \"maps\": []}]}",
		  "programs[0].chain", "not one of tailcall, tcx, none" },
		{ "{\"maps\": [{\"name\": \"m\", \"type\": \"hash\", \"key_size\": -1, \"value_size\": 4, \"max_entries\": 1}]}",
		  "maps[0].key_size", "out of range" },
		{ "{\"files\": [{\"path\": \"../x\", \"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\", \"size\": 1}]}",
		  "files[0].path", "not a safe relative path" },
		{ "{\"files\": [{\"path\": \"README.md\", \"sha256\": \"ABC\", \"size\": 1}]}",
		  "files[0].sha256", "64 lowercase hex" },
		{ "{\"files\": [{\"path\": \"bpk.json\", \"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\", \"size\": 1}]}",
		  "files[0].path", "must not be listed" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		check_case(&cases[i]);
}

static void test_syntax_errors(void **state)
{
	static const char *const texts[] = {
		"", "{", "[]", "\"x\"", "{\"name\": \"a\", \"name\": \"b\"}", "{\"a\": 1,}",
	};
	struct bpk_diags diags = BPK_DIAGS_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		assert_null(parse(texts[i], BPK_MANIFEST_SOURCE, &diags));
		assert_int_equal(diags.cnt, 1);
		assert_string_equal(diags.items[0].id, "E001");
		bpk_diags__release(&diags);
	}
	/* Every error of a bad manifest is reported, not just the first. */
	assert_null(parse("{\"bpk\": 1, \"name\": \"X\", \"version\": \"1\"}", BPK_MANIFEST_SOURCE,
			  &diags));
	assert_true(diags.cnt >= 6);
	bpk_diags__release(&diags);
}

static char *dup_str(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

/* An inspection report as bpk_obj_info__inspect_mem would make it. */
static struct bpk_obj_info *fake_object(void)
{
	struct bpk_obj_info *o = calloc(1, sizeof(*o));
	struct bpk_prog_report *p;

	o->prog_cnt = 1;
	o->progs = calloc(1, sizeof(*o->progs));
	p = &o->progs[0];
	p->name = dup_str("xdp_rl");
	p->section = dup_str("xdp");
	p->type = dup_str("xdp");
	p->attach = dup_str("xdp");
	p->chain = dup_str("none");
	p->helper_cnt = 1;
	p->helpers = calloc(1, sizeof(char *));
	p->helpers[0] = dup_str("bpf_map_lookup_elem");
	p->helper_ids = calloc(1, sizeof(int));
	p->helper_ids[0] = 1;
	p->map_cnt = 1;
	p->maps = calloc(1, sizeof(char *));
	p->maps[0] = dup_str("rl_config");
	o->map_cnt = 2;
	o->maps = calloc(2, sizeof(*o->maps));
	o->maps[0].name = dup_str("rl_config");
	o->maps[0].type = dup_str("array");
	o->maps[0].key_size = 4;
	o->maps[0].value_size = 8;
	o->maps[0].max_entries = 1;
	o->maps[0].pinning = dup_str("none");
	o->maps[1].name = dup_str("rl.rodata");
	o->maps[1].type = dup_str("array");
	o->maps[1].pinning = dup_str("none");
	o->maps[1].internal = true;
	return o;
}

static void free_fake(struct bpk_obj_info *o)
{
	size_t i;

	for (i = 0; i < o->prog_cnt; i++) {
		struct bpk_prog_report *p = &o->progs[i];

		free(p->name), free(p->section), free(p->type), free(p->attach), free(p->chain);
		free(p->helpers[0]), free(p->helpers), free(p->helper_ids);
		free(p->maps[0]), free(p->maps);
	}
	for (i = 0; i < o->map_cnt; i++)
		free(o->maps[i].name), free(o->maps[i].type), free(o->maps[i].pinning);
	free(o->progs);
	free(o->maps);
	free(o);
}

static void test_derived(void **state)
{
	static const char with_map_doc[] =
		"{\"bpk\": 1, \"name\": \"rl\", \"version\": \"1.0.0\", \"description\": \"d\","
		" \"license\": \"MIT\", \"authors\": [\"a\"], \"platforms\": [\"linux\"],"
		" \"maps\": [{\"name\": \"rl_config\", \"type\": \"hash\", \"key_size\": 1,"
		" \"value_size\": 1, \"max_entries\": 1, \"config\": true,"
		" \"description\": \"packets per second\"}]}";
	struct bpk_obj_info *obj = fake_object();
	const struct bpk_obj_info *objs[] = { obj };
	const char *paths[] = { "bpf/rl.o" };
	struct bpk_manifest_file files[] = {
		{ "README.md", "1111111111111111111111111111111111111111111111111111111111111111", 10 },
		{ "bpf/rl.o", "2222222222222222222222222222222222222222222222222222222222222222", 99 },
	};
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_manifest *m = parse(with_map_doc, BPK_MANIFEST_SOURCE, NULL), *packed;
	char *text;

	assert_non_null(m);
	/* The stale "maps" entry differs from the object: type is the first difference. */
	assert_int_equal(bpk_manifest__check_derived(m, objs, paths, 1, &diags), 1);
	assert_string_equal(diags.items[0].id, "E007");
	assert_string_equal(diags.items[0].where, "maps[rl_config].type");
	assert_non_null(strstr(diags.items[0].message, "bpk.json says \"hash\" but the object says \"array\""));
	bpk_diags__release(&diags);

	assert_int_equal(bpk_manifest__set_derived(m, objs, paths, 1, files, 2), 0);
	assert_true(bpk_manifest__has_derived(m));
	assert_int_equal(bpk_manifest__file_cnt(m), 2);
	assert_int_equal(bpk_manifest__find_file(m, "bpf/rl.o")->size, 99);
	assert_null(bpk_manifest__find_file(m, "nope"));
	assert_int_equal(bpk_manifest__check_derived(m, objs, paths, 1, &diags), 0);
	assert_int_equal(diags.cnt, 0);

	text = bpk_manifest__emit(m, NULL);
	/* The author's map description survives; the internal .rodata map is not listed. */
	assert_non_null(strstr(text, "\"description\": \"packets per second\""));
	assert_null(strstr(text, "rl.rodata"));
	packed = parse(text, BPK_MANIFEST_PACKED, &diags);
	assert_non_null(packed);
	assert_int_equal(diags.cnt, 0);

	/* A program the objects do not have is reported by name. */
	obj->progs[0].helpers[0][4] = 'X';
	assert_int_equal(bpk_manifest__check_derived(packed, objs, paths, 1, &diags), 1);
	assert_string_equal(diags.items[0].id, "E006");
	assert_string_equal(diags.items[0].where, "programs[xdp_rl].helpers");
	bpk_diags__release(&diags);

	free(text);
	bpk_manifest__free(packed);
	bpk_manifest__free(m);
	free_fake(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_round_trip_keeps_unknown_fields),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_derived),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

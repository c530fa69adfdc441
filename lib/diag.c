// SPDX-License-Identifier: BSD-2-Clause
/* Diagnostics: the catalogue of stable ids and the list that validation fills. */
#include <stdio.h>
#include <string.h>

#include "bpk_internal.h"

static const struct {
	const char *id;
	const char *name;
	const char *summary;
} catalogue[BPK_DIAG_CODE_CNT] = {
	[BPK_E_MANIFEST_SYNTAX] = { "E001", "manifest-syntax", "bpk.json is not valid JSON" },
	[BPK_E_MANIFEST_FIELD] = { "E002", "manifest-field", "a manifest field is missing or invalid" },
	[BPK_E_MISSING_README] = { "E003", "missing-readme", "README.md is missing or empty" },
	[BPK_E_MISSING_LICENSE] = { "E004", "missing-license",
				    "LICENSE is required when 'license' is not a single SPDX id" },
	[BPK_E_NO_OBJECTS] = { "E005", "no-objects", "the package has no bpf/*.o object" },
	[BPK_E_PROGRAMS_MISMATCH] = { "E006", "programs-mismatch",
				      "manifest 'programs' differ from the objects" },
	[BPK_E_MAPS_MISMATCH] = { "E007", "maps-mismatch", "manifest 'maps' differ from the objects" },
	[BPK_E_FILES_MISMATCH] = { "E008", "files-mismatch",
				   "a file is missing, unlisted, or its size or SHA-256 differ" },
	[BPK_E_GPL_HELPER] = { "E009", "gpl-helper-license",
			       "a GPL-only helper is called but the object's license is not GPL-compatible" },
	[BPK_E_WINDOWS_UNSUPPORTED] = { "E010", "windows-unsupported",
					"'platforms' has windows but eBPF for Windows lacks a program type or helper used" },
	[BPK_E_UNKNOWN_SECTION] = { "E011", "unknown-section",
				    "a program section libbpf cannot map to a program type" },
	[BPK_E_BAD_OBJECT] = { "E012", "bad-object", "a file under bpf/ is not a readable BPF ELF object" },
	[BPK_E_ARCHIVE] = { "E013", "bad-archive", "the container breaks a rule of the package format" },
	[BPK_E_MISSING_MANIFEST] = { "E014", "missing-manifest", "bpk.json is missing" },
	[BPK_E_NO_LICENSE_STRING] = { "E015", "no-license-string",
				      "an object has no \"license\" section, so the kernel treats it as proprietary" },
	[BPK_E_CAPABILITY] = { "E016", "capability-not-allowed",
			       "a program can do something the manifest's \"capabilities\" allow-list does not name" },
	[BPK_W_NO_BTF] = { "W001", "no-btf", "an object has no BTF (build with -g)" },
	[BPK_W_NO_CORE] = { "W002", "no-core",
			    "no CO-RE relocations although requires.kernel admits several kernels" },
	[BPK_W_NO_TESTS] = { "W003", "no-tests", "the package has no tests/*.json test vectors" },
	[BPK_W_NO_SOURCE] = { "W004", "no-source", "no source.url: reviewers cannot find the source" },
	[BPK_W_LICENSE_STRING] = { "W005", "license-string-mismatch",
				   "an object's license string does not match the manifest's license" },
	[BPK_W_NO_KERNEL_REQ] = { "W006", "no-kernel-requirement", "no requires.kernel" },
	[BPK_W_SHORT_README] = { "W007", "short-readme", "README.md is too short to explain the package" },
	[BPK_W_NO_DESCRIPTION_MAP] = { "W008", "undocumented-config-map",
				       "a configuration map has no description" },
	[BPK_W_UNDECLARED_CAPABILITY] = { "W009", "undeclared-capability",
					  "a program has a sensitive capability and bpk.json has no \"capabilities\" allow-list" },
};

const char *bpk_diag_code__id(enum bpk_diag_code code)
{
	return (unsigned int)code < BPK_DIAG_CODE_CNT ? catalogue[code].id : "E000";
}

const char *bpk_diag_code__name(enum bpk_diag_code code)
{
	return (unsigned int)code < BPK_DIAG_CODE_CNT ? catalogue[code].name : "unknown";
}

const char *bpk_diag_code__summary(enum bpk_diag_code code)
{
	return (unsigned int)code < BPK_DIAG_CODE_CNT ? catalogue[code].summary : "";
}

enum bpk_severity bpk_diag_code__severity(enum bpk_diag_code code)
{
	return bpk_diag_code__id(code)[0] == 'W' ? BPK_SEV_WARNING : BPK_SEV_ERROR;
}

void bpk_diags__init(struct bpk_diags *diags)
{
	diags->items = NULL;
	diags->cnt = 0;
	diags->alloc = 0;
}

void bpk_diags__release(struct bpk_diags *diags)
{
	size_t i;

	if (!diags)
		return;
	for (i = 0; i < diags->cnt; i++) {
		free(diags->items[i].where);
		free(diags->items[i].message);
	}
	free(diags->items);
	bpk_diags__init(diags);
}

int bpk_diags__add(struct bpk_diags *diags, enum bpk_diag_code code, const char *where,
		   const char *fmt, ...)
{
	struct bpk_diag *d;
	va_list ap;
	int n;

	if (!diags)
		return 0;
	if (diags->cnt == diags->alloc) {
		size_t alloc = diags->alloc ? diags->alloc * 2 : 8;
		struct bpk_diag *items = reallocarray(diags->items, alloc, sizeof(*items));

		if (!items)
			return -ENOMEM;
		diags->items = items;
		diags->alloc = alloc;
	}
	d = &diags->items[diags->cnt];
	memset(d, 0, sizeof(*d));
	d->severity = bpk_diag_code__severity(code);
	d->id = bpk_diag_code__id(code);
	d->name = bpk_diag_code__name(code);
	if (where && !(d->where = strdup(where)))
		return -ENOMEM;
	va_start(ap, fmt);
	n = vasprintf(&d->message, fmt, ap);
	va_end(ap);
	if (n < 0) {
		free(d->where);
		return -ENOMEM;
	}
	diags->cnt++;
	return 0;
}

size_t bpk_diags__count(const struct bpk_diags *diags, enum bpk_severity severity)
{
	size_t i, n = 0;

	for (i = 0; diags && i < diags->cnt; i++)
		n += diags->items[i].severity == severity;
	return n;
}

const struct bpk_diag *bpk_diags__first_error(const struct bpk_diags *diags)
{
	size_t i;

	for (i = 0; diags && i < diags->cnt; i++)
		if (diags->items[i].severity == BPK_SEV_ERROR)
			return &diags->items[i];
	return NULL;
}

json_t *bpk_diags_json(const struct bpk_diags *diags)
{
	json_t *root = json_object(), *list = json_array();
	size_t i;

	if (!root || !list)
		goto fail;
	for (i = 0; i < diags->cnt; i++) {
		const struct bpk_diag *d = &diags->items[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s}", "id", d->id, "name", d->name,
				      "severity", d->severity == BPK_SEV_ERROR ? "error" : "warning",
				      "where", d->where, "message", d->message);

		if (!o || json_array_append_new(list, o))
			goto fail;
	}
	if (json_object_set_new(root, "errors",
				json_integer((json_int_t)bpk_diags__count(diags, BPK_SEV_ERROR))) ||
	    json_object_set_new(root, "warnings",
				json_integer((json_int_t)bpk_diags__count(diags, BPK_SEV_WARNING))))
		goto fail;
	/* json_object_set_new() consumes list even when it fails. */
	if (json_object_set_new(root, "diagnostics", list))
		goto fail_root;
	return root;
fail:
	json_decref(list);
fail_root:
	json_decref(root);
	return NULL;
}

char *bpk_diags__to_json(const struct bpk_diags *diags)
{
	_cleanup_json_ json_t *root = bpk_diags_json(diags);

	return root ? bpk_json_dump(root, NULL) : NULL;
}

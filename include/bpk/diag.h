/* SPDX-License-Identifier: BSD-2-Clause */
/* Diagnostics: the errors and warnings that validation, lint and the readers report. */
#ifndef BPK_DIAG_H
#define BPK_DIAG_H

#include <stdbool.h>
#include <stddef.h>

enum bpk_severity {
	BPK_SEV_ERROR,
	BPK_SEV_WARNING,
};

/*
 * Every diagnostic has a stable id ("E003") and name ("missing-readme") that scripts may
 * match on, the place it concerns (a manifest field like "programs[0].type", an archive entry
 * or a file; may be NULL) and a message for people.
 */
struct bpk_diag {
	enum bpk_severity severity;
	const char *id;
	const char *name;
	char *where;
	char *message;
};

struct bpk_diags {
	struct bpk_diag *items;
	size_t cnt;
	size_t alloc;
};

#define BPK_DIAGS_INIT { NULL, 0, 0 }

/* The catalogue of diagnostics; docs/spec/lint.md describes each. */
enum bpk_diag_code {
	BPK_E_MANIFEST_SYNTAX,	/* E001 bpk.json is not valid JSON */
	BPK_E_MANIFEST_FIELD,	/* E002 a manifest field is missing or invalid */
	BPK_E_MISSING_README,	/* E003 */
	BPK_E_MISSING_LICENSE,	/* E004 LICENSE needed for a license expression */
	BPK_E_NO_OBJECTS,	/* E005 no bpf/NAME.o */
	BPK_E_PROGRAMS_MISMATCH,/* E006 manifest programs differ from the objects */
	BPK_E_MAPS_MISMATCH,	/* E007 manifest maps differ from the objects */
	BPK_E_FILES_MISMATCH,	/* E008 listed file missing, wrong size or digest, or unlisted */
	BPK_E_GPL_HELPER,	/* E009 GPL-only helper with a non-GPL-compatible license string */
	BPK_E_WINDOWS_UNSUPPORTED,/* E010 program type or helper eBPF for Windows lacks */
	BPK_E_UNKNOWN_SECTION,	/* E011 section name libbpf cannot map to a program type */
	BPK_E_BAD_OBJECT,	/* E012 not a readable BPF ELF object */
	BPK_E_ARCHIVE,		/* E013 container refused (path, type, limits, duplicates) */
	BPK_E_MISSING_MANIFEST,	/* E014 no bpk.json */
	BPK_E_NO_LICENSE_STRING,/* E015 object without a "license" section */
	BPK_E_CAPABILITY,	/* E016 a program can do more than the manifest's "capabilities" allow */
	BPK_W_NO_BTF,		/* W001 object without BTF */
	BPK_W_NO_CORE,		/* W002 no CO-RE relocations although several kernels are targeted */
	BPK_W_NO_TESTS,		/* W003 no tests/NAME.json */
	BPK_W_NO_SOURCE,	/* W004 no source.url */
	BPK_W_LICENSE_STRING,	/* W005 object license string does not match the manifest */
	BPK_W_NO_KERNEL_REQ,	/* W006 no requires.kernel */
	BPK_W_SHORT_README,	/* W007 README shorter than a useful paragraph */
	BPK_W_NO_DESCRIPTION_MAP,/* W008 a config map without a description */
	BPK_W_UNDECLARED_CAPABILITY,/* W009 a sensitive capability and no "capabilities" allow-list */
	BPK_DIAG_CODE_CNT,
};

/* Stable id ("E003") and name ("missing-readme") of a code. */
const char *bpk_diag_code__id(enum bpk_diag_code code);
const char *bpk_diag_code__name(enum bpk_diag_code code);
enum bpk_severity bpk_diag_code__severity(enum bpk_diag_code code);
/* One line of documentation for a code. */
const char *bpk_diag_code__summary(enum bpk_diag_code code);

void bpk_diags__init(struct bpk_diags *diags);
void bpk_diags__release(struct bpk_diags *diags);
/*
 * Append a diagnostic. where may be NULL. Returns 0 or -ENOMEM. A NULL diags is allowed and
 * ignored, so callers that only want a yes/no answer pass NULL.
 */
int bpk_diags__add(struct bpk_diags *diags, enum bpk_diag_code code, const char *where,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
size_t bpk_diags__count(const struct bpk_diags *diags, enum bpk_severity severity);
/* The first error, or NULL: what a command shows when it must give one reason. */
const struct bpk_diag *bpk_diags__first_error(const struct bpk_diags *diags);
/*
 * Render as JSON: {"errors":N,"warnings":N,"diagnostics":[{"id","name","severity","where",
 * "message"}]}. Caller frees. NULL on -ENOMEM.
 */
char *bpk_diags__to_json(const struct bpk_diags *diags);

#endif

// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target for trust entries (trust.d/ files) and the name patterns they hold. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpk/bpk.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = { "acme/demo", "acme", "demo", "acme-x/y", "a/b", "" };

static void parse_entry(const uint8_t *data, size_t size)
{
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_trust_entry *e;
	const char *pattern;
	size_t i;

	errno = 0;
	e = bpk_trust_entry__parse(data, size, "fuzz.json", &error);
	if (!e) {
		/* Every refusal names the file and says why. */
		if (errno != ENOMEM && (!error.message || !error.file ||
					strncmp(error.message, "'fuzz.json': ", 13)))
			abort();
		bpk_error__release(&error);
		return;
	}
	if (error.message)
		abort();
	/* What was accepted holds what the parser promises. */
	if (strcmp(bpk_trust_entry__keyid(e), bpk_key__id(bpk_trust_entry__key(e))) ||
	    bpk_key__has_private(bpk_trust_entry__key(e)))
		abort();
	for (i = 0; i < bpk_trust_entry__name_cnt(e); i++)
		if (!bpk_trust_pattern__valid(bpk_trust_entry__name(e, i)))
			abort();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		pattern = NULL;
		if (bpk_trust_entry__allows(e, names[i], &pattern) &&
		    bpk_trust_entry__name_cnt(e) &&
		    (!pattern || !bpk_trust_pattern__match(pattern, names[i])))
			abort();
	}
	bpk_trust_entry__free(e);
}

/* The input as "PATTERN\nNAME": matching never crashes, and a match obeys the '/' rule. */
static void match_pattern(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char *pattern, *name;

	if (!nl)
		return;
	pattern = strndup((const char *)data, (size_t)(nl - data));
	name = strndup((const char *)nl + 1, size - (size_t)(nl - data) - 1);
	if (!pattern || !name)
		abort();
	if (bpk_trust_pattern__valid(pattern) && bpk_trust_pattern__match(pattern, name) &&
	    (strchr(pattern, '/') != NULL) != (strchr(name, '/') != NULL))
		abort();
	free(pattern);
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bpk_set_print(NULL);
	parse_entry(data, size);
	match_pattern(data, size);
	return 0;
}

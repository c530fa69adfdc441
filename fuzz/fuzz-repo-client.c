// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target for what the repository client reads from a server, and for SemVer ranges. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Included, so that the parsers of answers can be reached without a network. */
#include "../lib/repo_client.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const versions[] = { "0.0.1", "1.0.0", "1.2.3", "1.2.3-rc.1", "2.0.0",
					"18446744073709551609.0.0" };

/* A range and a version must never crash, and "matches" implies "valid". */
static void ranges(const char *text)
{
	const char *exact = NULL;
	size_t i;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (bpk_semver_range__matches(text, versions[i]) && !bpk_semver_range__valid(text))
			abort();
	if (bpk_semver_range__is_exact(text, &exact) &&
	    (!bpk_semver__valid(exact) || !bpk_semver_range__matches(text, exact)))
		abort();
	bpk_repo_spec__valid(text);
}

/* An error document: a sentence, and every detail with a message. */
static void error_answer(struct bpk_repo_client *c, const char *text, size_t len, long status)
{
	struct http_resp resp = { .status = status };
	size_t i;

	strbuf_init(&resp.body);
	if (strbuf_add(&resp.body, text, len))
		return;
	if (http_error(c, &resp) >= 0 || !bpk_repo_client__errstr(c)[0])
		abort();
	for (i = 0; i < bpk_repo_client__detail_cnt(c); i++)
		if (!bpk_repo_client__detail(c, i)->message)
			abort();
	strbuf_release(&resp.body);
}

/* A package's answers (list, then details) and a root document. */
static void json_answers(struct bpk_repo_client *c, const char *text, size_t len)
{
	struct bpk_repo package = { .name = (char *)"fuzz" };
	struct bpk_repo_package *p = calloc(1, sizeof(*p));
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	size_t i;

	if (!p || !doc)
		goto out;
	p->list = json_incref(doc);
	if (!parse_package(c, &package, "demo", p))
		for (i = 0; i < p->version_cnt; i++)
			if (!bpk_semver__valid(p->versions[i].version))
				abort();
	p->detail = json_incref(doc);
	if (!parse_detail(c, &package, "demo", "1.0.0", p) &&
	    (!p->manifest || strcmp(p->selected.version, "1.0.0")))
		abort();
	check_root(c, doc, "0000000000000000000000000000000000000000000000000000000000000000");
	root_key_of(c, doc, NULL, &(const char *){ NULL });
out:
	bpk_repo_package__free(p);
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BPK_OPTS(bpk_repo_client_opts, opts, .config_dir = "/nonexistent/config",
		 .cache_dir = "/nonexistent/cache");
	struct bpk_repo_client *c;
	char *text;

	if (!size)
		return 0;
	text = strndup((const char *)data + 1, size - 1);
	c = bpk_repo_client__new(&opts);
	if (!text || !c)
		goto out;
	bpk_set_print(NULL);
	switch (data[0] % 3) {
	case 0:
		ranges(text);
		break;
	case 1:
		error_answer(c, (const char *)data + 1, size - 1, 400 + data[0] % 120);
		break;
	default:
		json_answers(c, (const char *)data + 1, size - 1);
		break;
	}
out:
	bpk_repo_client__free(c);
	free(text);
	return 0;
}

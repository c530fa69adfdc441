// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target for what a repository takes from the network: publish bodies and search text. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpk/bpk.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct bpk_repo *repo;
static char dir[] = "/tmp/bpk-fuzz-publish.XXXXXX";

static void remove_repo(void)
{
	char cmd[64];

	bpk_repo__free(repo);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "fuzz-publish: cannot remove %s\n", dir);
}

static int quiet(enum bpk_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* Every refusal carries a code, a sentence and, for a package, a JSON list of its errors. */
static void check_refusal(int err, const struct bpk_repo_error *error)
{
	if (err >= 0 || error->code == BPK_REPO_OK || !error->message)
		abort();
	if (error->details && error->code != BPK_REPO_E_INVALID_PACKAGE)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpk_repo_auth auth = { .feed = "public", .scope = BPK_REPO_SCOPE_PUSH,
				      .token_id = "fuzz" };
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct bpk_repo_query query = { 0 };
	char *json = NULL, text[65];
	int err;

	if (!repo) {
		bpk_set_print(quiet);
		if (!mkdtemp(dir))
			abort();
		/* No reviews: the fuzzer must not load programs into the kernel. */
		repo = bpk_repo__open(dir,
				      &(struct bpk_repo_opts){ .sz = sizeof(struct bpk_repo_opts),
							       .no_review = true },
				      &error);
		if (!repo)
			abort();
		atexit(remove_repo);
	}
	err = bpk_repo__publish(repo, &auth, data, size, &json, &error);
	if (err)
		check_refusal(err, &error);
	free(json);
	json = NULL;
	bpk_repo_error__release(&error);

	/* The same bytes as search words and filters. */
	snprintf(text, sizeof(text), "%.*s", (int)(size < 64 ? size : 64), (const char *)data);
	query.text = text;
	query.kernel = size > 3 ? text + 3 : NULL;
	query.take = size % 101;
	err = bpk_repo__search(repo, NULL, &query, &json, &error);
	if (err)
		check_refusal(err, &error);
	else if (!json)
		abort();
	free(json);
	bpk_repo_error__release(&error);
	return 0;
}

// SPDX-License-Identifier: BSD-2-Clause
/* bpk search: find packages in the configured repositories, as a table or JSON. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "util.h"

enum { OPT_TYPE = 0x100, OPT_PLATFORM, OPT_KERNEL, OPT_TAG, OPT_FEED, OPT_SKIP, OPT_TAKE };

/* Widest a column may grow; the description takes what is left of 100 columns. */
#define NAME_MAX_WIDTH 40
#define LINE_WIDTH 100

static int parse_count(const char *arg, uint32_t max, uint32_t *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v > max)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

struct row {
	char *repo, *name, *version, *types, *kernel, *description;
};

static void row_release(struct row *r)
{
	free(r->repo);
	free(r->name);
	free(r->version);
	free(r->types);
	free(r->kernel);
	free(r->description);
}

static size_t width(size_t have, const char *s, size_t max)
{
	size_t n = strlen(s);

	n = n > max ? max : n;
	return n > have ? n : have;
}

/* Print rows as a table with a header; the repository column only when several were searched. */
static void print_table(struct row *rows, size_t cnt, bool with_repo)
{
	size_t w_repo = 4, w_name = 4, w_version = 7, w_types = 5, w_kernel = 6, used, i;

	for (i = 0; i < cnt; i++) {
		w_repo = width(w_repo, rows[i].repo, 20);
		w_name = width(w_name, rows[i].name, NAME_MAX_WIDTH);
		w_version = width(w_version, rows[i].version, 20);
		w_types = width(w_types, rows[i].types, 20);
		w_kernel = width(w_kernel, rows[i].kernel, 16);
	}
	used = (with_repo ? w_repo + 2 : 0) + w_name + w_version + w_types + w_kernel + 8;
	if (with_repo)
		printf("%-*s  ", (int)w_repo, "REPO");
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", (int)w_name, "NAME", (int)w_version, "VERSION",
	       (int)w_types, "TYPES", (int)w_kernel, "KERNEL", "DESCRIPTION");
	for (i = 0; i < cnt; i++) {
		int room = used < LINE_WIDTH - 10 ? (int)(LINE_WIDTH - used) : 10;

		if (with_repo)
			printf("%-*.*s  ", (int)w_repo, (int)w_repo, rows[i].repo);
		printf("%-*.*s  %-*.*s  %-*.*s  %-*.*s  %.*s\n", (int)w_name, (int)w_name,
		       rows[i].name, (int)w_version, (int)w_version, rows[i].version, (int)w_types,
		       (int)w_types, rows[i].types, (int)w_kernel, (int)w_kernel, rows[i].kernel,
		       room, rows[i].description);
	}
}

static int run_search(int argc, char **argv)
{
	static const struct option options[] = {
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "feed", required_argument, NULL, OPT_FEED },
		{ "skip", required_argument, NULL, OPT_SKIP },
		{ "take", required_argument, NULL, OPT_TAKE },
		{ "repo", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	BPK_OPTS(bpk_repo_search_opts, opts);
	struct bpk_repo_client *client = NULL;
	const struct bpk_repo *only = NULL, *repo;
	struct strbuf query = STRBUF_INIT;
	struct row *rows = NULL;
	size_t row_cnt = 0, i, searched = 0;
	uint64_t total = 0;
	json_t *all = NULL;
	const char *repo_name = NULL;
	bool json = false;
	int c, ret = EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "r:jh", options, NULL)) != -1) {
		switch (c) {
		case OPT_TYPE:
			opts.type = optarg;
			break;
		case OPT_PLATFORM:
			opts.platform = optarg;
			break;
		case OPT_KERNEL:
			opts.kernel = optarg;
			break;
		case OPT_TAG:
			opts.tag = optarg;
			break;
		case OPT_FEED:
			opts.feed = optarg;
			break;
		case OPT_SKIP:
			if (parse_count(optarg, UINT32_MAX, &opts.skip))
				return cli_usage_error("search", "--skip wants a count, not '%s'",
						       optarg);
			break;
		case OPT_TAKE:
			if (parse_count(optarg, 100, &opts.take) || !opts.take)
				return cli_usage_error("search", "--take wants 1 to 100, not '%s'",
						       optarg);
			break;
		case 'r':
			repo_name = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_help("search");
		default:
			return cli_usage_error("search", "unknown option");
		}
	}
	/* Every remaining word is part of the query. */
	for (; optind < argc; optind++)
		if (strbuf_addf(&query, "%s%s", query.len ? " " : "", argv[optind]))
			return cli_error("out of memory");
	opts.query = query.buf;

	client = cli_repo_client("search");
	if (!client || cli_pick_repo(client, repo_name, &only))
		goto out;
	if (!only && !bpk_repo_client__repo_cnt(client)) {
		cli_error("no repository is configured (see 'bpk repo add')");
		goto out;
	}
	all = json_array();
	if (!all) {
		cli_error("out of memory");
		goto out;
	}
	ret = EXIT_OK;
	for (i = 0; (repo = only ?: bpk_repo_client__repo(client, i)); i++) {
		struct bpk_repo_search *s = NULL;
		const struct bpk_repo_hit *h;
		struct row *grown;
		size_t k;

		if (bpk_repo_client__search(client, repo, &opts, &s)) {
			cli_error("cannot search '%s': %s", bpk_repo__name(repo),
				  bpk_repo_client__errstr(client));
			ret = EXIT_FAIL;
			if (only)
				break;
			continue;
		}
		searched++;
		total += bpk_repo_search__total(s);
		grown = realloc(rows, (row_cnt + bpk_repo_search__cnt(s) + 1) * sizeof(*rows));
		if (!grown) {
			bpk_repo_search__free(s);
			ret = cli_error("out of memory");
			break;
		}
		rows = grown;
		for (k = 0; (h = bpk_repo_search__hit(s, k)); k++) {
			struct row *r = &rows[row_cnt++];

			r->repo = str_shown(bpk_repo__name(repo), 64, NULL);
			r->name = str_shown(h->name, 128, NULL);
			r->version = str_shown(h->version, 64, NULL);
			r->types = str_shown(h->types ?: "", 64, NULL);
			r->kernel = str_shown(h->kernel ?: "", 32, NULL);
			r->description = str_shown(h->description ?: "", 200, NULL);
			json_array_append_new(
				all, json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s?, s:s?, s:s?, "
					       "s:s?, s:s?, s:f}",
					       "repo", bpk_repo__name(repo), "name", h->name,
					       "feed", h->feed, "version", h->version,
					       "description", h->description, "kernel", h->kernel,
					       "published", h->published, "tags", h->tags,
					       "types", h->types, "platforms", h->platforms,
					       "score", h->score));
		}
		bpk_repo_search__free(s);
		if (only)
			break;
	}
	for (i = 0; i < row_cnt; i++)
		if (!rows[i].repo || !rows[i].name || !rows[i].version || !rows[i].types ||
		    !rows[i].kernel || !rows[i].description) {
			ret = cli_error("out of memory");
			goto out;
		}
	if (json) {
		json_t *doc = json_pack("{s:I, s:O}", "total", (json_int_t)total, "results", all);
		char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;

		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(doc);
	} else if (row_cnt) {
		print_table(rows, row_cnt, !only && bpk_repo_client__repo_cnt(client) > 1);
		if (total > row_cnt || opts.skip)
			fprintf(stderr, "results %" PRIu32 " to %" PRIu64 " of %" PRIu64
				" (--skip and --take show others)\n", opts.skip + 1,
				(uint64_t)opts.skip + row_cnt, total);
	} else if (searched) {
		fprintf(stderr, "no package found\n");
	}
out:
	for (i = 0; i < row_cnt; i++)
		row_release(&rows[i]);
	free(rows);
	json_decref(all);
	strbuf_release(&query);
	bpk_repo_client__free(client);
	return ret;
}

const struct cmd cmd_search = {
	.name = "search",
	.run = run_search,
	.summary = "find packages in the configured repositories",
	.help =
		"usage: bpk search [QUERY...] [--type TYPE] [--platform PLATFORM]\n"
		"                  [--kernel RELEASE] [--tag TAG] [--feed FEED] [--skip N]\n"
		"                  [--take N] [--repo NAME] [-j]\n"
		"\n"
		"Ask the repositories (every configured one, or --repo) for packages matching the\n"
		"words of QUERY, best first, and print a table: name, newest version, program\n"
		"types, kernel requirement and description. Yanked versions never match. What\n"
		"search says is for reading; fetch and install resolve versions from the signed\n"
		"index.\n"
		"\n"
		"      --type TYPE        only packages with a program of this type (xdp, tc)\n"
		"      --platform PLATFORM  only packages for linux or windows\n"
		"      --kernel RELEASE   only packages whose kernel requirement accepts RELEASE\n"
		"      --tag TAG          only packages with this tag\n"
		"      --feed FEED        only packages of this feed\n"
		"      --skip N           skip the first N results\n"
		"      --take N           show at most N results (1 to 100; default 20)\n"
		"  -r, --repo NAME        search only this repository\n"
		"  -j, --json             print JSON\n"
		"  -h, --help             show this help\n",
};

// SPDX-License-Identifier: BSD-2-Clause
/* bpk yank: hide a published version from resolution and search, or show it again (--undo). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

enum { OPT_TOKEN_FILE = 0x100, OPT_UNDO };

static int run_yank(int argc, char **argv)
{
	static const struct option options[] = {
		{ "undo", no_argument, NULL, OPT_UNDO },
		{ "repo", required_argument, NULL, 'r' },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	BPK_OPTS(bpk_repo_publish_opts, opts);
	struct bpk_repo_client *client;
	const struct bpk_repo *repo = NULL;
	struct bpk_index_target target;
	_cleanup_free_ char *name = NULL;
	const char *spec, *repo_name = NULL, *at;
	bool undo = false;
	int c, ret = EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "r:h", options, NULL)) != -1) {
		switch (c) {
		case OPT_UNDO:
			undo = true;
			break;
		case 'r':
			repo_name = optarg;
			break;
		case OPT_TOKEN_FILE:
			opts.token_file = optarg;
			break;
		case 'h':
			return cli_help("yank");
		default:
			return cli_usage_error("yank", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("yank", "'bpk yank' needs one NAME@VERSION");
	spec = argv[optind];
	at = strchr(spec, '@');
	if (!at || !bpk_semver__valid(at + 1) || !bpk_repo_spec__valid(spec))
		return cli_usage_error("yank", "'%s' is not NAME@VERSION", spec);
	name = strndup(spec, (size_t)(at - spec));
	if (!name)
		return cli_error("out of memory");

	client = cli_repo_client("yank");
	if (!client || cli_pick_repo(client, repo_name, &repo))
		goto out;
	/* Without --repo, the repository whose verified index has that version. */
	if (!repo && bpk_repo_client__resolve(client, NULL, spec, &repo, &target)) {
		cli_error("cannot %s '%s': %s", undo ? "unyank" : "yank", spec,
			  bpk_repo_client__errstr(client));
		goto out;
	}
	if (bpk_repo_client__yank(client, repo, name, at + 1, !undo, &opts)) {
		cli_error("cannot %s '%s' in '%s': %s", undo ? "unyank" : "yank", spec,
			  bpk_repo__name(repo), bpk_repo_client__errstr(client));
		goto out;
	}
	printf("%s %s in '%s'\n", undo ? "unyanked" : "yanked", spec, bpk_repo__name(repo));
	ret = EXIT_OK;
out:
	bpk_repo_client__free(client);
	return ret;
}

const struct cmd cmd_yank = {
	.name = "yank",
	.run = run_yank,
	.summary = "hide a published version from resolution, or show it again",
	.help =
		"usage: bpk yank NAME@VERSION [--undo] [--repo NAME] [--token-file FILE]\n"
		"\n"
		"Mark a published version yanked: search no longer shows it and a range no\n"
		"longer resolves to it, but it is not deleted, so installs pinned to exactly\n"
		"that version still work. --undo unyanks it. Needs a token with the yank scope\n"
		"on the package's feed. Without --repo: the repository whose index has that\n"
		"version.\n"
		"\n"
		"      --undo             unyank: make the version resolvable again\n"
		"  -r, --repo NAME        the repository\n"
		"      --token-file FILE  use the token in FILE instead of the repository's\n"
		"  -h, --help             show this help\n",
};

// SPDX-License-Identifier: BSD-2-Clause
/* bpk publish: upload a package to a repository, listing every reason it gives for a refusal. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_TOKEN_FILE = 0x100 };

static int run_publish(int argc, char **argv)
{
	static const struct option options[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	BPK_OPTS(bpk_repo_publish_opts, opts);
	struct bpk_repo_published done;
	struct bpk_repo_client *client;
	const struct bpk_repo *repo = NULL;
	const char *path, *repo_name = NULL;
	int c, ret = EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "r:h", options, NULL)) != -1) {
		switch (c) {
		case 'r':
			repo_name = optarg;
			break;
		case OPT_TOKEN_FILE:
			opts.token_file = optarg;
			break;
		case 'h':
			return cli_help("publish");
		default:
			return cli_usage_error("publish", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("publish", "'bpk publish' needs one package");
	path = argv[optind];

	client = cli_repo_client("publish");
	if (!client || cli_pick_repo(client, repo_name, &repo))
		goto out;
	if (!repo) {
		if (bpk_repo_client__repo_cnt(client) != 1) {
			cli_error("cannot publish '%s': %s", path,
				  bpk_repo_client__repo_cnt(client)
					  ? "several repositories are configured; "
					    "choose one with --repo"
					  : "no repository is configured (see 'bpk repo add')");
			goto out;
		}
		repo = bpk_repo_client__repo(client, 0);
	}
	if (bpk_repo_client__publish(client, repo, path, &opts, &done)) {
		cli_error("cannot publish '%s' to '%s': %s", path, bpk_repo__name(repo),
			  bpk_repo_client__errstr(client));
		cli_print_details(client);
		goto out;
	}
	printf("published %s@%s to '%s' (feed %s, %" PRIu64 " bytes, sha256 %s)\n", done.name,
	       done.version, bpk_repo__name(repo), done.feed ?: "?", done.size, done.sha256);
	ret = EXIT_OK;
out:
	bpk_repo_client__free(client);
	return ret;
}

const struct cmd cmd_publish = {
	.name = "publish",
	.run = run_publish,
	.summary = "upload a package to a repository",
	.help =
		"usage: bpk publish PKG.bpk [--repo NAME] [--token-file FILE]\n"
		"\n"
		"Upload a package with the repository's push token. The repository lints it as\n"
		"'bpk lint' does, checks its signatures against the feed's policy, and refuses a\n"
		"name@version it already has (versions are immutable, even yanked). A refusal is\n"
		"printed with every lint error the repository lists. Without --repo: the only\n"
		"repository configured.\n"
		"\n"
		"  -r, --repo NAME        publish to this repository\n"
		"      --token-file FILE  use the token in FILE instead of the repository's\n"
		"  -h, --help             show this help\n",
};

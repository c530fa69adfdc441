// SPDX-License-Identifier: BSD-2-Clause
/* bpk fetch: resolve, download and verify a package into a directory; shared with install. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

enum { OPT_ALLOW_UNSIGNED = 0x100, OPT_ROOT };

int cli_fetch_or_install(int argc, char **argv, bool install)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "repo", required_argument, NULL, 'r' },
		{ "trust", required_argument, NULL, 't' },
		{ "allow-unsigned", no_argument, NULL, OPT_ALLOW_UNSIGNED },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = install ? "install" : "fetch";
	struct bpk_repo_client *client = NULL;
	struct bpk_verify_result *result = NULL;
	struct bpk_trust *trust = NULL;
	const struct bpk_repo *repo = NULL;
	const char *spec, *dir = NULL, *trust_dir = NULL, *repo_name = NULL;
	BPK_OPTS(bpk_repo_fetch_opts, opts);
	struct bpk_repo_fetched got;
	bool no_policy = false;
	int c, err, ret = EXIT_FAIL;

	while ((c = getopt_long(argc, argv, install ? "r:t:h" : "o:r:t:h", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			dir = optarg;
			break;
		case OPT_ROOT:
			if (!install)
				return cli_usage_error(cmd, "'bpk fetch' writes where -o says, "
						       "not --root");
			dir = optarg;
			break;
		case 'r':
			repo_name = optarg;
			break;
		case 't':
			trust_dir = optarg;
			break;
		case OPT_ALLOW_UNSIGNED:
			opts.allow_unsigned = true;
			break;
		case 'h':
			return cli_help(cmd);
		default:
			return cli_usage_error(cmd, "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cmd, "'bpk %s' needs one NAME or NAME@RANGE", cmd);
	spec = argv[optind];
	if (!bpk_repo_spec__valid(spec))
		return cli_usage_error(cmd, "'%s' is not NAME or NAME@RANGE", spec);

	trust = cli_open_trust(cmd, spec, trust_dir, &no_policy);
	if (!trust)
		goto out;
	result = bpk_verify_result__new();
	client = cli_repo_client(cmd);
	if (!result || !client || cli_pick_repo(client, repo_name, &repo))
		goto out;
	opts.trust = trust;
	opts.result = result;
	err = install ? bpk_repo_client__install(client, repo, spec, dir, &opts, &got)
		      : bpk_repo_client__fetch(client, repo, spec, dir, &opts, &got);
	if (err) {
		cli_error("cannot %s '%s': %s", cmd, spec, bpk_repo_client__errstr(client));
		if (err == -EKEYREJECTED && no_policy && bpk_verify_result__signer_cnt(result))
			cli_note_no_policy();
		goto out;
	}
	ret = EXIT_OK;
	if (got.already_installed) {
		printf("%s@%s is already installed in %s\n", got.target.name, got.target.version,
		       got.path);
		goto out;
	}
	if (bpk_verify_result__verdict(result) == BPK_VERDICT_UNSIGNED_ALLOWED)
		cli_warning("%s@%s is UNSIGNED; accepted because of --allow-unsigned",
			    got.target.name, got.target.version);
	printf("%s %s@%s from '%s'%s %s %s (%" PRIu64 " bytes, sha256 %s%s%s)\n",
	       install ? "installed" : "fetched", got.target.name, got.target.version,
	       bpk_repo__name(got.repo), got.from_cache ? " (cached)" : "",
	       install ? "in" : "to", got.path, got.target.size, got.target.sha256,
	       got.target.yanked ? ", yanked" : "",
	       bpk_verify_result__verdict(result) == BPK_VERDICT_TRUSTED ? ", signature trusted"
									   : "");
out:
	bpk_repo_client__free(client);
	bpk_verify_result__free(result);
	bpk_trust__free(trust);
	return ret;
}

static int run_fetch(int argc, char **argv)
{
	return cli_fetch_or_install(argc, argv, false);
}

const struct cmd cmd_fetch = {
	.name = "fetch",
	.run = run_fetch,
	.summary = "download and verify a package from a repository",
	.help =
		"usage: bpk fetch NAME[@RANGE] [-o DIR] [--repo NAME] [--trust DIR]"
		" [--allow-unsigned]\n"
		"\n"
		"Resolve NAME@RANGE from the repository's verified index (the newest version\n"
		"that matches and is not yanked; an exact version even when yanked; NAME alone:\n"
		"the newest), download it as DIR/NAME-VERSION.bpk.part (an interrupted download\n"
		"resumes), check its size and SHA-256 against the index and its signatures\n"
		"against the trust policy, and only then rename it to DIR/NAME-VERSION.bpk. A\n"
		"package that fails a check is deleted. RANGE: 1.2.3, ^1.2, ~1.2.3, 1.x, *,\n"
		"\">=1.0.0 <2.0.0\". Without --repo: the only repository configured, or the\n"
		"first by name whose index has the package.\n"
		"\n"
		"  -o, --output DIR       write into DIR (default: the current directory)\n"
		"  -r, --repo NAME        fetch from this repository\n"
		"  -t, --trust DIR        trust policy directory instead of the default\n"
		"      --allow-unsigned   accept a package with no signature (development only)\n"
		"  -h, --help             show this help\n"
		"\n"
		"The default trust policy is " BPK_TRUST_DIR ".\n",
};

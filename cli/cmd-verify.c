// SPDX-License-Identifier: BSD-2-Clause
/* bpk verify: check a package's files, signatures and signers against the trust policy. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

enum { OPT_ALLOW_UNSIGNED = 0x100 };

/* One line per signature: who signed, and what the policy made of it. */
static void print_signers(FILE *out, const struct bpk_verify_result *res)
{
	const struct bpk_signer *s;
	size_t i;

	for (i = 0; (s = bpk_verify_result__signer(res, i)); i++) {
		if (s->trusted)
			fprintf(out, "  key %s%s%s%s: trusted by %s for %s%s%s\n", s->keyid,
				s->comment ? " (" : "", s->comment ?: "", s->comment ? ")" : "",
				s->policy_file, s->matched_name ? "'" : "",
				s->matched_name ?: "every name", s->matched_name ? "'" : "");
		else
			fprintf(out, "  key %s: not counted: %s\n", s->keyid, s->reason);
	}
}

static int run_verify(int argc, char **argv)
{
	static const struct option options[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "allow-unsigned", no_argument, NULL, OPT_ALLOW_UNSIGNED },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpk_verify_result *res = NULL;
	struct bpk_trust *trust = NULL;
	const char *dir = NULL, *path;
	BPK_OPTS(bpk_verify_opts, opts);
	bool json = false, no_policy = false;
	int c, err, ret = EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "t:jh", options, NULL)) != -1) {
		switch (c) {
		case 't':
			dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case OPT_ALLOW_UNSIGNED:
			opts.allow_unsigned = true;
			break;
		case 'h':
			return cli_help("verify");
		default:
			return cli_usage_error("verify", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("verify", "'bpk verify' needs a package");
	path = argv[optind++];
	if (optind < argc)
		return cli_usage_error("verify", "unexpected argument '%s'", argv[optind]);

	trust = cli_open_trust("verify", path, dir, &no_policy);
	if (!trust)
		goto out;
	res = bpk_verify_result__new();
	if (!res) {
		cli_error("cannot verify '%s': %s", path, strerror(errno));
		goto out;
	}
	err = bpk_verify__file(path, trust, &opts, res);
	if (err && err != -EKEYREJECTED) {
		cli_error("cannot verify '%s': %s", path, strerror(-err));
		goto out;
	}
	if (json) {
		char *text = bpk_verify_result__to_json(res);

		if (text)
			fputs(text, stdout);
		free(text);
	}
	switch (bpk_verify_result__verdict(res)) {
	case BPK_VERDICT_TRUSTED:
		if (!json) {
			printf("verified '%s': %s %s, %u trusted signature%s"
			       " (policy requires %u)\n", path, bpk_verify_result__name(res),
			       bpk_verify_result__version(res),
			       bpk_verify_result__trusted_cnt(res),
			       bpk_verify_result__trusted_cnt(res) == 1 ? "" : "s",
			       bpk_verify_result__required_cnt(res));
			print_signers(stdout, res);
		}
		ret = EXIT_OK;
		break;
	case BPK_VERDICT_UNSIGNED_ALLOWED:
		/* Every time, on stderr, so that it shows in logs whatever stdout is piped to. */
		cli_warning("'%s' is UNSIGNED; accepted because of --allow-unsigned", path);
		if (!json)
			printf("accepted '%s': %s %s, unsigned\n", path,
			       bpk_verify_result__name(res), bpk_verify_result__version(res));
		ret = EXIT_OK;
		break;
	case BPK_VERDICT_REFUSED:
		cli_error("cannot verify '%s': %s", path, bpk_verify_result__reason(res));
		if (bpk_verify_result__signer_cnt(res) > 1)
			print_signers(stderr, res);
		if (no_policy && bpk_verify_result__signer_cnt(res))
			cli_note_no_policy();
		break;
	}
out:
	bpk_verify_result__free(res);
	bpk_trust__free(trust);
	return ret;
}

const struct cmd cmd_verify = {
	.name = "verify",
	.run = run_verify,
	.summary = "check a package's files, signatures and signers",
	.help =
		"usage: bpk verify PKG.bpk [--trust DIR] [-j] [--allow-unsigned]\n"
		"\n"
		"Check a package as bpk and bpkd do before using it: every file against its size\n"
		"and SHA-256 in bpk.json and no file that bpk.json does not list, each signature\n"
		"in bpk.sig over the exact bytes of bpk.json, and each signer against the trust\n"
		"policy. Prints who signed and which policy entry admitted them; or, refusing,\n"
		"the one reason why. Exits 0 when the package is trusted, 1 when it is refused.\n"
		"\n"
		"  -t, --trust DIR        trust policy directory instead of the default\n"
		"  -j, --json             print the result as JSON\n"
		"      --allow-unsigned   accept a package with no signature (development only)\n"
		"  -h, --help             show this help\n"
		"\n"
		"The default trust policy is " BPK_TRUST_DIR ".\n",
};

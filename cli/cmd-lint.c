// SPDX-License-Identifier: BSD-2-Clause
/* bpk lint: check a package directory or a .bpk file. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int run_lint(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpk_diags diags = BPK_DIAGS_INIT;
	const char *target = ".";
	bool json = false, strict = false;
	size_t errors, warnings;
	struct stat st;
	int c, err = 0, ret;

	while ((c = getopt_long(argc, argv, "jsh", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			strict = true;
			break;
		case 'h':
			return cli_help("lint");
		default:
			return cli_usage_error("lint", "unknown option");
		}
	}
	if (optind < argc)
		target = argv[optind++];
	if (optind < argc)
		return cli_usage_error("lint", "unexpected argument '%s'", argv[optind]);
	if (stat(target, &st) < 0)
		return cli_error("cannot lint '%s': %s", target, strerror(errno));

	if (S_ISDIR(st.st_mode)) {
		err = bpk_lint__dir(target, &diags);
	} else {
		struct bpk_pkg *pkg = bpk_pkg__open(target, NULL, &diags);

		if (pkg)
			err = bpk_lint__pkg(pkg, &diags);
		else if (!bpk_diags__count(&diags, BPK_SEV_ERROR))
			err = errno ? -errno : -EIO; /* unreadable: no diagnostic to show */
		bpk_pkg__free(pkg);
	}
	if (err) {
		bpk_diags__release(&diags);
		return cli_error("cannot lint '%s': %s", target, strerror(-err));
	}
	errors = cli_print_diags(&diags, json);
	warnings = bpk_diags__count(&diags, BPK_SEV_WARNING);
	if (!json)
		fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", target, errors,
			errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
	ret = errors || (strict && warnings) ? EXIT_FAIL : EXIT_OK;
	bpk_diags__release(&diags);
	return ret;
}

const struct cmd cmd_lint = {
	.name = "lint",
	.run = run_lint,
	.summary = "check a package directory or .bpk",
	.help =
		"usage: bpk lint [DIR|FILE.bpk] [-j] [--strict]\n"
		"\n"
		"Check everything that makes a package acceptable and report errors (Ennn) and\n"
		"warnings (Wnnn) with stable ids; docs/spec/lint.md explains each.\n"
		"Exits 1 when there is an error (or, with --strict, a warning).\n"
		"\n"
		"  -j, --json          print JSON instead of text\n"
		"  -s, --strict        treat warnings as errors\n"
		"  -h, --help          show this help\n",
};

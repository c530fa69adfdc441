// SPDX-License-Identifier: BSD-2-Clause
/* bpk install: fetch and verify a package as bpk fetch does, then extract it atomically. */
#include "cli.h"
#include "config.h"

static int run_install(int argc, char **argv)
{
	return cli_fetch_or_install(argc, argv, true);
}

const struct cmd cmd_install = {
	.name = "install",
	.run = run_install,
	.summary = "fetch, verify and extract a package",
	.help =
		"usage: bpk install NAME[@RANGE] [--root DIR] [--repo NAME] [--trust DIR]"
		" [--allow-unsigned]\n"
		"\n"
		"Resolve and check a package exactly as 'bpk fetch' does (keeping it in the\n"
		"package cache, $BPK_CACHE_DIR/packages/), then extract it into\n"
		"ROOT/NAME/VERSION/: into a temporary directory beside it first, renamed when\n"
		"complete, so a version is either fully installed or absent. A version already\n"
		"installed is left as it is.\n"
		"\n"
		"      --root DIR         install under DIR (default: "
		BPK_REPO_DEFAULT_INSTALL_ROOT ")\n"
		"  -r, --repo NAME        install from this repository\n"
		"  -t, --trust DIR        trust policy directory instead of the default\n"
		"      --allow-unsigned   accept a package with no signature (development only)\n"
		"  -h, --help             show this help\n"
		"\n"
		"The default trust policy is " BPK_TRUST_DIR ".\n",
};

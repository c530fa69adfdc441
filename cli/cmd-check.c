// SPDX-License-Identifier: BSD-2-Clause
/* bpk check: will a package's (or an object's) programs run on this machine, and if not, why. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

#define OBJECT_MAX (64U << 20)

static void print_result(const char *target, const struct bpk_check_result *res, bool verbose)
{
	size_t i;
	int j;

	if (res->package)
		printf("%s %s", res->package, res->version);
	else
		printf("%s", target);
	printf(" on Linux %s %s (BTF: %s)%s\n", res->release, res->machine, res->btf ? "yes" : "no",
	       res->probed ? "" : " (kernel not asked: needs root)");
	for (i = 0; i < res->prog_cnt; i++) {
		const struct bpk_check_prog *cp = &res->progs[i];

		printf("  %s (%s, %s): ", cp->name, cp->object, cp->type);
		if (cp->ok)
			printf("runs here\n");
		else
			printf("does not run here: %s: %s\n", bpk_check_id__name(cp->failed),
			       cp->reason);
		if (!verbose)
			continue;
		for (j = 0; j < BPK_CHECK_CNT; j++)
			printf("    %-12s %-4s  %s\n", bpk_check_id__name(j),
			       bpk_check_status__name(cp->items[j].status),
			       cp->items[j].detail ?: "");
	}
	if (!res->prog_cnt)
		printf("  no programs\n");
}

static int run_check(int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"program", required_argument, NULL, 'p'},
	    {"no-load", no_argument, NULL, 'n'},
	    {"release", required_argument, NULL, 'r'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	BPK_OPTS(bpk_check_opts, opts);
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_check_result *res = NULL;
	bool json = false, verbose = false;
	const char *target;
	int c, err, ret;

	while ((c = getopt_long(argc, argv, "jp:nr:vh", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'p':
			opts.program = optarg;
			break;
		case 'n':
			opts.flags |= BPK_CHECK_F_NO_LOAD;
			break;
		case 'r':
			opts.release = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			return cli_help("check");
		default:
			return cli_usage_error("check", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("check", "name a package (.bpk) or a BPF object (.o)");
	target = argv[optind++];
	if (optind < argc)
		return cli_usage_error("check", "unexpected argument '%s'", argv[optind]);

	if (cli_file_is_package(target)) {
		struct bpk_pkg *pkg = bpk_pkg__open(target, NULL, &diags);
		const struct bpk_diag *d = bpk_diags__first_error(&diags);

		if (!pkg) {
			ret = d ? cli_error("cannot check '%s': %s", target, d->message)
				: cli_error("cannot check '%s': %s", target, strerror(errno));
			bpk_diags__release(&diags);
			return ret;
		}
		err = bpk_check__pkg(pkg, &opts, &res);
		bpk_pkg__free(pkg);
	} else {
		_cleanup_free_ char *data = NULL;
		size_t len = 0;

		err = read_file(target, OBJECT_MAX, &data, &len);
		if (err)
			return cli_error("cannot read '%s': %s", target, strerror(-err));
		err = bpk_check__object(data, len, target, NULL, &opts, &res);
	}
	bpk_diags__release(&diags);
	if (err == -ENOENT)
		return cli_error("cannot check '%s': no program '%s' in it", target,
				 opts.program ?: "");
	if (err == -EINVAL)
		return cli_error("cannot check '%s': not a readable BPF object", target);
	if (err)
		return cli_error("cannot check '%s': %s", target, strerror(-err));

	if (json) {
		char *text = bpk_check_result__to_json(res);

		if (text)
			fputs(text, stdout);
		free(text);
	} else {
		print_result(target, res, verbose);
	}
	if (!res->probed)
		cli_warning(
		    "not root: the kernel was not asked about program types, helpers or loading");
	ret = res->ok ? EXIT_OK : EXIT_FAIL;
	bpk_check_result__free(res);
	return ret;
}

const struct cmd cmd_check = {
	.name = "check",
	.run = run_check,
	.summary = "will a package run on this kernel, and if not, why",
	.help =
		"usage: bpk check PKG.bpk|FILE.o [-j] [-v] [--program NAME] [--no-load]\n"
		"                 [--release RELEASE]\n"
		"\n"
		"Check each program against this machine, in order: platform, requires.arch,\n"
		"requires.kernel (uname), kernel BTF, program type, attach type, each helper for\n"
		"that program type, each kfunc in the kernel's BTF, CO-RE relocations and the\n"
		"verifier (the program is loaded on its own and unloaded at once). Each program's\n"
		"answer is its first failing check. Signatures are checked by 'bpk verify'.\n"
		"Exits 0 when every program runs here, 1 when one does not.\n"
		"\n"
		"  -j, --json             print JSON instead of text\n"
		"  -v, --verbose          show every check of every program\n"
		"  -p, --program NAME     check only the program NAME\n"
		"  -n, --no-load          ask the kernel with probes only, no trial load\n"
		"  -r, --release RELEASE  judge requires.kernel by RELEASE instead of uname's\n"
		"  -h, --help             show this help\n",
};

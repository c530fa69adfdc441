// SPDX-License-Identifier: BSD-2-Clause
/* bpk test: run a package's test vectors in the kernel and show a table of the cases. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static void print_detail(const char *detail)
{
	const char *line = detail, *nl;

	while (line && *line) {
		nl = strchr(line, '\n');
		printf("        %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
		line = nl ? nl + 1 : NULL;
	}
}

static void print_report(const struct bpk_test_report *rep)
{
	static const char *const status[] = { "PASS", "FAIL", "SKIP" };
	size_t i, wv = 6, wp = 7;

	for (i = 0; i < rep->cnt; i++) {
		const struct bpk_test_case_result *c = &rep->cases[i];

		if (strlen(c->vector) > wv)
			wv = strlen(c->vector);
		if (c->program && strlen(c->program) > wp)
			wp = strlen(c->program);
	}
	printf("%-4s  %-*s  %-*s  %s\n", "", (int)wv, "VECTOR", (int)wp, "PROGRAM", "CASE");
	for (i = 0; i < rep->cnt; i++) {
		const struct bpk_test_case_result *c = &rep->cases[i];

		printf("%-4s  %-*s  %-*s  %s", status[c->status], (int)wv, c->vector, (int)wp,
		       c->program ? c->program : "-", c->name);
		if (c->ns_per_run)
			printf("  (%u ns/run)", c->ns_per_run);
		printf("\n");
		if (c->status != BPK_TEST_PASS && c->detail)
			print_detail(c->detail);
	}
	printf("%zu passed, %zu failed, %zu skipped\n", rep->passed, rep->failed, rep->skipped);
}

static int run_test(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpk_test_report *rep = NULL;
	BPK_OPTS(bpk_test_opts, opts);
	const char *target = ".";
	bool json = false;
	struct stat st;
	char *end;
	int c, err, ret;

	while ((c = getopt_long(argc, argv, "jr:h", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'r':
			errno = 0;
			opts.repeat = (uint32_t)strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || opts.repeat < 1 || opts.repeat > 10000000)
				return cli_usage_error("test", "--repeat wants a count from 1 to 10000000, not '%s'",
						       optarg);
			break;
		case 'h':
			return cli_help("test");
		default:
			return cli_usage_error("test", "unknown option");
		}
	}
	if (optind < argc)
		target = argv[optind++];
	if (optind < argc)
		return cli_usage_error("test", "unexpected argument '%s'", argv[optind]);
	if (stat(target, &st) < 0)
		return cli_error("cannot test '%s': %s", target, strerror(errno));

	if (S_ISDIR(st.st_mode)) {
		err = bpk_test__dir(target, &opts, &rep);
	} else {
		struct bpk_diags diags = BPK_DIAGS_INIT;
		struct bpk_pkg *pkg = bpk_pkg__open(target, NULL, &diags);

		if (!pkg) {
			const struct bpk_diag *d = bpk_diags__first_error(&diags);

			ret = cli_error("cannot open '%s': %s", target,
					d ? d->message : strerror(errno));
			bpk_diags__release(&diags);
			return ret;
		}
		err = bpk_test__pkg(pkg, &opts, &rep);
		bpk_pkg__free(pkg);
		bpk_diags__release(&diags);
	}
	if (err == -ENOENT)
		return cli_error("'%s' has no test vectors (tests/NAME.json)", target);
	if (err)
		return cli_error("cannot test '%s': %s", target, strerror(-err));
	if (json) {
		char *text = bpk_test_report__to_json(rep);

		if (text)
			fputs(text, stdout);
		free(text);
	} else {
		print_report(rep);
	}
	ret = rep->failed ? EXIT_FAIL : EXIT_OK;
	bpk_test_report__free(rep);
	return ret;
}

const struct cmd cmd_test = {
	.name = "test",
	.run = run_test,
	.summary = "run the package's test vectors in the kernel",
	.help =
		"usage: bpk test [DIR|FILE.bpk] [-j] [--repeat N]\n"
		"\n"
		"Run every case of tests/*.json against the package's programs with\n"
		"BPF_PROG_TEST_RUN: each case loads the object afresh (never attached), writes the\n"
		"case's map contents, runs the program on the case's packet or context, and compares\n"
		"the return value, output packet and map contents. Cases the kernel cannot run here\n"
		"are skipped with the reason. Exits 1 when a case fails. Needs root.\n"
		"\n"
		"  -r, --repeat N      run each case N times and report ns/run\n"
		"  -j, --json          print JSON instead of a table\n"
		"  -h, --help          show this help\n",
};

// SPDX-License-Identifier: BSD-2-Clause
/* bpk build: compile a package's BPF sources. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cli.h"

static int run_build(int argc, char **argv)
{
	static const struct option options[] = {
		{ "verbose", no_argument, NULL, 'v' }, { "clang", required_argument, NULL, 'C' },
		{ "btf", required_argument, NULL, 'B' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	BPK_OPTS(bpk_build_opts, opts);
	const char *dir = ".";
	int c, err, i, own_argc = argc;

	/* Everything after "--" goes to clang untouched; getopt must not see it. */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			own_argc = i;
			opts.extra_cflags = (const char *const *)&argv[i + 1];
			break;
		}
	while ((c = getopt_long(own_argc, argv, "vh", options, NULL)) != -1) {
		switch (c) {
		case 'v':
			opts.verbose = true;
			cli_set_verbose(true);
			break;
		case 'C':
			opts.clang = optarg;
			break;
		case 'B':
			opts.vmlinux_btf = optarg;
			break;
		case 'h':
			return cli_help("build");
		default:
			return cli_usage_error("build", "unknown option");
		}
	}
	if (optind < own_argc)
		dir = argv[optind++];
	if (optind < own_argc)
		return cli_usage_error("build", "unexpected argument '%s'", argv[optind]);

	err = bpk_build__dir(dir, &opts);
	if (err == -ENOENT)
		return cli_error("nothing to build in '%s': no src/*.bpf.c or *.bpf.c", dir);
	if (err == -EINVAL)
		return cli_error("cannot build '%s': two sources would write the same object (see above)",
				 dir);
	if (err == -ENOEXEC)
		return cli_error("build of '%s' failed (the compiler's messages are above)", dir);
	if (err)
		return cli_error("cannot build '%s': %s", dir, strerror(-err));
	printf("built %s/bpf/\n", strcmp(dir, ".") ? dir : ".");
	return EXIT_OK;
}

const struct cmd cmd_build = {
	.name = "build",
	.run = run_build,
	.summary = "compile the package's BPF sources",
	.help =
		"usage: bpk build [DIR] [-v] [-- CFLAGS...]\n"
		"\n"
		"Compile src/*.bpf.c and *.bpf.c of DIR (default .) into bpf/NAME.o with\n"
		"clang -target bpf -O2 -g. A vmlinux.h is generated from /sys/kernel/btf/vmlinux with\n"
		"bpftool when a source includes it. Compiler errors are shown as clang prints them.\n"
		"\n"
		"  -v, --verbose       show the commands run\n"
		"      --clang PATH    compiler to use (default: clang)\n"
		"      --btf FILE      kernel BTF for vmlinux.h (default: /sys/kernel/btf/vmlinux)\n"
		"  -h, --help          show this help\n",
};

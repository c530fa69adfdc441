// SPDX-License-Identifier: BSD-2-Clause
/* bpk init: scaffold a package directory. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cli.h"

static int run_init(int argc, char **argv)
{
	static const struct option options[] = {
		{ "type", required_argument, NULL, 't' }, { "dir", required_argument, NULL, 'd' },
		{ "author", required_argument, NULL, 'a' }, { "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },	  { 0 },
	};
	const char *type = "xdp", *dir = NULL, *name;
	enum bpk_template template;
	BPK_OPTS(bpk_init_opts, opts);
	int c, err;

	while ((c = getopt_long(argc, argv, "t:d:a:fh", options, NULL)) != -1) {
		switch (c) {
		case 't':
			type = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'a':
			opts.author = optarg;
			break;
		case 'f':
			opts.force = true;
			break;
		case 'h':
			return cli_help("init");
		default:
			return cli_usage_error("init", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("init", "expected one package NAME");
	name = argv[optind];
	if (!bpk_name__valid(name))
		return cli_usage_error("init",
				       "'%s' is not a package name ([a-z0-9][a-z0-9._-]{0,99}, optionally feed/name)",
				       name);
	if (bpk_template__parse(type, &template))
		return cli_usage_error("init",
				       "'%s' is not a type bpk can scaffold (xdp, tc, tracepoint, kprobe, cgroup_skb)",
				       type);
	if (!dir)
		dir = strchr(name, '/') ? strchr(name, '/') + 1 : name;

	err = bpk_init__scaffold(dir, name, template, &opts);
	if (err == -EEXIST)
		return cli_error("'%s' is not empty (use --force to add the scaffold to it)", dir);
	if (err == -EINVAL)
		return cli_error("cannot scaffold '%s': the author must not contain quotes, backslashes or newlines",
				 name);
	if (err)
		return cli_error("cannot scaffold '%s' in '%s': %s", name, dir, strerror(-err));
	printf("created %s package '%s' in %s/\n", type, name, dir);
	printf("next: edit %s/bpk.json and %s/README.md, then run: cd %s && bpk build && bpk pack\n",
	       dir, dir, dir);
	return EXIT_OK;
}

const struct cmd cmd_init = {
	.name = "init",
	.run = run_init,
	.summary = "scaffold a new package directory",
	.help =
		"usage: bpk init NAME [--type TYPE] [--dir DIR] [--author TEXT] [--force]\n"
		"\n"
		"Create a package directory with bpk.json, README.md, a compilable CO-RE program in\n"
		"src/NAME.bpf.c and a test vector in tests/NAME.json.\n"
		"\n"
		"  -t, --type TYPE     program type: xdp (default), tc, tracepoint, kprobe, cgroup_skb\n"
		"  -d, --dir DIR       directory to create (default: NAME without its feed)\n"
		"  -a, --author TEXT   author for bpk.json, e.g. \"Ada <ada@example.com>\"\n"
		"  -f, --force         write into a non-empty directory (existing files are kept)\n"
		"  -h, --help          show this help\n",
};

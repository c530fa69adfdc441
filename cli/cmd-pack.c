// SPDX-License-Identifier: BSD-2-Clause
/* bpk pack: derive the manifest from the objects and write the package. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static int run_pack(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "update-manifest", no_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpk_diags diags = BPK_DIAGS_INIT;
	BPK_OPTS(bpk_pack_opts, opts);
	const char *dir = ".";
	char *written = NULL;
	bool json = false;
	int c, err, ret;

	while ((c = getopt_long(argc, argv, "o:ujh", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			opts.output = optarg;
			break;
		case 'u':
			opts.update_manifest = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_help("pack");
		default:
			return cli_usage_error("pack", "unknown option");
		}
	}
	if (optind < argc)
		dir = argv[optind++];
	if (optind < argc)
		return cli_usage_error("pack", "unexpected argument '%s'", argv[optind]);

	err = bpk_pack__dir(dir, &opts, &diags, &written);
	if (json) {
		char *lint = bpk_diags__to_json(&diags);
		json_t *lint_json = lint ? json_loads(lint, 0, NULL) : NULL;
		json_t *result = json_pack("{s:b, s:s?, s:o?}", "ok", !err, "package", written,
					   "lint", lint_json);
		char *text = result ? json_dumps(result, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

		if (text)
			puts(text);
		free(text);
		free(lint);
		json_decref(result);
	} else {
		cli_print_diags(&diags, false);
	}
	if (!err) {
		if (!json)
			printf("wrote %s\n", written);
		ret = EXIT_OK;
	} else if (err == -EINVAL) {
		ret = json ? EXIT_FAIL
			   : cli_error("cannot pack '%s': %zu lint error(s) above", dir,
				       bpk_diags__count(&diags, BPK_SEV_ERROR));
	} else {
		ret = cli_error("cannot pack '%s': %s", dir, strerror(-err));
	}
	free(written);
	bpk_diags__release(&diags);
	return ret;
}

const struct cmd cmd_pack = {
	.name = "pack",
	.run = run_pack,
	.summary = "derive the manifest and write NAME-VERSION.bpk",
	.help =
		"usage: bpk pack [DIR] [-o FILE] [--update-manifest] [-j]\n"
		"\n"
		"Inspect the objects under DIR/bpf (default .), write programs, maps and files into the\n"
		"manifest, lint the result and, when lint finds no error, write the package. The same\n"
		"inputs always give the same bytes.\n"
		"\n"
		"  -o, --output FILE       package to write (default: DIR/NAME-VERSION.bpk)\n"
		"  -u, --update-manifest   also write the derived fields back into DIR/bpk.json\n"
		"  -j, --json              print the result as JSON\n"
		"  -h, --help              show this help\n",
};

// SPDX-License-Identifier: BSD-2-Clause
/* bpk apply: send an l3afd configuration to bpkd (POST /l3af/configs/v1/update). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "util.h"

enum { OPT_ADD = 0x100 };

static int run_apply(int argc, char **argv)
{
	static const struct option options[] = {
		CLI_AGENT_OPTIONS,
		{ "add", no_argument, NULL, OPT_ADD },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path;
	_cleanup_free_ char *data = NULL, *answer = NULL, *msg = NULL;
	bool add = false;
	size_t len;
	struct cli_agent agent = CLI_AGENT_INIT;
	long status;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_ADD:
			add = true;
			break;
		case 'h':
			return cli_help("apply");
		default:
			if (cli_agent_option(&agent, c, optarg))
				break;
			return cli_usage_error("apply", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("apply", "expected one FILE.json");
	path = argv[optind];
	err = read_file(path, 4U << 20, &data, &len);
	if (err)
		return cli_error("cannot read '%s': %s", path, strerror(-err));
	if (cli_agent_request(&agent, "POST", add ? "/l3af/configs/v1/add" : "/l3af/configs/v1/update",
			      data, &status, &answer))
		return EXIT_FAIL;
	if (status != 200) {
		msg = cli_agent_message(answer);
		return cli_error("cannot apply '%s': %s", path, msg ?: "bpkd refused it");
	}
	return EXIT_OK;
}

const struct cmd cmd_apply = {
	.name = "apply",
	.run = run_apply,
	.summary = "apply an l3afd configuration through bpkd",
	.help =
		"usage: bpk apply FILE.json [--agent URL] [--cacert FILE]\n"
		"       [--cert FILE --key FILE] [--add]\n"
		"\n"
		"Send FILE.json, an l3afd configuration (an array of {host_name, iface,\n"
		"bpf_programs}), to bpkd, which applies it all or nothing per interface.\n"
		"\n"
		"      --agent URL              bpkd's address (default: http://127.0.0.1:7080)\n"
		"      --cacert FILE            PEM CA certificates bpkd's https certificate must\n"
		"                               chain to (default: the system's)\n"
		"      --cert FILE              PEM client certificate, when bpkd requires one\n"
		"      --key FILE               the client certificate's PEM private key\n"
		"      --add                    add the programs to what runs instead of replacing\n"
		"  -h, --help                   show this help\n",
};

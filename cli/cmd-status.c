// SPDX-License-Identifier: BSD-2-Clause
/* bpk status: what bpkd runs, per interface and hook, in chain order. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "util.h"

static void print_status(json_t *root)
{
	json_t *ifo, *ho, *p;
	size_t i, j, k;

	json_array_foreach(json_object_get(root, "interfaces"), i, ifo) {
		json_array_foreach(json_object_get(ifo, "hooks"), j, ho) {
			json_t *fused = json_object_get(ho, "fused");
			const char *mechanism = json_string_value(json_object_get(ho, "mechanism"));
			const char *why = json_string_value(json_object_get(ho, "not_fused"));

			printf("%s %s%s%s%s\n", json_string_value(json_object_get(ifo, "iface")),
			       json_string_value(json_object_get(ho, "hook")),
			       mechanism ? "  mechanism " : "", mechanism ?: "",
			       json_is_true(json_object_get(ho, "running")) ? "" : " (NOT RUNNING)");
			if (fused)
				printf("  fused program id %lld (%s), runs %lld  %s\n",
				       json_integer_value(json_object_get(fused, "prog_id")),
				       json_string_value(json_object_get(fused, "layout")),
				       json_integer_value(json_object_get(fused, "run_cnt")),
				       json_string_value(json_object_get(fused, "pin")));
			if (why)
				printf("  not fused: %s\n", why);
			json_array_foreach(json_object_get(ho, "chain"), k, p) {
				const char *signer = json_string_value(json_object_get(p, "signer"));

				printf("  %-4lld %-20s id %-6lld %s@%s  %s%.16s  runs %lld\n",
				       json_integer_value(json_object_get(p, "seq_id")),
				       json_string_value(json_object_get(p, "name")),
				       json_integer_value(json_object_get(p, "prog_id")),
				       json_string_value(json_object_get(p, "package")),
				       json_string_value(json_object_get(p, "version")),
				       signer ? "signer " : "UNSIGNED", signer ? signer : "",
				       json_integer_value(json_object_get(p, "run_cnt")));
			}
		}
	}
	if (!json_array_size(json_object_get(root, "interfaces")))
		printf("bpkd runs nothing\n");
}

static int run_status(int argc, char **argv)
{
	static const struct option options[] = {
		CLI_AGENT_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	_cleanup_free_ char *answer = NULL;
	bool json = false;
	json_t *root;
	struct cli_agent agent = CLI_AGENT_INIT;
	long status;
	int c;

	while ((c = getopt_long(argc, argv, "jh", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_help("status");
		default:
			if (cli_agent_option(&agent, c, optarg))
				break;
			return cli_usage_error("status", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
	if (cli_agent_request(&agent, "GET", "/v1/status", NULL, &status, &answer))
		return EXIT_FAIL;
	if (status != 200) {
		/* bpkd's {"error":{"message"}} says why, e.g. a client certificate it refused. */
		_cleanup_free_ char *m = cli_agent_message(answer);

		return cli_error("bpkd answered %ld to GET /v1/status: %s", status, m ?: "");
	}
	if (json) {
		fputs(answer, stdout);
		return EXIT_OK;
	}
	root = json_loads(answer, 0, NULL);
	if (!root)
		return cli_error("bpkd's status is not JSON");
	print_status(root);
	json_decref(root);
	return EXIT_OK;
}

const struct cmd cmd_status = {
	.name = "status",
	.run = run_status,
	.summary = "show what bpkd runs",
	.help =
		"usage: bpk status [--agent URL] [--cacert FILE]\n"
		"       [--cert FILE --key FILE] [-j]\n"
		"\n"
		"Show what bpkd runs: per interface and hook, the chain in order with each\n"
		"program's id, package, version, signer and run count.\n"
		"\n"
		"      --agent URL              bpkd's address (default: http://127.0.0.1:7080)\n"
		"      --cacert FILE            PEM CA certificates bpkd's https certificate must\n"
		"                               chain to (default: the system's)\n"
		"      --cert FILE              PEM client certificate, when bpkd requires one\n"
		"      --key FILE               the client certificate's PEM private key\n"
		"  -j, --json                   print bpkd's status document as it is\n"
		"  -h, --help                   show this help\n",
};

// SPDX-License-Identifier: BSD-2-Clause
/* bpk detach: ask bpkd to remove every program of an interface, or of one of its hooks. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "util.h"

static const char *const hooks[] = { "xdp_ingress", "tc_ingress", "tc_egress", "probes" };

static int run_detach(int argc, char **argv)
{
	static const struct option options[] = {
		CLI_AGENT_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *iface, *hook = NULL;
	_cleanup_free_ char *path = NULL, *answer = NULL, *body = NULL;
	json_t *cfg = NULL, *req = NULL, *names, *list, *p;
	size_t i, j;
	struct cli_agent agent = CLI_AGENT_INIT;
	long status;
	int c, ret = EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			return cli_help("detach");
		default:
			if (cli_agent_option(&agent, c, optarg))
				break;
			return cli_usage_error("detach", "unknown option");
		}
	}
	if (optind != argc - 1 && optind != argc - 2)
		return cli_usage_error("detach", "expected IFACE [HOOK]");
	iface = argv[optind];
	if (optind == argc - 2) {
		hook = argv[optind + 1];
		for (i = 0; i < ARRAY_SIZE(hooks) && strcmp(hooks[i], hook); i++)
			;
		if (i == ARRAY_SIZE(hooks))
			return cli_usage_error("detach",
					       "HOOK is xdp_ingress, tc_ingress, tc_egress or probes, not '%s'",
					       hook);
	}
	path = xasprintf("/l3af/configs/v1/%s", iface);
	if (!path)
		return cli_error("out of memory");
	if (cli_agent_request(&agent, "GET", path, NULL, &status, &answer))
		return EXIT_FAIL;
	if (status == 404)
		return cli_error("bpkd runs nothing on '%s'", iface);
	cfg = json_loads(answer, 0, NULL);
	if (status != 200 || !cfg)
		return cli_error("bpkd answered %ld to GET %s", status, path);
	/* A delete naming every program of the hooks asked for. */
	req = json_pack("[{s:O?, s:s, s:{}}]", "host_name", json_object_get(cfg, "host_name"),
			"iface", iface, "bpf_programs");
	names = req ? json_object_get(json_array_get(req, 0), "bpf_programs") : NULL;
	for (i = 0; names && i < ARRAY_SIZE(hooks); i++) {
		json_t *out = json_array();

		if (hook && strcmp(hook, hooks[i]))
			continue;
		list = json_object_get(json_object_get(cfg, "bpf_programs"), hooks[i]);
		json_array_foreach(list, j, p)
			json_array_append(out, json_object_get(p, "name"));
		json_object_set_new(names, hooks[i], out);
	}
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	free(answer);
	answer = NULL;
	if (!body) {
		cli_error("out of memory");
		goto out;
	}
	if (cli_agent_request(&agent, "POST", "/l3af/configs/v1/delete", body, &status, &answer))
		goto out;
	if (status != 200) {
		_cleanup_free_ char *m = cli_agent_message(answer);

		cli_error("cannot detach '%s': %s", iface, m ?: "bpkd refused it");
		goto out;
	}
	ret = EXIT_OK;
out:
	json_decref(cfg);
	json_decref(req);
	return ret;
}

const struct cmd cmd_detach = {
	.name = "detach",
	.run = run_detach,
	.summary = "ask bpkd to detach the programs of an interface",
	.help =
		"usage: bpk detach IFACE [HOOK] [--agent URL] [--cacert FILE]\n"
		"       [--cert FILE --key FILE]\n"
		"\n"
		"Ask bpkd to remove every program it runs on IFACE, or only those of HOOK\n"
		"(xdp_ingress, tc_ingress, tc_egress or probes), with an l3afd delete.\n"
		"\n"
		"      --agent URL              bpkd's address (default: http://127.0.0.1:7080)\n"
		"      --cacert FILE            PEM CA certificates bpkd's https certificate must\n"
		"                               chain to (default: the system's)\n"
		"      --cert FILE              PEM client certificate, when bpkd requires one\n"
		"      --key FILE               the client certificate's PEM private key\n"
		"  -h, --help                   show this help\n",
};

// SPDX-License-Identifier: BSD-2-Clause
/* What bpk apply, status and detach share: the options that reach bpkd, and the request. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

bool cli_agent_option(struct cli_agent *agent, int c, const char *arg)
{
	switch (c) {
	case CLI_OPT_AGENT:
		agent->url = arg;
		return true;
	case CLI_OPT_CACERT:
		agent->tls.ca_file = arg;
		return true;
	case CLI_OPT_CERT:
		agent->tls.cert_file = arg;
		return true;
	case CLI_OPT_KEY:
		agent->tls.key_file = arg;
		return true;
	default:
		return false;
	}
}

int cli_agent_request(const struct cli_agent *agent, const char *method, const char *path,
		      const char *body, long *ret_status, char **ret_answer)
{
	struct bpk_error error = BPK_ERROR_INIT;
	int err;

	err = bpk_agent_client__request_opts(agent->url, method, path, body, &agent->tls, &error,
					     ret_status, ret_answer);
	if (err) {
		cli_error("cannot reach bpkd at %s: %s", agent->url ?: BPK_AGENT_DEFAULT_URL,
			  error.message ?: strerror(-err));
		bpk_error__release(&error);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

char *cli_agent_message(const char *answer)
{
	json_t *root = json_loads(answer ?: "", 0, NULL);
	const char *m = json_string_value(json_object_get(json_object_get(root, "error"), "message"));
	char *s = strdup(m ? m : answer ?: "");

	json_decref(root);
	return s;
}

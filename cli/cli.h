/* SPDX-License-Identifier: BSD-2-Clause */
/* The bpk command line: shared declarations of the subcommands and their output helpers. */
#ifndef BPK_CLI_H
#define BPK_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <bpk/bpk.h>

/* Exit codes of every bpk command. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

/* A subcommand: each cmd-NAME.c defines one, and main.c lists them. */
struct cmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command's name */
	const char *summary;
	const char *help; /* full --help text; the man page repeats it */
};

extern const struct cmd cmd_init, cmd_build, cmd_test, cmd_pack, cmd_inspect, cmd_lint;
extern const struct cmd cmd_key, cmd_sign, cmd_verify, cmd_trust, cmd_index;
extern const struct cmd cmd_load, cmd_unload, cmd_attach;
extern const struct cmd cmd_repo, cmd_search, cmd_info, cmd_publish, cmd_fetch, cmd_install;
extern const struct cmd cmd_yank;
extern const struct cmd cmd_apply, cmd_status, cmd_detach;
extern const struct cmd cmd_check;

/* The command table (main.c), for help output. */
const struct cmd *cli_find_cmd(const char *name);

/* "error: <message>" on stderr (git's style: lowercase, no full stop); returns EXIT_FAIL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "error: <message>" plus a pointer to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a command's --help text to stdout; returns EXIT_OK. */
int cli_help(const char *cmd);
/* Make library messages at INFO visible (for -v). */
void cli_set_verbose(bool verbose);

/*
 * Print diagnostics: text ("error E003 missing-readme: ...") to stderr, or the JSON form to
 * stdout. Returns the number of errors.
 */
size_t cli_print_diags(const struct bpk_diags *diags, bool json);

/*
 * The trust policy of dir, or of the default directory when dir is NULL; a missing default
 * directory is an empty policy (nothing trusted, *ret_no_policy set), a directory named on
 * purpose must exist. On a refusal, says "cannot VERB 'SUBJECT': trust policy refused: why"
 * and returns NULL.
 */
struct bpk_trust *cli_open_trust(const char *verb, const char *subject, const char *dir,
				 bool *ret_no_policy);
/* After a refusal with no policy at all: where the policy would be, and how to make one. */
void cli_note_no_policy(void);

/* Whether a file starts like a gzip stream (a .bpk) rather than an ELF object. */
bool cli_file_is_package(const char *path);

/*
 * The repository client with the configuration read (cmd-repo.c), drawing a progress bar on
 * stderr when it is a terminal. NULL after printing why.
 */
struct bpk_repo_client *cli_repo_client(const char *cmd);
/* The repository called name (--repo), NULL when name is NULL; -ENOENT after printing why. */
int cli_pick_repo(struct bpk_repo_client *client, const char *name, const struct bpk_repo **ret);
/* bpk fetch and bpk install (cmd-fetch.c): the same checks, then a file or a directory. */
int cli_fetch_or_install(int argc, char **argv, bool install);
/* Each detail of the last refusal ("error E003 missing-readme: README.md: ..."), on stderr. */
void cli_print_details(const struct bpk_repo_client *client);

/* ---- bpk apply, status, detach: talking to bpkd (agent.c) ---- */

/* The options that say how to reach bpkd; CLI_AGENT_OPTIONS lists them for getopt_long. */
enum { CLI_OPT_AGENT = 0x200, CLI_OPT_CACERT, CLI_OPT_CERT, CLI_OPT_KEY };
#define CLI_AGENT_OPTIONS                                                                          \
	{ "agent", required_argument, NULL, CLI_OPT_AGENT },                                       \
	{ "cacert", required_argument, NULL, CLI_OPT_CACERT },                                     \
	{ "cert", required_argument, NULL, CLI_OPT_CERT },                                         \
	{ "key", required_argument, NULL, CLI_OPT_KEY }

struct cli_agent {
	const char *url; /* NULL: BPK_AGENT_DEFAULT_URL */
	struct bpk_agent_client_opts tls;
};
#define CLI_AGENT_INIT { NULL, { .sz = sizeof(struct bpk_agent_client_opts) } }

/* Take getopt's c (and its argument) if it is one of CLI_AGENT_OPTIONS: whether it was. */
bool cli_agent_option(struct cli_agent *agent, int c, const char *arg);
/*
 * One request to bpkd; EXIT_OK with the status and the answer (caller frees), or EXIT_FAIL
 * after saying why bpkd could not be reached.
 */
int cli_agent_request(const struct cli_agent *agent, const char *method, const char *path,
		      const char *body, long *ret_status, char **ret_answer);
/* The message of bpkd's {"error":{"code","message"}}, or the answer itself. Caller frees. */
char *cli_agent_message(const char *answer);

#endif

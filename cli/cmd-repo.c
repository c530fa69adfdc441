// SPDX-License-Identifier: BSD-2-Clause
/* bpk repo: add, list and remove repositories; and what every command that talks to one shares. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "util.h"

/* ---- shared by the commands that talk to a repository ---- */

struct progress_state {
	bool tty;
	bool drawn;
	bool noted;
	unsigned int last_permille;
};

static struct progress_state progress_state;

static void human_size(uint64_t n, char *buf, size_t size)
{
	if (n < 1024)
		snprintf(buf, size, "%" PRIu64 " B", n);
	else if (n < (1 << 20))
		snprintf(buf, size, "%.1f KiB", (double)n / 1024);
	else
		snprintf(buf, size, "%.1f MiB", (double)n / (1 << 20));
}

/* The library reports transfers; a bar is drawn only on a terminal, a resume noted always. */
static void on_progress(void *ctx, const struct bpk_repo_progress *p)
{
	struct progress_state *s = ctx;
	char done[32], total[32];
	unsigned int permille, i;

	if (p->resumed_from && !s->noted && !p->upload) {
		s->noted = true;
		fprintf(stderr, "resuming %s at byte %" PRIu64 " of %" PRIu64 "\n", p->name,
			p->resumed_from, p->total);
	}
	if (s->tty && p->total) {
		permille = p->done >= p->total ? 1000 : (unsigned int)(p->done * 1000 / p->total);
		if (!s->drawn || permille != s->last_permille || p->finished) {
			human_size(p->done, done, sizeof(done));
			human_size(p->total, total, sizeof(total));
			fprintf(stderr, "\r%s %-.40s [", p->upload ? "uploading" : "downloading",
				p->name);
			for (i = 0; i < 30; i++)
				fputc(i * 1000 < permille * 30 ? '#' : '-', stderr);
			fprintf(stderr, "] %3u%% %s/%s\033[K", permille / 10, done, total);
			s->drawn = true;
			s->last_permille = permille;
		}
	}
	if (p->finished) {
		if (s->drawn)
			fputc('\n', stderr);
		s->drawn = false;
		s->noted = false;
	}
}

struct bpk_repo_client *cli_repo_client(const char *cmd)
{
	BPK_OPTS(bpk_repo_client_opts, opts, .progress = on_progress,
		 .progress_ctx = &progress_state);
	struct bpk_repo_client *client;

	progress_state.tty = isatty(STDERR_FILENO);
	client = bpk_repo_client__new(&opts);
	if (!client) {
		if (errno == ENOENT)
			cli_error("cannot find a configuration directory: set BPK_CONFIG_DIR and "
				  "BPK_CACHE_DIR, or HOME");
		else
			cli_error("cannot start the repository client: %s", strerror(errno));
		return NULL;
	}
	if (bpk_repo_client__load_config(client)) {
		cli_error("cannot read the repositories: %s", bpk_repo_client__errstr(client));
		bpk_repo_client__free(client);
		return NULL;
	}
	return client;
}

int cli_pick_repo(struct bpk_repo_client *client, const char *name, const struct bpk_repo **ret)
{
	*ret = NULL;
	if (!name)
		return 0;
	*ret = bpk_repo_client__find_repo(client, name);
	if (*ret)
		return 0;
	cli_error("no repository is called '%s' (see 'bpk repo list')", name);
	return -ENOENT;
}

void cli_print_details(const struct bpk_repo_client *client)
{
	const struct bpk_repo_detail *d;
	size_t i;

	for (i = 0; (d = bpk_repo_client__detail(client, i)); i++) {
		_cleanup_free_ char *id = str_shown(d->id, 16, NULL);
		_cleanup_free_ char *name = str_shown(d->name, 64, NULL);
		_cleanup_free_ char *path = str_shown(d->path, 200, NULL);
		_cleanup_free_ char *message = str_shown(d->message, 400, NULL);

		fprintf(stderr, "error%s%s%s%s: %s%s%s\n", d->id ? " " : "", id ?: "",
			d->name ? " " : "", name ?: "", d->path ? path : "", d->path ? ": " : "",
			message ?: "");
	}
}

/* ---- bpk repo ---- */

enum { OPT_FORCE = 0x100, OPT_TOKEN_FILE };

static int repo_add(int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	BPK_OPTS(bpk_repo_add_opts, opts);
	struct bpk_repo_client *client;
	const struct bpk_repo *repo = NULL;
	const char *name, *url;
	int c, err;

	while ((c = getopt_long(argc, argv, "k:h", options, NULL)) != -1) {
		switch (c) {
		case 'k':
			opts.key = optarg;
			break;
		case OPT_TOKEN_FILE:
			opts.token_file = optarg;
			break;
		case OPT_FORCE:
			opts.force = true;
			break;
		case 'h':
			return cli_help("repo");
		default:
			return cli_usage_error("repo", "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("repo", "'bpk repo add' needs a NAME and a URL");
	name = argv[optind];
	url = argv[optind + 1];
	if (!bpk_repo_name__valid(name))
		return cli_usage_error("repo", "'%s' is not a repository name "
				       "([a-z0-9][a-z0-9._-]*, at most 64 characters)", name);
	client = cli_repo_client("repo");
	if (!client)
		return EXIT_FAIL;
	err = bpk_repo_client__add(client, name, url, &opts, &repo);
	if (err) {
		cli_error("cannot add repository '%s': %s%s", name, bpk_repo_client__errstr(client),
			  err == -EEXIST ? " (--force replaces it)" : "");
		bpk_repo_client__free(client);
		return EXIT_FAIL;
	}
	printf("added repository '%s' (%s) with root key %s\n", bpk_repo__name(repo),
	       bpk_repo__url(repo), bpk_repo__root_keyid(repo));
	if (!bpk_repo__key_pinned(repo)) {
		/* Loud, on stderr, every time: nothing vouches for this key but the network. */
		cli_warning("the root key of '%s' was TRUSTED ON FIRST USE, not checked:",
			    bpk_repo__name(repo));
		cli_warning("    %s", bpk_repo__root_keyid(repo));
		cli_warning("compare it with the key id the repository's operator publishes, then "
			    "pin it: bpk repo add %s %s --key KEYID --force", bpk_repo__name(repo),
			    bpk_repo__url(repo));
	}
	bpk_repo_client__free(client);
	return EXIT_OK;
}

static int repo_list(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpk_repo_client *client;
	const struct bpk_repo *r;
	bool json = false;
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "jh", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_help("repo");
		default:
			return cli_usage_error("repo", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("repo", "unexpected argument '%s'", argv[optind]);
	client = cli_repo_client("repo");
	if (!client)
		return EXIT_FAIL;
	if (json) {
		json_t *list = json_array();
		char *text;

		for (i = 0; (r = bpk_repo_client__repo(client, i)); i++)
			json_array_append_new(
				list, json_pack("{s:s, s:s, s:s, s:b, s:s?, s:s, s:s}", "name",
						bpk_repo__name(r), "url", bpk_repo__url(r),
						"root_keyid", bpk_repo__root_keyid(r),
						"key_pinned", bpk_repo__key_pinned(r),
						"token_file", bpk_repo__token_file(r), "added",
						bpk_repo__added(r), "file", bpk_repo__file(r)));
		text = list ? json_dumps(list, JSON_INDENT(2)) : NULL;
		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(list);
	} else {
		if (!bpk_repo_client__repo_cnt(client))
			printf("no repository is configured in %s/%s (see 'bpk repo add')\n",
			       bpk_repo_client__config_dir(client), BPK_REPO_CONFIG_SUBDIR);
		for (i = 0; (r = bpk_repo_client__repo(client, i)); i++) {
			printf("%s\n", bpk_repo__name(r));
			printf("    url:      %s\n", bpk_repo__url(r));
			printf("    root key: %s (%s)\n", bpk_repo__root_keyid(r),
			       bpk_repo__key_pinned(r) ? "pinned" : "trusted on first use");
			if (bpk_repo__token_file(r))
				printf("    token:    %s\n", bpk_repo__token_file(r));
			printf("    added:    %s\n", bpk_repo__added(r));
		}
	}
	bpk_repo_client__free(client);
	return EXIT_OK;
}

static int repo_remove(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpk_repo_client *client;
	int c, ret = EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h')
			return cli_help("repo");
		return cli_usage_error("repo", "unknown option");
	}
	if (argc - optind != 1)
		return cli_usage_error("repo", "'bpk repo remove' needs a NAME");
	client = cli_repo_client("repo");
	if (!client)
		return EXIT_FAIL;
	if (bpk_repo_client__remove(client, argv[optind]))
		ret = cli_error("cannot remove repository '%s': %s", argv[optind],
				bpk_repo_client__errstr(client));
	else
		printf("removed repository '%s'\n", argv[optind]);
	bpk_repo_client__free(client);
	return ret;
}

static int run_repo(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("repo",
				       "'bpk repo' needs a subcommand: add, list or remove");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cli_help("repo");
	if (!strcmp(argv[1], "add"))
		return repo_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return repo_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "remove"))
		return repo_remove(argc - 1, argv + 1);
	return cli_usage_error("repo", "'%s' is not a 'bpk repo' subcommand (add, list, remove)",
			       argv[1]);
}

const struct cmd cmd_repo = {
	.name = "repo",
	.run = run_repo,
	.summary = "add, list and remove package repositories",
	.help =
		"usage: bpk repo add NAME URL [--key KEYID] [--token-file FILE] [--force]\n"
		"       bpk repo list [-j]\n"
		"       bpk repo remove NAME\n"
		"\n"
		"Configure the repositories that search, info, fetch, install, publish and yank\n"
		"talk to. 'add' reads URL/v1/, fetches the root of the repository's signed index\n"
		"and checks that the repository's root key lists and signs it, verifies the index\n"
		"from that root, and keeps the root as the trust anchor for every later command.\n"
		"With --key the repository is refused unless its root key is KEYID (all 64 hex\n"
		"digits, or a unique prefix of at least 8); without it the key is trusted on\n"
		"first use, and a warning says so. The token file's content is sent as a Bearer\n"
		"token with every request (read tokens open private feeds).\n"
		"\n"
		"  -k, --key KEYID        the repository's root key id, or a prefix of 8+ digits\n"
		"      --token-file FILE  send the token in FILE with every request\n"
		"      --force            replace a repository of the same name\n"
		"  -j, --json             print JSON (list)\n"
		"  -h, --help             show this help\n"
		"\n"
		"Repositories are kept in $BPK_CONFIG_DIR/repos.d/NAME.json (/etc/bpk as\n"
		"root, ~/.config/bpk otherwise), index state in $BPK_CACHE_DIR/index/NAME/\n"
		"(/var/cache/bpk as root, ~/.cache/bpk otherwise).\n",
};

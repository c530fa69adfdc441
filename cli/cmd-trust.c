// SPDX-License-Identifier: BSD-2-Clause
/* bpk trust: add, list and remove the keys of the trust policy (trust.d/). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

struct trust_args {
	const char *dir;
	const char *comment;
	char **names;
	size_t name_cnt;
	bool force;
	bool json;
	const char *operand;
};

static void trust_args_release(struct trust_args *args)
{
	size_t i;

	for (i = 0; i < args->name_cnt; i++)
		free(args->names[i]);
	free(args->names);
}

/* Split a --names value at commas; empty items are refused by the pattern check later. */
static int add_names(struct trust_args *args, const char *value)
{
	const char *p = value, *comma;
	char **grown;

	for (;;) {
		comma = strchr(p, ',');
		grown = realloc(args->names, (args->name_cnt + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		args->names = grown;
		args->names[args->name_cnt] = comma ? strndup(p, (size_t)(comma - p)) : strdup(p);
		if (!args->names[args->name_cnt])
			return -ENOMEM;
		args->name_cnt++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/*
 * Parse the options of `bpk trust SUB` (argv[0] is SUB). want lists the options SUB takes
 * (their short letters); one operand is required when needs_operand. Returns -1 when parsing
 * went well, or the exit status to return.
 */
static int parse_args(int argc, char **argv, const char *want, bool needs_operand,
		      struct trust_args *args)
{
	static const struct option options[] = {
		{ "names", required_argument, NULL, 'n' },
		{ "comment", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "n:c:d:fjh", options, NULL)) != -1) {
		if (c == 'h')
			return cli_help("trust");
		if (c == '?' || !strchr(want, c))
			return cli_usage_error("trust", "'bpk trust %s' does not take that option",
					       argv[0]);
		switch (c) {
		case 'n':
			if (add_names(args, optarg))
				return cli_error("out of memory");
			break;
		case 'c':
			args->comment = optarg;
			break;
		case 'd':
			args->dir = optarg;
			break;
		case 'f':
			args->force = true;
			break;
		case 'j':
			args->json = true;
			break;
		}
	}
	if (needs_operand) {
		if (optind >= argc)
			return cli_usage_error("trust", "'bpk trust %s' needs %s", argv[0],
					       !strcmp(argv[0], "add") ? "a key file" : "a key id");
		args->operand = argv[optind++];
	}
	if (optind < argc)
		return cli_usage_error("trust", "unexpected argument '%s'", argv[optind]);
	if (!args->dir)
		args->dir = bpk_trust__default_dir();
	return -1;
}

static void print_entry(const struct bpk_trust_entry *e)
{
	size_t i, n = bpk_trust_entry__name_cnt(e);

	printf("%s\n", bpk_trust_entry__keyid(e));
	printf("    names:   ");
	if (!n)
		printf("every name");
	for (i = 0; i < n; i++)
		printf("%s%s", i ? " " : "", bpk_trust_entry__name(e, i));
	printf("\n");
	if (bpk_trust_entry__comment(e))
		printf("    comment: %s\n", bpk_trust_entry__comment(e));
	if (bpk_trust_entry__added(e))
		printf("    added:   %s\n", bpk_trust_entry__added(e));
	printf("    file:    %s\n", bpk_trust_entry__file(e));
}

static int trust_add(struct trust_args *args)
{
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_trust_entry *entry = NULL;
	BPK_OPTS(bpk_trust_add_opts, opts, .names = (const char *const *)args->names,
		 .name_cnt = args->name_cnt, .comment = args->comment, .force = args->force);
	struct bpk_key *key;
	size_t i;
	int err;

	key = bpk_key__load(args->operand);
	if (!key && errno == EINVAL)
		return cli_error("cannot trust '%s': not a PEM Ed25519 public key", args->operand);
	if (!key)
		return cli_error("cannot trust '%s': %s", args->operand, strerror(errno));
	err = bpk_trust__add(args->dir, key, &opts, &error, &entry);
	bpk_key__free(key);
	if (err) {
		cli_error("cannot trust '%s': %s%s", args->operand,
			  error.message ?: strerror(-err),
			  err == -EEXIST && !args->force ? " (--force replaces it)" : "");
		bpk_error__release(&error);
		return EXIT_FAIL;
	}
	printf("trusted key %s for ", bpk_trust_entry__keyid(entry));
	if (!bpk_trust_entry__name_cnt(entry))
		printf("every name");
	for (i = 0; i < bpk_trust_entry__name_cnt(entry); i++)
		printf("%s'%s'", i ? ", " : "", bpk_trust_entry__name(entry, i));
	printf(" in %s\n", bpk_trust_entry__file(entry));
	bpk_trust_entry__free(entry);
	return EXIT_OK;
}

static int trust_list(struct trust_args *args)
{
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_trust *trust;
	size_t i, n;

	trust = bpk_trust__load_dir(args->dir, &error);
	/* No directory yet is an empty policy, the state before the first 'bpk trust add'. */
	if (!trust && errno == ENOENT) {
		bpk_error__release(&error);
		trust = bpk_trust__new();
	}
	if (!trust) {
		cli_error("cannot list trust policy '%s': %s", args->dir,
			  error.message ?: strerror(errno));
		bpk_error__release(&error);
		return EXIT_FAIL;
	}
	if (args->json) {
		char *text = bpk_trust__to_json(trust);

		if (text)
			fputs(text, stdout);
		free(text);
	} else {
		n = bpk_trust__entry_cnt(trust);
		printf("%s: %zu trusted key%s, %u signature%s required\n", args->dir, n,
		       n == 1 ? "" : "s", bpk_trust__min_signers(trust),
		       bpk_trust__min_signers(trust) == 1 ? "" : "s");
		for (i = 0; i < n; i++)
			print_entry(bpk_trust__entry(trust, i));
	}
	bpk_trust__free(trust);
	return EXIT_OK;
}

static int trust_remove(struct trust_args *args)
{
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_trust_entry *entry = NULL;
	int err;

	err = bpk_trust__remove(args->dir, args->operand, &error, &entry);
	if (err) {
		cli_error("cannot remove key '%s': %s", args->operand,
			  error.message ?: strerror(-err));
		bpk_error__release(&error);
		return EXIT_FAIL;
	}
	printf("removed key %s%s%s%s from %s\n", bpk_trust_entry__keyid(entry),
	       bpk_trust_entry__comment(entry) ? " (" : "", bpk_trust_entry__comment(entry) ?: "",
	       bpk_trust_entry__comment(entry) ? ")" : "", bpk_trust_entry__file(entry));
	bpk_trust_entry__free(entry);
	return EXIT_OK;
}

static int run_trust(int argc, char **argv)
{
	struct trust_args args = { 0 };
	int ret;

	if (argc < 2)
		return cli_usage_error("trust",
				       "'bpk trust' needs a subcommand: add, list or remove");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cli_help("trust");
	if (!strcmp(argv[1], "add")) {
		ret = parse_args(argc - 1, argv + 1, "ncdf", true, &args);
		if (ret < 0)
			ret = trust_add(&args);
	} else if (!strcmp(argv[1], "list")) {
		ret = parse_args(argc - 1, argv + 1, "dj", false, &args);
		if (ret < 0)
			ret = trust_list(&args);
	} else if (!strcmp(argv[1], "remove")) {
		ret = parse_args(argc - 1, argv + 1, "d", true, &args);
		if (ret < 0)
			ret = trust_remove(&args);
	} else {
		ret = cli_usage_error("trust", "'%s' is not a 'bpk trust' subcommand (add, list, "
				      "remove)", argv[1]);
	}
	trust_args_release(&args);
	return ret;
}

const struct cmd cmd_trust = {
	.name = "trust",
	.run = run_trust,
	.summary = "manage the keys this host trusts",
	.help =
		"usage: bpk trust add KEY.pub [--names PATTERNS] [--comment TEXT] [--dir DIR]"
		" [--force]\n"
		"       bpk trust list [--dir DIR] [-j]\n"
		"       bpk trust remove KEYID [--dir DIR]\n"
		"\n"
		"Edit the trust policy that 'bpk verify' and bpkd apply: one KEYID.json file a\n"
		"trusted key, written atomically. 'add' pins a public key, optionally only for\n"
		"package names matching a pattern ('acme/*': every package of feed acme); a key\n"
		"that is already trusted is refused unless --force. 'remove' takes a key id or a\n"
		"unique prefix of at least 8 hex digits. A policy.json beside the keys may set\n"
		"{\"min_signers\": N}.\n"
		"\n"
		"  -n, --names PATTERNS   trust the key only for these names, comma-separated\n"
		"  -c, --comment TEXT     who the key belongs to, shown by list and verify (add)\n"
		"  -d, --dir DIR          trust policy directory instead of the default\n"
		"  -f, --force            replace the entry of a key already trusted (add)\n"
		"  -j, --json             print JSON (list)\n"
		"  -h, --help             show this help\n"
		"\n"
		"The default trust policy is " BPK_TRUST_DIR ".\n",
};

// SPDX-License-Identifier: BSD-2-Clause
/* bpk-repo: serve a repository, and manage its feeds, tokens, audit log and static export. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <bpk/bpk.h>

#include "config.h"
#include "server.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
/* How often the server looks whether a timestamp needs signing again. */
#define REFRESH_INTERVAL_SEC 300

static const char usage_text[] =
	"usage: bpk-repo COMMAND [OPTIONS]\n"
	"\n"
	"Commands:\n"
	"  serve --data DIR [--listen ADDR:PORT] [--db URL] [--threads N] [--max-package BYTES]\n"
	"        [--no-verify]    serve the repository over HTTP; unless --no-verify, every\n"
	"                         published package is loaded into this kernel's verifier\n"
	"                         (never attached) and its tests are run, and the result is\n"
	"                         recorded (\"not verified here\" without BPF privileges)\n"
	"  init --data DIR [--db URL]\n"
	"                         create the data directory, keys, database and public feed\n"
	"  feed create NAME [--private] [--allow-unsigned] [--require-verified] --data DIR\n"
	"  feed trust NAME KEY.pub --data DIR\n"
	"  feed list --data DIR\n"
	"  token create --feed F --scope read|push|yank|admin [--expires 90d] [--comment TEXT] --data DIR\n"
	"                         print a new token (shown once) on the last line\n"
	"  token list --data DIR\n"
	"  token revoke ID --data DIR\n"
	"  audit [--json] --data DIR\n"
	"                         the log of every publish, yank, feed and token change\n"
	"  export DIR [--include-private] --data DIR\n"
	"                         write the static read path for nginx or a CDN\n"
	"  check --data DIR       check the database and every blob\n"
	"\n"
	"Every command also takes --db postgresql://... to use PostgreSQL instead of DIR/repo.db.\n"
	"bpk-repo --help prints this text, bpk-repo --version the version.\n";

static int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int error(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nsee 'bpk-repo --help'\n", stderr);
	return 2;
}

static int print_library(enum bpk_print_level level, const char *fmt, va_list ap)
{
	if (level > BPK_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Options every command shares. */
struct common {
	const char *data;
	const char *db;
	const char *listen;
	const char *feed;
	const char *scope;
	const char *expires;
	const char *comment;
	unsigned int threads;
	uint64_t max_package;
	bool private;
	bool allow_unsigned;
	bool require_verified;
	bool include_private;
	bool json;
	bool no_verify;
};

enum {
	OPT_DATA = 0x100,
	OPT_DB,
	OPT_LISTEN,
	OPT_FEED,
	OPT_SCOPE,
	OPT_EXPIRES,
	OPT_COMMENT,
	OPT_THREADS,
	OPT_MAX_PACKAGE,
	OPT_PRIVATE,
	OPT_ALLOW_UNSIGNED,
	OPT_REQUIRE_VERIFIED,
	OPT_INCLUDE_PRIVATE,
	OPT_JSON,
	OPT_NO_VERIFY,
};

static const struct option long_options[] = {
	{ "data", required_argument, NULL, OPT_DATA },
	{ "db", required_argument, NULL, OPT_DB },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "feed", required_argument, NULL, OPT_FEED },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "expires", required_argument, NULL, OPT_EXPIRES },
	{ "comment", required_argument, NULL, OPT_COMMENT },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "max-package", required_argument, NULL, OPT_MAX_PACKAGE },
	{ "private", no_argument, NULL, OPT_PRIVATE },
	{ "allow-unsigned", no_argument, NULL, OPT_ALLOW_UNSIGNED },
	{ "require-verified", no_argument, NULL, OPT_REQUIRE_VERIFIED },
	{ "include-private", no_argument, NULL, OPT_INCLUDE_PRIVATE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* "90d", "12h", "30m", "45s", or plain seconds. Returns 0 or -EINVAL. */
static int parse_duration(const char *text, uint64_t *ret)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno || end == text || *text == '-')
		return -EINVAL;
	switch (*end) {
	case 'd': n *= 86400; end++; break;
	case 'h': n *= 3600; end++; break;
	case 'm': n *= 60; end++; break;
	case 's': end++; break;
	default: break;
	}
	if (*end || n == 0)
		return -EINVAL;
	*ret = n;
	return 0;
}

static int parse_common(int argc, char **argv, struct common *c)
{
	unsigned long long n;
	char *end;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (opt) {
		case OPT_DATA: c->data = optarg; break;
		case OPT_DB: c->db = optarg; break;
		case OPT_LISTEN: c->listen = optarg; break;
		case OPT_FEED: c->feed = optarg; break;
		case OPT_SCOPE: c->scope = optarg; break;
		case OPT_EXPIRES: c->expires = optarg; break;
		case OPT_COMMENT: c->comment = optarg; break;
		case OPT_PRIVATE: c->private = true; break;
		case OPT_ALLOW_UNSIGNED: c->allow_unsigned = true; break;
		case OPT_REQUIRE_VERIFIED: c->require_verified = true; break;
		case OPT_INCLUDE_PRIVATE: c->include_private = true; break;
		case OPT_JSON: c->json = true; break;
		case OPT_NO_VERIFY: c->no_verify = true; break;
		case OPT_THREADS:
		case OPT_MAX_PACKAGE:
			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (errno || *end || !n || *optarg == '-' || (opt == OPT_THREADS && n > 256))
				return usage_error("'%s' is not a valid --%s", optarg,
						   opt == OPT_THREADS ? "threads" : "max-package");
			if (opt == OPT_THREADS)
				c->threads = (unsigned int)n;
			else
				c->max_package = n;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			return usage_error("unknown option");
		}
	}
	if (!c->data)
		return usage_error("--data DIR is required");
	return 0;
}

static struct bpk_repo *open_repo(const struct common *c)
{
	struct bpk_repo_error err = BPK_REPO_ERROR_INIT;
	struct bpk_repo *repo;

	repo = bpk_repo__open(c->data,
			      &(struct bpk_repo_opts){ .sz = sizeof(struct bpk_repo_opts),
						       .db = c->db,
						       .max_package = c->max_package,
						       .no_review = c->no_verify },
			      &err);
	if (!repo)
		error("cannot open the repository in '%s': %s", c->data,
		      err.message ? err.message : strerror(errno));
	bpk_repo_error__release(&err);
	return repo;
}

static int fail_repo(struct bpk_repo_error *err, const char *what)
{
	error("%s: %s", what, err->message ? err->message : "failed");
	bpk_repo_error__release(err);
	return 1;
}

static int cmd_serve(int argc, char **argv)
{
	struct common c = { .listen = DEFAULT_LISTEN };
	struct server server = { 0 };
	struct bpk_repo_error err = BPK_REPO_ERROR_INIT;
	char *start_error = NULL;
	sigset_t signals;
	long cpus;
	int sig, ret;

	ret = parse_common(argc, argv, &c);
	if (ret)
		return ret;
	if (optind != argc)
		return usage_error("serve takes no arguments");
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (!c.threads)
		c.threads = cpus > 1 ? (unsigned int)cpus : 2;
	/* Threads started by MHD inherit this mask, so only sigtimedwait() sees the signals. */
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	server.repo = open_repo(&c);
	if (!server.repo)
		return 1;
	if (bpk_repo__refresh(server.repo, &err))
		fail_repo(&err, "cannot refresh the index");
	if (server_start(&server, c.listen, c.threads, &start_error)) {
		error("%s", start_error ? start_error : "cannot start the server");
		free(start_error);
		bpk_repo__free(server.repo);
		return 1;
	}
	printf("bpk-repo: serving '%s' on http://%s/ (%s, %u threads)\n", c.data, c.listen,
	       c.db ? "PostgreSQL" : "SQLite", c.threads);
	fflush(stdout);
	for (;;) {
		struct timespec interval = { .tv_sec = REFRESH_INTERVAL_SEC };

		sig = sigtimedwait(&signals, NULL, &interval);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (bpk_repo__refresh(server.repo, &err))
			fail_repo(&err, "cannot refresh the index");
	}
	server_stop(&server);
	bpk_repo__free(server.repo);
	return 0;
}

static int cmd_init(int argc, char **argv)
{
	struct common c = { 0 };
	struct bpk_repo *repo;
	int ret = parse_common(argc, argv, &c);

	if (ret)
		return ret;
	repo = open_repo(&c);
	if (!repo)
		return 1;
	printf("initialized repository in '%s'\n", c.data);
	bpk_repo__free(repo);
	return 0;
}

static int print_json_or_lines(const char *json, bool as_json, const char *const *fmt_keys,
			       size_t nkeys)
{
	json_t *list = json_loads(json, 0, NULL), *item;
	size_t i;

	if (as_json || !list) {
		fputs(json, stdout);
		json_decref(list);
		return 0;
	}
	json_array_foreach(list, i, item) {
		for (size_t k = 0; k < nkeys; k++) {
			json_t *v = json_object_get(item, fmt_keys[k]);

			if (json_is_string(v))
				printf("%s%s", k ? "  " : "", json_string_value(v));
			else if (json_is_boolean(v))
				printf("%s%s%s", k ? "  " : "", json_is_true(v) ? "" : "!",
				       fmt_keys[k]);
			else if (json_is_integer(v))
				printf("%s%lld", k ? "  " : "", (long long)json_integer_value(v));
			else
				printf("%s-", k ? "  " : "");
		}
		putchar('\n');
	}
	json_decref(list);
	return 0;
}

/* The list commands: open the repository, ask fn for the JSON list, print it. */
static int list_command(const struct common *c,
			int (*fn)(struct bpk_repo *, char **, struct bpk_repo_error *),
			const char *what, const char *const *keys, size_t nkeys)
{
	struct bpk_repo_error err = BPK_REPO_ERROR_INIT;
	struct bpk_repo *repo = open_repo(c);
	char *json = NULL;
	int ret;

	if (!repo)
		return 1;
	ret = fn(repo, &json, &err);
	if (ret)
		ret = fail_repo(&err, what);
	else
		print_json_or_lines(json, c->json, keys, nkeys);
	free(json);
	bpk_repo__free(repo);
	return ret;
}

/*
 * "bpk-repo GROUP SUB [OPTIONS] [ARGS]": SUB and the options; argv then starts at SUB, so that
 * optind indexes its arguments. missing is the usage error when SUB is not there.
 */
static int parse_subcommand(int *argc, char ***argv, const char *missing, struct common *c,
			    const char **ret_sub)
{
	if (*argc < 2)
		return usage_error("%s", missing);
	*ret_sub = (*argv)[1];
	*argc -= 1;
	*argv += 1;
	return parse_common(*argc, *argv, c);
}

static int cmd_feed(int argc, char **argv)
{
	struct bpk_repo_error err = BPK_REPO_ERROR_INIT;
	struct common c = { 0 };
	struct bpk_repo *repo;
	const char *sub = NULL;
	int ret;

	ret = parse_subcommand(&argc, &argv, "feed needs create, trust or list", &c, &sub);
	if (ret)
		return ret;
	if (!strcmp(sub, "create")) {
		unsigned int flags = (c.private ? BPK_REPO_FEED_F_PRIVATE : 0) |
				     (c.allow_unsigned ? BPK_REPO_FEED_F_ALLOW_UNSIGNED : 0) |
				     (c.require_verified ? BPK_REPO_FEED_F_REQUIRE_VERIFIED : 0);

		if (optind + 1 != argc)
			return usage_error("feed create takes one NAME");
		repo = open_repo(&c);
		if (!repo)
			return 1;
		ret = bpk_repo__feed_create(repo, argv[optind], flags, &err);
		if (ret)
			ret = fail_repo(&err, "cannot create the feed");
		else
			printf("created %s feed '%s'\n", c.private ? "private" : "public",
			       argv[optind]);
	} else if (!strcmp(sub, "trust")) {
		char *pem = NULL;
		size_t len;

		if (optind + 2 != argc)
			return usage_error("feed trust takes NAME KEY.pub");
		ret = read_file(argv[optind + 1], 1 << 16, &pem, &len);
		if (ret)
			return error("cannot read '%s': %s", argv[optind + 1], strerror(-ret));
		repo = open_repo(&c);
		if (!repo) {
			free(pem);
			return 1;
		}
		ret = bpk_repo__feed_trust(repo, argv[optind], pem, len, &err);
		free(pem);
		if (ret)
			ret = fail_repo(&err, "cannot trust the key");
		else
			printf("feed '%s' now accepts packages signed by '%s'\n", argv[optind],
			       argv[optind + 1]);
	} else if (!strcmp(sub, "list")) {
		static const char *const keys[] = { "name", "private", "allow_unsigned",
						    "packages" };

		return list_command(&c, bpk_repo__feed_list, "cannot list the feeds", keys,
				    ARRAY_SIZE(keys));
	} else {
		return usage_error("unknown feed command '%s'", sub);
	}
	bpk_repo__free(repo);
	return ret;
}

static int cmd_token(int argc, char **argv)
{
	struct bpk_repo_error err = BPK_REPO_ERROR_INIT;
	struct common c = { 0 };
	struct bpk_repo *repo;
	const char *sub = NULL;
	int ret;

	ret = parse_subcommand(&argc, &argv, "token needs create, list or revoke", &c, &sub);
	if (ret)
		return ret;
	if (!strcmp(sub, "create")) {
		enum bpk_repo_scope scope;
		uint64_t lifetime = 0;
		char *token = NULL, id[16];

		if (optind != argc)
			return usage_error("token create takes no arguments");
		if (!c.feed || !c.scope)
			return usage_error("token create needs --feed and --scope");
		if (bpk_repo_scope__from_name(c.scope, &scope))
			return usage_error("'%s' is not a scope (read, push, yank, admin)", c.scope);
		if (c.expires && parse_duration(c.expires, &lifetime))
			return usage_error("'%s' is not a duration (90d, 12h, 30m, 45s)", c.expires);
		repo = open_repo(&c);
		if (!repo)
			return 1;
		ret = bpk_repo__token_create(repo, c.feed, scope, lifetime, c.comment, &token, id,
					     &err);
		if (ret) {
			ret = fail_repo(&err, "cannot create the token");
		} else {
			printf("token %s: scope '%s' on feed '%s', %s; it is shown only now\n", id,
			       c.scope, c.feed, lifetime ? "expiring" : "never expiring");
			printf("%s\n", token);
			free(token);
		}
	} else if (!strcmp(sub, "list")) {
		static const char *const keys[] = { "id", "feed", "scope", "expires", "revoked" };

		return list_command(&c, bpk_repo__token_list, "cannot list the tokens", keys,
				    ARRAY_SIZE(keys));
	} else if (!strcmp(sub, "revoke")) {
		if (optind + 1 != argc)
			return usage_error("token revoke takes one ID");
		repo = open_repo(&c);
		if (!repo)
			return 1;
		ret = bpk_repo__token_revoke(repo, argv[optind], &err);
		if (ret)
			ret = fail_repo(&err, "cannot revoke the token");
		else
			printf("revoked token %s\n", argv[optind]);
	} else {
		return usage_error("unknown token command '%s'", sub);
	}
	bpk_repo__free(repo);
	return ret;
}

static int cmd_audit(int argc, char **argv)
{
	static const char *const keys[] = { "time", "actor", "action", "subject", "detail" };
	struct common c = { 0 };
	int ret = parse_common(argc, argv, &c);

	if (ret)
		return ret;
	return list_command(&c, bpk_repo__audit, "cannot read the audit log", keys,
			    ARRAY_SIZE(keys));
}

static int cmd_export(int argc, char **argv)
{
	struct bpk_repo_error err = BPK_REPO_ERROR_INIT;
	struct common c = { 0 };
	struct bpk_repo *repo;
	int ret = parse_common(argc, argv, &c);

	if (ret)
		return ret;
	if (optind + 1 != argc)
		return usage_error("export takes one DIR");
	repo = open_repo(&c);
	if (!repo)
		return 1;
	ret = bpk_repo__export(repo, argv[optind], c.include_private, &err);
	if (ret)
		ret = fail_repo(&err, "cannot export");
	else
		printf("exported the read path to '%s'\n", argv[optind]);
	bpk_repo__free(repo);
	return ret;
}

static int cmd_check(int argc, char **argv)
{
	struct bpk_repo_error err = BPK_REPO_ERROR_INIT;
	struct common c = { 0 };
	struct bpk_repo *repo;
	char *report = NULL;
	int ret = parse_common(argc, argv, &c);

	if (ret)
		return ret;
	repo = open_repo(&c);
	if (!repo)
		return 1;
	ret = bpk_repo__check(repo, &report, &err);
	if (report)
		fputs(report, stdout);
	free(report);
	if (ret)
		ret = fail_repo(&err, "check failed");
	bpk_repo__free(repo);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
		{ "serve", cmd_serve }, { "init", cmd_init },	  { "feed", cmd_feed },
		{ "token", cmd_token }, { "audit", cmd_audit }, { "export", cmd_export },
		{ "check", cmd_check },
	};

	bpk_set_print(print_library);
	if (argc < 2)
		return usage_error("no command given");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("bpk-repo %s\n", BPK_VERSION);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", argv[1]);
}

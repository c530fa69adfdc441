// SPDX-License-Identifier: BSD-2-Clause
/* bpk: make, check, sign, publish and run eBPF packages. Dispatches to one file a command. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

/* In the order `bpk --help` lists them. */
static const struct cmd *const commands[] = {
	&cmd_init, &cmd_build, &cmd_test, &cmd_pack, &cmd_inspect, &cmd_lint,
	&cmd_key, &cmd_sign, &cmd_verify, &cmd_trust, &cmd_index, &cmd_repo, &cmd_search,
	&cmd_info, &cmd_publish, &cmd_yank, &cmd_fetch, &cmd_install, &cmd_load, &cmd_attach,
	&cmd_unload,
	&cmd_apply, &cmd_status, &cmd_detach,
	&cmd_check,
};

static const char main_usage[] =
	"usage: bpk [--version] [--help] COMMAND [ARGS]\n"
	"\n"
	"bpk makes, checks and runs eBPF packages.\n"
	"\n"
	"commands:\n";

const struct cmd *cli_find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static void print_main_usage(FILE *out)
{
	size_t i;

	fputs(main_usage, out);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\nRun 'bpk COMMAND --help' for a command's options.\n", out);
}

int cli_help(const char *cmd)
{
	const struct cmd *c = cli_find_cmd(cmd);

	fputs(c ? c->help : "", stdout);
	return EXIT_OK;
}

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error", fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

void cli_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning", fmt, ap);
	va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Run 'bpk %s --help' for usage.\n", cmd);
	return EXIT_USAGE;
}

static bool verbose;

/* Library messages: warnings always (prefixed like ours), INFO with -v, DEBUG never. */
static int print_library(enum bpk_print_level level, const char *fmt, va_list ap)
{
	if (level == BPK_DEBUG || (level == BPK_INFO && !verbose))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void cli_set_verbose(bool on)
{
	verbose = on;
}

size_t cli_print_diags(const struct bpk_diags *diags, bool json)
{
	size_t i, errors = bpk_diags__count(diags, BPK_SEV_ERROR);

	if (json) {
		char *text = bpk_diags__to_json(diags);

		if (text)
			fputs(text, stdout);
		free(text);
		return errors;
	}
	for (i = 0; i < diags->cnt; i++) {
		const struct bpk_diag *d = &diags->items[i];

		fprintf(stderr, "%s %s %s: %s\n", d->severity == BPK_SEV_ERROR ? "error" : "warning",
			d->id, d->name, d->message);
	}
	return errors;
}

struct bpk_trust *cli_open_trust(const char *verb, const char *subject, const char *dir,
				 bool *ret_no_policy)
{
	const char *path = dir ?: bpk_trust__default_dir();
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_trust *trust = bpk_trust__load_dir(path, &error);
	struct stat st;

	*ret_no_policy = false;
	/* Only a missing directory is "no policy"; a broken file in it refuses everything. */
	if (!trust && !dir && stat(path, &st) < 0 && errno == ENOENT) {
		*ret_no_policy = true;
		trust = bpk_trust__new();
	}
	if (!trust)
		cli_error("cannot %s '%s': trust policy refused: %s", verb, subject,
			  error.message ?: strerror(errno));
	bpk_error__release(&error);
	return trust;
}

void cli_note_no_policy(void)
{
	fprintf(stderr, "note: there is no trust policy at '%s', so no key is trusted"
		" (see 'bpk trust add')\n", bpk_trust__default_dir());
}

bool cli_file_is_package(const char *path)
{
	unsigned char magic[2] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool gzip;

	if (fd < 0)
		return false;
	gzip = read(fd, magic, 2) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
	close(fd);
	return gzip;
}

int main(int argc, char **argv)
{
	const struct cmd *c;

	bpk_set_print(print_library);
	if (argc < 2) {
		print_main_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2 && cli_find_cmd(argv[2]))
			return cli_help(argv[2]);
		print_main_usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("bpk %s (libbpk %s)\n", BPK_VERSION, bpk_version());
		return EXIT_OK;
	}
	c = cli_find_cmd(argv[1]);
	if (!c) {
		fprintf(stderr, "error: '%s' is not a bpk command\n", argv[1]);
		print_main_usage(stderr);
		return EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}

// SPDX-License-Identifier: BSD-2-Clause
/* bpk info: a package's versions, manifest summary and signers, as a repository describes it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

/* "label: value" with untrusted text escaped; nothing when value is NULL or empty. */
static void field(const char *label, const char *value)
{
	_cleanup_free_ char *v = NULL;

	if (!value || !*value)
		return;
	v = str_shown(value, 400, NULL);
	printf("%-11s %s\n", label, v ?: "");
}

/* The strings of a JSON array, joined with ", ". */
static char *join(const json_t *list)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *item;
	size_t i;

	json_array_foreach(list, i, item)
		if (json_is_string(item))
			strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", json_string_value(item));
	return sb.buf;
}

/* An item of a list: the label on the first line only. */
static void list_line(const char *label, size_t idx, const char *line)
{
	_cleanup_free_ char *v = str_shown(line, 400, NULL);

	printf("%-11s %s\n", idx ? "" : label, v ?: "");
}

static void print_manifest(const char *text)
{
	_cleanup_json_ json_t *m = json_loads(text ?: "", 0, NULL);
	_cleanup_free_ char *authors = NULL, *tags = NULL, *platforms = NULL, *arch = NULL;
	json_t *item, *requires;
	size_t i;

	if (!json_is_object(m))
		return;
	requires = json_object_get(m, "requires");
	authors = join(json_object_get(m, "authors"));
	tags = join(json_object_get(m, "tags"));
	platforms = join(json_object_get(m, "platforms"));
	arch = join(json_object_get(requires, "arch"));
	field("description", json_string_value(json_object_get(m, "description")));
	field("license", json_string_value(json_object_get(m, "license")));
	field("authors", authors);
	field("homepage", json_string_value(json_object_get(m, "homepage")));
	field("source", json_string_value(json_object_get(json_object_get(m, "source"), "url")));
	field("tags", tags);
	field("platforms", platforms);
	field("kernel", json_string_value(json_object_get(requires, "kernel")));
	if (json_is_true(json_object_get(requires, "btf")))
		field("btf", "required");
	field("arch", arch);
	json_array_foreach(json_object_get(m, "programs"), i, item) {
		_cleanup_free_ char *line = xasprintf(
			"%s (%s, attach %s, chain %s)",
			json_string_value(json_object_get(item, "name")) ?: "?",
			json_string_value(json_object_get(item, "type")) ?: "?",
			json_string_value(json_object_get(item, "attach")) ?: "?",
			json_string_value(json_object_get(item, "chain")) ?: "?");

		list_line("programs", i, line);
	}
	json_array_foreach(json_object_get(m, "maps"), i, item) {
		_cleanup_free_ char *line = xasprintf(
			"%s (%s%s)", json_string_value(json_object_get(item, "name")) ?: "?",
			json_string_value(json_object_get(item, "type")) ?: "?",
			json_is_true(json_object_get(item, "config")) ? ", configuration" : "");

		list_line("maps", i, line);
	}
}

/*
 * What the repository's verifier made of the version: its status and summary when the record
 * has them ("verified: verified and tested on Linux 6.18 ..."), else the record itself.
 */
static void print_verified(const char *text)
{
	_cleanup_json_ json_t *v = text ? json_loads(text, 0, NULL) : NULL;
	_cleanup_free_ char *line = NULL;
	const char *status = json_string_value(json_object_get(v, "status"));
	const char *summary = json_string_value(json_object_get(v, "summary"));

	if (!v)
		line = strdup("no record");
	else if (status)
		line = xasprintf("%s%s%s", status, summary ? ": " : "", summary ?: "");
	else
		line = json_dumps(v, JSON_COMPACT);
	field("verified", line);
}

static int run_info(int argc, char **argv)
{
	static const struct option options[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpk_repo_client *client = NULL;
	struct bpk_repo_package *pkg = NULL;
	const struct bpk_repo *repo = NULL;
	const struct bpk_repo_version *sel, *v;
	const struct bpk_repo_signer *s;
	struct bpk_index_target target;
	_cleanup_free_ char *name = NULL;
	const char *spec, *repo_name = NULL, *at, *version = NULL;
	bool json = false;
	int c, ret = EXIT_FAIL;
	size_t i;

	while ((c = getopt_long(argc, argv, "r:jh", options, NULL)) != -1) {
		switch (c) {
		case 'r':
			repo_name = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_help("info");
		default:
			return cli_usage_error("info", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("info", "'bpk info' needs one NAME or NAME@VERSION");
	spec = argv[optind];
	if (!bpk_repo_spec__valid(spec))
		return cli_usage_error("info", "'%s' is not NAME or NAME@RANGE", spec);
	at = strchr(spec, '@');
	name = at ? strndup(spec, (size_t)(at - spec)) : strdup(spec);
	if (!name)
		return cli_error("out of memory");

	client = cli_repo_client("info");
	if (!client || cli_pick_repo(client, repo_name, &repo))
		goto out;
	/* A range is resolved as fetch would, from the verified index; a version is taken as is. */
	if (at && !bpk_semver_range__is_exact(at + 1, &version)) {
		if (bpk_repo_client__resolve(client, repo, spec, &repo, &target)) {
			cli_error("cannot resolve '%s': %s", spec, bpk_repo_client__errstr(client));
			goto out;
		}
		version = target.version;
	}
	if (bpk_repo_client__info(client, repo, name, version, &pkg)) {
		cli_error("cannot get information on '%s': %s", spec,
			  bpk_repo_client__errstr(client));
		goto out;
	}
	ret = EXIT_OK;
	if (json) {
		char *text = bpk_repo_package__to_json(pkg);

		if (text)
			fputs(text, stdout);
		free(text);
		goto out;
	}
	sel = bpk_repo_package__selected(pkg);
	{
		_cleanup_free_ char *shown_name = str_shown(bpk_repo_package__name(pkg), 200, NULL);
		_cleanup_free_ char *feed = str_shown(bpk_repo_package__feed(pkg) ?: "?", 100,
						      NULL);

		printf("%s %s%s (feed %s)\n", shown_name ?: "", sel->version,
		       sel->yanked ? " [yanked]" : "", feed ?: "");
	}
	print_manifest(bpk_repo_package__manifest_json(pkg));
	field("published", sel->published);
	if (sel->size)
		printf("%-11s %" PRIu64 " bytes\n", "size", sel->size);
	field("sha256", sel->sha256);
	if (!bpk_repo_package__signer_cnt(pkg))
		printf("%-11s none (unsigned)\n", "signers");
	for (i = 0; (s = bpk_repo_package__signer(pkg, i)); i++) {
		_cleanup_free_ char *line = xasprintf("%s (%s)", s->keyid, s->alg ?: "?");

		list_line("signers", i, line);
	}
	print_verified(bpk_repo_package__verified_json(pkg));
	printf("versions:\n");
	for (i = 0; (v = bpk_repo_package__version(pkg, i)); i++)
		printf("  %s%s%s\n", v->version, v->yanked ? "  (yanked)" : "",
		       !strcmp(v->version, sel->version) ? "  <-" : "");
	printf("install:    bpk install %s@%s\n", name, sel->version);
out:
	bpk_repo_package__free(pkg);
	bpk_repo_client__free(client);
	return ret;
}

const struct cmd cmd_info = {
	.name = "info",
	.run = run_info,
	.summary = "show a package's versions, manifest and signers",
	.help =
		"usage: bpk info NAME[@VERSION] [--repo NAME] [-j]\n"
		"\n"
		"Show what a repository says about a package: the version asked for (a range is\n"
		"resolved from the verified index; without one, the newest version not yanked),\n"
		"its description, license, authors, kernel requirement, programs and maps, its\n"
		"size, SHA-256 and signers, what the repository verified, and every version with\n"
		"the yanked ones marked. Without --repo: the only repository configured, or the\n"
		"first by name whose index has the package.\n"
		"\n"
		"  -r, --repo NAME        ask this repository\n"
		"  -j, --json             print JSON\n"
		"  -h, --help             show this help\n",
};

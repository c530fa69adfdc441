// SPDX-License-Identifier: BSD-2-Clause
/* bpk inspect: what a BPF object or a package contains, for people (-j for programs). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static void print_list(const char *label, char *const *items, size_t cnt)
{
	size_t i;

	printf("    %-14s", label);
	if (!cnt)
		printf("-");
	for (i = 0; i < cnt; i++)
		printf("%s%s", i ? ", " : "", items[i]);
	printf("\n");
}

/* What the program can do, one capability a line with the evidence. */
static void print_capabilities(const struct bpk_obj_info *obj, const struct bpk_prog_report *p)
{
	struct bpk_capability_list caps;
	size_t i;

	if (bpk_capabilities__of_prog(obj, p, &caps))
		return;
	for (i = 0; i < caps.cnt; i++)
		printf("    %-14s%s: %s (%s)\n", i ? "" : "can", caps.items[i].id, caps.items[i].words,
		       caps.items[i].evidence);
	if (!caps.cnt)
		printf("    %-14s-\n", "can");
	bpk_capability_list__release(&caps);
}

static void print_object(const char *label, const struct bpk_obj_info *obj)
{
	size_t i, width = 4;

	printf("object      %s\n", label);
	printf("sha256      %s\n", obj->sha256);
	printf("size        %llu bytes\n", (unsigned long long)obj->size);
	printf("license     %s\n", obj->license ? obj->license : "(none)");
	printf("btf         %s\n", obj->has_btf ? "yes" : "no");
	printf("co-re       %u relocation%s\n", obj->core_relo_cnt, obj->core_relo_cnt == 1 ? "" : "s");

	printf("\nprograms (%zu)\n", obj->prog_cnt);
	for (i = 0; i < obj->prog_cnt; i++) {
		const struct bpk_prog_report *p = &obj->progs[i];

		printf("  %s\n", p->name);
		printf("    %-14s%s\n", "section", p->section);
		printf("    %-14s%s\n", "type", p->type);
		printf("    %-14s%s\n", "attach type", p->attach_type ? p->attach_type : "-");
		printf("    %-14s%s (chain: %s)\n", "attach", p->attach, p->chain);
		printf("    %-14s%u", "instructions", p->insn_cnt);
		if (p->subprog_insn_cnt)
			printf(" (+%u in subprograms)", p->subprog_insn_cnt);
		printf("\n");
		print_list("helpers", p->helpers, p->helper_cnt);
		print_list("kfuncs", p->kfuncs, p->kfunc_cnt);
		printf("    %-14s%s\n", "tail calls", p->tail_calls ? "yes" : "no");
		print_list("maps", p->maps, p->map_cnt);
		printf("    %-14s%u\n", "co-re relos", p->core_relo_cnt);
		print_capabilities(obj, p);
	}

	printf("\nmaps (%zu)\n", obj->map_cnt);
	if (!obj->map_cnt)
		return;
	for (i = 0; i < obj->map_cnt; i++)
		if (strlen(obj->maps[i].name) > width)
			width = strlen(obj->maps[i].name);
	printf("  %-*s  %-20s %8s %8s %12s  %s\n", (int)width, "NAME", "TYPE", "KEY", "VALUE",
	       "MAX_ENTRIES", "PINNING");
	for (i = 0; i < obj->map_cnt; i++) {
		const struct bpk_map_report *m = &obj->maps[i];

		printf("  %-*s  %-20s %8u %8u %12u  %s%s\n", (int)width, m->name, m->type,
		       m->key_size, m->value_size, m->max_entries, m->pinning,
		       m->internal ? " (internal)" : "");
	}
}

static int inspect_object(const char *path, bool json)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_obj_info *obj = bpk_obj_info__inspect_file(path, &diags);
	int ret = EXIT_OK;

	if (!obj) {
		const struct bpk_diag *d = bpk_diags__first_error(&diags);

		ret = d ? cli_error("cannot inspect '%s': %s", path, d->message)
			: cli_error("cannot inspect '%s': %s", path, strerror(errno));
		bpk_diags__release(&diags);
		return ret;
	}
	if (json) {
		char *text = bpk_obj_info__to_json(obj);

		if (text)
			fputs(text, stdout);
		else
			ret = cli_error("out of memory");
		free(text);
	} else {
		print_object(path, obj);
		cli_print_diags(&diags, false);
	}
	bpk_obj_info__free(obj);
	bpk_diags__release(&diags);
	return ret;
}

static int inspect_package(const char *path, bool json)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_pkg *pkg = bpk_pkg__open(path, NULL, &diags);
	const struct bpk_manifest *m;
	int ret = EXIT_OK;
	size_t i;

	if (!pkg) {
		const struct bpk_diag *d = bpk_diags__first_error(&diags);

		ret = cli_error("cannot open '%s': %s", path, d ? d->message : strerror(errno));
		bpk_diags__release(&diags);
		return ret;
	}
	if (json) {
		char *text = bpk_pkg__inspect_json(pkg);

		if (text)
			fputs(text, stdout);
		else
			ret = cli_error("cannot inspect '%s': %s", path, strerror(errno));
		free(text);
		goto out;
	}
	m = bpk_pkg__manifest(pkg);
	printf("package     %s %s\n", bpk_manifest__name(m), bpk_manifest__version(m));
	printf("feed        %s\n", bpk_manifest__feed(m));
	printf("description %s\n", bpk_manifest__description(m));
	printf("license     %s\n", bpk_manifest__license(m));
	printf("kernel      %s\n", bpk_manifest__kernel_req(m) ? bpk_manifest__kernel_req(m) : "any");
	printf("digest      sha256:%s\n", bpk_pkg__digest(pkg));
	printf("size        %llu bytes\n", (unsigned long long)bpk_pkg__size(pkg));
	printf("\nfiles\n");
	for (i = 0; i < bpk_pkg__entry_cnt(pkg); i++) {
		size_t size;
		const char *entry = bpk_pkg__entry(pkg, i, NULL, &size);

		printf("  %-40s %10zu\n", entry, size);
	}
	for (i = 0; i < bpk_pkg__entry_cnt(pkg); i++) {
		const void *data;
		size_t size;
		const char *entry = bpk_pkg__entry(pkg, i, &data, &size);
		struct bpk_obj_info *obj;

		if (!str_has_prefix(entry, "bpf/") || !str_has_suffix(entry, ".o"))
			continue;
		obj = bpk_obj_info__inspect_mem(data, size, entry, &diags);
		if (!obj) {
			ret = cli_error("cannot inspect '%s' in '%s'", entry, path);
			continue;
		}
		printf("\n");
		print_object(entry, obj);
		bpk_obj_info__free(obj);
	}
	cli_print_diags(&diags, false);
out:
	bpk_pkg__free(pkg);
	bpk_diags__release(&diags);
	return ret;
}

static int run_inspect(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	const char *path;
	int c;

	while ((c = getopt_long(argc, argv, "jh", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_help("inspect");
		default:
			return cli_usage_error("inspect", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("inspect", "expected one FILE.o or FILE.bpk");
	path = argv[optind];
	if (access(path, R_OK) < 0)
		return cli_error("cannot inspect '%s': %s", path, strerror(errno));
	return cli_file_is_package(path) ? inspect_package(path, json) : inspect_object(path, json);
}

const struct cmd cmd_inspect = {
	.name = "inspect",
	.run = run_inspect,
	.summary = "show what a BPF object or package contains",
	.help =
		"usage: bpk inspect FILE.o|FILE.bpk [-j]\n"
		"\n"
		"Report, from the bytecode alone, each program's section, type, attach type,\n"
		"instruction count, helpers, kfuncs, tail calls, maps and CO-RE relocations, and each\n"
		"map's type, sizes and pinning; for a package, also its manifest and files.\n"
		"\n"
		"  -j, --json          print JSON instead of text\n"
		"  -h, --help          show this help\n",
};

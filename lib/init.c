// SPDX-License-Identifier: BSD-2-Clause
/* bpk init: scaffold a package directory with a compilable CO-RE program and a test vector. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bpk_internal.h"

struct template_info {
	const char *type;
	const char *description;
	const char *tag;
	const char *source;
	const char *test;
	const char *readme_usage;
	const char *capabilities; /* the allow-list bpk.json starts with: what the program does */
};

/* Common head of every scaffolded program: vmlinux.h makes field accesses CO-RE relocatable. */
#define PROGRAM_HEAD                                                                               \
	"// SPDX-License-Identifier: GPL-2.0-only\n"                                               \
	"/* @NAME@: @DESCRIPTION@. */\n"                                                           \
	"#include \"vmlinux.h\"\n"                                                                 \
	"#include <bpf/bpf_helpers.h>\n"                                                           \
	"#include <bpf/bpf_endian.h>\n"                                                            \
	"#include <bpf/bpf_core_read.h>\n"                                                         \
	"#include <bpf/bpf_tracing.h>\n\n"

#define PROGRAM_TAIL "\nchar LICENSE[] SEC(\"license\") = \"GPL\";\n"

/* An IPv4/UDP packet (14 + 20 + 8 bytes + 4 payload) for the packet test vectors. */
#define UDP_PACKET_HEX                                                                             \
	"02000000000202000000000108004500002000004000401100007f0000017f000001"                     \
	"303930390000000064617461"

static const struct template_info templates[] = {
	[BPK_TEMPLATE_XDP] = {
		.type = "xdp",
		.description = "counts IPv4 packets per protocol at XDP and passes every packet on",
		.tag = "xdp",
		.source = PROGRAM_HEAD
			"#define ETH_P_IP 0x0800\n\n"
			"/* Packets seen, per IP protocol number; read it with bpftool map dump. */\n"
			"struct {\n"
			"\t__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);\n"
			"\t__uint(max_entries, 256);\n"
			"\t__type(key, __u32);\n"
			"\t__type(value, __u64);\n"
			"} @IDENT@_packets SEC(\".maps\");\n\n"
			"SEC(\"xdp\")\n"
			"int @IDENT@_xdp(struct xdp_md *ctx)\n"
			"{\n"
			"\tvoid *data_end = (void *)(long)ctx->data_end;\n"
			"\tvoid *data = (void *)(long)ctx->data;\n"
			"\tstruct ethhdr *eth = data;\n"
			"\tstruct iphdr *ip = (void *)(eth + 1);\n"
			"\t__u32 proto;\n"
			"\t__u64 *count;\n\n"
			"\tif ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))\n"
			"\t\treturn XDP_PASS;\n"
			"\tproto = ip->protocol;\n"
			"\tcount = bpf_map_lookup_elem(&@IDENT@_packets, &proto);\n"
			"\tif (count)\n"
			"\t\t(*count)++;\n"
			"\treturn XDP_PASS;\n"
			"}\n" PROGRAM_TAIL,
		.test = "{\n"
			"  \"program\": \"@IDENT@_xdp\",\n"
			"  \"cases\": [\n"
			"    {\n"
			"      \"name\": \"an IPv4 UDP packet is counted and passed\",\n"
			"      \"packet_hex\": \"" UDP_PACKET_HEX "\",\n"
			"      \"expect\": {\n"
			"        \"retval\": \"XDP_PASS\",\n"
			"        \"maps\": [{\"name\": \"@IDENT@_packets\", \"key\": 17, \"value\": 1}]\n"
			"      }\n"
			"    }\n"
			"  ]\n"
			"}\n",
		.readme_usage = "    bpk attach @NAME@ --iface eth0\n",
		.capabilities = "\"filter-packets\"",
	},
	[BPK_TEMPLATE_TC] = {
		.type = "tc",
		.description = "counts bytes per IP protocol on a TC hook and lets every packet through",
		.tag = "tc",
		.source = PROGRAM_HEAD
			"#define TC_ACT_OK 0\n"
			"#define ETH_P_IP 0x0800\n\n"
			"/* Bytes seen, per IP protocol number. */\n"
			"struct {\n"
			"\t__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);\n"
			"\t__uint(max_entries, 256);\n"
			"\t__type(key, __u32);\n"
			"\t__type(value, __u64);\n"
			"} @IDENT@_bytes SEC(\".maps\");\n\n"
			"SEC(\"tc\")\n"
			"int @IDENT@_tc(struct __sk_buff *skb)\n"
			"{\n"
			"\tvoid *data_end = (void *)(long)skb->data_end;\n"
			"\tvoid *data = (void *)(long)skb->data;\n"
			"\tstruct ethhdr *eth = data;\n"
			"\tstruct iphdr *ip = (void *)(eth + 1);\n"
			"\t__u32 proto;\n"
			"\t__u64 *bytes;\n\n"
			"\tif ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))\n"
			"\t\treturn TC_ACT_OK;\n"
			"\tproto = ip->protocol;\n"
			"\tbytes = bpf_map_lookup_elem(&@IDENT@_bytes, &proto);\n"
			"\tif (bytes)\n"
			"\t\t*bytes += skb->len;\n"
			"\treturn TC_ACT_OK;\n"
			"}\n" PROGRAM_TAIL,
		.test = "{\n"
			"  \"program\": \"@IDENT@_tc\",\n"
			"  \"cases\": [\n"
			"    {\n"
			"      \"name\": \"an IPv4 UDP packet is counted and let through\",\n"
			"      \"packet_hex\": \"" UDP_PACKET_HEX "\",\n"
			"      \"expect\": {\n"
			"        \"retval\": \"TC_ACT_OK\",\n"
			"        \"maps\": [{\"name\": \"@IDENT@_bytes\", \"key\": 17, \"value\": 46}]\n"
			"      }\n"
			"    }\n"
			"  ]\n"
			"}\n",
		.readme_usage = "    bpk attach @NAME@ --iface eth0 --hook tc_ingress\n",
		.capabilities = "\"filter-packets\"",
	},
	[BPK_TEMPLATE_TRACEPOINT] = {
		.type = "tracepoint",
		.description = "counts execve() calls per process on the syscalls/sys_enter_execve tracepoint",
		.tag = "tracing",
		.source = PROGRAM_HEAD
			"/* execve() calls, per thread group id of the caller. */\n"
			"struct {\n"
			"\t__uint(type, BPF_MAP_TYPE_HASH);\n"
			"\t__uint(max_entries, 10240);\n"
			"\t__type(key, __u32);\n"
			"\t__type(value, __u64);\n"
			"} @IDENT@_execs SEC(\".maps\");\n\n"
			"SEC(\"tracepoint/syscalls/sys_enter_execve\")\n"
			"int @IDENT@_execve(struct trace_event_raw_sys_enter *ctx)\n"
			"{\n"
			"\t__u32 tgid = bpf_get_current_pid_tgid() >> 32;\n"
			"\t__u64 one = 1, *count;\n\n"
			"\t/* ctx->id is read through a CO-RE relocation. */\n"
			"\tif (ctx->id < 0)\n"
			"\t\treturn 0;\n"
			"\tcount = bpf_map_lookup_elem(&@IDENT@_execs, &tgid);\n"
			"\tif (count)\n"
			"\t\t__sync_fetch_and_add(count, 1);\n"
			"\telse\n"
			"\t\tbpf_map_update_elem(&@IDENT@_execs, &tgid, &one, BPF_NOEXIST);\n"
			"\treturn 0;\n"
			"}\n" PROGRAM_TAIL,
		.test = "{\n"
			"  \"program\": \"@IDENT@_execve\",\n"
			"  \"cases\": [\n"
			"    {\n"
			"      \"name\": \"a tracepoint program cannot be test-run; it must load\",\n"
			"      \"load_only\": true\n"
			"    }\n"
			"  ]\n"
			"}\n",
		.readme_usage = "    bpk attach @NAME@\n",
		.capabilities = "\"process-info\"",
	},
	[BPK_TEMPLATE_KPROBE] = {
		.type = "kprobe",
		.description = "counts unlinkat() calls per process with a kprobe on do_unlinkat",
		.tag = "tracing",
		.source = PROGRAM_HEAD
			"/* do_unlinkat() calls, per thread group id, read from the task with CO-RE. */\n"
			"struct {\n"
			"\t__uint(type, BPF_MAP_TYPE_HASH);\n"
			"\t__uint(max_entries, 10240);\n"
			"\t__type(key, __u32);\n"
			"\t__type(value, __u64);\n"
			"} @IDENT@_unlinks SEC(\".maps\");\n\n"
			"SEC(\"kprobe/do_unlinkat\")\n"
			"int BPF_KPROBE(@IDENT@_unlinkat, int dfd)\n"
			"{\n"
			"\tstruct task_struct *task = (void *)bpf_get_current_task();\n"
			"\t__u32 tgid = BPF_CORE_READ(task, tgid);\n"
			"\t__u64 one = 1, *count;\n\n"
			"\tcount = bpf_map_lookup_elem(&@IDENT@_unlinks, &tgid);\n"
			"\tif (count)\n"
			"\t\t__sync_fetch_and_add(count, 1);\n"
			"\telse\n"
			"\t\tbpf_map_update_elem(&@IDENT@_unlinks, &tgid, &one, BPF_NOEXIST);\n"
			"\treturn 0;\n"
			"}\n" PROGRAM_TAIL,
		.test = "{\n"
			"  \"program\": \"@IDENT@_unlinkat\",\n"
			"  \"cases\": [\n"
			"    {\n"
			"      \"name\": \"a kprobe program cannot be test-run; it must load\",\n"
			"      \"load_only\": true\n"
			"    }\n"
			"  ]\n"
			"}\n",
		.readme_usage = "    bpk attach @NAME@\n",
		.capabilities = "\"read-kernel-memory\"",
	},
	[BPK_TEMPLATE_CGROUP_SKB] = {
		.type = "cgroup_skb",
		.description = "counts egress bytes of a cgroup and allows every packet",
		.tag = "cgroup",
		.source = PROGRAM_HEAD
			"/* Bytes sent by the cgroup. */\n"
			"struct {\n"
			"\t__uint(type, BPF_MAP_TYPE_ARRAY);\n"
			"\t__uint(max_entries, 1);\n"
			"\t__type(key, __u32);\n"
			"\t__type(value, __u64);\n"
			"} @IDENT@_bytes SEC(\".maps\");\n\n"
			"SEC(\"cgroup_skb/egress\")\n"
			"int @IDENT@_egress(struct __sk_buff *skb)\n"
			"{\n"
			"\t__u32 key = 0;\n"
			"\t__u64 *bytes = bpf_map_lookup_elem(&@IDENT@_bytes, &key);\n\n"
			"\tif (bytes)\n"
			"\t\t__sync_fetch_and_add(bytes, skb->len);\n"
			"\treturn 1; /* allow */\n"
			"}\n" PROGRAM_TAIL,
		.test = "{\n"
			"  \"program\": \"@IDENT@_egress\",\n"
			"  \"cases\": [\n"
			"    {\n"
			"      \"name\": \"an IPv4 UDP packet is allowed\",\n"
			"      \"packet_hex\": \"" UDP_PACKET_HEX "\",\n"
			"      \"expect\": {\"retval\": 1}\n"
			"    }\n"
			"  ]\n"
			"}\n",
		.readme_usage = "    bpk attach @NAME@ --cgroup /sys/fs/cgroup/my.slice\n",
		.capabilities = "\"filter-packets\"",
	},
};

static const char manifest_template[] =
	"{\n"
	"  \"bpk\": 1,\n"
	"  \"name\": \"@NAME@\",\n"
	"  \"version\": \"0.1.0\",\n"
	"  \"description\": \"@DESCRIPTION@\",\n"
	"  \"license\": \"GPL-2.0-only\",\n"
	"  \"authors\": [\"@AUTHOR@\"],\n"
	"  \"source\": {\"url\": \"https://example.com/@NAME@.git\"},\n"
	"  \"tags\": [\"@TAG@\"],\n"
	"  \"platforms\": [\"linux\"],\n"
	"  \"requires\": {\"kernel\": \">=5.15\", \"btf\": true},\n"
	"  \"capabilities\": [@CAPS@]\n"
	"}\n";

static const char readme_template[] =
	"# @NAME@\n\n"
	"@NAME@ @DESCRIPTION@.\n\n"
	"Replace this text: say what the program does, which maps configure it and what they\n"
	"mean, which kernels it needs, and how to check that it works.\n\n"
	"## Build, test and pack\n\n"
	"    bpk build\n"
	"    bpk test\n"
	"    bpk pack\n\n"
	"## Run\n\n"
	"@USAGE@";

static const char gitignore_template[] = "/bpf/\n/.bpk-build/\n*.bpk\n";

int bpk_template__parse(const char *type, enum bpk_template *ret_template)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(templates); i++)
		if (!strcmp(type, templates[i].type)) {
			*ret_template = (enum bpk_template)i;
			return 0;
		}
	return -EINVAL;
}

/* Replace every @KEY@ of text with its value from vars (pairs, NULL-terminated). */
static char *expand(const char *text, const char *const *vars)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = text;

	while (*p) {
		const char *at = strchr(p, '@'), *end;
		size_t i;
		bool done = false;

		if (!at) {
			if (strbuf_addstr(&sb, p))
				goto nomem;
			break;
		}
		if (strbuf_add(&sb, p, (size_t)(at - p)))
			goto nomem;
		end = strchr(at + 1, '@');
		for (i = 0; end && vars[i]; i += 2) {
			if (strlen(vars[i]) == (size_t)(end - at - 1) &&
			    !strncmp(at + 1, vars[i], (size_t)(end - at - 1))) {
				if (strbuf_addstr(&sb, vars[i + 1]))
					goto nomem;
				p = end + 1;
				done = true;
				break;
			}
		}
		if (!done) {
			if (strbuf_add(&sb, "@", 1))
				goto nomem;
			p = at + 1;
		}
	}
	return strbuf_detach(&sb, NULL);
nomem:
	strbuf_release(&sb);
	return NULL;
}

/* Write one new file under dirfd; never replaces an existing one. */
static int write_new(int dirfd, const char *rel, const char *text)
{
	_cleanup_close_ int fd = -1;
	int err;

	fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	err = write_all(fd, text, strlen(text));
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (err)
		unlinkat(dirfd, rel, 0);
	return err;
}

static bool dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool empty = true;

	if (!d)
		return true;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

int bpk_init__scaffold(const char *dir, const char *name, enum bpk_template template,
		       const struct bpk_init_opts *opts)
{
	const char *author = OPTS_GET(opts, author, NULL) ?: "Your Name <you@example.com>";
	const struct template_info *t;
	_cleanup_free_ char *ident = NULL, *src_rel = NULL, *test_rel = NULL;
	_cleanup_close_ int dirfd = -1;
	const char *base, *p;
	struct {
		const char *rel;
		const char *text;
		char *expanded;
		bool written;
	} files[5] = { { 0 } };
	bool force = OPTS_GET(opts, force, false);
	size_t i;
	int err = 0;

	if ((unsigned int)template >= ARRAY_SIZE(templates) || !bpk_name__valid(name))
		return -EINVAL;
	for (p = author; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f)
			return -EINVAL;
	t = &templates[template];
	base = strchr(name, '/') ? strchr(name, '/') + 1 : name;
	ident = strdup(base);
	if (!ident)
		return -ENOMEM;
	for (p = base; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			ident[p - base] = '_';
	src_rel = xasprintf("src/%s.bpf.c", base);
	test_rel = xasprintf("tests/%s.json", base);
	if (!src_rel || !test_rel)
		return -ENOMEM;

	const char *const vars[] = {
		"NAME", name, "IDENT", ident, "DESCRIPTION", t->description, "AUTHOR", author,
		"TAG", t->tag, NULL,
	};
	_cleanup_free_ char *usage = expand(t->readme_usage, vars);
	const char *const vars_usage[] = {
		"NAME", name, "IDENT", ident, "DESCRIPTION", t->description, "AUTHOR", author,
		"TAG", t->tag, "USAGE", usage ? usage : "", "CAPS", t->capabilities, NULL,
	};

	files[0].rel = BPK_MANIFEST_PATH, files[0].text = manifest_template;
	files[1].rel = "README.md", files[1].text = readme_template;
	files[2].rel = src_rel, files[2].text = t->source;
	files[3].rel = test_rel, files[3].text = t->test;
	files[4].rel = ".gitignore", files[4].text = gitignore_template;

	err = mkdir_p(dir, 0755);
	if (err)
		return err;
	if (!force && !dir_is_empty(dir))
		return -EEXIST;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	if ((mkdirat(dirfd, "src", 0755) < 0 && errno != EEXIST) ||
	    (mkdirat(dirfd, "tests", 0755) < 0 && errno != EEXIST))
		return -errno;
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		files[i].expanded = expand(files[i].text, vars_usage);
		if (!files[i].expanded) {
			err = -ENOMEM;
			break;
		}
		err = write_new(dirfd, files[i].rel, files[i].expanded);
		/* With force, what is already there is the author's and stays. */
		if (err == -EEXIST && force) {
			err = 0;
			continue;
		}
		if (err)
			break;
		files[i].written = true;
	}
	/* All or nothing: a half scaffold would only confuse. */
	for (i = 0; err && i < ARRAY_SIZE(files); i++)
		if (files[i].written)
			unlinkat(dirfd, files[i].rel, 0);
	for (i = 0; i < ARRAY_SIZE(files); i++)
		free(files[i].expanded);
	return err;
}

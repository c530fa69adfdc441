// SPDX-License-Identifier: BSD-2-Clause
/* Kernel compatibility: asks this kernel, program by program, whether a package will run here. */
#include <dirent.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bpk_internal.h"

#include <bpk/check.h>

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"
#define MODULE_BTF_DIR "/sys/kernel/btf"
#define PROBE_LOG_SIZE 4096
#define TRIAL_LOG_SIZE (256U << 10)
/* What of libbpf's messages a reason quotes at most. */
#define LIBBPF_TEXT_MAX (16U << 10)
#define HELPER_CACHE_MAX 1024

static const char *const check_names[BPK_CHECK_CNT] = {
	[BPK_CHECK_PLATFORM] = "platform",
	[BPK_CHECK_ARCH] = "arch",
	[BPK_CHECK_KERNEL] = "kernel",
	[BPK_CHECK_BTF] = "btf",
	[BPK_CHECK_PROG_TYPE] = "prog_type",
	[BPK_CHECK_ATTACH_TYPE] = "attach_type",
	[BPK_CHECK_HELPERS] = "helpers",
	[BPK_CHECK_KFUNCS] = "kfuncs",
	[BPK_CHECK_CORE] = "core",
	[BPK_CHECK_LOAD] = "load",
};

const char *bpk_check_id__name(enum bpk_check_id id)
{
	return (unsigned int)id < BPK_CHECK_CNT ? check_names[id] : NULL;
}

const char *bpk_check_status__name(enum bpk_check_status status)
{
	switch (status) {
	case BPK_CHECK_PASS:
		return "pass";
	case BPK_CHECK_FAIL:
		return "fail";
	case BPK_CHECK_SKIP:
		return "skip";
	}
	return "unknown";
}

/* ---- what the kernel answered once, it answers for the life of the process ---- */

/*
 * A kernel does not change the helpers it allows or the types it loads while it runs, and the
 * agent checks every stage it loads: probe answers and the vmlinux BTF (megabytes to parse)
 * are kept. Module BTF can come and go, so it is never kept.
 */
struct probe_answer {
	int prog_type;
	int attach_type;
	int helper; /* -1: the program type itself, -2: the attach type */
	int answer; /* 1 yes, 0 no, negative errno: cannot tell */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct probe_answer probe_cache[HELPER_CACHE_MAX];
static size_t probe_cache_cnt;
static struct btf *vmlinux_btf;
static int vmlinux_btf_err; /* 0: not tried yet */

static bool cache_get(int type, int eat, int helper, int *ret_answer)
{
	bool found = false;
	size_t i;

	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < probe_cache_cnt; i++) {
		const struct probe_answer *a = &probe_cache[i];

		if (a->prog_type == type && a->attach_type == eat && a->helper == helper) {
			*ret_answer = a->answer;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

static void cache_put(int type, int eat, int helper, int answer)
{
	/* An errno may be a passing condition (memory, a signal): only keep yes and no. */
	if (answer < 0)
		return;
	pthread_mutex_lock(&cache_lock);
	if (probe_cache_cnt < HELPER_CACHE_MAX)
		probe_cache[probe_cache_cnt++] = (struct probe_answer){type, eat, helper, answer};
	pthread_mutex_unlock(&cache_lock);
}

/* The kernel's BTF of vmlinux (borrowed: the process keeps it), or NULL with -errno. */
static const struct btf *default_vmlinux_btf(int *ret_err)
{
	const struct btf *btf;

	pthread_mutex_lock(&cache_lock);
	if (!vmlinux_btf && vmlinux_btf_err != -ENOENT) {
		vmlinux_btf = btf__parse(VMLINUX_BTF, NULL);
		vmlinux_btf_err = vmlinux_btf ? 0 : -errno;
	}
	btf = vmlinux_btf;
	*ret_err = vmlinux_btf_err;
	/* Only "not there" is kept as an answer; anything else is tried again next time. */
	if (!btf && vmlinux_btf_err != -ENOENT)
		vmlinux_btf_err = 0;
	pthread_mutex_unlock(&cache_lock);
	return btf;
}

/* ---- probes ---- */

/* Program types that need a BTF target to load at all: no minimal program probes them. */
static bool needs_btf_target(int type)
{
	return type == BPF_PROG_TYPE_TRACING || type == BPF_PROG_TYPE_EXT ||
	       type == BPF_PROG_TYPE_LSM || type == BPF_PROG_TYPE_STRUCT_OPS;
}

/* Load "r0 = 0; [call helper;] exit"; the fd is closed at once. Returns fd or -errno. */
static int probe_load(int type, int eat, int helper, char *log, size_t log_size)
{
	struct bpf_insn insns[3] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = (enum bpf_attach_type)eat,
		    .log_buf = log, .log_size = (__u32)log_size, .log_level = 1);
	size_t cnt = 2;
	int fd;

	if (helper >= 0) {
		insns[1] = (struct bpf_insn){.code = BPF_JMP | BPF_CALL, .imm = helper};
		insns[2] = (struct bpf_insn){.code = BPF_JMP | BPF_EXIT};
		cnt = 3;
	}
	/* Whole: the kernel writes the log, which memory checkers cannot see. */
	memset(log, 0, log_size);
	fd = bpf_prog_load((enum bpf_prog_type)type, NULL, "GPL", insns, cnt, &opts);
	if (fd < 0)
		return -errno;
	close(fd);
	return fd;
}

/* Whether this process may load programs at all: a two-instruction XDP program. */
static bool can_probe(void)
{
	char log[PROBE_LOG_SIZE];
	int err = probe_load(BPF_PROG_TYPE_XDP, BPF_XDP, -1, log, sizeof(log));

	return err >= 0 || (err != -EPERM && err != -EACCES);
}

static int probe_prog_type(int type)
{
	int answer;

	if (cache_get(type, 0, -1, &answer))
		return answer;
	answer = libbpf_probe_bpf_prog_type((enum bpf_prog_type)type, NULL);
	cache_put(type, 0, -1, answer);
	return answer;
}

/*
 * A kernel that does not know an attach type refuses the load's attributes with EINVAL
 * before the verifier runs, so the log stays empty; anything the verifier says means the
 * attributes were accepted.
 */
static int probe_attach_type(int type, int eat)
{
	char log[PROBE_LOG_SIZE];
	int answer, err;

	if (cache_get(type, eat, -2, &answer))
		return answer;
	err = probe_load(type, eat, -1, log, sizeof(log));
	answer = err >= 0 || log[0] ? 1 : err == -EINVAL ? 0 : err;
	cache_put(type, eat, -2, answer);
	return answer;
}

/*
 * libbpf_probe_bpf_helper() of libbpf 1.1 looks for "invalid func" and "unknown func" in the
 * verifier's answer; kernels since 6.x say "program of this type cannot use helper" instead,
 * which libbpf 1.1 takes for "supported". So bpk makes the same probe (call the helper with
 * the context in r1, exit) and reads all three wordings. Any other verifier complaint is about
 * the probe's arguments, which means the helper exists for the type.
 */
static int probe_helper(int type, int eat, int helper)
{
	char log[PROBE_LOG_SIZE];
	int answer, err;

	if (needs_btf_target(type))
		return -EOPNOTSUPP;
	if (cache_get(type, eat, helper, &answer))
		return answer;
	err = probe_load(type, eat, helper, log, sizeof(log));
	if (err >= 0 || log[0])
		answer = !(strstr(log, "invalid func ") || strstr(log, "unknown func ") ||
			   strstr(log, "cannot use helper"));
	else
		answer = err;
	cache_put(type, eat, helper, answer);
	return answer;
}

/* ---- the checker ---- */

struct checker {
	unsigned int flags;
	const char *release;
	const char *machine;
	const char *btf_path; /* NULL: the default */
	bool btf;
	bool probed;
	const struct bpk_manifest *manifest;
	json_t *requires; /* borrowed from the manifest, may be NULL */
	/* The object being checked. */
	const void *buf;
	size_t len;
	const char *object;
	const struct bpk_obj_info *info;
	/* Kernel BTF for kfuncs, loaded on first need. */
	const struct btf *kbtf;
	struct btf *own_btf;
	int kbtf_err;
	bool kbtf_tried;
};

__attribute__((format(printf, 4, 5))) static int set_item(struct bpk_check_prog *cp,
							  enum bpk_check_id id,
							  enum bpk_check_status status,
							  const char *fmt, ...)
{
	struct bpk_check_item *it = &cp->items[id];
	va_list ap;
	int n;

	free(it->detail);
	it->status = status;
	va_start(ap, fmt);
	n = vasprintf(&it->detail, fmt, ap);
	va_end(ap);
	if (n < 0) {
		it->detail = NULL;
		return -ENOMEM;
	}
	return 0;
}

static bool failed_before(const struct bpk_check_prog *cp, enum bpk_check_id id)
{
	int i;

	for (i = 0; i < (int)id; i++)
		if (cp->items[i].status == BPK_CHECK_FAIL)
			return true;
	return false;
}

/* uname's machine against the manifest's spelling (DESIGN.md §2: "x86_64", "aarch64", ...). */
static bool arch_matches(const char *want, const char *machine)
{
	if (!strcmp(want, machine))
		return true;
	if (!strcmp(want, "arm"))
		return str_has_prefix(machine, "arm") && strcmp(machine, "arm64");
	if (!strcmp(want, "x86_64"))
		return !strcmp(machine, "amd64");
	if (!strcmp(want, "aarch64"))
		return !strcmp(machine, "arm64");
	if (!strcmp(want, "mips64"))
		return str_has_prefix(machine, "mips64");
	return false;
}

static int check_platform_arch(struct checker *ck, struct bpk_check_prog *cp)
{
	json_t *arch = ck->requires ? json_object_get(ck->requires, "arch") : NULL;
	struct strbuf list = STRBUF_INIT;
	json_t *v;
	size_t i;
	int err;

	if (!ck->manifest)
		err = set_item(cp, BPK_CHECK_PLATFORM, BPK_CHECK_SKIP, "no manifest to say");
	else if (bpk_manifest__platforms(ck->manifest) & BPK_PLATFORM_LINUX)
		err = set_item(cp, BPK_CHECK_PLATFORM, BPK_CHECK_PASS, "the package is for Linux");
	else
		err =
		    set_item(cp, BPK_CHECK_PLATFORM, BPK_CHECK_FAIL,
			     "the package is not for Linux (its platforms do not list \"linux\")");
	if (err)
		return err;
	if (!json_array_size(arch))
		return set_item(cp, BPK_CHECK_ARCH, BPK_CHECK_SKIP,
				ck->manifest ? "requires.arch is not given" : "no manifest to say");
	json_array_foreach(arch, i, v)
	{
		const char *a = json_string_value(v) ?: "";

		if (arch_matches(a, ck->machine)) {
			strbuf_release(&list);
			return set_item(cp, BPK_CHECK_ARCH, BPK_CHECK_PASS,
					"this machine (%s) is in requires.arch", ck->machine);
		}
		if (strbuf_addf(&list, "%s%s", i ? ", " : "", a))
			goto enomem;
	}
	err = set_item(cp, BPK_CHECK_ARCH, BPK_CHECK_FAIL,
		       "this machine is %s, but requires.arch lists only %s", ck->machine,
		       list.buf ?: "");
	strbuf_release(&list);
	return err;
enomem:
	strbuf_release(&list);
	return -ENOMEM;
}

static int check_kernel(struct checker *ck, struct bpk_check_prog *cp)
{
	const char *req = ck->manifest ? bpk_manifest__kernel_req(ck->manifest) : NULL;

	if (!req)
		return set_item(cp, BPK_CHECK_KERNEL, BPK_CHECK_SKIP,
				ck->manifest ? "requires.kernel is not given"
					     : "no manifest to say");
	if (bpk_kernel_req__matches(req, ck->release))
		return set_item(cp, BPK_CHECK_KERNEL, BPK_CHECK_PASS,
				"kernel %s satisfies requires.kernel '%s'", ck->release, req);
	return set_item(cp, BPK_CHECK_KERNEL, BPK_CHECK_FAIL,
			"kernel %s does not satisfy requires.kernel '%s'", ck->release, req);
}

static int check_btf(struct checker *ck, const struct bpk_prog_report *p, struct bpk_check_prog *cp)
{
	const char *path = ck->btf_path ?: VMLINUX_BTF;
	bool required = ck->manifest && bpk_manifest__requires_btf(ck->manifest);

	if (ck->btf)
		return set_item(cp, BPK_CHECK_BTF, BPK_CHECK_PASS, "kernel BTF is present (%s)",
				path);
	if (required)
		return set_item(
		    cp, BPK_CHECK_BTF, BPK_CHECK_FAIL,
		    "the package requires BTF, and this kernel has none (%s is missing)", path);
	if (p->core_relo_cnt)
		return set_item(
		    cp, BPK_CHECK_BTF, BPK_CHECK_FAIL,
		    "the program has %u CO-RE relocation%s, and this kernel has no BTF to resolve them against (%s is missing)",
		    p->core_relo_cnt, p->core_relo_cnt == 1 ? "" : "s", path);
	if (p->kfunc_cnt)
		return set_item(
		    cp, BPK_CHECK_BTF, BPK_CHECK_FAIL,
		    "the program calls kfunc '%s', and this kernel has no BTF to find it in (%s is missing)",
		    p->kfuncs[0], path);
	return set_item(cp, BPK_CHECK_BTF, BPK_CHECK_SKIP,
			"no kernel BTF, and the program does not need it");
}

static int check_prog_type(struct checker *ck, const struct bpk_prog_report *p,
			   struct bpk_check_prog *cp)
{
	int answer;

	if (p->prog_type == BPF_PROG_TYPE_UNSPEC)
		return set_item(cp, BPK_CHECK_PROG_TYPE, BPK_CHECK_FAIL,
				"libbpf cannot tell the program type of section '%s'", p->section);
	if (!ck->probed)
		return set_item(cp, BPK_CHECK_PROG_TYPE, BPK_CHECK_SKIP,
				"not asked: loading programs needs CAP_BPF (run as root)");
	answer = probe_prog_type(p->prog_type);
	if (answer > 0)
		return set_item(cp, BPK_CHECK_PROG_TYPE, BPK_CHECK_PASS,
				"this kernel loads %s programs", p->type);
	if (answer == 0)
		return set_item(cp, BPK_CHECK_PROG_TYPE, BPK_CHECK_FAIL,
				"this kernel does not load %s programs (a minimal one was refused)",
				p->type);
	return set_item(cp, BPK_CHECK_PROG_TYPE, BPK_CHECK_SKIP,
			"libbpf cannot probe %s programs: %s", p->type, strerror(-answer));
}

static int check_attach_type(struct checker *ck, const struct bpk_prog_report *p,
			     struct bpk_check_prog *cp)
{
	int answer;

	if (!p->attach_type)
		return set_item(cp, BPK_CHECK_ATTACH_TYPE, BPK_CHECK_SKIP,
				"the program has no expected attach type");
	if (!ck->probed)
		return set_item(cp, BPK_CHECK_ATTACH_TYPE, BPK_CHECK_SKIP,
				"not asked: loading programs needs CAP_BPF (run as root)");
	if (needs_btf_target(p->prog_type))
		return set_item(
		    cp, BPK_CHECK_ATTACH_TYPE, BPK_CHECK_SKIP,
		    "%s programs need a BTF target to be probed; the trial load decides", p->type);
	answer = probe_attach_type(p->prog_type, p->expected_attach_type);
	if (answer > 0)
		return set_item(cp, BPK_CHECK_ATTACH_TYPE, BPK_CHECK_PASS,
				"this kernel loads %s programs for attach type %s", p->type,
				p->attach_type);
	if (answer == 0)
		return set_item(cp, BPK_CHECK_ATTACH_TYPE, BPK_CHECK_FAIL,
				"this kernel does not know attach type %s for %s programs",
				p->attach_type, p->type);
	return set_item(cp, BPK_CHECK_ATTACH_TYPE, BPK_CHECK_SKIP,
			"cannot probe attach type %s: %s", p->attach_type, strerror(-answer));
}

static int check_helpers(struct checker *ck, const struct bpk_prog_report *p,
			 struct bpk_check_prog *cp)
{
	const char *license = ck->info->license;
	bool gpl_ok = license && bpk_spdx__is_gpl_compatible(license);
	size_t i, unprobed = 0;

	if (!p->helper_cnt)
		return set_item(cp, BPK_CHECK_HELPERS, BPK_CHECK_PASS,
				"the program calls no helper");
	/* The license first: it needs no kernel, and the kernel would refuse for it anyway. */
	for (i = 0; i < p->helper_cnt; i++)
		if (bpk_helper__gpl_only(p->helper_ids[i]) && !gpl_ok)
			return set_item(
			    cp, BPK_CHECK_HELPERS, BPK_CHECK_FAIL,
			    "helper %s is GPL-only, and the object's license string '%s' is not GPL-compatible",
			    p->helpers[i], license ?: "(none)");
	if (!ck->probed)
		return set_item(cp, BPK_CHECK_HELPERS, BPK_CHECK_SKIP,
				"not asked: loading programs needs CAP_BPF (run as root)");
	for (i = 0; i < p->helper_cnt; i++) {
		int answer = probe_helper(p->prog_type, p->expected_attach_type, p->helper_ids[i]);

		if (answer == 0)
			return set_item(cp, BPK_CHECK_HELPERS, BPK_CHECK_FAIL,
					"helper %s is not available to %s programs on this kernel",
					p->helpers[i], p->type);
		if (answer < 0)
			unprobed++;
	}
	if (unprobed == p->helper_cnt)
		return set_item(cp, BPK_CHECK_HELPERS, BPK_CHECK_SKIP,
				"helpers of %s programs cannot be probed; the trial load decides",
				p->type);
	if (unprobed)
		return set_item(
		    cp, BPK_CHECK_HELPERS, BPK_CHECK_PASS,
		    "%zu of %zu helpers are available to %s programs; %zu could not be probed",
		    p->helper_cnt - unprobed, p->helper_cnt, p->type, unprobed);
	return set_item(cp, BPK_CHECK_HELPERS, BPK_CHECK_PASS,
			"%zu helper%s, all available to %s programs", p->helper_cnt,
			p->helper_cnt == 1 ? "" : "s", p->type);
}

/* Whether the object declares name as a weak symbol: a kfunc the program may do without. */
static bool is_weak_symbol(const void *buf, size_t len, const char *name)
{
	_cleanup_free_ void *copy = malloc(len ?: 1);
	Elf_Scn *scn = NULL;
	bool weak = false;
	Elf *elf;

	if (!copy || elf_version(EV_CURRENT) == EV_NONE)
		return false;
	memcpy(copy, buf, len);
	elf = elf_memory(copy, len);
	if (!elf)
		return false;
	while (!weak && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		GElf_Shdr sh;
		size_t i, cnt;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		cnt = data ? data->d_size / sh.sh_entsize : 0;
		for (i = 0; i < cnt; i++) {
			GElf_Sym sym;
			const char *s;

			if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx != SHN_UNDEF)
				continue;
			s = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (s && !strcmp(s, name)) {
				weak = GELF_ST_BIND(sym.st_info) == STB_WEAK;
				break;
			}
		}
	}
	elf_end(elf);
	return weak;
}

/* The kernel's BTF for kfuncs: the default one is kept by the process, another is ours. */
static const struct btf *kernel_btf(struct checker *ck)
{
	if (ck->kbtf_tried)
		return ck->kbtf;
	ck->kbtf_tried = true;
	if (!ck->btf_path) {
		ck->kbtf = default_vmlinux_btf(&ck->kbtf_err);
		return ck->kbtf;
	}
	ck->own_btf = btf__parse(ck->btf_path, NULL);
	ck->kbtf_err = ck->own_btf ? 0 : -errno;
	ck->kbtf = ck->own_btf;
	return ck->kbtf;
}

/* Whether a module's BTF has FUNC name (libbpf looks there after vmlinux, so do we). */
static bool in_module_btf(const struct btf *vmlinux, const char *name, char **ret_module)
{
	DIR *d = opendir(MODULE_BTF_DIR);
	struct dirent *de;
	bool found = false;

	while (d && !found && (de = readdir(d))) {
		struct btf *mod;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "vmlinux"))
			continue;
		mod = btf__load_module_btf(de->d_name, (struct btf *)vmlinux);
		if (!mod)
			continue;
		if (btf__find_by_name_kind(mod, name, BTF_KIND_FUNC) > 0) {
			found = true;
			*ret_module = strdup(de->d_name);
		}
		btf__free(mod);
	}
	if (d)
		closedir(d);
	return found;
}

static int check_kfuncs(struct checker *ck, const struct bpk_prog_report *p,
			struct bpk_check_prog *cp)
{
	const struct btf *btf;
	size_t i, weak_missing = 0;

	if (!p->kfunc_cnt)
		return set_item(cp, BPK_CHECK_KFUNCS, BPK_CHECK_SKIP, "the program calls no kfunc");
	btf = kernel_btf(ck);
	if (!btf)
		return set_item(cp, BPK_CHECK_KFUNCS, BPK_CHECK_FAIL,
				"kfunc '%s' cannot be looked up: no kernel BTF (%s)", p->kfuncs[0],
				strerror(-ck->kbtf_err ?: ENOENT));
	for (i = 0; i < p->kfunc_cnt; i++) {
		_cleanup_free_ char *module = NULL;

		if (btf__find_by_name_kind(btf, p->kfuncs[i], BTF_KIND_FUNC) > 0)
			continue;
		if (!ck->btf_path && in_module_btf(btf, p->kfuncs[i], &module))
			continue;
		if (is_weak_symbol(ck->buf, ck->len, p->kfuncs[i])) {
			weak_missing++;
			continue;
		}
		return set_item(cp, BPK_CHECK_KFUNCS, BPK_CHECK_FAIL,
				"kfunc '%s' is not a function of this kernel (not in its BTF)",
				p->kfuncs[i]);
	}
	if (weak_missing)
		return set_item(
		    cp, BPK_CHECK_KFUNCS, BPK_CHECK_PASS,
		    "%zu of %zu kfuncs are in this kernel's BTF; %zu missing ones are declared weak (the program must test bpf_ksym_exists())",
		    p->kfunc_cnt - weak_missing, p->kfunc_cnt, weak_missing);
	return set_item(cp, BPK_CHECK_KFUNCS, BPK_CHECK_PASS,
			"%zu kfunc%s, all in this kernel's BTF", p->kfunc_cnt,
			p->kfunc_cnt == 1 ? "" : "s");
}

/* ---- the trial load ---- */

/*
 * libbpf has one process-wide print callback: while a trial load runs, this thread's messages
 * are kept (CO-RE failures are only said there) and sent on to bpk's debug output; other
 * threads' messages go where they went before.
 */
static libbpf_print_fn_t trial_saved_print;
static __thread struct strbuf *trial_capture;

__attribute__((format(printf, 2, 0))) static int trial_print(enum libbpf_print_level level,
							     const char *fmt, va_list ap)
{
	struct strbuf *sb = trial_capture;
	char *msg = NULL;
	int n;

	if (!sb)
		return trial_saved_print ? trial_saved_print(level, fmt, ap) : 0;
	n = vasprintf(&msg, fmt, ap);
	if (n < 0)
		return 0;
	bpk_print(BPK_DEBUG, "%s", msg);
	if (sb->len < LIBBPF_TEXT_MAX)
		strbuf_addstr(sb, msg);
	free(msg);
	return n;
}

/* The line of text that contains needle, without its line break; NULL when none does. */
static char *line_with(const char *text, const char *needle)
{
	const char *hit = text ? strstr(text, needle) : NULL;
	const char *start, *end;

	if (!hit)
		return NULL;
	start = hit;
	while (start > text && start[-1] != '\n')
		start--;
	end = strchr(hit, '\n') ?: hit + strlen(hit);
	return strndup(start, (size_t)(end - start));
}

/* The verifier's reason: the last line of its log that is not its statistics. */
static char *verifier_reason(const char *log)
{
	const char *end = log + strlen(log);

	while (end > log) {
		const char *start = end;

		while (start > log && start[-1] != '\n')
			start--;
		if (end > start && !str_has_prefix(start, "processed ") &&
		    !str_has_prefix(start, "verification time") &&
		    !str_has_prefix(start, "stack depth") &&
		    !str_has_prefix(start, "-- END PROG LOAD LOG --"))
			return strndup(start, (size_t)(end - start));
		end = start > log ? start - 1 : log;
	}
	return NULL;
}

/* libbpf's last warning about the load, the "libbpf: " prefix dropped. */
static char *libbpf_reason(const char *text)
{
	_cleanup_free_ char *line = NULL;
	const char *p;

	if (!text)
		return NULL;
	line = line_with(text, "failed to load object");
	if (!line)
		line = line_with(text, "failed to load program");
	if (!line)
		line = verifier_reason(text);
	if (!line)
		return NULL;
	p = str_has_prefix(line, "libbpf: ") ? line + strlen("libbpf: ") : line;
	return strdup(p);
}

static int trial_load(struct checker *ck, const struct bpk_prog_report *p,
		      struct bpk_check_prog *cp)
{
	_cleanup_free_ char *log = calloc(1, TRIAL_LOG_SIZE), *copy = malloc(ck->len ?: 1);
	_cleanup_free_ char *core_line = NULL, *why = NULL;
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "bpk_check", .kernel_log_buf = log,
		    .kernel_log_size = TRIAL_LOG_SIZE, .kernel_log_level = 0);
	struct strbuf text = STRBUF_INIT;
	struct bpf_program *prog, *chosen = NULL;
	struct bpf_prog_info pinfo = {0};
	__u32 pinfo_len = sizeof(pinfo);
	struct bpf_object *obj = NULL;
	libbpf_print_fn_t old;
	struct bpf_map *map;
	int err, load_err = 0;

	if (!log || !copy)
		return -ENOMEM;
	memcpy(copy, ck->buf, ck->len);
	old = bpk_libbpf_print_begin(trial_print);
	trial_saved_print = old == trial_print ? NULL : old;
	trial_capture = &text;
	obj = bpf_object__open_mem(copy, ck->len, &oo);
	if (!obj) {
		load_err = -errno;
		goto loaded;
	}
	bpf_object__for_each_program(prog, obj)
	{
		bool mine = !chosen && !strcmp(bpf_program__name(prog), p->name);

		bpf_program__set_autoload(prog, mine);
		if (mine)
			chosen = prog;
	}
	/* A trial must leave nothing behind: no map is pinned or reused from bpffs. */
	bpf_object__for_each_map(map, obj) bpf_map__set_pin_path(map, NULL);
	if (!chosen)
		load_err = -ENOENT;
	else if (bpf_object__load(obj))
		load_err = -errno;
	else if (bpf_obj_get_info_by_fd(bpf_program__fd(chosen), &pinfo, &pinfo_len))
		memset(&pinfo, 0, sizeof(pinfo));
loaded:
	trial_capture = NULL;
	bpk_libbpf_print_end(trial_saved_print);
	bpf_object__close(obj);

	/*
	 * libbpf 1.1 turns an unresolvable relocation into a poisoned call and, when the verifier
	 * reaches it, rewrites the log to say which relocation; a relocation pass that fails
	 * outright (no target BTF) it reports in its own messages.
	 */
	if (load_err) {
		core_line = line_with(log, "failed to resolve CO-RE relocation");
		if (!core_line)
			core_line = line_with(text.buf, "failed to perform CO-RE relocations");
		if (!core_line)
			core_line = line_with(text.buf, "failed to resolve CO-RE relocation");
	}
	if (core_line) {
		const char *c = str_has_prefix(core_line, "libbpf: ") ? core_line + 8 : core_line;

		err = set_item(cp, BPK_CHECK_CORE, BPK_CHECK_FAIL,
			       "a CO-RE relocation does not resolve against this kernel: %s", c);
		err = err
			  ?: set_item(cp, BPK_CHECK_LOAD, BPK_CHECK_SKIP,
				      "not judged: its CO-RE relocations do not resolve");
		goto out;
	}
	if (p->core_relo_cnt)
		err = set_item(cp, BPK_CHECK_CORE, BPK_CHECK_PASS,
			       "%u CO-RE relocation%s resolved against this kernel",
			       p->core_relo_cnt, p->core_relo_cnt == 1 ? "" : "s");
	else
		err = set_item(cp, BPK_CHECK_CORE, BPK_CHECK_SKIP,
			       "the program has no CO-RE relocations");
	if (err)
		goto out;
	if (!load_err) {
		err = set_item(
		    cp, BPK_CHECK_LOAD, BPK_CHECK_PASS,
		    "the verifier accepted it (%u instructions processed); it was unloaded again",
		    pinfo.verified_insns);
		goto out;
	}
	why = log[0] ? verifier_reason(log) : libbpf_reason(text.buf);
	err = set_item(cp, BPK_CHECK_LOAD, BPK_CHECK_FAIL, "the kernel refused it (%s)%s%s",
		       strerror(-load_err), why ? ": " : "", why ?: "");
out:
	strbuf_release(&text);
	return err;
}

static int check_load(struct checker *ck, const struct bpk_prog_report *p,
		      struct bpk_check_prog *cp)
{
	const char *why = NULL;
	int err;

	if (ck->flags & BPK_CHECK_F_NO_LOAD)
		why = "not tried: no trial load was asked for";
	else if (failed_before(cp, BPK_CHECK_CORE))
		why = "not tried: an earlier check failed";
	else if (!ck->probed)
		why = "not tried: loading programs needs CAP_BPF (run as root)";
	if (!why)
		return trial_load(ck, p, cp);
	if (p->core_relo_cnt)
		err = set_item(cp, BPK_CHECK_CORE, BPK_CHECK_SKIP, "%s", why);
	else
		err = set_item(cp, BPK_CHECK_CORE, BPK_CHECK_SKIP,
			       "the program has no CO-RE relocations");
	return err ?: set_item(cp, BPK_CHECK_LOAD, BPK_CHECK_SKIP, "%s", why);
}

static int check_prog(struct checker *ck, const struct bpk_prog_report *p,
		      struct bpk_check_prog *cp)
{
	int i, err;

	cp->object = strdup(ck->object);
	cp->name = strdup(p->name);
	cp->type = strdup(p->type);
	if (!cp->object || !cp->name || !cp->type)
		return -ENOMEM;
	err = check_platform_arch(ck, cp);
	err = err ?: check_kernel(ck, cp);
	err = err ?: check_btf(ck, p, cp);
	err = err ?: check_prog_type(ck, p, cp);
	err = err ?: check_attach_type(ck, p, cp);
	err = err ?: check_helpers(ck, p, cp);
	err = err ?: check_kfuncs(ck, p, cp);
	err = err ?: check_load(ck, p, cp);
	if (err)
		return err;
	cp->failed = -1;
	for (i = 0; i < BPK_CHECK_CNT; i++)
		if (cp->items[i].status == BPK_CHECK_FAIL) {
			cp->failed = i;
			cp->reason = cp->items[i].detail;
			break;
		}
	cp->ok = cp->failed < 0;
	return 0;
}

static bool wanted(const struct bpk_check_opts *opts, const char *prog_name)
{
	const char *only = OPTS_GET(opts, program, NULL);

	return !only || !strcmp(only, prog_name);
}

/* Check the programs of one object, appending them to res. */
static int check_object(struct checker *ck, const struct bpk_check_opts *opts,
			struct bpk_check_result *res)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_obj_info *info;
	struct bpk_check_prog *progs;
	size_t i, n = 0;
	int err = 0;

	info = bpk_obj_info__inspect_mem(ck->buf, ck->len, ck->object, &diags);
	if (!info) {
		err = -errno;
		if (err == -EINVAL && bpk_diags__first_error(&diags))
			pr_warn("'%s': %s\n", ck->object, bpk_diags__first_error(&diags)->message);
		bpk_diags__release(&diags);
		return err ?: -EINVAL;
	}
	bpk_diags__release(&diags);
	ck->info = info;
	for (i = 0; i < info->prog_cnt; i++)
		n += wanted(opts, info->progs[i].name);
	progs = realloc(res->progs, (res->prog_cnt + n + 1) * sizeof(*progs));
	if (!progs) {
		err = -ENOMEM;
		goto out;
	}
	res->progs = progs;
	for (i = 0; i < info->prog_cnt && !err; i++) {
		struct bpk_check_prog *cp = &res->progs[res->prog_cnt];

		if (!wanted(opts, info->progs[i].name))
			continue;
		memset(cp, 0, sizeof(*cp));
		cp->failed = -1;
		res->prog_cnt++;
		err = check_prog(ck, &info->progs[i], cp);
	}
out:
	ck->info = NULL;
	bpk_obj_info__free(info);
	return err;
}

static int checker_init(struct checker *ck, const struct bpk_manifest *manifest,
			const struct bpk_check_opts *opts, struct bpk_check_result *res)
{
	struct utsname u;

	memset(ck, 0, sizeof(*ck));
	if (uname(&u))
		return -errno;
	snprintf(res->release, sizeof(res->release), "%s",
		 OPTS_GET(opts, release, NULL) ?: u.release);
	snprintf(res->machine, sizeof(res->machine), "%s",
		 OPTS_GET(opts, machine, NULL) ?: u.machine);
	ck->flags = OPTS_GET(opts, flags, 0);
	ck->release = res->release;
	ck->machine = res->machine;
	ck->btf_path = OPTS_GET(opts, btf_path, NULL);
	ck->btf = access(ck->btf_path ?: VMLINUX_BTF, R_OK) == 0;
	ck->probed = can_probe();
	ck->manifest = manifest;
	if (manifest)
	ck->requires = json_object_get(bpk_manifest_json(manifest), "requires");
	res->btf = ck->btf;
	res->probed = ck->probed;
	if (manifest) {
		res->package = strdup(bpk_manifest__name(manifest));
		res->version = strdup(bpk_manifest__version(manifest));
		if (!res->package || !res->version)
			return -ENOMEM;
	}
	return 0;
}

static void checker_release(struct checker *ck)
{
	btf__free(ck->own_btf);
}

/* Set ok and the overall reason once every program has its answer. */
static int finish(struct bpk_check_result *res, const struct bpk_check_opts *opts)
{
	size_t i;

	if (!res->prog_cnt && (OPTS_GET(opts, program, NULL) || OPTS_GET(opts, object, NULL)))
		return -ENOENT;
	res->ok = true;
	for (i = 0; i < res->prog_cnt; i++) {
		const struct bpk_check_prog *cp = &res->progs[i];

		if (cp->ok)
			continue;
		res->ok = false;
		res->reason =
		    xasprintf("program '%s' (%s): %s", cp->name, cp->object, cp->reason ?: "fails");
		return res->reason ? 0 : -ENOMEM;
	}
	return 0;
}

int bpk_check__object(const void *buf, size_t len, const char *name,
		      const struct bpk_manifest *manifest, const struct bpk_check_opts *opts,
		      struct bpk_check_result **ret_result)
{
	struct bpk_check_result *res;
	struct checker ck;
	int err;

	if ((!buf && len) || !ret_result)
		return -EINVAL;
	res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	err = checker_init(&ck, manifest, opts, res);
	if (!err) {
		ck.buf = buf;
		ck.len = len;
		ck.object = name ?: "object";
		err = check_object(&ck, opts, res);
	}
	err = err ?: finish(res, opts);
	checker_release(&ck);
	if (err) {
		bpk_check_result__free(res);
		return err;
	}
	*ret_result = res;
	return 0;
}

int bpk_check__pkg(const struct bpk_pkg *pkg, const struct bpk_check_opts *opts,
		   struct bpk_check_result **ret_result)
{
	const char *only = OPTS_GET(opts, object, NULL);
	struct bpk_check_result *res;
	struct checker ck;
	size_t i;
	int err;

	if (!pkg || !ret_result)
		return -EINVAL;
	res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	err = checker_init(&ck, bpk_pkg__manifest(pkg), opts, res);
	for (i = 0; !err && i < bpk_pkg__entry_cnt(pkg); i++) {
		const void *data;
		size_t size;
		const char *path = bpk_pkg__entry(pkg, i, &data, &size);

		if (!bpk_path_is_object(path) || (only && strcmp(only, path)))
			continue;
		ck.buf = data;
		ck.len = size;
		ck.object = path;
		err = check_object(&ck, opts, res);
	}
	err = err ?: finish(res, opts);
	checker_release(&ck);
	if (err) {
		bpk_check_result__free(res);
		return err;
	}
	*ret_result = res;
	return 0;
}

int bpk_check__before_load(const void *buf, size_t len, const struct bpk_manifest *manifest,
			   const char *prog_name, const char *field, struct bpk_error *error)
{
	BPK_OPTS(bpk_check_opts, opts, .flags = BPK_CHECK_F_NO_LOAD, .program = prog_name);
	struct bpk_check_result *res = NULL;
	int err;

	err = bpk_check__object(buf, len, "object", manifest, &opts, &res);
	if (err == -EINVAL || err == -ENOENT) {
		bpk_error__set(error, NULL, field, "%s%sprogram '%s' cannot be checked: %s",
			       field ?: "", field ? ": " : "", prog_name ?: "",
			       err == -ENOENT ? "the object has no such program"
					      : "the object cannot be inspected");
		return -ENOEXEC;
	}
	if (err)
		return err;
	if (!res->ok) {
		const struct bpk_check_prog *cp = &res->progs[0];
		size_t i;

		for (i = 0; i < res->prog_cnt; i++)
			if (!res->progs[i].ok) {
				cp = &res->progs[i];
				break;
			}
		err = bpk_error__set(error, NULL, field, "%s%sprogram '%s' cannot run here: %s",
				     field ?: "", field ? ": " : "", cp->name, cp->reason)
			  ?: -EOPNOTSUPP;
	}
	bpk_check_result__free(res);
	return err;
}

const char *bpk_check_result__reason(const struct bpk_check_result *result)
{
	return result ? result->reason : NULL;
}

void bpk_check_result__free(struct bpk_check_result *result)
{
	size_t i;
	int j;

	if (!result)
		return;
	for (i = 0; i < result->prog_cnt; i++) {
		struct bpk_check_prog *cp = &result->progs[i];

		free(cp->object);
		free(cp->name);
		free(cp->type);
		for (j = 0; j < BPK_CHECK_CNT; j++)
			free(cp->items[j].detail);
	}
	free(result->progs);
	free(result->package);
	free(result->version);
	free(result->reason);
	free(result);
}

/* ---- JSON ---- */

static json_t *prog_json(const struct bpk_check_prog *cp)
{
	json_t *checks = json_object(), *o;
	int i;

	if (!checks)
		return NULL;
	for (i = 0; i < BPK_CHECK_CNT; i++) {
		const struct bpk_check_item *it = &cp->items[i];

		if (json_object_set_new(checks, check_names[i],
					json_pack("{s:s, s:s}", "status",
						  bpk_check_status__name(it->status), "detail",
						  it->detail ?: ""))) {
			json_decref(checks);
			return NULL;
		}
	}
	o = json_pack("{s:s, s:s, s:s, s:b, s:s?, s:s?, s:o}", "object", cp->object, "name",
		      cp->name, "type", cp->type, "ok", cp->ok, "failed",
		      cp->failed >= 0 ? check_names[cp->failed] : NULL, "reason", cp->reason,
		      "checks", checks);
	return o;
}

char *bpk_check_result__to_json(const struct bpk_check_result *result)
{
	_cleanup_json_ json_t *root = NULL;
	json_t *progs;
	char *text;
	size_t i;

	if (!result) {
		errno = EINVAL;
		return NULL;
	}
	progs = json_array();
	for (i = 0; progs && i < result->prog_cnt; i++)
		if (json_array_append_new(progs, prog_json(&result->progs[i]))) {
			json_decref(progs);
			progs = NULL;
		}
	if (!progs)
		goto enomem;
	root = json_pack("{s:b, s:s?, s:s?, s:{s:s, s:s, s:b, s:b}, s:s?, s:o}", "ok", result->ok,
			 "package", result->package, "version", result->version, "host", "release",
			 result->release, "machine", result->machine, "btf", result->btf, "probed",
			 result->probed, "reason", result->reason, "programs", progs);
	if (!root)
		goto enomem;
	text = bpk_json_dump(root, NULL);
	if (!text)
		goto enomem;
	return text;
enomem:
	errno = ENOMEM;
	return NULL;
}

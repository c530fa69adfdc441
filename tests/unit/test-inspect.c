// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of bytecode inspection (lib/inspect.c) and the helper tables (lib/helpers.c). */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>
#include <linux/bpf.h>
#include <openssl/sha.h>

#include <bpk/bpk.h>

#include "util.h"

#define XDP_TOOLS_DIR "/usr/lib/x86_64-linux-gnu/bpf"

static char *test_object_path(const char *file)
{
	const char *dir = getenv("BPK_TEST_BPF_DIR");
	char *path;

	assert_non_null(dir);
	path = path_join(dir, file);
	assert_non_null(path);
	return path;
}

static void read_whole(const char *path, char **data, size_t *len)
{
	assert_int_equal(read_file(path, 64 << 20, data, len), 0);
}

/* Inspect one of the objects of tests/bpf, insisting that it succeeds without errors. */
static struct bpk_obj_info *inspect_ok(const char *file, struct bpk_diags *diags)
{
	_cleanup_free_ char *path = test_object_path(file);
	struct bpk_obj_info *info = bpk_obj_info__inspect_file(path, diags);

	if (!info)
		fail_msg("cannot inspect %s: %s (%s)", path, strerror(errno),
			 diags->cnt ? diags->items[0].message : "no diagnostic");
	return info;
}

static struct bpk_obj_info *inspect_clean(const char *file)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_obj_info *info = inspect_ok(file, &diags);

	if (diags.cnt)
		fail_msg("%s: unexpected %s %s", file, diags.items[0].id, diags.items[0].message);
	bpk_diags__release(&diags);
	return info;
}

static const struct bpk_prog_report *find_prog(const struct bpk_obj_info *info, const char *name)
{
	size_t i;

	for (i = 0; i < info->prog_cnt; i++)
		if (!strcmp(info->progs[i].name, name))
			return &info->progs[i];
	fail_msg("no program '%s'", name);
	return NULL;
}

static const struct bpk_map_report *find_map(const struct bpk_obj_info *info, const char *name)
{
	size_t i;

	for (i = 0; i < info->map_cnt; i++)
		if (!strcmp(info->maps[i].name, name))
			return &info->maps[i];
	fail_msg("no map '%s'", name);
	return NULL;
}

/* v must hold exactly the NULL-terminated list expected, in that order. */
static void assert_strv(char *const *v, size_t cnt, const char *const *expected)
{
	size_t i;

	for (i = 0; expected[i]; i++) {
		if (i >= cnt)
			fail_msg("missing '%s' (only %zu entries)", expected[i], cnt);
		assert_string_equal(v[i], expected[i]);
	}
	if (cnt != i)
		fail_msg("%zu entries, expected %zu; first extra is '%s'", cnt, i, v[i]);
}

#define STRV(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

static void assert_map(const struct bpk_obj_info *info, const char *name, const char *type,
		       uint32_t key_size, uint32_t value_size, uint32_t max_entries,
		       const char *pinning, bool internal)
{
	const struct bpk_map_report *m = find_map(info, name);

	assert_string_equal(m->type, type);
	assert_int_equal(m->key_size, key_size);
	assert_int_equal(m->value_size, value_size);
	assert_int_equal(m->max_entries, max_entries);
	assert_string_equal(m->pinning, pinning);
	assert_int_equal(m->internal, internal);
}

static void test_xdp_counter(void **state)
{
	struct bpk_obj_info *info = inspect_clean("xdp_counter.o");
	const struct bpk_prog_report *p;

	assert_string_equal(info->license, "GPL");
	assert_true(info->has_btf);
	assert_true(info->has_btf_ext);
	assert_int_equal(info->core_relo_cnt, 0);
	assert_int_equal(info->prog_cnt, 1);
	p = find_prog(info, "xdp_count");
	assert_string_equal(p->section, "xdp");
	assert_string_equal(p->type, "xdp");
	assert_int_equal(p->prog_type, BPF_PROG_TYPE_XDP);
	assert_string_equal(p->attach_type, "xdp");
	assert_string_equal(p->attach, "xdp");
	assert_string_equal(p->chain, "none");
	/* bpf_ktime_get_ns and last_seen are only used by stamp(), a subprogram in .text. */
	assert_strv(p->helpers, p->helper_cnt,
		    STRV("bpf_ktime_get_ns", "bpf_map_lookup_elem", "bpf_map_update_elem"));
	assert_int_equal(p->helper_ids[0], BPF_FUNC_ktime_get_ns);
	assert_int_equal(p->helper_ids[1], BPF_FUNC_map_lookup_elem);
	assert_int_equal(p->helper_ids[2], BPF_FUNC_map_update_elem);
	assert_strv(p->maps, p->map_cnt, STRV("last_seen", "pkts_by_len"));
	assert_int_equal(p->kfunc_cnt, 0);
	assert_false(p->tail_calls);
	assert_true(p->insn_cnt > 0);
	assert_true(p->subprog_insn_cnt > 0);
	assert_int_equal(p->core_relo_cnt, 0);
	assert_int_equal(info->map_cnt, 2);
	assert_map(info, "pkts_by_len", "hash", 4, 8, 1024, "none", false);
	assert_map(info, "last_seen", "percpu_array", 4, 8, 4, "none", false);
	bpk_obj_info__free(info);
}

static void test_tail_call(void **state)
{
	struct bpk_obj_info *info = inspect_clean("xdp_tailcall.o");
	const struct bpk_prog_report *root = find_prog(info, "xdp_root");
	const struct bpk_prog_report *drop = find_prog(info, "xdp_drop_all");

	assert_int_equal(info->prog_cnt, 2);
	assert_true(root->tail_calls);
	assert_string_equal(root->chain, "tailcall");
	assert_strv(root->helpers, root->helper_cnt, STRV("bpf_tail_call"));
	assert_int_equal(root->helper_ids[0], BPF_FUNC_tail_call);
	assert_strv(root->maps, root->map_cnt, STRV("jmp_table"));
	assert_int_equal(root->subprog_insn_cnt, 0);
	assert_false(drop->tail_calls);
	assert_string_equal(drop->chain, "none");
	assert_int_equal(drop->helper_cnt, 0);
	assert_int_equal(drop->map_cnt, 0);
	assert_int_equal(drop->insn_cnt, 2);
	assert_map(info, "jmp_table", "prog_array", 4, 4, 8, "none", false);
	bpk_obj_info__free(info);
}

static void test_tc(void **state)
{
	struct bpk_obj_info *info = inspect_clean("tc_classifier.o");
	const struct bpk_prog_report *p = find_prog(info, "tc_mark_ipv6");

	assert_string_equal(info->license, "Dual BSD/GPL");
	assert_string_equal(p->section, "tc");
	assert_string_equal(p->type, "sched_cls");
	assert_null(p->attach_type);
	assert_string_equal(p->attach, "tc");
	assert_string_equal(p->chain, "tcx");
	assert_strv(p->helpers, p->helper_cnt, STRV("bpf_skb_load_bytes"));
	assert_int_equal(p->map_cnt, 0);
	assert_int_equal(info->map_cnt, 0);
	assert_int_equal(p->core_relo_cnt, 0);
	bpk_obj_info__free(info);
}

static void test_tracepoint_core(void **state)
{
	struct bpk_obj_info *info = inspect_clean("tracepoint_core.o");
	const struct bpk_prog_report *p = find_prog(info, "trace_openat");

	assert_string_equal(p->section, "tracepoint/syscalls/sys_enter_openat");
	assert_string_equal(p->type, "tracepoint");
	assert_null(p->attach_type);
	assert_string_equal(p->attach, "tracepoint");
	assert_string_equal(p->chain, "none");
	assert_strv(p->helpers, p->helper_cnt,
		    STRV("bpf_get_current_task", "bpf_probe_read_kernel", "bpf_ringbuf_output"));
	assert_strv(p->maps, p->map_cnt, STRV("events"));
	/* task->pid and task->tgid: two field-offset relocations. */
	assert_true(info->has_btf_ext);
	assert_int_equal(info->core_relo_cnt, 2);
	assert_int_equal(p->core_relo_cnt, 2);
	assert_map(info, "events", "ringbuf", 0, 0, 4096, "none", false);
	bpk_obj_info__free(info);
}

static void test_kprobe_core(void **state)
{
	struct bpk_obj_info *info = inspect_clean("kprobe_core.o");
	const struct bpk_prog_report *entry = find_prog(info, "probe_unlinkat");
	const struct bpk_prog_report *ret = find_prog(info, "probe_unlinkat_ret");

	assert_string_equal(entry->type, "kprobe");
	assert_string_equal(entry->attach, "kprobe");
	assert_null(entry->attach_type);
	assert_string_equal(ret->type, "kprobe");
	assert_string_equal(ret->attach, "kretprobe");
	assert_strv(entry->helpers, entry->helper_cnt,
		    STRV("bpf_probe_read_kernel", "bpf_probe_read_kernel_str"));
	assert_int_equal(ret->helper_cnt, 0);
	assert_true(entry->core_relo_cnt > 0);
	assert_true(ret->core_relo_cnt > 0);
	/* Each relocation belongs to exactly one of the two programs. */
	assert_int_equal(entry->core_relo_cnt + ret->core_relo_cnt, info->core_relo_cnt);
	bpk_obj_info__free(info);
}

static void test_cgroup_skb(void **state)
{
	struct bpk_obj_info *info = inspect_clean("cgroup_skb.o");
	const struct bpk_prog_report *p = find_prog(info, "count_ingress");

	assert_string_equal(p->type, "cgroup_skb");
	assert_int_equal(p->expected_attach_type, BPF_CGROUP_INET_INGRESS);
	assert_string_equal(p->attach_type, "cgroup_inet_ingress");
	assert_string_equal(p->attach, "cgroup_inet_ingress");
	assert_strv(p->maps, p->map_cnt, STRV("ingress_bytes"));
	bpk_obj_info__free(info);
}

static void test_shared_map(void **state)
{
	struct bpk_obj_info *info = inspect_clean("shared_map.o");
	const struct bpk_prog_report *xdp = find_prog(info, "xdp_hits");
	const struct bpk_prog_report *tc = find_prog(info, "tc_hits");

	/* libbpf names the .rodata map after the first 8 characters of the object name. */
	assert_strv(xdp->maps, xdp->map_cnt, STRV("hits", "shared_m.rodata"));
	assert_strv(tc->maps, tc->map_cnt, STRV("hits"));
	assert_string_equal(xdp->attach, "xdp");
	assert_string_equal(tc->attach, "tc");
	assert_int_equal(info->map_cnt, 2);
	assert_map(info, "hits", "array", 4, 8, 2, "none", false);
	assert_map(info, "shared_m.rodata", "array", 4, 4, 1, "none", true);
	bpk_obj_info__free(info);
}

static void test_kfunc(void **state)
{
	struct bpk_obj_info *info = inspect_clean("kfunc_call.o");
	const struct bpk_prog_report *p = find_prog(info, "on_newtask");

	assert_string_equal(p->section, "tp_btf/task_newtask");
	assert_string_equal(p->type, "tracing");
	assert_string_equal(p->attach_type, "trace_raw_tp");
	assert_strv(p->kfuncs, p->kfunc_cnt, STRV("bpf_task_acquire", "bpf_task_release"));
	assert_int_equal(p->helper_cnt, 0);
	assert_int_equal(p->subprog_insn_cnt, 0);
	bpk_obj_info__free(info);
}

static void test_proprietary_printk(void **state)
{
	struct bpk_obj_info *info = inspect_clean("proprietary_printk.o");
	const struct bpk_prog_report *p = find_prog(info, "xdp_log");

	assert_string_equal(info->license, "Proprietary");
	assert_strv(p->helpers, p->helper_cnt, STRV("bpf_trace_printk"));
	assert_true(bpk_helper__gpl_only(p->helper_ids[0]));
	/* The format string lives in .rodata, which libbpf turns into a map. */
	assert_strv(p->maps, p->map_cnt, STRV("propriet.rodata"));
	assert_true(find_map(info, "propriet.rodata")->internal);
	bpk_obj_info__free(info);
}

static void test_bogus_section(void **state)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_obj_info *info = inspect_ok("bogus_section.o", &diags);
	const struct bpk_prog_report *p = find_prog(info, "mystery");

	assert_int_equal(diags.cnt, 1);
	assert_string_equal(diags.items[0].id, "E011");
	assert_string_equal(diags.items[0].name, "unknown-section");
	assert_non_null(strstr(diags.items[0].message, "'mystery'"));
	assert_non_null(strstr(diags.items[0].message, "'bogus/thing'"));
	assert_string_equal(p->type, "unspec");
	assert_int_equal(p->prog_type, BPF_PROG_TYPE_UNSPEC);
	assert_null(p->attach_type);
	assert_string_equal(find_prog(info, "xdp_fine")->type, "xdp");
	bpk_obj_info__free(info);
	bpk_diags__release(&diags);
}

static void test_pinned_map(void **state)
{
	struct bpk_obj_info *info = inspect_clean("pinned_map.o");

	assert_map(info, "blocklist", "lru_hash", 4, 4, 256, "by_name", false);
	assert_map(info, "drops", "array", 4, 8, 1, "none", false);
	bpk_obj_info__free(info);
}

static void test_loop_callback(void **state)
{
	struct bpk_obj_info *info = inspect_clean("loop_callback.o");
	const struct bpk_prog_report *p = find_prog(info, "xdp_loop");

	/* bpf_get_prandom_u32 is called only by the callback given to bpf_loop. */
	assert_strv(p->helpers, p->helper_cnt, STRV("bpf_get_prandom_u32", "bpf_loop"));
	assert_true(p->subprog_insn_cnt > 0);
	bpk_obj_info__free(info);
}

static void test_map_in_map(void **state)
{
	struct bpk_obj_info *info = inspect_clean("map_in_map.o");
	const struct bpk_prog_report *outer = find_prog(info, "xdp_outer");
	const struct bpk_prog_report *next = find_prog(info, "xdp_next");

	/* Inner maps are reached at run time through outer, not named by the code. */
	assert_strv(outer->maps, outer->map_cnt, STRV("next_progs", "outer"));
	assert_true(outer->tail_calls);
	/*
	 * .bss and the Kconfig extern are libbpf's internal maps, named after the object: as many
	 * of its first characters as fit in 15 with a suffix of at least 7.
	 */
	assert_strv(next->maps, next->map_cnt, STRV("map_in_.kconfig", "map_in_m.bss"));
	assert_int_equal(next->helper_cnt, 0);
	assert_map(info, "outer", "array_of_maps", 4, 4, 2, "none", false);
	assert_map(info, "next_progs", "prog_array", 4, 4, 2, "none", false);
	assert_map(info, "inner_a", "array", 4, 4, 1, "none", false);
	assert_true(find_map(info, "map_in_m.bss")->internal);
	assert_true(find_map(info, "map_in_.kconfig")->internal);
	bpk_obj_info__free(info);
}

/* A helper number this bpk does not know is reported by number, not dropped. */
static void test_unknown_helper(void **state)
{
	static const unsigned char call_skb_load_bytes[8] = { 0x85, 0, 0, 0, 26, 0, 0, 0 };
	_cleanup_free_ char *path = test_object_path("tc_classifier.o");
	_cleanup_free_ char *data = NULL;
	struct bpk_obj_info *info;
	char *call;
	size_t len;

	read_whole(path, &data, &len);
	call = memmem(data, len, call_skb_load_bytes, sizeof(call_skb_load_bytes));
	assert_non_null(call);
	assert_null(memmem(call + 1, len - (size_t)(call + 1 - data), call_skb_load_bytes,
			   sizeof(call_skb_load_bytes)));
	call[4] = 0x92;	/* imm = 4242 */
	call[5] = 0x10;
	info = bpk_obj_info__inspect_mem(data, len, "tc_classifier.o", NULL);
	assert_non_null(info);
	assert_strv(info->progs[0].helpers, info->progs[0].helper_cnt, STRV("helper#4242"));
	assert_int_equal(info->progs[0].helper_ids[0], 4242);
	bpk_obj_info__free(info);
}

static void test_sha256_and_size(void **state)
{
	_cleanup_free_ char *path = test_object_path("xdp_counter.o");
	_cleanup_free_ char *data = NULL;
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[65];
	struct bpk_obj_info *info;
	size_t len, i;

	read_whole(path, &data, &len);
	/* Computed apart from the library, with OpenSSL's one-shot function. */
	SHA256((const unsigned char *)data, len, md);
	for (i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	info = bpk_obj_info__inspect_mem(data, len, "xdp_counter.o", NULL);
	assert_non_null(info);
	assert_string_equal(info->sha256, hex);
	assert_int_equal(info->size, len);
	bpk_obj_info__free(info);
}

/* Inspecting bytes must fail with EINVAL and one E012 whose message contains reason. */
static void assert_bad_object(const void *buf, size_t len, const char *reason)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_obj_info *info;

	errno = 0;
	info = bpk_obj_info__inspect_mem(buf, len, "thing.o", &diags);
	assert_null(info);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(diags.cnt, 1);
	assert_string_equal(diags.items[0].id, "E012");
	assert_string_equal(diags.items[0].where, "thing.o");
	if (!strstr(diags.items[0].message, reason))
		fail_msg("message '%s' lacks '%s'", diags.items[0].message, reason);
	bpk_diags__release(&diags);
}

static void test_not_elf(void **state)
{
	static const char text[] = "#!/bin/sh\necho this is not an object\n";

	assert_bad_object(text, sizeof(text), "not an ELF file");
	assert_bad_object("", 0, "not an ELF file");
	assert_bad_object("\177ELF", 4, "not an ELF file");
}

static void test_wrong_machine(void **state)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (access("/bin/true", R_OK)) {
		printf("skipped: /bin/true is not readable here\n");
		skip();
	}
	read_whole("/bin/true", &data, &len);
	assert_bad_object(data, len, "e_machine is 62 (x86-64), not EM_BPF (247)");
}

static void test_wrong_class_and_endianness(void **state)
{
	_cleanup_free_ char *path = test_object_path("xdp_tailcall.o");
	_cleanup_free_ char *data = NULL;
	size_t len;

	read_whole(path, &data, &len);
	data[EI_DATA] = ELFDATA2MSB;
	assert_bad_object(data, len, "big-endian objects are not supported");
	data[EI_DATA] = ELFDATA2LSB;
	data[EI_CLASS] = ELFCLASS32;
	assert_bad_object(data, len, "32-bit ELF objects are not supported");
	data[EI_CLASS] = ELFCLASS64;
	data[16] = ET_EXEC;	/* e_type, little-endian u16 */
	assert_bad_object(data, len, "not a relocatable object");
}

/* Either a clean failure (NULL, EINVAL, an E012) or a report: never a crash or a leak. */
static void inspect_any(const void *buf, size_t len, size_t *failures)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_obj_info *info;
	char *json;

	info = bpk_obj_info__inspect_mem(buf, len, "mangled.o", &diags);
	if (!info) {
		assert_int_equal(errno, EINVAL);
		assert_non_null(bpk_diags__first_error(&diags));
		assert_string_equal(bpk_diags__first_error(&diags)->id, "E012");
		(*failures)++;
	} else {
		json = bpk_obj_info__to_json(info);
		assert_non_null(json);
		free(json);
	}
	bpk_obj_info__free(info);
	bpk_diags__release(&diags);
}

static void test_every_truncation(void **state)
{
	_cleanup_free_ char *path = test_object_path("xdp_tailcall.o");
	_cleanup_free_ char *data = NULL;
	size_t len, cut, failures = 0;

	read_whole(path, &data, &len);
	for (cut = 0; cut < len; cut++) {
		/* A heap copy of exactly cut bytes, so ASan sees any read past the end. */
		char *prefix = malloc(cut ?: 1);

		assert_non_null(prefix);
		memcpy(prefix, data, cut);
		inspect_any(prefix, cut, &failures);
		free(prefix);
	}
	/* Section headers sit at the end: every proper prefix loses some of them. */
	assert_int_equal(failures, len);
	assert_bad_object(data, len / 2, "truncated");
}

static void test_every_byte_flipped(void **state)
{
	_cleanup_free_ char *path = test_object_path("xdp_counter.o");
	_cleanup_free_ char *data = NULL;
	size_t len, i, failures = 0;

	read_whole(path, &data, &len);
	for (i = 0; i < len; i++) {
		data[i] ^= 0xff;
		inspect_any(data, len, &failures);
		data[i] ^= 0xff;
	}
	assert_true(failures > 0 && failures < len);
}

static char *corpus_path(const char *file)
{
	const char *src = getenv("BPK_TEST_SRCDIR");
	char *dir, *path;

	assert_non_null(src);
	dir = path_join(src, "../fuzz/corpus/inspect");
	assert_non_null(dir);
	path = file ? path_join(dir, file) : strdup(dir);
	assert_non_null(path);
	free(dir);
	return path;
}

/* Inputs that crashed libbpf 1.1 under the fuzzer; inspection must refuse them first. */
static void test_fuzzer_crashes(void **state)
{
	static const struct {
		const char *file;
		const char *reason;
	} crashes[] = {
		{ "crash-exec-null-section.o", "section 0 is not the null section" },
		{ "crash-symbol-reserved-shndx.o", "refers to section 65530, which does not exist" },
		{ "corrupt-btf-type.o", "BTF type 13 refers to type 4294967294" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(crashes); i++) {
		_cleanup_free_ char *path = corpus_path(crashes[i].file);
		_cleanup_free_ char *data = NULL;
		size_t len;

		read_whole(path, &data, &len);
		assert_bad_object(data, len, crashes[i].reason);
	}
}

/* The whole seed corpus, as the fuzzer's replay does, but under the unit test's eyes. */
static void test_fuzz_corpus(void **state)
{
	_cleanup_free_ char *dir_path = corpus_path(NULL);
	size_t failures = 0, seen = 0;
	struct dirent *de;
	DIR *dir;

	dir = opendir(dir_path);
	assert_non_null(dir);
	while ((de = readdir(dir))) {
		_cleanup_free_ char *path = NULL, *data = NULL;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		path = path_join(dir_path, de->d_name);
		assert_non_null(path);
		read_whole(path, &data, &len);
		inspect_any(data, len, &failures);
		seen++;
	}
	closedir(dir);
	assert_true(seen > 0);
}

static void test_missing_file(void **state)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;

	errno = 0;
	assert_null(bpk_obj_info__inspect_file("/nonexistent/thing.o", &diags));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(diags.cnt, 1);
	assert_string_equal(diags.items[0].id, "E012");
	bpk_diags__release(&diags);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t sl = strlen(s), xl = strlen(suffix);

	return sl >= xl && !strcmp(s + sl - xl, suffix);
}

/* Debian's xdp-tools objects: built by others, with clang, and all must inspect cleanly. */
static void test_xdp_tools_objects(void **state)
{
	struct dirent *de;
	size_t seen = 0;
	DIR *dir;

	dir = opendir(XDP_TOOLS_DIR);
	if (!dir) {
		printf("skipped: %s is absent (install xdp-tools to run this test)\n",
		       XDP_TOOLS_DIR);
		skip();
	}
	while ((de = readdir(dir))) {
		struct bpk_diags diags = BPK_DIAGS_INIT;
		struct bpk_obj_info *info;
		char *path, *json;
		size_t i;

		if (!has_suffix(de->d_name, ".o"))
			continue;
		path = path_join(XDP_TOOLS_DIR, de->d_name);
		assert_non_null(path);
		info = bpk_obj_info__inspect_file(path, &diags);
		if (!info || diags.cnt)
			fail_msg("%s: %s", path,
				 diags.cnt ? diags.items[0].message : strerror(errno));
		assert_true(info->prog_cnt > 0);
		assert_true(info->has_btf);
		assert_string_equal(info->license, "GPL");
		for (i = 0; i < info->prog_cnt; i++) {
			assert_string_not_equal(info->progs[i].type, "unspec");
			assert_true(info->progs[i].insn_cnt > 0);
		}
		json = bpk_obj_info__to_json(info);
		assert_non_null(json);
		free(json);
		bpk_obj_info__free(info);
		free(path);
		seen++;
	}
	closedir(dir);
	if (!seen) {
		printf("skipped: no .o files in %s\n", XDP_TOOLS_DIR);
		skip();
	}
}

/*
 * Facts checked by hand with llvm-objdump -dr, readelf -s and bpftool btf dump:
 * xdp_dispatcher is 1184 bytes (148 insns) in section xdp and calls the global functions
 * prog0..prog9 and compat_test in .text, 48 bytes (6 insns) each, through R_BPF_64_32
 * relocations; it reads its configuration from .rodata and calls no helper. xdp_pass is 16
 * bytes. xdpfilt_alw_all is 3496 bytes (437 insns), its only call is "call 1", and its five
 * maps are declared with LIBBPF_PIN_BY_NAME.
 */
static void test_xdp_tools_known_facts(void **state)
{
	struct bpk_obj_info *info;
	const struct bpk_prog_report *p;
	size_t i;

	if (access(XDP_TOOLS_DIR "/xdp-dispatcher.o", R_OK) ||
	    access(XDP_TOOLS_DIR "/xdpfilt_alw_all.o", R_OK)) {
		printf("skipped: xdp-tools' xdp-dispatcher.o or xdpfilt_alw_all.o is absent\n");
		skip();
	}
	info = bpk_obj_info__inspect_file(XDP_TOOLS_DIR "/xdp-dispatcher.o", NULL);
	assert_non_null(info);
	assert_int_equal(info->prog_cnt, 2);
	p = find_prog(info, "xdp_dispatcher");
	assert_string_equal(p->section, "xdp");
	assert_int_equal(p->insn_cnt, 148);
	assert_int_equal(p->subprog_insn_cnt, 11 * 6);
	assert_int_equal(p->helper_cnt, 0);
	assert_strv(p->maps, p->map_cnt, STRV("xdp_disp.rodata"));
	assert_int_equal(find_prog(info, "xdp_pass")->insn_cnt, 2);
	assert_int_equal(find_prog(info, "xdp_pass")->subprog_insn_cnt, 0);
	assert_true(find_map(info, "xdp_disp.rodata")->internal);
	bpk_obj_info__free(info);

	info = bpk_obj_info__inspect_file(XDP_TOOLS_DIR "/xdpfilt_alw_all.o", NULL);
	assert_non_null(info);
	assert_int_equal(info->prog_cnt, 1);
	p = &info->progs[0];
	assert_string_equal(p->name, "xdpfilt_alw_all");
	assert_string_equal(p->type, "xdp");
	assert_int_equal(p->insn_cnt, 437);
	assert_strv(p->helpers, p->helper_cnt, STRV("bpf_map_lookup_elem"));
	assert_strv(p->maps, p->map_cnt,
		    STRV("filter_ethernet", "filter_ipv4", "filter_ipv6", "filter_ports",
			 "xdp_stats_map"));
	assert_int_equal(info->map_cnt, 5);
	for (i = 0; i < info->map_cnt; i++)
		assert_string_equal(info->maps[i].pinning, "by_name");
	assert_map(info, "filter_ports", "percpu_array", 4, 8, 65536, "by_name", false);
	bpk_obj_info__free(info);
}

static void assert_keys(json_t *o, const char *const *keys)
{
	void *iter = json_object_iter(o);
	size_t i;

	for (i = 0; keys[i]; i++, iter = json_object_iter_next(o, iter)) {
		assert_non_null(iter);
		assert_string_equal(json_object_iter_key(iter), keys[i]);
	}
	assert_null(iter);
}

static void test_json(void **state)
{
	struct bpk_obj_info *info = inspect_clean("shared_map.o");
	char *text = bpk_obj_info__to_json(info);
	json_error_t error;
	json_t *root, *progs, *tc = NULL;
	size_t i;

	assert_non_null(text);
	assert_int_equal(text[strlen(text) - 1], '\n');
	root = json_loads(text, 0, &error);
	if (!root)
		fail_msg("invalid JSON: %s", error.text);
	assert_keys(root, STRV("sha256", "size", "license", "btf", "btf_ext", "core_relos",
			       "programs", "maps"));
	assert_string_equal(json_string_value(json_object_get(root, "sha256")), info->sha256);
	assert_int_equal(json_integer_value(json_object_get(root, "size")), info->size);
	assert_string_equal(json_string_value(json_object_get(root, "license")), "GPL");
	assert_true(json_is_true(json_object_get(root, "btf")));
	progs = json_object_get(root, "programs");
	assert_int_equal(json_array_size(progs), 2);
	for (i = 0; i < json_array_size(progs); i++) {
		json_t *p = json_array_get(progs, i);

		assert_keys(p, STRV("name", "section", "type", "attach_type", "attach", "chain",
				    "insns", "subprog_insns", "helpers", "kfuncs", "tail_calls",
				    "maps", "core_relos", "capabilities"));
		if (!strcmp(json_string_value(json_object_get(p, "name")), "tc_hits"))
			tc = p;
	}
	assert_non_null(tc);
	assert_true(json_is_null(json_object_get(tc, "attach_type")));
	assert_string_equal(json_string_value(json_object_get(tc, "chain")), "tcx");
	assert_string_equal(json_string_value(json_array_get(json_object_get(tc, "helpers"), 0)),
			    "bpf_map_lookup_elem");
	assert_keys(json_array_get(json_object_get(root, "maps"), 0),
		    STRV("name", "type", "key_size", "value_size", "max_entries", "pinning",
			 "internal"));
	json_decref(root);
	free(text);
	bpk_obj_info__free(info);
}

/* The spelled-out name table must agree with the UAPI header it was generated from. */
#define UAPI_NAME(x) [BPF_FUNC_##x] = "bpf_" #x
static const char *const uapi_names[] = { __BPF_FUNC_MAPPER(UAPI_NAME) };

static void test_helper_names(void **state)
{
	size_t i;

	for (i = 1; i < ARRAY_SIZE(uapi_names); i++)
		assert_string_equal(bpk_helper__name((int)i), uapi_names[i]);
	assert_string_equal(bpk_helper__name(BPF_FUNC_map_lookup_elem), "bpf_map_lookup_elem");
	assert_string_equal(bpk_helper__name(209), "bpf_user_ringbuf_drain");
	assert_string_equal(bpk_helper__name(210), "bpf_cgrp_storage_get");
	assert_string_equal(bpk_helper__name(211), "bpf_cgrp_storage_delete");
	assert_null(bpk_helper__name(0));
	assert_null(bpk_helper__name(-1));
	assert_null(bpk_helper__name(212));
	assert_null(bpk_helper__name(1 << 30));
}

static void test_helper_flags(void **state)
{
	assert_true(bpk_helper__gpl_only(BPF_FUNC_trace_printk));
	assert_true(bpk_helper__gpl_only(BPF_FUNC_probe_read_kernel));
	assert_true(bpk_helper__gpl_only(BPF_FUNC_perf_event_output));
	assert_true(bpk_helper__gpl_only(BPF_FUNC_get_current_task));
	assert_false(bpk_helper__gpl_only(BPF_FUNC_map_lookup_elem));
	assert_false(bpk_helper__gpl_only(BPF_FUNC_tail_call));
	assert_false(bpk_helper__gpl_only(BPF_FUNC_copy_from_user));
	assert_false(bpk_helper__gpl_only(0));
	assert_false(bpk_helper__gpl_only(100000));
	assert_true(bpk_helper__on_windows("bpf_map_lookup_elem"));
	assert_true(bpk_helper__on_windows("bpf_tail_call"));
	assert_false(bpk_helper__on_windows("bpf_probe_read_kernel"));
	assert_false(bpk_helper__on_windows("bpf_skb_load_bytes"));
	assert_false(bpk_helper__on_windows(NULL));
	assert_true(bpk_prog_type__on_windows("xdp"));
	assert_true(bpk_prog_type__on_windows("cgroup_sock_addr"));
	assert_true(bpk_prog_type__on_windows("bind"));
	assert_false(bpk_prog_type__on_windows("kprobe"));
	assert_false(bpk_prog_type__on_windows("sched_cls"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xdp_counter),
		cmocka_unit_test(test_tail_call),
		cmocka_unit_test(test_tc),
		cmocka_unit_test(test_tracepoint_core),
		cmocka_unit_test(test_kprobe_core),
		cmocka_unit_test(test_cgroup_skb),
		cmocka_unit_test(test_shared_map),
		cmocka_unit_test(test_kfunc),
		cmocka_unit_test(test_proprietary_printk),
		cmocka_unit_test(test_bogus_section),
		cmocka_unit_test(test_pinned_map),
		cmocka_unit_test(test_loop_callback),
		cmocka_unit_test(test_map_in_map),
		cmocka_unit_test(test_unknown_helper),
		cmocka_unit_test(test_sha256_and_size),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_wrong_machine),
		cmocka_unit_test(test_wrong_class_and_endianness),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_every_byte_flipped),
		cmocka_unit_test(test_fuzzer_crashes),
		cmocka_unit_test(test_fuzz_corpus),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_xdp_tools_objects),
		cmocka_unit_test(test_xdp_tools_known_facts),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_helper_names),
		cmocka_unit_test(test_helper_flags),
	};

	/* libbpk's warnings would only repeat what the assertions check. */
	bpk_set_print(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

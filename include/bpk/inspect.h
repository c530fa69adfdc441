/* SPDX-License-Identifier: BSD-2-Clause */
/* Bytecode inspection: what a BPF ELF object contains, derived from its bytes alone. */
#ifndef BPK_INSPECT_H
#define BPK_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpk/diag.h>

/*
 * The report is plain data, read-only for callers; all strings are owned by the report and
 * freed with it. Names of types are libbpf's ("xdp", "sched_cls", "hash", "percpu_array").
 */
struct bpk_prog_report {
	char *name;		/* function name */
	char *section;		/* ELF section, e.g. "xdp" or "tc" */
	char *type;		/* program type from libbpf's section rules, e.g. "xdp" */
	char *attach_type;	/* expected attach type ("cgroup_inet_ingress"), or NULL */
	char *attach;		/* hook bpk attaches to: "xdp", "tc", "tracepoint", ... */
	char *chain;		/* "tailcall" (cooperates by tail calls), "tcx" or "none" */
	int prog_type;		/* enum bpf_prog_type */
	int expected_attach_type; /* enum bpf_attach_type */
	uint32_t insn_cnt;	/* instructions of the program itself, without subprograms */
	uint32_t subprog_insn_cnt; /* instructions of the subprograms it calls */
	char **helpers;		/* sorted, unique; "bpf_map_lookup_elem" or "helper#N" */
	int *helper_ids;	/* the same helpers by number */
	size_t helper_cnt;
	char **kfuncs;		/* sorted, unique */
	size_t kfunc_cnt;
	char **maps;		/* maps it references, sorted, unique */
	size_t map_cnt;
	bool tail_calls;
	uint32_t core_relo_cnt;	/* CO-RE relocations in this program and its subprograms */
};

struct bpk_map_report {
	char *name;
	char *type;		/* "hash", "array", "prog_array", ... */
	int map_type;		/* enum bpf_map_type */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	char *pinning;		/* "none" or "by_name" */
	bool internal;		/* libbpf's .rodata/.data/.bss/.kconfig maps */
};

struct bpk_obj_info {
	char sha256[65];	/* of the ELF bytes */
	uint64_t size;
	char *license;		/* the "license" section, or NULL */
	bool has_btf;
	bool has_btf_ext;
	uint32_t core_relo_cnt;
	size_t prog_cnt;
	struct bpk_prog_report *progs;
	size_t map_cnt;
	struct bpk_map_report *maps;
};

/*
 * Inspect a BPF ELF object held in memory. name is used in messages and as the where of
 * diagnostics; libbpf's object name is derived from it as bpf_object__open_file() derives it
 * from a path (the base name up to its first dot), so internal maps are named as a loader of
 * that file will name them ("xdp_disp.rodata"). Problems are appended to diags as E012 bad-object (with the reason) or E011
 * unknown-section. Returns the report, owned by the caller, or NULL with errno set: EINVAL
 * for bytes that are not a readable little-endian EM_BPF ELF, ENOMEM.
 * Never loads anything into the kernel; needs no privileges.
 */
struct bpk_obj_info *bpk_obj_info__inspect_mem(const void *buf, size_t len, const char *name,
					       struct bpk_diags *diags);
/* The same for a file (at most 64 MiB). */
struct bpk_obj_info *bpk_obj_info__inspect_file(const char *path, struct bpk_diags *diags);
void bpk_obj_info__free(struct bpk_obj_info *info);

/*
 * The report as JSON text (bpftool -j style): {"sha256","size","license","btf","btf_ext",
 * "core_relos","programs":[...],"maps":[...]}; each program carries its "capabilities"
 * ([{"id","words","evidence"}], see capability.h). Caller frees. NULL on ENOMEM.
 */
char *bpk_obj_info__to_json(const struct bpk_obj_info *info);

/*
 * A package's inspection as JSON: {"name","version","feed","digest","size","manifest":{...},
 * "entries":[{"path","size"}],"objects":{"bpf/x.o":<report as above>}}. Caller frees.
 * NULL with errno set (ENOMEM, or EINVAL when an object cannot be inspected).
 */
struct bpk_pkg;
char *bpk_pkg__inspect_json(const struct bpk_pkg *pkg);

/* Name of a helper by UAPI number ("bpf_map_lookup_elem"), or NULL if unknown. */
const char *bpk_helper__name(int id);
/* Whether the kernel marks the helper gpl_only. */
bool bpk_helper__gpl_only(int id);
/* Whether eBPF for Windows provides a helper of that name / a program type of that name. */
bool bpk_helper__on_windows(const char *name);
bool bpk_prog_type__on_windows(const char *type);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* Kernel compatibility (DESIGN.md §4): will a package's programs run here, and if not, why. */
#ifndef BPK_CHECK_H
#define BPK_CHECK_H

#include <stdbool.h>
#include <stddef.h>

struct bpk_pkg;
struct bpk_manifest;
struct bpk_error;

/*
 * The checks, in the order they are judged: a program's reason is the detail of the first
 * one that fails. Names (bpk_check_id__name) are the keys of the JSON form.
 */
enum bpk_check_id {
	BPK_CHECK_PLATFORM,    /* "platform": the manifest lists "linux" */
	BPK_CHECK_ARCH,	       /* "arch": this machine is in requires.arch */
	BPK_CHECK_KERNEL,      /* "kernel": the release satisfies requires.kernel */
	BPK_CHECK_BTF,	       /* "btf": vmlinux BTF, when requires.btf, CO-RE or kfuncs need it */
	BPK_CHECK_PROG_TYPE,   /* "prog_type": the kernel loads programs of this type */
	BPK_CHECK_ATTACH_TYPE, /* "attach_type": ... with this expected attach type */
	BPK_CHECK_HELPERS,     /* "helpers": each helper is allowed for the type (and license) */
	BPK_CHECK_KFUNCS,      /* "kfuncs": each kfunc is a function of the kernel's BTF */
	BPK_CHECK_CORE,	       /* "core": CO-RE relocations resolve against this kernel */
	BPK_CHECK_LOAD,	       /* "load": the verifier accepts the program (trial load) */
	BPK_CHECK_CNT,
};

enum bpk_check_status {
	BPK_CHECK_PASS,
	BPK_CHECK_FAIL,
	/* Nothing to check (no requirement), or not checked: the detail says which and why. */
	BPK_CHECK_SKIP,
};

struct bpk_check_item {
	enum bpk_check_status status;
	char *detail; /* one sentence: what was found, or why it fails or was skipped */
};

/* One program's answer. Plain data owned by the result. */
struct bpk_check_prog {
	char *object;	    /* "bpf/x.o" in a package, or the object's name */
	char *name;	    /* function name */
	char *type;	    /* libbpf's program type name, "xdp" */
	bool ok;	    /* no check failed */
	int failed;	    /* the first failing check (enum bpk_check_id), or -1 */
	const char *reason; /* items[failed].detail, or NULL when ok */
	struct bpk_check_item items[BPK_CHECK_CNT];
};

/* The answer for a package or object. Plain data, read-only for callers. */
struct bpk_check_result {
	bool ok;	  /* every program passes (true for an object without programs) */
	char *package;	  /* manifest name, or NULL for a bare object */
	char *version;	  /* manifest version, or NULL */
	char release[65]; /* the kernel release judged by */
	char machine[65]; /* the architecture judged by, uname's spelling ("x86_64") */
	bool btf;	  /* kernel BTF was found */
	bool probed;	  /* the kernel could be asked (privilege to load programs) */
	char *reason;	  /* the first failure, see bpk_check_result__reason() */
	size_t prog_cnt;
	struct bpk_check_prog *progs;
};

enum bpk_check_flags {
	/*
	 * Do not load each program on trial: "core" and "load" are skipped. For a loader whose
	 * own load comes next and says the same (bpkd).
	 */
	BPK_CHECK_F_NO_LOAD = 1 << 0,
};

struct bpk_check_opts {
	size_t sz;
	unsigned int flags;   /* enum bpk_check_flags */
	const char *release;  /* release to judge requires.kernel by; NULL: uname(2)'s */
	const char *machine;  /* architecture to judge requires.arch by; NULL: uname(2)'s */
	const char *btf_path; /* kernel BTF; NULL: /sys/kernel/btf/vmlinux (and modules') */
	const char *object;   /* only this object of a package ("bpf/x.o"); NULL: all */
	const char *program;  /* only programs of this function name; NULL: all */
};
#define bpk_check_opts__last_field program

/*
 * Check every program of every object of a package (opened with bpk_pkg__open; signatures are
 * not this call's business) against this machine, in the order of enum bpk_check_id. The
 * kernel is asked with minimal probe programs (libbpf_probe_bpf_prog_type; helpers with the
 * same probe libbpf_probe_bpf_helper makes, reading the verifier's newer wording too), kfuncs
 * are looked up in the kernel's BTF, and each program is then loaded on its own (the others'
 * autoload off, no map pinned) to learn whether its CO-RE relocations resolve and the verifier
 * accepts it; the load is undone at once. Without the privilege to load programs, the kernel
 * checks are skipped (result->probed false), never failed. opts may be NULL.
 * Returns 0 with *ret_result (free with bpk_check_result__free) whether or not the package
 * runs here; -EINVAL when an object cannot be inspected, -ENOENT when opts names an object or
 * program that is not there, -ENOMEM.
 */
int bpk_check__pkg(const struct bpk_pkg *pkg, const struct bpk_check_opts *opts,
		   struct bpk_check_result **ret_result);

/*
 * The same for one BPF object in memory; name names it in the result. manifest (may be NULL)
 * supplies requires.* and platforms; without one, those checks are skipped.
 */
int bpk_check__object(const void *buf, size_t len, const char *name,
		      const struct bpk_manifest *manifest, const struct bpk_check_opts *opts,
		      struct bpk_check_result **ret_result);

/*
 * What a loader calls before loading program prog_name of an object (DESIGN.md §4: the agent
 * runs the same check): every check but the trial load, which the loader's own load is.
 * Returns 0 when nothing stands in the way; -EOPNOTSUPP with error set to "FIELD: program
 * 'P' cannot run here: REASON" (field may be NULL, then the message starts at "program");
 * -ENOEXEC with error set when the object cannot be inspected; -ENOMEM.
 */
int bpk_check__before_load(const void *buf, size_t len, const struct bpk_manifest *manifest,
			   const char *prog_name, const char *field, struct bpk_error *error);

/*
 * The first failing program's reason as one line, "program 'P' (bpf/x.o): REASON", or NULL
 * when result->ok. Owned by the result.
 */
const char *bpk_check_result__reason(const struct bpk_check_result *result);

/*
 * As JSON: {"ok", "package", "version", "host": {"release","machine","btf","probed"},
 * "reason", "programs": [{"object","name","type","ok","failed","reason",
 * "checks": {"platform": {"status": "pass|fail|skip", "detail"}, ...}}]}. Caller frees.
 * NULL with errno ENOMEM.
 */
char *bpk_check_result__to_json(const struct bpk_check_result *result);
void bpk_check_result__free(struct bpk_check_result *result);

/* "platform", "arch", ... ; NULL outside the enum. */
const char *bpk_check_id__name(enum bpk_check_id id);
/* "pass", "fail", "skip". */
const char *bpk_check_status__name(enum bpk_check_status status);

#endif

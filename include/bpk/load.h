/* SPDX-License-Identifier: BSD-2-Clause */
/* One-off loading of a verified package's programs, pinned in bpffs (bpk load, like xdp-loader). */
#ifndef BPK_LOAD_H
#define BPK_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include <bpk/kernsig.h>

struct bpk_pkg;
struct bpk_error;

#define BPK_PIN_ROOT "/sys/fs/bpf/bpk"

struct bpk_load_opts {
	size_t sz;
	const char *pin_root;	/* default BPK_PIN_ROOT; the package goes in PIN_ROOT/NAME */
	enum bpk_ksig_policy kernel_signatures; /* level 3 policy; default prefer (0 is off) */
	bool kernel_signatures_set;
	const void *cert_der;	/* certificate for the kernel's keyring, for level 3 */
	size_t cert_der_len;
	int32_t keyring_id;
	bool keyring_id_set;
};
#define bpk_load_opts__last_field keyring_id_set

/* What was loaded: plain data owned by the result. */
struct bpk_load_result {
	char *pin_dir;		/* PIN_ROOT/NAME: programs/<prog>, maps/<map> */
	size_t prog_cnt;
	char **prog_names;
	uint32_t *prog_ids;
	enum bpk_ksig_verdict kernel_verdict;
	char *warning;		/* what the level-3 policy says about this load, or NULL */
};

/*
 * Load every program of an already verified package (see bpk_verify__file: this call does
 * not check signatures) and pin programs and maps under PIN_ROOT/NAME ("acme/fw" becomes
 * "acme-fw"), mounting bpffs on /sys/fs/bpf first when it is not. Nothing is attached. The
 * level-3 policy is applied first: refuse (-EPERM, error says why), load through the signed
 * loader, or load without kernel verification with result->warning saying why. On any
 * failure nothing stays pinned. Returns 0 with *ret_result (free with
 * bpk_load_result__free), -EEXIST (already loaded: unload first), -EPERM, -EINVAL (the
 * kernel refused a program: error holds the end of the verifier log), or another negative
 * errno.
 */
int bpk_load__pkg(const struct bpk_pkg *pkg, const struct bpk_load_opts *opts,
		  struct bpk_error *error, struct bpk_load_result **ret_result);
void bpk_load_result__free(struct bpk_load_result *result);

/*
 * Remove what bpk_load__pkg pinned for package name (its programs and maps go away with their
 * last reference). Returns 0, -ENOENT (not loaded) or another negative errno.
 */
int bpk_load__unload(const char *name, const char *pin_root);

/*
 * Attach program prog of package name, as bpk_load__pkg() pinned it under pin_root (NULL:
 * BPK_PIN_ROOT), to the interface ifname: at hook, or with hook < 0 at the one its program
 * type implies (xdp: xdp_ingress, sched_cls: tc_ingress). The attachment is a BPF link (XDP
 * link, or a TCX link appended to the hook) pinned as PIN_ROOT/NAME/links/IFNAME-HOOK-PROG, so
 * it outlives this process and goes with bpk_load__unload(). *ret_link_id (may be NULL) is the
 * link's id. Returns 0 or a negative errno (-ENOENT: not loaded, -ENODEV: no such interface,
 * -EEXIST: already attached there); error says why.
 */
int bpk_load__attach(const char *name, const char *prog, const char *ifname, int hook,
		     const char *pin_root, struct bpk_error *error, uint32_t *ret_link_id);

#endif

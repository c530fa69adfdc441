// SPDX-License-Identifier: BSD-2-Clause
/* bpk load: load a verified package's programs with libbpf (or its signed loader) and pin them. */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/keyctl.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <bpk/chain.h>

#include "bpk_internal.h"

#define BPF_FS BPK_BPF_FS
#define LOG_SIZE (256U << 10)

static char *pin_name(const char *package)
{
	char *s = strdup(package), *p;

	for (p = s; p && *p; p++)
		if (*p == '/')
			*p = '-';
	return s;
}

static void remove_tree(const char *dir)
{
	static const char *const subs[] = { "links", "programs", "maps" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(subs); i++) {
		_cleanup_free_ char *sub = path_join(dir, subs[i]);
		struct dirent *de;
		DIR *d = sub ? opendir(sub) : NULL;

		while (d && (de = readdir(d))) {
			_cleanup_free_ char *p = NULL;

			if (de->d_name[0] == '.')
				continue;
			p = path_join(sub, de->d_name);
			if (p)
				unlink(p);
		}
		if (d)
			closedir(d);
		if (sub)
			rmdir(sub);
	}
	rmdir(dir);
}

int bpk_load__unload(const char *name, const char *pin_root)
{
	_cleanup_free_ char *base = pin_name(name), *dir = NULL;
	struct stat st;

	if (!base)
		return -ENOMEM;
	dir = path_join(pin_root ?: BPK_PIN_ROOT, base);
	if (!dir)
		return -ENOMEM;
	if (stat(dir, &st) < 0)
		return -errno;
	remove_tree(dir);
	return stat(dir, &st) == 0 ? -EBUSY : 0;
}

void bpk_load_result__free(struct bpk_load_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->prog_cnt; i++)
		free(r->prog_names[i]);
	free(r->prog_names);
	free(r->prog_ids);
	free(r->pin_dir);
	free(r->warning);
	free(r);
}

static int add_prog(struct bpk_load_result *r, const char *name, int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	char **names = reallocarray(r->prog_names, r->prog_cnt + 1, sizeof(*names));
	uint32_t *ids;

	if (!names)
		return -ENOMEM;
	r->prog_names = names;
	ids = reallocarray(r->prog_ids, r->prog_cnt + 1, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	r->prog_ids = ids;
	ids[r->prog_cnt] = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
	names[r->prog_cnt] = strdup(name);
	if (!names[r->prog_cnt])
		return -ENOMEM;
	r->prog_cnt++;
	return 0;
}

/* Load one object with libbpf and pin its programs and maps under dir. */
static int load_plain(const char *path, const void *data, size_t size, const char *dir,
		      struct bpk_load_result *r, struct bpk_error *error)
{
	_cleanup_free_ char *maps_dir = path_join(dir, "maps"), *progs_dir = path_join(dir, "programs");
	_cleanup_free_ char *log = calloc(1, LOG_SIZE), *obj_name = NULL;
	const char *base = path + strlen("bpf/");
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	if (!maps_dir || !progs_dir || !log)
		return -ENOMEM;
	/* The object name a loader of the file would use, so internal maps are named alike. */
	obj_name = strndup(base, strcspn(base, "."));
	if (!obj_name)
		return -ENOMEM;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = obj_name,
		    .pin_root_path = maps_dir, .kernel_log_buf = log, .kernel_log_size = LOG_SIZE,
		    .kernel_log_level = 0);
	obj = bpf_object__open_mem(data, size, &open_opts);
	if (!obj) {
		err = -errno;
		bpk_error__set(error, path, NULL, "libbpf cannot open '%s': %s", path,
			       strerror(errno));
		return err;
	}
	if (bpf_object__load(obj)) {
		err = -errno;
		bpk_error__set(error, path, NULL, "the kernel refused '%s' (%s)%s%s", path,
			       strerror(errno), log[0] ? "; verifier log ends:\n" : "",
			       log[0] ? bpk_log_tail(log, 12) : "");
		goto out;
	}
	err = 0;
	bpf_object__for_each_map(map, obj) {
		_cleanup_free_ char *p = NULL;

		if (bpf_map__is_pinned(map))
			continue; /* pinned by name, already under maps/ */
		p = path_join(maps_dir, bpf_map__name(map));
		if (!p || bpf_map__pin(map, p)) {
			err = p ? -errno : -ENOMEM;
			bpk_error__set(error, path, NULL, "cannot pin map '%s': %s", bpf_map__name(map),
				       strerror(-err));
			goto out;
		}
	}
	bpf_object__for_each_program(prog, obj) {
		_cleanup_free_ char *p = path_join(progs_dir, bpf_program__name(prog));

		if (!p || bpf_program__pin(prog, p)) {
			err = p ? -errno : -ENOMEM;
			bpk_error__set(error, path, NULL, "cannot pin program '%s': %s",
				       bpf_program__name(prog), strerror(-err));
			goto out;
		}
		err = add_prog(r, bpf_program__name(prog), bpf_program__fd(prog));
		if (err)
			goto out;
	}
out:
	/* The pins hold programs and maps (program arrays included) from here on. */
	bpf_object__close(obj);
	return err;
}

/* Load one object through its signed loader (level 3) and pin what the loader created. */
static int load_signed(const struct bpk_pkg *pkg, const char *path, const void *data, size_t size,
		       const char *dir, const struct bpk_load_opts *opts, struct bpk_load_result *r,
		       struct bpk_error *error)
{
	const char *base = path + strlen("bpf/");
	int stem = (int)(strlen(base) - strlen(".o"));
	_cleanup_free_ char *lp = xasprintf(BPK_KSIG_DIR "%.*s.loader", stem, base);
	_cleanup_free_ char *pp = xasprintf(BPK_KSIG_DIR "%.*s.payload", stem, base);
	_cleanup_free_ char *sp = xasprintf(BPK_KSIG_DIR "%.*s.p7s", stem, base);
	_cleanup_free_ char *log = calloc(1, LOG_SIZE);
	struct bpk_ksig_artifacts *art = NULL, *fresh = NULL;
	struct bpk_ksig_loaded *loaded = NULL;
	const void *loader, *payload, *sig;
	size_t loader_len, payload_len, sig_len;
	uint32_t map_cnt, prog_cnt, i;
	int err;

	if (!lp || !pp || !sp || !log)
		return -ENOMEM;
	loader = bpk_pkg__file(pkg, lp, &loader_len);
	payload = bpk_pkg__file(pkg, pp, &payload_len);
	sig = bpk_pkg__file(pkg, sp, &sig_len);
	if (!loader || !payload || !sig) {
		bpk_error__set(error, path, NULL, "'%s' has no level-3 files (%s, %s, %s)", path, lp,
			       pp, sp);
		return -ENOENT;
	}
	/*
	 * The deny list and every other check judged bpf/NAME.o: the loader and payload run in
	 * its place must be exactly what that object gives, or they could carry other code.
	 */
	err = bpk_ksig__make(base, data, size, NULL, NULL, &fresh);
	if (err)
		return err;
	if (fresh->loader_len != loader_len || memcmp(fresh->loader, loader, loader_len) ||
	    fresh->payload_len != payload_len || memcmp(fresh->payload, payload, payload_len)) {
		bpk_ksig_artifacts__free(fresh);
		bpk_error__set(error, path, NULL,
			       "'%s' and '%s' were not built from '%s': refusing to load them in its place",
			       lp, pp, path);
		return -EPERM;
	}
	bpk_ksig_artifacts__free(fresh);
	err = bpk_ksig__count(base, data, size, &map_cnt, &prog_cnt);
	if (!err)
		err = bpk_ksig_artifacts__new(loader, loader_len, payload, payload_len, sig, sig_len,
					      map_cnt, prog_cnt, &art);
	if (err)
		return err;
	BPK_OPTS(bpk_ksig_load_opts, kopts, .cert_der = OPTS_GET(opts, cert_der, NULL),
		 .cert_der_len = OPTS_GET(opts, cert_der_len, 0), .log_buf = log,
		 .log_size = LOG_SIZE);
	if (OPTS_GET(opts, keyring_id_set, false)) {
		kopts.keyring_id = opts->keyring_id;
		kopts.keyring_id_set = true;
	}
	err = bpk_ksig__load(art, &kopts, &loaded);
	if (err) {
		bpk_error__set(error, path, NULL, "the kernel refused the signed loader of '%s': %s%s%s",
			       path, strerror(-err), log[0] ? "; verifier log ends:\n" : "",
			       log[0] ? bpk_log_tail(log, 12) : "");
		goto out;
	}
	for (i = 0; i < loaded->prog_cnt; i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		_cleanup_free_ char *p = NULL;
		char name[32];

		if (bpf_obj_get_info_by_fd(loaded->prog_fds[i], &info, &len) || !info.name[0])
			snprintf(name, sizeof(name), "prog%u", i);
		else
			snprintf(name, sizeof(name), "%s", info.name);
		p = xasprintf("%s/programs/%s", dir, name);
		if (!p || bpf_obj_pin(loaded->prog_fds[i], p)) {
			err = p ? -errno : -ENOMEM;
			goto out;
		}
		err = add_prog(r, name, loaded->prog_fds[i]);
		if (err)
			goto out;
	}
out:
	bpk_ksig_loaded__free(loaded);
	bpk_ksig_artifacts__free(art);
	return err;
}

static bool has_kernel_files(const struct bpk_pkg *pkg)
{
	size_t i;

	for (i = 0; i < bpk_pkg__entry_cnt(pkg); i++)
		if (str_has_prefix(bpk_pkg__entry(pkg, i, NULL, NULL), BPK_KSIG_DIR))
			return true;
	return false;
}

int bpk_load__pkg(const struct bpk_pkg *pkg, const struct bpk_load_opts *opts,
		  struct bpk_error *error, struct bpk_load_result **ret_result)
{
	enum bpk_ksig_policy policy = OPTS_GET(opts, kernel_signatures_set, false)
					      ? opts->kernel_signatures
					      : BPK_KSIG_POLICY_PREFER;
	const char *root = OPTS_GET(opts, pin_root, NULL) ?: BPK_PIN_ROOT;
	_cleanup_free_ char *base = pin_name(bpk_manifest__name(bpk_pkg__manifest(pkg)));
	struct bpk_ksig_decision decision;
	struct bpk_ksig_probe probe;
	struct bpk_load_result *r;
	libbpf_print_fn_t old_print;
	size_t i;
	int err;

	if (!base)
		return -ENOMEM;
	bpk_ksig__probe(&probe);
	bpk_ksig__decide(policy, &probe, has_kernel_files(pkg), &decision);
	if (decision.verdict == BPK_KSIG_REFUSE) {
		bpk_error__set(error, NULL, NULL, "%s", decision.message);
		return -EPERM;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->kernel_verdict = decision.verdict;
	if (decision.message[0] && !(r->warning = strdup(decision.message))) {
		bpk_load_result__free(r);
		return -ENOMEM;
	}
	r->pin_dir = path_join(root, base);
	err = r->pin_dir ? bpk_bpffs_mount() : -ENOMEM;
	if (err) {
		bpk_error__set(error, NULL, NULL, "cannot mount bpffs on " BPF_FS ": %s",
			       strerror(-err));
		goto fail;
	}
	err = mkdir_p(root, 0700);
	if (!err && mkdir(r->pin_dir, 0700) < 0)
		err = -errno;
	if (err == -EEXIST) {
		bpk_error__set(error, NULL, NULL, "'%s' is already loaded at %s (bpk unload %s first)",
			       bpk_manifest__name(bpk_pkg__manifest(pkg)), r->pin_dir,
			       bpk_manifest__name(bpk_pkg__manifest(pkg)));
		goto fail_kept;
	}
	if (!err) {
		_cleanup_free_ char *progs = path_join(r->pin_dir, "programs");
		_cleanup_free_ char *maps = path_join(r->pin_dir, "maps");

		if (!progs || !maps)
			err = -ENOMEM;
		else if (mkdir(progs, 0700) < 0 || mkdir(maps, 0700) < 0)
			err = -errno;
	}
	if (err) {
		bpk_error__set(error, NULL, NULL, "cannot create %s: %s", r->pin_dir, strerror(-err));
		goto fail;
	}
	old_print = bpk_libbpf_print_begin(bpk_libbpf_print_debug);
	for (i = 0; !err && i < bpk_pkg__entry_cnt(pkg); i++) {
		const void *data;
		size_t size;
		const char *path = bpk_pkg__entry(pkg, i, &data, &size);

		if (!bpk_path_is_object(path))
			continue;
		err = decision.verdict == BPK_KSIG_LOAD_SIGNED
			      ? load_signed(pkg, path, data, size, r->pin_dir, opts, r, error)
			      : load_plain(path, data, size, r->pin_dir, r, error);
	}
	bpk_libbpf_print_end(old_print);
	if (err)
		goto fail;
	*ret_result = r;
	return 0;
fail:
	/* All or nothing: what this call pinned goes again. */
	if (r->pin_dir)
		remove_tree(r->pin_dir);
fail_kept:
	bpk_load_result__free(r);
	return err ? err : -EEXIST;
}

int bpk_load__attach(const char *name, const char *prog, const char *ifname, int hook,
		     const char *pin_root, struct bpk_error *error, uint32_t *ret_link_id)
{
	_cleanup_free_ char *base = pin_name(name), *dir = NULL, *prog_path = NULL;
	_cleanup_free_ char *link_path = NULL;
	_cleanup_close_ int prog_fd = -1, link_fd = -1;
	struct bpf_prog_info prog_info = { 0 };
	struct bpf_link_info link_info = { 0 };
	uint32_t len = sizeof(prog_info);
	int ifindex, err;

	dir = base ? path_join(pin_root ?: BPK_PIN_ROOT, base) : NULL;
	prog_path = dir ? xasprintf("%s/programs/%s", dir, prog) : NULL;
	if (!prog_path)
		return -ENOMEM;
	if (!bpk_pkg_path__valid(prog) || strchr(prog, '/')) {
		bpk_error__set(error, NULL, NULL, "'%s' is not a program name", prog);
		return -EINVAL;
	}
	err = bpk_chain__open_pinned(prog_path, &prog_fd);
	if (err) {
		bpk_error__set(error, NULL, NULL, "program '%s' of '%s' is not loaded (%s: %s)", prog,
			       name, prog_path, strerror(-err));
		return err;
	}
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		bpk_error__set(error, NULL, NULL, "no interface '%s' here", ifname);
		return -ENODEV;
	}
	if (bpf_obj_get_info_by_fd(prog_fd, &prog_info, &len)) {
		err = -errno;
		bpk_error__set(error, NULL, NULL, "cannot read program '%s': %s", prog, strerror(-err));
		return err;
	}
	if (hook < 0)
		hook = prog_info.type == BPF_PROG_TYPE_XDP	 ? BPK_CHAIN_HOOK_XDP_INGRESS
		       : prog_info.type == BPF_PROG_TYPE_SCHED_CLS ? BPK_CHAIN_HOOK_TC_INGRESS
								   : -1;
	if (hook < 0 || !bpk_chain_hook__name(hook)) {
		bpk_error__set(error, NULL, NULL,
			       "program '%s' is of type %u: give the hook to attach it at", prog,
			       prog_info.type);
		return -EINVAL;
	}
	link_path = xasprintf("%s/links/%s-%s-%s", dir, ifname, bpk_chain_hook__name(hook), prog);
	if (!link_path)
		return -ENOMEM;
	if (access(link_path, F_OK) == 0) {
		bpk_error__set(error, NULL, NULL, "'%s' is already attached at %s of '%s'", prog,
			       bpk_chain_hook__name(hook), ifname);
		return -EEXIST;
	}
	if (hook == BPK_CHAIN_HOOK_XDP_INGRESS) {
		link_fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, NULL);
		err = link_fd < 0 ? -errno : 0;
	} else {
		err = bpk_tcx__attach(prog_fd, ifindex, hook, NULL, &link_fd);
	}
	if (err) {
		bpk_error__set(error, NULL, NULL, "cannot attach '%s' at %s of '%s': %s", prog,
			       bpk_chain_hook__name(hook), ifname, strerror(-err));
		return err;
	}
	/* The pin holds the link: it stays attached after this process, until unload. */
	err = bpk_chain__pin(link_fd, link_path);
	if (err) {
		bpk_error__set(error, NULL, NULL, "cannot pin the link as '%s': %s", link_path,
			       strerror(-err));
		return err;
	}
	len = sizeof(link_info);
	if (ret_link_id && !bpf_obj_get_info_by_fd(link_fd, &link_info, &len))
		*ret_link_id = link_info.id;
	return 0;
}

// SPDX-License-Identifier: BSD-2-Clause
/* bpk build: compile a package's BPF C sources with clang, generating vmlinux.h on demand. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "bpk_internal.h"

extern char **environ;

#define BUILD_DIR ".bpk-build"
#define MAX_SOURCE (16U << 20)

/*
 * Run argv, with stdout sent to out_path when given (stderr always inherited, so the
 * compiler's own diagnostics reach the user unchanged). Returns the exit status, or a
 * negative errno when it could not run.
 */
static int run(char *const argv[], const char *out_path)
{
	posix_spawn_file_actions_t actions;
	struct strbuf line = STRBUF_INIT;
	int status, err;
	size_t i;
	pid_t pid;

	for (i = 0; argv[i]; i++)
		strbuf_addf(&line, "%s%s", i ? " " : "", argv[i]);
	pr_info("%s\n", line.buf ? line.buf : "");
	strbuf_release(&line);

	posix_spawn_file_actions_init(&actions);
	if (out_path)
		posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path,
						 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	err = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	if (err) {
		pr_warn("cannot run '%s': %s\n", argv[0], strerror(err));
		return -err;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The __TARGET_ARCH_ value bpf_tracing.h expects for this machine. */
static const char *target_arch(void)
{
	static const struct {
		const char *machine, *arch;
	} arches[] = {
		{ "x86_64", "x86" },	 { "aarch64", "arm64" }, { "armv7l", "arm" },
		{ "s390x", "s390" },	 { "ppc64le", "powerpc" }, { "riscv64", "riscv" },
		{ "loongarch64", "loongarch" }, { "mips64", "mips" },
	};
	struct utsname u;
	size_t i;

	if (uname(&u) == 0)
		for (i = 0; i < ARRAY_SIZE(arches); i++)
			if (!strcmp(u.machine, arches[i].machine))
				return arches[i].arch;
	return "x86";
}

static bool source_wants_vmlinux(const char *path)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (read_file(path, MAX_SOURCE, &text, &len))
		return false;
	return strstr(text, "\"vmlinux.h\"") || strstr(text, "<vmlinux.h>");
}

static int make_vmlinux_h(const char *dir, const struct bpk_build_opts *opts)
{
	_cleanup_free_ char *build_dir = path_join(dir, BUILD_DIR);
	_cleanup_free_ char *header = path_join(dir, BUILD_DIR "/vmlinux.h");
	_cleanup_free_ char *tmp = path_join(dir, BUILD_DIR "/vmlinux.h.tmp");
	const char *btf = OPTS_GET(opts, vmlinux_btf, NULL) ?: "/sys/kernel/btf/vmlinux";
	const char *bpftool = OPTS_GET(opts, bpftool, NULL) ?: "bpftool";
	char *argv[] = { (char *)bpftool, "btf", "dump", "file", (char *)btf, "format", "c", NULL };
	struct stat hdr_st, btf_st;
	int err;

	if (!build_dir || !header || !tmp)
		return -ENOMEM;
	/* Reuse the header unless the BTF it came from changed (a new kernel, another --btf). */
	if (stat(header, &hdr_st) == 0 && stat(btf, &btf_st) == 0 &&
	    hdr_st.st_mtime >= btf_st.st_mtime && !OPTS_GET(opts, vmlinux_btf, NULL))
		return 0;
	if (access(btf, R_OK) < 0) {
		pr_warn("cannot generate vmlinux.h: '%s' is not readable (kernel built without CONFIG_DEBUG_INFO_BTF?)\n",
			btf);
		return -ENOENT;
	}
	err = mkdir_p(build_dir, 0755);
	if (err)
		return err;
	err = run(argv, tmp);
	if (err) {
		unlink(tmp);
		if (err > 0)
			pr_warn("'%s btf dump' failed with status %d\n", bpftool, err);
		return err > 0 ? -ENOEXEC : err;
	}
	return rename(tmp, header) < 0 ? -errno : 0;
}

static int compile_one(const char *dir, const char *src_rel, const struct bpk_build_opts *opts)
{
	const char *clang = OPTS_GET(opts, clang, NULL) ?: "clang";
	const char *const *extra = OPTS_GET(opts, extra_cflags, NULL);
	_cleanup_free_ char *src = path_join(dir, src_rel);
	_cleanup_free_ char *base = NULL, *out = NULL, *tmp = NULL, *arch_def = NULL;
	_cleanup_free_ char *src_dir = NULL, *gen_dir = path_join(dir, BUILD_DIR);
	_cleanup_free_ char *multiarch = NULL;
	const char *slash = strrchr(src_rel, '/');
	const char *name = slash ? slash + 1 : src_rel;
	_cleanup_free_ char **argv = NULL;
	size_t n = 0, i, extra_cnt = 0;
	struct utsname u;
	int status;

	if (!src || !gen_dir)
		return -ENOMEM;
	base = strndup(name, strlen(name) - strlen(".bpf.c"));
	out = base ? xasprintf("%s/bpf/%s.o", dir, base) : NULL;
	tmp = base ? xasprintf("%s/bpf/.%s.o.tmp", dir, base) : NULL;
	arch_def = xasprintf("-D__TARGET_ARCH_%s", target_arch());
	src_dir = slash ? strndup(src, strlen(src) - strlen(name) - 1) : strdup(dir);
	multiarch = uname(&u) == 0 ? xasprintf("/usr/include/%s-linux-gnu", u.machine) : NULL;
	while (extra && extra[extra_cnt])
		extra_cnt++;
	argv = calloc(extra_cnt + 20, sizeof(*argv));
	if (!out || !tmp || !arch_def || !src_dir || !multiarch || !argv)
		return -ENOMEM;

	argv[n++] = (char *)clang;
	argv[n++] = "-target";
	argv[n++] = "bpf";
	argv[n++] = "-O2";
	argv[n++] = "-g";
	argv[n++] = "-Wall";
	argv[n++] = arch_def;
	argv[n++] = "-I";
	argv[n++] = src_dir;
	argv[n++] = "-I";
	argv[n++] = gen_dir;
	/* asm/types.h lives in the multiarch directory on Debian. */
	argv[n++] = "-idirafter";
	argv[n++] = multiarch;
	for (i = 0; i < extra_cnt; i++)
		argv[n++] = (char *)extra[i];
	argv[n++] = "-c";
	argv[n++] = src;
	argv[n++] = "-o";
	argv[n++] = tmp;
	argv[n] = NULL;

	status = run(argv, NULL);
	if (status) {
		/* A stale object from an earlier build must not be packed as if it were this one. */
		unlink(tmp);
		unlink(out);
		if (status > 0)
			pr_warn("'%s' failed to compile (clang exited with status %d)\n", src_rel,
				status);
		return status > 0 ? -ENOEXEC : status;
	}
	return rename(tmp, out) < 0 ? -errno : 0;
}

int bpk_build__dir(const char *dir, const struct bpk_build_opts *opts)
{
	_cleanup_free_ char *bpf_dir = path_join(dir, "bpf");
	char **src_names = NULL, **top_names = NULL;
	size_t n_src = 0, n_top = 0, i;
	bool want_vmlinux = false, failed = false;
	int err;

	if (!bpf_dir)
		return -ENOMEM;
	if (access(dir, F_OK) < 0)
		return -errno;
	err = bpk_list_dir(dir, "src", ".bpf.c", &src_names, &n_src);
	if (!err)
		err = bpk_list_dir(dir, NULL, ".bpf.c", &top_names, &n_top);
	if (err)
		goto out;
	if (!n_src && !n_top) {
		pr_warn("no BPF sources in '%s' (looked for src/*.bpf.c and *.bpf.c)\n", dir);
		err = -ENOENT;
		goto out;
	}
	for (i = 0; i < n_top; i++) {
		size_t j;

		/* src/x.bpf.c and x.bpf.c would both write bpf/x.o. */
		for (j = 0; j < n_src; j++)
			if (!strcmp(src_names[j] + strlen("src/"), top_names[i])) {
				pr_warn("both 'src/%s' and '%s' would build 'bpf/%.*s.o'; remove one\n",
					top_names[i], top_names[i],
					(int)(strlen(top_names[i]) - strlen(".bpf.c")), top_names[i]);
				err = -EINVAL;
				goto out;
			}
	}
	for (i = 0; i < n_src + n_top; i++) {
		const char *rel = i < n_src ? src_names[i] : top_names[i - n_src];
		_cleanup_free_ char *full = path_join(dir, rel);

		want_vmlinux |= full && source_wants_vmlinux(full);
	}
	if (want_vmlinux) {
		err = make_vmlinux_h(dir, opts);
		if (err)
			goto out;
	}
	err = mkdir_p(bpf_dir, 0755);
	if (err)
		goto out;
	/* Compile everything, so one run shows every broken source; fail if any failed. */
	for (i = 0; i < n_src + n_top; i++) {
		int one = compile_one(dir, i < n_src ? src_names[i] : top_names[i - n_src], opts);

		if (one == -ENOEXEC) {
			failed = true;
		} else if (one) {
			err = one;
			goto out;
		}
	}
	if (failed)
		err = -ENOEXEC;
out:
	bpk_free_names(src_names);
	bpk_free_names(top_names);
	return err;
}

// SPDX-License-Identifier: BSD-2-Clause
/* bpk load / bpk unload: verify a package, then load and pin its programs (no bpkd needed). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

enum {
	OPT_ALLOW_UNSIGNED = 0x100,
	OPT_KERNEL_SIGNATURES,
	OPT_CERT,
	OPT_KEYRING,
	OPT_PIN_ROOT,
	OPT_HOOK,
};

/* Verify the opened package against the trust policy; 0 when it may be loaded. */
static int verify_pkg(const char *path, const struct bpk_pkg *pkg, const char *trust_dir,
		      bool allow_unsigned)
{
	struct bpk_verify_result *res = NULL;
	struct bpk_trust *trust;
	BPK_OPTS(bpk_verify_opts, opts, .allow_unsigned = allow_unsigned);
	bool no_policy;
	int err, ret = EXIT_FAIL;

	trust = cli_open_trust("load", path, trust_dir, &no_policy);
	if (!trust)
		goto out;
	res = bpk_verify_result__new();
	if (!res) {
		cli_error("cannot load '%s': %s", path, strerror(errno));
		goto out;
	}
	err = bpk_pkg__verify(pkg, trust, &opts, res);
	if (err && err != -EKEYREJECTED) {
		cli_error("cannot load '%s': %s", path, strerror(-err));
		goto out;
	}
	switch (bpk_verify_result__verdict(res)) {
	case BPK_VERDICT_TRUSTED:
		ret = EXIT_OK;
		break;
	case BPK_VERDICT_UNSIGNED_ALLOWED:
		cli_warning("'%s' is UNSIGNED; loading it because of --allow-unsigned", path);
		ret = EXIT_OK;
		break;
	case BPK_VERDICT_REFUSED:
		cli_error("cannot load '%s': %s", path, bpk_verify_result__reason(res));
		if (no_policy)
			cli_note_no_policy();
		break;
	}
out:
	bpk_verify_result__free(res);
	bpk_trust__free(trust);
	return ret;
}

static int run_load(int argc, char **argv)
{
	static const struct option options[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "allow-unsigned", no_argument, NULL, OPT_ALLOW_UNSIGNED },
		{ "kernel-signatures", required_argument, NULL, OPT_KERNEL_SIGNATURES },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "keyring-id", required_argument, NULL, OPT_KEYRING },
		{ "pin-root", required_argument, NULL, OPT_PIN_ROOT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_load_result *result = NULL;
	const char *trust_dir = NULL, *cert_path = NULL, *path;
	char *data = NULL, *cert = NULL, *end;
	size_t len, cert_len = 0, i;
	struct bpk_pkg *pkg = NULL;
	BPK_OPTS(bpk_load_opts, opts);
	bool allow_unsigned = false;
	int c, err, ret = EXIT_FAIL;
	long keyring;

	while ((c = getopt_long(argc, argv, "t:h", options, NULL)) != -1) {
		switch (c) {
		case 't':
			trust_dir = optarg;
			break;
		case OPT_ALLOW_UNSIGNED:
			allow_unsigned = true;
			break;
		case OPT_KERNEL_SIGNATURES:
			if (bpk_ksig_policy__parse(optarg, &opts.kernel_signatures))
				return cli_usage_error("load", "--kernel-signatures is off, prefer or require, not '%s'",
						       optarg);
			opts.kernel_signatures_set = true;
			break;
		case OPT_CERT:
			cert_path = optarg;
			break;
		case OPT_KEYRING:
			errno = 0;
			keyring = strtol(optarg, &end, 0);
			if (errno || *end || !*optarg || keyring < INT32_MIN || keyring > INT32_MAX)
				return cli_usage_error("load", "--keyring-id wants a key serial, not '%s'",
						       optarg);
			opts.keyring_id = (int32_t)keyring;
			opts.keyring_id_set = true;
			break;
		case OPT_PIN_ROOT:
			opts.pin_root = optarg;
			break;
		case 'h':
			return cli_help("load");
		default:
			return cli_usage_error("load", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("load", "expected one PKG.bpk");
	path = argv[optind];

	/* One read: the bytes verified are the bytes loaded. */
	err = read_file(path, BPK_DEFAULT_MAX_COMPRESSED, &data, &len);
	if (err)
		return cli_error("cannot load '%s': %s", path, strerror(-err));
	if (cert_path) {
		err = read_file(cert_path, 1 << 20, &cert, &cert_len);
		if (err) {
			cli_error("cannot read certificate '%s': %s", cert_path, strerror(-err));
			goto out;
		}
		opts.cert_der = cert;
		opts.cert_der_len = cert_len;
	}
	/* Opened once, with every container check: the bytes verified are the bytes loaded. */
	pkg = bpk_pkg__open_mem(data, len, NULL, &diags);
	if (!pkg) {
		const struct bpk_diag *d = bpk_diags__first_error(&diags);

		cli_error("cannot load '%s': %s", path, d ? d->message : strerror(errno));
		goto out;
	}
	if (verify_pkg(path, pkg, trust_dir, allow_unsigned))
		goto out;
	err = bpk_load__pkg(pkg, &opts, &error, &result);
	if (err) {
		cli_error("cannot load '%s': %s", path, error.message ?: strerror(-err));
		goto out;
	}
	if (result->warning)
		cli_warning("%s", result->warning);
	printf("loaded %s %s%s, pinned at %s\n", bpk_manifest__name(bpk_pkg__manifest(pkg)),
	       bpk_manifest__version(bpk_pkg__manifest(pkg)),
	       result->kernel_verdict == BPK_KSIG_LOAD_SIGNED ? " (kernel-verified)" : "",
	       result->pin_dir);
	for (i = 0; i < result->prog_cnt; i++)
		printf("  program %-24s id %u\n", result->prog_names[i], result->prog_ids[i]);
	ret = EXIT_OK;
out:
	bpk_load_result__free(result);
	bpk_pkg__free(pkg);
	bpk_diags__release(&diags);
	bpk_error__release(&error);
	free(cert);
	free(data);
	return ret;
}

static int run_unload(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pin-root", required_argument, NULL, OPT_PIN_ROOT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *root = NULL;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_PIN_ROOT:
			root = optarg;
			break;
		case 'h':
			return cli_help("unload");
		default:
			return cli_usage_error("unload", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("unload", "expected one package NAME");
	err = bpk_load__unload(argv[optind], root);
	if (err == -ENOENT)
		return cli_error("'%s' is not loaded", argv[optind]);
	if (err)
		return cli_error("cannot unload '%s': %s", argv[optind], strerror(-err));
	printf("unloaded %s\n", argv[optind]);
	return EXIT_OK;
}

static int run_attach(int argc, char **argv)
{
	static const struct option options[] = {
		{ "hook", required_argument, NULL, OPT_HOOK },
		{ "pin-root", required_argument, NULL, OPT_PIN_ROOT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpk_error error = BPK_ERROR_INIT;
	const char *root = NULL;
	uint32_t link_id = 0;
	int c, err, hook = -1;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_HOOK:
			for (hook = BPK_CHAIN_HOOK_XDP_INGRESS; bpk_chain_hook__name(hook); hook++)
				if (!strcmp(optarg, bpk_chain_hook__name(hook)))
					break;
			if (!bpk_chain_hook__name(hook))
				return cli_usage_error("attach",
						       "--hook is xdp_ingress, tc_ingress or tc_egress, not '%s'",
						       optarg);
			break;
		case OPT_PIN_ROOT:
			root = optarg;
			break;
		case 'h':
			return cli_help("attach");
		default:
			return cli_usage_error("attach", "unknown option");
		}
	}
	if (optind != argc - 3)
		return cli_usage_error("attach", "expected NAME PROGRAM IFACE");
	err = bpk_load__attach(argv[optind], argv[optind + 1], argv[optind + 2], hook, root, &error,
			       &link_id);
	if (err) {
		cli_error("cannot attach: %s", error.message ?: strerror(-err));
		bpk_error__release(&error);
		return EXIT_FAIL;
	}
	printf("attached %s of %s to %s (link id %u); 'bpk unload %s' detaches it\n",
	       argv[optind + 1], argv[optind], argv[optind + 2], link_id, argv[optind]);
	return EXIT_OK;
}

const struct cmd cmd_attach = {
	.name = "attach",
	.run = run_attach,
	.summary = "attach a program bpk load pinned to an interface (XDP or TCX link)",
	.help =
		"usage: bpk attach NAME PROGRAM IFACE [--hook HOOK] [--pin-root DIR]\n"
		"\n"
		"Attach program PROGRAM of package NAME, loaded and pinned by bpk load, to the\n"
		"network interface IFACE, as xdp-loader does, without bpkd: an XDP link, or a TCX\n"
		"link appended to the hook. The link is pinned under PIN_ROOT/NAME/links/, so it\n"
		"stays attached after bpk exits; bpk unload NAME detaches it. Needs root.\n"
		"\n"
		"      --hook HOOK              xdp_ingress, tc_ingress or tc_egress (default: from\n"
		"                               the program type: xdp or tc_ingress)\n"
		"      --pin-root DIR           where bpk load pinned (default: /sys/fs/bpf/bpk)\n"
		"  -h, --help                   show this help\n",
};

const struct cmd cmd_load = {
	.name = "load",
	.run = run_load,
	.summary = "verify a package and load its programs (pinned, not attached)",
	.help =
		"usage: bpk load PKG.bpk [--trust DIR] [--allow-unsigned]\n"
		"                [--kernel-signatures off|prefer|require] [--cert CERT.der]\n"
		"                [--keyring-id N] [--pin-root DIR]\n"
		"\n"
		"Verify the package against the trust policy (as bpk verify; unsigned or untrusted\n"
		"packages are refused), apply the kernel-signature policy, load every program\n"
		"with the verifier and pin programs and maps under PIN_ROOT/NAME (default\n"
		"/sys/fs/bpf/bpk), mounting bpffs when needed. Nothing is attached. Needs root.\n"
		"\n"
		"  -t, --trust DIR              trust policy (default: /etc/bpk/trust.d)\n"
		"      --allow-unsigned         accept an unsigned package, with a warning\n"
		"      --kernel-signatures P    level 3 policy: off, prefer (default) or require\n"
		"      --cert FILE              certificate for the kernel keyring (level 3)\n"
		"      --keyring-id N           keyring the kernel checks (default: session)\n"
		"      --pin-root DIR           where to pin (default: /sys/fs/bpf/bpk)\n"
		"  -h, --help                   show this help\n",
};

const struct cmd cmd_unload = {
	.name = "unload",
	.run = run_unload,
	.summary = "remove what bpk load pinned for a package",
	.help =
		"usage: bpk unload NAME [--pin-root DIR]\n"
		"\n"
		"Remove the pins bpk load made for package NAME; its programs, maps and the links of\n"
		"bpk attach go away with their last reference (detached).\n"
		"\n"
		"      --pin-root DIR           where bpk load pinned (default: /sys/fs/bpf/bpk)\n"
		"  -h, --help                   show this help\n",
};

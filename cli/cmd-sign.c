// SPDX-License-Identifier: BSD-2-Clause
/* bpk sign: add a signature over bpk.json to a package's bpk.sig. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "util.h"

/*
 * Level 3: add each object's signed loader and payload (kernel/NAME.*) to the package. This
 * changes bpk.json, so it comes before the package signatures.
 */
static int sign_kernel(const char *path, const char *key_path, const char *cert_path,
		       const char *output, bool drop_signatures)
{
	struct bpk_error error = BPK_ERROR_INIT;
	char *data = NULL;
	void *signed_buf = NULL;
	size_t len, signed_len;
	int err;

	if (!cert_path)
		return cli_usage_error("sign", "'bpk sign --kernel' needs --cert CERT.der");
	err = read_file(path, BPK_DEFAULT_MAX_COMPRESSED, &data, &len);
	if (err)
		return cli_error("cannot sign '%s': %s", path, strerror(-err));
	err = bpk_ksig__sign_package(data, len, key_path, cert_path, drop_signatures, &error,
				     &signed_buf, &signed_len);
	free(data);
	if (err == -EEXIST)
		err = cli_error("cannot sign '%s' for the kernel: it already has package signatures,"
				" which adding kernel/ files would invalidate (sign --kernel first,"
				" or pass --drop-signatures and sign again)", path);
	else if (err)
		err = cli_error("cannot sign '%s' for the kernel: %s", path,
				error.message ? error.message : strerror(-err));
	if (!err) {
		err = write_file_atomic(output ? output : path, signed_buf, signed_len, 0644);
		if (err)
			err = cli_error("cannot write '%s': %s", output ? output : path,
					strerror(-err));
		else
			printf("added kernel signatures (kernel/*.loader, *.payload, *.p7s) to '%s';"
			       " now sign it with 'bpk sign --key'\n", output ? output : path);
	}
	free(signed_buf);
	bpk_error__release(&error);
	return err ? EXIT_FAIL : EXIT_OK;
}

static int run_sign(int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "kernel", no_argument, NULL, 'K' },
		{ "cert", required_argument, NULL, 'c' },
		{ "drop-signatures", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpk_error error = BPK_ERROR_INIT;
	const char *key_path = NULL, *cert_path = NULL, *path;
	bool kernel = false, drop_signatures = false;
	BPK_OPTS(bpk_sign_opts, opts);
	struct bpk_key *key;
	bool replaced = false;
	struct stat st;
	int c, err;

	while ((c = getopt_long(argc, argv, "k:o:h", options, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_path = optarg;
			break;
		case 'o':
			opts.output = optarg;
			break;
		case 'K':
			kernel = true;
			break;
		case 'c':
			cert_path = optarg;
			break;
		case 'D':
			drop_signatures = true;
			break;
		case 'h':
			return cli_help("sign");
		default:
			return cli_usage_error("sign", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("sign", "'bpk sign' needs a package");
	path = argv[optind++];
	if (optind < argc)
		return cli_usage_error("sign", "unexpected argument '%s'", argv[optind]);
	if (!key_path)
		return cli_usage_error("sign", "'bpk sign' needs --key KEY.pem");
	if (kernel)
		return sign_kernel(path, key_path, cert_path, opts.output, drop_signatures);
	if (cert_path || drop_signatures)
		return cli_usage_error("sign", "--cert and --drop-signatures go with --kernel");

	key = bpk_key__load(key_path);
	if (!key && errno == EINVAL)
		return cli_error("cannot sign '%s': '%s' is not a PEM Ed25519 private key", path,
				 key_path);
	if (!key)
		return cli_error("cannot sign '%s': cannot read key '%s': %s", path, key_path,
				 strerror(errno));
	if (!bpk_key__has_private(key)) {
		bpk_key__free(key);
		return cli_error("cannot sign '%s': '%s' is a public key; signing needs the private"
				 " key (.pem)", path, key_path);
	}
	/* As ssh does: a private key others can read may already be someone else's too. */
	if (stat(key_path, &st) == 0 && (st.st_mode & 077))
		cli_warning("private key '%s' is readable by others (mode %04o)", key_path,
			    (unsigned int)(st.st_mode & 07777));

	err = bpk_sign__file(path, key, &opts, &error, &replaced);
	if (err) {
		if (error.message)
			cli_error("cannot sign '%s': %s", path, error.message);
		else
			cli_error("cannot sign '%s': %s", path, strerror(-err));
		bpk_error__release(&error);
		bpk_key__free(key);
		return EXIT_FAIL;
	}
	printf("signed '%s' with key %s%s\n", opts.output ?: path, bpk_key__id(key),
	       replaced ? ", replacing its earlier signature" : "");
	bpk_key__free(key);
	return EXIT_OK;
}

const struct cmd cmd_sign = {
	.name = "sign",
	.run = run_sign,
	.summary = "sign a package",
	.help =
		"usage: bpk sign PKG.bpk --key KEY.pem [-o OUT.bpk]\n"
		"       bpk sign PKG.bpk --kernel --key RSA.pem --cert CERT.der [--drop-signatures]\n"
		"\n"
		"Add a signature by KEY to the package's bpk.sig: Ed25519 over the exact bytes of\n"
		"bpk.json, which lists the SHA-256 of every other file. Several keys may sign (an\n"
		"author and an organisation); signing again with the same key replaces its\n"
		"signature. The package must pass every container check first. Every entry but\n"
		"bpk.sig keeps its bytes; the package is replaced atomically unless -o is given.\n"
		"\n"
		"With --kernel, add level-3 signatures instead: for each bpf/NAME.o, a loader\n"
		"program and its payload (kernel/NAME.loader, kernel/NAME.payload) and the\n"
		"detached PKCS#7 signature of the loader (kernel/NAME.p7s) that Linux 6.18 checks\n"
		"in BPF_PROG_LOAD. The key must suit the kernel (RSA; ECDSA where the kernel has it)\n"
		"and CERT its X.509 certificate, DER, with a subjectKeyIdentifier. Do this before\n"
		"the package signatures: it changes bpk.json.\n"
		"\n"
		"  -k, --key FILE         private key to sign with (from 'bpk key gen'; PEM RSA with --kernel)\n"
		"  -o, --output FILE      write the signed package to FILE instead\n"
		"      --kernel           add kernel-verified (level 3) signatures\n"
		"      --cert FILE        the key's X.509 certificate, DER (with --kernel)\n"
		"      --drop-signatures  with --kernel: drop existing package signatures\n"
		"  -h, --help             show this help\n",
};

// SPDX-License-Identifier: BSD-2-Clause
/* bpk key: make an Ed25519 signing key pair, and show the id of a key file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int key_gen(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *base = NULL;
	struct bpk_key *key;
	int c, err;

	while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			base = optarg;
			break;
		case 'h':
			return cli_help("key");
		default:
			return cli_usage_error("key", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("key", "unexpected argument '%s'", argv[optind]);
	if (!base || !*base)
		return cli_usage_error("key", "'bpk key gen' needs -o NAME");
	key = bpk_key__generate();
	if (!key)
		return cli_error("cannot generate a key: %s", strerror(errno));
	err = bpk_key__save(key, base);
	if (err == -EEXIST) {
		bpk_key__free(key);
		return cli_error("cannot write key '%s': '%s.pem' or '%s.pub' already exists, and "
				 "bpk never overwrites a key", base, base, base);
	}
	if (err) {
		bpk_key__free(key);
		return cli_error("cannot write key '%s': %s", base, strerror(-err));
	}
	printf("wrote %s.pem (private key: keep it secret) and %s.pub (public key)\n", base, base);
	printf("%s\n", bpk_key__id(key));
	bpk_key__free(key);
	return EXIT_OK;
}

static int key_id(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpk_key *key;
	const char *path;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h')
			return cli_help("key");
		return cli_usage_error("key", "unknown option");
	}
	if (optind >= argc)
		return cli_usage_error("key", "'bpk key id' needs a key file");
	path = argv[optind++];
	if (optind < argc)
		return cli_usage_error("key", "unexpected argument '%s'", argv[optind]);
	key = bpk_key__load(path);
	if (!key && errno == EINVAL)
		return cli_error("cannot read key '%s': not a PEM Ed25519 private or public key "
				 "(encrypted keys are not supported)", path);
	if (!key)
		return cli_error("cannot read key '%s': %s", path, strerror(errno));
	printf("%s\n", bpk_key__id(key));
	bpk_key__free(key);
	return EXIT_OK;
}

static int run_key(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("key", "'bpk key' needs a subcommand: gen or id");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cli_help("key");
	if (!strcmp(argv[1], "gen"))
		return key_gen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "id"))
		return key_id(argc - 1, argv + 1);
	return cli_usage_error("key", "'%s' is not a 'bpk key' subcommand (gen, id)", argv[1]);
}

const struct cmd cmd_key = {
	.name = "key",
	.run = run_key,
	.summary = "make a signing key, show a key's id",
	.help =
		"usage: bpk key gen -o NAME\n"
		"       bpk key id FILE\n"
		"\n"
		"Make and identify the Ed25519 keys that sign packages.\n"
		"'gen' writes NAME.pem, the private key (PKCS#8 PEM, created with mode 0600), and\n"
		"NAME.pub, the public key to give to 'bpk trust add'; it never overwrites a file.\n"
		"It prints the key id alone on its last line. 'id' prints the id of a private or\n"
		"public key file. A key id is the SHA-256 of the DER public key, in hex.\n"
		"\n"
		"  -o, --output NAME   base name of the key files to write (gen)\n"
		"  -h, --help          show this help\n",
};

// SPDX-License-Identifier: BSD-2-Clause
/* bpkd: the node agent; options and configuration file, then the HTTP API until a signal. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bpkd.h"
#include "config.h"
#include "util.h"

static const char usage[] =
	"usage: bpkd [--listen ADDR:PORT] [--state DIR] [--repo URL]... [--trust DIR]\n"
	"            [--allow-unsigned] [--no-fuse] [--pin-root DIR] [--config FILE] [-v]\n"
	"            [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]\n"
	"\n"
	"The bpk node agent: applies l3afd-shaped configurations (POST /l3af/configs/v1/update,\n"
	"/add, /delete) by fetching, verifying, loading and chaining eBPF programs on interfaces.\n"
	"\n"
	"options:\n"
	"  --listen ADDR:PORT  where the API listens (default 127.0.0.1:7080)\n"
	"  --state DIR         the agent's database (default /var/lib/bpkd)\n"
	"  --repo URL          a bpk repository that programs naming a package come from (may\n"
	"                      repeat); added to STATE/repos.d on first use, its key pinned\n"
	"  --trust DIR         the trust policy (default " BPK_TRUST_DIR ")\n"
	"  --allow-unsigned    run unsigned packages and l3afd-layout archives (development only)\n"
	"  --no-fuse           chain the portable way (XDP root and tail calls, a TCX link a\n"
	"                      program) even where the programs could run fused as one\n"
	"  --pin-root DIR      where programs, maps and links are pinned (default /sys/fs/bpf/bpk)\n"
	"  --tls-cert FILE     serve https with this PEM certificate (chain)\n"
	"  --tls-key FILE      the certificate's PEM private key (unencrypted)\n"
	"  --tls-client-ca FILE  mutual TLS: answer 403 to a request without a client\n"
	"                      certificate that chains to these PEM CA certificates\n"
	"  --config FILE       a JSON file with the same keys: listen, state, repo, trust,\n"
	"                      allow_unsigned, no_fuse, pin_root, tls_cert, tls_key,\n"
	"                      tls_client_ca;\n"
	"                      options on the command line win\n"
	"  -v, --verbose       log every apply, not only failures\n"
	"  -h, --help          this text\n"
	"  --version           the version\n";

struct settings {
	char *listen;
	char *state;
	char *trust;
	char *pin_root;
	char *tls_cert;
	char *tls_key;
	char *tls_client_ca;
	bool allow_unsigned;
	bool allow_unsigned_set;
	bool no_fuse;
	bool no_fuse_set;
	size_t repo_cnt;
	char **repos;
};

static int add_repo(struct settings *s, const char *url)
{
	char **v = reallocarray(s->repos, s->repo_cnt + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->repos = v;
	v[s->repo_cnt] = strdup(url);
	return v[s->repo_cnt++] ? 0 : -ENOMEM;
}

/* A true/false key of the configuration file, unless the command line set it. */
static int read_flag(json_t *root, const char *path, const char *key, bool set, bool *value)
{
	json_t *v = json_object_get(root, key);

	if (v && !json_is_boolean(v)) {
		fprintf(stderr, "error: '%s': '%s' must be true or false\n", path, key);
		return -EINVAL;
	}
	if (v && !set)
		*value = json_is_true(v);
	return 0;
}

/* The configuration file: what the command line did not set. */
static int read_config(const char *path, struct settings *s)
{
	static const char *const keys[] = { "listen",	"state",   "trust",	   "pin_root",
					    "tls_cert", "tls_key", "tls_client_ca" };
	char **dst[] = { &s->listen,   &s->state,   &s->trust,	       &s->pin_root,
			 &s->tls_cert, &s->tls_key, &s->tls_client_ca };
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *v;
	size_t i;

	if (!root) {
		fprintf(stderr, "error: cannot read '%s': %s (line %d)\n", path, jerr.text, jerr.line);
		return -EINVAL;
	}
	if (!json_is_object(root))
		goto bad;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		v = json_object_get(root, keys[i]);
		if (!v)
			continue;
		if (!json_is_string(v)) {
			fprintf(stderr, "error: '%s': '%s' must be a string\n", path, keys[i]);
			goto fail;
		}
		if (!*dst[i])
			*dst[i] = strdup(json_string_value(v));
	}
	if (read_flag(root, path, "allow_unsigned", s->allow_unsigned_set, &s->allow_unsigned) ||
	    read_flag(root, path, "no_fuse", s->no_fuse_set, &s->no_fuse))
		goto fail;
	v = json_object_get(root, "repo");
	if (v && !json_is_array(v)) {
		fprintf(stderr, "error: '%s': 'repo' must be a list of URLs\n", path);
		goto fail;
	}
	if (v && !s->repo_cnt) {
		json_t *e;

		json_array_foreach(v, i, e)
			if (!json_is_string(e) || add_repo(s, json_string_value(e))) {
				fprintf(stderr, "error: '%s': 'repo[%zu]' must be a URL\n", path, i);
				goto fail;
			}
	}
	json_decref(root);
	return 0;
bad:
	fprintf(stderr, "error: '%s' must hold a JSON object\n", path);
fail:
	json_decref(root);
	return -EINVAL;
}

/* The PEM files of --tls-*: read once at start, before any request, as root may be needed. */
static int read_tls(const struct settings *s, struct bpkd *d)
{
	const char *paths[] = { s->tls_cert, s->tls_key, s->tls_client_ca };
	char **dst[] = { &d->tls_cert, &d->tls_key, &d->tls_client_ca };
	size_t i, len;
	int err;

	if (!s->tls_cert != !s->tls_key) {
		fprintf(stderr, "error: --tls-cert and --tls-key go together\n");
		return -EINVAL;
	}
	if (s->tls_client_ca && !s->tls_cert) {
		fprintf(stderr, "error: --tls-client-ca needs --tls-cert and --tls-key\n");
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		if (!paths[i])
			continue;
		err = read_file(paths[i], 1U << 20, dst[i], &len);
		if (err) {
			fprintf(stderr, "error: cannot read '%s': %s\n", paths[i], strerror(-err));
			return err;
		}
	}
	return 0;
}

static int print_library(enum bpk_print_level level, const char *fmt, va_list ap)
{
	if (level == BPK_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "state", required_argument, NULL, 's' },
		{ "repo", required_argument, NULL, 'r' },
		{ "trust", required_argument, NULL, 't' },
		{ "allow-unsigned", no_argument, NULL, 'U' },
		{ "no-fuse", no_argument, NULL, 'F' },
		{ "pin-root", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "tls-client-ca", required_argument, NULL, 'A' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct settings s = { 0 };
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_trust *trust = NULL;
	struct bpkd d = { .lock = PTHREAD_MUTEX_INITIALIZER };
	const char *config = NULL;
	char *msg = NULL;
	sigset_t set;
	int c, sig, ret = 1;

	bpk_set_print(print_library);
	while ((c = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		switch (c) {
		case 'l':
			s.listen = strdup(optarg);
			break;
		case 's':
			s.state = strdup(optarg);
			break;
		case 'r':
			if (add_repo(&s, optarg))
				return 1;
			break;
		case 't':
			s.trust = strdup(optarg);
			break;
		case 'U':
			s.allow_unsigned = s.allow_unsigned_set = true;
			break;
		case 'F':
			s.no_fuse = s.no_fuse_set = true;
			break;
		case 'p':
			s.pin_root = strdup(optarg);
			break;
		case 'c':
			config = optarg;
			break;
		case 'C':
			s.tls_cert = strdup(optarg);
			break;
		case 'K':
			s.tls_key = strdup(optarg);
			break;
		case 'A':
			s.tls_client_ca = strdup(optarg);
			break;
		case 'v':
			d.verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("bpkd %s (libbpk %s)\n", BPK_VERSION, bpk_version());
			return 0;
		default:
			fputs("Run 'bpkd --help' for usage.\n", stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "error: unexpected argument '%s'\nRun 'bpkd --help' for usage.\n",
			argv[optind]);
		return 2;
	}
	if (config && read_config(config, &s))
		return 1;
	if (read_tls(&s, &d))
		goto out;
	trust = bpk_trust__load_dir(s.trust ?: bpk_trust__default_dir(), &error);
	if (!trust && !s.trust && errno == ENOENT) {
		bpk_error__release(&error);
		trust = bpk_trust__new();
		fprintf(stderr, "bpkd: warning: no trust policy at '%s': no package signer is trusted\n",
			bpk_trust__default_dir());
	}
	if (!trust) {
		fprintf(stderr, "error: cannot load the trust policy '%s': %s\n",
			s.trust ?: bpk_trust__default_dir(), error.message ?: strerror(errno));
		goto out;
	}
	if (s.allow_unsigned)
		fprintf(stderr, "bpkd: WARNING: --allow-unsigned: unsigned packages and l3afd-layout archives will run; for development only\n");
	{
		BPK_OPTS(bpk_agent_opts, aopts, .state_dir = s.state ?: "/var/lib/bpkd",
			 .pin_root = s.pin_root, .trust = trust, .allow_unsigned = s.allow_unsigned,
			 .no_fuse = s.no_fuse,
			 .repos = (const char *const *)s.repos, .repo_cnt = s.repo_cnt);

		d.agent = bpk_agent__open(&aopts, &error);
	}
	if (!d.agent) {
		fprintf(stderr, "error: cannot start the agent: %s\n", error.message ?: strerror(errno));
		goto out;
	}
	/* Signals are taken by sigwait below; the HTTP thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (bpkd_api_start(&d, s.listen ?: "127.0.0.1:7080", &msg)) {
		fprintf(stderr, "error: %s\n", msg ?: "cannot listen");
		goto out;
	}
	fprintf(stderr, "bpkd: listening on %s://%s%s (state %s)\n", d.tls_cert ? "https" : "http",
		s.listen ?: "127.0.0.1:7080",
		d.tls_client_ca ? ", client certificates required" : "", s.state ?: "/var/lib/bpkd");
	do {
		if (sigwait(&set, &sig))
			break;
	} while (sig == SIGHUP);
	bpkd_api_stop(&d);
	/* What runs keeps running: the pins hold it for the next bpkd. */
	fprintf(stderr, "bpkd: stopped; the chains keep running\n");
	ret = 0;
out:
	bpk_agent__free(d.agent);
	bpk_trust__free(trust);
	bpk_error__release(&error);
	free(msg);
	free(s.listen);
	free(s.state);
	free(s.trust);
	free(s.pin_root);
	free(s.tls_cert);
	free(s.tls_key);
	free(s.tls_client_ca);
	/* The key's copy is wiped: it outlives nothing that needs it. */
	if (d.tls_key)
		explicit_bzero(d.tls_key, strlen(d.tls_key));
	free(d.tls_cert);
	free(d.tls_key);
	free(d.tls_client_ca);
	for (size_t i = 0; i < s.repo_cnt; i++)
		free(s.repos[i]);
	free(s.repos);
	return ret;
}

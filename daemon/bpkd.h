/* SPDX-License-Identifier: BSD-2-Clause */
/* bpkd: what the command line (main.c) and the HTTP API (api.c) share. */
#ifndef BPKD_H
#define BPKD_H

#include <pthread.h>
#include <stdbool.h>

#include <bpk/bpk.h>

struct MHD_Daemon;

struct bpkd {
	struct bpk_agent *agent;
	pthread_mutex_t lock;	/* one request at a time touches the agent */
	struct MHD_Daemon *daemon;
	bool verbose;
	/* PEM text; tls_cert and tls_key set: https. tls_client_ca set too: mutual TLS. */
	char *tls_cert;
	char *tls_key;
	char *tls_client_ca;
};

/*
 * Serve the API on addr ("127.0.0.1:7080", "[::1]:7080"), over https when d->tls_cert is set;
 * with d->tls_client_ca, a request without a client certificate that chains to it is answered
 * 403. 0 or -errno; *ret_error says why.
 */
int bpkd_api_start(struct bpkd *d, const char *addr, char **ret_error);
void bpkd_api_stop(struct bpkd *d);

#endif

// SPDX-License-Identifier: BSD-2-Clause
/* bpkd's HTTP API: l3afd's /l3af/configs/v1 endpoints, /v1/status and /metrics. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>

#include "bpkd.h"
#include "listen_addr.h"
#include "util.h"

/* Largest request body: a configuration, not a package. */
#define BODY_MAX (4U << 20)
#define CONFIGS "/l3af/configs/v1"

struct request {
	struct strbuf body;
	bool too_large;
	const char *refused;	/* mutual TLS: why the client's certificate is not good enough */
};

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned int status,
				 const char *type, char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!text)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned int status, char *json)
{
	return send_text(conn, status, "application/json", json);
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned int status,
				  const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned int status,
				  const char *code, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	json_t *root;
	char *text;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	root = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg ?: code);
	text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	if (text) {
		char *nl = xasprintf("%s\n", text);

		free(text);
		text = nl;
	}
	return send_json(conn, status, text);
}

/* An apply's error as HTTP: status and code from the errno (docs/spec/agent.md §3). */
static enum MHD_Result send_apply_error(struct MHD_Connection *conn, int err, const char *msg)
{
	static const struct {
		int err;
		unsigned int status;
		const char *code;
	} map[] = {
		{ -EINVAL, 400, "invalid_config" },
		{ -ENODEV, 404, "no_such_interface" },
		{ -ENOENT, 400, "artifact_not_found" },
		{ -EKEYREJECTED, 400, "package_refused" },
		{ -ENOEXEC, 400, "program_rejected" },
		{ -EOPNOTSUPP, 400, "unsupported" },
		{ -EBUSY, 409, "hook_busy" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].err == err)
			return send_error(conn, map[i].status, map[i].code, "%s",
					  msg ?: strerror(-err));
	return send_error(conn, 500, "internal", "%s%s%s", msg ?: "", msg ? ": " : "",
			  strerror(-err));
}

static enum MHD_Result do_apply(struct bpkd *d, struct MHD_Connection *conn, const char *what,
				struct request *req)
{
	enum bpk_agent_op op = !strcmp(what, "update") ? BPK_AGENT_OP_UPDATE
			       : !strcmp(what, "add")  ? BPK_AGENT_OP_ADD
						       : BPK_AGENT_OP_DELETE;
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_agent_payload *payload = NULL;
	enum MHD_Result ret;
	int err;

	if (req->too_large)
		return send_error(conn, 413, "too_large", "the body is larger than %u bytes",
				  BODY_MAX);
	err = bpk_agent_payload__parse(req->body.buf ?: "", req->body.len,
				       op == BPK_AGENT_OP_DELETE ? BPK_AGENT_PAYLOAD_NAMES
								 : BPK_AGENT_PAYLOAD_PROGRAMS,
				       &error, &payload);
	if (err) {
		ret = send_error(conn, err == -EINVAL ? 400 : 500,
				 error.message && !strncmp(error.message, "invalid JSON", 12)
					 ? "invalid_json" : "invalid_config",
				 "%s", error.message ?: strerror(-err));
		fprintf(stderr, "bpkd: %s refused: %s\n", what, error.message ?: strerror(-err));
		bpk_error__release(&error);
		return ret;
	}
	pthread_mutex_lock(&d->lock);
	err = bpk_agent__apply(d->agent, op, payload, &error);
	pthread_mutex_unlock(&d->lock);
	bpk_agent_payload__free(payload);
	if (err) {
		fprintf(stderr, "bpkd: %s failed: %s\n", what, error.message ?: strerror(-err));
		ret = send_apply_error(conn, err, error.message);
	} else {
		if (d->verbose)
			fprintf(stderr, "bpkd: %s applied\n", what);
		ret = send_json(conn, 200, xasprintf("{\"applied\": \"%s\"}\n", what));
	}
	bpk_error__release(&error);
	return ret;
}

static enum MHD_Result route(struct bpkd *d, struct MHD_Connection *conn, const char *url,
			     const char *method, struct request *req)
{
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	char *text;

	if (!strncmp(url, CONFIGS, strlen(CONFIGS)) &&
	    (url[strlen(CONFIGS)] == '\0' || url[strlen(CONFIGS)] == '/')) {
		const char *rest = url + strlen(CONFIGS);

		if (*rest == '/')
			rest++;
		if (!strcmp(rest, "update") || !strcmp(rest, "add") || !strcmp(rest, "delete")) {
			if (strcmp(method, "POST"))
				return send_error(conn, 405, "method_not_allowed",
						  "%s/%s takes POST", CONFIGS, rest);
			return do_apply(d, conn, rest, req);
		}
		if (!get)
			return send_error(conn, 405, "method_not_allowed", "%s takes GET", url);
		if (strchr(rest, '/'))
			return send_error(conn, 404, "not_found", "no such endpoint: %s", url);
		pthread_mutex_lock(&d->lock);
		text = bpk_agent__config_json(d->agent, *rest ? rest : NULL);
		pthread_mutex_unlock(&d->lock);
		if (!text && errno == ENOENT)
			return send_error(conn, 404, "not_found",
					  "no configuration for interface '%s'", rest);
		return text ? send_json(conn, 200, text)
			    : send_error(conn, 500, "internal", "out of memory");
	}
	if (!strcmp(url, "/v1/status") || !strcmp(url, "/metrics")) {
		if (!get)
			return send_error(conn, 405, "method_not_allowed", "%s takes GET", url);
		pthread_mutex_lock(&d->lock);
		text = url[1] == 'v' ? bpk_agent__status_json(d->agent)
				     : bpk_agent__metrics(d->agent);
		pthread_mutex_unlock(&d->lock);
		if (!text)
			return send_error(conn, 500, "internal", "out of memory");
		return url[1] == 'v' ? send_json(conn, 200, text)
				     : send_text(conn, 200, "text/plain; version=0.0.4", text);
	}
	return send_error(conn, 404, "not_found", "no such endpoint: %s", url);
}

/*
 * Mutual TLS: NULL when the client presented a certificate that chains to --tls-client-ca
 * (gnutls checks the chain, validity dates and signatures), else why not. The handshake asks
 * for a certificate without requiring one (MHD's GNUTLS_CERT_REQUEST), so a refusal is an
 * HTTP 403 with a JSON error rather than a failed handshake the client cannot explain.
 */
static const char *client_cert_refusal(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session = ci ? (gnutls_session_t)ci->tls_session : NULL;
	unsigned int status = 0;
	int err;

	if (!session)
		return "no TLS session";
	if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509 ||
	    !gnutls_certificate_get_peers(session, &(unsigned int){ 0 }))
		return "a client certificate is required";
	err = gnutls_certificate_verify_peers2(session, &status);
	if (err == GNUTLS_E_NO_CERTIFICATE_FOUND)
		return "a client certificate is required";
	if (err < 0)
		return "the client certificate cannot be verified";
	if (status)
		return "the client certificate does not verify against the trusted client CA";
	return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct bpkd *d = cls;
	struct request *req = *con_cls;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		if (d->tls_client_ca)
			req->refused = client_cert_refusal(conn);
		return MHD_YES;
	}
	if (*upload_size) {
		/* The body of a refused client is read and dropped, never kept. */
		if (req->refused || req->body.len + *upload_size > BODY_MAX)
			req->too_large = true;
		else if (strbuf_add(&req->body, upload, *upload_size))
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (req->refused) {
		if (d->verbose)
			fprintf(stderr, "bpkd: %s %s refused: %s\n", method, url, req->refused);
		return send_error(conn, 403, "client_certificate_refused", "%s", req->refused);
	}
	return route(d, conn, url, method, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *req = *con_cls;

	if (req) {
		strbuf_release(&req->body);
		free(req);
	}
	*con_cls = NULL;
}

int bpkd_api_start(struct bpkd *d, const char *addr, char **ret_error)
{
	struct sockaddr_storage ss;
	/* One thread: requests are answered one at a time, as applies must be anyway. */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int err = parse_listen_addr(addr, &ss, ret_error);

	if (err)
		return err;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (d->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			*ret_error = xasprintf("this libmicrohttpd is built without TLS");
			return -EOPNOTSUPP;
		}
		flags |= MHD_USE_TLS;
	}
	/* The TLS options come last: an unused one is MHD_OPTION_END, which ends the list. */
	d->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, d, MHD_OPTION_SOCK_ADDR,
				     &ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, d,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
				     d->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
				     d->tls_cert,
				     d->tls_cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END,
				     d->tls_key,
				     d->tls_client_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END,
				     d->tls_client_ca, MHD_OPTION_END);
	if (!d->daemon) {
		/* MHD says no more than that it failed; a bad PEM file fails the same way. */
		*ret_error = xasprintf("cannot listen on %s%s: %s", addr,
				       d->tls_cert ? ", or the TLS certificate, key or client CA is not usable PEM"
						   : "",
				       strerror(errno ? errno : EIO));
		return -EADDRINUSE;
	}
	return 0;
}

void bpkd_api_stop(struct bpkd *d)
{
	if (d->daemon)
		MHD_stop_daemon(d->daemon);
	d->daemon = NULL;
}

// SPDX-License-Identifier: BSD-2-Clause
/* bpk-repo's HTTP layer: libmicrohttpd with a thread pool on epoll, bodies, answers, files. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "listen_addr.h"
#include "server.h"

/* How much of an oversized chunked body is read and dropped before the connection is cut. */
#define DISCARD_MAX (4ULL << 20)

const char *http_arg(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result queue(struct request *req, unsigned int status,
			     struct MHD_Response *response)
{
	enum MHD_Result ret;

	if (!response)
		return MHD_NO;
	MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(req->conn, status, response);
	MHD_destroy_response(response);
	req->status = status;
	return ret;
}

enum MHD_Result http_send(struct request *req, unsigned int status, const char *content_type,
			  const void *body, size_t len)
{
	struct MHD_Response *response;

	response = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (response && content_type)
		MHD_add_response_header(response, "Content-Type", content_type);
	return queue(req, status, response);
}

enum MHD_Result http_send_json(struct request *req, unsigned int status, char *json)
{
	struct MHD_Response *response;

	if (!json)
		return http_send_fail(req, BPK_REPO_E_INTERNAL, "out of memory");
	response = MHD_create_response_from_buffer(strlen(json), json, MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(json);
		return MHD_NO;
	}
	MHD_add_response_header(response, "Content-Type", "application/json");
	MHD_add_response_header(response, "Cache-Control", "no-store");
	return queue(req, status, response);
}

/* {"error": {"code", "message", "details"?}} (malloc()ed), or NULL. */
static char *error_document(const struct bpk_repo_error *error)
{
	json_t *root, *inner;
	json_t *details = error->details ? json_loads(error->details, 0, NULL) : NULL;
	char *text;

	inner = json_pack("{s:s, s:s}", "code", bpk_repo_err__name(error->code), "message",
			  error->message ? error->message : bpk_repo_err__name(error->code));
	if (inner && details)
		json_object_set_new(inner, "details", details);
	else
		json_decref(details);
	root = inner ? json_pack("{s:o}", "error", inner) : NULL;
	text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
	json_decref(root);
	return text;
}

enum MHD_Result http_send_error(struct request *req, const struct bpk_repo_error *error)
{
	return http_send_json(req, bpk_repo_err__status(error->code), error_document(error));
}

/* An error document with one extra header (Allow for 405, Content-Range for 416). */
static enum MHD_Result send_error_with(struct request *req, enum bpk_repo_err code,
				       const char *header, const char *value, const char *message)
{
	struct bpk_repo_error error = { .code = code, .message = (char *)message };
	char *text = error_document(&error);
	struct MHD_Response *response;

	if (!text)
		return MHD_NO;
	response = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(response, "Content-Type", "application/json");
	MHD_add_response_header(response, "Cache-Control", "no-store");
	MHD_add_response_header(response, header, value);
	return queue(req, bpk_repo_err__status(code), response);
}

enum MHD_Result http_send_not_allowed(struct request *req, const char *allow)
{
	char message[128];

	snprintf(message, sizeof(message), "%s is not allowed here; this resource takes %s",
		 req->method, allow);
	return send_error_with(req, BPK_REPO_E_METHOD_NOT_ALLOWED, "Allow", allow, message);
}

enum MHD_Result http_send_fail(struct request *req, enum bpk_repo_err code, const char *fmt, ...)
{
	struct bpk_repo_error error = { .code = code };
	enum MHD_Result ret;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&error.message, fmt, ap) < 0)
		error.message = NULL;
	va_end(ap);
	ret = http_send_error(req, &error);
	free(error.message);
	return ret;
}

/* One "bytes=" range of a file of size bytes: 0, -ENOENT (none or several: send it all), -ERANGE. */
static int parse_range(const char *header, uint64_t size, uint64_t *ret_start, uint64_t *ret_len)
{
	unsigned long long a, b;
	char *end;

	if (!header || strncmp(header, "bytes=", 6) || strchr(header, ','))
		return -ENOENT;
	header += 6;
	if (*header == '-') { /* the last N bytes */
		errno = 0;
		b = strtoull(header + 1, &end, 10);
		if (errno || *end || end == header + 1 || b == 0)
			return -ERANGE;
		if (b > size)
			b = size;
		*ret_start = size - b;
		*ret_len = b;
		return size ? 0 : -ERANGE;
	}
	errno = 0;
	a = strtoull(header, &end, 10);
	if (errno || end == header || *end != '-')
		return -ERANGE;
	header = end + 1;
	if (*header) {
		b = strtoull(header, &end, 10);
		if (errno || *end || b < a)
			return -ERANGE;
	} else {
		b = size ? size - 1 : 0;
	}
	if (a >= size)
		return -ERANGE;
	if (b >= size)
		b = size - 1;
	*ret_start = a;
	*ret_len = b - a + 1;
	return 0;
}

enum MHD_Result http_send_file(struct request *req, const char *path, const char *content_type,
			       const char *etag, bool immutable)
{
	struct MHD_Response *response;
	uint64_t start = 0, len;
	char quoted[80], range[96];
	const char *match;
	struct stat st;
	unsigned int status = 200;
	int fd, err = -ENOENT;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return http_send_fail(req, BPK_REPO_E_NOT_FOUND, "not found");
	}
	len = (uint64_t)st.st_size;
	if (etag) {
		snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
		match = http_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH);
		if (match && (strstr(match, quoted) || !strcmp(match, "*"))) {
			close(fd);
			response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
			if (response)
				MHD_add_response_header(response, "ETag", quoted);
			return queue(req, 304, response);
		}
		err = parse_range(http_header(req, MHD_HTTP_HEADER_RANGE), st.st_size, &start, &len);
		if (err == -ERANGE) {
			close(fd);
			snprintf(range, sizeof(range), "bytes */%" PRIu64, (uint64_t)st.st_size);
			return send_error_with(req, BPK_REPO_E_UNSATISFIABLE, "Content-Range", range,
					       "the range is outside the file");
		}
		if (err == 0)
			status = 206;
		else
			len = (uint64_t)st.st_size;
	}
	/* MHD sends it with sendfile() and closes fd with the response. */
	response = MHD_create_response_from_fd_at_offset64(len, fd, start);
	if (!response) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(response, "Content-Type", content_type);
	if (etag) {
		MHD_add_response_header(response, "ETag", quoted);
		MHD_add_response_header(response, "Accept-Ranges", "bytes");
	}
	MHD_add_response_header(response, "Cache-Control",
				immutable ? "public, max-age=31536000, immutable" : "no-cache");
	if (status == 206) {
		snprintf(range, sizeof(range), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, start,
			 start + len - 1, (uint64_t)st.st_size);
		MHD_add_response_header(response, "Content-Range", range);
	}
	return queue(req, status, response);
}

int http_split_path(char *path, char **segments, int max)
{
	int cnt = 0;
	char *save = NULL;

	while (*path == '/')
		path++;
	for (char *s = strtok_r(path, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (cnt == max || !strcmp(s, ".") || !strcmp(s, ".."))
			return -1;
		segments[cnt++] = s;
	}
	return cnt;
}

static void authenticate(struct request *req)
{
	const char *header = http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;

	req->auth = NULL;
	if (!header || strncasecmp(header, "Bearer ", 7))
		return;
	if (bpk_repo__authenticate(req->server->repo, header + 7, &req->auth_buf, &error) == 0)
		req->auth = &req->auth_buf;
	else
		snprintf(req->auth_error, sizeof(req->auth_error), "%s",
			 error.message ? error.message : "not a valid token");
	bpk_repo_error__release(&error);
}

static bool bad_token(struct request *req)
{
	const char *header = http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);

	return header && !req->auth;
}

static enum MHD_Result dispatch(struct request *req)
{
	enum MHD_Result ret;

	if (req->body_too_large)
		return http_send_fail(req, BPK_REPO_E_TOO_LARGE,
				      "the body is larger than this repository's limit of %llu bytes",
				      (unsigned long long)bpk_repo__max_package(req->server->repo));
	authenticate(req);
	/* A token that does not check out is refused, never silently taken as anonymous. */
	if (bad_token(req))
		return http_send_fail(req, BPK_REPO_E_UNAUTHORIZED, "the Authorization header: %s",
				      req->auth_error[0] ? req->auth_error : "not a Bearer token");
	if (route_api(req, &ret) || route_web(req, &ret))
		return ret;
	return http_send_fail(req, BPK_REPO_E_NOT_FOUND, "no such resource");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct server *server = cls;
	struct request *req = *con_cls;
	uint64_t limit = bpk_repo__max_package(server->repo);

	if (!req) {
		const char *length;

		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		req->server = server;
		req->conn = conn;
		req->url = url;
		req->head = !strcmp(method, MHD_HTTP_METHOD_HEAD);
		req->method = req->head ? MHD_HTTP_METHOD_GET : method;
		*con_cls = req;
		/*
		 * Refuse a declared oversized body before reading a byte of it: a client that
		 * sent "Expect: 100-continue" (libcurl does past 1 MiB) gets 413 instead of
		 * 100 and never sends the body.
		 */
		length = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (length && strtoull(length, NULL, 10) > limit) {
			req->body_too_large = true;
			return dispatch(req);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!req->body_too_large && req->body.len + *upload_data_size <= limit) {
			if (strbuf_add(&req->body, upload_data, *upload_data_size))
				return MHD_NO;
		} else {
			/*
			 * A chunked body past the limit: keep nothing, but read on (up to
			 * DISCARD_MAX more) so that the client is listening when 413 comes.
			 */
			if (!req->body_too_large)
				strbuf_release(&req->body);
			req->body_too_large = true;
			req->discarded += *upload_data_size;
			if (req->discarded > DISCARD_MAX)
				return MHD_NO;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->status) /* answered while the body came in */
		return MHD_YES;
	return dispatch(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct server *server = cls;
	struct request *req = *con_cls;

	if (!req)
		return;
	if (req->status >= 100 && req->status < 600)
		atomic_fetch_add(&server->metrics.requests[req->status / 100], 1);
	strbuf_release(&req->body);
	free(req);
	*con_cls = NULL;
}

/*
 * URL decoding for MHD: %XX as usual, except %00, which stays as the three characters it is.
 * A decoded NUL would end the C string early and let "/v1/index/root.json%00.pem" be served
 * as the path it was cut down to, one nobody checked.
 */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *text)
{
	char *in = text, *out = text;

	while (*in) {
		if (in[0] == '%' && isxdigit((unsigned char)in[1]) && isxdigit((unsigned char)in[2]) &&
		    !(in[1] == '0' && in[2] == '0')) {
			char hex[3] = { in[1], in[2], '\0' };

			*out++ = (char)strtoul(hex, NULL, 16);
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return (size_t)(out - text);
}

int server_start(struct server *server, const char *addr, unsigned int threads, char **ret_error)
{
	struct sockaddr_storage ss;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
	int err;

	err = parse_listen_addr(addr, &ss, ret_error);
	if (err)
		return err;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	server->started = time(NULL);
	server->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, server, MHD_OPTION_SOCK_ADDR, &ss,
		MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed,
		server,
		/* A slow client holds a connection at most this long without progress. */
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)4096, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
		MHD_OPTION_END);
	if (!server->daemon) {
		*ret_error = xasprintf("cannot listen on %s: %s", addr, strerror(errno ? errno : EIO));
		return -EADDRINUSE;
	}
	return 0;
}

void server_stop(struct server *server)
{
	if (server->daemon)
		MHD_stop_daemon(server->daemon);
	server->daemon = NULL;
}

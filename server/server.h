/* SPDX-License-Identifier: BSD-2-Clause */
/* bpk-repo: what the HTTP layer (http.c) and the routes (route-*.c) share. */
#ifndef BPK_SERVER_H
#define BPK_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include <bpk/repo.h>

#include "util.h"

/* Counters for /metrics; updated from every worker thread. */
struct server_metrics {
	atomic_ullong requests[6]; /* by status class: 1xx..5xx, index 0 unused */
	atomic_ullong publishes;
	atomic_ullong publish_refused;
	atomic_ullong downloads;
	atomic_ullong download_bytes;
	atomic_ullong searches;
	atomic_ullong web_pages;
};

struct server {
	struct bpk_repo *repo;
	struct MHD_Daemon *daemon;
	struct server_metrics metrics;
	int64_t started;
};

/* One request, from its first byte to its answer. */
struct request {
	struct server *server;
	struct MHD_Connection *conn;
	const char *method; /* "GET" (also for HEAD), "PUT", "POST", ... */
	const char *url;    /* decoded path, without the query */
	bool head;
	/* Filled from "Authorization: Bearer" when the token is valid. */
	struct bpk_repo_auth auth_buf;
	const struct bpk_repo_auth *auth;
	char auth_error[160]; /* why the token was refused ("token 1a2b... has expired") */
	/* The body, read as it arrives, up to the repository's package limit. */
	struct strbuf body;
	bool body_too_large;
	uint64_t discarded; /* bytes of an oversized body read and dropped */
	unsigned int status; /* what was answered, for the metrics */
};

/* A query-string argument, or NULL. */
const char *http_arg(struct request *req, const char *name);
const char *http_header(struct request *req, const char *name);

/* Answers. Each returns what the MHD access handler returns. */
enum MHD_Result http_send(struct request *req, unsigned int status, const char *content_type,
			  const void *body, size_t len);
/* Takes ownership of json (a malloc()ed string). */
enum MHD_Result http_send_json(struct request *req, unsigned int status, char *json);
enum MHD_Result http_send_error(struct request *req, const struct bpk_repo_error *error);
/* 405 with "Allow: allow". */
enum MHD_Result http_send_not_allowed(struct request *req, const char *allow);
/* An error without a bpk_repo_error behind it. */
enum MHD_Result http_send_fail(struct request *req, enum bpk_repo_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Send the file at path: ETag, If-None-Match (304) and one byte range (206, 416) when etag is
 * given (content-addressed files); the whole file otherwise.
 */
enum MHD_Result http_send_file(struct request *req, const char *path, const char *content_type,
			       const char *etag, bool immutable);

/*
 * Split a path (without the leading '/') into at most max segments, each non-empty, none "."
 * or "..". Returns the count, or -1 for a path that is not clean.
 */
int http_split_path(char *path, char **segments, int max);

/* The routes: each returns true when it answered the request (*ret set). */
bool route_api(struct request *req, enum MHD_Result *ret);
bool route_web(struct request *req, enum MHD_Result *ret);

/* Start and stop the HTTP server on addr ("127.0.0.1:8080", "[::1]:8080"). */
int server_start(struct server *server, const char *addr, unsigned int threads, char **ret_error);
void server_stop(struct server *server);

#endif

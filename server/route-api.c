// SPDX-License-Identifier: BSD-2-Clause
/* bpk-repo's JSON API, the signed index, l3afd's download layout and /metrics (docs/spec/repository.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpk/manifest.h>

#include "server.h"

#define MAX_SEGMENTS 8

static enum MHD_Result answer(struct request *req, int err, char *json,
			      struct bpk_repo_error *error, unsigned int status)
{
	enum MHD_Result ret;

	if (err)
		ret = http_send_error(req, error);
	else
		ret = http_send_json(req, status, json);
	bpk_repo_error__release(error);
	return ret;
}

static bool parse_u64(const char *text, uint64_t *ret)
{
	char *end;

	if (!text)
		return true;
	errno = 0;
	*ret = strtoull(text, &end, 10);
	return !errno && *text && !*end && *text != '-';
}

static enum MHD_Result search(struct request *req)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	struct bpk_repo_query query = {
		.text = http_arg(req, "q"),
		.type = http_arg(req, "type"),
		.platform = http_arg(req, "platform"),
		.kernel = http_arg(req, "kernel"),
		.tag = http_arg(req, "tag"),
		.feed = http_arg(req, "feed"),
	};
	char *json = NULL;
	int err;

	if (!parse_u64(http_arg(req, "skip"), &query.skip) ||
	    !parse_u64(http_arg(req, "take"), &query.take))
		return http_send_fail(req, BPK_REPO_E_BAD_REQUEST,
				      "skip and take are non-negative integers");
	atomic_fetch_add(&req->server->metrics.searches, 1);
	err = bpk_repo__search(req->server->repo, req->auth, &query, &json, &error);
	return answer(req, err, json, &error, 200);
}

static enum MHD_Result publish(struct request *req)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	char *json = NULL;
	int err;

	err = bpk_repo__publish(req->server->repo, req->auth, req->body.buf, req->body.len, &json,
				&error);
	atomic_fetch_add(err ? &req->server->metrics.publish_refused
			     : &req->server->metrics.publishes,
			 1);
	return answer(req, err, json, &error, 201);
}

static enum MHD_Result download(struct request *req, const char *name, const char *version)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	_cleanup_free_ char *path = NULL;
	char sha[65];
	uint64_t size;
	int err;

	err = bpk_repo__blob(req->server->repo, req->auth, name, version, &path, sha, &size,
			     &error);
	if (err)
		return answer(req, err, NULL, &error, 0);
	atomic_fetch_add(&req->server->metrics.downloads, 1);
	atomic_fetch_add(&req->server->metrics.download_bytes, size);
	return http_send_file(req, path, "application/vnd.bpk", sha, true);
}

static enum MHD_Result package_file(struct request *req, const char *name, const char *version,
				    const char *file, const char *content_type)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	enum MHD_Result ret;
	void *data = NULL;
	size_t len;
	int err;

	err = bpk_repo__package_file(req->server->repo, req->auth, name, version, file, &data,
				     &len, &error);
	if (err)
		return answer(req, err, NULL, &error, 0);
	ret = http_send(req, 200, content_type, data, len);
	free(data);
	return ret;
}

/*
 * /v1/packages/NAME[/VERSION[/ACTION]]: NAME may hold one '/', so the segments are read from
 * the end: an action, then a version (a feed/name never ends in a version, publish refuses
 * such names).
 */
static enum MHD_Result packages(struct request *req, char **seg, int cnt)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	const char *action = NULL, *version = NULL;
	char name[256];
	char *json = NULL;
	int err;

	if (cnt > 0 && (!strcmp(seg[cnt - 1], "package.bpk") || !strcmp(seg[cnt - 1], "yank") ||
			!strcmp(seg[cnt - 1], "unyank") || !strcmp(seg[cnt - 1], "README.md") ||
			!strcmp(seg[cnt - 1], "bpk.json")))
		action = seg[--cnt];
	if (cnt > 1 && bpk_semver__valid(seg[cnt - 1]))
		version = seg[--cnt];
	if (cnt < 1 || cnt > 2 || (action && !version))
		return http_send_fail(req, BPK_REPO_E_NOT_FOUND, "no such resource");
	snprintf(name, sizeof(name), "%s%s%s", seg[0], cnt == 2 ? "/" : "", cnt == 2 ? seg[1] : "");

	if (action && (!strcmp(action, "yank") || !strcmp(action, "unyank"))) {
		if (strcmp(req->method, MHD_HTTP_METHOD_POST))
			return http_send_not_allowed(req, "POST");
		err = bpk_repo__set_yanked(req->server->repo, req->auth, name, version,
					   !strcmp(action, "yank"), &json, &error);
		return answer(req, err, json, &error, 200);
	}
	if (strcmp(req->method, MHD_HTTP_METHOD_GET))
		return http_send_not_allowed(req, "GET, HEAD");
	if (action && !strcmp(action, "package.bpk"))
		return download(req, name, version);
	if (action && !strcmp(action, "README.md"))
		return package_file(req, name, version, "README.md", "text/markdown; charset=utf-8");
	if (action)
		return package_file(req, name, version, "bpk.json", "application/json");
	if (version)
		err = bpk_repo__version(req->server->repo, req->auth, name, version, &json, &error);
	else
		err = bpk_repo__package(req->server->repo, req->auth, name, &json, &error);
	return answer(req, err, json, &error, 200);
}

static enum MHD_Result index_file(struct request *req, const char *feed, const char *file)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	_cleanup_free_ char *path = NULL;
	int err;

	err = bpk_repo__index_file(req->server->repo, req->auth, feed, file, &path, &error);
	if (err)
		return answer(req, err, NULL, &error, 0);
	/* N.root.json never changes; the others are replaced on every publish. */
	return http_send_file(req, path, "application/json", NULL,
			      strcmp(file, "root.json") && strstr(file, ".root.json"));
}

static enum MHD_Result metrics(struct request *req)
{
	struct server_metrics *m = &req->server->metrics;
	struct strbuf sb = STRBUF_INIT;
	enum MHD_Result ret;

	strbuf_addstr(&sb, "# HELP bpk_repo_http_requests_total HTTP requests answered, by status class.\n"
			   "# TYPE bpk_repo_http_requests_total counter\n");
	for (int i = 1; i < 6; i++)
		strbuf_addf(&sb, "bpk_repo_http_requests_total{code=\"%dxx\"} %llu\n", i,
			    (unsigned long long)atomic_load(&m->requests[i]));
	strbuf_addf(&sb,
		    "# HELP bpk_repo_publishes_total Packages published.\n"
		    "# TYPE bpk_repo_publishes_total counter\n"
		    "bpk_repo_publishes_total %llu\n"
		    "# HELP bpk_repo_publish_refused_total Publishes refused.\n"
		    "# TYPE bpk_repo_publish_refused_total counter\n"
		    "bpk_repo_publish_refused_total %llu\n"
		    "# HELP bpk_repo_downloads_total Package downloads started.\n"
		    "# TYPE bpk_repo_downloads_total counter\n"
		    "bpk_repo_downloads_total %llu\n"
		    "# HELP bpk_repo_download_bytes_total Bytes of packages requested.\n"
		    "# TYPE bpk_repo_download_bytes_total counter\n"
		    "bpk_repo_download_bytes_total %llu\n"
		    "# HELP bpk_repo_searches_total Searches answered.\n"
		    "# TYPE bpk_repo_searches_total counter\n"
		    "bpk_repo_searches_total %llu\n"
		    "# HELP bpk_repo_web_pages_total Web UI pages served.\n"
		    "# TYPE bpk_repo_web_pages_total counter\n"
		    "bpk_repo_web_pages_total %llu\n"
		    "# HELP bpk_repo_start_time_seconds When this server started.\n"
		    "# TYPE bpk_repo_start_time_seconds gauge\n"
		    "bpk_repo_start_time_seconds %lld\n",
		    (unsigned long long)atomic_load(&m->publishes),
		    (unsigned long long)atomic_load(&m->publish_refused),
		    (unsigned long long)atomic_load(&m->downloads),
		    (unsigned long long)atomic_load(&m->download_bytes),
		    (unsigned long long)atomic_load(&m->searches),
		    (unsigned long long)atomic_load(&m->web_pages), (long long)req->server->started);
	ret = http_send(req, 200, "text/plain; version=0.0.4", sb.buf, sb.len);
	strbuf_release(&sb);
	return ret;
}

/* l3afd's layout: /NAME/VERSION/ARTIFACT or /NAME/VERSION/PLATFORM/ARTIFACT, NAME with one '/'. */
static bool l3afd_layout(struct request *req, char **seg, int cnt, enum MHD_Result *ret)
{
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	_cleanup_free_ char *path = NULL;
	char name[256];
	int v, err;

	for (v = 1; v <= 2 && v < cnt; v++) {
		if (bpk_semver__valid(seg[v]) && (cnt - v - 1 == 1 || cnt - v - 1 == 2))
			break;
	}
	if (v > 2 || v >= cnt)
		return false;
	snprintf(name, sizeof(name), "%s%s%s", seg[0], v == 2 ? "/" : "", v == 2 ? seg[1] : "");
	err = bpk_repo__artifact(req->server->repo, req->auth, name, seg[v], seg[cnt - 1], &path,
				 &error);
	if (err) {
		*ret = answer(req, err, NULL, &error, 0);
		return true;
	}
	atomic_fetch_add(&req->server->metrics.downloads, 1);
	*ret = http_send_file(req, path,
			      strstr(seg[cnt - 1], ".tar.gz") ? "application/gzip"
							      : "application/vnd.bpk",
			      NULL, true);
	return true;
}

bool route_api(struct request *req, enum MHD_Result *ret)
{
	_cleanup_free_ char *path = strdup(req->url);
	char *seg[MAX_SEGMENTS];
	struct bpk_repo_error error = BPK_REPO_ERROR_INIT;
	bool get = !strcmp(req->method, MHD_HTTP_METHOD_GET);
	char *json = NULL;
	int cnt, err;

	if (!path) {
		*ret = MHD_NO;
		return true;
	}
	cnt = http_split_path(path, seg, MAX_SEGMENTS);
	if (cnt < 0) {
		*ret = http_send_fail(req, BPK_REPO_E_NOT_FOUND, "no such resource");
		return true;
	}
	if (cnt == 1 && !strcmp(seg[0], "metrics") && get) {
		*ret = metrics(req);
		return true;
	}
	/* The web UI's paths are never l3afd's: no feed may be called "packages" or "static". */
	if (cnt == 0 || !strcmp(seg[0], "packages") || !strcmp(seg[0], "static"))
		return false;
	if (strcmp(seg[0], "v1"))
		return get && cnt >= 3 && l3afd_layout(req, seg, cnt, ret);

	if (cnt == 1 && get) {
		err = bpk_repo__service_index(req->server->repo, req->auth, &json, &error);
		*ret = answer(req, err, json, &error, 200);
	} else if (cnt == 2 && !strcmp(seg[1], "search") && get) {
		*ret = search(req);
	} else if (cnt == 2 && !strcmp(seg[1], "packages")) {
		if (strcmp(req->method, MHD_HTTP_METHOD_PUT) && strcmp(req->method, MHD_HTTP_METHOD_POST))
			*ret = http_send_not_allowed(req, "PUT, POST");
		else
			*ret = publish(req);
	} else if (cnt >= 3 && !strcmp(seg[1], "packages")) {
		*ret = packages(req, seg + 2, cnt - 2);
	} else if (cnt == 3 && !strcmp(seg[1], "index") && get) {
		*ret = index_file(req, "public", seg[2]);
	} else if (cnt == 5 && !strcmp(seg[1], "feeds") && !strcmp(seg[3], "index") && get) {
		*ret = index_file(req, seg[2], seg[4]);
	} else {
		*ret = http_send_fail(req, BPK_REPO_E_NOT_FOUND, "no such resource");
	}
	return true;
}

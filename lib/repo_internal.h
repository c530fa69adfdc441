/* SPDX-License-Identifier: BSD-2-Clause */
/* Internal to libbpk: what the repository's files (repo.c, repo_publish.c, repo_query.c) share. */
#ifndef BPK_REPO_INTERNAL_H
#define BPK_REPO_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <bpk/repo.h>

#include "store.h"

struct bpk_repo {
	char *dir;
	struct bpk_store *store;
	uint64_t max_package;
	int64_t now; /* fixed clock for tests; 0: time() */
	bool review; /* load and test every package at publish */
	/* Index writers, within this process; a lock file covers other processes. */
	pthread_mutex_t index_lock;
	/* Held shared by a publish from blob write to commit, exclusive by the orphan sweep. */
	char *publish_lock;
	/* name@version -> blob, for downloads (repo.c) */
	struct blob_cache *blob_cache;
	char *root_pem;
	size_t root_pem_len;
	char *online_pem;
	size_t online_pem_len;
	char root_keyid[65];
	char online_keyid[65];
};

struct repo_feed {
	bool found;
	bool private;
	bool allow_unsigned;
	bool require_verified;
};

int repo_fail(struct bpk_repo_error *error, enum bpk_repo_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int64_t repo_now(const struct bpk_repo *repo);
/* RFC 3339 text of t (malloc()ed). */
char *repo_time_text(int64_t t);

bool repo_feed_name_valid(const char *feed);
/* The feed of a package name: the part before '/', or "public". */
int repo_feed_of(const char *name, char *feed, size_t size);
/* Read feed name; ret_feed->found tells whether it exists. Returns >= 0 or a negative errno. */
int repo_feed_get(struct bpk_repo *repo, struct bpk_store_conn *conn, const char *name,
		  struct repo_feed *ret_feed);
bool repo_can_read(const struct repo_feed *feed, const char *feed_name,
		   const struct bpk_repo_auth *auth);
/* Every feed name, NULL-terminated (free with bpk_free_names). */
int repo_feed_names(struct bpk_repo *repo, struct bpk_store_conn *conn, char ***ret_names);
struct blob_cache *repo_blob_cache_new(void);
void repo_blob_cache_free(struct blob_cache *cache);
/* blobs/sha256/ab/abcd... (malloc()ed). */
char *repo_blob_path(const struct bpk_repo *repo, const char *sha256);

/* Append a line to the audit log, inside the caller's transaction when it has one. */
int repo_audit(struct bpk_repo *repo, struct bpk_store_conn *conn,
	       const struct bpk_repo_auth *auth, const char *action, const char *subject,
	       const char *detail);
/*
 * Bring feed's signed index in line with the database, signing it again when it differs. With
 * recover (at start), also when the index does not verify as a whole (a crash mid-write, an
 * expired timestamp), after removing the temporary files of a cut-short write.
 */
int repo_index_sync(struct bpk_repo *repo, struct bpk_store_conn *conn, const char *feed,
		    bool recover, struct bpk_repo_error *error);

#endif

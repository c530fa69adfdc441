/* SPDX-License-Identifier: BSD-2-Clause */
/* The repository (DESIGN.md §5): feeds, tokens, publish, yank, search, the signed index. */
#ifndef BPK_REPO_H
#define BPK_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Everything bpk-repo does is a call here; the server only maps HTTP to these calls and their
 * answers back (docs/spec/repository.md). Answers are JSON documents, the same bytes the API
 * serves and the web UI reads. A struct bpk_repo may be used by many threads at once.
 */
struct bpk_repo;

/* Why a call refused, as the API reports it. */
enum bpk_repo_err {
	BPK_REPO_OK,
	BPK_REPO_E_BAD_REQUEST,	    /* a malformed argument [400] */
	BPK_REPO_E_INVALID_PACKAGE, /* lint errors or a signature refusal [400] */
	BPK_REPO_E_UNAUTHORIZED,    /* no token, or an unknown, expired or revoked one [401] */
	BPK_REPO_E_FORBIDDEN,	    /* a token of another feed or a lower scope [403] */
	BPK_REPO_E_NOT_FOUND,	    /* absent, or in a private feed the caller cannot read [404] */
	BPK_REPO_E_EXISTS,	    /* name@version was published before [409] */
	BPK_REPO_E_TOO_LARGE,	    /* past the package size limit [413] */
	BPK_REPO_E_INTERNAL,	    /* storage or signing failed [500] */
	BPK_REPO_E_METHOD_NOT_ALLOWED, /* the resource does not take that method [405] */
	BPK_REPO_E_UNSATISFIABLE,   /* a byte range outside the file [416] */
};

/*
 * What a refused call says: code, a sentence, and for a refused package a JSON array of every
 * lint error ([{"id","name","path","message"}]). Release with bpk_repo_error__release().
 */
struct bpk_repo_error {
	enum bpk_repo_err code;
	char *message;
	char *details; /* JSON array or NULL */
};
#define BPK_REPO_ERROR_INIT { BPK_REPO_OK, NULL, NULL }

void bpk_repo_error__release(struct bpk_repo_error *error);
/* "bad_request", "not_found", ...: the API's error code. */
const char *bpk_repo_err__name(enum bpk_repo_err code);
/* The HTTP status of an error code (200 for BPK_REPO_OK). */
unsigned int bpk_repo_err__status(enum bpk_repo_err code);

enum bpk_repo_scope {
	BPK_REPO_SCOPE_NONE,
	BPK_REPO_SCOPE_READ,
	BPK_REPO_SCOPE_PUSH,
	BPK_REPO_SCOPE_YANK,
	BPK_REPO_SCOPE_ADMIN,
};
const char *bpk_repo_scope__name(enum bpk_repo_scope scope);
int bpk_repo_scope__from_name(const char *name, enum bpk_repo_scope *ret_scope);

/* Who is asking: the feed and scope of a token; anonymous callers pass NULL. */
struct bpk_repo_auth {
	char feed[128];
	enum bpk_repo_scope scope;
	char token_id[16];
};

struct bpk_repo_opts {
	size_t sz;
	/* "postgresql://..." for PostgreSQL; NULL: DIR/repo.db with SQLite. */
	const char *db;
	/* Largest package accepted, in bytes; 0: 64 MiB. */
	uint64_t max_package;
	/* The clock, seconds since the epoch; 0: time(). For tests. */
	int64_t now;
	/*
	 * Do not load published packages into the verifier nor run their tests (bpk_review__pkg);
	 * their record then says "verified": null, and feeds that require verification refuse.
	 */
	bool no_review;
};
#define bpk_repo_opts__last_field no_review

/*
 * Open the repository in dir, creating the data directory, the database schema, the index keys,
 * the public feed and its index on first use, removing upload leftovers and orphan blobs, and
 * bringing each feed's signed index up to date with the database (a crash between a commit
 * and the index update). NULL with errno set and error filled.
 */
struct bpk_repo *bpk_repo__open(const char *dir, const struct bpk_repo_opts *opts,
				struct bpk_repo_error *error);
void bpk_repo__free(struct bpk_repo *repo);
uint64_t bpk_repo__max_package(const struct bpk_repo *repo);
const char *bpk_repo__dir(const struct bpk_repo *repo);

/* ---- feeds ---- */

enum {
	BPK_REPO_FEED_F_PRIVATE = 1 << 0,
	BPK_REPO_FEED_F_ALLOW_UNSIGNED = 1 << 1,
	BPK_REPO_FEED_F_REQUIRE_VERIFIED = 1 << 2,
};

/* Create feed name (-EEXIST if it exists). Returns 0 or a negative errno; error says why. */
int bpk_repo__feed_create(struct bpk_repo *repo, const char *name, unsigned int flags,
			  struct bpk_repo_error *error);
/* Trust an Ed25519 public key (PEM) for publishing to feed name. */
int bpk_repo__feed_trust(struct bpk_repo *repo, const char *name, const void *pem, size_t len,
			 struct bpk_repo_error *error);
/* The feeds as a JSON array [{"name","private","allow_unsigned","require_verified","packages"}]. */
int bpk_repo__feed_list(struct bpk_repo *repo, char **ret_json, struct bpk_repo_error *error);

/* ---- tokens ---- */

/*
 * A new token for feed with scope, valid for lifetime seconds (0: no expiry). *ret_token is
 * the secret (malloc()ed), shown once; *ret_id (16 bytes) names it in lists and the audit log.
 */
int bpk_repo__token_create(struct bpk_repo *repo, const char *feed, enum bpk_repo_scope scope,
			   uint64_t lifetime, const char *comment, char **ret_token,
			   char ret_id[16], struct bpk_repo_error *error);
int bpk_repo__token_revoke(struct bpk_repo *repo, const char *id, struct bpk_repo_error *error);
/* [{"id","feed","scope","created","expires","revoked","comment"}]: never the secret. */
int bpk_repo__token_list(struct bpk_repo *repo, char **ret_json, struct bpk_repo_error *error);
/*
 * Who token belongs to. Returns 0, or -EACCES with error BPK_REPO_E_UNAUTHORIZED for an
 * unknown, revoked or expired token.
 */
int bpk_repo__authenticate(struct bpk_repo *repo, const char *token, struct bpk_repo_auth *ret_auth,
			   struct bpk_repo_error *error);

/* ---- packages ---- */

/*
 * Publish the package in buf (docs/spec/repository.md §5 gives the order of the checks).
 * *ret_json: {"name","version","feed","sha256","size"}. Returns 0 or a negative errno with
 * error saying why (BPK_REPO_E_INVALID_PACKAGE with details, _EXISTS, _FORBIDDEN, ...).
 */
int bpk_repo__publish(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const void *buf,
		      size_t len, char **ret_json, struct bpk_repo_error *error);
int bpk_repo__set_yanked(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *name,
			 const char *version, bool yanked, char **ret_json,
			 struct bpk_repo_error *error);

struct bpk_repo_query {
	const char *text;     /* words to find in names, descriptions and tags; NULL: all */
	const char *type;     /* a program type ("xdp") */
	const char *platform; /* "linux" or "windows" */
	const char *kernel;   /* a kernel release the package must accept */
	const char *tag;
	const char *feed;
	uint64_t skip;
	uint64_t take; /* 0: 20; at most 100 */
};

int bpk_repo__search(struct bpk_repo *repo, const struct bpk_repo_auth *auth,
		     const struct bpk_repo_query *query, char **ret_json,
		     struct bpk_repo_error *error);
/* The versions of a package, or one version's record (docs/spec/repository.md §4). */
int bpk_repo__package(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *name,
		      char **ret_json, struct bpk_repo_error *error);
int bpk_repo__version(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *name,
		      const char *version, char **ret_json, struct bpk_repo_error *error);

/* Where name@version's bytes are: a blob path (malloc()ed), its SHA-256 and its size. */
int bpk_repo__blob(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *name,
		   const char *version, char **ret_path, char ret_sha256[65], uint64_t *ret_size,
		   struct bpk_repo_error *error);
/*
 * A file of name@version's package (README.md, bpk.json, ...) as a malloc()ed buffer.
 */
int bpk_repo__package_file(struct bpk_repo *repo, const struct bpk_repo_auth *auth,
			   const char *name, const char *version, const char *path, void **ret_data,
			   size_t *ret_len, struct bpk_repo_error *error);
/*
 * l3afd's artifact for name@version: "*.tar.gz" is a gzip tar of the package's objects at
 * its top level plus bpk.json, "*.bpk" the package. A path (malloc()ed) to serve.
 */
int bpk_repo__artifact(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *name,
		       const char *version, const char *artifact, char **ret_path,
		       struct bpk_repo_error *error);

/* ---- the signed index and the service index ---- */

/* The path of file ("timestamp.json", "3.root.json") of feed's index, if the caller may read it. */
int bpk_repo__index_file(struct bpk_repo *repo, const struct bpk_repo_auth *auth, const char *feed,
			 const char *file, char **ret_path, struct bpk_repo_error *error);
/* Sign a new timestamp for every feed whose timestamp is past half its life. */
int bpk_repo__refresh(struct bpk_repo *repo, struct bpk_repo_error *error);
/* GET /v1/: API version, features, keys, the feeds the caller may read. */
int bpk_repo__service_index(struct bpk_repo *repo, const struct bpk_repo_auth *auth,
			    char **ret_json, struct bpk_repo_error *error);

/* ---- operations ---- */

/* The audit log, oldest first: [{"time","actor","action","subject","detail"}]. */
int bpk_repo__audit(struct bpk_repo *repo, char **ret_json, struct bpk_repo_error *error);
/*
 * Write the static read path to dir: v1/index.json (the anonymous service index, GET /v1/),
 * v1/index/, v1/feeds/FEED/index/, v1/packages/NAME/VERSION/package.bpk, and l3afd's
 * NAME/VERSION/NAME.tar.gz, for the public feeds (private ones too with include_private).
 * dir must not exist or be empty (-EINVAL otherwise).
 */
int bpk_repo__export(struct bpk_repo *repo, const char *dir, bool include_private,
		     struct bpk_repo_error *error);
/* The database's consistency check and that every version's blob exists with its digest. */
int bpk_repo__check(struct bpk_repo *repo, char **ret_report, struct bpk_repo_error *error);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* The repository client: configured repositories, verified indexes, search, publish, fetch. */
#ifndef BPK_REPO_CLIENT_H
#define BPK_REPO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpk/index.h>
#include <bpk/sign.h>

/*
 * The client side of docs/spec/repository.md. A repository is configured once (`add`: its
 * URL and the root of its signed index, pinned by key id or trusted on first use) in
 * CONFIG/repos.d/NAME.json; every later command verifies the index of the package's feed
 * (bpk_index_client, state in CACHE/index/NAME/FEED/) and resolves and checks packages
 * against it, never against what the search API says.
 */
struct bpk_repo_client;
/* One configured repository, owned by the client that loaded it. */
struct bpk_repo;

/* Subdirectory of the configuration directory that holds one NAME.json a repository. */
#define BPK_REPO_CONFIG_SUBDIR "repos.d"
/* Where `install` extracts packages when no root is given: ROOT/NAME/VERSION/. */
#define BPK_REPO_DEFAULT_INSTALL_ROOT "/var/lib/bpk/packages"
/* Largest JSON answer of the API read into memory, and largest token file. */
#define BPK_REPO_MAX_JSON_LEN (8ULL << 20)
#define BPK_REPO_MAX_TOKEN_LEN 4096U

/* A transfer under way, for a progress bar. */
struct bpk_repo_progress {
	const char *name;      /* what moves: "ratelimit-1.2.0.bpk" */
	uint64_t done;	       /* bytes so far, counting those resumed from */
	uint64_t total;	       /* bytes in all; 0 when not known */
	uint64_t resumed_from; /* bytes that were already there when the transfer began */
	bool upload;
	bool finished; /* the last report of this transfer, sent whatever its outcome */
};
typedef void (*bpk_repo_progress_fn)(void *ctx, const struct bpk_repo_progress *progress);

struct bpk_repo_client_opts {
	size_t sz;
	/*
	 * The configuration directory (repos.d/ is under it). NULL: $BPK_CONFIG_DIR, else
	 * /etc/bpk when running as root, else $XDG_CONFIG_HOME/bpk or ~/.config/bpk.
	 */
	const char *config_dir;
	/*
	 * The cache directory (index/ and packages/ are under it). NULL: $BPK_CACHE_DIR, else
	 * /var/cache/bpk as root, else $XDG_CACHE_HOME/bpk or ~/.cache/bpk.
	 */
	const char *cache_dir;
	/* Called as package bytes move (not for index files or API answers). */
	bpk_repo_progress_fn progress;
	void *progress_ctx;
	/* Seconds a connection may take to open, or a transfer may stall; 0: 30. */
	unsigned int timeout;
	/* The current time for index expiry, seconds since the epoch; 0: the clock. */
	int64_t now;
};
#define bpk_repo_client_opts__last_field now

/*
 * A client, owned by the caller. Nothing is read until a call needs the configuration.
 * Returns NULL with errno ENOMEM, or ENOENT when no directory was given and neither the
 * environment nor $HOME names one.
 */
struct bpk_repo_client *bpk_repo_client__new(const struct bpk_repo_client_opts *opts);
void bpk_repo_client__free(struct bpk_repo_client *client);
/* The directories in use (after the defaults were applied). */
const char *bpk_repo_client__config_dir(const struct bpk_repo_client *client);
const char *bpk_repo_client__cache_dir(const struct bpk_repo_client *client);

/*
 * Why the last call failed: one sentence owned by client, fit to follow "cannot fetch 'x': ".
 * When a repository answered with an error, http_status is its status (0 otherwise) and
 * server_code the "code" of its error document ("exists", "invalid_package"; NULL if none).
 */
const char *bpk_repo_client__errstr(const struct bpk_repo_client *client);
long bpk_repo_client__http_status(const struct bpk_repo_client *client);
const char *bpk_repo_client__server_code(const struct bpk_repo_client *client);

/* One entry of a refusal's "details" (a lint error for a refused publish). */
struct bpk_repo_detail {
	const char *id;	     /* "E003", or NULL */
	const char *name;    /* "missing-readme", or NULL */
	const char *path;    /* the file in the package, or NULL */
	const char *message; /* never NULL */
};
/* The details of the last refusal, in the server's order; owned by client. */
size_t bpk_repo_client__detail_cnt(const struct bpk_repo_client *client);
const struct bpk_repo_detail *bpk_repo_client__detail(const struct bpk_repo_client *client,
						       size_t idx);

/* ---- configuration ---- */

/*
 * Read repos.d (again): every NAME.json, which must all parse, or none is used. A missing
 * directory is no repository. Every call below that needs the configuration reads it first
 * if it was not read. Returns 0 or a negative errno (-EINVAL: errstr names the file).
 */
int bpk_repo_client__load_config(struct bpk_repo_client *client);
/* The repositories in name order; NULL past the end or before a successful load. */
size_t bpk_repo_client__repo_cnt(const struct bpk_repo_client *client);
const struct bpk_repo *bpk_repo_client__repo(const struct bpk_repo_client *client, size_t idx);
/* The repository called name, or NULL. */
const struct bpk_repo *bpk_repo_client__find_repo(const struct bpk_repo_client *client,
						  const char *name);

const char *bpk_repo__name(const struct bpk_repo *repo);
/* The base URL, without a trailing '/': "https://repo.example.com". */
const char *bpk_repo__url(const struct bpk_repo *repo);
/* The root key id the repository was added with (64 hex digits). */
const char *bpk_repo__root_keyid(const struct bpk_repo *repo);
/* Whether the key was given at add time (false: trusted on first use). */
bool bpk_repo__key_pinned(const struct bpk_repo *repo);
/* The file whose content is the Bearer token sent with each request, or NULL. */
const char *bpk_repo__token_file(const struct bpk_repo *repo);
/* When the repository was added, RFC 3339 UTC. */
const char *bpk_repo__added(const struct bpk_repo *repo);
/* The configuration file. */
const char *bpk_repo__file(const struct bpk_repo *repo);

/* Whether name can name a repository: [a-z0-9][a-z0-9._-]{0,63}. */
bool bpk_repo_name__valid(const char *name);

struct bpk_repo_add_opts {
	size_t sz;
	/*
	 * The repository's root key id, or a prefix of it of at least 8 hex digits: the
	 * repository is refused unless its root key is that one. NULL: trust on first use.
	 */
	const char *key;
	/* A file holding a token to send (read at each request, so it may be rotated). */
	const char *token_file;
	/* Replace the configuration of a repository already called name. */
	bool force;
};
#define bpk_repo_add_opts__last_field force

/*
 * Add a repository: GET URL/v1/, check its "root_keyid" against opts->key, fetch the index
 * root (1.root.json, else root.json) and check that the root key lists and signs it, verify
 * the public feed's whole index from that root, then write CONFIG/repos.d/NAME.json with the
 * root as the trust anchor. Earlier index state of name is dropped. Through ret_repo (may be
 * NULL): the new repository, owned by client. Returns 0, -EEXIST (name is configured and not
 * opts->force), -EKEYREJECTED (the root key is not opts->key, or the root does not verify),
 * -EINVAL, or another negative errno.
 */
int bpk_repo_client__add(struct bpk_repo_client *client, const char *name, const char *url,
			 const struct bpk_repo_add_opts *opts, const struct bpk_repo **ret_repo);
/* Remove a repository's configuration and its index state. Returns 0, -ENOENT or an errno. */
int bpk_repo_client__remove(struct bpk_repo_client *client, const char *name);

/* ---- the verified index ---- */

/* The feed of a package name: the part before '/', or "public". Caller frees; NULL on ENOMEM. */
char *bpk_repo_name__feed(const char *name);

/*
 * Bring the index of feed of repo up to date (once per client: later calls return the same
 * view) and return what was verified, owned by client. Returns 0 or a negative errno
 * (-ENOENT: the repository shows no such feed, as a private feed does without a read token).
 */
int bpk_repo_client__index(struct bpk_repo_client *client, const struct bpk_repo *repo,
			   const char *feed, const struct bpk_index_meta **ret_meta);

/*
 * Whether spec is NAME or NAME@RANGE with a valid name and SemVer range
 * (bpk_semver_range__valid).
 */
bool bpk_repo_spec__valid(const char *spec);

/*
 * Resolve spec (NAME or NAME@RANGE) against the verified index: an exact version resolves
 * even when it is yanked; a range (NAME alone means "*") resolves to the newest version that
 * matches and is not yanked. repo NULL: the only repository configured, or the first by
 * name whose index has the package. Through ret_repo (may be NULL) and ret_target: the
 * choice, borrowed from client until the next call. Returns 0, -ENOENT (no such package, or
 * no version matches: errstr says which), -EINVAL or another negative errno.
 */
int bpk_repo_client__resolve(struct bpk_repo_client *client, const struct bpk_repo *repo,
			     const char *spec, const struct bpk_repo **ret_repo,
			     struct bpk_index_target *ret_target);

/* ---- search and package information (the API, not verified: for people to read) ---- */

struct bpk_repo_search_opts {
	size_t sz;
	const char *query;    /* words to look for; NULL or "": everything */
	const char *type;     /* program type, "xdp" */
	const char *platform; /* "linux" or "windows" */
	const char *kernel;   /* a release the package must accept, "6.1.0" */
	const char *tag;
	const char *feed;
	uint32_t skip;
	uint32_t take; /* 0: the server's default (20); at most 100 */
};
#define bpk_repo_search_opts__last_field take

/* One search result; strings owned by the search object, NULL when the server left them out. */
struct bpk_repo_hit {
	const char *name;
	const char *feed;
	const char *version;
	const char *description;
	const char *kernel;    /* requires.kernel */
	const char *published; /* RFC 3339 */
	const char *tags;      /* comma-separated */
	const char *types;     /* program types, comma-separated */
	const char *platforms; /* comma-separated */
	double score;
};

struct bpk_repo_search;

/*
 * GET /v1/search on repo. Through ret_search: the results, owned by the caller. Returns 0
 * or a negative errno.
 */
int bpk_repo_client__search(struct bpk_repo_client *client, const struct bpk_repo *repo,
			    const struct bpk_repo_search_opts *opts,
			    struct bpk_repo_search **ret_search);
void bpk_repo_search__free(struct bpk_repo_search *search);
uint64_t bpk_repo_search__total(const struct bpk_repo_search *search);
size_t bpk_repo_search__cnt(const struct bpk_repo_search *search);
/* Hit idx, or NULL past the end. */
const struct bpk_repo_hit *bpk_repo_search__hit(const struct bpk_repo_search *search, size_t idx);
/* The answer as the server gave it, validated: {"total","skip","take","results"}. */
char *bpk_repo_search__to_json(const struct bpk_repo_search *search);

/* One version in a package's list. */
struct bpk_repo_version {
	const char *version;
	bool yanked;
	const char *published; /* may be NULL */
	const char *sha256;    /* may be NULL */
	uint64_t size;
};

/* One signature of a published version, as the repository lists it. */
struct bpk_repo_signer {
	const char *keyid;
	const char *alg;
};

struct bpk_repo_package;

/*
 * GET /v1/packages/NAME and /v1/packages/NAME/VERSION: the versions, and the details of
 * version (NULL: the newest that is not yanked, else the newest). Through ret_package,
 * owned by the caller. Returns 0, -ENOENT (no such package or version) or a negative errno.
 */
int bpk_repo_client__info(struct bpk_repo_client *client, const struct bpk_repo *repo,
			  const char *name, const char *version,
			  struct bpk_repo_package **ret_package);
void bpk_repo_package__free(struct bpk_repo_package *package);
const char *bpk_repo_package__name(const struct bpk_repo_package *package);
const char *bpk_repo_package__feed(const struct bpk_repo_package *package);
size_t bpk_repo_package__version_cnt(const struct bpk_repo_package *package);
/* Version idx in SemVer order, or NULL past the end. */
const struct bpk_repo_version *bpk_repo_package__version(const struct bpk_repo_package *package,
							  size_t idx);
/* The version described in detail. */
const struct bpk_repo_version *bpk_repo_package__selected(const struct bpk_repo_package *package);
size_t bpk_repo_package__signer_cnt(const struct bpk_repo_package *package);
const struct bpk_repo_signer *bpk_repo_package__signer(const struct bpk_repo_package *package,
						       size_t idx);
/* The selected version's manifest, and its "verified" object or NULL, as JSON text. */
const char *bpk_repo_package__manifest_json(const struct bpk_repo_package *package);
const char *bpk_repo_package__verified_json(const struct bpk_repo_package *package);
/* {"name", "feed", "versions": [...], "selected": {the version's details}}. Caller frees. */
char *bpk_repo_package__to_json(const struct bpk_repo_package *package);

/* ---- publish and yank ---- */

struct bpk_repo_publish_opts {
	size_t sz;
	/* A token file to use instead of the repository's. */
	const char *token_file;
};
#define bpk_repo_publish_opts__last_field token_file

/* What a repository accepted; strings owned by the client until its next call. */
struct bpk_repo_published {
	const char *name;
	const char *version;
	const char *feed;
	const char *sha256;
	uint64_t size;
};

/*
 * PUT the package at path to repo with the token. The answer's digest and size must be the
 * file's. Returns 0; -EINVAL (400: errstr gives the reason, the details every lint error),
 * -EACCES (401), -EPERM (403), -EEXIST (409), -EFBIG (413), or another negative errno.
 */
int bpk_repo_client__publish(struct bpk_repo_client *client, const struct bpk_repo *repo,
			     const char *path, const struct bpk_repo_publish_opts *opts,
			     struct bpk_repo_published *ret_published);
/*
 * POST .../yank (yanked) or .../unyank for name@version. Returns 0, -ENOENT, -EACCES,
 * -EPERM or another negative errno, like publish.
 */
int bpk_repo_client__yank(struct bpk_repo_client *client, const struct bpk_repo *repo,
			  const char *name, const char *version, bool yanked,
			  const struct bpk_repo_publish_opts *opts);

/* ---- fetch and install ---- */

struct bpk_repo_fetch_opts {
	size_t sz;
	/* The policy the package's signatures must satisfy; NULL: no key is trusted. */
	const struct bpk_trust *trust;
	/* Accept a package that carries no signature at all (development only). */
	bool allow_unsigned;
	/* Filled with the signature verdict whenever one is reached; may be NULL. */
	struct bpk_verify_result *result;
};
#define bpk_repo_fetch_opts__last_field result

/* What fetch or install did; strings owned by the client until its next call. */
struct bpk_repo_fetched {
	const struct bpk_repo *repo;
	struct bpk_index_target target;
	const char *path;  /* the .bpk written (fetch), the directory made (install) */
	bool from_cache;   /* the bytes came from CACHE/packages/, not the network */
	bool already_installed; /* install: the directory was there; nothing was written */
};

/*
 * Resolve spec, download the package (resuming DIR/FILE.part, where FILE is NAME-VERSION.bpk
 * with '/' in NAME written as '-') or take it from the package cache, check its size and
 * SHA-256 against the verified index and its signatures against opts->trust, and only then
 * rename it to DIR/FILE (after fsync). A package refused by any check is removed: nothing is
 * left at DIR/FILE. dir NULL: ".". Returns 0, -EBADMSG (differs from the index),
 * -EKEYREJECTED (signatures refused: opts->result says why), or another negative errno.
 */
int bpk_repo_client__fetch(struct bpk_repo_client *client, const struct bpk_repo *repo,
			   const char *spec, const char *dir,
			   const struct bpk_repo_fetch_opts *opts,
			   struct bpk_repo_fetched *ret_fetched);
/*
 * The same checks, then extract the package into ROOT/NAME/VERSION/ (root NULL:
 * BPK_REPO_DEFAULT_INSTALL_ROOT): into a temporary directory beside it, then renamed, so the
 * directory is complete or absent. A version already there is left alone
 * (already_installed). Returns as fetch.
 */
int bpk_repo_client__install(struct bpk_repo_client *client, const struct bpk_repo *repo,
			     const char *spec, const char *root,
			     const struct bpk_repo_fetch_opts *opts,
			     struct bpk_repo_fetched *ret_fetched);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* The signed repository index (TUF roles): the repository signs it, every client verifies it. */
#ifndef BPK_INDEX_H
#define BPK_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Four roles, as in TUF (docs/spec/index.md): root names the keys of every role, targets binds
 * each name@version to a SHA-256 and a size, snapshot pins one targets version, timestamp pins
 * one snapshot and expires soon. Each is a file "ROLE.json" holding
 * {"signed": {...}, "signatures": [{"keyid", "sig"}]}.
 */
enum bpk_index_role {
	BPK_INDEX_ROOT,
	BPK_INDEX_TARGETS,
	BPK_INDEX_SNAPSHOT,
	BPK_INDEX_TIMESTAMP,
};
#define BPK_INDEX_ROLE_CNT 4

/* Default lifetimes of freshly signed roles, in seconds. */
#define BPK_INDEX_ROOT_LIFETIME (365ULL * 86400)
#define BPK_INDEX_TARGETS_LIFETIME (30ULL * 86400)
#define BPK_INDEX_SNAPSHOT_LIFETIME (30ULL * 86400)
#define BPK_INDEX_TIMESTAMP_LIFETIME (1ULL * 86400)

/* Download bounds of the files that no parent role records a length for. */
#define BPK_INDEX_MAX_ROOT_LEN (512ULL << 10)
#define BPK_INDEX_MAX_TIMESTAMP_LEN (64ULL << 10)
/* How many root versions one update may walk. */
#define BPK_INDEX_MAX_ROOT_ROTATIONS 256U

/*
 * Why the last call failed, for programs; bpk_index__errstr() and bpk_index_client__errstr()
 * give the sentence for people. The errno each maps to is in brackets.
 */
enum bpk_index_err {
	BPK_INDEX_OK,
	BPK_INDEX_E_INVALID,	     /* a bad argument or call sequence [EINVAL] */
	BPK_INDEX_E_IO,		     /* a local file could not be read or written [its errno] */
	BPK_INDEX_E_FETCH,	     /* the fetch callback failed [its errno, ENOENT if missing] */
	BPK_INDEX_E_MALFORMED,	     /* not a valid role document [EINVAL] */
	BPK_INDEX_E_TOO_LONG,	     /* longer than its bound: endless data [EFBIG] */
	BPK_INDEX_E_SIGNATURE,	     /* fewer valid signatures than the threshold [EKEYREJECTED] */
	BPK_INDEX_E_ROOT_CHAIN,	     /* N+1.root.json lacks old or new root keys [EKEYREJECTED] */
	BPK_INDEX_E_ROLLBACK,	     /* older than what the client trusts [ESTALE] */
	BPK_INDEX_E_EXPIRED,	     /* past its "expires": freeze [EKEYEXPIRED] */
	BPK_INDEX_E_MISMATCH,	     /* differs from its parent's record: mix-and-match [EBADMSG] */
	BPK_INDEX_E_UNKNOWN_TARGET,  /* name@version is not in the index [ENOENT] */
	BPK_INDEX_E_TARGET_MISMATCH, /* a package's size or digest differ [EBADMSG] */
	BPK_INDEX_E_NO_KEY,	     /* signing: fewer private keys than the threshold [ENOKEY] */
	BPK_INDEX_E_EXISTS,	     /* creating an index where there is one [EEXIST] */
};

/* "root", "targets", "snapshot", "timestamp"; NULL for anything else. */
const char *bpk_index_role__name(enum bpk_index_role role);
/* The role called name. Returns 0 or -EINVAL. */
int bpk_index_role__from_name(const char *name, enum bpk_index_role *ret_role);
/* A stable short name for an error code ("rollback", "expired", ...), for JSON output. */
const char *bpk_index_err__name(enum bpk_index_err err);

/*
 * Times in the index are RFC 3339 UTC to the second, exactly "2026-12-01T00:00:00Z".
 * parse: returns 0 or -EINVAL for any other form or an impossible date.
 * format: writes 21 bytes; returns 0 or -ERANGE (before year 1 or after 9999).
 */
int bpk_index_time__parse(const char *text, int64_t *ret_time);
int bpk_index_time__format(int64_t time, char out[21]);

/* One package in the targets role. Strings are borrowed from the object that returned it. */
struct bpk_index_target {
	const char *name;    /* package name, "ratelimit" or "feed/name" */
	const char *version; /* SemVer 2.0 */
	const char *feed;    /* NULL when adding: the part of name before '/', or "public" */
	const char *sha256;  /* SHA-256 of the whole .bpk, 64 lowercase hex digits */
	uint64_t size;	     /* length of the .bpk in bytes */
	bool yanked;	     /* hidden from resolution; pinned installs still work */
};

/*
 * A read-only view of one set of role documents: the repository's own (bpk_index__meta) or
 * what a client trusts (bpk_index_client__meta). Valid until the next call that changes its
 * owner. Absent roles have version 0.
 */
struct bpk_index_meta;

uint64_t bpk_index_meta__version(const struct bpk_index_meta *meta, enum bpk_index_role role);
/* Expiry in seconds since the epoch, 0 if the role is absent. */
int64_t bpk_index_meta__expires(const struct bpk_index_meta *meta, enum bpk_index_role role);
/* The threshold and key ids the root gives role. */
unsigned int bpk_index_meta__threshold(const struct bpk_index_meta *meta, enum bpk_index_role role);
size_t bpk_index_meta__keyid_cnt(const struct bpk_index_meta *meta, enum bpk_index_role role);
const char *bpk_index_meta__keyid(const struct bpk_index_meta *meta, enum bpk_index_role role,
				  size_t idx);
/* The targets, sorted by name then SemVer precedence. Returns 0 or -ENOENT past the end. */
size_t bpk_index_meta__target_cnt(const struct bpk_index_meta *meta);
int bpk_index_meta__target(const struct bpk_index_meta *meta, size_t idx,
			   struct bpk_index_target *ret_target);
/* The target name@version. Returns 0 or -ENOENT. */
int bpk_index_meta__find(const struct bpk_index_meta *meta, const char *name, const char *version,
			 struct bpk_index_target *ret_target);

/* ---- Repository side: create, edit and sign an index in a directory ---- */

struct bpk_index;

struct bpk_index_opts {
	size_t sz;
	/* Signing time, seconds since the epoch; 0: the clock. */
	int64_t now;
	/* How long a role stays valid after it is signed, in seconds; 0: the defaults above. */
	uint64_t root_lifetime;
	uint64_t targets_lifetime;
	uint64_t snapshot_lifetime;
	uint64_t timestamp_lifetime;
};
#define bpk_index_opts__last_field timestamp_lifetime

/*
 * An empty index, owned by the caller: either give every role its keys (add_key,
 * set_threshold) and bpk_index__create() it, or bpk_index__load() an existing one.
 * Returns NULL with errno ENOMEM or EINVAL (a lifetime past year 9999).
 */
struct bpk_index *bpk_index__new(const struct bpk_index_opts *opts);
void bpk_index__free(struct bpk_index *index);

/*
 * Read the index in dir: root.json, targets.json, snapshot.json, timestamp.json, each checked
 * against root.json's keys (expiry is not checked: refreshing is how an index recovers).
 * Returns 0 or a negative errno (see bpk_index__errstr()).
 */
int bpk_index__load(struct bpk_index *index, const char *dir);

/*
 * Edit the next root: version 1 of a new index, or after bpk_index__load() the version after
 * the current one (started on the first edit as a copy of the current root).
 * add_key: pem is an Ed25519 public or private key (PEM); a private key is also kept to sign.
 * -EEXIST if the role already lists it. clear_keys: the role lists no key any more.
 * set_threshold: how many of the role's keys must sign it (default 1).
 * Return 0 or a negative errno.
 */
int bpk_index__add_key(struct bpk_index *index, enum bpk_index_role role, const void *pem,
		       size_t len);
int bpk_index__clear_keys(struct bpk_index *index, enum bpk_index_role role);
int bpk_index__set_threshold(struct bpk_index *index, enum bpk_index_role role,
			     unsigned int threshold);

/*
 * Keep an Ed25519 private key (PEM) to sign with. Each role is signed by every kept key the
 * root lists for it. Returns 0 or -EINVAL (not an Ed25519 private key), -ENOMEM.
 */
int bpk_index__load_key(struct bpk_index *index, const void *pem, size_t len);

/*
 * Write a new index in dir (created if needed): 1.root.json and root.json signed by the root
 * keys, then an empty targets.json, snapshot.json and timestamp.json at version 1.
 * Every role needs at least its threshold of keys, and threshold private keys.
 * Returns 0, -EEXIST (dir holds root.json), -ENOKEY, or another negative errno.
 */
int bpk_index__create(struct bpk_index *index, const char *dir);

/*
 * Root rotation: sign the edited root as version N+1 by a threshold of the current root keys
 * AND a threshold of its own root keys, and write N+1.root.json, then root.json. When the edit
 * changed another role's keys, targets, snapshot and timestamp are signed again after it.
 * Returns 0, -ENOKEY (say which threshold is not met), -EINVAL (nothing edited), or an errno.
 */
int bpk_index__rotate_root(struct bpk_index *index);

/*
 * Stage a change to the targets role, written by bpk_index__publish().
 * add_target: add name@version, replacing an entry of the same name@version.
 * set_yanked: -ENOENT when name@version is not in the index.
 * Return 0 or a negative errno (-EINVAL for an invalid name, version, feed or digest).
 */
int bpk_index__add_target(struct bpk_index *index, const struct bpk_index_target *target);
int bpk_index__set_yanked(struct bpk_index *index, const char *name, const char *version,
			  bool yanked);

/*
 * Sign targets, snapshot and timestamp again, each at its version + 1, and write them in
 * that order, so that no timestamp ever names a snapshot that is not there yet.
 * Returns 0, -ENOKEY (a role's threshold of keys was not given), or a negative errno.
 */
int bpk_index__publish(struct bpk_index *index);
/* Sign a new timestamp (version + 1, fresh expiry) for the same snapshot. */
int bpk_index__refresh(struct bpk_index *index);

/* The index's documents as they are now (after the last load, create or write). */
const struct bpk_index_meta *bpk_index__meta(const struct bpk_index *index);
/* Why the last call failed: a sentence owned by index, and its code. */
const char *bpk_index__errstr(const struct bpk_index *index);
enum bpk_index_err bpk_index__err(const struct bpk_index *index);

/* ---- Client side: the TUF update workflow over any transport ---- */

/*
 * Fetch the file name ("timestamp.json", "2.root.json", ...) of the repository's index.
 * Must not read more than max_len + 1 bytes: anything longer than max_len is refused as
 * endless data. On success returns 0 and a malloc()ed buffer the library frees; -ENOENT when
 * the file does not exist; another negative errno on failure.
 */
typedef int (*bpk_index_fetch_fn)(void *ctx, const char *name, uint64_t max_len, void **ret_data,
				  size_t *ret_len);

/* A fetch callback for a local directory (or a mounted mirror): ctx is the directory path. */
int bpk_index__fetch_dir(void *ctx, const char *name, uint64_t max_len, void **ret_data,
			 size_t *ret_len);

struct bpk_index_client;

struct bpk_index_client_opts {
	size_t sz;
	/*
	 * Where the trusted root, timestamp, snapshot and targets are kept between updates
	 * (created if needed). NULL: nothing is kept, every update starts from root.
	 */
	const char *state_dir;
	/* The root trusted out of band; used when state_dir holds no root.json yet. */
	const void *root;
	size_t root_len;
	bpk_index_fetch_fn fetch;
	void *fetch_ctx;
	/* The current time, seconds since the epoch; 0: the clock. */
	int64_t now;
	/* 0: BPK_INDEX_MAX_ROOT_LEN, BPK_INDEX_MAX_TIMESTAMP_LEN, BPK_INDEX_MAX_ROOT_ROTATIONS. */
	uint64_t max_root_len;
	uint64_t max_timestamp_len;
	uint32_t max_root_rotations;
};
#define bpk_index_client_opts__last_field max_root_rotations

/*
 * A client, owned by the caller. Nothing is read or fetched until bpk_index_client__update().
 * Returns NULL with errno EINVAL (no fetch callback) or ENOMEM.
 */
struct bpk_index_client *bpk_index_client__new(const struct bpk_index_client_opts *opts);
void bpk_index_client__free(struct bpk_index_client *client);

/*
 * The TUF client workflow (docs/spec/index.md): load the trusted root, walk N+1.root.json
 * while there is one, then timestamp, snapshot and targets, each bounded in length, checked
 * against its parent's record, its signatures, rollback and expiry, and kept in state_dir.
 * Returns 0 or a negative errno; bpk_index_client__errstr() says exactly what was refused.
 */
int bpk_index_client__update(struct bpk_index_client *client);

/* What the last successful update verified; NULL before one. */
const struct bpk_index_meta *bpk_index_client__meta(const struct bpk_index_client *client);

/*
 * Whether data is the package name@version of the verified index: same length, same SHA-256.
 * Returns 0, -ENOENT (not in the index), -EBADMSG (size or digest differ) or -EAGAIN (no
 * successful update yet). A yanked target still verifies; check bpk_index_meta__find().
 */
int bpk_index_client__verify_target(struct bpk_index_client *client, const char *name,
				    const char *version, const void *data, size_t len);

/* Why the last call failed: a sentence owned by client, and its code. */
const char *bpk_index_client__errstr(const struct bpk_index_client *client);
enum bpk_index_err bpk_index_client__err(const struct bpk_index_client *client);

#endif

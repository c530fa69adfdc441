/* SPDX-License-Identifier: BSD-2-Clause */
/* Internal to libbpk: the repository's metadata store, one interface over SQLite and PostgreSQL. */
#ifndef BPK_STORE_H
#define BPK_STORE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The repository speaks one SQL dialect to both engines: parameters are written $1, $2, ...
 * (SQLite reads them as named parameters numbered in order of appearance, PostgreSQL as
 * positional ones), every value goes in and comes out as text (NULL for SQL NULL), and the
 * schema uses only types both know. Where the engines must differ (full-text search) the
 * caller asks bpk_store__dialect().
 */
enum bpk_store_dialect {
	BPK_STORE_SQLITE,
	BPK_STORE_POSTGRESQL,
};

/* One connection; used by one thread at a time. */
struct bpk_store_conn;

/*
 * Called for each result row with the row's values as text (NULL for SQL NULL), valid only
 * during the call. Return 0 to go on, anything else to stop (exec then returns that value).
 */
typedef int (*bpk_store_row_fn)(void *ctx, int ncols, const char *const *values);

/* What an engine provides; lib/store-sqlite.c and lib/store-pg.c each define one. */
struct bpk_store_backend {
	enum bpk_store_dialect dialect;
	/*
	 * Open a connection to target (a file path for SQLite, a libpq connection URI for
	 * PostgreSQL). NULL with errno set and *ret_error (malloc()ed, may be NULL) saying why.
	 */
	struct bpk_store_conn *(*open)(const char *target, char **ret_error);
	void (*close)(struct bpk_store_conn *conn);
	/*
	 * Run one statement with nparams text parameters; call row (may be NULL) for each row.
	 * Returns the number of rows changed (for INSERT/UPDATE/DELETE; 0 otherwise), what row
	 * returned when it stopped early, -EEXIST on a unique or primary key violation, -EBUSY
	 * when the database stayed locked, or another negative errno; errstr() says why.
	 */
	int (*exec)(struct bpk_store_conn *conn, const char *sql, const char *const *params,
		    int nparams, bpk_store_row_fn row, void *ctx);
	/* Start a transaction that will write (SQLite: BEGIN IMMEDIATE). Returns 0 or -errno. */
	int (*begin)(struct bpk_store_conn *conn);
	/* The last error of this connection, in words (never NULL). */
	const char *(*errstr)(const struct bpk_store_conn *conn);
};

extern const struct bpk_store_backend bpk_store_sqlite;
extern const struct bpk_store_backend bpk_store_postgresql;

/* A pool of connections to one database, shared by threads. */
struct bpk_store;

/*
 * Open the store at target: "postgresql://..." or "postgres://..." selects PostgreSQL,
 * anything else is a SQLite file path. One connection is made at once (so a bad target fails
 * here) and the schema is created or checked. NULL with errno set and *ret_error (malloc()ed)
 * saying why.
 */
struct bpk_store *bpk_store__open(const char *target, char **ret_error);
void bpk_store__free(struct bpk_store *store);
enum bpk_store_dialect bpk_store__dialect(const struct bpk_store *store);

/* A connection for this thread's use, back to the pool with put. NULL with errno set. */
struct bpk_store_conn *bpk_store__get(struct bpk_store *store);
void bpk_store__put(struct bpk_store *store, struct bpk_store_conn *conn);

/* The backend calls, through the store's backend. */
int bpk_store__exec(struct bpk_store *store, struct bpk_store_conn *conn, const char *sql,
		    const char *const *params, int nparams, bpk_store_row_fn row, void *ctx);
int bpk_store__begin(struct bpk_store *store, struct bpk_store_conn *conn);
int bpk_store__commit(struct bpk_store *store, struct bpk_store_conn *conn);
void bpk_store__rollback(struct bpk_store *store, struct bpk_store_conn *conn);
const char *bpk_store__errstr(const struct bpk_store *store, const struct bpk_store_conn *conn);

/* Whether the database's own consistency check passes (PRAGMA integrity_check; amcheck-free
 * PostgreSQL: the catalog answers). *ret_report (malloc()ed) holds what it said. */
int bpk_store__check(struct bpk_store *store, char **ret_report);

#endif

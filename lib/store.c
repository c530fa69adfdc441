// SPDX-License-Identifier: BSD-2-Clause
/* The repository store: a pool of connections to one engine, and the schema both engines share. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bpk_internal.h"
#include "store.h"

/* Idle connections kept for reuse; more may be open while many threads work. */
#define POOL_IDLE_MAX 32

struct bpk_store {
	const struct bpk_store_backend *backend;
	char *target;
	pthread_mutex_t lock;
	struct bpk_store_conn *idle[POOL_IDLE_MAX];
	size_t idle_cnt;
};

/*
 * The schema, statement by statement, in the SQL both engines accept. Times are seconds since
 * the epoch; flags are 0/1 integers; lists (tags, types, signers) are JSON text.
 */
static const char *const schema[] = {
	"CREATE TABLE IF NOT EXISTS meta ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL)",

	"CREATE TABLE IF NOT EXISTS feeds ("
	" name TEXT PRIMARY KEY,"
	" private INTEGER NOT NULL DEFAULT 0,"
	" allow_unsigned INTEGER NOT NULL DEFAULT 0,"
	" require_verified INTEGER NOT NULL DEFAULT 0,"
	" created BIGINT NOT NULL)",

	"CREATE TABLE IF NOT EXISTS versions ("
	" name TEXT NOT NULL,"
	" version TEXT NOT NULL,"
	" feed TEXT NOT NULL REFERENCES feeds(name),"
	" sha256 TEXT NOT NULL,"
	" size BIGINT NOT NULL,"
	" published BIGINT NOT NULL,"
	" yanked INTEGER NOT NULL DEFAULT 0,"
	" description TEXT NOT NULL,"
	" tags TEXT NOT NULL,"
	" types TEXT NOT NULL,"
	" platforms TEXT NOT NULL,"
	" kernel TEXT NOT NULL,"
	" search TEXT NOT NULL,"
	" manifest TEXT NOT NULL,"
	" signers TEXT NOT NULL,"
	" verified TEXT,"
	" PRIMARY KEY (name, version))",

	"CREATE INDEX IF NOT EXISTS versions_feed ON versions (feed)",
	"CREATE INDEX IF NOT EXISTS versions_sha256 ON versions (sha256)",

	"CREATE TABLE IF NOT EXISTS tokens ("
	" id TEXT PRIMARY KEY,"
	" hash TEXT NOT NULL UNIQUE,"
	" feed TEXT NOT NULL,"
	" scope TEXT NOT NULL,"
	" created BIGINT NOT NULL,"
	" expires BIGINT NOT NULL,"
	" revoked INTEGER NOT NULL DEFAULT 0,"
	" comment TEXT NOT NULL DEFAULT '')",

	"CREATE TABLE IF NOT EXISTS audit ("
	" id TEXT PRIMARY KEY,"
	" time BIGINT NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" detail TEXT NOT NULL)",

	"CREATE INDEX IF NOT EXISTS audit_time ON audit (time)",
};

/*
 * SQLite only: a full-text index over versions.search with the trigram tokenizer, so that
 * search finds a word anywhere in the text (as LIKE '%word%' does, with the same results) by
 * index rather than by scanning every row. Kept by triggers; the last statement fills it for
 * a database made before it existed. PostgreSQL reads versions with LIKE.
 */
static const char *const schema_sqlite[] = {
	"CREATE VIRTUAL TABLE IF NOT EXISTS versions_fts USING fts5(search, tokenize = 'trigram')",

	"CREATE TRIGGER IF NOT EXISTS versions_fts_insert AFTER INSERT ON versions BEGIN"
	" INSERT INTO versions_fts (rowid, search) VALUES (new.rowid, new.search); END",

	"CREATE TRIGGER IF NOT EXISTS versions_fts_delete AFTER DELETE ON versions BEGIN"
	" DELETE FROM versions_fts WHERE rowid = old.rowid; END",

	"INSERT INTO versions_fts (rowid, search) SELECT rowid, search FROM versions"
	" WHERE rowid NOT IN (SELECT rowid FROM versions_fts)",
};

static int run_all(struct bpk_store *store, struct bpk_store_conn *conn, const char *const *sql,
		   size_t cnt)
{
	for (size_t i = 0; i < cnt; i++) {
		int err = bpk_store__exec(store, conn, sql[i], NULL, 0, NULL, NULL);

		if (err < 0)
			return err;
	}
	return 0;
}

static int store_migrate(struct bpk_store *store, struct bpk_store_conn *conn)
{
	int err;

	err = bpk_store__begin(store, conn);
	if (err)
		return err;
	err = run_all(store, conn, schema, ARRAY_SIZE(schema));
	if (!err && store->backend->dialect == BPK_STORE_SQLITE)
		err = run_all(store, conn, schema_sqlite, ARRAY_SIZE(schema_sqlite));
	if (err) {
		bpk_store__rollback(store, conn);
		return err;
	}
	return bpk_store__commit(store, conn);
}

struct bpk_store *bpk_store__open(const char *target, char **ret_error)
{
	struct bpk_store *store;
	struct bpk_store_conn *conn;
	int err;

	store = calloc(1, sizeof(*store));
	if (!store)
		goto enomem;
	store->target = strdup(target);
	if (!store->target)
		goto enomem;
	if (str_has_prefix(target, "postgresql://") || str_has_prefix(target, "postgres://"))
		store->backend = &bpk_store_postgresql;
	else
		store->backend = &bpk_store_sqlite;
	pthread_mutex_init(&store->lock, NULL);

	conn = store->backend->open(target, ret_error);
	if (!conn) {
		err = errno;
		bpk_store__free(store);
		errno = err;
		return NULL;
	}
	err = store_migrate(store, conn);
	if (err) {
		if (ret_error)
			*ret_error = xasprintf("cannot create the schema: %s",
					       store->backend->errstr(conn));
		store->backend->close(conn);
		bpk_store__free(store);
		errno = -err;
		return NULL;
	}
	bpk_store__put(store, conn);
	return store;
enomem:
	if (store)
		free(store->target);
	free(store);
	if (ret_error)
		*ret_error = NULL;
	errno = ENOMEM;
	return NULL;
}

void bpk_store__free(struct bpk_store *store)
{
	if (!store)
		return;
	for (size_t i = 0; i < store->idle_cnt; i++)
		store->backend->close(store->idle[i]);
	pthread_mutex_destroy(&store->lock);
	free(store->target);
	free(store);
}

enum bpk_store_dialect bpk_store__dialect(const struct bpk_store *store)
{
	return store->backend->dialect;
}

struct bpk_store_conn *bpk_store__get(struct bpk_store *store)
{
	struct bpk_store_conn *conn = NULL;
	char *error = NULL;

	pthread_mutex_lock(&store->lock);
	if (store->idle_cnt)
		conn = store->idle[--store->idle_cnt];
	pthread_mutex_unlock(&store->lock);
	if (conn)
		return conn;
	conn = store->backend->open(store->target, &error);
	if (!conn) {
		int err = errno;

		pr_warn("%s\n", error ? error : "cannot open a database connection");
		free(error);
		errno = err;
	}
	return conn;
}

void bpk_store__put(struct bpk_store *store, struct bpk_store_conn *conn)
{
	if (!conn)
		return;
	pthread_mutex_lock(&store->lock);
	if (store->idle_cnt < POOL_IDLE_MAX) {
		store->idle[store->idle_cnt++] = conn;
		conn = NULL;
	}
	pthread_mutex_unlock(&store->lock);
	if (conn)
		store->backend->close(conn);
}

int bpk_store__exec(struct bpk_store *store, struct bpk_store_conn *conn, const char *sql,
		    const char *const *params, int nparams, bpk_store_row_fn row, void *ctx)
{
	return store->backend->exec(conn, sql, params, nparams, row, ctx);
}

int bpk_store__begin(struct bpk_store *store, struct bpk_store_conn *conn)
{
	return store->backend->begin(conn);
}

int bpk_store__commit(struct bpk_store *store, struct bpk_store_conn *conn)
{
	int err = store->backend->exec(conn, "COMMIT", NULL, 0, NULL, NULL);

	if (err < 0) {
		bpk_store__rollback(store, conn);
		return err;
	}
	return 0;
}

void bpk_store__rollback(struct bpk_store *store, struct bpk_store_conn *conn)
{
	store->backend->exec(conn, "ROLLBACK", NULL, 0, NULL, NULL);
}

const char *bpk_store__errstr(const struct bpk_store *store, const struct bpk_store_conn *conn)
{
	return store->backend->errstr(conn);
}

static int append_row(void *ctx, int ncols, const char *const *values)
{
	struct strbuf *sb = ctx;

	for (int i = 0; i < ncols; i++)
		if (strbuf_addf(sb, "%s%s", i ? " " : "", values[i] ? values[i] : "NULL") ||
		    (i == ncols - 1 && strbuf_addstr(sb, "\n")))
			return -ENOMEM;
	return 0;
}

int bpk_store__check(struct bpk_store *store, char **ret_report)
{
	struct strbuf sb = STRBUF_INIT;
	struct bpk_store_conn *conn;
	const char *sql;
	int err;

	conn = bpk_store__get(store);
	if (!conn)
		return -errno;
	/*
	 * SQLite checks every page and index; PostgreSQL keeps its own consistency, so the check
	 * is that every version row has a feed and no two rows share a name@version.
	 */
	if (store->backend->dialect == BPK_STORE_SQLITE)
		sql = "PRAGMA integrity_check";
	else
		sql = "SELECT CASE WHEN count(*) = 0 THEN 'ok' ELSE count(*) || ' orphan versions' END"
		      " FROM versions v LEFT JOIN feeds f ON f.name = v.feed WHERE f.name IS NULL";
	err = bpk_store__exec(store, conn, sql, NULL, 0, append_row, &sb);
	bpk_store__put(store, conn);
	if (err < 0) {
		strbuf_release(&sb);
		return err;
	}
	*ret_report = strbuf_detach(&sb, NULL);
	return strcmp(*ret_report, "ok\n") ? -EBADMSG : 0;
}

// SPDX-License-Identifier: BSD-2-Clause
/* The repository store's SQLite engine: WAL, a busy timeout, and prepared statements reused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "bpk_internal.h"
#include "store.h"

/*
 * The repository runs a handful of distinct statements, all string constants; keeping each
 * prepared per connection takes SQLite's parser off the hot path (downloads, searches).
 */
#define STMT_CACHE_SIZE 32

struct bpk_store_conn {
	sqlite3 *db;
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE_SIZE];
	unsigned int next_evict;
	char error[512];
};

static void sqlite_set_error(struct bpk_store_conn *conn, const char *what)
{
	snprintf(conn->error, sizeof(conn->error), "%s: %s", what, sqlite3_errmsg(conn->db));
}

static void sqlite_close(struct bpk_store_conn *conn)
{
	if (!conn)
		return;
	for (size_t i = 0; i < STMT_CACHE_SIZE; i++)
		sqlite3_finalize(conn->cache[i].stmt);
	sqlite3_close_v2(conn->db);
	free(conn);
}

static struct bpk_store_conn *sqlite_open(const char *target, char **ret_error)
{
	struct bpk_store_conn *conn = calloc(1, sizeof(*conn));
	char *msg = NULL;
	int err;

	if (!conn) {
		errno = ENOMEM;
		return NULL;
	}
	err = sqlite3_open_v2(target, &conn->db,
			      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (err != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(conn->db, 10000);
	/*
	 * WAL lets readers go on while one publish writes; synchronous=FULL makes a commit
	 * durable before publish answers 201, which the crash test relies on.
	 */
	err = sqlite3_exec(conn->db,
			   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
			   NULL, NULL, &msg);
	if (err != SQLITE_OK)
		goto fail;
	return conn;
fail:
	if (ret_error)
		*ret_error = xasprintf("cannot open SQLite database '%s': %s", target,
				       msg ? msg : conn->db ? sqlite3_errmsg(conn->db) : "out of memory");
	sqlite3_free(msg);
	sqlite3_close_v2(conn->db);
	free(conn);
	errno = EIO;
	return NULL;
}

static sqlite3_stmt *sqlite_prepare(struct bpk_store_conn *conn, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	unsigned int slot;

	for (size_t i = 0; i < STMT_CACHE_SIZE; i++)
		if (conn->cache[i].sql == sql)
			return conn->cache[i].stmt;
	if (sqlite3_prepare_v2(conn->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		sqlite_set_error(conn, "cannot prepare statement");
		return NULL;
	}
	slot = conn->next_evict++ % STMT_CACHE_SIZE;
	sqlite3_finalize(conn->cache[slot].stmt);
	conn->cache[slot].sql = sql;
	conn->cache[slot].stmt = stmt;
	return stmt;
}

static int sqlite_errno(int code)
{
	switch (code & 0xff) {
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

static int sqlite_exec(struct bpk_store_conn *conn, const char *sql, const char *const *params,
		       int nparams, bpk_store_row_fn row, void *ctx)
{
	const char *values[64];
	sqlite3_stmt *stmt;
	int ret = 0, err, before;

	stmt = sqlite_prepare(conn, sql);
	if (!stmt)
		return -EINVAL;
	for (int i = 0; i < nparams; i++) {
		char name[16];
		int idx;

		/*
		 * SQLite numbers "$N" by first appearance, not by N: look each one up, so that
		 * $N means the Nth parameter as it does to PostgreSQL, whatever the order.
		 */
		snprintf(name, sizeof(name), "$%d", i + 1);
		idx = sqlite3_bind_parameter_index(stmt, name);
		if (!idx)
			continue;
		err = params[i] ? sqlite3_bind_text(stmt, idx, params[i], -1, SQLITE_STATIC)
				: sqlite3_bind_null(stmt, idx);
		if (err != SQLITE_OK) {
			sqlite_set_error(conn, "cannot bind parameter");
			ret = -EINVAL;
			goto out;
		}
	}
	/* Rows this statement changed; sqlite3_changes() would repeat the last DML's count. */
	before = sqlite3_total_changes(conn->db);
	while ((err = sqlite3_step(stmt)) == SQLITE_ROW) {
		int ncols = sqlite3_column_count(stmt);

		if (!row)
			continue;
		if (ncols > (int)ARRAY_SIZE(values))
			ncols = ARRAY_SIZE(values);
		for (int i = 0; i < ncols; i++)
			values[i] = (const char *)sqlite3_column_text(stmt, i);
		ret = row(ctx, ncols, values);
		if (ret)
			goto out;
	}
	if (err != SQLITE_DONE) {
		sqlite_set_error(conn, "statement failed");
		ret = sqlite_errno(sqlite3_extended_errcode(conn->db));
		goto out;
	}
	ret = sqlite3_total_changes(conn->db) - before;
out:
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return ret;
}

static int sqlite_begin(struct bpk_store_conn *conn)
{
	int err = sqlite_exec(conn, "BEGIN IMMEDIATE", NULL, 0, NULL, NULL);

	return err < 0 ? err : 0;
}

static const char *sqlite_errstr(const struct bpk_store_conn *conn)
{
	return conn->error[0] ? conn->error : "no error";
}

const struct bpk_store_backend bpk_store_sqlite = {
	.dialect = BPK_STORE_SQLITE,
	.open = sqlite_open,
	.close = sqlite_close,
	.exec = sqlite_exec,
	.begin = sqlite_begin,
	.errstr = sqlite_errstr,
};

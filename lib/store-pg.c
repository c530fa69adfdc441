// SPDX-License-Identifier: BSD-2-Clause
/* The repository store's PostgreSQL engine, through libpq, for repositories shared by many servers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "bpk_internal.h"
#include "store.h"

struct bpk_store_conn {
	PGconn *pg;
	char error[512];
};

static void pg_set_error(struct bpk_store_conn *conn, const char *what, const char *detail)
{
	size_t len;

	snprintf(conn->error, sizeof(conn->error), "%s: %s", what, detail);
	len = strlen(conn->error);
	while (len && conn->error[len - 1] == '\n') /* libpq ends its messages with one */
		conn->error[--len] = '\0';
}

static void pg_close(struct bpk_store_conn *conn)
{
	if (!conn)
		return;
	PQfinish(conn->pg);
	free(conn);
}

static void pg_notice(void *arg, const char *message)
{
	/* "relation already exists, skipping" and the like: not worth a warning. */
}

static struct bpk_store_conn *pg_open(const char *target, char **ret_error)
{
	struct bpk_store_conn *conn = calloc(1, sizeof(*conn));

	if (!conn) {
		errno = ENOMEM;
		return NULL;
	}
	conn->pg = PQconnectdb(target);
	if (!conn->pg || PQstatus(conn->pg) != CONNECTION_OK) {
		if (ret_error)
			*ret_error = xasprintf("cannot connect to PostgreSQL: %s",
					       conn->pg ? PQerrorMessage(conn->pg) : "out of memory");
		pg_close(conn);
		errno = ECONNREFUSED;
		return NULL;
	}
	PQsetNoticeProcessor(conn->pg, pg_notice, NULL);
	return conn;
}

static int pg_errno(const char *sqlstate)
{
	if (!sqlstate)
		return -EIO;
	if (!strcmp(sqlstate, "23505")) /* unique_violation */
		return -EEXIST;
	if (!strcmp(sqlstate, "40001") || !strcmp(sqlstate, "40P01") ||
	    !strcmp(sqlstate, "55P03")) /* serialization, deadlock, lock not available */
		return -EBUSY;
	if (!strncmp(sqlstate, "08", 2)) /* connection exceptions */
		return -ECONNRESET;
	return -EIO;
}

static int pg_exec(struct bpk_store_conn *conn, const char *sql, const char *const *params,
		   int nparams, bpk_store_row_fn row, void *ctx)
{
	const char *values[64];
	PGresult *res;
	int ret = 0, rows, cols;

	/* The server ended this pooled connection (restart, failover): make a new one. */
	if (PQstatus(conn->pg) == CONNECTION_BAD)
		PQreset(conn->pg);
	res = PQexecParams(conn->pg, sql, nparams, NULL, params, NULL, NULL, 0);
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
		ret = atoi(PQcmdTuples(res));
		break;
	case PGRES_TUPLES_OK:
		rows = PQntuples(res);
		cols = PQnfields(res);
		if (cols > (int)ARRAY_SIZE(values))
			cols = ARRAY_SIZE(values);
		for (int r = 0; row && r < rows && !ret; r++) {
			for (int c = 0; c < cols; c++)
				values[c] = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
			ret = row(ctx, cols, values);
		}
		break;
	default:
		pg_set_error(conn, "statement failed", PQerrorMessage(conn->pg));
		ret = pg_errno(PQresultErrorField(res, PG_DIAG_SQLSTATE));
		break;
	}
	PQclear(res);
	return ret;
}

static int pg_begin(struct bpk_store_conn *conn)
{
	int err = pg_exec(conn, "BEGIN", NULL, 0, NULL, NULL);

	return err < 0 ? err : 0;
}

static const char *pg_errstr(const struct bpk_store_conn *conn)
{
	return conn->error[0] ? conn->error : "no error";
}

const struct bpk_store_backend bpk_store_postgresql = {
	.dialect = BPK_STORE_POSTGRESQL,
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.begin = pg_begin,
	.errstr = pg_errstr,
};

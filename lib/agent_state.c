// SPDX-License-Identifier: BSD-2-Clause
/* The node agent's SQLite database: applied configurations and the chains that run. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "bpk_internal.h"
#include "agent_internal.h"

struct agent_db {
	sqlite3 *db;
};

/* The schema; times are seconds since the epoch, stages and configurations JSON text. */
static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"INSERT OR IGNORE INTO meta VALUES ('schema', '1');"
	"CREATE TABLE IF NOT EXISTS configs ("
	" iface TEXT PRIMARY KEY,"
	" config TEXT NOT NULL,"
	" updated BIGINT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS chains ("
	" iface TEXT NOT NULL,"
	" hook TEXT NOT NULL,"
	" pending INTEGER NOT NULL,"
	" stages TEXT NOT NULL,"
	" updated BIGINT NOT NULL,"
	" PRIMARY KEY (iface, hook, pending));"
	"CREATE TABLE IF NOT EXISTS pending_configs ("
	" iface TEXT PRIMARY KEY,"
	" config TEXT,"
	" updated BIGINT NOT NULL);";

static int sql_err(struct agent_db *db, int rc)
{
	(void)db;
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return -EACCES;
	default:
		return -EIO;
	}
}

const char *agent_db_errstr(struct agent_db *db)
{
	return db && db->db ? sqlite3_errmsg(db->db) : "no database";
}

struct agent_db *agent_db_open(const char *path, char **ret_error)
{
	struct agent_db *db = calloc(1, sizeof(*db));
	char *msg = NULL;
	int rc;

	*ret_error = NULL;
	if (!db) {
		errno = ENOMEM;
		return NULL;
	}
	/* SQLite opens its files with O_CLOEXEC since 3.7.x (robust_open). */
	rc = sqlite3_open_v2(path, &db->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db->db, 5000);
		rc = sqlite3_exec(db->db, schema, NULL, NULL, &msg);
	}
	if (rc != SQLITE_OK) {
		*ret_error = xasprintf("cannot open the database '%s': %s", path,
				       msg ? msg : db->db ? sqlite3_errmsg(db->db) : "out of memory");
		sqlite3_free(msg);
		errno = -sql_err(db, rc);
		agent_db_close(db);
		return NULL;
	}
	return db;
}

void agent_db_close(struct agent_db *db)
{
	if (!db)
		return;
	sqlite3_close(db->db);
	free(db);
}

static json_t *sub_object(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		v = json_object();
		if (!v || json_object_set_new(obj, key, v))
			return NULL;
	}
	return v;
}

int agent_db_load(struct agent_db *db, json_t **ret_configs, json_t **ret_chains,
		  json_t **ret_pending)
{
	_cleanup_json_ json_t *configs = json_object(), *chains = json_object();
	_cleanup_json_ json_t *pending = json_object();
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	if (!configs || !chains || !pending)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(db->db, "SELECT iface, config FROM configs", -1, &st, NULL);
	while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *v = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);

		if (v)
			json_object_set_new(configs, (const char *)sqlite3_column_text(st, 0), v);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_err(db, rc) ?: -EIO;
	rc = sqlite3_prepare_v2(db->db, "SELECT iface, hook, pending, stages FROM chains", -1, &st,
				NULL);
	while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *v = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
		json_t *dst = sub_object(sqlite3_column_int(st, 2) ? pending : chains,
					 (const char *)sqlite3_column_text(st, 0));

		if (dst && sqlite3_column_int(st, 2))
			dst = sub_object(dst, "hooks");

		if (!v || !dst || !json_is_array(v)) {
			json_decref(v);
			err = v ? -ENOMEM : -EIO;
			break;
		}
		json_object_set_new(dst, (const char *)sqlite3_column_text(st, 1), v);
	}
	sqlite3_finalize(st);
	if (err)
		return err;
	if (rc != SQLITE_DONE)
		return sql_err(db, rc) ?: -EIO;
	rc = sqlite3_prepare_v2(db->db, "SELECT iface, config FROM pending_configs", -1, &st, NULL);
	while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 1);
		json_t *dst = sub_object(pending, (const char *)sqlite3_column_text(st, 0));
		json_t *v = text ? json_loads(text, 0, NULL) : json_null();

		if (!dst || !v || json_object_set_new(dst, "config", v)) {
			err = -ENOMEM;
			break;
		}
		if (!sub_object(dst, "hooks")) {
			err = -ENOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	if (err)
		return err;
	if (rc != SQLITE_DONE)
		return sql_err(db, rc) ?: -EIO;
	*ret_configs = TAKE_PTR(configs);
	*ret_chains = TAKE_PTR(chains);
	*ret_pending = TAKE_PTR(pending);
	return 0;
}

/* Run sql with text parameters (NULL binds SQL NULL). */
static int exec(struct agent_db *db, const char *sql, int n, const char *const *params)
{
	sqlite3_stmt *st = NULL;
	int i, rc;

	rc = sqlite3_prepare_v2(db->db, sql, -1, &st, NULL);
	for (i = 0; rc == SQLITE_OK && i < n; i++)
		rc = params[i] ? sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(st, i + 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : (sql_err(db, rc) ?: -EIO);
}

static int put_chains(struct agent_db *db, const char *iface, json_t *hooks, const char *pending,
		      const char *now)
{
	const char *hook;
	json_t *stages;
	int err;

	json_object_foreach(hooks, hook, stages) {
		_cleanup_free_ char *text = NULL;

		if (!json_array_size(stages))
			continue;
		text = json_dumps(stages, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!text)
			return -ENOMEM;
		err = exec(db, "INSERT INTO chains (iface, hook, pending, stages, updated)"
			   " VALUES ($1, $2, $3, $4, $5)",
			   5, (const char *const[]){ iface, hook, pending, text, now });
		if (err)
			return err;
	}
	return 0;
}

static int in_transaction(struct agent_db *db, int (*fn)(struct agent_db *, void *), void *ctx)
{
	int err = exec(db, "BEGIN IMMEDIATE", 0, NULL);

	if (err)
		return err;
	err = fn(db, ctx);
	if (!err)
		err = exec(db, "COMMIT", 0, NULL);
	if (err)
		exec(db, "ROLLBACK", 0, NULL);
	return err;
}

struct tx {
	const char *iface;
	json_t *config;
	json_t *hooks;
	char now[24];
};

static int tx_pending(struct agent_db *db, void *ctx)
{
	struct tx *t = ctx;
	_cleanup_free_ char *text = NULL;
	int err = exec(db, "DELETE FROM chains WHERE iface = $1 AND pending = 1", 1,
		       (const char *const[]){ t->iface });

	if (!err)
		err = exec(db, "DELETE FROM pending_configs WHERE iface = $1", 1,
			   (const char *const[]){ t->iface });
	if (!err && t->config && !(text = json_dumps(t->config, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		err = -ENOMEM;
	if (!err)
		err = exec(db, "INSERT INTO pending_configs (iface, config, updated) VALUES ($1, $2, $3)",
			   3, (const char *const[]){ t->iface, text, t->now });
	return err ?: put_chains(db, t->iface, t->hooks, "1", t->now);
}

static int tx_commit(struct agent_db *db, void *ctx)
{
	struct tx *t = ctx;
	_cleanup_free_ char *text = NULL;
	int err;

	err = exec(db, "DELETE FROM chains WHERE iface = $1", 1, (const char *const[]){ t->iface });
	if (!err)
		err = exec(db, "DELETE FROM pending_configs WHERE iface = $1", 1,
			   (const char *const[]){ t->iface });
	if (!err)
		err = exec(db, "DELETE FROM configs WHERE iface = $1", 1,
			   (const char *const[]){ t->iface });
	if (!err && t->config) {
		text = json_dumps(t->config, JSON_COMPACT | JSON_PRESERVE_ORDER);
		err = text ? exec(db, "INSERT INTO configs (iface, config, updated) VALUES ($1, $2, $3)",
				  3, (const char *const[]){ t->iface, text, t->now })
			   : -ENOMEM;
	}
	return err ?: put_chains(db, t->iface, t->hooks, "0", t->now);
}

static void tx_init(struct tx *t, const char *iface, json_t *config, json_t *hooks)
{
	t->iface = iface;
	t->config = config;
	t->hooks = hooks;
	snprintf(t->now, sizeof(t->now), "%lld", (long long)time(NULL));
}

int agent_db_set_pending(struct agent_db *db, const char *iface, json_t *config, json_t *hooks)
{
	struct tx t;

	tx_init(&t, iface, config, hooks);
	return in_transaction(db, tx_pending, &t);
}

int agent_db_commit(struct agent_db *db, const char *iface, json_t *config, json_t *hooks)
{
	struct tx t;

	tx_init(&t, iface, config, hooks);
	return in_transaction(db, tx_commit, &t);
}

static int tx_drop(struct agent_db *db, void *ctx)
{
	struct tx *t = ctx;
	int err = exec(db, "DELETE FROM chains WHERE iface = $1 AND pending = 1", 1,
		       (const char *const[]){ t->iface });

	return err ?: exec(db, "DELETE FROM pending_configs WHERE iface = $1", 1,
			   (const char *const[]){ t->iface });
}

int agent_db_drop_pending(struct agent_db *db, const char *iface)
{
	struct tx t;

	tx_init(&t, iface, NULL, NULL);
	return in_transaction(db, tx_drop, &t);
}

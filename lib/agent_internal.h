/* SPDX-License-Identifier: BSD-2-Clause */
/* Internal to libbpk: the node agent's database (lib/agent_state.c), used by lib/agent.c. */
#ifndef BPK_AGENT_INTERNAL_H
#define BPK_AGENT_INTERNAL_H

#include <jansson.h>

/*
 * The agent's SQLite database: per interface the applied l3afd configuration, and per
 * interface and hook the chain that runs (its stages, as JSON records), committed or pending
 * (written before an apply switches anything, so that a restart can tell how far it got).
 */
struct agent_db;

/* Open or create the database at path (WAL). NULL with errno set; *ret_error says why. */
struct agent_db *agent_db_open(const char *path, char **ret_error);
void agent_db_close(struct agent_db *db);

/*
 * Everything recorded: *ret_configs {iface: entry}, *ret_chains {iface: {hook: [stage...]}},
 * *ret_pending {iface: {"config": entry or null, "hooks": {hook: [stage...]}}}. New
 * references. 0 or -errno.
 */
int agent_db_load(struct agent_db *db, json_t **ret_configs, json_t **ret_chains,
		  json_t **ret_pending);
/*
 * Record the configuration (NULL: none) and chains ({hook: [stage...]}) an apply of iface is
 * about to switch to. 0 or -errno.
 */
int agent_db_set_pending(struct agent_db *db, const char *iface, json_t *config, json_t *hooks);
/*
 * One transaction: iface's configuration (NULL: none), its committed chains (hooks: {hook:
 * [stage...]}, empty lists dropped), no pending chains. 0 or -errno.
 */
int agent_db_commit(struct agent_db *db, const char *iface, json_t *config, json_t *hooks);
/* Forget iface's pending chains. 0 or -errno. */
int agent_db_drop_pending(struct agent_db *db, const char *iface);
/* The last error in words. */
const char *agent_db_errstr(struct agent_db *db);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* The node agent (bpkd): l3afd's configuration payloads, the chains they ask for, apply, state. */
#ifndef BPK_AGENT_H
#define BPK_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpk/sign.h>
#include <bpk/trust.h>

/*
 * The lists of l3afd's "bpf_programs" object (DESIGN.md §6). The first three are the hooks of
 * include/bpk/chain.h in the same order; probes (kprobe, tracepoint and raw tracepoint
 * programs) are attached each on its own, in no order.
 */
enum bpk_agent_hook {
	BPK_AGENT_HOOK_XDP_INGRESS,
	BPK_AGENT_HOOK_TC_INGRESS,
	BPK_AGENT_HOOK_TC_EGRESS,
	BPK_AGENT_HOOK_PROBES,
	BPK_AGENT_HOOK_CNT,
};

/* "xdp_ingress", "tc_ingress", "tc_egress", "probes"; NULL outside the enum. */
const char *bpk_agent_hook__name(enum bpk_agent_hook hook);

/* ---- l3afd payloads (docs/spec/agent.md §2) ---- */

/* One map_args key/value, as l3afd gives them: integers (or decimal strings of them). */
struct bpk_agent_kv {
	uint64_t key;
	uint64_t value;
};

struct bpk_agent_map_arg {
	char *name;
	size_t arg_cnt;
	struct bpk_agent_kv *args;
};

struct bpk_agent_monitor_map {
	char *name;
	uint64_t key;
	char *aggregator;	/* "" when not given */
};

/*
 * One l3afd program. Strings are "" when the field is absent or null, numbers 0, as l3afd's
 * Go decoder leaves them. Fields the agent does not act on (cmd_*, cpu, memory, rules, *_args
 * but map_args, ...) are type-checked and kept only in json. Plain data owned by the payload.
 */
struct bpk_agent_prog {
	char *name;
	int64_t id;
	int64_t seq_id;
	int64_t cfg_version;
	char *artifact;
	char *map_name;
	char *version;
	char *admin_status;
	char *prog_type;
	char *ebpf_package_repo_url;
	char *object_file;
	char *entry_function_name;
	bool enabled;		/* admin_status is "enabled" */
	size_t map_arg_cnt;
	struct bpk_agent_map_arg *map_args;
	size_t monitor_map_cnt;
	struct bpk_agent_monitor_map *monitor_maps;
	char *json;		/* the program object as given, compact JSON */
};

/* One element of a payload: an interface and its lists. */
struct bpk_agent_iface {
	char *host_name;
	char *iface;
	bool has[BPK_AGENT_HOOK_CNT];	/* the list was in the payload (not absent or null) */
	size_t prog_cnt[BPK_AGENT_HOOK_CNT];
	struct bpk_agent_prog *progs[BPK_AGENT_HOOK_CNT];
};

struct bpk_agent_payload {
	size_t cnt;
	struct bpk_agent_iface *ifaces;
};

enum bpk_agent_payload_kind {
	/* update and add: lists of program objects */
	BPK_AGENT_PAYLOAD_PROGRAMS,
	/* delete: lists of program names (only name is set in each program) */
	BPK_AGENT_PAYLOAD_NAMES,
};

/*
 * Parse an l3afd payload: a JSON array of interface objects (a single object is taken as an
 * array of one). Unknown fields are ignored, as l3afd does; a field of the wrong type refuses
 * the payload with -EINVAL and error->message naming it with its path:
 * "[0].bpf_programs.xdp_ingress[1].seq_id: expected a number". Also refused: an empty iface,
 * an interface twice, a program without a name, a name that cannot be a pin directory
 * ([A-Za-z0-9._-], not "." or ".."), two programs of one list with one name. Returns 0 with
 * *ret_payload (free with bpk_agent_payload__free), -EINVAL or -ENOMEM.
 */
int bpk_agent_payload__parse(const void *buf, size_t len, enum bpk_agent_payload_kind kind,
			     struct bpk_error *error, struct bpk_agent_payload **ret_payload);
void bpk_agent_payload__free(struct bpk_agent_payload *payload);

/*
 * The chain a hook of iface should run: its enabled programs ordered by seq_id, first runs
 * first. *ret_progs (caller frees the array, not the programs, which stay iface's) may be NULL
 * when *ret_cnt is 0. Two enabled programs with one seq_id are refused (-EINVAL, error names
 * the second), except among probes, which have no order. Returns 0, -EINVAL or -ENOMEM.
 */
int bpk_agent_iface__chain(const struct bpk_agent_iface *iface, enum bpk_agent_hook hook,
			   struct bpk_error *error, const struct bpk_agent_prog ***ret_progs,
			   size_t *ret_cnt);

/*
 * Encode one map_args number as the map expects it: a little-endian unsigned integer of size
 * bytes (1, 2, 4 or 8; the map's key or value size). Returns 0, -EINVAL (another size) or
 * -ERANGE (value does not fit).
 */
int bpk_agent_map_arg__encode(uint64_t value, uint32_t size, void *out);

/* ---- the agent ---- */

struct bpk_agent;

/* bpffs directory the agent pins under: PIN_ROOT/<iface>/<hook>/ */
#define BPK_AGENT_PIN_ROOT "/sys/fs/bpf/bpk"
/* The agent's database in the state directory. */
#define BPK_AGENT_DB_NAME "bpkd.db"

struct bpk_agent_opts {
	size_t sz;
	const char *state_dir;		/* created if missing (0700); required */
	const char *pin_root;		/* NULL: BPK_AGENT_PIN_ROOT */
	const struct bpk_trust *trust;	/* borrowed, must outlive the agent; NULL: trust nothing */
	bool allow_unsigned;		/* accept unsigned .bpk and l3afd-layout archives */
	unsigned int timeout;		/* seconds for a download; 0: 30 */
	/*
	 * bpk repositories (base URLs) that programs naming a package resolve from, besides
	 * those configured in STATE/repos.d; one not configured there yet is added (its root
	 * key trusted on first use) at the first apply that needs a repository.
	 */
	const char *const *repos;
	size_t repo_cnt;
	/*
	 * Chain xdp_ingress, tc_ingress and tc_egress the portable way (an XDP root and tail
	 * calls; one TCX link a program) even where the programs could run fused as one
	 * (docs/spec/fuse.md), which is the default.
	 */
	bool no_fuse;
};
#define bpk_agent_opts__last_field no_fuse

/*
 * Open the agent: create or open STATE/bpkd.db and re-adopt what it recorded and what is
 * pinned, detaching nothing; an apply that a crash interrupted is completed or rolled back
 * from what the kernel runs (docs/spec/agent.md §5). NULL with errno set and error saying why.
 * The agent is not thread-safe: one caller at a time (bpkd serialises its requests).
 */
struct bpk_agent *bpk_agent__open(const struct bpk_agent_opts *opts, struct bpk_error *error);
/* Close the agent; what runs keeps running (the pins hold it). NULL is fine. */
void bpk_agent__free(struct bpk_agent *agent);

enum bpk_agent_op {
	BPK_AGENT_OP_UPDATE,	/* each interface's lists replace what it had */
	BPK_AGENT_OP_ADD,	/* each program is added to its list, or replaces one by name */
	BPK_AGENT_OP_DELETE,	/* each named program goes (a payload of NAMES) */
};

/*
 * Apply payload: for each interface and hook, compute the desired chain, load what is new
 * (fetched, verified against the trust policy, loaded with libbpf, map_args written, pinned),
 * build the new chain beside the old one, switch (one program-array slot for XDP; new TCX
 * links, then the old ones detached; each new probe attached from its section name), remove
 * what left the chain, and record the result.
 * All or nothing per interface: on failure that interface keeps its previous chains and
 * configuration, and later interfaces are not applied. Returns 0 or: -EINVAL (the
 * configuration is wrong: error says where), -ENODEV (no such interface), -ENOENT (an
 * artifact cannot be found), -EKEYREJECTED (a package fails verification or the policy),
 * -ENOEXEC (the kernel refused a program; error ends with the verifier log's last lines),
 * -EOPNOTSUPP (an artifact kind this agent does not run), -EBUSY (the hook has a
 * program bpk did not put there), or another negative errno.
 */
int bpk_agent__apply(struct bpk_agent *agent, enum bpk_agent_op op,
		     const struct bpk_agent_payload *payload, struct bpk_error *error);

/*
 * The applied configuration: l3afd's shape, an array of interface objects (iface NULL), or
 * the one object of iface. Caller frees. NULL with errno ENOENT (no configuration for iface)
 * or ENOMEM.
 */
char *bpk_agent__config_json(struct bpk_agent *agent, const char *iface);
/* What runs, per interface and hook (docs/spec/agent.md §4). Caller frees; NULL on ENOMEM. */
char *bpk_agent__status_json(struct bpk_agent *agent);
/* Prometheus text exposition (docs/spec/agent.md §4). Caller frees; NULL on ENOMEM. */
char *bpk_agent__metrics(struct bpk_agent *agent);

/* ---- talking to bpkd (bpk apply, status, detach) ---- */

/* Where bpkd listens by default. */
#define BPK_AGENT_DEFAULT_URL "http://127.0.0.1:7080"

/*
 * One request to the agent at base_url (NULL: BPK_AGENT_DEFAULT_URL): method ("GET",
 * "POST") on path, with body (may be NULL) sent as application/json. Through ret_status the
 * HTTP status, through ret_body the answer (NUL-terminated, caller frees). Returns 0 whatever
 * the status, or a negative errno when no answer came (-ECONNREFUSED, -ETIMEDOUT, ...).
 */
int bpk_agent_client__request(const char *base_url, const char *method, const char *path,
			      const char *body, long *ret_status, char **ret_body);

/* How bpk_agent_client__request_opts() reaches an agent over https (docs/spec/agent.md §8). */
struct bpk_agent_client_opts {
	size_t sz;
	/* PEM CA certificates that bpkd's certificate must chain to; NULL: the system's store */
	const char *ca_file;
	/* PEM client certificate for mutual TLS; NULL: none is presented */
	const char *cert_file;
	/* its PEM private key (unencrypted); NULL: read from cert_file */
	const char *key_file;
};

/*
 * bpk_agent_client__request() with opts (may be NULL). When no answer came, the negative
 * errno is joined by one sentence in error (may be NULL), libcurl's: "SSL certificate
 * problem: ...". -EPROTO: the TLS handshake failed or the peer closed the connection
 * mid-way; -EKEYREJECTED: bpkd's certificate did not verify; -ENOENT: a file of opts cannot
 * be read.
 */
int bpk_agent_client__request_opts(const char *base_url, const char *method, const char *path,
				   const char *body, const struct bpk_agent_client_opts *opts,
				   struct bpk_error *error, long *ret_status, char **ret_body);

#endif

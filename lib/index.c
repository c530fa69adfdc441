// SPDX-License-Identifier: BSD-2-Clause
/* The signed repository index: TUF roles, signed by the repository and verified by clients. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bpk_internal.h"
#include "crypto.h"

#define SPEC_VERSION "1.0"
/* The canonical form every signature covers (docs/spec/index.md, "Canonical form"). */
#define CANONICAL_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
#define MAX_DEPTH 32
#define MAX_SIGNATURES 256
#define MAX_KEYS 256
/* Bound for files the library reads from its own disk: the repository's, or a client's state. */
#define MAX_LOCAL_LEN (256ULL << 20)
#define ERR_MAX 640

static const char *const role_names[BPK_INDEX_ROLE_CNT] = {
	"root", "targets", "snapshot", "timestamp",
};
static const char *const role_files[BPK_INDEX_ROLE_CNT] = {
	"root.json", "targets.json", "snapshot.json", "timestamp.json",
};

struct index_err {
	enum bpk_index_err code;
	char msg[ERR_MAX];
};

/* A public key the root lists, by its id, with the PEM text the root carries. */
struct index_key {
	char id[BPK_KEYID_LEN + 1];
	EVP_PKEY *pkey;
	char *pem;
};

struct index_role_keys {
	char (*ids)[BPK_KEYID_LEN + 1];
	size_t cnt;
	unsigned int threshold;
};

struct index_root {
	struct index_key *keys;
	size_t key_cnt;
	struct index_role_keys roles[BPK_INDEX_ROLE_CNT];
};

/* One role document, parsed and validated, with the exact bytes it came from. */
struct index_doc {
	json_t *doc; /* {"signed", "signatures"}; NULL when absent */
	char *raw;
	size_t raw_len;
	uint64_t version;
	int64_t expires;
	struct index_root root;		  /* role root only */
	struct bpk_index_target *targets; /* role targets only, sorted */
	size_t target_cnt;
};

struct bpk_index_meta {
	struct index_doc docs[BPK_INDEX_ROLE_CNT];
};

/* What a role document records about another file: snapshot for targets, timestamp for snapshot. */
struct meta_record {
	uint64_t version;
	uint64_t length;
	const char *sha256;
};

/* A private key kept to sign with. */
struct ring_key {
	char id[BPK_KEYID_LEN + 1];
	EVP_PKEY *pkey;
};

struct bpk_index {
	int64_t now;
	uint64_t lifetime[BPK_INDEX_ROLE_CNT];
	char *dir;
	bool ready; /* created or loaded */
	struct bpk_index_meta meta;
	/* The next root version, while it is being edited. */
	struct index_root draft;
	bool editing;
	/* The "targets" object the next publish signs. */
	json_t *staged_targets;
	struct ring_key *ring;
	size_t ring_cnt;
	struct index_err err;
};

struct bpk_index_client {
	char *state_dir;
	void *root;
	size_t root_len;
	bpk_index_fetch_fn fetch;
	void *fetch_ctx;
	int64_t now;
	uint64_t max_root_len;
	uint64_t max_timestamp_len;
	uint32_t max_root_rotations;
	bool updated;
	struct bpk_index_meta meta;
	struct index_err err;
};

/* Record why a call failed, for bpk_index__errstr(); returns err, a negative errno. */
__attribute__((format(printf, 4, 5))) static int bail(struct index_err *e, enum bpk_index_err code,
						      int err, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return err;
}

static void err_clear(struct index_err *e)
{
	e->code = BPK_INDEX_OK;
	e->msg[0] = '\0';
}

static int fail_nomem(struct index_err *e)
{
	return bail(e, BPK_INDEX_E_IO, -ENOMEM, "out of memory");
}

/* ---- Names, times ---- */

const char *bpk_index_role__name(enum bpk_index_role role)
{
	return (unsigned int)role < BPK_INDEX_ROLE_CNT ? role_names[role] : NULL;
}

int bpk_index_role__from_name(const char *name, enum bpk_index_role *ret_role)
{
	int i;

	for (i = 0; name && i < BPK_INDEX_ROLE_CNT; i++) {
		if (!strcmp(name, role_names[i])) {
			*ret_role = (enum bpk_index_role)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *bpk_index_err__name(enum bpk_index_err err)
{
	static const char *const names[] = {
		[BPK_INDEX_OK] = "ok",
		[BPK_INDEX_E_INVALID] = "invalid",
		[BPK_INDEX_E_IO] = "io",
		[BPK_INDEX_E_FETCH] = "fetch",
		[BPK_INDEX_E_MALFORMED] = "malformed",
		[BPK_INDEX_E_TOO_LONG] = "too-long",
		[BPK_INDEX_E_SIGNATURE] = "signature",
		[BPK_INDEX_E_ROOT_CHAIN] = "root-chain",
		[BPK_INDEX_E_ROLLBACK] = "rollback",
		[BPK_INDEX_E_EXPIRED] = "expired",
		[BPK_INDEX_E_MISMATCH] = "mismatch",
		[BPK_INDEX_E_UNKNOWN_TARGET] = "unknown-target",
		[BPK_INDEX_E_TARGET_MISMATCH] = "target-mismatch",
		[BPK_INDEX_E_NO_KEY] = "no-key",
		[BPK_INDEX_E_EXISTS] = "exists",
	};

	return (unsigned int)err < ARRAY_SIZE(names) && names[err] ? names[err] : "unknown";
}

static int digits(const char *s, int n)
{
	int v = 0;

	while (n--)
		v = v * 10 + (*s++ - '0');
	return v;
}

int bpk_index_time__parse(const char *text, int64_t *ret_time)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
	struct tm tm = { 0 }, want, back;
	time_t t;
	size_t i;

	if (!text || strlen(text) != sizeof(pattern) - 1)
		return -EINVAL;
	for (i = 0; i < sizeof(pattern) - 1; i++) {
		if (pattern[i] == 'd' ? (text[i] < '0' || text[i] > '9') : text[i] != pattern[i])
			return -EINVAL;
	}
	tm.tm_year = digits(text, 4) - 1900;
	tm.tm_mon = digits(text + 5, 2) - 1;
	tm.tm_mday = digits(text + 8, 2);
	tm.tm_hour = digits(text + 11, 2);
	tm.tm_min = digits(text + 14, 2);
	tm.tm_sec = digits(text + 17, 2);
	if (tm.tm_year + 1900 < 1)
		return -EINVAL;
	want = tm;
	t = timegm(&tm);
	/* timegm() normalises "02-30" into March: a date that does not come back is invalid. */
	if (!gmtime_r(&t, &back) || back.tm_year != want.tm_year || back.tm_mon != want.tm_mon ||
	    back.tm_mday != want.tm_mday || back.tm_hour != want.tm_hour ||
	    back.tm_min != want.tm_min || back.tm_sec != want.tm_sec)
		return -EINVAL;
	*ret_time = (int64_t)t;
	return 0;
}

int bpk_index_time__format(int64_t time, char out[21])
{
	time_t t = (time_t)time;
	struct tm tm;
	char buf[64];

	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return -ERANGE;
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	memcpy(out, buf, 21);
	out[20] = '\0';
	return 0;
}

static bool is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

static bool feed_valid(const char *feed)
{
	return bpk_name__valid(feed) && !strchr(feed, '/');
}

/* ---- Canonical form ---- */

/*
 * Reals have no single text form (1.0, 1e0, 1.00 are one number), so a document holding one
 * cannot be signed or verified; depth is bounded so the walk cannot exhaust the stack.
 */
static int canonical_check(const json_t *value, unsigned int depth)
{
	const char *key;
	json_t *item;
	size_t i;
	int err;

	if (depth > MAX_DEPTH)
		return -E2BIG;
	switch (json_typeof(value)) {
	case JSON_REAL:
		return -EDOM;
	case JSON_OBJECT:
		json_object_foreach((json_t *)value, key, item) {
			err = canonical_check(item, depth + 1);
			if (err)
				return err;
		}
		return 0;
	case JSON_ARRAY:
		json_array_foreach((json_t *)value, i, item) {
			err = canonical_check(item, depth + 1);
			if (err)
				return err;
		}
		return 0;
	default:
		return 0;
	}
}

/* The canonical text of value. Caller frees. NULL with errno EDOM/E2BIG/ENOMEM. */
static char *canonical_dump(const json_t *value, size_t *ret_len)
{
	char *text;
	int err = canonical_check(value, 0);

	if (err) {
		errno = -err;
		return NULL;
	}
	text = json_dumps(value, CANONICAL_FLAGS);
	if (!text) {
		errno = ENOMEM;
		return NULL;
	}
	*ret_len = strlen(text);
	return text;
}

/* ---- Keys and roots ---- */

static void root_release(struct index_root *r)
{
	size_t i;

	for (i = 0; i < r->key_cnt; i++) {
		EVP_PKEY_free(r->keys[i].pkey);
		free(r->keys[i].pem);
	}
	free(r->keys);
	for (i = 0; i < BPK_INDEX_ROLE_CNT; i++)
		free(r->roles[i].ids);
	memset(r, 0, sizeof(*r));
}

static const struct index_key *root_find_key(const struct index_root *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->key_cnt; i++)
		if (!strcmp(r->keys[i].id, id))
			return &r->keys[i];
	return NULL;
}

/* The position of id in the role's list, or -1. */
static ssize_t role_key_index(const struct index_role_keys *rk, const char *id)
{
	size_t i;

	for (i = 0; i < rk->cnt; i++)
		if (!strcmp(rk->ids[i], id))
			return (ssize_t)i;
	return -1;
}

/* Add a key (taking a reference on pkey) unless the root has it. Returns 0 or -ENOMEM. */
static int root_add_key(struct index_root *r, EVP_PKEY *pkey, const char *id, const char *pem)
{
	struct index_key *keys, *k;

	if (root_find_key(r, id))
		return 0;
	keys = realloc(r->keys, (r->key_cnt + 1) * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	r->keys = keys;
	k = &keys[r->key_cnt];
	k->pem = strdup(pem);
	if (!k->pem)
		return -ENOMEM;
	if (!EVP_PKEY_up_ref(pkey)) {
		free(k->pem);
		return -ENOMEM;
	}
	k->pkey = pkey;
	memcpy(k->id, id, sizeof(k->id));
	r->key_cnt++;
	return 0;
}

static int role_add_id(struct index_role_keys *rk, const char *id)
{
	char(*ids)[BPK_KEYID_LEN + 1] = realloc(rk->ids, (rk->cnt + 1) * sizeof(*ids));

	if (!ids)
		return -ENOMEM;
	rk->ids = ids;
	memcpy(ids[rk->cnt++], id, BPK_KEYID_LEN + 1);
	return 0;
}

static int root_copy(const struct index_root *src, struct index_root *dst)
{
	struct index_root r = { 0 };
	size_t i, j;
	int err;

	for (i = 0; i < src->key_cnt; i++) {
		err = root_add_key(&r, src->keys[i].pkey, src->keys[i].id, src->keys[i].pem);
		if (err)
			goto out;
	}
	for (i = 0; i < BPK_INDEX_ROLE_CNT; i++) {
		r.roles[i].threshold = src->roles[i].threshold;
		for (j = 0; j < src->roles[i].cnt; j++) {
			err = role_add_id(&r.roles[i], src->roles[i].ids[j]);
			if (err)
				goto out;
		}
	}
	*dst = r;
	return 0;
out:
	root_release(&r);
	return err;
}

/* Whether two roots give role the same keys and threshold (in any order). */
static bool role_same(const struct index_root *a, const struct index_root *b,
		      enum bpk_index_role role)
{
	const struct index_role_keys *ka = &a->roles[role], *kb = &b->roles[role];
	size_t i;

	if (ka->threshold != kb->threshold || ka->cnt != kb->cnt)
		return false;
	for (i = 0; i < ka->cnt; i++)
		if (role_key_index(kb, ka->ids[i]) < 0)
			return false;
	return true;
}

/* ---- Parsing role documents ---- */

static void doc_release(struct index_doc *d)
{
	json_decref(d->doc);
	free(d->raw);
	root_release(&d->root);
	free(d->targets);
	memset(d, 0, sizeof(*d));
}

static void meta_release(struct bpk_index_meta *m)
{
	int i;

	for (i = 0; i < BPK_INDEX_ROLE_CNT; i++)
		doc_release(&m->docs[i]);
}

static json_t *doc_signed(const struct index_doc *d)
{
	return json_object_get(d->doc, "signed");
}

/* obj[key] as an integer in [min, INT64_MAX]. */
static int get_uint(struct index_err *e, const char *file, const json_t *obj, const char *where,
		    const char *key, int64_t min, uint64_t *ret)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < min)
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			    "%s: '%s%s' must be an integer of at least %" PRId64, file, where, key,
			    min);
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_string(struct index_err *e, const char *file, const json_t *obj, const char *where,
		      const char *key, const char **ret)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL, "%s: '%s%s' must be a string", file,
			    where, key);
	*ret = json_string_value(v);
	return 0;
}

static int get_object(struct index_err *e, const char *file, const json_t *obj, const char *where,
		      const char *key, json_t **ret)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_object(v))
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL, "%s: '%s%s' must be an object", file,
			    where, key);
	*ret = v;
	return 0;
}

static int get_sha256(struct index_err *e, const char *file, const json_t *obj, const char *where,
		      const char **ret)
{
	json_t *hashes = NULL;
	const char *hex;
	int err;

	err = get_object(e, file, obj, where, "hashes", &hashes);
	if (err)
		return err;
	if (!json_is_string(json_object_get(hashes, "sha256")))
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			    "%s: '%shashes' has no \"sha256\" string", file, where);
	hex = json_string_value(json_object_get(hashes, "sha256"));
	if (!is_hex64(hex))
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			    "%s: '%shashes.sha256' is not 64 lowercase hex digits", file, where);
	*ret = hex;
	return 0;
}

static int parse_root(struct index_err *e, const char *file, const json_t *signed_,
		      struct index_root *ret)
{
	struct index_root r = { 0 };
	json_t *keys = NULL, *roles = NULL, *item = NULL;
	const char *id, *name;
	size_t i;
	int err, role;

	err = get_object(e, file, signed_, "signed.", "keys", &keys);
	if (err)
		return err;
	if (json_object_size(keys) > MAX_KEYS)
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL, "%s: more than %d keys", file,
			    MAX_KEYS);
	json_object_foreach(keys, id, item) {
		const char *type = NULL, *scheme = NULL, *pem = NULL;
		char where[128], kwhere[160], real_id[BPK_KEYID_LEN + 1];
		json_t *keyval = NULL;
		EVP_PKEY *pkey;

		if (!is_hex64(id)) {
			err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
				   "%s: key id \"%.70s\" is not 64 lowercase hex digits", file, id);
			goto out;
		}
		snprintf(where, sizeof(where), "signed.keys.%s.", id);
		if (!json_is_object(item)) {
			err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL, "%s: key %s is not an object",
				   file, id);
			goto out;
		}
		snprintf(kwhere, sizeof(kwhere), "%skeyval.", where);
		if ((err = get_string(e, file, item, where, "keytype", &type)) ||
		    (err = get_string(e, file, item, where, "scheme", &scheme)) ||
		    (err = get_object(e, file, item, where, "keyval", &keyval)) ||
		    (err = get_string(e, file, keyval, kwhere, "public", &pem)))
			goto out;
		if (strcmp(type, "ed25519") || strcmp(scheme, "ed25519")) {
			err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
				   "%s: key %s is of type \"%.32s\", scheme \"%.32s\": not ed25519",
				   file, id, type, scheme);
			goto out;
		}
		pkey = bpk_key_from_pem(pem, strlen(pem), false);
		if (!pkey) {
			err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
				   "%s: key %s is not an Ed25519 public key in PEM", file, id);
			goto out;
		}
		err = bpk_key_id(pkey, real_id);
		if (!err && strcmp(real_id, id))
			err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
				   "%s: key id %s is not the SHA-256 of its public key (%s)",
				   file, id, real_id);
		else if (!err && root_add_key(&r, pkey, id, pem))
			err = fail_nomem(e);
		else if (err)
			err = bail(e, BPK_INDEX_E_MALFORMED, err, "%s: key %s cannot be encoded",
				   file, id);
		EVP_PKEY_free(pkey);
		if (err)
			goto out;
	}

	err = get_object(e, file, signed_, "signed.", "roles", &roles);
	if (err)
		goto out;
	json_object_foreach(roles, name, item) {
		enum bpk_index_role unused;

		if (bpk_index_role__from_name(name, &unused)) {
			err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL, "%s: unknown role \"%.64s\"",
				   file, name);
			goto out;
		}
	}
	for (role = 0; role < BPK_INDEX_ROLE_CNT; role++) {
		struct index_role_keys *rk = &r.roles[role];
		char where[64];
		uint64_t threshold;
		json_t *ids, *id_value;

		snprintf(where, sizeof(where), "signed.roles.%s.", role_names[role]);
		if ((err = get_object(e, file, roles, "signed.roles.", role_names[role], &item)) ||
		    (err = get_uint(e, file, item, where, "threshold", 1, &threshold)))
			goto out;
		ids = json_object_get(item, "keyids");
		if (!json_is_array(ids) || json_array_size(ids) > MAX_KEYS) {
			err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
				   "%s: '%skeyids' must be an array of at most %d key ids", file,
				   where, MAX_KEYS);
			goto out;
		}
		json_array_foreach(ids, i, id_value) {
			const char *kid = json_string_value(id_value);

			if (!kid || !root_find_key(&r, kid)) {
				err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
					   "%s: role %s lists key \"%.70s\", not in 'keys'",
					   file, role_names[role], kid ? kid : "(not a string)");
				goto out;
			}
			if (role_key_index(rk, kid) >= 0) {
				err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
					   "%s: role %s lists key %s twice", file, role_names[role],
					   kid);
				goto out;
			}
			if (role_add_id(rk, kid)) {
				err = fail_nomem(e);
				goto out;
			}
		}
		if (threshold > rk->cnt) {
			err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
				   "%s: role %s needs %" PRIu64
				   " signatures but lists %zu key%s: it can never be met",
				   file, role_names[role], threshold, rk->cnt,
				   rk->cnt == 1 ? "" : "s");
			goto out;
		}
		rk->threshold = (unsigned int)threshold;
	}
	*ret = r;
	return 0;
out:
	root_release(&r);
	return err;
}

static int target_cmp(const void *a, const void *b)
{
	const struct bpk_index_target *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	c = bpk_semver__cmp(x->version, y->version);
	return c ? c : strcmp(x->version, y->version);
}

/* One entry of "targets", keyed "NAME/VERSION". */
static int parse_target(struct index_err *e, const char *file, const char *key,
			const json_t *entry, struct bpk_index_target *ret)
{
	struct bpk_index_target t = { 0 };
	const char *slash;
	char where[300], cwhere[320];
	json_t *custom = NULL, *yanked;
	int err;

	snprintf(where, sizeof(where), "signed.targets.%.200s.", key);
	snprintf(cwhere, sizeof(cwhere), "%scustom.", where);
	if (!json_is_object(entry))
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			    "%s: target \"%.200s\" is not an object", file, key);
	if ((err = get_uint(e, file, entry, where, "length", 0, &t.size)) ||
	    (err = get_sha256(e, file, entry, where, &t.sha256)) ||
	    (err = get_object(e, file, entry, where, "custom", &custom)) ||
	    (err = get_string(e, file, custom, cwhere, "name", &t.name)) ||
	    (err = get_string(e, file, custom, cwhere, "version", &t.version)) ||
	    (err = get_string(e, file, custom, cwhere, "feed", &t.feed)))
		return err;
	yanked = json_object_get(custom, "yanked");
	if (!json_is_boolean(yanked))
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			    "%s: '%syanked' must be true or false", file, cwhere);
	t.yanked = json_is_true(yanked);
	if (!bpk_name__valid(t.name) || !bpk_semver__valid(t.version) || !feed_valid(t.feed))
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			    "%s: target \"%.200s\" has an invalid name, version or feed", file,
			    key);
	slash = strchr(t.name, '/');
	if (slash && (strlen(t.feed) != (size_t)(slash - t.name) ||
		      strncmp(t.feed, t.name, (size_t)(slash - t.name))))
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			    "%s: target \"%.200s\" is in feed \"%s\", not the feed its name says",
			    file, key, t.feed);
	if (strncmp(key, t.name, strlen(t.name)) || key[strlen(t.name)] != '/' ||
	    strcmp(key + strlen(t.name) + 1, t.version))
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			    "%s: target \"%.200s\" is not keyed NAME/VERSION of its custom fields",
			    file, key);
	*ret = t;
	return 0;
}

static int parse_targets(struct index_err *e, const char *file, const json_t *signed_,
			 struct bpk_index_target **ret_targets, size_t *ret_cnt)
{
	struct bpk_index_target *targets;
	json_t *obj = NULL, *entry;
	const char *key;
	size_t n = 0;
	int err;

	err = get_object(e, file, signed_, "signed.", "targets", &obj);
	if (err)
		return err;
	targets = calloc(json_object_size(obj) + 1, sizeof(*targets));
	if (!targets)
		return fail_nomem(e);
	json_object_foreach(obj, key, entry) {
		err = parse_target(e, file, key, entry, &targets[n]);
		if (err) {
			free(targets);
			return err;
		}
		n++;
	}
	qsort(targets, n, sizeof(*targets), target_cmp);
	*ret_targets = targets;
	*ret_cnt = n;
	return 0;
}

static int parse_record(struct index_err *e, const char *file, const char *name,
			const json_t *entry, struct meta_record *ret)
{
	struct meta_record r;
	char where[128];
	int err;

	snprintf(where, sizeof(where), "signed.meta.%.64s.", name);
	if (!json_is_object(entry))
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL, "%s: '%.*s' must be an object", file,
			    (int)strlen(where) - 1, where);
	if ((err = get_uint(e, file, entry, where, "version", 1, &r.version)) ||
	    (err = get_uint(e, file, entry, where, "length", 0, &r.length)) ||
	    (err = get_sha256(e, file, entry, where, &r.sha256)))
		return err;
	if (ret)
		*ret = r;
	return 0;
}

/* "meta" of snapshot and timestamp: every entry well formed, the one that matters present. */
static int parse_meta(struct index_err *e, const char *file, const json_t *signed_,
		      const char *required)
{
	json_t *meta = NULL, *entry;
	const char *name;
	int err;

	err = get_object(e, file, signed_, "signed.", "meta", &meta);
	if (err)
		return err;
	json_object_foreach(meta, name, entry) {
		err = parse_record(e, file, name, entry, NULL);
		if (err)
			return err;
	}
	if (!json_object_get(meta, required))
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL, "%s: 'signed.meta' has no \"%s\"",
			    file, required);
	return 0;
}

/* The record parent keeps of name (validated when parent was parsed). */
static struct meta_record doc_record(const struct index_doc *parent, const char *name)
{
	json_t *entry = json_object_get(json_object_get(doc_signed(parent), "meta"), name);
	struct meta_record r;

	r.version = (uint64_t)json_integer_value(json_object_get(entry, "version"));
	r.length = (uint64_t)json_integer_value(json_object_get(entry, "length"));
	r.sha256 = json_string_value(json_object_get(json_object_get(entry, "hashes"), "sha256"));
	return r;
}

/*
 * Parse and validate the document file of role from data (copied). Signatures are not checked
 * here, only their shape. Fills ret only on success.
 */
static int parse_doc(struct index_err *e, const char *file, enum bpk_index_role role,
		     const void *data, size_t len, struct index_doc *ret)
{
	struct index_doc d = { 0 };
	const char *key, *s = NULL;
	json_t *signed_ = NULL, *sigs, *item;
	json_error_t jerr;
	size_t i;
	int err;

	d.doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!d.doc)
		return bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			    "%s is not valid JSON: %s (line %d, column %d)", file, jerr.text,
			    jerr.line, jerr.column);
	if (!json_is_object(d.doc)) {
		err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL, "%s is not a JSON object", file);
		goto out;
	}
	json_object_foreach(d.doc, key, item) {
		if (strcmp(key, "signed") && strcmp(key, "signatures")) {
			err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
				   "%s: unexpected member \"%.64s\"", file, key);
			goto out;
		}
	}
	err = get_object(e, file, d.doc, "", "signed", &signed_);
	if (err)
		goto out;
	sigs = json_object_get(d.doc, "signatures");
	if (!json_is_array(sigs) || json_array_size(sigs) > MAX_SIGNATURES) {
		err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			   "%s: 'signatures' must be an array of at most %d signatures", file,
			   MAX_SIGNATURES);
		goto out;
	}
	json_array_foreach(sigs, i, item) {
		const char *kid = json_string_value(json_object_get(item, "keyid"));

		if (!json_is_object(item) || json_object_size(item) != 2 || !kid ||
		    !is_hex64(kid) || !json_is_string(json_object_get(item, "sig"))) {
			err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
				   "%s: signature %zu is not {\"keyid\": HEX, \"sig\": BASE64}",
				   file, i + 1);
			goto out;
		}
	}
	err = canonical_check(signed_, 0);
	if (err == -EDOM) {
		err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			   "%s: 'signed' holds a fraction or exponent, which has no canonical form",
			   file);
		goto out;
	} else if (err) {
		err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			   "%s: 'signed' is nested deeper than %d levels", file, MAX_DEPTH);
		goto out;
	}

	if ((err = get_string(e, file, signed_, "signed.", "_type", &s)))
		goto out;
	if (strcmp(s, role_names[role])) {
		err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			   "%s: '_type' is \"%.32s\", not \"%s\"", file, s, role_names[role]);
		goto out;
	}
	if ((err = get_string(e, file, signed_, "signed.", "spec_version", &s)))
		goto out;
	if (strcmp(s, "1") && strncmp(s, "1.", 2)) {
		err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			   "%s: spec_version \"%.32s\" is not supported (this client reads 1.x)",
			   file, s);
		goto out;
	}
	if ((err = get_uint(e, file, signed_, "signed.", "version", 1, &d.version)) ||
	    (err = get_string(e, file, signed_, "signed.", "expires", &s)))
		goto out;
	if (bpk_index_time__parse(s, &d.expires)) {
		err = bail(e, BPK_INDEX_E_MALFORMED, -EINVAL,
			   "%s: 'expires' \"%.40s\" is not a UTC time like 2026-12-01T00:00:00Z",
			   file, s);
		goto out;
	}

	switch (role) {
	case BPK_INDEX_ROOT:
		err = parse_root(e, file, signed_, &d.root);
		break;
	case BPK_INDEX_TARGETS:
		err = parse_targets(e, file, signed_, &d.targets, &d.target_cnt);
		break;
	case BPK_INDEX_SNAPSHOT:
		err = parse_meta(e, file, signed_, role_files[BPK_INDEX_TARGETS]);
		break;
	case BPK_INDEX_TIMESTAMP:
		err = parse_meta(e, file, signed_, role_files[BPK_INDEX_SNAPSHOT]);
		break;
	}
	if (err)
		goto out;

	d.raw = malloc(len + 1);
	if (!d.raw) {
		err = fail_nomem(e);
		goto out;
	}
	memcpy(d.raw, data, len);
	d.raw[len] = '\0';
	d.raw_len = len;
	*ret = d;
	return 0;
out:
	doc_release(&d);
	return err;
}

/* ---- Signatures ---- */

struct sig_tally {
	unsigned int valid;
	unsigned int invalid;
	unsigned int untrusted;
};

/* Count the signatures of d by distinct keys that root gives role. Returns 0 or -ENOMEM. */
static int tally_signatures(const struct index_doc *d, const struct index_root *root,
			    enum bpk_index_role role, struct sig_tally *ret)
{
	const struct index_role_keys *rk = &root->roles[role];
	struct sig_tally t = { 0 };
	_cleanup_free_ bool *seen = NULL;
	_cleanup_free_ char *canon = NULL;
	json_t *sig;
	size_t i, len;

	canon = canonical_dump(doc_signed(d), &len);
	seen = calloc(rk->cnt + 1, sizeof(*seen));
	if (!canon || !seen)
		return -ENOMEM;
	json_array_foreach(json_object_get(d->doc, "signatures"), i, sig) {
		const char *kid = json_string_value(json_object_get(sig, "keyid"));
		const char *b64 = json_string_value(json_object_get(sig, "sig"));
		ssize_t at = role_key_index(rk, kid);
		const struct index_key *key;
		unsigned char *raw;
		size_t raw_len;
		bool ok;

		if (at < 0) {
			t.untrusted++;
			continue;
		}
		/* A key counts once, however often it signed. */
		if (seen[at])
			continue;
		key = root_find_key(root, kid);
		if (!key || bpk_base64_decode(b64, &raw, &raw_len)) {
			t.invalid++;
			continue;
		}
		ok = bpk_ed25519_verify(key->pkey, canon, len, raw, raw_len);
		free(raw);
		if (ok) {
			seen[at] = true;
			t.valid++;
		} else {
			t.invalid++;
		}
	}
	*ret = t;
	return 0;
}

static void describe_tally(char *buf, size_t size, const struct sig_tally *t,
			   unsigned int threshold, enum bpk_index_role role)
{
	int n = snprintf(buf, size, "%u valid signature%s of the %u required", t->valid,
			 t->valid == 1 ? "" : "s", threshold);

	if (t->invalid && n > 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, "; %u invalid", t->invalid);
	if (t->untrusted && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "; %u by %s not trusted for the %s role",
			 t->untrusted, t->untrusted == 1 ? "a key" : "keys", role_names[role]);
}

/*
 * Whether d carries a threshold of valid signatures by the keys root gives role. When not,
 * describes the count into why (if not NULL) and returns -EKEYREJECTED.
 */
static int check_threshold(const struct index_doc *d, const struct index_root *root,
			   enum bpk_index_role role, char *why, size_t why_size)
{
	struct sig_tally t;
	int err = tally_signatures(d, root, role, &t);

	if (err)
		return err;
	if (t.valid >= root->roles[role].threshold)
		return 0;
	if (why)
		describe_tally(why, why_size, &t, root->roles[role].threshold, role);
	return -EKEYREJECTED;
}

static int verify_role(struct index_err *e, const char *file, const struct index_doc *d,
		       const struct index_root *root, enum bpk_index_role role)
{
	char why[256];
	int err = check_threshold(d, root, role, why, sizeof(why));

	if (err == -EKEYREJECTED)
		return bail(e, BPK_INDEX_E_SIGNATURE, err, "%s: %s", file, why);
	if (err)
		return fail_nomem(e);
	return 0;
}

/* ---- Meta view ---- */

static const struct index_doc *meta_doc(const struct bpk_index_meta *m, enum bpk_index_role role)
{
	if (!m || (unsigned int)role >= BPK_INDEX_ROLE_CNT || !m->docs[role].doc)
		return NULL;
	return &m->docs[role];
}

uint64_t bpk_index_meta__version(const struct bpk_index_meta *meta, enum bpk_index_role role)
{
	const struct index_doc *d = meta_doc(meta, role);

	return d ? d->version : 0;
}

int64_t bpk_index_meta__expires(const struct bpk_index_meta *meta, enum bpk_index_role role)
{
	const struct index_doc *d = meta_doc(meta, role);

	return d ? d->expires : 0;
}

unsigned int bpk_index_meta__threshold(const struct bpk_index_meta *meta, enum bpk_index_role role)
{
	const struct index_doc *d = meta_doc(meta, BPK_INDEX_ROOT);

	return d && (unsigned int)role < BPK_INDEX_ROLE_CNT ? d->root.roles[role].threshold : 0;
}

size_t bpk_index_meta__keyid_cnt(const struct bpk_index_meta *meta, enum bpk_index_role role)
{
	const struct index_doc *d = meta_doc(meta, BPK_INDEX_ROOT);

	return d && (unsigned int)role < BPK_INDEX_ROLE_CNT ? d->root.roles[role].cnt : 0;
}

const char *bpk_index_meta__keyid(const struct bpk_index_meta *meta, enum bpk_index_role role,
				  size_t idx)
{
	if (idx >= bpk_index_meta__keyid_cnt(meta, role))
		return NULL;
	return meta->docs[BPK_INDEX_ROOT].root.roles[role].ids[idx];
}

size_t bpk_index_meta__target_cnt(const struct bpk_index_meta *meta)
{
	const struct index_doc *d = meta_doc(meta, BPK_INDEX_TARGETS);

	return d ? d->target_cnt : 0;
}

int bpk_index_meta__target(const struct bpk_index_meta *meta, size_t idx,
			   struct bpk_index_target *ret_target)
{
	if (idx >= bpk_index_meta__target_cnt(meta))
		return -ENOENT;
	*ret_target = meta->docs[BPK_INDEX_TARGETS].targets[idx];
	return 0;
}

int bpk_index_meta__find(const struct bpk_index_meta *meta, const char *name, const char *version,
			 struct bpk_index_target *ret_target)
{
	size_t i, n = bpk_index_meta__target_cnt(meta);

	if (!name || !version)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		const struct bpk_index_target *t = &meta->docs[BPK_INDEX_TARGETS].targets[i];

		if (!strcmp(t->name, name) && !strcmp(t->version, version)) {
			*ret_target = *t;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- Repository side ---- */

static int64_t index_now(const struct bpk_index *idx)
{
	return idx->now ? idx->now : (int64_t)time(NULL);
}

struct bpk_index *bpk_index__new(const struct bpk_index_opts *opts)
{
	static const uint64_t defaults[BPK_INDEX_ROLE_CNT] = {
		BPK_INDEX_ROOT_LIFETIME, BPK_INDEX_TARGETS_LIFETIME, BPK_INDEX_SNAPSHOT_LIFETIME,
		BPK_INDEX_TIMESTAMP_LIFETIME,
	};
	struct bpk_index *idx = calloc(1, sizeof(*idx));
	int i;

	if (!idx) {
		errno = ENOMEM;
		return NULL;
	}
	idx->now = OPTS_GET(opts, now, 0);
	idx->lifetime[BPK_INDEX_ROOT] = OPTS_GET(opts, root_lifetime, 0);
	idx->lifetime[BPK_INDEX_TARGETS] = OPTS_GET(opts, targets_lifetime, 0);
	idx->lifetime[BPK_INDEX_SNAPSHOT] = OPTS_GET(opts, snapshot_lifetime, 0);
	idx->lifetime[BPK_INDEX_TIMESTAMP] = OPTS_GET(opts, timestamp_lifetime, 0);
	for (i = 0; i < BPK_INDEX_ROLE_CNT; i++) {
		if (!idx->lifetime[i])
			idx->lifetime[i] = defaults[i];
		/* Past 9999 years nothing can be written as RFC 3339 anyway. */
		if (idx->lifetime[i] > 9999ULL * 366 * 86400) {
			free(idx);
			errno = EINVAL;
			return NULL;
		}
	}
	return idx;
}

static void ring_release(struct bpk_index *idx)
{
	size_t i;

	for (i = 0; i < idx->ring_cnt; i++)
		EVP_PKEY_free(idx->ring[i].pkey);
	free(idx->ring);
	idx->ring = NULL;
	idx->ring_cnt = 0;
}

void bpk_index__free(struct bpk_index *idx)
{
	if (!idx)
		return;
	meta_release(&idx->meta);
	root_release(&idx->draft);
	json_decref(idx->staged_targets);
	ring_release(idx);
	free(idx->dir);
	free(idx);
}

const struct bpk_index_meta *bpk_index__meta(const struct bpk_index *idx)
{
	return idx ? &idx->meta : NULL;
}

const char *bpk_index__errstr(const struct bpk_index *idx)
{
	return idx->err.msg;
}

enum bpk_index_err bpk_index__err(const struct bpk_index *idx)
{
	return idx->err.code;
}

static int ring_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ring_key *)a)->id, ((const struct ring_key *)b)->id);
}

/* Keep pkey (a reference is taken) to sign with; the ring stays sorted so output is stable. */
static int ring_add(struct bpk_index *idx, EVP_PKEY *pkey, const char *id)
{
	struct ring_key *ring;
	size_t i;

	for (i = 0; i < idx->ring_cnt; i++)
		if (!strcmp(idx->ring[i].id, id))
			return 0;
	ring = realloc(idx->ring, (idx->ring_cnt + 1) * sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	idx->ring = ring;
	if (!EVP_PKEY_up_ref(pkey))
		return -ENOMEM;
	ring[idx->ring_cnt].pkey = pkey;
	memcpy(ring[idx->ring_cnt].id, id, sizeof(ring->id));
	idx->ring_cnt++;
	qsort(idx->ring, idx->ring_cnt, sizeof(*ring), ring_cmp);
	return 0;
}

int bpk_index__load_key(struct bpk_index *idx, const void *pem, size_t len)
{
	_cleanup_pkey_ EVP_PKEY *pkey = NULL;
	char id[BPK_KEYID_LEN + 1];
	int err;

	err_clear(&idx->err);
	pkey = bpk_key_from_pem(pem, len, true);
	if (!pkey)
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL,
			    "not an Ed25519 private key in PEM");
	err = bpk_key_id(pkey, id);
	if (!err)
		err = ring_add(idx, pkey, id);
	return err ? bail(&idx->err, BPK_INDEX_E_IO, err, "cannot keep the key: %s", strerror(-err))
		   : 0;
}

/* Start editing the next root on the first edit: empty for a new index, else a copy. */
static int draft_begin(struct bpk_index *idx)
{
	int i, err;

	if (idx->editing)
		return 0;
	if (idx->ready) {
		err = root_copy(&idx->meta.docs[BPK_INDEX_ROOT].root, &idx->draft);
		if (err)
			return fail_nomem(&idx->err);
	} else {
		for (i = 0; i < BPK_INDEX_ROLE_CNT; i++)
			idx->draft.roles[i].threshold = 1;
	}
	idx->editing = true;
	return 0;
}

int bpk_index__add_key(struct bpk_index *idx, enum bpk_index_role role, const void *pem,
		       size_t len)
{
	_cleanup_pkey_ EVP_PKEY *pkey = NULL;
	_cleanup_free_ char *public_pem = NULL;
	char id[BPK_KEYID_LEN + 1];
	bool is_private = true;
	int err;

	err_clear(&idx->err);
	if ((unsigned int)role >= BPK_INDEX_ROLE_CNT)
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL, "no role %d", (int)role);
	pkey = bpk_key_from_pem(pem, len, true);
	if (!pkey) {
		is_private = false;
		pkey = bpk_key_from_pem(pem, len, false);
	}
	if (!pkey)
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL,
			    "not an Ed25519 public or private key in PEM");
	public_pem = bpk_key_to_pem(pkey, false, NULL);
	if (!public_pem || bpk_key_id(pkey, id))
		return fail_nomem(&idx->err);
	err = draft_begin(idx);
	if (err)
		return err;
	if (role_key_index(&idx->draft.roles[role], id) >= 0)
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EEXIST,
			    "the %s role already lists key %s", role_names[role], id);
	if (root_add_key(&idx->draft, pkey, id, public_pem) ||
	    role_add_id(&idx->draft.roles[role], id) ||
	    (is_private && ring_add(idx, pkey, id)))
		return fail_nomem(&idx->err);
	return 0;
}

int bpk_index__clear_keys(struct bpk_index *idx, enum bpk_index_role role)
{
	int err;

	err_clear(&idx->err);
	if ((unsigned int)role >= BPK_INDEX_ROLE_CNT)
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL, "no role %d", (int)role);
	err = draft_begin(idx);
	if (err)
		return err;
	idx->draft.roles[role].cnt = 0;
	return 0;
}

int bpk_index__set_threshold(struct bpk_index *idx, enum bpk_index_role role,
			     unsigned int threshold)
{
	int err;

	err_clear(&idx->err);
	if ((unsigned int)role >= BPK_INDEX_ROLE_CNT || threshold < 1 || threshold > MAX_KEYS)
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL,
			    "a threshold is between 1 and %d", MAX_KEYS);
	err = draft_begin(idx);
	if (err)
		return err;
	idx->draft.roles[role].threshold = threshold;
	return 0;
}

/* Every role of an edited root has keys enough for its threshold. */
static int draft_check(struct bpk_index *idx)
{
	int i;

	for (i = 0; i < BPK_INDEX_ROLE_CNT; i++) {
		const struct index_role_keys *rk = &idx->draft.roles[i];

		if (!rk->cnt)
			return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL,
				    "the %s role has no key", role_names[i]);
		if (rk->threshold > rk->cnt)
			return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL,
				    "the %s role needs %u signatures but has only %zu key%s",
				    role_names[i], rk->threshold, rk->cnt, rk->cnt == 1 ? "" : "s");
	}
	return 0;
}

static bool ring_has(const struct bpk_index *idx, const char *id)
{
	size_t i;

	for (i = 0; i < idx->ring_cnt; i++)
		if (!strcmp(idx->ring[i].id, id))
			return true;
	return false;
}

/* Whether the kept keys reach the threshold root sets for role; which names root in the message. */
static int check_signable(struct bpk_index *idx, const struct index_root *root,
			  enum bpk_index_role role, const char *which)
{
	const struct index_role_keys *rk = &root->roles[role];
	unsigned int have = 0;
	size_t i;

	for (i = 0; i < rk->cnt; i++)
		have += ring_has(idx, rk->ids[i]);
	if (have >= rk->threshold)
		return 0;
	return bail(&idx->err, BPK_INDEX_E_NO_KEY, -ENOKEY,
		    "cannot sign %s: %s requires %u of its %zu %s key%s, and %u %s given",
		    role_files[role], which, rk->threshold, rk->cnt, role_names[role],
		    rk->cnt == 1 ? "" : "s", have, have == 1 ? "was" : "were");
}

static json_t *new_signed(const char *type, uint64_t version, int64_t expires)
{
	char when[21];

	if (bpk_index_time__format(expires, when))
		return NULL;
	return json_pack("{s:s, s:s, s:I, s:s}", "_type", type, "spec_version", SPEC_VERSION,
			 "version", (json_int_t)version, "expires", when);
}

static int expiry(struct bpk_index *idx, enum bpk_index_role role, int64_t *ret)
{
	int64_t when = index_now(idx) + (int64_t)idx->lifetime[role];
	char text[21];

	if (bpk_index_time__format(when, text))
		return bail(&idx->err, BPK_INDEX_E_INVALID, -ERANGE,
			    "the expiry of %s is past year 9999", role_files[role]);
	*ret = when;
	return 0;
}

static int next_version(struct bpk_index *idx, enum bpk_index_role role, uint64_t *ret)
{
	uint64_t v = idx->meta.docs[role].version;

	if (v >= INT64_MAX)
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EOVERFLOW,
			    "%s is at the last version there is", role_files[role]);
	*ret = v + 1;
	return 0;
}

/*
 * Sign signed_ (a reference is taken) as role with every kept key that one of roots gives
 * role, and parse the result back into ret, so that what is written is what a client reads.
 * The callers have checked each root's threshold with check_signable().
 */
static int sign_doc(struct bpk_index *idx, enum bpk_index_role role, const char *file,
		    json_t *signed_, const struct index_root *const *roots, size_t root_cnt,
		    struct index_doc *ret)
{
	_cleanup_json_ json_t *sigs = json_array(), *doc = NULL;
	_cleanup_free_ char *canon = NULL, *text = NULL;
	struct strbuf sb = STRBUF_INIT;
	size_t i, j, len;
	int err;

	canon = canonical_dump(signed_, &len);
	if (!canon || !sigs)
		return bail(&idx->err, BPK_INDEX_E_INVALID, errno ? -errno : -ENOMEM,
			    "cannot sign %s: it has no canonical form", file);
	for (i = 0; i < idx->ring_cnt; i++) {
		unsigned char sig[BPK_ED25519_SIG_LEN];
		_cleanup_free_ char *b64 = NULL;
		bool listed = false;

		for (j = 0; j < root_cnt; j++)
			listed |= role_key_index(&roots[j]->roles[role], idx->ring[i].id) >= 0;
		if (!listed)
			continue;
		err = bpk_ed25519_sign(idx->ring[i].pkey, canon, len, sig);
		if (err)
			return bail(&idx->err, BPK_INDEX_E_INVALID, err,
				    "cannot sign %s with key %s", file, idx->ring[i].id);
		b64 = bpk_base64_encode(sig, sizeof(sig));
		if (!b64 || json_array_append_new(sigs, json_pack("{s:s, s:s}", "keyid",
								  idx->ring[i].id, "sig", b64)))
			return fail_nomem(&idx->err);
	}
	doc = json_pack("{s:O, s:O}", "signed", signed_, "signatures", sigs);
	text = doc ? json_dumps(doc, CANONICAL_FLAGS) : NULL;
	if (!text || strbuf_addstr(&sb, text) || strbuf_addstr(&sb, "\n")) {
		strbuf_release(&sb);
		return fail_nomem(&idx->err);
	}
	err = parse_doc(&idx->err, file, role, sb.buf, sb.len, ret);
	strbuf_release(&sb);
	return err;
}

static json_t *root_to_json(const struct index_root *r)
{
	_cleanup_json_ json_t *keys = json_object(), *roles = json_object();
	size_t i;
	int role;

	if (!keys || !roles)
		return NULL;
	for (role = 0; role < BPK_INDEX_ROLE_CNT; role++) {
		const struct index_role_keys *rk = &r->roles[role];
		json_t *ids = json_array();

		if (!ids || json_object_set_new(roles, role_names[role],
						json_pack("{s:o, s:i}", "keyids", ids, "threshold",
							  (int)rk->threshold)))
			return NULL;
		for (i = 0; i < rk->cnt; i++) {
			const struct index_key *k = root_find_key(r, rk->ids[i]);
			json_t *key;

			if (json_array_append_new(ids, json_string(rk->ids[i])))
				return NULL;
			/* Only keys a role uses are listed, so clearing a role drops its keys. */
			if (json_object_get(keys, k->id))
				continue;
			key = json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ed25519", "scheme",
					"ed25519", "keyval", "public", k->pem);
			if (json_object_set_new(keys, k->id, key))
				return NULL;
		}
	}
	return json_pack("{s:O, s:O}", "keys", keys, "roles", roles);
}

static int make_root(struct bpk_index *idx, const struct index_root *const *roots, size_t root_cnt,
		     const struct index_root *next, uint64_t version, struct index_doc *ret)
{
	_cleanup_json_ json_t *signed_ = NULL, *body = root_to_json(next);
	char file[48];
	int64_t when;
	int err;

	err = expiry(idx, BPK_INDEX_ROOT, &when);
	if (err)
		return err;
	signed_ = new_signed("root", version, when);
	if (!signed_ || !body || json_object_update(signed_, body))
		return fail_nomem(&idx->err);
	snprintf(file, sizeof(file), "%" PRIu64 ".root.json", version);
	return sign_doc(idx, BPK_INDEX_ROOT, file, signed_, roots, root_cnt, ret);
}

static json_t *record_json(const struct index_doc *d)
{
	char hex[65];

	if (bpk_sha256_hex(d->raw, d->raw_len, hex))
		return NULL;
	return json_pack("{s:I, s:I, s:{s:s}}", "version", (json_int_t)d->version, "length",
			 (json_int_t)d->raw_len, "hashes", "sha256", hex);
}

/*
 * Sign one role that is not root, at version: targets from the staged targets, snapshot
 * recording child (targets), timestamp recording child (snapshot).
 */
static int make_role(struct bpk_index *idx, enum bpk_index_role role, const struct index_root *root,
		     uint64_t version, const struct index_doc *child, struct index_doc *ret)
{
	const struct index_root *roots[] = { root };
	_cleanup_json_ json_t *signed_ = NULL;
	json_t *body;
	int64_t when;
	int err;

	err = expiry(idx, role, &when);
	if (err)
		return err;
	signed_ = new_signed(role_names[role], version, when);
	if (!signed_)
		return fail_nomem(&idx->err);
	if (role == BPK_INDEX_TARGETS)
		body = json_deep_copy(idx->staged_targets);
	else
		body = json_pack("{s:o}", role_files[role - 1], record_json(child));
	if (!body ||
	    json_object_set_new(signed_, role == BPK_INDEX_TARGETS ? "targets" : "meta", body))
		return fail_nomem(&idx->err);
	return sign_doc(idx, role, role_files[role], signed_, roots, 1, ret);
}

static int write_doc(struct bpk_index *idx, const char *name, const struct index_doc *d)
{
	_cleanup_free_ char *path = path_join(idx->dir, name);
	int err;

	if (!path)
		return fail_nomem(&idx->err);
	err = write_file_atomic(path, d->raw, d->raw_len, 0644);
	if (err)
		return bail(&idx->err, BPK_INDEX_E_IO, err, "cannot write '%s': %s", path,
			    strerror(-err));
	return 0;
}

static void install_doc(struct bpk_index_meta *m, enum bpk_index_role role, struct index_doc *d)
{
	doc_release(&m->docs[role]);
	m->docs[role] = *d;
	memset(d, 0, sizeof(*d));
}

/*
 * Sign targets, snapshot and timestamp at their next versions under root, then write them in
 * that order: a client that reads timestamp.json finds the snapshot it names already there.
 */
static int publish_under(struct bpk_index *idx, const struct index_root *root)
{
	struct index_doc docs[BPK_INDEX_ROLE_CNT] = { 0 };
	uint64_t version = 0;
	int role, err = 0;

	for (role = BPK_INDEX_TARGETS; role < BPK_INDEX_ROLE_CNT; role++) {
		err = check_signable(idx, root, role, "the root");
		if (err)
			return err;
	}
	for (role = BPK_INDEX_TARGETS; role < BPK_INDEX_ROLE_CNT && !err; role++) {
		err = next_version(idx, role, &version);
		if (!err)
			err = make_role(idx, role, root, version, &docs[role - 1], &docs[role]);
	}
	for (role = BPK_INDEX_TARGETS; role < BPK_INDEX_ROLE_CNT && !err; role++)
		err = write_doc(idx, role_files[role], &docs[role]);
	for (role = BPK_INDEX_TARGETS; role < BPK_INDEX_ROLE_CNT; role++) {
		if (!err)
			install_doc(&idx->meta, role, &docs[role]);
		doc_release(&docs[role]);
	}
	return err;
}

int bpk_index__create(struct bpk_index *idx, const char *dir)
{
	const struct index_root *roots[] = { &idx->draft };
	_cleanup_free_ char *root_path = NULL;
	struct index_doc root = { 0 };
	struct stat st;
	int role, err;

	err_clear(&idx->err);
	if (idx->ready)
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL,
			    "this index is already loaded; create needs a new one");
	root_path = path_join(dir, "root.json");
	if (!root_path)
		return fail_nomem(&idx->err);
	if (stat(root_path, &st) == 0)
		return bail(&idx->err, BPK_INDEX_E_EXISTS, -EEXIST,
			    "'%s' already holds an index (root.json)", dir);
	err = draft_begin(idx);
	if (!err)
		err = draft_check(idx);
	for (role = 0; role < BPK_INDEX_ROLE_CNT && !err; role++)
		err = check_signable(idx, &idx->draft, role, "the root");
	if (err)
		return err;
	err = mkdir_p(dir, 0755);
	if (err)
		return bail(&idx->err, BPK_INDEX_E_IO, err, "cannot create '%s': %s", dir,
			    strerror(-err));
	free(idx->dir);
	idx->dir = strdup(dir);
	idx->staged_targets = json_object();
	if (!idx->dir || !idx->staged_targets)
		return fail_nomem(&idx->err);

	err = make_root(idx, roots, 1, &idx->draft, 1, &root);
	if (!err)
		err = write_doc(idx, "1.root.json", &root);
	if (!err)
		err = write_doc(idx, "root.json", &root);
	if (err) {
		doc_release(&root);
		return err;
	}
	install_doc(&idx->meta, BPK_INDEX_ROOT, &root);
	root_release(&idx->draft);
	idx->editing = false;
	idx->ready = true;
	return publish_under(idx, &idx->meta.docs[BPK_INDEX_ROOT].root);
}

static int load_doc(struct bpk_index *idx, enum bpk_index_role role, struct index_doc *ret)
{
	_cleanup_free_ char *path = path_join(idx->dir, role_files[role]), *data = NULL;
	const struct index_root *root = &idx->meta.docs[BPK_INDEX_ROOT].root;
	uint64_t max_len = role == BPK_INDEX_ROOT ? BPK_INDEX_MAX_ROOT_LEN : MAX_LOCAL_LEN;
	size_t len;
	int err;

	if (!path)
		return fail_nomem(&idx->err);
	err = read_file(path, max_len, &data, &len);
	if (err)
		return bail(&idx->err, BPK_INDEX_E_IO, err, "cannot read '%s': %s", path,
			    strerror(-err));
	err = parse_doc(&idx->err, role_files[role], role, data, len, ret);
	if (err)
		return err;
	/* The repository checks its own files too: re-signing must not launder a tampered one. */
	if (role == BPK_INDEX_ROOT)
		root = &ret->root;
	err = verify_role(&idx->err, role_files[role], ret, root, role);
	if (err)
		doc_release(ret);
	return err;
}

int bpk_index__load(struct bpk_index *idx, const char *dir)
{
	struct index_doc d;
	int role, err;

	err_clear(&idx->err);
	meta_release(&idx->meta);
	root_release(&idx->draft);
	json_decref(idx->staged_targets);
	idx->staged_targets = NULL;
	idx->editing = idx->ready = false;
	free(idx->dir);
	idx->dir = strdup(dir);
	if (!idx->dir)
		return fail_nomem(&idx->err);
	for (role = 0; role < BPK_INDEX_ROLE_CNT; role++) {
		err = load_doc(idx, role, &d);
		if (err) {
			meta_release(&idx->meta);
			return err;
		}
		install_doc(&idx->meta, role, &d);
	}
	idx->staged_targets =
		json_deep_copy(json_object_get(doc_signed(&idx->meta.docs[BPK_INDEX_TARGETS]),
					       "targets"));
	if (!idx->staged_targets) {
		meta_release(&idx->meta);
		return fail_nomem(&idx->err);
	}
	idx->ready = true;
	return 0;
}

static int need_ready(struct bpk_index *idx)
{
	if (!idx->ready)
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL,
			    "no index: load or create one first");
	return 0;
}

int bpk_index__rotate_root(struct bpk_index *idx)
{
	const struct index_root *current, *roots[2];
	struct index_doc root = { 0 };
	char which[64], file[48];
	bool others_changed = false;
	uint64_t version = 0;
	int role, err;

	err_clear(&idx->err);
	err = need_ready(idx);
	if (err)
		return err;
	if (!idx->editing)
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL,
			    "the root was not edited: there is nothing to rotate");
	err = draft_check(idx);
	if (err)
		return err;
	current = &idx->meta.docs[BPK_INDEX_ROOT].root;
	err = next_version(idx, BPK_INDEX_ROOT, &version);
	if (err)
		return err;
	/* TUF's rule: the old root vouches for the new one, and the new one for itself. */
	snprintf(which, sizeof(which), "root version %" PRIu64, version - 1);
	err = check_signable(idx, current, BPK_INDEX_ROOT, which);
	if (err)
		return err;
	snprintf(which, sizeof(which), "the new root version %" PRIu64, version);
	err = check_signable(idx, &idx->draft, BPK_INDEX_ROOT, which);
	if (err)
		return err;
	for (role = BPK_INDEX_TARGETS; role < BPK_INDEX_ROLE_CNT; role++) {
		if (role_same(current, &idx->draft, role))
			continue;
		others_changed = true;
		err = check_signable(idx, &idx->draft, role, which);
		if (err)
			return err;
	}

	roots[0] = current;
	roots[1] = &idx->draft;
	err = make_root(idx, roots, 2, &idx->draft, version, &root);
	snprintf(file, sizeof(file), "%" PRIu64 ".root.json", version);
	if (!err)
		err = write_doc(idx, file, &root);
	if (!err)
		err = write_doc(idx, "root.json", &root);
	if (err) {
		doc_release(&root);
		return err;
	}
	install_doc(&idx->meta, BPK_INDEX_ROOT, &root);
	root_release(&idx->draft);
	idx->editing = false;
	/* New keys for a role: sign it again, or clients would refuse the old signatures. */
	return others_changed ? publish_under(idx, &idx->meta.docs[BPK_INDEX_ROOT].root) : 0;
}

int bpk_index__add_target(struct bpk_index *idx, const struct bpk_index_target *t)
{
	_cleanup_free_ char *key = NULL, *feed = NULL;
	const char *slash;
	json_t *entry;
	int err;

	err_clear(&idx->err);
	err = need_ready(idx);
	if (err)
		return err;
	if (!t || !bpk_name__valid(t->name) || !bpk_semver__valid(t->version))
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL,
			    "not a valid package name and SemVer version");
	if (!t->sha256 || strlen(t->sha256) != 64 || !is_hex64(t->sha256) || t->size > INT64_MAX)
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL,
			    "'%s@%s': the digest must be 64 lowercase hex digits", t->name,
			    t->version);
	slash = strchr(t->name, '/');
	if (t->feed)
		feed = strdup(t->feed);
	else
		feed = slash ? strndup(t->name, (size_t)(slash - t->name)) : strdup("public");
	if (!feed)
		return fail_nomem(&idx->err);
	if (!feed_valid(feed) ||
	    (slash && (strlen(feed) != (size_t)(slash - t->name) ||
		       strncmp(feed, t->name, (size_t)(slash - t->name)))))
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL,
			    "'%s@%s' cannot be in feed \"%s\"", t->name, t->version, feed);
	key = xasprintf("%s/%s", t->name, t->version);
	entry = json_pack("{s:I, s:{s:s}, s:{s:s, s:s, s:s, s:b}}", "length", (json_int_t)t->size,
			  "hashes", "sha256", t->sha256, "custom", "name", t->name, "version",
			  t->version, "feed", feed, "yanked", t->yanked);
	if (!key || !entry || json_object_set_new(idx->staged_targets, key, entry))
		return fail_nomem(&idx->err);
	return 0;
}

int bpk_index__set_yanked(struct bpk_index *idx, const char *name, const char *version,
			  bool yanked)
{
	_cleanup_free_ char *key = NULL;
	json_t *custom;
	int err;

	err_clear(&idx->err);
	err = need_ready(idx);
	if (err)
		return err;
	if (!name || !version)
		return bail(&idx->err, BPK_INDEX_E_INVALID, -EINVAL, "no name@version given");
	key = xasprintf("%s/%s", name, version);
	if (!key)
		return fail_nomem(&idx->err);
	custom = json_object_get(json_object_get(idx->staged_targets, key), "custom");
	if (!custom)
		return bail(&idx->err, BPK_INDEX_E_UNKNOWN_TARGET, -ENOENT,
			    "'%s@%s' is not in the index", name, version);
	if (json_object_set_new(custom, "yanked", json_boolean(yanked)))
		return fail_nomem(&idx->err);
	return 0;
}

int bpk_index__publish(struct bpk_index *idx)
{
	int err;

	err_clear(&idx->err);
	err = need_ready(idx);
	return err ? err : publish_under(idx, &idx->meta.docs[BPK_INDEX_ROOT].root);
}

int bpk_index__refresh(struct bpk_index *idx)
{
	const struct index_root *root;
	struct index_doc d = { 0 };
	uint64_t version = 0;
	int err;

	err_clear(&idx->err);
	err = need_ready(idx);
	if (err)
		return err;
	root = &idx->meta.docs[BPK_INDEX_ROOT].root;
	err = check_signable(idx, root, BPK_INDEX_TIMESTAMP, "the root");
	if (!err)
		err = next_version(idx, BPK_INDEX_TIMESTAMP, &version);
	if (!err)
		err = make_role(idx, BPK_INDEX_TIMESTAMP, root, version,
				&idx->meta.docs[BPK_INDEX_SNAPSHOT], &d);
	if (!err)
		err = write_doc(idx, role_files[BPK_INDEX_TIMESTAMP], &d);
	if (!err)
		install_doc(&idx->meta, BPK_INDEX_TIMESTAMP, &d);
	doc_release(&d);
	return err;
}

/* ---- Client side ---- */

int bpk_index__fetch_dir(void *ctx, const char *name, uint64_t max_len, void **ret_data,
			 size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	uint64_t want;
	struct stat st;
	int err = 0;

	if (!ctx || !name || !*name || name[0] == '.' || strchr(name, '/'))
		return -EINVAL;
	path = path_join(ctx, name);
	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* One byte past the bound is enough to show the file is too long. */
	want = max_len < SIZE_MAX - 1 ? max_len + 1 : SIZE_MAX - 1;
	while (sb.len < want) {
		size_t chunk = want - sb.len < 65536 ? (size_t)(want - sb.len) : 65536;
		ssize_t n;

		err = strbuf_grow(&sb, chunk);
		if (err)
			break;
		n = read(fd, sb.buf + sb.len, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		sb.len += (size_t)n;
		sb.buf[sb.len] = '\0';
	}
	if (err) {
		strbuf_release(&sb);
		return err;
	}
	*ret_data = strbuf_detach(&sb, ret_len);
	return 0;
}

struct bpk_index_client *bpk_index_client__new(const struct bpk_index_client_opts *opts)
{
	struct bpk_index_client *c;
	const char *state_dir = OPTS_GET(opts, state_dir, NULL);
	const void *root = OPTS_GET(opts, root, NULL);
	size_t root_len = OPTS_GET(opts, root_len, 0);

	if (!OPTS_GET(opts, fetch, NULL)) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	c->fetch = opts->fetch;
	c->fetch_ctx = OPTS_GET(opts, fetch_ctx, NULL);
	c->now = OPTS_GET(opts, now, 0);
	c->max_root_len = OPTS_GET(opts, max_root_len, 0) ?: BPK_INDEX_MAX_ROOT_LEN;
	c->max_timestamp_len = OPTS_GET(opts, max_timestamp_len, 0) ?: BPK_INDEX_MAX_TIMESTAMP_LEN;
	c->max_root_rotations =
		OPTS_GET(opts, max_root_rotations, 0) ?: BPK_INDEX_MAX_ROOT_ROTATIONS;
	if (state_dir && !(c->state_dir = strdup(state_dir)))
		goto nomem;
	if (root) {
		c->root = malloc(root_len + 1);
		if (!c->root)
			goto nomem;
		memcpy(c->root, root, root_len);
		c->root_len = root_len;
	}
	return c;
nomem:
	bpk_index_client__free(c);
	errno = ENOMEM;
	return NULL;
}

void bpk_index_client__free(struct bpk_index_client *c)
{
	if (!c)
		return;
	meta_release(&c->meta);
	free(c->state_dir);
	free(c->root);
	free(c);
}

const struct bpk_index_meta *bpk_index_client__meta(const struct bpk_index_client *c)
{
	return c && c->updated ? &c->meta : NULL;
}

const char *bpk_index_client__errstr(const struct bpk_index_client *c)
{
	return c->err.msg;
}

enum bpk_index_err bpk_index_client__err(const struct bpk_index_client *c)
{
	return c->err.code;
}

/* Keep a verified document in the state directory, so the next update cannot go back. */
static int state_save(struct bpk_index_client *c, const char *name, const struct index_doc *d)
{
	_cleanup_free_ char *path = NULL;
	int err;

	if (!c->state_dir)
		return 0;
	path = path_join(c->state_dir, name);
	if (!path)
		return fail_nomem(&c->err);
	err = write_file_atomic(path, d->raw, d->raw_len, 0644);
	if (err)
		return bail(&c->err, BPK_INDEX_E_IO, err, "cannot write '%s': %s", path,
			    strerror(-err));
	return 0;
}

/* Read name from the state directory: 0, -ENOENT when there is none, or another error. */
static int state_read(struct bpk_index_client *c, const char *name, uint64_t max_len,
		      char **ret_data, size_t *ret_len)
{
	_cleanup_free_ char *path = NULL;
	int err;

	if (!c->state_dir)
		return -ENOENT;
	path = path_join(c->state_dir, name);
	if (!path)
		return fail_nomem(&c->err);
	err = read_file(path, max_len, ret_data, ret_len);
	if (err && err != -ENOENT)
		return bail(&c->err, BPK_INDEX_E_IO, err, "cannot read '%s': %s", path,
			    strerror(-err));
	return err;
}

/*
 * Fetch name, at most max_len bytes; bound_source says who set the bound, for the message.
 * -ENOENT is returned without a message so the root walk can stop on it.
 */
static int fetch(struct bpk_index_client *c, const char *name, uint64_t max_len,
		 const char *bound_source, char **ret_data, size_t *ret_len)
{
	void *data = NULL;
	size_t len = 0;
	int err;

	err = c->fetch(c->fetch_ctx, name, max_len, &data, &len);
	if (err > 0)
		err = -EIO; /* a callback that does not follow the convention still fails */
	if (err == -EFBIG || (!err && len > max_len)) {
		free(data);
		return bail(&c->err, BPK_INDEX_E_TOO_LONG, -EFBIG,
			    "%s is longer than the %" PRIu64 " bytes %s (endless data attack?)",
			    name, max_len, bound_source);
	}
	if (err == -ENOENT) {
		bail(&c->err, BPK_INDEX_E_FETCH, err, "cannot fetch %s: it does not exist", name);
		return err;
	}
	if (err || (!data && len))
		return bail(&c->err, BPK_INDEX_E_FETCH, err ? err : -EIO, "cannot fetch %s: %s",
			    name, strerror(err ? -err : EIO));
	*ret_data = data;
	*ret_len = len;
	return 0;
}

static int check_expiry(struct bpk_index_client *c, const char *file, const struct index_doc *d,
			int64_t now)
{
	char when[21];

	if (now < d->expires)
		return 0;
	if (bpk_index_time__format(d->expires, when))
		strcpy(when, "(unknown)");
	return bail(&c->err, BPK_INDEX_E_EXPIRED, -EKEYEXPIRED,
		    "%s expired at %s (freeze attack?)", file, when);
}

static int check_rollback(struct bpk_index_client *c, const char *file, uint64_t version,
			  uint64_t trusted)
{
	if (version >= trusted)
		return 0;
	return bail(&c->err, BPK_INDEX_E_ROLLBACK, -ESTALE,
		    "%s version %" PRIu64 " is lower than the trusted version %" PRIu64
		    " (rollback attack?)",
		    file, version, trusted);
}

/* The version of name that doc records must not be lower than the one trusted records. */
static int check_record_rollback(struct bpk_index_client *c, const char *file, const char *name,
				 const struct index_doc *doc, const struct index_doc *trusted)
{
	uint64_t now_v = doc_record(doc, name).version, was_v = doc_record(trusted, name).version;

	if (now_v >= was_v)
		return 0;
	return bail(&c->err, BPK_INDEX_E_ROLLBACK, -ESTALE,
		    "%s records %.64s version %" PRIu64 ", lower than the trusted version %" PRIu64
		    " (rollback attack?)",
		    file, name, now_v, was_v);
}

/* The last steps of every role's update: not expired, then saved as trusted; or dropped. */
static int finish_role(struct bpk_index_client *c, const char *file, struct index_doc *doc,
		       int64_t now, int err)
{
	if (!err)
		err = check_expiry(c, file, doc, now);
	if (!err)
		err = state_save(c, file, doc);
	if (err)
		doc_release(doc);
	return err;
}

/* The root the client starts from: the state's, else the one given out of band. */
static int load_trusted_root(struct bpk_index_client *c, struct index_doc *ret)
{
	_cleanup_free_ char *data = NULL;
	const char *file = "the trusted root.json";
	bool from_state = true;
	size_t len;
	char why[256];
	int err;

	err = state_read(c, "root.json", c->max_root_len, &data, &len);
	if (err == -ENOENT) {
		if (!c->root)
			return bail(&c->err, BPK_INDEX_E_INVALID, -EINVAL,
				    "no trusted root: the state holds none and none was given");
		from_state = false;
	} else if (err) {
		return err;
	}
	err = parse_doc(&c->err, file, BPK_INDEX_ROOT, from_state ? data : c->root,
			from_state ? len : c->root_len, ret);
	if (err)
		return err;
	err = check_threshold(ret, &ret->root, BPK_INDEX_ROOT, why, sizeof(why));
	if (err) {
		doc_release(ret);
		if (err != -EKEYREJECTED)
			return fail_nomem(&c->err);
		return bail(&c->err, BPK_INDEX_E_SIGNATURE, err,
			    "%s is not signed by a threshold of its own root keys (%s)", file, why);
	}
	err = from_state ? 0 : state_save(c, "root.json", ret);
	if (err)
		doc_release(ret);
	return err;
}

/* TUF 5.3: walk N+1.root.json, each vouched for by the previous root and by itself. */
static int update_root(struct bpk_index_client *c, struct index_doc *root)
{
	uint32_t step;
	int err;

	for (step = 0; step < c->max_root_rotations; step++) {
		_cleanup_free_ char *data = NULL;
		struct index_doc next = { 0 };
		char file[48], why[256];
		size_t len;

		if (root->version >= INT64_MAX)
			break;
		snprintf(file, sizeof(file), "%" PRIu64 ".root.json", root->version + 1);
		err = fetch(c, file, c->max_root_len, "allowed", &data, &len);
		if (err == -ENOENT) {
			/* The end of the chain, not a failure. */
			err_clear(&c->err);
			break;
		}
		if (err)
			return err;
		err = parse_doc(&c->err, file, BPK_INDEX_ROOT, data, len, &next);
		if (err)
			return err;
		err = check_threshold(&next, &root->root, BPK_INDEX_ROOT, why, sizeof(why));
		if (err == -EKEYREJECTED)
			err = bail(&c->err, BPK_INDEX_E_ROOT_CHAIN, err,
				   "%s is not signed by a threshold of the keys of root version "
				   "%" PRIu64 " (%s)",
				   file, root->version, why);
		if (!err) {
			err = check_threshold(&next, &next.root, BPK_INDEX_ROOT, why, sizeof(why));
			if (err == -EKEYREJECTED)
				err = bail(&c->err, BPK_INDEX_E_ROOT_CHAIN, err,
					   "%s is not signed by a threshold of its own root keys "
					   "(%s)",
					   file, why);
		}
		if (!err && next.version != root->version + 1)
			err = bail(&c->err, BPK_INDEX_E_ROOT_CHAIN, -EKEYREJECTED,
				   "%s holds root version %" PRIu64 ", not %" PRIu64, file,
				   next.version, root->version + 1);
		if (!err)
			err = state_save(c, "root.json", &next);
		if (err) {
			if (err == -ENOMEM)
				fail_nomem(&c->err);
			doc_release(&next);
			return err;
		}
		doc_release(root);
		*root = next;
	}
	return 0;
}

/*
 * A document the state kept from an earlier update, if it still verifies under root: after a
 * key rotation the old one does not, and is forgotten (TUF 5.3.11), as it is when forget is
 * set. A state file that exists but cannot be read or parsed is an error, not "absent":
 * forgetting it would let an older document in (a rollback).
 */
static int load_trusted(struct bpk_index_client *c, enum bpk_index_role role,
			const struct index_root *root, bool forget, struct index_doc *ret)
{
	_cleanup_free_ char *data = NULL, *path = NULL;
	struct index_err ignored;
	size_t len;
	int err;

	if (forget) {
		path = c->state_dir ? path_join(c->state_dir, role_files[role]) : NULL;
		if (path && unlink(path) < 0 && errno != ENOENT)
			return bail(&c->err, BPK_INDEX_E_IO, -errno, "cannot remove '%s': %s", path,
				    strerror(errno));
		return 0;
	}
	err = state_read(c, role_files[role], MAX_LOCAL_LEN, &data, &len);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	err = parse_doc(&ignored, role_files[role], role, data, len, ret);
	if (err)
		return bail(&c->err, BPK_INDEX_E_MALFORMED, err,
			    "the trusted state's %s is damaged (%.200s); restore it, or remove the state directory to start again from the trusted root",
			    role_files[role], ignored.msg);
	if (verify_role(&ignored, role_files[role], ret, root, role)) {
		pr_debug("index: forgetting the trusted %s, which the root no longer vouches for\n",
			 role_files[role]);
		doc_release(ret);
	}
	return 0;
}

/*
 * Fetch role's file bounded by the length parent records, and check length, hash, signatures
 * and the version parent records: one snapshot binds one targets, one timestamp one snapshot.
 */
static int fetch_recorded(struct bpk_index_client *c, enum bpk_index_role role,
			  const struct index_doc *parent, const struct index_root *root,
			  struct index_doc *ret)
{
	const char *file = role_files[role], *parent_file = role_files[role + 1];
	struct meta_record rec = doc_record(parent, file);
	_cleanup_free_ char *data = NULL;
	char bound[64], hex[65];
	size_t len;
	int err;

	snprintf(bound, sizeof(bound), "recorded in %s", parent_file);
	err = fetch(c, file, rec.length, bound, &data, &len);
	if (err)
		return err;
	if (len != rec.length)
		return bail(&c->err, BPK_INDEX_E_MISMATCH, -EBADMSG,
			    "%s is %zu bytes, but %s records %" PRIu64, file, len, parent_file,
			    rec.length);
	if (bpk_sha256_hex(data, len, hex))
		return fail_nomem(&c->err);
	if (strcmp(hex, rec.sha256))
		return bail(&c->err, BPK_INDEX_E_MISMATCH, -EBADMSG,
			    "%s does not match the hash recorded in %s", file, parent_file);
	err = parse_doc(&c->err, file, role, data, len, ret);
	if (err)
		return err;
	err = verify_role(&c->err, file, ret, root, role);
	if (!err && ret->version != rec.version)
		err = bail(&c->err, BPK_INDEX_E_MISMATCH, -EBADMSG,
			   "%s has version %" PRIu64 ", but %s records version %" PRIu64
			   " (mix-and-match attack?)",
			   file, ret->version, parent_file, rec.version);
	if (err)
		doc_release(ret);
	return err;
}

static int update_timestamp(struct bpk_index_client *c, const struct index_root *root,
			    const struct index_doc *trusted, int64_t now, struct index_doc *ret)
{
	const char *file = role_files[BPK_INDEX_TIMESTAMP], *snap = role_files[BPK_INDEX_SNAPSHOT];
	_cleanup_free_ char *data = NULL;
	size_t len;
	int err;

	err = fetch(c, file, c->max_timestamp_len, "allowed", &data, &len);
	if (err)
		return err;
	err = parse_doc(&c->err, file, BPK_INDEX_TIMESTAMP, data, len, ret);
	if (err)
		return err;
	err = verify_role(&c->err, file, ret, root, BPK_INDEX_TIMESTAMP);
	if (!err && trusted->doc)
		err = check_rollback(c, file, ret->version, trusted->version) ?:
		      check_record_rollback(c, file, snap, ret, trusted);
	return finish_role(c, file, ret, now, err);
}

static int update_snapshot(struct bpk_index_client *c, const struct index_root *root,
			   const struct index_doc *timestamp, const struct index_doc *trusted,
			   int64_t now, struct index_doc *ret)
{
	const char *file = role_files[BPK_INDEX_SNAPSHOT], *name;
	json_t *was_meta, *entry;
	int err;

	err = fetch_recorded(c, BPK_INDEX_SNAPSHOT, timestamp, root, ret);
	if (err)
		return err;
	if (trusted->doc) {
		err = check_rollback(c, file, ret->version, trusted->version);
		/* Every file the trusted snapshot lists must still be there, at no lower version */
		was_meta = json_object_get(doc_signed(trusted), "meta");
		json_object_foreach(was_meta, name, entry) {
			if (err)
				break;
			if (!json_object_get(json_object_get(doc_signed(ret), "meta"), name))
				err = bail(&c->err, BPK_INDEX_E_ROLLBACK, -ESTALE,
					   "%s no longer lists %.64s (rollback attack?)", file,
					   name);
			else
				err = check_record_rollback(c, file, name, ret, trusted);
		}
	}
	return finish_role(c, file, ret, now, err);
}

static int update_targets(struct bpk_index_client *c, const struct index_root *root,
			  const struct index_doc *snapshot, const struct index_doc *trusted,
			  int64_t now, struct index_doc *ret)
{
	const char *file = role_files[BPK_INDEX_TARGETS];
	int err;

	err = fetch_recorded(c, BPK_INDEX_TARGETS, snapshot, root, ret);
	if (err)
		return err;
	if (trusted->doc)
		err = check_rollback(c, file, ret->version, trusted->version);
	return finish_role(c, file, ret, now, err);
}

int bpk_index_client__update(struct bpk_index_client *c)
{
	struct bpk_index_meta fresh = { 0 }, trusted = { 0 };
	struct index_doc *root = &fresh.docs[BPK_INDEX_ROOT];
	int64_t now = c->now ? c->now : (int64_t)time(NULL);
	struct index_root initial = { 0 };
	bool forget_ts, forget_targets;
	int err, role;

	err_clear(&c->err);
	c->updated = false;
	meta_release(&c->meta);
	if (c->state_dir) {
		err = mkdir_p(c->state_dir, 0755);
		if (err)
			return bail(&c->err, BPK_INDEX_E_IO, err, "cannot create '%s': %s",
				    c->state_dir, strerror(-err));
	}
	err = load_trusted_root(c, root);
	if (err)
		return err;
	/* The keys before the walk, to see below which roles the new roots rotated. */
	err = root_copy(&root->root, &initial);
	if (err)
		return fail_nomem(&c->err);
	err = update_root(c, root);
	if (!err) {
		char file[48];

		snprintf(file, sizeof(file), "root.json version %" PRIu64, root->version);
		err = check_expiry(c, file, root, now);
	}
	if (err)
		goto out;
	/*
	 * TUF 5.3.11: when the timestamp or snapshot keys changed, the trusted timestamp and
	 * snapshot are deleted, so a version fast-forwarded by a compromised key cannot block
	 * the recovery; likewise snapshot and targets when the targets keys changed.
	 */
	forget_ts = !role_same(&initial, &root->root, BPK_INDEX_TIMESTAMP) ||
		    !role_same(&initial, &root->root, BPK_INDEX_SNAPSHOT);
	forget_targets = !role_same(&initial, &root->root, BPK_INDEX_TARGETS);
	for (role = BPK_INDEX_TARGETS; !err && role < BPK_INDEX_ROLE_CNT; role++)
		err = load_trusted(c, role, &root->root,
				   role == BPK_INDEX_TARGETS ? forget_targets
				   : role == BPK_INDEX_SNAPSHOT ? forget_ts || forget_targets
								: forget_ts,
				   &trusted.docs[role]);
	if (err)
		goto out;

	err = update_timestamp(c, &root->root, &trusted.docs[BPK_INDEX_TIMESTAMP], now,
			       &fresh.docs[BPK_INDEX_TIMESTAMP]);
	if (!err)
		err = update_snapshot(c, &root->root, &fresh.docs[BPK_INDEX_TIMESTAMP],
				      &trusted.docs[BPK_INDEX_SNAPSHOT], now,
				      &fresh.docs[BPK_INDEX_SNAPSHOT]);
	if (!err)
		err = update_targets(c, &root->root, &fresh.docs[BPK_INDEX_SNAPSHOT],
				     &trusted.docs[BPK_INDEX_TARGETS], now,
				     &fresh.docs[BPK_INDEX_TARGETS]);
out:
	root_release(&initial);
	meta_release(&trusted);
	if (err) {
		meta_release(&fresh);
		return err;
	}
	c->meta = fresh;
	c->updated = true;
	/* A state file that could not be read was only forgotten: no error to report. */
	err_clear(&c->err);
	return 0;
}

int bpk_index_client__verify_target(struct bpk_index_client *c, const char *name,
				    const char *version, const void *data, size_t len)
{
	const struct bpk_index_meta *m = bpk_index_client__meta(c);
	struct bpk_index_target t;
	char hex[65];

	err_clear(&c->err);
	if (!m)
		return bail(&c->err, BPK_INDEX_E_INVALID, -EAGAIN,
			    "no verified index: update the client first");
	if (!name || !version || bpk_index_meta__find(m, name, version, &t))
		return bail(&c->err, BPK_INDEX_E_UNKNOWN_TARGET, -ENOENT,
			    "%s@%s is not in the index (targets.json version %" PRIu64 ")",
			    name ? name : "(null)", version ? version : "(null)",
			    bpk_index_meta__version(m, BPK_INDEX_TARGETS));
	if (len != t.size)
		return bail(&c->err, BPK_INDEX_E_TARGET_MISMATCH, -EBADMSG,
			    "the package is %zu bytes, but targets.json records %" PRIu64
			    " for %s@%s",
			    len, t.size, name, version);
	if (bpk_sha256_hex(data, len, hex))
		return fail_nomem(&c->err);
	if (strcmp(hex, t.sha256))
		return bail(&c->err, BPK_INDEX_E_TARGET_MISMATCH, -EBADMSG,
			    "the package's SHA-256 %s is not the %s targets.json records for %s@%s",
			    hex, t.sha256, name, version);
	return 0;
}

// SPDX-License-Identifier: BSD-2-Clause
/* bpk index: keep a repository's signed index (TUF roles), or verify one as a client does. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "util.h"

/* Keys are small; anything bigger than this is not one. */
#define MAX_KEY_FILE (64U << 10)

enum {
	OPT_THRESHOLD = 256,
	OPT_EXPIRES,
	OPT_OLD_KEY,
	OPT_NEW_KEY,
	OPT_REPLACE,
	OPT_ALL,
	OPT_ROOT,
	OPT_STATE,
	OPT_NOW,
};

/* The options a subcommand accepts, one bit each. */
enum {
	F_KEY = 1 << 0,
	F_THRESHOLD = 1 << 1,
	F_EXPIRES = 1 << 2,
	F_OLD_KEY = 1 << 3,
	F_NEW_KEY = 1 << 4,
	F_REPLACE = 1 << 5,
	F_ALL = 1 << 6,
	F_ROOT = 1 << 7,
	F_STATE = 1 << 8,
	F_NOW = 1 << 9,
	F_JSON = 1 << 10,
};

struct index_args {
	const char *sub;
	const char *dir;
	char **args; /* positional arguments after DIR */
	int arg_cnt;
	const char **keys, **old_keys, **new_keys;
	size_t key_cnt, old_key_cnt, new_key_cnt;
	unsigned int threshold[BPK_INDEX_ROLE_CNT]; /* 0: not given */
	uint64_t lifetime[BPK_INDEX_ROLE_CNT];	    /* 0: the default */
	bool replace, all, json;
	const char *root, *state;
	int64_t now;
};

struct subcmd {
	const char *name;
	int (*run)(struct index_args *a);
	unsigned int options;
	int min_args, max_args; /* after DIR; -1: no limit */
};

static int push(const char ***list, size_t *cnt, const char *value)
{
	const char **l = realloc(*list, (*cnt + 1) * sizeof(*l));

	if (!l)
		return -ENOMEM;
	l[(*cnt)++] = value;
	*list = l;
	return 0;
}

/* "ROLE=VALUE": the role and a pointer to VALUE; -EINVAL without a known ROLE. */
static int split_role(const char *arg, enum bpk_index_role *ret_role, const char **ret_value)
{
	const char *eq = strchr(arg, '=');
	char name[16];

	if (!eq || (size_t)(eq - arg) >= sizeof(name))
		return -EINVAL;
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	if (bpk_index_role__from_name(name, ret_role))
		return -EINVAL;
	*ret_value = eq + 1;
	return 0;
}

/* "90", "90s", "15m", "12h", "7d", "2w", "1y": seconds. */
static int parse_duration(const char *text, uint64_t *ret)
{
	static const struct {
		char unit;
		uint64_t seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		      { 'w', 7 * 86400 }, { 'y', 365 * 86400 } };
	uint64_t n = 0, mult = 1;
	const char *p = text;
	size_t i;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > UINT32_MAX)
			return -ERANGE;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (*p) {
		for (i = 0; i < ARRAY_SIZE(units) && units[i].unit != *p; i++)
			;
		if (i == ARRAY_SIZE(units) || p[1])
			return -EINVAL;
		mult = units[i].seconds;
	}
	if (!n)
		return -EINVAL;
	*ret = n * mult;
	return 0;
}

static int read_key_file(const char *path, char **ret_pem, size_t *ret_len)
{
	int err = read_file(path, MAX_KEY_FILE, ret_pem, ret_len);

	if (err)
		cli_error("cannot read key '%s': %s", path, strerror(-err));
	return err;
}

/* A key for a signing subcommand: "FILE" or "ROLE=FILE" (the root decides the role anyway). */
static const char *key_path(const char *arg)
{
	enum bpk_index_role role;
	const char *value;

	return split_role(arg, &role, &value) ? arg : value;
}

static int load_signing_keys(struct bpk_index *idx, const char *const *paths, size_t cnt)
{
	size_t i;

	for (i = 0; i < cnt; i++) {
		const char *path = key_path(paths[i]);
		_cleanup_free_ char *pem = NULL;
		size_t len;

		if (read_key_file(path, &pem, &len))
			return -1;
		if (bpk_index__load_key(idx, pem, len)) {
			cli_error("cannot sign with '%s': %s", path, bpk_index__errstr(idx));
			return -1;
		}
	}
	return 0;
}

static struct bpk_index *new_index(const struct index_args *a)
{
	BPK_OPTS(bpk_index_opts, opts, .root_lifetime = a->lifetime[BPK_INDEX_ROOT],
		 .targets_lifetime = a->lifetime[BPK_INDEX_TARGETS],
		 .snapshot_lifetime = a->lifetime[BPK_INDEX_SNAPSHOT],
		 .timestamp_lifetime = a->lifetime[BPK_INDEX_TIMESTAMP]);
	struct bpk_index *idx = bpk_index__new(&opts);

	if (!idx)
		cli_error("cannot make an index: %s", strerror(errno));
	return idx;
}

/* Load DIR and the signing keys for a subcommand that signs. */
static struct bpk_index *open_index(const struct index_args *a)
{
	struct bpk_index *idx = new_index(a);

	if (!idx)
		return NULL;
	if (bpk_index__load(idx, a->dir)) {
		cli_error("cannot open index '%s': %s", a->dir, bpk_index__errstr(idx));
		bpk_index__free(idx);
		return NULL;
	}
	if (load_signing_keys(idx, a->keys, a->key_cnt)) {
		bpk_index__free(idx);
		return NULL;
	}
	return idx;
}

/* Publish staged changes and say what was signed. */
static int publish(struct bpk_index *idx, const struct index_args *a)
{
	const struct bpk_index_meta *m;

	if (bpk_index__publish(idx)) {
		cli_error("cannot publish index '%s': %s", a->dir, bpk_index__errstr(idx));
		if (bpk_index__err(idx) == BPK_INDEX_E_NO_KEY)
			fprintf(stderr, "hint: give the role's private keys with --key FILE\n");
		return EXIT_FAIL;
	}
	m = bpk_index__meta(idx);
	printf("signed targets.json version %" PRIu64 ", snapshot.json version %" PRIu64
	       ", timestamp.json version %" PRIu64 "\n",
	       bpk_index_meta__version(m, BPK_INDEX_TARGETS),
	       bpk_index_meta__version(m, BPK_INDEX_SNAPSHOT),
	       bpk_index_meta__version(m, BPK_INDEX_TIMESTAMP));
	return EXIT_OK;
}

/* init's --key ROLE=FILE: give each role its keys. Returns EXIT_OK or the exit status. */
static int give_keys(struct bpk_index *idx, const struct index_args *a)
{
	size_t i;

	for (i = 0; i < a->key_cnt; i++) {
		enum bpk_index_role r;
		_cleanup_free_ char *pem = NULL;
		const char *path;
		size_t len;

		if (split_role(a->keys[i], &r, &path))
			return cli_usage_error("index", "init takes --key ROLE=FILE, not '%s'",
					       a->keys[i]);
		if (read_key_file(path, &pem, &len))
			return EXIT_FAIL;
		if (bpk_index__add_key(idx, r, pem, len))
			return cli_error("cannot give key '%s' to the %s role: %s", path,
					 bpk_index_role__name(r), bpk_index__errstr(idx));
	}
	return EXIT_OK;
}

static int run_init(struct index_args *a)
{
	struct bpk_index *idx = new_index(a);
	int ret, role;

	if (!idx)
		return EXIT_FAIL;
	ret = give_keys(idx, a);
	if (ret != EXIT_OK)
		goto out;
	ret = EXIT_FAIL;
	for (role = 0; role < BPK_INDEX_ROLE_CNT; role++) {
		if (a->threshold[role] &&
		    bpk_index__set_threshold(idx, (enum bpk_index_role)role, a->threshold[role])) {
			cli_error("%s", bpk_index__errstr(idx));
			goto out;
		}
	}
	if (bpk_index__create(idx, a->dir)) {
		cli_error("cannot create index '%s': %s", a->dir, bpk_index__errstr(idx));
		goto out;
	}
	printf("created index '%s': root, targets, snapshot and timestamp at version 1\n",
	       a->dir);
	ret = EXIT_OK;
out:
	bpk_index__free(idx);
	return ret;
}

static int add_one(struct bpk_index *idx, const struct index_args *a, const char *path)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	const struct bpk_manifest *man;
	struct bpk_index_target t = { 0 }, old;
	struct bpk_pkg *pkg;
	char *data = NULL;
	size_t len;
	int err, ret = EXIT_FAIL;

	err = read_file(path, BPK_DEFAULT_MAX_COMPRESSED, &data, &len);
	if (err)
		return cli_error("cannot add '%s': %s", path, strerror(-err));
	pkg = bpk_pkg__open_mem(data, len, NULL, &diags);
	free(data);
	if (!pkg) {
		cli_print_diags(&diags, false);
		bpk_diags__release(&diags);
		return cli_error("cannot add '%s': it is not a valid package", path);
	}
	man = bpk_pkg__manifest(pkg);
	t.name = bpk_manifest__name(man);
	t.version = bpk_manifest__version(man);
	t.feed = bpk_manifest__feed(man);
	t.sha256 = bpk_pkg__digest(pkg);
	t.size = bpk_pkg__size(pkg);
	if (!bpk_index_meta__find(bpk_index__meta(idx), t.name, t.version, &old)) {
		/* Versions are immutable: other bytes under one name@version need --replace. */
		if (strcmp(old.sha256, t.sha256) && !a->replace) {
			cli_error("cannot add '%s': %s@%s is already in the index with another "
				  "digest (versions are immutable; --replace overrides)",
				  path, t.name, t.version);
			goto out;
		}
		t.yanked = old.yanked;
	}
	if (bpk_index__add_target(idx, &t)) {
		cli_error("cannot add '%s': %s", path, bpk_index__errstr(idx));
		goto out;
	}
	printf("added %s@%s (%" PRIu64 " bytes, sha256 %s)\n", t.name, t.version, t.size, t.sha256);
	ret = EXIT_OK;
out:
	bpk_pkg__free(pkg);
	bpk_diags__release(&diags);
	return ret;
}

static int run_add(struct index_args *a)
{
	struct bpk_index *idx = open_index(a);
	int i, ret = EXIT_OK;

	if (!idx)
		return EXIT_FAIL;
	for (i = 0; i < a->arg_cnt && ret == EXIT_OK; i++)
		ret = add_one(idx, a, a->args[i]);
	if (ret == EXIT_OK)
		ret = publish(idx, a);
	bpk_index__free(idx);
	return ret;
}

static int set_yanked(struct index_args *a, bool yanked)
{
	_cleanup_free_ char *name = strdup(a->args[0]);
	char *at = name ? strrchr(name, '@') : NULL;
	struct bpk_index *idx;
	int ret;

	if (!at || at == name || !at[1])
		return cli_usage_error("index", "'%s' is not NAME@VERSION", a->args[0]);
	*at = '\0';
	idx = open_index(a);
	if (!idx)
		return EXIT_FAIL;
	if (bpk_index__set_yanked(idx, name, at + 1, yanked)) {
		ret = cli_error("cannot %s '%s': %s", a->sub, a->args[0], bpk_index__errstr(idx));
	} else {
		printf("%s %s\n", yanked ? "yanked" : "unyanked", a->args[0]);
		ret = publish(idx, a);
	}
	bpk_index__free(idx);
	return ret;
}

static int run_yank(struct index_args *a)
{
	return set_yanked(a, true);
}

static int run_unyank(struct index_args *a)
{
	return set_yanked(a, false);
}

static int run_refresh(struct index_args *a)
{
	struct bpk_index *idx = open_index(a);
	const struct bpk_index_meta *m;
	char when[21];
	int ret;

	if (!idx)
		return EXIT_FAIL;
	if (a->all) {
		ret = publish(idx, a);
	} else if (bpk_index__refresh(idx)) {
		ret = cli_error("cannot refresh index '%s': %s", a->dir, bpk_index__errstr(idx));
	} else {
		m = bpk_index__meta(idx);
		bpk_index_time__format(bpk_index_meta__expires(m, BPK_INDEX_TIMESTAMP), when);
		printf("signed timestamp.json version %" PRIu64 ", expires %s\n",
		       bpk_index_meta__version(m, BPK_INDEX_TIMESTAMP), when);
		ret = EXIT_OK;
	}
	bpk_index__free(idx);
	return ret;
}

/* rotate-root's --new-key: the root role of the next root lists these keys only. */
static int new_root_keys(struct bpk_index *idx, const struct index_args *a)
{
	size_t i;

	if (bpk_index__clear_keys(idx, BPK_INDEX_ROOT))
		return cli_error("%s", bpk_index__errstr(idx));
	for (i = 0; i < a->new_key_cnt; i++) {
		_cleanup_free_ char *pem = NULL;
		size_t len;

		if (read_key_file(a->new_keys[i], &pem, &len))
			return EXIT_FAIL;
		if (bpk_index__add_key(idx, BPK_INDEX_ROOT, pem, len))
			return cli_error("cannot use new root key '%s': %s", a->new_keys[i],
					 bpk_index__errstr(idx));
	}
	return EXIT_OK;
}

static int run_rotate_root(struct index_args *a)
{
	const struct bpk_index_meta *m;
	struct bpk_index *idx;
	int ret = EXIT_FAIL;

	if (!a->old_key_cnt || !a->new_key_cnt)
		return cli_usage_error("index", "rotate-root needs --old-key and --new-key");
	idx = open_index(a);
	if (!idx)
		return EXIT_FAIL;
	if (load_signing_keys(idx, a->old_keys, a->old_key_cnt) || new_root_keys(idx, a))
		goto out;
	if (a->threshold[BPK_INDEX_ROOT] &&
	    bpk_index__set_threshold(idx, BPK_INDEX_ROOT, a->threshold[BPK_INDEX_ROOT])) {
		cli_error("%s", bpk_index__errstr(idx));
		goto out;
	}
	if (bpk_index__rotate_root(idx)) {
		cli_error("cannot rotate the root of '%s': %s", a->dir, bpk_index__errstr(idx));
		goto out;
	}
	m = bpk_index__meta(idx);
	printf("wrote %" PRIu64 ".root.json: %u of %zu root key%s must sign\n",
	       bpk_index_meta__version(m, BPK_INDEX_ROOT),
	       bpk_index_meta__threshold(m, BPK_INDEX_ROOT),
	       bpk_index_meta__keyid_cnt(m, BPK_INDEX_ROOT),
	       bpk_index_meta__keyid_cnt(m, BPK_INDEX_ROOT) == 1 ? "" : "s");
	ret = EXIT_OK;
out:
	bpk_index__free(idx);
	return ret;
}

static json_t *target_json(const struct bpk_index_target *t)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:b}", "name", t->name, "version", t->version,
			 "feed", t->feed, "sha256", t->sha256, "size", (json_int_t)t->size,
			 "yanked", t->yanked);
}

/* The roles and packages of m, as `show -j` and `verify -j` print them. */
static json_t *meta_json(const struct bpk_index_meta *m)
{
	json_t *roles = json_object(), *targets = json_array();
	struct bpk_index_target t;
	size_t i;
	int role;

	for (role = 0; role < BPK_INDEX_ROLE_CNT && roles; role++) {
		enum bpk_index_role r = (enum bpk_index_role)role;
		json_t *ids = json_array();
		char when[21] = "";

		bpk_index_time__format(bpk_index_meta__expires(m, r), when);
		for (i = 0; ids && i < bpk_index_meta__keyid_cnt(m, r); i++)
			json_array_append_new(ids, json_string(bpk_index_meta__keyid(m, r, i)));
		json_object_set_new(roles, bpk_index_role__name(r),
				    json_pack("{s:I, s:s, s:i, s:o}", "version",
					      (json_int_t)bpk_index_meta__version(m, r), "expires",
					      when, "threshold",
					      (int)bpk_index_meta__threshold(m, r), "keyids", ids));
	}
	for (i = 0; targets && !bpk_index_meta__target(m, i, &t); i++)
		json_array_append_new(targets, target_json(&t));
	return json_pack("{s:o, s:o}", "roles", roles, "targets", targets);
}

static int print_json(json_t *root)
{
	char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	json_decref(root);
	if (!text)
		return cli_error("out of memory");
	puts(text);
	free(text);
	return EXIT_OK;
}

static void print_meta(const struct bpk_index_meta *m)
{
	struct bpk_index_target t;
	size_t i, n = bpk_index_meta__target_cnt(m);
	int role;

	for (role = 0; role < BPK_INDEX_ROLE_CNT; role++) {
		enum bpk_index_role r = (enum bpk_index_role)role;
		size_t keys = bpk_index_meta__keyid_cnt(m, r);
		char when[21] = "";

		bpk_index_time__format(bpk_index_meta__expires(m, r), when);
		printf("%-10s version %-4" PRIu64 " expires %s  %u of %zu key%s must sign\n",
		       bpk_index_role__name(r), bpk_index_meta__version(m, r), when,
		       bpk_index_meta__threshold(m, r), keys, keys == 1 ? "" : "s");
		for (i = 0; i < keys; i++)
			printf("           key %s\n", bpk_index_meta__keyid(m, r, i));
	}
	printf("%zu package%s%s\n", n, n == 1 ? "" : "s", n ? ":" : "");
	for (i = 0; !bpk_index_meta__target(m, i, &t); i++)
		printf("  %s@%s  %" PRIu64 " bytes  sha256 %s%s\n", t.name, t.version, t.size,
		       t.sha256, t.yanked ? "  yanked" : "");
}

static int run_show(struct index_args *a)
{
	struct bpk_index *idx = new_index(a);
	int ret = EXIT_OK;

	if (!idx)
		return EXIT_FAIL;
	if (bpk_index__load(idx, a->dir))
		ret = cli_error("cannot open index '%s': %s", a->dir, bpk_index__errstr(idx));
	else if (a->json)
		ret = print_json(meta_json(bpk_index__meta(idx)));
	else
		print_meta(bpk_index__meta(idx));
	bpk_index__free(idx);
	return ret;
}

/* A client over DIR, updated; NULL after printing why not. */
static struct bpk_index_client *update_client(const struct index_args *a)
{
	BPK_OPTS(bpk_index_client_opts, opts, .state_dir = a->state,
		 .fetch = bpk_index__fetch_dir, .fetch_ctx = (void *)a->dir, .now = a->now);
	_cleanup_free_ char *root = NULL;
	struct bpk_index_client *c;
	size_t len = 0;
	int err;

	if (a->root) {
		err = read_file(a->root, BPK_INDEX_MAX_ROOT_LEN, &root, &len);
		if (err) {
			cli_error("cannot read trusted root '%s': %s", a->root, strerror(-err));
			return NULL;
		}
		opts.root = root;
		opts.root_len = len;
	}
	c = bpk_index_client__new(&opts);
	if (!c) {
		cli_error("cannot make an index client: %s", strerror(errno));
		return NULL;
	}
	if (bpk_index_client__update(c)) {
		cli_error("cannot verify index '%s': %s", a->dir, bpk_index_client__errstr(c));
		if (a->json)
			print_json(json_pack("{s:b, s:{s:s, s:s}}", "ok", false, "error", "code",
					     bpk_index_err__name(bpk_index_client__err(c)),
					     "message", bpk_index_client__errstr(c)));
		bpk_index_client__free(c);
		return NULL;
	}
	return c;
}

static int run_verify(struct index_args *a)
{
	struct bpk_index_client *c = update_client(a);
	const struct bpk_index_meta *m;
	json_t *out;
	char when[21] = "";
	size_t n;

	if (!c)
		return EXIT_FAIL;
	m = bpk_index_client__meta(c);
	if (a->json) {
		out = meta_json(m);
		if (out)
			json_object_set_new(out, "ok", json_true());
		bpk_index_client__free(c);
		return print_json(out);
	}
	n = bpk_index_meta__target_cnt(m);
	bpk_index_time__format(bpk_index_meta__expires(m, BPK_INDEX_TIMESTAMP), when);
	printf("verified '%s': root version %" PRIu64 ", targets %" PRIu64 ", snapshot %" PRIu64
	       ", timestamp %" PRIu64 " (expires %s); %zu package%s\n",
	       a->dir, bpk_index_meta__version(m, BPK_INDEX_ROOT),
	       bpk_index_meta__version(m, BPK_INDEX_TARGETS),
	       bpk_index_meta__version(m, BPK_INDEX_SNAPSHOT),
	       bpk_index_meta__version(m, BPK_INDEX_TIMESTAMP), when, n, n == 1 ? "" : "s");
	bpk_index_client__free(c);
	return EXIT_OK;
}

/* Check one package; adds its result to results (JSON) when given. */
static bool check_one(struct bpk_index_client *c, const char *path, json_t *results)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	const struct bpk_manifest *man;
	struct bpk_index_target t = { 0 };
	const char *name = NULL, *version = NULL, *why = NULL;
	char *data = NULL;
	struct bpk_pkg *pkg = NULL;
	bool ok = false;
	size_t len;
	int err;

	err = read_file(path, BPK_DEFAULT_MAX_COMPRESSED, &data, &len);
	if (err) {
		why = strerror(-err);
		goto report;
	}
	pkg = bpk_pkg__open_mem(data, len, NULL, &diags);
	if (!pkg) {
		cli_print_diags(&diags, false);
		why = "it is not a valid package";
		goto report;
	}
	man = bpk_pkg__manifest(pkg);
	name = bpk_manifest__name(man);
	version = bpk_manifest__version(man);
	if (bpk_index_client__verify_target(c, name, version, data, len)) {
		why = bpk_index_client__errstr(c);
		goto report;
	}
	bpk_index_meta__find(bpk_index_client__meta(c), name, version, &t);
	ok = true;
report:
	if (!ok)
		cli_error("'%s' does not match the index: %s", path, why);
	else if (!results)
		printf("'%s': %s@%s matches the index (%" PRIu64 " bytes, sha256 %s)\n", path,
		       name, version, t.size, t.sha256);
	if (ok && t.yanked)
		cli_warning("%s@%s is yanked: it is kept for pinned installs only", name, version);
	if (results)
		json_array_append_new(results, json_pack("{s:s, s:s?, s:s?, s:b, s:b, s:s?}",
							 "package", path, "name", name, "version",
							 version, "ok", ok, "yanked", t.yanked,
							 "error", why));
	bpk_pkg__free(pkg);
	bpk_diags__release(&diags);
	free(data);
	return ok;
}

static int run_check(struct index_args *a)
{
	struct bpk_index_client *c = update_client(a);
	json_t *results = a->json ? json_array() : NULL;
	bool all_ok = true;
	int i;

	if (!c) {
		json_decref(results);
		return EXIT_FAIL;
	}
	for (i = 0; i < a->arg_cnt; i++)
		all_ok &= check_one(c, a->args[i], results);
	bpk_index_client__free(c);
	if (results)
		print_json(json_pack("{s:b, s:o}", "ok", all_ok, "packages", results));
	return all_ok ? EXIT_OK : EXIT_FAIL;
}

static const struct subcmd subcmds[] = {
	{ "init", run_init, F_KEY | F_THRESHOLD | F_EXPIRES, 0, 0 },
	{ "add", run_add, F_KEY | F_EXPIRES | F_REPLACE, 1, -1 },
	{ "yank", run_yank, F_KEY | F_EXPIRES, 1, 1 },
	{ "unyank", run_unyank, F_KEY | F_EXPIRES, 1, 1 },
	{ "refresh", run_refresh, F_KEY | F_EXPIRES | F_ALL, 0, 0 },
	{ "rotate-root", run_rotate_root, F_OLD_KEY | F_NEW_KEY | F_THRESHOLD | F_EXPIRES, 0, 0 },
	{ "show", run_show, F_JSON, 0, 0 },
	{ "verify", run_verify, F_ROOT | F_STATE | F_NOW | F_JSON, 0, 0 },
	{ "check", run_check, F_ROOT | F_STATE | F_NOW | F_JSON, 1, -1 },
};

static int parse_threshold(struct index_args *a, const char *arg)
{
	enum bpk_index_role role = BPK_INDEX_ROOT;
	const char *value = arg;
	char *end;
	unsigned long n;

	/* rotate-root changes only the root, so a bare N means root there. */
	if (strchr(arg, '=') && split_role(arg, &role, &value))
		return -EINVAL;
	if (!strchr(arg, '=') && strcmp(a->sub, "rotate-root"))
		return -EINVAL;
	errno = 0;
	n = strtoul(value, &end, 10);
	if (errno || *end || !*value || n < 1 || n > 256)
		return -EINVAL;
	a->threshold[role] = (unsigned int)n;
	return 0;
}

static int run_index(int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "threshold", required_argument, NULL, OPT_THRESHOLD },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "old-key", required_argument, NULL, OPT_OLD_KEY },
		{ "new-key", required_argument, NULL, OPT_NEW_KEY },
		{ "replace", no_argument, NULL, OPT_REPLACE },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "now", required_argument, NULL, OPT_NOW },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct index_args a = { 0 };
	const struct subcmd *sub = NULL;
	unsigned int given = 0;
	enum bpk_index_role role;
	const char *value;
	size_t i;
	int c, ret = EXIT_USAGE, positional;

	if (argc < 2)
		return cli_usage_error("index", "no subcommand given");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return cli_help("index");
	for (i = 0; i < ARRAY_SIZE(subcmds); i++)
		if (!strcmp(argv[1], subcmds[i].name))
			sub = &subcmds[i];
	if (!sub)
		return cli_usage_error("index", "'%s' is not a subcommand of 'bpk index'", argv[1]);
	a.sub = sub->name;

	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "k:jh", options, NULL)) != -1) {
		unsigned int flag = 0;

		switch (c) {
		case 'k':
			flag = F_KEY;
			if (push(&a.keys, &a.key_cnt, optarg))
				goto nomem;
			break;
		case OPT_THRESHOLD:
			flag = F_THRESHOLD;
			if (parse_threshold(&a, optarg)) {
				cli_usage_error("index", "--threshold takes %s, not '%s'",
						strcmp(a.sub, "rotate-root") ? "ROLE=N" : "N",
						optarg);
				goto out;
			}
			break;
		case OPT_EXPIRES:
			flag = F_EXPIRES;
			if (split_role(optarg, &role, &value) ||
			    parse_duration(value, &a.lifetime[role])) {
				cli_usage_error("index", "--expires takes ROLE=DURATION "
						"(like timestamp=1d), not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_OLD_KEY:
			flag = F_OLD_KEY;
			if (push(&a.old_keys, &a.old_key_cnt, optarg))
				goto nomem;
			break;
		case OPT_NEW_KEY:
			flag = F_NEW_KEY;
			if (push(&a.new_keys, &a.new_key_cnt, optarg))
				goto nomem;
			break;
		case OPT_REPLACE:
			flag = F_REPLACE;
			a.replace = true;
			break;
		case OPT_ALL:
			flag = F_ALL;
			a.all = true;
			break;
		case OPT_ROOT:
			flag = F_ROOT;
			a.root = optarg;
			break;
		case OPT_STATE:
			flag = F_STATE;
			a.state = optarg;
			break;
		case OPT_NOW:
			flag = F_NOW;
			if (bpk_index_time__parse(optarg, &a.now)) {
				cli_usage_error("index", "--now takes a UTC time like "
						"2026-12-01T00:00:00Z, not '%s'", optarg);
				goto out;
			}
			break;
		case 'j':
			flag = F_JSON;
			a.json = true;
			break;
		case 'h':
			ret = cli_help("index");
			goto out;
		default:
			cli_usage_error("index", "unknown option");
			goto out;
		}
		if (!(sub->options & flag)) {
			for (i = 0; options[i].name && options[i].val != c; i++)
				;
			cli_usage_error("index", "'bpk index %s' does not take --%s", sub->name,
					options[i].name);
			goto out;
		}
		given |= flag;
	}
	if (optind >= argc) {
		cli_usage_error("index", "'bpk index %s' needs the index directory", sub->name);
		goto out;
	}
	a.dir = argv[optind++];
	a.args = argv + optind;
	a.arg_cnt = positional = argc - optind;
	if (positional < sub->min_args || (sub->max_args >= 0 && positional > sub->max_args)) {
		if (positional > sub->max_args && sub->max_args >= 0)
			cli_usage_error("index", "unexpected argument '%s'",
					a.args[sub->max_args]);
		else
			cli_usage_error("index", "'bpk index %s' needs %s", sub->name,
					!strcmp(sub->name, "add") || !strcmp(sub->name, "check")
						? "at least one PKG.bpk"
						: "NAME@VERSION");
		goto out;
	}
	if ((sub->options & F_STATE) && !(given & F_STATE)) {
		cli_usage_error("index", "'bpk index %s' needs --state STATEDIR", sub->name);
		goto out;
	}
	ret = sub->run(&a);
	goto out;
nomem:
	ret = cli_error("out of memory");
out:
	free(a.keys);
	free(a.old_keys);
	free(a.new_keys);
	return ret;
}

const struct cmd cmd_index = {
	.name = "index",
	.run = run_index,
	.summary = "keep or verify a repository's signed index",
	.help =
		"usage: bpk index init DIR --key ROLE=FILE... [--threshold ROLE=N]...\n"
		"                      [--expires ROLE=DURATION]...\n"
		"   or: bpk index add DIR PKG.bpk... --key FILE... [--replace]\n"
		"   or: bpk index yank DIR NAME@VERSION --key FILE...\n"
		"   or: bpk index unyank DIR NAME@VERSION --key FILE...\n"
		"   or: bpk index refresh DIR --key FILE... [--all]\n"
		"   or: bpk index rotate-root DIR --old-key FILE... --new-key FILE...\n"
		"                             [--threshold N]\n"
		"   or: bpk index show DIR [-j]\n"
		"   or: bpk index verify DIR --state STATEDIR [--root FILE] [--now TIME] [-j]\n"
		"   or: bpk index check DIR --state STATEDIR [--root FILE] [--now TIME] [-j]\n"
		"                       PKG.bpk...\n"
		"\n"
		"Keep the signed index of a repository in DIR (the TUF roles root, targets,\n"
		"snapshot and timestamp), or verify one as a client does. DIR holds only public\n"
		"metadata: the private keys stay wherever you keep them.\n"
		"\n"
		"  init         create an index; ROLE is root, targets, snapshot or timestamp\n"
		"  add          add packages, then sign targets, snapshot and timestamp again\n"
		"  yank         hide NAME@VERSION from resolution (pinned installs still work)\n"
		"  unyank       undo yank\n"
		"  refresh      sign a new timestamp (with --all, targets and snapshot too)\n"
		"  rotate-root  write the next root version, signed by old and new root keys\n"
		"  show         print the roles, their keys and the packages\n"
		"  verify       update the trusted copy in STATEDIR from DIR, print it\n"
		"  check        verify, then check each package against the index\n"
		"\n"
		"  -k, --key [ROLE=]FILE        private key to sign with (init: ROLE=FILE,\n"
		"                               public or private, gives ROLE the key)\n"
		"      --threshold [ROLE=]N     signatures ROLE needs (default 1; rotate-root\n"
		"                               takes N, for the new root)\n"
		"      --expires ROLE=DURATION  how long ROLE stays valid when signed:\n"
		"                               30m, 12h, 7d, 2w, 1y\n"
		"      --old-key FILE           private key of the current root\n"
		"      --new-key FILE           private key of the new root\n"
		"      --replace                add: replace other bytes of a NAME@VERSION\n"
		"      --all                    refresh: sign targets and snapshot too\n"
		"      --root FILE              root trusted out of band, if STATEDIR has none\n"
		"      --state STATEDIR         where the client keeps what it trusts\n"
		"      --now TIME               check expiry at TIME (2026-12-01T00:00:00Z)\n"
		"  -j, --json                   print JSON\n"
		"  -h, --help                   show this help\n",
};

// SPDX-License-Identifier: BSD-2-Clause
/* The trust policy (trust.d/): loading it strictly, matching names, adding and removing keys. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bpk_internal.h"
#include "config.h"

/* Longest pattern: a feed and a name of 100 bytes each, and the '/'. */
#define PATTERN_MAX 201
/* More names than anyone writes by hand; a bound on work per entry. */
#define NAMES_MAX 256
/* A directory of more trusted keys than this is not a policy anyone reviews. */
#define ENTRIES_MAX 4096
/* Shortest key id prefix bpk trust remove takes (32 bits: collisions need intent). */
#define PREFIX_MIN 8

struct bpk_trust_entry {
	char *file;
	char *keyid;
	char *comment;
	char *added;
	char **names;
	size_t name_cnt;
	struct bpk_key *key;
};

struct bpk_trust {
	char *dir;
	char *policy_file;
	unsigned int min_signers;
	/* Capabilities (capability.h) no package may have, from policy.json "deny". */
	bool deny[BPK_CAP_CNT];
	struct bpk_trust_entry **entries;
	size_t cnt;
};

/* ---- name patterns ---- */

bool bpk_trust_pattern__valid(const char *p)
{
	size_t len, i, slashes = 0;

	if (!p)
		return false;
	len = strlen(p);
	if (!len || len > PATTERN_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = p[i];

		if (c == '/')
			slashes++;
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
			   c == '_' || c == '-' || c == '*' || c == '?'))
			return false;
	}
	return slashes == 0 || (slashes == 1 && p[0] != '/' && p[len - 1] != '/');
}

bool bpk_trust_pattern__match(const char *p, const char *n)
{
	const char *star_p = NULL, *star_n = NULL;

	if (!p || !n)
		return false;
	/*
	 * Glob matching with one remembered star: the latest star subsumes the earlier ones,
	 * and since no star crosses a '/', which both must hold at the same place, the feed
	 * and the name are matched independently.
	 */
	while (*n) {
		if (*p == '*') {
			star_p = p++;
			star_n = n;
		} else if ((*p == '?' && *n != '/') || (*p && *p != '?' && *p == *n)) {
			p++;
			n++;
		} else if (star_p && *star_n != '/') {
			p = star_p + 1;
			n = ++star_n;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

/* ---- errors ---- */

/*
 * Refuse a trust file: the message reads "'FILE': 'FIELD': what" (or "'FILE': what").
 * Returns code, or -ENOMEM.
 */
static int bad_file(struct bpk_error *error, int code, const char *file, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int bad_file(struct bpk_error *error, int code, const char *file, const char *field,
		    const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL;
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (n < 0) {
		what = NULL;
		return -ENOMEM;
	}
	if (field)
		err = bpk_error__set(error, file, field, "'%s': '%s': %s", file, field, what);
	else
		err = bpk_error__set(error, file, NULL, "'%s': %s", file, what);
	return err ?: code;
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* A string member without NUL bytes, or NULL (absent, or refused through *err). */
static const char *member_string(json_t *obj, const char *key, const char *file, bool required,
				 struct bpk_error *error, int *err)
{
	json_t *v = json_object_get(obj, key);

	*err = 0;
	if (!v) {
		if (required)
			*err = bad_file(error, -EINVAL, file, key, "is missing");
		return NULL;
	}
	if (!json_is_string(v)) {
		*err = bad_file(error, -EINVAL, file, key, "must be a string, not %s",
				json_kind(v));
		return NULL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		*err = bad_file(error, -EINVAL, file, key, "must not contain a NUL byte");
		return NULL;
	}
	return json_string_value(v);
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool is_hex_prefix(const char *s, size_t min, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i >= min && i <= max;
}

/* RFC 3339 in UTC to the second, as bpk writes it: "2025-01-31T12:00:00Z". */
static bool valid_timestamp(const char *s)
{
	struct tm tm = { 0 };
	const char *end;

	if (strlen(s) != 20)
		return false;
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return end && !*end && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
	       s[16] == ':';
}

/* ---- entries ---- */

void bpk_trust_entry__free(struct bpk_trust_entry *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->name_cnt; i++)
		free(e->names[i]);
	free(e->names);
	free(e->file);
	free(e->keyid);
	free(e->comment);
	free(e->added);
	bpk_key__free(e->key);
	free(e);
}

static int parse_names(struct bpk_trust_entry *e, json_t *names, const char *file,
		       struct bpk_error *error)
{
	char field[32];
	json_t *v;
	size_t i, j;

	if (!json_is_array(names))
		return bad_file(error, -EINVAL, file, "names", "must be a list, not %s",
				json_kind(names));
	/* A key trusted for no name at all is a mistake, and "every name" is said by omission. */
	if (!json_array_size(names))
		return bad_file(error, -EINVAL, file, "names",
				"must not be empty (leave it out to trust the key for every name)");
	if (json_array_size(names) > NAMES_MAX)
		return bad_file(error, -EINVAL, file, "names", "has more than %d patterns",
				NAMES_MAX);
	e->names = calloc(json_array_size(names), sizeof(*e->names));
	if (!e->names)
		return -ENOMEM;
	json_array_foreach(names, i, v) {
		const char *p = json_string_value(v);

		snprintf(field, sizeof(field), "names[%zu]", i);
		if (!json_is_string(v) || strlen(p) != json_string_length(v))
			return bad_file(error, -EINVAL, file, field,
					"must be a string without NUL bytes, not %s",
					json_is_string(v) ? "one with a NUL byte" : json_kind(v));
		if (!bpk_trust_pattern__valid(p))
			return bad_file(error, -EINVAL, file, field,
					"\"%.*s\" is not a name pattern ([a-z0-9._-], '*', '?' and "
					"at most one '/' between two non-empty parts)",
					PATTERN_MAX, p);
		for (j = 0; j < e->name_cnt; j++)
			if (!strcmp(e->names[j], p))
				return bad_file(error, -EINVAL, file, field,
						"\"%s\" is listed twice", p);
		e->names[e->name_cnt] = strdup(p);
		if (!e->names[e->name_cnt])
			return -ENOMEM;
		e->name_cnt++;
	}
	return 0;
}

static int parse_entry(struct bpk_trust_entry *e, const void *buf, size_t len, const char *file,
		       struct bpk_error *error)
{
	static const char *const known[] = { "keyid", "public_key", "names", "comment", "added" };
	_cleanup_json_ json_t *root = NULL;
	const char *keyid, *pem, *comment, *added, *key;
	json_error_t jerr;
	json_t *v;
	size_t i;
	int err;

	if (len > BPK_TRUST_FILE_MAX)
		return bad_file(error, -EINVAL, file, NULL, "is %zu bytes, past the limit of %u",
				len, BPK_TRUST_FILE_MAX);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return bad_file(error, -EINVAL, file, NULL,
				"is not valid JSON: %s at line %d, column %d", jerr.text,
				jerr.line, jerr.column);
	if (!json_is_object(root))
		return bad_file(error, -EINVAL, file, NULL, "must hold a JSON object, not %s",
				json_kind(root));
	json_object_foreach(root, key, v) {
		for (i = 0; i < ARRAY_SIZE(known); i++)
			if (!strcmp(key, known[i]))
				break;
		/* An older bpk that skipped a newer restriction would trust more than meant. */
		if (i == ARRAY_SIZE(known))
			return bad_file(error, -EINVAL, file, NULL,
					"has an unknown field \"%.64s\"",
					printable(key) ? key : "?");
	}
	keyid = member_string(root, "keyid", file, true, error, &err);
	if (!keyid)
		return err;
	if (!is_hex_prefix(keyid, BPK_KEYID_HEX_LEN, BPK_KEYID_HEX_LEN))
		return bad_file(error, -EINVAL, file, "keyid",
				"\"%.80s\" is not a key id (64 lowercase hex digits)",
				printable(keyid) ? keyid : "?");
	pem = member_string(root, "public_key", file, true, error, &err);
	if (!pem)
		return err;
	e->key = bpk_key__from_pem(pem, strlen(pem));
	if (!e->key)
		return errno == ENOMEM ? -ENOMEM
				       : bad_file(error, -EINVAL, file, "public_key",
						  "is not a PEM Ed25519 public key");
	if (bpk_key__has_private(e->key))
		return bad_file(error, -EINVAL, file, "public_key",
				"holds a private key; a trust policy holds public keys only");
	if (strcmp(keyid, bpk_key__id(e->key)))
		return bad_file(error, -EINVAL, file, "keyid",
				"%s is not the id of 'public_key', which is %s", keyid,
				bpk_key__id(e->key));
	v = json_object_get(root, "names");
	if (v) {
		err = parse_names(e, v, file, error);
		if (err)
			return err;
	}
	comment = member_string(root, "comment", file, false, error, &err);
	if (err)
		return err;
	if (comment && (!printable(comment) || strlen(comment) > BPK_TRUST_COMMENT_MAX))
		return bad_file(error, -EINVAL, file, "comment",
				"must be printable text of at most %d bytes",
				BPK_TRUST_COMMENT_MAX);
	added = member_string(root, "added", file, false, error, &err);
	if (err)
		return err;
	if (added && !valid_timestamp(added))
		return bad_file(error, -EINVAL, file, "added",
				"\"%.64s\" is not an RFC 3339 UTC time like "
				"\"2025-01-31T12:00:00Z\"", printable(added) ? added : "?");
	e->file = strdup(file);
	e->keyid = strdup(keyid);
	if (!e->file || !e->keyid || (comment && !(e->comment = strdup(comment))) ||
	    (added && !(e->added = strdup(added))))
		return -ENOMEM;
	return 0;
}

struct bpk_trust_entry *bpk_trust_entry__parse(const void *buf, size_t len, const char *file,
					       struct bpk_error *error)
{
	struct bpk_trust_entry *e;
	int err;

	if (!buf && len) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	err = parse_entry(e, buf ?: "", len, file ?: "(trust entry)", error);
	if (err) {
		bpk_trust_entry__free(e);
		errno = -err;
		return NULL;
	}
	return e;
}

const char *bpk_trust_entry__keyid(const struct bpk_trust_entry *e)
{
	return e->keyid;
}

const char *bpk_trust_entry__file(const struct bpk_trust_entry *e)
{
	return e->file;
}

const char *bpk_trust_entry__comment(const struct bpk_trust_entry *e)
{
	return e->comment;
}

const char *bpk_trust_entry__added(const struct bpk_trust_entry *e)
{
	return e->added;
}

const struct bpk_key *bpk_trust_entry__key(const struct bpk_trust_entry *e)
{
	return e->key;
}

size_t bpk_trust_entry__name_cnt(const struct bpk_trust_entry *e)
{
	return e->name_cnt;
}

const char *bpk_trust_entry__name(const struct bpk_trust_entry *e, size_t idx)
{
	return idx < e->name_cnt ? e->names[idx] : NULL;
}

bool bpk_trust_entry__allows(const struct bpk_trust_entry *e, const char *name,
			     const char **ret_pattern)
{
	size_t i;

	if (!name)
		return false;
	if (!e->name_cnt) {
		if (ret_pattern)
			*ret_pattern = NULL;
		return true;
	}
	for (i = 0; i < e->name_cnt; i++) {
		if (bpk_trust_pattern__match(e->names[i], name)) {
			if (ret_pattern)
				*ret_pattern = e->names[i];
			return true;
		}
	}
	return false;
}

/* ---- the policy ---- */

const char *bpk_trust__default_dir(void)
{
	return BPK_TRUST_DIR;
}

struct bpk_trust *bpk_trust__new(void)
{
	struct bpk_trust *trust = calloc(1, sizeof(*trust));

	if (!trust) {
		errno = ENOMEM;
		return NULL;
	}
	trust->min_signers = 1;
	return trust;
}

void bpk_trust__free(struct bpk_trust *trust)
{
	size_t i;

	if (!trust)
		return;
	for (i = 0; i < trust->cnt; i++)
		bpk_trust_entry__free(trust->entries[i]);
	free(trust->entries);
	free(trust->dir);
	free(trust->policy_file);
	free(trust);
}

int bpk_trust__add_entry(struct bpk_trust *trust, struct bpk_trust_entry *entry)
{
	struct bpk_trust_entry **grown;

	if (!trust || !entry) {
		bpk_trust_entry__free(entry);
		return -EINVAL;
	}
	/* One key, one entry: two would leave open which names apply. */
	if (bpk_trust__find(trust, entry->keyid)) {
		bpk_trust_entry__free(entry);
		return -EEXIST;
	}
	grown = reallocarray(trust->entries, trust->cnt + 1, sizeof(*grown));
	if (!grown) {
		bpk_trust_entry__free(entry);
		return -ENOMEM;
	}
	trust->entries = grown;
	trust->entries[trust->cnt++] = entry;
	return 0;
}

int bpk_trust__set_min_signers(struct bpk_trust *trust, unsigned int min_signers)
{
	if (!trust || min_signers < 1 || min_signers > BPK_SIG_MAX)
		return -EINVAL;
	trust->min_signers = min_signers;
	return 0;
}

static int parse_policy(struct bpk_trust *trust, const void *buf, size_t len, const char *file,
			struct bpk_error *error)
{
	_cleanup_json_ json_t *root = NULL;
	json_error_t jerr;
	const char *key;
	json_t *v;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return bad_file(error, -EINVAL, file, NULL,
				"is not valid JSON: %s at line %d, column %d", jerr.text,
				jerr.line, jerr.column);
	if (!json_is_object(root))
		return bad_file(error, -EINVAL, file, NULL, "must hold a JSON object, not %s",
				json_kind(root));
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "min_signers")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > BPK_SIG_MAX)
				return bad_file(error, -EINVAL, file, "min_signers",
						"must be an integer from 1 to %d", BPK_SIG_MAX);
			trust->min_signers = (unsigned int)json_integer_value(v);
		} else if (!strcmp(key, "deny")) {
			json_t *id;
			size_t i;

			/* An unknown id is refused: ignoring it would trust more than meant. */
			if (!json_is_array(v))
				return bad_file(error, -EINVAL, file, "deny",
						"must be a list of capability ids");
			json_array_foreach(v, i, id) {
				enum bpk_capability cap;

				if (!json_is_string(id) ||
				    bpk_capability__from_id(json_string_value(id), &cap))
					return bad_file(error, -EINVAL, file, "deny",
							"entry %zu is not a capability id (see docs/spec/capabilities.md)",
							i);
				trust->deny[cap] = true;
			}
		} else {
			return bad_file(error, -EINVAL, file, NULL,
					"has an unknown field \"%.64s\"",
					printable(key) ? key : "?");
		}
	}
	trust->policy_file = strdup(file);
	return trust->policy_file ? 0 : -ENOMEM;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir that the policy reads, sorted bytewise (not by locale). */
static int policy_names(const char *dir, char ***ret_names, size_t *ret_cnt)
{
	char **names = NULL, **grown;
	size_t cnt = 0, len;
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		if (cnt >= ENTRIES_MAX + 1) {
			err = -E2BIG;
			break;
		}
		grown = reallocarray(names, cnt + 2, sizeof(*names));
		if (!grown) {
			err = -ENOMEM;
			break;
		}
		names = grown;
		names[cnt] = strdup(de->d_name);
		names[cnt + 1] = NULL;
		if (!names[cnt]) {
			err = -ENOMEM;
			break;
		}
		cnt++;
	}
	if (!err && errno)
		err = -errno;
	closedir(d);
	if (err) {
		bpk_free_names(names);
		return err;
	}
	if (cnt)
		qsort(names, cnt, sizeof(*names), cmp_names);
	*ret_names = names;
	*ret_cnt = cnt;
	return 0;
}

/* Read one file of the directory into trust. */
static int load_file(struct bpk_trust *trust, const char *dir, const char *name,
		     struct bpk_error *error)
{
	_cleanup_free_ char *path = path_join(dir, name), *data = NULL;
	const struct bpk_trust_entry *other;
	struct bpk_trust_entry *e;
	size_t len = 0;
	struct stat st;
	int err;

	if (!path)
		return -ENOMEM;
	/* stat, not lstat: a policy file may be a symlink into configuration management. */
	if (stat(path, &st) < 0)
		return bad_file(error, -errno, path, NULL, "cannot be read: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return bad_file(error, -EINVAL, path, NULL, "is not a regular file");
	err = read_file(path, BPK_TRUST_FILE_MAX, &data, &len);
	if (err == -EFBIG)
		return bad_file(error, -EINVAL, path, NULL, "is larger than %u bytes",
				BPK_TRUST_FILE_MAX);
	if (err)
		return bad_file(error, err, path, NULL, "cannot be read: %s", strerror(-err));
	if (!strcmp(name, BPK_TRUST_POLICY_FILE))
		return parse_policy(trust, data, len, path, error);
	e = bpk_trust_entry__parse(data, len, path, error);
	if (!e)
		return -errno;
	other = bpk_trust__find(trust, e->keyid);
	if (other) {
		err = bad_file(error, -EINVAL, path, "keyid", "key %s is also pinned by '%s'",
			       e->keyid, other->file);
		bpk_trust_entry__free(e);
		return err;
	}
	return bpk_trust__add_entry(trust, e);
}

struct bpk_trust *bpk_trust__load_dir(const char *dir, struct bpk_error *error)
{
	struct bpk_trust *trust;
	char **names = NULL;
	size_t cnt = 0, i;
	int err;

	if (!dir) {
		errno = EINVAL;
		return NULL;
	}
	trust = bpk_trust__new();
	if (!trust)
		return NULL;
	trust->dir = strdup(dir);
	if (!trust->dir) {
		err = -ENOMEM;
		goto fail;
	}
	err = policy_names(dir, &names, &cnt);
	if (err == -E2BIG)
		err = bad_file(error, -EINVAL, dir, NULL, "holds more than %d trust files",
			       ENTRIES_MAX);
	else if (err)
		err = bad_file(error, err, dir, NULL, "cannot be read: %s", strerror(-err));
	for (i = 0; !err && i < cnt; i++)
		err = load_file(trust, dir, names[i], error);
	bpk_free_names(names);
	if (err)
		goto fail;
	return trust;
fail:
	bpk_trust__free(trust);
	errno = -err;
	return NULL;
}

const char *bpk_trust__dir(const struct bpk_trust *trust)
{
	return trust->dir;
}

unsigned int bpk_trust__min_signers(const struct bpk_trust *trust)
{
	return trust->min_signers;
}

const char *bpk_trust__policy_file(const struct bpk_trust *trust)
{
	return trust->policy_file;
}

size_t bpk_trust__entry_cnt(const struct bpk_trust *trust)
{
	return trust->cnt;
}

const struct bpk_trust_entry *bpk_trust__entry(const struct bpk_trust *trust, size_t idx)
{
	return idx < trust->cnt ? trust->entries[idx] : NULL;
}

const struct bpk_trust_entry *bpk_trust__find(const struct bpk_trust *trust, const char *keyid)
{
	size_t i;

	if (!trust || !keyid)
		return NULL;
	for (i = 0; i < trust->cnt; i++)
		if (!strcmp(trust->entries[i]->keyid, keyid))
			return trust->entries[i];
	return NULL;
}

int bpk_trust__find_prefix(const struct bpk_trust *trust, const char *prefix,
			   const struct bpk_trust_entry **ret_entry)
{
	const struct bpk_trust_entry *found = NULL;
	size_t i, n;

	if (!trust || !prefix || !is_hex_prefix(prefix, PREFIX_MIN, BPK_KEYID_HEX_LEN))
		return -EINVAL;
	n = strlen(prefix);
	for (i = 0; i < trust->cnt; i++) {
		if (strncmp(trust->entries[i]->keyid, prefix, n))
			continue;
		if (found)
			return -ENOTUNIQ;
		found = trust->entries[i];
	}
	if (!found)
		return -ENOENT;
	*ret_entry = found;
	return 0;
}

/* One entry as JSON (new reference), for listings and for the file bpk trust add writes. */
static json_t *entry_json(const char *keyid, const char *file, const char *pem,
			  char *const *names, size_t name_cnt, const char *comment,
			  const char *added)
{
	json_t *root = json_object(), *list;
	size_t i;

	if (!root || json_object_set_new(root, "keyid", json_string(keyid)))
		goto fail;
	if (file && json_object_set_new(root, "file", json_string(file)))
		goto fail;
	if (pem && json_object_set_new(root, "public_key", json_string(pem)))
		goto fail;
	if (name_cnt) {
		list = json_array();
		if (json_object_set_new(root, "names", list))
			goto fail;
		for (i = 0; i < name_cnt; i++)
			if (json_array_append_new(list, json_string(names[i])))
				goto fail;
	} else if (file && json_object_set_new(root, "names", json_null())) {
		/* A listing says "every name" explicitly; the file says it by leaving it out. */
		goto fail;
	}
	if (comment && json_object_set_new(root, "comment", json_string(comment)))
		goto fail;
	if (added && json_object_set_new(root, "added", json_string(added)))
		goto fail;
	return root;
fail:
	json_decref(root);
	return NULL;
}

char *bpk_trust__to_json(const struct bpk_trust *trust)
{
	_cleanup_json_ json_t *root = NULL;
	json_t *keys = json_array();
	size_t i;

	root = json_pack("{s:o, s:o, s:I, s:o}", "dir",
			 trust->dir ? json_string(trust->dir) : json_null(), "policy_file",
			 trust->policy_file ? json_string(trust->policy_file) : json_null(),
			 "min_signers", (json_int_t)trust->min_signers, "keys", keys);
	if (!root)
		return NULL;
	for (i = 0; i < trust->cnt; i++) {
		const struct bpk_trust_entry *e = trust->entries[i];

		if (json_array_append_new(keys, entry_json(e->keyid, e->file, NULL, e->names,
							   e->name_cnt, e->comment, e->added)))
			return NULL;
	}
	return bpk_json_dump(root, NULL);
}

/* ---- editing ---- */

/* The directory's policy; a missing directory is an empty one when create is set. */
static struct bpk_trust *load_for_edit(const char *dir, bool create, struct bpk_error *error,
				       int *ret_err)
{
	struct bpk_trust *trust;
	struct stat st;
	int err;

	if (create && stat(dir, &st) < 0 && errno == ENOENT) {
		err = mkdir_p(dir, 0755);
		if (err) {
			*ret_err = bad_file(error, err, dir, NULL, "cannot be created: %s",
					    strerror(-err));
			return NULL;
		}
	}
	trust = bpk_trust__load_dir(dir, error);
	if (!trust)
		*ret_err = -errno;
	return trust;
}

int bpk_trust__add(const char *dir, const struct bpk_key *key,
		   const struct bpk_trust_add_opts *opts, struct bpk_error *error,
		   struct bpk_trust_entry **ret_entry)
{
	const char *const *names = OPTS_GET(opts, names, NULL);
	size_t name_cnt = OPTS_GET(opts, name_cnt, 0), i, j, len = 0;
	const char *comment = OPTS_GET(opts, comment, NULL);
	bool force = OPTS_GET(opts, force, false);
	char *pem = NULL, *path = NULL, *text = NULL;
	const struct bpk_trust_entry *old;
	json_t *root = NULL;
	struct bpk_trust_entry *e = NULL;
	struct bpk_trust *trust = NULL;
	char added[32];
	struct stat st;
	struct tm tm;
	time_t now;
	int err = 0;

	if (!dir || !key || (name_cnt && !names))
		return -EINVAL;
	for (i = 0; i < name_cnt; i++) {
		if (!bpk_trust_pattern__valid(names[i]))
			return bad_file(error, -EINVAL, dir, "names",
					"\"%.*s\" is not a name pattern ([a-z0-9._-], '*', '?' and "
					"at most one '/' between two non-empty parts)",
					PATTERN_MAX, names[i] ?: "");
		for (j = 0; j < i; j++)
			if (!strcmp(names[i], names[j]))
				return bad_file(error, -EINVAL, dir, "names",
						"\"%s\" is given twice", names[i]);
	}
	if (comment && (!printable(comment) || strlen(comment) > BPK_TRUST_COMMENT_MAX))
		return bad_file(error, -EINVAL, dir, "comment",
				"must be printable text of at most %d bytes",
				BPK_TRUST_COMMENT_MAX);
	trust = load_for_edit(dir, true, error, &err);
	if (!trust)
		return err;
	old = bpk_trust__find(trust, bpk_key__id(key));
	if (old && !force) {
		err = bpk_error__set(error, old->file, NULL, "key %s is already trusted by '%s'",
				     bpk_key__id(key), old->file) ?: -EEXIST;
		goto out;
	}
	path = old ? strdup(old->file) : xasprintf("%s/%s.json", dir, bpk_key__id(key));
	if (!path) {
		err = -ENOMEM;
		goto out;
	}
	/* A file of that name that pins nothing would be broken; do not write over it. */
	if (!old && !force && lstat(path, &st) == 0) {
		err = bad_file(error, -EEXIST, path, NULL, "already exists");
		goto out;
	}
	now = time(NULL);
	if (!gmtime_r(&now, &tm) || !strftime(added, sizeof(added), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		err = -EINVAL;
		goto out;
	}
	pem = bpk_key__public_pem(key, NULL);
	if (!pem) {
		err = -ENOMEM;
		goto out;
	}
	root = entry_json(bpk_key__id(key), NULL, pem, (char *const *)names, name_cnt, comment,
			  added);
	text = root ? bpk_json_dump(root, &len) : NULL;
	if (!text) {
		/* jansson refuses strings that are not UTF-8: the only input it may refuse. */
		err = comment ? bad_file(error, -EINVAL, dir, "comment", "is not valid UTF-8")
			      : -ENOMEM;
		goto out;
	}
	/* What is written must load: parse it back first. */
	e = bpk_trust_entry__parse(text, len, path, error);
	if (!e) {
		err = -errno;
		goto out;
	}
	err = write_file_atomic(path, text, len, 0644);
	if (err) {
		err = bad_file(error, err, path, NULL, "cannot be written: %s", strerror(-err));
		goto out;
	}
	if (ret_entry)
		*ret_entry = TAKE_PTR(e);
out:
	json_decref(root);
	free(text);
	free(path);
	free(pem);
	bpk_trust_entry__free(e);
	bpk_trust__free(trust);
	return err;
}

/* Make a removal in dir durable, as write_file_atomic() does for a write. */
static void sync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		fsync(fd);
}

/* Why several keys match prefix, listed for the message. Returns 0 or -ENOMEM. */
static int ambiguous(const struct bpk_trust *trust, const char *prefix, struct bpk_error *error)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, n = strlen(prefix);
	int err = 0;

	for (i = 0; !err && i < trust->cnt; i++)
		if (!strncmp(trust->entries[i]->keyid, prefix, n))
			err = strbuf_addf(&sb, "%s%s ('%s')", sb.len ? ", " : "",
					  trust->entries[i]->keyid, trust->entries[i]->file);
	if (!err)
		err = bpk_error__set(error, NULL, NULL,
				     "key id prefix %s is ambiguous: it matches %s", prefix,
				     sb.buf);
	strbuf_release(&sb);
	return err ?: -ENOTUNIQ;
}

int bpk_trust__remove(const char *dir, const char *keyid, struct bpk_error *error,
		      struct bpk_trust_entry **ret_entry)
{
	const struct bpk_trust_entry *found = NULL;
	struct bpk_trust *trust = NULL;
	char lower[BPK_KEYID_HEX_LEN + 1];
	size_t i;
	int err = 0;

	if (!dir || !keyid)
		return -EINVAL;
	/* Key ids are shown in lowercase, but one pasted in capitals names the same key. */
	for (i = 0; keyid[i] && i < BPK_KEYID_HEX_LEN; i++)
		lower[i] = keyid[i] >= 'A' && keyid[i] <= 'F' ? (char)(keyid[i] - 'A' + 'a')
							      : keyid[i];
	lower[i] = '\0';
	if (keyid[i] || !is_hex_prefix(lower, PREFIX_MIN, BPK_KEYID_HEX_LEN))
		return bpk_error__set(error, NULL, NULL,
				      "'%.80s' is not a key id or a prefix of one (%d to %d hex "
				      "digits)", printable(keyid) ? keyid : "?", PREFIX_MIN,
				      BPK_KEYID_HEX_LEN) ?: -EINVAL;
	trust = load_for_edit(dir, false, error, &err);
	if (!trust)
		return err;
	err = bpk_trust__find_prefix(trust, lower, &found);
	if (err == -ENOENT)
		err = bpk_error__set(error, NULL, NULL, "no key in '%s' has an id starting with %s",
				     dir, lower) ?: -ENOENT;
	else if (err == -ENOTUNIQ)
		err = ambiguous(trust, lower, error);
	if (err)
		goto out;
	if (unlink(found->file) < 0) {
		err = bad_file(error, -errno, found->file, NULL, "cannot be removed: %s",
			       strerror(errno));
		goto out;
	}
	sync_dir(dir);
	if (ret_entry) {
		for (i = 0; i < trust->cnt; i++)
			if (trust->entries[i] == found)
				break;
		*ret_entry = trust->entries[i];
		trust->entries[i] = trust->entries[--trust->cnt];
	}
out:
	bpk_trust__free(trust);
	return err;
}

bool bpk_trust__denies(const struct bpk_trust *trust, enum bpk_capability cap)
{
	return trust && (unsigned int)cap < BPK_CAP_CNT && trust->deny[cap];
}

int bpk_trust__set_deny(struct bpk_trust *trust, enum bpk_capability cap, bool deny)
{
	if (!trust || (unsigned int)cap >= BPK_CAP_CNT)
		return -EINVAL;
	trust->deny[cap] = deny;
	return 0;
}

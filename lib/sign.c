// SPDX-License-Identifier: BSD-2-Clause
/* Package signatures (level 1): keys, the bpk.sig format, signing, and the verify verdict. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "bpk_internal.h"
#include "crypto.h"

/* bpk.sig holds a few hundred bytes a signer; anything near this is not a bpk.sig. */
#define SIGFILE_MAX (64U << 10)
/* Longest "alg" and non-Ed25519 "sig" kept from a bpk.sig written by a newer bpk. */
#define ALG_MAX 32
#define FOREIGN_SIG_MAX (16U << 10)
/* A key file is a PEM block of a few hundred bytes. */
#define KEY_FILE_MAX (64U << 10)
/* How much of an untrusted string a message repeats. */
#define SHOWN_MAX 80

/* ---- errors ---- */

void bpk_error__release(struct bpk_error *error)
{
	if (!error)
		return;
	free(error->file);
	free(error->field);
	free(error->message);
	error->file = error->field = error->message = NULL;
}

static int error_vset(struct bpk_error *error, const char *file, const char *field,
		      const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static int error_vset(struct bpk_error *error, const char *file, const char *field,
		      const char *fmt, va_list ap)
{
	char *message = NULL, *f = NULL, *fl = NULL;

	if (!error)
		return 0;
	if (vasprintf(&message, fmt, ap) < 0)
		return -ENOMEM;
	if ((file && !(f = strdup(file))) || (field && !(fl = strdup(field)))) {
		free(message);
		free(f);
		return -ENOMEM;
	}
	bpk_error__release(error);
	error->file = f;
	error->field = fl;
	error->message = message;
	return 0;
}

int bpk_error__set(struct bpk_error *error, const char *file, const char *field, const char *fmt,
		   ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = error_vset(error, file, field, fmt, ap);
	va_end(ap);
	return err;
}

/* Record a refusal and return code (or -ENOMEM if even that failed). */
static int fail(struct bpk_error *error, int code, const char *file, const char *field,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(struct bpk_error *error, int code, const char *file, const char *field,
		const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = error_vset(error, file, field, fmt, ap);
	va_end(ap);
	return err ?: code;
}

/* Untrusted text from bpk.sig, fit to quote in a reason (quotes escaped too). */
static char *shown(const char *s)
{
	return str_shown(s, SHOWN_MAX, "'\"");
}

static bool is_keyid(const char *s)
{
	size_t i;

	for (i = 0; i < BPK_KEYID_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[BPK_KEYID_HEX_LEN] == '\0';
}

/* ---- keys ---- */

struct bpk_key {
	EVP_PKEY *pkey;
	bool has_private;
	char id[BPK_KEYID_LEN + 1];
};

void bpk_key__free(struct bpk_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

/* Wrap pkey (taken over, also on failure) in a bpk_key. */
static struct bpk_key *key_new(EVP_PKEY *pkey, bool has_private)
{
	struct bpk_key *key = calloc(1, sizeof(*key));
	int err;

	if (!key) {
		EVP_PKEY_free(pkey);
		errno = ENOMEM;
		return NULL;
	}
	key->pkey = pkey;
	key->has_private = has_private;
	err = bpk_key_id(pkey, key->id);
	if (err) {
		bpk_key__free(key);
		errno = -err;
		return NULL;
	}
	return key;
}

struct bpk_key *bpk_key__generate(void)
{
	EVP_PKEY *pkey = bpk_ed25519_generate();

	if (!pkey) {
		ERR_clear_error();
		errno = EIO;
		return NULL;
	}
	return key_new(pkey, true);
}

struct bpk_key *bpk_key__from_pem(const void *pem, size_t len)
{
	bool private_part;
	EVP_PKEY *pkey;

	if (!pem) {
		errno = EINVAL;
		return NULL;
	}
	private_part = memmem(pem, len, "-----BEGIN PRIVATE KEY-----", 27) != NULL;
	pkey = bpk_key_from_pem(pem, len, private_part);
	if (!pkey)
		return NULL;
	return key_new(pkey, private_part);
}

struct bpk_key *bpk_key__load(const char *path)
{
	_cleanup_free_ char *pem = NULL;
	struct bpk_key *key;
	size_t len = 0;
	int err;

	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	err = read_file(path, KEY_FILE_MAX, &pem, &len);
	if (err) {
		errno = err == -EFBIG ? EINVAL : -err;
		return NULL;
	}
	key = bpk_key__from_pem(pem, len);
	err = errno;
	OPENSSL_cleanse(pem, len);
	errno = err;
	return key;
}

bool bpk_key__has_private(const struct bpk_key *key)
{
	return key && key->has_private;
}

const char *bpk_key__id(const struct bpk_key *key)
{
	return key->id;
}

char *bpk_key__public_pem(const struct bpk_key *key, size_t *ret_len)
{
	char *pem = bpk_key_to_pem(key->pkey, false, ret_len);

	ERR_clear_error();
	return pem;
}

/* Create path with O_EXCL and write data to disk. Returns 0 or a negative errno. */
static int create_exclusive(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd, err;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	err = write_all(fd, data, len);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (err)
		unlink(path);
	return err;
}

int bpk_key__save(const struct bpk_key *key, const char *base)
{
	char *priv_path = NULL, *pub_path = NULL, *pub = NULL, *priv = NULL;
	size_t priv_len = 0, pub_len = 0;
	int err;

	if (!key || !base || !*base || !key->has_private)
		return -EINVAL;
	priv_path = xasprintf("%s.pem", base);
	pub_path = xasprintf("%s.pub", base);
	pub = bpk_key__public_pem(key, &pub_len);
	priv = bpk_key_to_pem(key->pkey, true, &priv_len);
	ERR_clear_error();
	if (!priv_path || !pub_path || !pub || !priv) {
		err = -ENOMEM;
		goto out;
	}
	/* Fail early, before the private key is on disk, when the public file is in the way. */
	if (access(pub_path, F_OK) == 0) {
		err = -EEXIST;
		goto out;
	}
	/* 0600 from creation on: the private key is never readable by others, not even briefly. */
	err = create_exclusive(priv_path, priv, priv_len, 0600);
	if (err)
		goto out;
	err = create_exclusive(pub_path, pub, pub_len, 0644);
	if (err)
		unlink(priv_path);
out:
	if (priv) {
		OPENSSL_cleanse(priv, priv_len);
		free(priv);
	}
	free(pub);
	free(pub_path);
	free(priv_path);
	return err;
}

/* ---- bpk.sig ---- */

struct sig_item {
	char *keyid;
	char *alg;
	char *sig_text;		/* "sig" as written (base64 for ed25519) */
	unsigned char sig[BPK_ED25519_SIG_LEN];
	bool is_ed25519;
};

struct bpk_sigfile {
	struct sig_item *items;
	size_t cnt;
};

void bpk_sigfile__free(struct bpk_sigfile *sigs)
{
	size_t i;

	if (!sigs)
		return;
	for (i = 0; i < sigs->cnt; i++) {
		free(sigs->items[i].keyid);
		free(sigs->items[i].alg);
		free(sigs->items[i].sig_text);
	}
	free(sigs->items);
	free(sigs);
}

struct bpk_sigfile *bpk_sigfile__new(void)
{
	struct bpk_sigfile *sigs = calloc(1, sizeof(*sigs));

	if (!sigs)
		errno = ENOMEM;
	return sigs;
}

size_t bpk_sigfile__cnt(const struct bpk_sigfile *sigs)
{
	return sigs ? sigs->cnt : 0;
}

const char *bpk_sigfile__keyid(const struct bpk_sigfile *sigs, size_t idx)
{
	return sigs && idx < sigs->cnt ? sigs->items[idx].keyid : NULL;
}

const char *bpk_sigfile__alg(const struct bpk_sigfile *sigs, size_t idx)
{
	return sigs && idx < sigs->cnt ? sigs->items[idx].alg : NULL;
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

static bool valid_alg(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return i > 0 && i <= ALG_MAX;
}

/*
 * The string member key of an entry of bpk.sig, or NULL after recording why. A string with
 * a NUL inside is refused: what C sees must be all there is.
 */
static const char *sig_string(json_t *obj, const char *key, const char *where,
			      struct bpk_error *error, int *err)
{
	char field[64];
	json_t *v = json_object_get(obj, key);

	snprintf(field, sizeof(field), "%s.%s", where, key);
	if (!v) {
		*err = fail(error, -EINVAL, BPK_SIGNATURE_PATH, field, "bpk.sig: '%s' is missing",
			    field);
		return NULL;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		*err = fail(error, -EINVAL, BPK_SIGNATURE_PATH, field,
			    "bpk.sig: '%s' must be a string without NUL bytes, not %s", field,
			    json_is_string(v) ? "one with a NUL byte" : json_kind(v));
		return NULL;
	}
	return json_string_value(v);
}

static int parse_item(json_t *obj, size_t idx, struct sig_item *it, struct bpk_error *error)
{
	const char *keyid, *alg, *sig, *key;
	_cleanup_free_ unsigned char *raw = NULL;
	_cleanup_free_ char *bad = NULL;
	char where[48], field[80];
	size_t raw_len = 0;
	json_t *v;
	int err = 0;

	snprintf(where, sizeof(where), "signatures[%zu]", idx);
	if (!json_is_object(obj))
		return fail(error, -EINVAL, BPK_SIGNATURE_PATH, where,
			    "bpk.sig: '%s' must be an object, not %s", where, json_kind(obj));
	json_object_foreach(obj, key, v) {
		if (strcmp(key, "keyid") && strcmp(key, "alg") && strcmp(key, "sig")) {
			bad = shown(key);
			if (!bad)
				return -ENOMEM;
			snprintf(field, sizeof(field), "%s.%s", where, bad);
			return fail(error, -EINVAL, BPK_SIGNATURE_PATH, field,
				    "bpk.sig: '%s' has an unknown field '%s'", where, bad);
		}
	}
	keyid = sig_string(obj, "keyid", where, error, &err);
	if (!keyid)
		return err;
	alg = sig_string(obj, "alg", where, error, &err);
	if (!alg)
		return err;
	sig = sig_string(obj, "sig", where, error, &err);
	if (!sig)
		return err;
	if (!is_keyid(keyid)) {
		bad = shown(keyid);
		snprintf(field, sizeof(field), "%s.keyid", where);
		return bad ? fail(error, -EINVAL, BPK_SIGNATURE_PATH, field,
				  "bpk.sig: '%s': '%s' is not a key id (64 lowercase hex digits)",
				  field, bad)
			   : -ENOMEM;
	}
	if (!valid_alg(alg)) {
		bad = shown(alg);
		snprintf(field, sizeof(field), "%s.alg", where);
		return bad ? fail(error, -EINVAL, BPK_SIGNATURE_PATH, field,
				  "bpk.sig: '%s': '%s' is not an algorithm name ([a-z0-9-], 1 to %d"
				  " characters)", field, bad, ALG_MAX)
			   : -ENOMEM;
	}
	snprintf(field, sizeof(field), "%s.sig", where);
	it->is_ed25519 = !strcmp(alg, BPK_SIG_ALG_ED25519);
	if (it->is_ed25519) {
		err = bpk_base64_decode(sig, &raw, &raw_len);
		if (err == -ENOMEM)
			return err;
		if (err)
			return fail(error, -EINVAL, BPK_SIGNATURE_PATH, field,
				    "bpk.sig: '%s' is not base64", field);
		if (raw_len != BPK_ED25519_SIG_LEN)
			return fail(error, -EINVAL, BPK_SIGNATURE_PATH, field,
				    "bpk.sig: '%s' decodes to %zu bytes; an Ed25519 signature is"
				    " %d bytes", field, raw_len, BPK_ED25519_SIG_LEN);
		memcpy(it->sig, raw, BPK_ED25519_SIG_LEN);
	} else if (strlen(sig) > FOREIGN_SIG_MAX) {
		return fail(error, -EINVAL, BPK_SIGNATURE_PATH, field,
			    "bpk.sig: '%s' is longer than %u bytes", field, FOREIGN_SIG_MAX);
	}
	it->keyid = strdup(keyid);
	it->alg = strdup(alg);
	it->sig_text = strdup(sig);
	if (!it->keyid || !it->alg || !it->sig_text)
		return -ENOMEM;
	return 0;
}

/* Check a parsed bpk.sig and fill sigs. Returns 0 or a negative errno (error says why). */
static int parse_sigfile(json_t *root, struct bpk_sigfile *sigs, struct bpk_error *error)
{
	_cleanup_free_ char *bad = NULL;
	json_t *list, *v;
	const char *key;
	char field[48];
	size_t i, j;
	int err;

	if (!json_is_object(root))
		return fail(error, -EINVAL, BPK_SIGNATURE_PATH, NULL,
			    "bpk.sig must hold a JSON object, not %s", json_kind(root));
	json_object_foreach(root, key, v) {
		if (strcmp(key, "signatures")) {
			bad = shown(key);
			return bad ? fail(error, -EINVAL, BPK_SIGNATURE_PATH, bad,
					  "bpk.sig has an unknown field '%s'", bad)
				   : -ENOMEM;
		}
	}
	list = json_object_get(root, "signatures");
	if (!json_is_array(list))
		return fail(error, -EINVAL, BPK_SIGNATURE_PATH, "signatures",
			    "bpk.sig: 'signatures' must be a list, not %s",
			    list ? json_kind(list) : "missing");
	if (json_array_size(list) > BPK_SIG_MAX)
		return fail(error, -EINVAL, BPK_SIGNATURE_PATH, "signatures",
			    "bpk.sig holds %zu signatures, past the limit of %d",
			    json_array_size(list), BPK_SIG_MAX);
	sigs->items = calloc(json_array_size(list) ?: 1, sizeof(*sigs->items));
	if (!sigs->items)
		return -ENOMEM;
	json_array_foreach(list, i, v) {
		err = parse_item(v, i, &sigs->items[i], error);
		/* Counted even on failure, so that free releases what was half filled. */
		sigs->cnt++;
		if (err)
			return err;
		/* One key counted twice would fake a second signer. */
		for (j = 0; j < i; j++) {
			if (strcmp(sigs->items[j].keyid, sigs->items[i].keyid))
				continue;
			snprintf(field, sizeof(field), "signatures[%zu].keyid", i);
			return fail(error, -EINVAL, BPK_SIGNATURE_PATH, field,
				    "bpk.sig: key %s signs twice (signatures[%zu] and [%zu])",
				    sigs->items[i].keyid, j, i);
		}
	}
	return 0;
}

struct bpk_sigfile *bpk_sigfile__parse(const void *buf, size_t len, struct bpk_error *error)
{
	_cleanup_json_ json_t *root = NULL;
	struct bpk_sigfile *sigs;
	json_error_t jerr;
	int err;

	if (!buf && len) {
		errno = EINVAL;
		return NULL;
	}
	if (len > SIGFILE_MAX) {
		errno = -fail(error, -EINVAL, BPK_SIGNATURE_PATH, NULL,
			      "bpk.sig is %zu bytes, past the limit of %u", len, SIGFILE_MAX);
		return NULL;
	}
	root = json_loadb(buf ?: "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		errno = -fail(error, -EINVAL, BPK_SIGNATURE_PATH, NULL,
			      "bpk.sig is not valid JSON: %s at line %d, column %d", jerr.text,
			      jerr.line, jerr.column);
		return NULL;
	}
	sigs = bpk_sigfile__new();
	if (!sigs)
		return NULL;
	err = parse_sigfile(root, sigs, error);
	if (err) {
		bpk_sigfile__free(sigs);
		errno = -err;
		return NULL;
	}
	return sigs;
}

int bpk_sigfile__sign(struct bpk_sigfile *sigs, const struct bpk_key *key, const void *manifest,
		      size_t manifest_len, bool *ret_replaced)
{
	unsigned char sig[BPK_ED25519_SIG_LEN];
	struct sig_item item = { 0 }, *items;
	size_t i;
	int err;

	if (!sigs || !key || !key->has_private || (!manifest && manifest_len))
		return -EINVAL;
	err = bpk_ed25519_sign(key->pkey, manifest ?: "", manifest_len, sig);
	/* Checked at once: a fault while signing must not ship a signature that fails later. */
	if (!err && !bpk_ed25519_verify(key->pkey, manifest ?: "", manifest_len, sig, sizeof(sig)))
		err = -EINVAL;
	ERR_clear_error();
	if (err)
		return err;
	item.keyid = strdup(key->id);
	item.alg = strdup(BPK_SIG_ALG_ED25519);
	item.sig_text = bpk_base64_encode(sig, sizeof(sig));
	item.is_ed25519 = true;
	memcpy(item.sig, sig, sizeof(sig));
	if (!item.keyid || !item.alg || !item.sig_text) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < sigs->cnt; i++) {
		if (strcmp(sigs->items[i].keyid, key->id))
			continue;
		free(sigs->items[i].keyid);
		free(sigs->items[i].alg);
		free(sigs->items[i].sig_text);
		sigs->items[i] = item;
		if (ret_replaced)
			*ret_replaced = true;
		return 0;
	}
	if (sigs->cnt >= BPK_SIG_MAX) {
		err = -E2BIG;
		goto fail;
	}
	items = reallocarray(sigs->items, sigs->cnt + 1, sizeof(*items));
	if (!items) {
		err = -ENOMEM;
		goto fail;
	}
	sigs->items = items;
	sigs->items[sigs->cnt++] = item;
	if (ret_replaced)
		*ret_replaced = false;
	return 0;
fail:
	free(item.keyid);
	free(item.alg);
	free(item.sig_text);
	return err;
}

char *bpk_sigfile__emit(const struct bpk_sigfile *sigs, size_t *ret_len)
{
	_cleanup_json_ json_t *root = NULL;
	json_t *list = json_array();
	size_t i;

	root = json_pack("{s:o}", "signatures", list);
	if (!root)
		return NULL;
	for (i = 0; i < sigs->cnt; i++)
		if (json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "keyid",
							  sigs->items[i].keyid, "alg",
							  sigs->items[i].alg, "sig",
							  sigs->items[i].sig_text)))
			return NULL;
	return bpk_json_dump(root, ret_len);
}

/* ---- rewriting packages ---- */

/*
 * The entries of a package, with their modes. bpk_pkg keeps each entry's bytes but not its
 * mode, so the tar headers are read once more for the executable bit: a rewrite must not
 * turn a 0755 tool into 0644. The container was already checked by bpk_pkg__open_mem.
 */
static int exec_paths(const void *buf, size_t len, char ***ret_paths, size_t *ret_cnt)
{
	struct archive_entry *entry;
	char **paths = NULL, **grown;
	size_t cnt = 0;
	struct archive *a;
	int err = 0, r;

	a = archive_read_new();
	if (!a)
		return -ENOMEM;
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		err = -EINVAL;
		goto out;
	}
	while ((r = archive_read_next_header(a, &entry)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK) {
			err = -EINVAL;
			goto out;
		}
		if (!(archive_entry_perm(entry) & 0111) || !archive_entry_pathname(entry))
			continue;
		grown = reallocarray(paths, cnt + 2, sizeof(*paths));
		if (!grown) {
			err = -ENOMEM;
			goto out;
		}
		paths = grown;
		paths[cnt] = strdup(archive_entry_pathname(entry));
		paths[cnt + 1] = NULL;
		if (!paths[cnt]) {
			err = -ENOMEM;
			goto out;
		}
		cnt++;
	}
out:
	archive_read_free(a);
	if (err) {
		bpk_free_names(paths);
		return err;
	}
	*ret_paths = paths;
	*ret_cnt = cnt;
	return 0;
}

static bool in_list(char *const *list, size_t cnt, const char *s)
{
	size_t i;

	for (i = 0; i < cnt; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

/*
 * The package's entries (borrowed from pkg) but bpk.sig and those named in skip, with room
 * for extra more. Returns 0 or a negative errno.
 */
static int kept_entries(const struct bpk_pkg *pkg, const void *buf, size_t len,
			const struct bpk_pkg_entry *skip, size_t skip_cnt, size_t extra,
			struct bpk_pkg_entry **ret_entries, size_t *ret_cnt)
{
	size_t n = bpk_pkg__entry_cnt(pkg), i, j, cnt = 0, exec_cnt = 0;
	struct bpk_pkg_entry *entries;
	char **exec = NULL;
	int err;

	err = exec_paths(buf, len, &exec, &exec_cnt);
	if (err)
		return err;
	entries = calloc(n + extra + 1, sizeof(*entries));
	if (!entries) {
		bpk_free_names(exec);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct bpk_pkg_entry *e = &entries[cnt];

		e->path = bpk_pkg__entry(pkg, i, &e->data, &e->size);
		if (!strcmp(e->path, BPK_SIGNATURE_PATH))
			continue;
		for (j = 0; j < skip_cnt; j++)
			if (!strcmp(e->path, skip[j].path))
				break;
		if (j < skip_cnt)
			continue;
		e->executable = in_list(exec, exec_cnt, e->path);
		cnt++;
	}
	bpk_free_names(exec);
	*ret_entries = entries;
	*ret_cnt = cnt;
	return 0;
}

/* Open buf with every check; a refusal is put in error with the first diagnostic. */
static struct bpk_pkg *open_checked(const void *buf, size_t len, const char *what,
				    struct bpk_error *error, int *ret_err)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	const struct bpk_diag *d;
	struct bpk_pkg *pkg;

	pkg = bpk_pkg__open_mem(buf, len, NULL, &diags);
	if (!pkg) {
		d = bpk_diags__first_error(&diags);
		if (d)
			*ret_err = fail(error, -EINVAL, d->where, NULL,
					"cannot %s a broken package: %s", what, d->message);
		else
			*ret_err = errno ? -errno : -EINVAL;
	}
	bpk_diags__release(&diags);
	return pkg;
}

static int sign_mem(const void *buf, size_t len, const struct bpk_key *key,
		    struct bpk_error *error, void **ret_buf, size_t *ret_len, bool *ret_replaced)
{
	struct bpk_sigfile *sigs = NULL;
	struct bpk_pkg_entry *entries = NULL;
	const void *manifest, *old_sig;
	char *sig_text = NULL;
	size_t manifest_len, old_len, sig_len = 0, cnt = 0;
	bool replaced = false;
	struct bpk_pkg *pkg;
	int err = 0;

	if (!key || (!buf && len) || !ret_buf || !ret_len)
		return -EINVAL;
	if (!key->has_private)
		return fail(error, -EINVAL, NULL, NULL,
			    "key %s is a public key; signing needs the private key", key->id);
	pkg = open_checked(buf, len, "sign", error, &err);
	if (!pkg)
		return err;
	old_sig = bpk_pkg__file(pkg, BPK_SIGNATURE_PATH, &old_len);
	/* Signatures already there are kept, so one that cannot be read stops the signing. */
	sigs = old_sig ? bpk_sigfile__parse(old_sig, old_len, error) : bpk_sigfile__new();
	if (!sigs) {
		err = -errno;
		goto out;
	}
	manifest = bpk_pkg__manifest_bytes(pkg, &manifest_len);
	err = bpk_sigfile__sign(sigs, key, manifest, manifest_len, &replaced);
	if (err == -E2BIG)
		err = fail(error, -EINVAL, BPK_SIGNATURE_PATH, NULL,
			   "bpk.sig already holds %d signatures", BPK_SIG_MAX);
	if (err)
		goto out;
	sig_text = bpk_sigfile__emit(sigs, &sig_len);
	if (!sig_text) {
		err = -ENOMEM;
		goto out;
	}
	err = kept_entries(pkg, buf, len, NULL, 0, 1, &entries, &cnt);
	if (err)
		goto out;
	entries[cnt++] = (struct bpk_pkg_entry){ BPK_SIGNATURE_PATH, sig_text, sig_len, false };
	err = bpk_pkg__write_mem(entries, cnt, ret_buf, ret_len);
	if (!err && ret_replaced)
		*ret_replaced = replaced;
out:
	free(sig_text);
	free(entries);
	bpk_sigfile__free(sigs);
	bpk_pkg__free(pkg);
	return err;
}

int bpk_sign__mem(const void *buf, size_t len, const struct bpk_key *key, struct bpk_error *error,
		  void **ret_buf, size_t *ret_len)
{
	return sign_mem(buf, len, key, error, ret_buf, ret_len, NULL);
}

int bpk_sign__file(const char *path, const struct bpk_key *key, const struct bpk_sign_opts *opts,
		   struct bpk_error *error, bool *ret_replaced)
{
	const char *output = OPTS_GET(opts, output, NULL);
	_cleanup_free_ char *in = NULL;
	_cleanup_free_ void *out = NULL;
	size_t in_len = 0, out_len = 0;
	bool replaced = false;
	int err;

	if (!path || !key)
		return -EINVAL;
	err = read_file(path, BPK_DEFAULT_MAX_COMPRESSED, &in, &in_len);
	if (err == -EFBIG)
		return fail(error, err, path, NULL, "'%s' is larger than the limit of %llu bytes",
			    path, (unsigned long long)BPK_DEFAULT_MAX_COMPRESSED);
	if (err)
		return err;
	err = sign_mem(in, in_len, key, error, &out, &out_len, &replaced);
	if (err)
		return err;
	/* Temp file, fsync, rename: a reader sees the old package or the new, never half. */
	err = write_file_atomic(output ?: path, out, out_len, 0644);
	if (err)
		return fail(error, err, output ?: path, NULL, "cannot write '%s': %s",
			    output ?: path, strerror(-err));
	if (ret_replaced)
		*ret_replaced = replaced;
	return 0;
}

/* The manifest's JSON with "files" updated for entries. Caller frees. */
static int updated_manifest(const void *manifest, size_t manifest_len,
			    const struct bpk_pkg_entry *entries, size_t cnt,
			    struct bpk_error *error, char **ret_text, size_t *ret_len)
{
	_cleanup_json_ json_t *root = NULL;
	json_t *files, *line, *v;
	char digest[65];
	size_t i, j;
	int err;

	/* Parsed again (rather than from bpk_manifest) to keep every field and its order. */
	root = json_loadb(manifest, manifest_len, JSON_REJECT_DUPLICATES, NULL);
	files = root ? json_object_get(root, "files") : NULL;
	if (!json_is_array(files))
		return -EINVAL;
	for (i = 0; i < cnt; i++) {
		err = bpk_sha256_hex(entries[i].data ?: "", entries[i].size, digest);
		if (err)
			return err;
		line = json_pack("{s:s, s:s, s:I}", "path", entries[i].path, "sha256", digest,
				 "size", (json_int_t)entries[i].size);
		if (!line)
			return -ENOMEM;
		json_array_foreach(files, j, v)
			if (!strcmp(json_string_value(json_object_get(v, "path")) ?: "",
				    entries[i].path))
				break;
		if (j < json_array_size(files) ? json_array_set_new(files, j, line)
					       : json_array_append_new(files, line))
			return -ENOMEM;
	}
	*ret_text = bpk_json_dump(root, ret_len);
	if (!*ret_text)
		return fail(error, -ENOMEM, NULL, NULL, "out of memory");
	return 0;
}

int bpk_pkg__add_entries(const void *buf, size_t len, const struct bpk_pkg_entry *entries,
			 size_t cnt, const struct bpk_add_entries_opts *opts,
			 struct bpk_error *error, void **ret_buf, size_t *ret_len)
{
	bool drop = OPTS_GET(opts, drop_signatures, false);
	bool replace = OPTS_GET(opts, replace, false);
	struct bpk_pkg_entry *all = NULL;
	const void *old_manifest;
	char *manifest = NULL;
	void *out = NULL;
	size_t i, j, all_cnt = 0, manifest_len = 0, old_len, out_len = 0;
	struct bpk_pkg *pkg, *check;
	int err = 0;

	if ((!buf && len) || (cnt && !entries) || !ret_buf || !ret_len)
		return -EINVAL;
	for (i = 0; i < cnt; i++) {
		const char *p = entries[i].path;

		if (!bpk_pkg_path__valid(p) || (entries[i].size && !entries[i].data))
			return fail(error, -EINVAL, p, NULL, "'%s' is not a valid entry",
				    p ?: "(null)");
		if (!strcmp(p, BPK_MANIFEST_PATH) || !strcmp(p, BPK_SIGNATURE_PATH))
			return fail(error, -EINVAL, p, NULL,
				    "%s is written by bpk and cannot be added", p);
		for (j = 0; j < i; j++)
			if (!strcmp(entries[j].path, p))
				return fail(error, -EINVAL, p, NULL, "'%s' is given twice", p);
	}
	pkg = open_checked(buf, len, "add files to", error, &err);
	if (!pkg)
		return err;
	if (bpk_pkg__file(pkg, BPK_SIGNATURE_PATH, NULL) && !drop) {
		err = fail(error, -EEXIST, BPK_SIGNATURE_PATH, NULL,
			   "the package is signed, and adding files changes bpk.json: every "
			   "signature would be lost (drop them explicitly, then sign again)");
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		if (!replace && bpk_pkg__file(pkg, entries[i].path, NULL)) {
			err = fail(error, -EEXIST, entries[i].path, NULL,
				   "the package already has an entry '%s'", entries[i].path);
			goto out;
		}
	}
	old_manifest = bpk_pkg__manifest_bytes(pkg, &old_len);
	err = updated_manifest(old_manifest, old_len, entries, cnt, error, &manifest,
			       &manifest_len);
	if (err)
		goto out;
	err = kept_entries(pkg, buf, len, entries, cnt, cnt + 1, &all, &all_cnt);
	if (err)
		goto out;
	for (i = 0; i < all_cnt; i++)
		if (!strcmp(all[i].path, BPK_MANIFEST_PATH))
			all[i] = (struct bpk_pkg_entry){ BPK_MANIFEST_PATH, manifest, manifest_len,
							 false };
	for (i = 0; i < cnt; i++)
		all[all_cnt++] = entries[i];
	err = bpk_pkg__write_mem(all, all_cnt, &out, &out_len);
	if (err)
		goto out;
	/* Whatever was added (a file a directory clashes with, say) must still open. */
	check = open_checked(out, out_len, "write", error, &err);
	if (!check)
		goto out;
	bpk_pkg__free(check);
	*ret_buf = TAKE_PTR(out);
	*ret_len = out_len;
out:
	free(out);
	free(manifest);
	free(all);
	bpk_pkg__free(pkg);
	return err;
}

/* ---- verifying ---- */

struct bpk_verify_result {
	enum bpk_verdict verdict;
	char *reason;
	char *package;
	char *name;
	char *version;
	unsigned int trusted_cnt;
	unsigned int required_cnt;
	struct bpk_signer *signers;
	size_t signer_cnt;
};

static void result_reset(struct bpk_verify_result *res)
{
	size_t i;

	for (i = 0; i < res->signer_cnt; i++) {
		struct bpk_signer *s = &res->signers[i];

		free((char *)s->keyid);
		free((char *)s->alg);
		free((char *)s->policy_file);
		free((char *)s->comment);
		free((char *)s->matched_name);
		free((char *)s->reason);
	}
	free(res->signers);
	free(res->reason);
	free(res->package);
	free(res->name);
	free(res->version);
	memset(res, 0, sizeof(*res));
	/* Until a verdict is reached, nothing is accepted. */
	res->verdict = BPK_VERDICT_REFUSED;
}

struct bpk_verify_result *bpk_verify_result__new(void)
{
	struct bpk_verify_result *res = calloc(1, sizeof(*res));

	if (!res) {
		errno = ENOMEM;
		return NULL;
	}
	res->verdict = BPK_VERDICT_REFUSED;
	return res;
}

void bpk_verify_result__free(struct bpk_verify_result *res)
{
	if (!res)
		return;
	result_reset(res);
	free(res);
}

/* Refuse with a reason. Returns -EKEYREJECTED, or -ENOMEM. */
static int refuse(struct bpk_verify_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int refuse(struct bpk_verify_result *res, const char *fmt, ...)
{
	va_list ap;
	int n;

	free(res->reason);
	res->reason = NULL;
	res->verdict = BPK_VERDICT_REFUSED;
	va_start(ap, fmt);
	n = vasprintf(&res->reason, fmt, ap);
	va_end(ap);
	if (n < 0) {
		res->reason = NULL;
		return -ENOMEM;
	}
	return -EKEYREJECTED;
}

static int dup_opt(const char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* " (comment)" after a key id in messages, or "". Caller frees. */
static char *key_label(const struct bpk_signer *s)
{
	return s->comment ? xasprintf(" (%s)", s->comment) : strdup("");
}

/* The patterns of an entry for a message, each quoted, comma-separated. Caller frees. */
static char *pattern_list(const struct bpk_trust_entry *e)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int err = strbuf_add(&sb, "", 0);

	for (i = 0; !err && i < bpk_trust_entry__name_cnt(e); i++)
		err = strbuf_addf(&sb, "%s'%s'", i ? ", " : "", bpk_trust_entry__name(e, i));
	if (err) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/* Judge one signature against the policy. Returns 0 or -ENOMEM. */
static int judge(struct bpk_signer *s, const struct sig_item *it, const void *manifest,
		 size_t manifest_len, const char *name, const struct bpk_trust *trust)
{
	const struct bpk_trust_entry *e = NULL;
	_cleanup_free_ char *label = NULL, *patterns = NULL;
	const char *pattern = NULL;
	const struct bpk_key *key;
	char *reason = NULL;

	s->keyid = strdup(it->keyid);
	s->alg = strdup(it->alg);
	if (!s->keyid || !s->alg)
		return -ENOMEM;
	if (trust)
		e = bpk_trust__find(trust, it->keyid);
	if (e && (dup_opt(&s->policy_file, bpk_trust_entry__file(e)) ||
		  dup_opt(&s->comment, bpk_trust_entry__comment(e))))
		return -ENOMEM;
	label = key_label(s);
	if (!label)
		return -ENOMEM;
	if (!it->is_ed25519) {
		s->status = BPK_SIGNER_UNSUPPORTED_ALG;
		reason = xasprintf("signature by key %s%s uses algorithm '%s', which this bpk does"
				   " not support", it->keyid, label, it->alg);
	} else if (!e) {
		s->status = BPK_SIGNER_UNKNOWN_KEY;
		reason = xasprintf("signature by unknown key %s", it->keyid);
	} else {
		key = bpk_trust_entry__key(e);
		if (!bpk_ed25519_verify(key->pkey, manifest ?: "",
					manifest_len, it->sig, sizeof(it->sig))) {
			ERR_clear_error();
			s->status = BPK_SIGNER_BAD_SIGNATURE;
			reason = xasprintf("signature by key %s%s does not match bpk.json "
					   "(tampered?)", it->keyid, label);
		} else if (!bpk_trust_entry__allows(e, name, &pattern)) {
			s->status = BPK_SIGNER_NAME_NOT_ALLOWED;
			patterns = pattern_list(e);
			if (!patterns)
				return -ENOMEM;
			reason = xasprintf("signed by key %s%s which is trusted only for %s, not "
					   "'%s'", it->keyid, label, patterns, name);
		} else {
			s->status = BPK_SIGNER_TRUSTED;
			s->trusted = true;
			return dup_opt(&s->matched_name, pattern);
		}
	}
	if (!reason)
		return -ENOMEM;
	s->reason = reason;
	return 0;
}

/* Which refusal a not-trusted signer explains best: the most specific first. */
static int status_rank(enum bpk_signer_status status)
{
	switch (status) {
	case BPK_SIGNER_BAD_SIGNATURE: return 4;
	case BPK_SIGNER_NAME_NOT_ALLOWED: return 3;
	case BPK_SIGNER_UNKNOWN_KEY: return 2;
	case BPK_SIGNER_UNSUPPORTED_ALG: return 1;
	default: return 0;
	}
}

/* The verdict on the signatures of one manifest; res already names the package. */
static int verify_signatures(const void *manifest, size_t manifest_len, const char *name,
			     const void *sig, size_t sig_len, bool has_sig,
			     const struct bpk_trust *trust, const struct bpk_verify_opts *opts,
			     struct bpk_verify_result *res)
{
	struct bpk_error error = BPK_ERROR_INIT;
	const struct bpk_signer *worst = NULL;
	struct bpk_sigfile *sigs = NULL;
	size_t i;
	int err = 0;

	res->required_cnt = trust ? bpk_trust__min_signers(trust) : 1;
	if (has_sig) {
		sigs = bpk_sigfile__parse(sig, sig_len, &error);
		if (!sigs) {
			if (errno == ENOMEM)
				err = -ENOMEM;
			else
				err = refuse(res, "%s", error.message ?: "bpk.sig is invalid");
			goto out;
		}
	}
	if (!bpk_sigfile__cnt(sigs)) {
		if (OPTS_GET(opts, allow_unsigned, false)) {
			res->verdict = BPK_VERDICT_UNSIGNED_ALLOWED;
			goto out;
		}
		err = refuse(res, "unsigned package%s",
			     has_sig ? " (bpk.sig holds no signature)" : "");
		goto out;
	}
	res->signers = calloc(sigs->cnt, sizeof(*res->signers));
	if (!res->signers) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < sigs->cnt; i++) {
		res->signer_cnt++;
		err = judge(&res->signers[i], &sigs->items[i], manifest, manifest_len, name, trust);
		if (err)
			goto out;
		if (res->signers[i].trusted)
			res->trusted_cnt++;
		else if (!worst || status_rank(res->signers[i].status) > status_rank(worst->status))
			worst = &res->signers[i];
	}
	/* A pinned key whose signature fails means the bytes changed: nothing else counts. */
	if (worst && worst->status == BPK_SIGNER_BAD_SIGNATURE)
		err = refuse(res, "%s", worst->reason);
	else if (res->trusted_cnt >= res->required_cnt)
		res->verdict = BPK_VERDICT_TRUSTED;
	else if (res->trusted_cnt)
		err = refuse(res, "%u trusted signature%s, policy requires %u", res->trusted_cnt,
			     res->trusted_cnt == 1 ? "" : "s", res->required_cnt);
	else if (res->required_cnt > 1)
		err = refuse(res, "%s (and policy requires %u trusted signatures)", worst->reason,
			     res->required_cnt);
	else
		err = refuse(res, "%s", worst->reason);
out:
	bpk_error__release(&error);
	bpk_sigfile__free(sigs);
	return err;
}

static int set_names(struct bpk_verify_result *res, const char *package, const char *name,
		     const char *version)
{
	if ((package && !(res->package = strdup(package))) ||
	    (name && !(res->name = strdup(name))) || (version && !(res->version = strdup(version))))
		return -ENOMEM;
	return 0;
}

int bpk_verify__manifest(const void *manifest, size_t manifest_len, const char *name,
			 const void *sig, size_t sig_len, const struct bpk_trust *trust,
			 const struct bpk_verify_opts *opts, struct bpk_verify_result *result)
{
	int err;

	if (!result || !name || (!manifest && manifest_len) || (!sig && sig_len))
		return -EINVAL;
	result_reset(result);
	err = set_names(result, NULL, name, NULL);
	if (err)
		return err;
	return verify_signatures(manifest, manifest_len, name, sig, sig_len, sig != NULL, trust,
				 opts, result);
}

/*
 * The policy's "deny" list: capabilities no package may have, derived from the bytecode
 * itself (never from what the manifest claims), however well the package is signed.
 */
static int check_denied(const struct bpk_pkg *pkg, const struct bpk_trust *trust,
			struct bpk_verify_result *result)
{
	size_t i, j, k;
	int c, err = 0;
	bool any = false;

	for (c = 0; c < BPK_CAP_CNT; c++)
		any |= bpk_trust__denies(trust, (enum bpk_capability)c);
	for (i = 0; any && !err && i < bpk_pkg__entry_cnt(pkg); i++) {
		const void *data;
		size_t size;
		const char *path = bpk_pkg__entry(pkg, i, &data, &size);
		struct bpk_obj_info *obj;

		if (!bpk_path_is_object(path))
			continue;
		obj = bpk_obj_info__inspect_mem(data, size, path, NULL);
		if (!obj)
			return errno == ENOMEM ? -ENOMEM
					       : refuse(result, "'%s' cannot be inspected to apply the policy's deny list",
							path);
		for (j = 0; !err && j < obj->prog_cnt; j++) {
			struct bpk_capability_list caps;

			err = bpk_capabilities__of_prog(obj, &obj->progs[j], &caps);
			for (k = 0; !err && k < caps.cnt; k++)
				if (bpk_trust__denies(trust, caps.items[k].cap))
					err = refuse(result,
						     "program '%s' in '%s' %s (%s: %s), which the trust policy denies (%s)",
						     obj->progs[j].name, path, caps.items[k].words,
						     caps.items[k].id, caps.items[k].evidence,
						     bpk_trust__policy_file(trust) ?: "policy");
			bpk_capability_list__release(&caps);
		}
		bpk_obj_info__free(obj);
	}
	return err;
}

static int verify_pkg(const struct bpk_pkg *pkg, const char *package,
		      const struct bpk_trust *trust, const struct bpk_verify_opts *opts,
		      struct bpk_verify_result *result)
{
	const struct bpk_manifest *m = bpk_pkg__manifest(pkg);
	const void *manifest, *sig;
	size_t manifest_len, sig_len = 0;
	int err;

	err = set_names(result, package, bpk_manifest__name(m), bpk_manifest__version(m));
	if (err)
		return err;
	manifest = bpk_pkg__manifest_bytes(pkg, &manifest_len);
	sig = bpk_pkg__file(pkg, BPK_SIGNATURE_PATH, &sig_len);
	err = verify_signatures(manifest, manifest_len, bpk_manifest__name(m), sig, sig_len,
				sig != NULL, trust, opts, result);
	if (err || result->verdict == BPK_VERDICT_REFUSED)
		return err;
	return check_denied(pkg, trust, result);
}

int bpk_pkg__verify(const struct bpk_pkg *pkg, const struct bpk_trust *trust,
		    const struct bpk_verify_opts *opts, struct bpk_verify_result *result)
{
	if (!pkg || !result)
		return -EINVAL;
	result_reset(result);
	return verify_pkg(pkg, NULL, trust, opts, result);
}

/* After a failed open: a refusal when the package was judged, else the error. */
static int open_failed(struct bpk_verify_result *result, const struct bpk_diags *diags)
{
	const struct bpk_diag *d = bpk_diags__first_error(diags);

	if (!d)
		return errno ? -errno : -EIO;
	return refuse(result, "%s", d->message);
}

/*
 * The caller's open options, with the whole-package digest turned off: verification checks
 * every file and the signature, and a second full hash would double its cost.
 */
static struct bpk_pkg_open_opts verify_open_opts(const struct bpk_verify_opts *opts)
{
	const struct bpk_pkg_open_opts *given = OPTS_GET(opts, open_opts, NULL);
	struct bpk_pkg_open_opts o = { .sz = sizeof(o) };

	if (given)
		memcpy(&o, given, given->sz < sizeof(o) ? given->sz : sizeof(o));
	o.sz = sizeof(o);
	o.no_digest = true;
	/* A signature vouches for files only through their digests: always check them. */
	o.no_manifest_check = false;
	return o;
}

int bpk_verify__mem(const void *buf, size_t len, const struct bpk_trust *trust,
		    const struct bpk_verify_opts *opts, struct bpk_verify_result *result)
{
	struct bpk_pkg_open_opts open_opts = verify_open_opts(opts);
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_pkg *pkg;
	int err;

	if (!result || (!buf && len))
		return -EINVAL;
	result_reset(result);
	pkg = bpk_pkg__open_mem(buf, len, &open_opts, &diags);
	err = pkg ? verify_pkg(pkg, NULL, trust, opts, result) : open_failed(result, &diags);
	bpk_pkg__free(pkg);
	bpk_diags__release(&diags);
	return err;
}

int bpk_verify__file(const char *path, const struct bpk_trust *trust,
		     const struct bpk_verify_opts *opts, struct bpk_verify_result *result)
{
	struct bpk_pkg_open_opts open_opts = verify_open_opts(opts);
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_pkg *pkg;
	int err;

	if (!result || !path)
		return -EINVAL;
	result_reset(result);
	errno = 0;
	pkg = bpk_pkg__open(path, &open_opts, &diags);
	if (pkg) {
		err = verify_pkg(pkg, path, trust, opts, result);
	} else {
		err = open_failed(result, &diags);
		if (err == -EKEYREJECTED && set_names(result, path, NULL, NULL))
			err = -ENOMEM;
	}
	bpk_pkg__free(pkg);
	bpk_diags__release(&diags);
	return err;
}

enum bpk_verdict bpk_verify_result__verdict(const struct bpk_verify_result *res)
{
	return res->verdict;
}

bool bpk_verify_result__accepted(const struct bpk_verify_result *res)
{
	return res->verdict == BPK_VERDICT_TRUSTED || res->verdict == BPK_VERDICT_UNSIGNED_ALLOWED;
}

const char *bpk_verify_result__reason(const struct bpk_verify_result *res)
{
	return res->verdict == BPK_VERDICT_REFUSED ? res->reason : NULL;
}

const char *bpk_verify_result__name(const struct bpk_verify_result *res)
{
	return res->name;
}

const char *bpk_verify_result__version(const struct bpk_verify_result *res)
{
	return res->version;
}

unsigned int bpk_verify_result__trusted_cnt(const struct bpk_verify_result *res)
{
	return res->trusted_cnt;
}

unsigned int bpk_verify_result__required_cnt(const struct bpk_verify_result *res)
{
	return res->required_cnt;
}

size_t bpk_verify_result__signer_cnt(const struct bpk_verify_result *res)
{
	return res->signer_cnt;
}

const struct bpk_signer *bpk_verify_result__signer(const struct bpk_verify_result *res,
						   size_t idx)
{
	return idx < res->signer_cnt ? &res->signers[idx] : NULL;
}

const char *bpk_verdict__str(enum bpk_verdict verdict)
{
	switch (verdict) {
	case BPK_VERDICT_TRUSTED: return "trusted";
	case BPK_VERDICT_UNSIGNED_ALLOWED: return "unsigned-allowed";
	case BPK_VERDICT_REFUSED: return "refused";
	}
	return "refused";
}

const char *bpk_signer_status__str(enum bpk_signer_status status)
{
	switch (status) {
	case BPK_SIGNER_TRUSTED: return "trusted";
	case BPK_SIGNER_UNKNOWN_KEY: return "unknown-key";
	case BPK_SIGNER_NAME_NOT_ALLOWED: return "name-not-allowed";
	case BPK_SIGNER_BAD_SIGNATURE: return "bad-signature";
	case BPK_SIGNER_UNSUPPORTED_ALG: return "unsupported-alg";
	}
	return "unknown";
}

/* A string or null. */
static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

char *bpk_verify_result__to_json(const struct bpk_verify_result *res)
{
	_cleanup_json_ json_t *root = NULL;
	json_t *signers = json_array();
	size_t i;

	root = json_pack("{s:o, s:s, s:b, s:o, s:o, s:o, s:I, s:I, s:o}", "package",
			 json_str_or_null(res->package), "verdict", bpk_verdict__str(res->verdict),
			 "accepted", bpk_verify_result__accepted(res), "reason",
			 json_str_or_null(bpk_verify_result__reason(res)), "name",
			 json_str_or_null(res->name), "version", json_str_or_null(res->version),
			 "trusted_signatures", (json_int_t)res->trusted_cnt, "required_signatures",
			 (json_int_t)res->required_cnt, "signers", signers);
	if (!root)
		return NULL;
	for (i = 0; i < res->signer_cnt; i++) {
		const struct bpk_signer *s = &res->signers[i];

		if (json_array_append_new(signers,
					  json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:o}",
						    "keyid", s->keyid, "alg", s->alg, "status",
						    bpk_signer_status__str(s->status), "trusted",
						    s->trusted, "policy_file",
						    json_str_or_null(s->policy_file), "comment",
						    json_str_or_null(s->comment), "matched_name",
						    json_str_or_null(s->matched_name), "reason",
						    json_str_or_null(s->reason))))
			return NULL;
	}
	return bpk_json_dump(root, NULL);
}

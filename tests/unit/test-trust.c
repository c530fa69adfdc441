// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the trust policy: name patterns, strict loading, and editing a trust.d. */
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test-util.h"

/* Included, so that a policy can be built by hand (two keys sharing an id prefix). */
#include "../../lib/trust.c"

#include "crypto.h"

static void assert_contains(const char *s, const char *want)
{
	if (!s || !strstr(s, want))
		print_message("'%s' does not contain '%s'\n", s ?: "(null)", want);
	assert_non_null(s);
	assert_non_null(strstr(s, want));
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char *path = path_join(dir, name);

	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
	free(path);
}

/*
 * The text of a trust entry for key; extra is spliced in as more members (may be ""),
 * keyid overrides the key's id when not NULL.
 */
static char *entry_text(const struct bpk_key *key, const char *keyid, const char *extra)
{
	char *pem = bpk_key__public_pem(key, NULL), *text;
	json_t *s = json_string(pem);
	char *quoted = json_dumps(s, JSON_ENCODE_ANY);

	text = xasprintf("{\"keyid\": \"%s\", \"public_key\": %s%s}\n", keyid ?: bpk_key__id(key),
			 quoted, extra);
	free(quoted);
	json_decref(s);
	free(pem);
	return text;
}

/* ---- patterns ---- */

static void test_patterns(void **state)
{
	static const char *const valid[] = { "acme/*", "*", "acme", "a?c/x*y", "*/*",
					     "acme/ratelimit", "a.b_c-d/*" };
	static const char *const invalid[] = { "", "/x", "acme/", "a/b/c", "Acme/*", "acme/[ab]",
					       "acme\\*", "a b", "acme/**/x/" };
	static const struct {
		const char *pattern, *name;
		bool match;
	} cases[] = {
		{ "acme/*", "acme/ratelimit", true },
		{ "acme/*", "acme/", true },
		{ "acme/*", "acme", false },
		{ "acme/*", "acmex/ratelimit", false },
		{ "acme/*", "other/acme", false },
		/* A star stays within its part of the name. */
		{ "*", "ratelimit", true },
		{ "*", "acme/ratelimit", false },
		{ "acme*", "acme-tools", true },
		{ "acme*", "acme/x", false },
		{ "*/*", "acme/x", true },
		{ "*/*", "x", false },
		{ "*/rate*", "acme/ratelimit", true },
		{ "*/rate*", "acme/limit", false },
		{ "a?me/x", "acme/x", true },
		{ "a?me/x", "a/me/x", false },
		{ "acme/ratelimit", "acme/ratelimit", true },
		{ "acme/ratelimit", "acme/ratelimit2", false },
		{ "*limit", "ratelimit", true },
		{ "*limit*", "limit", true },
		{ "r*t*e", "ratelimite", true },
		{ "r*t*e", "ratelimits", false },
		{ "**", "x", true },
		{ "?", "", false },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		if (!bpk_trust_pattern__valid(valid[i]))
			print_message("'%s' should be valid\n", valid[i]);
		assert_true(bpk_trust_pattern__valid(valid[i]));
	}
	for (i = 0; i < ARRAY_SIZE(invalid); i++) {
		if (bpk_trust_pattern__valid(invalid[i]))
			print_message("'%s' should be invalid\n", invalid[i]);
		assert_false(bpk_trust_pattern__valid(invalid[i]));
	}
	assert_false(bpk_trust_pattern__valid(NULL));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (bpk_trust_pattern__match(cases[i].pattern, cases[i].name) != cases[i].match)
			print_message("'%s' vs '%s'\n", cases[i].pattern, cases[i].name);
		assert_int_equal(bpk_trust_pattern__match(cases[i].pattern, cases[i].name),
				 cases[i].match);
	}
}

/* ---- entries ---- */

static void expect_entry_refused(const char *text, const char *want_field, const char *want_msg)
{
	struct bpk_error error = BPK_ERROR_INIT;

	errno = 0;
	assert_null(bpk_trust_entry__parse(text, strlen(text), "/etc/bpk/trust.d/x.json", &error));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(error.file, "/etc/bpk/trust.d/x.json");
	if (want_field) {
		assert_non_null(error.field);
		assert_string_equal(error.field, want_field);
	} else {
		assert_null(error.field);
	}
	/* The message names the file, and the field when there is one. */
	assert_contains(error.message, "'/etc/bpk/trust.d/x.json': ");
	if (want_field) {
		char *quoted = xasprintf("'%s': ", want_field);

		assert_contains(error.message, quoted);
		free(quoted);
	}
	assert_contains(error.message, want_msg);
	bpk_error__release(&error);
}

static void test_entry_parse(void **state)
{
	struct bpk_key *key = bpk_key__generate(), *other = bpk_key__generate();
	struct bpk_trust_entry *e;
	char *text, *pem, *priv_text;
	const char *pattern = "unset";

	text = entry_text(key, NULL, ", \"names\": [\"acme/*\", \"acme-*\"], \"comment\": "
			  "\"acme release key\", \"added\": \"2025-01-31T12:00:00Z\"");
	e = bpk_trust_entry__parse(text, strlen(text), "k.json", NULL);
	assert_non_null(e);
	assert_string_equal(bpk_trust_entry__keyid(e), bpk_key__id(key));
	assert_string_equal(bpk_trust_entry__file(e), "k.json");
	assert_string_equal(bpk_trust_entry__comment(e), "acme release key");
	assert_string_equal(bpk_trust_entry__added(e), "2025-01-31T12:00:00Z");
	assert_int_equal(bpk_trust_entry__name_cnt(e), 2);
	assert_string_equal(bpk_trust_entry__name(e, 1), "acme-*");
	assert_null(bpk_trust_entry__name(e, 2));
	assert_string_equal(bpk_key__id(bpk_trust_entry__key(e)), bpk_key__id(key));
	assert_true(bpk_trust_entry__allows(e, "acme-tools", &pattern));
	assert_string_equal(pattern, "acme-*");
	assert_false(bpk_trust_entry__allows(e, "other/x", &pattern));
	bpk_trust_entry__free(e);
	free(text);

	/* No names: every name, and no pattern to report. */
	text = entry_text(key, NULL, "");
	e = bpk_trust_entry__parse(text, strlen(text), "k.json", NULL);
	assert_non_null(e);
	assert_null(bpk_trust_entry__comment(e));
	assert_true(bpk_trust_entry__allows(e, "anything/at-all", &pattern));
	assert_null(pattern);
	bpk_trust_entry__free(e);
	free(text);

	expect_entry_refused("{\"keyid\": ", NULL, "is not valid JSON");
	expect_entry_refused("[]", NULL, "must hold a JSON object, not a list");
	expect_entry_refused("{}", "keyid", "is missing");
	text = entry_text(key, bpk_key__id(other), "");
	expect_entry_refused(text, "keyid", "is not the id of 'public_key', which is");
	free(text);
	text = entry_text(key, "3F2A", "");
	expect_entry_refused(text, "keyid", "\"3F2A\" is not a key id");
	free(text);
	text = entry_text(key, NULL, ", \"names\": [\"acme/*\", \"Bad Pattern\"]");
	expect_entry_refused(text, "names[1]", "\"Bad Pattern\" is not a name pattern");
	free(text);
	text = entry_text(key, NULL, ", \"names\": []");
	expect_entry_refused(text, "names", "must not be empty");
	free(text);
	text = entry_text(key, NULL, ", \"names\": \"acme/*\"");
	expect_entry_refused(text, "names", "must be a list, not a string");
	free(text);
	text = entry_text(key, NULL, ", \"names\": [\"a/*\", \"a/*\"]");
	expect_entry_refused(text, "names[1]", "listed twice");
	free(text);
	text = entry_text(key, NULL, ", \"expires\": \"2030-01-01T00:00:00Z\"");
	expect_entry_refused(text, NULL, "unknown field \"expires\"");
	free(text);
	text = entry_text(key, NULL, ", \"comment\": \"evil\\u001b[2J\"");
	expect_entry_refused(text, "comment", "must be printable text");
	free(text);
	text = entry_text(key, NULL, ", \"comment\": 7");
	expect_entry_refused(text, "comment", "must be a string, not an integer");
	free(text);
	text = entry_text(key, NULL, ", \"added\": \"yesterday\"");
	expect_entry_refused(text, "added", "is not an RFC 3339 UTC time");
	free(text);
	text = entry_text(key, NULL, ", \"added\": \"2025-13-01T00:00:00Z\"");
	expect_entry_refused(text, "added", "is not an RFC 3339 UTC time");
	free(text);
	text = xasprintf("{\"keyid\": \"%s\", \"public_key\": \"junk\"}", bpk_key__id(key));
	expect_entry_refused(text, "public_key", "is not a PEM Ed25519 public key");
	free(text);

	/* A private key has no place in a trust policy, even when its id is right. */
	{
		EVP_PKEY *pkey = bpk_ed25519_generate();
		char id[65], *priv = bpk_key_to_pem(pkey, true, NULL);
		json_t *s = json_string(priv);

		assert_int_equal(bpk_key_id(pkey, id), 0);
		pem = json_dumps(s, JSON_ENCODE_ANY);
		priv_text = xasprintf("{\"keyid\": \"%s\", \"public_key\": %s}", id, pem);
		expect_entry_refused(priv_text, "public_key", "holds a private key");
		free(priv_text);
		free(pem);
		free(priv);
		json_decref(s);
		EVP_PKEY_free(pkey);
	}
	bpk_key__free(key);
	bpk_key__free(other);
}

/* ---- directories ---- */

static void expect_dir_refused(const char *dir, const char *want_file, const char *want_msg)
{
	struct bpk_error error = BPK_ERROR_INIT;

	errno = 0;
	assert_null(bpk_trust__load_dir(dir, &error));
	assert_int_equal(errno, EINVAL);
	if (!error.file || !strstr(error.file, want_file))
		print_message("file %s, message %s\n", error.file, error.message);
	assert_non_null(strstr(error.file, want_file));
	assert_contains(error.message, want_file);
	assert_contains(error.message, want_msg);
	bpk_error__release(&error);
}

static void test_load_dir(void **state)
{
	struct bpk_key *k1 = bpk_key__generate(), *k2 = bpk_key__generate();
	char *tmp = test_temp_dir("test-trust"), *text, *sub, *missing;
	struct bpk_error error = BPK_ERROR_INIT;
	const struct bpk_trust_entry *found;
	struct bpk_trust *trust;

	/* An empty directory trusts nothing; a missing one is ENOENT, not an empty policy. */
	trust = bpk_trust__load_dir(tmp, &error);
	assert_non_null(trust);
	assert_int_equal(bpk_trust__entry_cnt(trust), 0);
	assert_int_equal(bpk_trust__min_signers(trust), 1);
	assert_null(bpk_trust__policy_file(trust));
	bpk_trust__free(trust);
	missing = xasprintf("%s/missing", tmp);
	assert_null(bpk_trust__load_dir(missing, &error));
	assert_int_equal(errno, ENOENT);
	free(missing);

	text = entry_text(k2, NULL, ", \"names\": [\"acme/*\"]");
	write_text(tmp, "b.json", text);
	free(text);
	text = entry_text(k1, NULL, "");
	write_text(tmp, "a.json", text);
	/* Skipped: hidden files, other suffixes, an atomic write's temporary file. */
	write_text(tmp, ".hidden.json", "junk");
	write_text(tmp, "README", "junk");
	write_text(tmp, "a.json.tmp.Xy12ab", "junk");
	write_text(tmp, "policy.json", "{\"min_signers\": 2, \"deny\": []}");
	trust = bpk_trust__load_dir(tmp, &error);
	assert_non_null(trust);
	assert_string_equal(bpk_trust__dir(trust), tmp);
	assert_int_equal(bpk_trust__entry_cnt(trust), 2);
	assert_int_equal(bpk_trust__min_signers(trust), 2);
	assert_non_null(strstr(bpk_trust__policy_file(trust), "/policy.json"));
	/* In file name order. */
	assert_string_equal(bpk_trust_entry__keyid(bpk_trust__entry(trust, 0)), bpk_key__id(k1));
	assert_string_equal(bpk_trust_entry__keyid(bpk_trust__entry(trust, 1)), bpk_key__id(k2));
	assert_null(bpk_trust__entry(trust, 2));
	found = bpk_trust__find(trust, bpk_key__id(k2));
	assert_non_null(found);
	assert_non_null(strstr(bpk_trust_entry__file(found), "/b.json"));
	assert_null(bpk_trust__find(trust, "00"));
	{
		char *json = bpk_trust__to_json(trust);
		json_t *root = json_loads(json, 0, NULL);

		assert_non_null(root);
		assert_int_equal(json_integer_value(json_object_get(root, "min_signers")), 2);
		assert_int_equal(json_array_size(json_object_get(root, "keys")), 2);
		/* "every name" is explicit in a listing. */
		assert_true(json_is_null(json_object_get(
			json_array_get(json_object_get(root, "keys"), 0), "names")));
		json_decref(root);
		free(json);
	}
	bpk_trust__free(trust);

	/* The same key pinned twice is ambiguous (which names apply?): refused. */
	write_text(tmp, "c.json", text);
	expect_dir_refused(tmp, "c.json", "is also pinned by");
	free(text);
	{
		char *c = path_join(tmp, "c.json");

		assert_int_equal(unlink(c), 0);
		free(c);
	}

	/* One bad file refuses the whole directory, naming it. */
	write_text(tmp, "z.json", "{\"keyid\": 1}");
	expect_dir_refused(tmp, "z.json", "'keyid': must be a string");
	write_text(tmp, "z.json", "not json");
	expect_dir_refused(tmp, "z.json", "is not valid JSON");
	{
		char *z = path_join(tmp, "z.json");

		assert_int_equal(unlink(z), 0);
		free(z);
	}
	sub = path_join(tmp, "sub.json");
	assert_int_equal(mkdir(sub, 0755), 0);
	expect_dir_refused(tmp, "sub.json", "is not a regular file");
	assert_int_equal(rmdir(sub), 0);
	free(sub);

	write_text(tmp, "policy.json", "{\"min_signers\": 0}");
	expect_dir_refused(tmp, "policy.json", "'min_signers': must be an integer from 1 to 64");
	write_text(tmp, "policy.json", "{\"deny\": [\"x\"]}");
	expect_dir_refused(tmp, "policy.json", "'deny': entry 0 is not a capability id");
	write_text(tmp, "policy.json", "{\"deny\": \"write-user-memory\"}");
	expect_dir_refused(tmp, "policy.json", "'deny': must be a list of capability ids");
	write_text(tmp, "policy.json", "{\"deny\": [\"write-user-memory\", \"bpf-syscall\"]}");
	trust = bpk_trust__load_dir(tmp, &error);
	assert_non_null(trust);
	assert_true(bpk_trust__denies(trust, BPK_CAP_WRITE_USER_MEMORY));
	assert_true(bpk_trust__denies(trust, BPK_CAP_BPF_SYSCALL));
	assert_false(bpk_trust__denies(trust, BPK_CAP_TAIL_CALLS));
	bpk_trust__free(trust);
	write_text(tmp, "policy.json", "{\"min_signer\": 2}");
	expect_dir_refused(tmp, "policy.json", "unknown field \"min_signer\"");
	write_text(tmp, "policy.json", "{}");
	trust = bpk_trust__load_dir(tmp, &error);
	assert_non_null(trust);
	assert_int_equal(bpk_trust__min_signers(trust), 1);
	bpk_trust__free(trust);

	bpk_error__release(&error);
	bpk_key__free(k1);
	bpk_key__free(k2);
	test_rm_rf(tmp);
	free(tmp);
}

static void test_add_list_remove(void **state)
{
	struct bpk_key *k1 = bpk_key__generate(), *k2 = bpk_key__generate(), *pub;
	char *tmp = test_temp_dir("test-trust"), *dir = xasprintf("%s/etc/bpk/trust.d", tmp), *path, *pem;
	const char *names[] = { "acme/*" }, *new_names[] = { "acme/*", "acme-*" };
	const char *bad_names[] = { "acme/" };
	BPK_OPTS(bpk_trust_add_opts, opts, .names = names, .name_cnt = 1, .comment = "acme");
	BPK_OPTS(bpk_trust_add_opts, force, .names = new_names, .name_cnt = 2, .force = true);
	BPK_OPTS(bpk_trust_add_opts, bad, .names = bad_names, .name_cnt = 1);
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_trust_entry *e = NULL;
	struct bpk_trust *trust;
	char prefix[9];
	struct stat st;
	size_t i;

	/* Only the public half is stored, whichever half was given. */
	assert_int_equal(bpk_trust__add(dir, k1, &opts, &error, &e), 0);
	path = xasprintf("%s/%s.json", dir, bpk_key__id(k1));
	assert_string_equal(bpk_trust_entry__file(e), path);
	assert_string_equal(bpk_trust_entry__comment(e), "acme");
	assert_non_null(bpk_trust_entry__added(e));
	bpk_trust_entry__free(e);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	{
		char *data;
		size_t len;

		assert_int_equal(read_file(path, 1 << 16, &data, &len), 0);
		assert_null(strstr(data, "PRIVATE"));
		assert_non_null(strstr(data, "\"names\": [\n    \"acme/*\"\n  ]"));
		free(data);
	}

	/* A key given as its public file works the same. */
	pem = bpk_key__public_pem(k2, NULL);
	pub = bpk_key__from_pem(pem, strlen(pem));
	assert_int_equal(bpk_trust__add(dir, pub, NULL, &error, NULL), 0);

	/* Twice: refused, naming the file; with force: rewritten in the same file. */
	assert_int_equal(bpk_trust__add(dir, k1, &opts, &error, NULL), -EEXIST);
	assert_contains(error.message, "is already trusted by");
	assert_contains(error.message, path);
	assert_int_equal(bpk_trust__add(dir, k1, &force, &error, &e), 0);
	assert_string_equal(bpk_trust_entry__file(e), path);
	assert_int_equal(bpk_trust_entry__name_cnt(e), 2);
	assert_null(bpk_trust_entry__comment(e));
	bpk_trust_entry__free(e);
	/* Invalid input writes nothing. */
	assert_int_equal(bpk_trust__add(dir, k1, &bad, &error, NULL), -EINVAL);
	assert_contains(error.message, "\"acme/\" is not a name pattern");

	trust = bpk_trust__load_dir(dir, &error);
	assert_non_null(trust);
	assert_int_equal(bpk_trust__entry_cnt(trust), 2);
	e = (struct bpk_trust_entry *)bpk_trust__find(trust, bpk_key__id(k1));
	assert_int_equal(bpk_trust_entry__name_cnt(e), 2);
	bpk_trust__free(trust);
	e = NULL;

	/* Remove: a prefix of at least 8 digits, in either case, that names one key. */
	assert_int_equal(bpk_trust__remove(dir, "0123456", &error, NULL), -EINVAL);
	assert_contains(error.message, "is not a key id or a prefix of one");
	assert_int_equal(bpk_trust__remove(dir, "zzzzzzzz", &error, NULL), -EINVAL);
	snprintf(prefix, sizeof(prefix), "%.8s", bpk_key__id(k1));
	prefix[0] = prefix[0] == '0' ? '1' : '0';
	if (strncmp(prefix, bpk_key__id(k2), 8)) {
		assert_int_equal(bpk_trust__remove(dir, prefix, &error, NULL), -ENOENT);
		assert_contains(error.message, "no key in");
	}
	snprintf(prefix, sizeof(prefix), "%.8s", bpk_key__id(k1));
	for (i = 0; i < 8; i++)
		if (prefix[i] >= 'a')
			prefix[i] = (char)(prefix[i] - 'a' + 'A');
	assert_int_equal(bpk_trust__remove(dir, prefix, &error, &e), 0);
	assert_string_equal(bpk_trust_entry__keyid(e), bpk_key__id(k1));
	assert_string_equal(bpk_trust_entry__file(e), path);
	bpk_trust_entry__free(e);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(bpk_trust__remove(dir, bpk_key__id(k1), &error, NULL), -ENOENT);
	trust = bpk_trust__load_dir(dir, &error);
	assert_int_equal(bpk_trust__entry_cnt(trust), 1);
	bpk_trust__free(trust);

	bpk_error__release(&error);
	free(pem);
	free(path);
	free(dir);
	bpk_key__free(pub);
	bpk_key__free(k1);
	bpk_key__free(k2);
	test_rm_rf(tmp);
	free(tmp);
}

/* Two keys whose ids share 8 hex digits cannot be made at will: build the policy by hand. */
static void test_find_prefix_ambiguous(void **state)
{
	struct bpk_trust *trust = bpk_trust__new();
	struct bpk_trust_entry a = { .keyid = (char *)"deadbeef00000000000000000000000000000000"
						   "000000000000000000000000",
				     .file = (char *)"a.json" };
	struct bpk_trust_entry b = { .keyid = (char *)"deadbeef11111111111111111111111111111111"
						   "111111111111111111111111",
				     .file = (char *)"b.json" };
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_trust_entry *entries[] = { &a, &b };
	const struct bpk_trust_entry *found = NULL;

	trust->entries = entries;
	trust->cnt = 2;
	assert_int_equal(bpk_trust__find_prefix(trust, "deadbeef", &found), -ENOTUNIQ);
	assert_null(found);
	assert_int_equal(bpk_trust__find_prefix(trust, "deadbeef0", &found), 0);
	assert_ptr_equal(found, &a);
	assert_int_equal(bpk_trust__find_prefix(trust, "deadbeef1", &found), 0);
	assert_ptr_equal(found, &b);
	assert_int_equal(bpk_trust__find_prefix(trust, "deadbeef2", &found), -ENOENT);
	assert_int_equal(bpk_trust__find_prefix(trust, "deadbee", &found), -EINVAL);
	assert_int_equal(bpk_trust__find_prefix(trust, "DEADBEEF", &found), -EINVAL);
	/* What bpk trust remove says then: every key the prefix matches, with its file. */
	assert_int_equal(ambiguous(trust, "deadbeef", &error), -ENOTUNIQ);
	assert_string_equal(error.message,
			    "key id prefix deadbeef is ambiguous: it matches "
			    "deadbeef0000000000000000000000000000000000000000000000000000000"
			    "0 ('a.json'), "
			    "deadbeef1111111111111111111111111111111111111111111111111111111"
			    "1 ('b.json')");
	bpk_error__release(&error);
	trust->entries = NULL;
	trust->cnt = 0;
	bpk_trust__free(trust);
}

static void test_in_memory_policy(void **state)
{
	struct bpk_key *key = bpk_key__generate();
	struct bpk_trust *trust = bpk_trust__new();
	struct bpk_error error = BPK_ERROR_INIT;
	char *text = entry_text(key, NULL, "");
	struct bpk_trust_entry *e;

	assert_null(bpk_trust__dir(trust));
	assert_int_equal(bpk_trust__min_signers(trust), 1);
	e = bpk_trust_entry__parse(text, strlen(text), "mem", NULL);
	assert_int_equal(bpk_trust__add_entry(trust, e), 0);
	/* The same key again is refused, and the refused entry freed (ASan checks). */
	e = bpk_trust_entry__parse(text, strlen(text), "mem2", NULL);
	assert_int_equal(bpk_trust__add_entry(trust, e), -EEXIST);
	assert_int_equal(bpk_trust__add_entry(trust, NULL), -EINVAL);
	assert_int_equal(bpk_trust__entry_cnt(trust), 1);
	assert_string_equal(bpk_trust_entry__file(bpk_trust__find(trust, bpk_key__id(key))), "mem");
	assert_int_equal(bpk_trust__set_min_signers(trust, 0), -EINVAL);
	assert_int_equal(bpk_trust__set_min_signers(trust, BPK_SIG_MAX + 1), -EINVAL);
	assert_int_equal(bpk_trust__set_min_signers(trust, 3), 0);
	assert_int_equal(bpk_trust__min_signers(trust), 3);

	/* bpk_error__set replaces what was there, and accepts NULL. */
	assert_int_equal(bpk_error__set(&error, "f", "x", "one %d", 1), 0);
	assert_int_equal(bpk_error__set(&error, NULL, NULL, "two"), 0);
	assert_null(error.file);
	assert_null(error.field);
	assert_string_equal(error.message, "two");
	assert_int_equal(bpk_error__set(NULL, "f", NULL, "ignored"), 0);
	bpk_error__release(&error);
	assert_null(error.message);
	bpk_error__release(NULL);

	free(text);
	bpk_trust__free(trust);
	bpk_trust__free(NULL);
	bpk_trust_entry__free(NULL);
	bpk_key__free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_entry_parse),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_add_list_remove),
		cmocka_unit_test(test_find_prefix_ambiguous),
		cmocka_unit_test(test_in_memory_policy),
	};

	bpk_set_print(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

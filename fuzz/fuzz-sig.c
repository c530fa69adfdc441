// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target for bpk.sig: any bytes, parsed and verified against a fixed manifest. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpk/bpk.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The bytes the corpus's valid signatures cover; the key below made them. */
static const char manifest[] = "{\n  \"bpk\": 1,\n  \"name\": \"acme/demo\",\n  \"version\": "
			       "\"1.0.0\"\n}\n";
static const char trusted_entry[] =
	"{\"keyid\": \"1b30d0625ce145213fc46684ecfa7989186a142a21096addfbcfbc1d717889b2\", "
	"\"public_key\": \"-----BEGIN PUBLIC KEY-----\\n"
	"MCowBQYDK2VwAyEAK0MBWW+WSkqRn+mSswt0qKvqEoBC169QQpq+lvB+hnc=\\n"
	"-----END PUBLIC KEY-----\\n\", \"names\": [\"acme/*\"], \"comment\": \"fuzz\"}";

static struct bpk_trust *policy(void)
{
	static struct bpk_trust *trust;
	struct bpk_trust_entry *e;

	if (trust)
		return trust;
	trust = bpk_trust__new();
	e = bpk_trust_entry__parse(trusted_entry, sizeof(trusted_entry) - 1, "fuzz.json", NULL);
	if (!trust || !e || bpk_trust__add_entry(trust, e))
		abort();
	return trust;
}

/* What parses must emit text that parses to the same signatures. */
static void round_trip(const uint8_t *data, size_t size)
{
	struct bpk_sigfile *sigs = bpk_sigfile__parse(data, size, NULL), *again;
	char *text;
	size_t i, len;

	if (!sigs)
		return;
	text = bpk_sigfile__emit(sigs, &len);
	if (!text)
		abort();
	again = bpk_sigfile__parse(text, len, NULL);
	if (!again || bpk_sigfile__cnt(again) != bpk_sigfile__cnt(sigs))
		abort();
	for (i = 0; i < bpk_sigfile__cnt(sigs); i++)
		if (strcmp(bpk_sigfile__keyid(sigs, i), bpk_sigfile__keyid(again, i)) ||
		    strcmp(bpk_sigfile__alg(sigs, i), bpk_sigfile__alg(again, i)))
			abort();
	free(text);
	bpk_sigfile__free(again);
	bpk_sigfile__free(sigs);
}

static void verify(const uint8_t *data, size_t size, const char *name, bool allow_unsigned)
{
	BPK_OPTS(bpk_verify_opts, opts, .allow_unsigned = allow_unsigned);
	struct bpk_verify_result *res = bpk_verify_result__new();
	const struct bpk_signer *s;
	size_t i, trusted = 0;
	char *json;
	int err;

	if (!res)
		abort();
	err = bpk_verify__manifest(manifest, sizeof(manifest) - 1, name, data, size, policy(),
				   &opts, res);
	switch (bpk_verify_result__verdict(res)) {
	case BPK_VERDICT_TRUSTED:
		/* Only a real signature by the pinned key, for a name it covers, gets here. */
		for (i = 0; (s = bpk_verify_result__signer(res, i)); i++)
			trusted += s->trusted;
		if (err || !trusted || trusted < bpk_verify_result__required_cnt(res) ||
		    strncmp(name, "acme/", 5))
			abort();
		break;
	case BPK_VERDICT_UNSIGNED_ALLOWED:
		if (err || !allow_unsigned || bpk_verify_result__signer_cnt(res))
			abort();
		break;
	case BPK_VERDICT_REFUSED:
		/* Every refusal says why. */
		if (err == -EKEYREJECTED && !bpk_verify_result__reason(res))
			abort();
		if (!err)
			abort();
		break;
	}
	json = bpk_verify_result__to_json(res);
	if (!json)
		abort();
	free(json);
	bpk_verify_result__free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bpk_set_print(NULL);
	round_trip(data, size);
	verify(data, size, "acme/demo", false);
	verify(data, size, "other/demo", true);
	return 0;
}

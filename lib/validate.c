// SPDX-License-Identifier: BSD-2-Clause
/* Validators for manifest values: SemVer 2.0, package names, SPDX expressions, kernel ranges. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "bpk_internal.h"

/* ---- SemVer 2.0.0 (https://semver.org) ---- */

/* A numeric identifier: "0" or digits without a leading zero. Advances *p. */
static bool parse_numeric(const char **p, unsigned long long *ret)
{
	const char *s = *p;
	unsigned long long v = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	if (*s == '0' && isdigit((unsigned char)s[1]))
		return false;
	while (isdigit((unsigned char)*s)) {
		if (v > (~0ULL - 9) / 10)
			return false;
		v = v * 10 + (unsigned long long)(*s - '0');
		s++;
	}
	*p = s;
	if (ret)
		*ret = v;
	return true;
}

static bool is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '-';
}

/* Dot-separated identifiers of [0-9A-Za-z-]; numeric ones without leading zeros if strict. */
static bool parse_idents(const char **p, bool numeric_strict)
{
	const char *s = *p;

	for (;;) {
		const char *start = s;
		bool all_digits = true;

		while (is_ident_char(*s)) {
			all_digits &= isdigit((unsigned char)*s) != 0;
			s++;
		}
		if (s == start)
			return false;
		if (numeric_strict && all_digits && *start == '0' && s - start > 1)
			return false;
		if (*s != '.')
			break;
		s++;
	}
	*p = s;
	return true;
}

bool bpk_semver__valid(const char *version)
{
	const char *p = version;
	int i;

	if (!version || strlen(version) > 128)
		return false;
	for (i = 0; i < 3; i++) {
		if (!parse_numeric(&p, NULL))
			return false;
		if (i < 2 && *p++ != '.')
			return false;
	}
	if (*p == '-') {
		p++;
		if (!parse_idents(&p, true))
			return false;
	}
	if (*p == '+') {
		p++;
		if (!parse_idents(&p, false))
			return false;
	}
	return *p == '\0';
}

static int cmp_prerelease(const char *a, const char *b)
{
	/* No prerelease ranks above any prerelease. */
	if (!*a || !*b)
		return !*a - !*b;
	for (;;) {
		size_t la = strcspn(a, ".+"), lb = strcspn(b, ".+");
		bool na = strspn(a, "0123456789") >= la, nb = strspn(b, "0123456789") >= lb;
		int c;

		if (na && nb) {
			c = la != lb ? (la < lb ? -1 : 1) : strncmp(a, b, la);
		} else if (na != nb) {
			c = na ? -1 : 1; /* numeric identifiers rank lower */
		} else {
			c = strncmp(a, b, la < lb ? la : lb);
			if (!c && la != lb)
				c = la < lb ? -1 : 1;
		}
		if (c)
			return c < 0 ? -1 : 1;
		a += la;
		b += lb;
		if (*a != '.' || *b != '.')
			return (*a == '.') - (*b == '.');
		a++;
		b++;
	}
}

int bpk_semver__cmp(const char *a, const char *b)
{
	unsigned long long va, vb;
	int i;

	for (i = 0; i < 3; i++) {
		parse_numeric(&a, &va);
		parse_numeric(&b, &vb);
		if (va != vb)
			return va < vb ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
	}
	return cmp_prerelease(*a == '-' ? a + 1 : "", *b == '-' ? b + 1 : "");
}

/* ---- package names ---- */

static bool name_part_valid(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > 100)
		return false;
	if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
		return false;
	for (i = 1; i < len; i++) {
		char c = s[i];

		if (!islower((unsigned char)c) && !isdigit((unsigned char)c) && c != '.' &&
		    c != '_' && c != '-')
			return false;
	}
	return true;
}

bool bpk_name__valid(const char *name)
{
	const char *slash;

	if (!name)
		return false;
	slash = strchr(name, '/');
	if (!slash)
		return name_part_valid(name, strlen(name));
	return name_part_valid(name, (size_t)(slash - name)) &&
	       name_part_valid(slash + 1, strlen(slash + 1));
}

/* ---- SPDX license expressions (SPDX 2.3 annex D) ---- */

/* The licenses BPF code is published under in practice; LicenseRef-* covers the rest. */
static const char *const spdx_ids[] = {
	"0BSD", "AGPL-3.0-only", "AGPL-3.0-or-later", "Apache-2.0", "Artistic-2.0",
	"BSD-1-Clause", "BSD-2-Clause", "BSD-2-Clause-Patent", "BSD-3-Clause",
	"BSD-3-Clause-Clear", "BSD-4-Clause", "BSL-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0",
	"CDDL-1.0", "EPL-1.0", "EPL-2.0", "EUPL-1.2", "GPL-1.0-only", "GPL-1.0-or-later",
	"GPL-2.0", "GPL-2.0+", "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0", "GPL-3.0+",
	"GPL-3.0-only", "GPL-3.0-or-later", "ISC", "LGPL-2.0-only", "LGPL-2.0-or-later",
	"LGPL-2.1", "LGPL-2.1+", "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0-only",
	"LGPL-3.0-or-later", "MIT", "MIT-0", "MPL-1.1", "MPL-2.0",
	"MPL-2.0-no-copyleft-exception", "MS-PL", "MS-RL", "NCSA", "OpenSSL", "PSF-2.0",
	"Python-2.0", "Unlicense", "UPL-1.0", "WTFPL", "X11", "Zlib",
};

static const char *const spdx_exceptions[] = {
	"Autoconf-exception-3.0", "Bison-exception-2.2", "Classpath-exception-2.0",
	"GCC-exception-2.0", "GCC-exception-3.1", "LLVM-exception", "Linux-syscall-note",
	"OpenJDK-assembly-exception-1.0",
};

struct spdx_lexer {
	const char *p;
	char token[128];
	const char *bad;
};

/* Next token into lx->token: "(", ")", or a word. Returns false at the end. */
static bool spdx_next(struct spdx_lexer *lx)
{
	size_t n = 0;

	while (*lx->p == ' ')
		lx->p++;
	if (!*lx->p)
		return false;
	if (*lx->p == '(' || *lx->p == ')') {
		lx->token[0] = *lx->p++;
		lx->token[1] = '\0';
		return true;
	}
	while (*lx->p && *lx->p != ' ' && *lx->p != '(' && *lx->p != ')') {
		if (n + 1 < sizeof(lx->token))
			lx->token[n++] = *lx->p;
		lx->p++;
	}
	lx->token[n] = '\0';
	return true;
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

static bool spdx_license_ref(const char *s)
{
	const char *p = s;

	if (str_has_prefix(p, "DocumentRef-")) {
		p = strchr(p, ':');
		if (!p)
			return false;
		p++;
	}
	if (!str_has_prefix(p, "LicenseRef-") || !p[strlen("LicenseRef-")])
		return false;
	for (p += strlen("LicenseRef-"); *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

static bool spdx_simple(const char *tok)
{
	char id[128];
	size_t n = strlen(tok);

	if (spdx_license_ref(tok))
		return true;
	if (in_list(tok, spdx_ids, ARRAY_SIZE(spdx_ids)))
		return true;
	/* "id+" means "this version or later". */
	if (n > 1 && n < sizeof(id) && tok[n - 1] == '+') {
		memcpy(id, tok, n - 1);
		id[n - 1] = '\0';
		return in_list(id, spdx_ids, ARRAY_SIZE(spdx_ids));
	}
	return false;
}

static bool spdx_expr(struct spdx_lexer *lx, int depth);

/* term := "(" expr ")" | simple [WITH exception]; the current token is the term's first. */
static bool spdx_term(struct spdx_lexer *lx, int depth)
{
	if (!strcmp(lx->token, "(")) {
		if (!spdx_next(lx) || !spdx_expr(lx, depth + 1))
			return false;
		if (strcmp(lx->token, ")")) {
			lx->bad = lx->token[0] ? lx->token : "(";
			return false;
		}
		if (!spdx_next(lx))
			lx->token[0] = '\0';
		return true;
	}
	if (!spdx_simple(lx->token)) {
		lx->bad = lx->token;
		return false;
	}
	if (!spdx_next(lx)) {
		lx->token[0] = '\0';
		return true;
	}
	if (!strcmp(lx->token, "WITH")) {
		if (!spdx_next(lx) ||
		    !in_list(lx->token, spdx_exceptions, ARRAY_SIZE(spdx_exceptions))) {
			lx->bad = lx->token[0] ? lx->token : "WITH";
			return false;
		}
		if (!spdx_next(lx))
			lx->token[0] = '\0';
	}
	return true;
}

/* expr := term ((AND | OR) term)*; leaves the token after the expression in lx->token. */
static bool spdx_expr(struct spdx_lexer *lx, int depth)
{
	if (depth > 16) {
		lx->bad = "(";
		return false;
	}
	if (!spdx_term(lx, depth))
		return false;
	while (!strcmp(lx->token, "AND") || !strcmp(lx->token, "OR")) {
		if (!spdx_next(lx)) {
			lx->bad = "AND/OR";
			return false;
		}
		if (!spdx_term(lx, depth))
			return false;
	}
	return true;
}

bool bpk_spdx__valid(const char *expression, const char **ret_bad_token)
{
	static __thread struct spdx_lexer lx;

	memset(&lx, 0, sizeof(lx));
	lx.p = expression;
	if (!expression || strlen(expression) > 512 || !spdx_next(&lx)) {
		lx.bad = "";
		goto bad;
	}
	if (spdx_expr(&lx, 0) && !lx.token[0])
		return true;
	if (!lx.bad)
		lx.bad = lx.token;
bad:
	if (ret_bad_token)
		*ret_bad_token = lx.bad;
	return false;
}

bool bpk_spdx__is_gpl_compatible(const char *license)
{
	/* The kernel's license_is_gpl_compatible() (include/linux/license.h): exact strings. */
	static const char *const gpl[] = {
		"GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL",
		"Dual MPL/GPL",
	};

	return license && in_list(license, gpl, ARRAY_SIZE(gpl));
}

/* ---- kernel release ranges: ">=5.15", ">=5.15 <6.8", "6.1.*", "=6.6" ---- */

struct kver {
	unsigned long long v[3];
	int parts; /* how many were given */
	bool wildcard;
};

static bool parse_kver(const char **p, struct kver *k, bool allow_wildcard)
{
	memset(k, 0, sizeof(*k));
	for (;;) {
		if (allow_wildcard && **p == '*' && k->parts > 0) {
			k->wildcard = true;
			(*p)++;
			return true;
		}
		if (!isdigit((unsigned char)**p))
			return false;
		k->v[k->parts] = strtoull(*p, (char **)p, 10);
		if (k->v[k->parts] > 100000)
			return false;
		k->parts++;
		if (k->parts == 3 || **p != '.')
			return true;
		(*p)++;
	}
}

static int kver_cmp(const struct kver *a, const struct kver *b, int parts)
{
	int i;

	for (i = 0; i < parts; i++)
		if (a->v[i] != b->v[i])
			return a->v[i] < b->v[i] ? -1 : 1;
	return 0;
}

struct kconstraint {
	enum bpk_cmp_op op;
	struct kver ver;
};

/* Parse one constraint at *p; returns false on garbage. */
static bool parse_constraint(const char **p, struct kconstraint *c)
{
	const char *s = *p;

	if (!strncmp(s, ">=", 2))
		c->op = BPK_CMP_GE, s += 2;
	else if (!strncmp(s, "<=", 2))
		c->op = BPK_CMP_LE, s += 2;
	else if (!strncmp(s, "==", 2))
		c->op = BPK_CMP_EQ, s += 2;
	else if (*s == '>')
		c->op = BPK_CMP_GT, s++;
	else if (*s == '<')
		c->op = BPK_CMP_LT, s++;
	else if (*s == '=')
		c->op = BPK_CMP_EQ, s++;
	else
		c->op = BPK_CMP_EQ;
	if (!parse_kver(&s, &c->ver, c->op == BPK_CMP_EQ))
		return false;
	if (*s && *s != ' ' && *s != ',')
		return false;
	*p = s;
	return true;
}

/* Split req into at most max constraints. Returns the count or -1 when invalid. */
static int parse_req(const char *req, struct kconstraint *cs, int max)
{
	const char *p = req;
	int n = 0;

	if (!req || strlen(req) > 128)
		return -1;
	for (;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		if (n == max || !parse_constraint(&p, &cs[n]))
			return -1;
		n++;
	}
	return n ? n : -1;
}

bool bpk_kernel_req__valid(const char *req)
{
	struct kconstraint cs[4];

	return parse_req(req, cs, ARRAY_SIZE(cs)) > 0;
}

static bool satisfies(const struct kver *rel, const struct kconstraint *c)
{
	return bpk_cmp_holds(c->op, kver_cmp(rel, &c->ver, c->ver.parts));
}

bool bpk_kernel_req__matches(const char *req, const char *release)
{
	struct kconstraint cs[4];
	struct kver rel;
	const char *p = release;
	int i, n = parse_req(req, cs, ARRAY_SIZE(cs));

	if (n < 0 || !release || !parse_kver(&p, &rel, false))
		return false;
	for (i = 0; i < n; i++)
		if (!satisfies(&rel, &cs[i]))
			return false;
	return true;
}

bool bpk_kernel_req__spans_versions(const char *req)
{
	struct kconstraint cs[4];
	struct kver lo = { { 0 } }, hi = { { ~0ULL, ~0ULL, ~0ULL } };
	enum bpk_cmp_op hi_op = BPK_CMP_LE;
	int i, n = parse_req(req, cs, ARRAY_SIZE(cs));

	if (n < 0)
		return true;
	for (i = 0; i < n; i++) {
		const struct kconstraint *c = &cs[i];

		/* "=6.1" or "6.1.*" pins one major.minor. */
		if (c->op == BPK_CMP_EQ && c->ver.parts >= 2)
			return false;
		if ((c->op == BPK_CMP_GE || c->op == BPK_CMP_GT) && kver_cmp(&c->ver, &lo, 2) > 0)
			lo = c->ver;
		if ((c->op == BPK_CMP_LE || c->op == BPK_CMP_LT) && kver_cmp(&c->ver, &hi, 2) < 0) {
			hi = c->ver;
			hi_op = c->op;
		}
	}
	if (hi.v[0] == ~0ULL || lo.v[0] != hi.v[0])
		return true;
	/* ">=6.1 <=6.1.40", ">=6.1 <=6.1": one series. */
	if (hi.v[1] == lo.v[1])
		return false;
	/* ">=6.1 <6.2" (or "<6.2.0") is one series too; "<=6.2" admits 6.2.x. */
	if (hi.v[1] == lo.v[1] + 1 && hi_op == BPK_CMP_LT && (hi.parts == 2 || hi.v[2] == 0))
		return false;
	return true;
}

// SPDX-License-Identifier: BSD-2-Clause
/* SemVer ranges ("^1.2", "~1.2.3", ">=1.0.0 <2.0.0", "1.x || 2.1.0"), for version resolution. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "bpk_internal.h"

/* Bounds on a range: enough for any sensible constraint, small enough for the stack. */
#define RANGE_MAX_LEN 256
#define RANGE_MAX_ALTS 8
#define RANGE_MAX_CMPS 16
/* The largest number a SemVer part may have here: bpk_semver__valid's bound. */
#define NUM_MAX (((~0ULL - 9) / 10) * 10 + 9)

/* One comparator: op against major.minor.patch, plus a prerelease borrowed from the range text. */
struct range_cmp {
	enum bpk_cmp_op op;
	unsigned long long v[3];
	const char *pre; /* without its '-'; NULL when none */
	size_t pre_len;
};

/* One alternative ("||"-separated): every comparator must hold. */
struct range_alt {
	struct range_cmp cmps[RANGE_MAX_CMPS];
	size_t cnt;
	bool none; /* matches nothing (">*", "<*") */
};

struct range {
	struct range_alt alts[RANGE_MAX_ALTS];
	size_t cnt;
};

/* A partial version: how many numeric parts were given before an 'x'/'*' or the end. */
struct partial {
	unsigned long long v[3];
	int parts; /* 0 ('*') to 3 */
	const char *pre;
	size_t pre_len;
};

static bool is_wild(char c)
{
	return c == 'x' || c == 'X' || c == '*';
}

/* A numeric identifier without leading zeros, as SemVer requires, at most NUM_MAX. */
static bool parse_num(const char **p, unsigned long long *ret)
{
	const char *s = *p;
	unsigned long long v = 0;

	if (!isdigit((unsigned char)*s) || (*s == '0' && isdigit((unsigned char)s[1])))
		return false;
	while (isdigit((unsigned char)*s)) {
		if (v > (~0ULL - 9) / 10)
			return false;
		v = v * 10 + (unsigned long long)(*s - '0');
		s++;
	}
	*p = s;
	*ret = v;
	return true;
}

/* Dot-separated identifiers of [0-9A-Za-z-]; numeric ones without leading zeros if strict. */
static bool parse_idents(const char **p, bool strict)
{
	const char *s = *p;

	for (;;) {
		const char *start = s;
		bool digits = true;

		while (isalnum((unsigned char)*s) || *s == '-') {
			digits &= isdigit((unsigned char)*s) != 0;
			s++;
		}
		if (s == start || (strict && digits && *start == '0' && s - start > 1))
			return false;
		if (*s != '.')
			break;
		s++;
	}
	*p = s;
	return true;
}

/* "1", "1.2", "1.2.3-rc.1+b", "1.x", "1.2.*", "*". A prerelease needs all three numbers. */
static bool parse_partial(const char **p, struct partial *ret)
{
	const char *s = *p;
	struct partial part = { { 0, 0, 0 }, 0, NULL, 0 };

	while (part.parts < 3) {
		if (is_wild(*s)) {
			s++;
			/* After a wildcard only wildcards: "1.x.x", not "1.x.3". */
			while (*s == '.' && is_wild(s[1]))
				s += 2;
			break;
		}
		if (!parse_num(&s, &part.v[part.parts]))
			return false;
		part.parts++;
		if (part.parts == 3 || *s != '.')
			break;
		s++;
	}
	if (part.parts == 3 && *s == '-') {
		part.pre = ++s;
		if (!parse_idents(&s, true))
			return false;
		part.pre_len = (size_t)(s - part.pre);
	}
	if (part.parts == 3 && *s == '+') {
		s++;
		if (!parse_idents(&s, false))
			return false;
	}
	*p = s;
	*ret = part;
	return true;
}

static bool add_cmp(struct range_alt *alt, enum bpk_cmp_op op, unsigned long long major,
		    unsigned long long minor, unsigned long long patch, const struct partial *pre)
{
	struct range_cmp *c;

	if (alt->cnt == RANGE_MAX_CMPS)
		return false;
	c = &alt->cmps[alt->cnt++];
	c->op = op;
	c->v[0] = major;
	c->v[1] = minor;
	c->v[2] = patch;
	c->pre = pre ? pre->pre : NULL;
	c->pre_len = pre ? pre->pre_len : 0;
	return true;
}

/*
 * "< the next version after the first n parts": <2.0.0 for n = 1 of 1.2.3, <1.3.0 for n = 2,
 * <1.2.4 for n = 3. A part at the largest number has no next: no upper bound at all.
 */
static bool add_upper(struct range_alt *alt, const struct partial *part, int n)
{
	unsigned long long v[3] = { part->v[0], part->v[1], part->v[2] };

	if (v[n - 1] >= NUM_MAX)
		return true;
	v[n - 1]++;
	if (n < 3)
		v[2] = 0;
	if (n < 2)
		v[1] = 0;
	return add_cmp(alt, BPK_CMP_LT, v[0], v[1], v[2], NULL);
}

/* The lower bound a partial names: the version itself with missing parts at 0. */
static bool add_lower(struct range_alt *alt, enum bpk_cmp_op op, const struct partial *part)
{
	return add_cmp(alt, op, part->v[0], part->v[1], part->v[2], part);
}

/* One term: "*", "1.2", "=1.2.3", ">=1.2", "<2", "~1.2.3", "^0.2". */
static bool parse_term(const char **p, struct range_alt *alt)
{
	const char *s = *p;
	struct partial part;
	enum { T_PLAIN, T_EQ, T_GE, T_GT, T_LE, T_LT, T_TILDE, T_CARET } kind = T_PLAIN;
	int first;

	if (!strncmp(s, ">=", 2))
		kind = T_GE, s += 2;
	else if (!strncmp(s, "<=", 2))
		kind = T_LE, s += 2;
	else if (*s == '>')
		kind = T_GT, s++;
	else if (*s == '<')
		kind = T_LT, s++;
	else if (*s == '=')
		kind = T_EQ, s++;
	else if (*s == '~')
		kind = T_TILDE, s++;
	else if (*s == '^')
		kind = T_CARET, s++;
	if (!parse_partial(&s, &part))
		return false;
	if (*s && *s != ' ' && *s != '\t' && *s != ',' && *s != '|')
		return false;
	*p = s;

	switch (kind) {
	case T_PLAIN:
	case T_EQ:
		if (part.parts == 3)
			return add_lower(alt, BPK_CMP_EQ, &part);
		if (part.parts == 0)
			return true;
		return add_lower(alt, BPK_CMP_GE, &part) && add_upper(alt, &part, part.parts);
	case T_GE:
		return part.parts == 0 || add_lower(alt, BPK_CMP_GE, &part);
	case T_GT:
		if (part.parts == 0) {
			alt->none = true;
			return true;
		}
		if (part.parts == 3)
			return add_lower(alt, BPK_CMP_GT, &part);
		/* ">1.2" is ">=1.3.0": above every 1.2.x. */
		if (part.v[part.parts - 1] >= NUM_MAX) {
			alt->none = true;
			return true;
		}
		part.v[part.parts - 1]++;
		return add_lower(alt, BPK_CMP_GE, &part);
	case T_LT:
		if (part.parts == 0) {
			alt->none = true;
			return true;
		}
		return add_lower(alt, BPK_CMP_LT, &part);
	case T_LE:
		if (part.parts == 0)
			return true;
		if (part.parts == 3)
			return add_lower(alt, BPK_CMP_LE, &part);
		/* "<=1.2" is "<1.3.0": up to every 1.2.x. */
		return add_upper(alt, &part, part.parts);
	case T_TILDE:
		/* ~1.2.3 and ~1.2: patch updates; ~1: minor updates. */
		if (part.parts == 0)
			return true;
		return add_lower(alt, BPK_CMP_GE, &part) &&
		       add_upper(alt, &part, part.parts == 1 ? 1 : 2);
	case T_CARET:
		/* Updates that keep the left-most non-zero part (of those given). */
		if (part.parts == 0)
			return true;
		first = 0;
		while (first < part.parts - 1 && part.v[first] == 0)
			first++;
		return add_lower(alt, BPK_CMP_GE, &part) && add_upper(alt, &part, first + 1);
	}
	return false;
}

static bool is_sep(char c)
{
	return c == ' ' || c == '\t' || c == ',';
}

static bool parse_range(const char *text, struct range *ret)
{
	const char *p = text;

	if (!text || strlen(text) > RANGE_MAX_LEN)
		return false;
	memset(ret, 0, sizeof(*ret));
	for (;;) {
		struct range_alt *alt;
		size_t terms = 0;

		if (ret->cnt == RANGE_MAX_ALTS)
			return false;
		alt = &ret->alts[ret->cnt++];
		while (is_sep(*p))
			p++;
		while (*p && *p != '|') {
			if (!parse_term(&p, alt))
				return false;
			terms++;
			while (is_sep(*p))
				p++;
		}
		/* An empty alternative is a typo more often than "anything": "*" says that. */
		if (!terms)
			return false;
		if (!*p)
			return true;
		if (strncmp(p, "||", 2))
			return false;
		p += 2;
	}
}

/* Compare version (valid SemVer) with the comparator's version. */
static int cmp_version(const char *version, const struct range_cmp *c)
{
	char buf[RANGE_MAX_LEN + 80];

	snprintf(buf, sizeof(buf), "%llu.%llu.%llu%s%.*s", c->v[0], c->v[1], c->v[2],
		 c->pre ? "-" : "", (int)c->pre_len, c->pre ? c->pre : "");
	return bpk_semver__cmp(version, buf);
}

static bool cmp_holds(const char *version, const struct range_cmp *c)
{
	return bpk_cmp_holds(c->op, cmp_version(version, c));
}

/* Whether major.minor.patch of version are v. */
static bool same_tuple(const char *version, const unsigned long long v[3])
{
	const char *p = version;
	unsigned long long n;
	int i;

	for (i = 0; i < 3; i++) {
		if (!parse_num(&p, &n) || n != v[i])
			return false;
		if (i < 2)
			p++;
	}
	return true;
}

static bool alt_matches(const struct range_alt *alt, const char *version, bool prerelease)
{
	bool pre_allowed = !prerelease;
	size_t i;

	if (alt->none)
		return false;
	for (i = 0; i < alt->cnt; i++) {
		if (!cmp_holds(version, &alt->cmps[i]))
			return false;
		/* A prerelease is only wanted by a range that names one of the same x.y.z. */
		if (alt->cmps[i].pre && same_tuple(version, alt->cmps[i].v))
			pre_allowed = true;
	}
	return pre_allowed;
}

bool bpk_semver_range__valid(const char *range)
{
	struct range r;

	return parse_range(range, &r);
}

bool bpk_semver_range__matches(const char *range, const char *version)
{
	struct range r;
	bool prerelease;
	size_t i;

	if (!bpk_semver__valid(version) || !parse_range(range, &r))
		return false;
	prerelease = version[strcspn(version, "-+")] == '-';
	for (i = 0; i < r.cnt; i++)
		if (alt_matches(&r.alts[i], version, prerelease))
			return true;
	return false;
}

bool bpk_semver_range__is_exact(const char *range, const char **ret_version)
{
	const char *v;

	if (!range)
		return false;
	v = range[0] == '=' ? range + 1 : range;
	if (!bpk_semver__valid(v))
		return false;
	if (ret_version)
		*ret_version = v;
	return true;
}

/*
 * match_norm: turns the typed columns of a customer into a match_record.
 *
 * Company names: fold (NFKC, case, punctuation), pull bracketed regions out,
 * then strip legal forms, branch markers and regions from both ends until
 * nothing changes; what is left is the core (字号 + 行业, "acme trading").
 * English words are expanded (intl -> international) and singularized so
 * spellings meet. Person names keep their tokens. See docs/dedup.md.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_utf8.h"
#include "match_int.h"

/* Chinese legal forms, longest first (stripped from the end). */
static const char *const zh_legal[] = {
	"股份有限公司", "有限责任公司", "集团有限公司", "集团股份有限公司", "有限公司",
	"股份公司", "集团公司", "总公司", "集团", "公司", "总部", "有限合伙", "普通合伙",
	"合伙企业", "个人独资企业", "个体工商户", NULL};

/* Chinese branch markers (stripped from the end, set branch). */
static const char *const zh_branch[] = {"分公司", "分店", "办事处", "分厂", "营业部",
					"分部", "分行", "支行", "代表处", "分社", "门店",
					NULL};

/* English legal-form tokens (stripped from the end). */
static const char *const en_legal[] = {
	"ltd", "limited", "co", "company", "inc", "incorporated", "corp", "corporation",
	"llc", "gmbh", "plc", "llp", "pte", "pty", "sa", "ag", "bv", "nv", "srl", "spa",
	"kk", "group", "lp", "ltda", "oy", "ab", "as", "sarl", "sdn", "bhd", "pvt", "private",
	"incorporated", "limitada", "ag", "kg", "co.", NULL};

/* English words reps abbreviate, and the form both sides are brought to. */
static const char *const en_abbrev[][2] = {
	{"intl", "international"}, {"int", "international"}, {"tech", "technology"},
	{"technologies", "technology"}, {"techs", "technology"}, {"mfg", "manufacturing"},
	{"svc", "service"}, {"svcs", "service"}, {"sys", "system"}, {"eng", "engineering"},
	{"engr", "engineering"}, {"elec", "electronic"}, {"electronics", "electronic"},
	{"bros", "brother"}, {"mgmt", "management"}, {"dev", "development"},
	{"ind", "industry"}, {"inds", "industry"}, {"industries", "industry"},
	{"industrial", "industry"}, {"trad", "trading"}, {"trdg", "trading"},
	{"natl", "national"}, {"assoc", "associate"}, {"dist", "distribution"},
	{"logistic", "logistics"}, {"mkt", "marketing"}, {"pharm", "pharmaceutical"},
	{"pharma", "pharmaceutical"}, {"sci", "science"}, {"hldgs", "holding"},
	{"hldg", "holding"}, {"holdings", "holding"}, {"ent", "enterprise"},
	{"co-op", "cooperative"}, {"coop", "cooperative"}, {"natl", "national"},
	{"chem", "chemical"}, {"med", "medical"}, {"equip", "equipment"},
	{"grp", "group"}, {"bldg", "building"}, {"constr", "construction"},
	{NULL, NULL}};

static const char *const en_stop[] = {"the", "and", "of", NULL};

static const char *const en_branch[] = {"branch", "office", "rep", "representative",
					"subsidiary", NULL};

/* Street words and their short forms (addresses). */
static const char *const addr_abbrev[][2] = {
	{"st", "street"}, {"rd", "road"}, {"ave", "avenue"}, {"av", "avenue"},
	{"dr", "drive"}, {"cres", "crescent"}, {"ct", "court"}, {"pl", "place"},
	{"hwy", "highway"}, {"cct", "circuit"}, {"pde", "parade"}, {"tce", "terrace"},
	{"ln", "lane"}, {"blvd", "boulevard"}, {"sq", "square"}, {"cl", "close"},
	{"n", "north"}, {"s", "south"}, {"e", "east"}, {"w", "west"}, {"mt", "mount"},
	{"apt", "unit"}, {"flat", "unit"}, {"no", ""}, {"#", ""}, {NULL, NULL}};

/* Free e-mail providers: a shared domain there says nothing. */
static const char *const free_mail[] = {"qq.com", "163.com", "126.com", "sina.com",
					"sohu.com", "gmail.com", "hotmail.com", "outlook.com",
					"yahoo.com", "139.com", "foxmail.com", "aliyun.com",
					"icloud.com", "yeah.net", "live.com", NULL};

/* ---- a small token list over one folded string -------------------------- */

#define TOK_MAX 32

struct toks {
	char *t[TOK_MAX];
	size_t n;
};

/* Splits s (modified in place) at spaces. */
static void toks_split(struct toks *tk, char *s)
{
	char *p = s;

	tk->n = 0;
	while (*p && tk->n < TOK_MAX) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		tk->t[tk->n++] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

static void toks_remove(struct toks *tk, size_t i)
{
	memmove(&tk->t[i], &tk->t[i + 1], (tk->n - i - 1) * sizeof tk->t[0]);
	tk->n--;
}

static int in_list(const char *s, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

static int first_byte_cjk(const char *s)
{
	uint32_t c;

	return match__decode(s, &c, 1) == 1 && match__is_cjk(c);
}

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	return n > k && memcmp(s + n - k, suf, k) == 0;
}

/* Keeps the more specific of two regions (a city over its province). */
static int16_t better_region(int16_t cur, int cand)
{
	if (cand < 0)
		return cur;
	if (cur < 0 || cur == 0)
		return (int16_t)cand;
	if (cand < (int)match__nregions && match__regions[cand].parent == cur)
		return (int16_t)cand;
	return cur;
}

/*
 * Longest Chinese region at the start of s (with an optional 省/市 suffix):
 * returns its byte length and sets *reg, or 0.
 */
static size_t zh_region_prefix(const char *s, int *reg)
{
	size_t i, best = 0;
	int r = match__region_zh_prefix(s, &best);

	if (r >= 0)
		*reg = r;
	else
		best = 0;
	if (!best) {
		/* a city the table does not know, written with 市: 潍坊市华信 */
		size_t n = strlen(s), k;
		for (k = 6; k <= 9; k += 3) {
			char buf[16];
			static const char *const not_city[] = {"超", "门", "城", "夜", "股", "集",
								"菜", "花", NULL};
			size_t j;
			int bad = 0;
			if (n < k + 3 + 6 || strncmp(s + k, "市", 3) != 0)
				continue;
			for (j = 0; not_city[j]; j++) /* 超市, 门市, 城市 ... are not cities */
				if (strncmp(s + k - 3, not_city[j], 3) == 0)
					bad = 1;
			if (bad)
				continue;
			memcpy(buf, s, k + 3);
			buf[k + 3] = '\0';
			*reg = match__region_guess(buf, 1);
			if (*reg >= 0)
				return k + 3;
		}
		return 0;
	}
	{
		static const char *const suf[] = {"特别行政区", "维吾尔自治区", "壮族自治区",
						  "回族自治区", "自治区", "省", "市", NULL};
		for (i = 0; suf[i]; i++) {
			size_t k = strlen(suf[i]);
			if (strncmp(s + best, suf[i], k) == 0) {
				best += k;
				break;
			}
		}
	}
	return best;
}

/*
 * A district (1-3 CJK characters then 区, 县 or 新区) at the start of s,
 * leaving at least two characters: its byte length, or 0.
 */
static size_t district_len(const char *s)
{
	static const char *const suf[] = {"新区", "区", "县", NULL};
	size_t n = strlen(s), chars, i;

	for (chars = 1; chars <= 3; chars++) {
		size_t off = 0, c;
		for (c = 0; c < chars; c++) {
			uint32_t cp;
			if (off + 3 > n || match__decode(s + off, &cp, 1) != 1 || !match__is_cjk(cp))
				return 0;
			off += 3;
		}
		for (i = 0; suf[i]; i++) {
			size_t k = strlen(suf[i]);
			if (off + k + 6 <= n && strncmp(s + off, suf[i], k) == 0)
				return off + k;
		}
	}
	return 0;
}

/* Region at the end of s: byte offset where it starts, or strlen(s). */
static size_t zh_region_suffix(const char *s, int *reg)
{
	size_t n = strlen(s), i, m = n;
	size_t best = n;

	{
		static const char *const suf[] = {"省", "市", NULL};
		for (i = 0; suf[i]; i++)
			if (ends_with(s, suf[i])) {
				m = n - strlen(suf[i]);
				break;
			}
	}
	for (i = 0; i < match__nregions; i++) {
		size_t k = strlen(match__regions[i].zh);
		if (m > k && memcmp(s + m - k, match__regions[i].zh, k) == 0 && m - k < best) {
			best = m - k;
			*reg = (int)i;
		}
	}
	return best;
}

/* English region made of tokens t[i..i+len): region index or -1. */
static int en_region_at(const struct toks *tk, size_t i, size_t *len)
{
	char buf[64];
	int r;

	if (i + 1 < tk->n) {
		/* "%s %s" by hand: this runs for every pair of words of a name */
		size_t la = strlen(tk->t[i]), lb = strlen(tk->t[i + 1]);
		if (la + 1 + lb < sizeof buf) {
			memcpy(buf, tk->t[i], la);
			buf[la] = ' ';
			memcpy(buf + la + 1, tk->t[i + 1], lb + 1);
			r = match__region_lookup(buf);
			if (r >= 0 && strchr(match__regions[r].en, ' ')) {
				*len = 2;
				return r;
			}
		}
	}
	if (first_byte_cjk(tk->t[i]))
		return -1;
	r = match__region_lookup(tk->t[i]);
	if (r >= 0 && !strchr(match__regions[r].en, ' ')) {
		*len = 1;
		return r;
	}
	return -1;
}

/* Abbreviation expansion and a light singular for one English token. */
static const char *en_word(const char *t, char *buf, size_t bufsz)
{
	size_t i, n;

	for (i = 0; en_abbrev[i][0]; i++)
		if (strcmp(t, en_abbrev[i][0]) == 0)
			return en_abbrev[i][1];
	n = strlen(t);
	if (n > 4 && t[n - 1] == 's' && t[n - 2] != 's' && n < bufsz) {
		memcpy(buf, t, n - 1);
		buf[n - 1] = '\0';
		return buf;
	}
	return t;
}

/* Appends UTF-8 s (and a separating space) to the code point array. */
static void cp_append(uint32_t *arr, uint8_t *len, size_t max, const char *s)
{
	size_t n = *len;

	if (n > 0 && n < max)
		arr[n++] = ' ';
	n += match__decode(s, arr + n, max - n);
	*len = (uint8_t)n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Name grams: CJK bigrams (or the single char) and whole English tokens. */
static void make_grams(struct match_record *r)
{
	size_t i = 0, n = 0;

	while (i < r->core_len && n < MATCH_GRAMS_MAX) {
		size_t j = i;
		while (j < r->core_len && r->core[j] != ' ')
			j++;
		if (match__is_cjk(r->core[i])) {
			size_t k;
			if (j - i == 1)
				r->grams[n++] = (uint32_t)match__hash('g', &r->core[i], 4);
			for (k = i; k + 1 < j && n < MATCH_GRAMS_MAX; k++)
				r->grams[n++] = (uint32_t)match__hash('g', &r->core[k], 8);
		} else {
			r->grams[n++] = (uint32_t)match__hash('g', &r->core[i], (j - i) * 4);
		}
		i = j + 1;
	}
	qsort(r->grams, n, sizeof r->grams[0], cmp_u32);
	{
		size_t w = 0;
		for (i = 0; i < n; i++)
			if (w == 0 || r->grams[w - 1] != r->grams[i])
				r->grams[w++] = r->grams[i];
		n = w;
	}
	r->ngrams = (uint8_t)n;
}

/*
 * Company name: region, branch and core. f is the folded name with brackets
 * kept; it is modified.
 */
static int parse_company(struct match_record *r, char *f)
{
	struct toks tk;
	size_t i;
	int changed, legal = 0;
	char wbuf[64];

	/* bracketed parts: a region is taken out, anything else stays as words */
	{
		char *p = f;
		for (;;) {
			char *q;
			char save;
			int reg;
			p = strchr(p, '(');
			if (!p)
				break;
			q = strchr(p, ')');
			if (!q) {
				*p = ' ';
				break;
			}
			save = *q;
			*q = '\0';
			reg = match__region_guess(p + 1, 1);
			*q = save;
			if (reg >= 0) {
				r->region = better_region(r->region, reg);
				memset(p, ' ', (size_t)(q - p) + 1);
			} else {
				*p = ' ';
				*q = ' ';
			}
			p = q + 1;
		}
		for (p = f; *p; p++)
			if (*p == ')')
				*p = ' ';
	}
	toks_split(&tk, f);
	do {
		changed = 0;
		if (tk.n == 0)
			break;
		/* from the end: legal forms, branch markers, trailing regions */
		{
			char *last = tk.t[tk.n - 1];
			if (first_byte_cjk(last)) {
				for (i = 0; zh_branch[i]; i++) {
					int reg = -1;
					size_t off;
					if (!ends_with(last, zh_branch[i]) &&
					    !(strcmp(last, zh_branch[i]) == 0 && tk.n > 1))
						continue;
					r->branch = 1;
					if (strcmp(last, zh_branch[i]) == 0) {
						toks_remove(&tk, tk.n - 1);
						if (tk.n == 0)
							break;
						last = tk.t[tk.n - 1];
					} else {
						last[strlen(last) - strlen(zh_branch[i])] = '\0';
					}
					off = zh_region_suffix(last, &reg);
					if (reg >= 0 && off < strlen(last)) {
						r->branch_region = (int16_t)reg;
						last[off] = '\0';
					} else if (tk.n > 1) {
						reg = match__region_lookup(last);
						if (reg >= 0) {
							r->branch_region = (int16_t)reg;
							toks_remove(&tk, tk.n - 1);
						}
					}
					changed = 1;
					break;
				}
				if (changed)
					continue;
				for (i = 0; zh_legal[i]; i++) {
					if (ends_with(last, zh_legal[i])) {
						last[strlen(last) - strlen(zh_legal[i])] = '\0';
						changed = legal = 1;
						break;
					}
					if (strcmp(last, zh_legal[i]) == 0 && tk.n > 1) {
						toks_remove(&tk, tk.n - 1);
						changed = legal = 1;
						break;
					}
				}
				if (changed)
					continue;
			} else {
				size_t len = 0;
				int reg;
				if (tk.n > 1 && in_list(last, en_legal)) {
					toks_remove(&tk, tk.n - 1);
					changed = legal = 1;
					continue;
				}
				if (tk.n > 1 && in_list(last, en_branch)) {
					r->branch = 1;
					toks_remove(&tk, tk.n - 1);
					while (tk.n > 1 && in_list(tk.t[tk.n - 1], en_branch))
						toks_remove(&tk, tk.n - 1);
					if (tk.n > 2) {
						size_t st = tk.n - 1;
						reg = en_region_at(&tk, st, &len);
						if (reg < 0 && tk.n > 3) {
							st = tk.n - 2;
							reg = en_region_at(&tk, st, &len);
							if (len != 2)
								reg = -1;
						}
						if (reg >= 0) {
							r->branch_region = (int16_t)reg;
							tk.n = st;
						}
					}
					changed = 1;
					continue;
				}
				if (tk.n > 2 || (tk.n == 2 && legal)) {
					size_t st = tk.n - 1;
					reg = en_region_at(&tk, st, &len);
					if (reg < 0 && tk.n > 2) {
						st = tk.n - 2;
						reg = en_region_at(&tk, st, &len);
						if (len != 2)
							reg = -1;
					}
					if (reg >= 0 && st > 0) {
						r->region = better_region(r->region, reg);
						tk.n = st;
						changed = 1;
						continue;
					}
				}
			}
		}
		/* from the start: regions */
		{
			char *first = tk.t[0];
			if (first_byte_cjk(first)) {
				int reg = -1;
				size_t k = zh_region_prefix(first, &reg);
				if (k > 0 && k < strlen(first)) {
					r->region = better_region(r->region, reg);
					/* 深圳市南山区华信: the district after a city goes too */
					k += district_len(first + k);
					tk.t[0] = first + k;
					changed = 1;
				} else if (k > 0 && tk.n > 1) {
					r->region = better_region(r->region, reg);
					toks_remove(&tk, 0);
					changed = 1;
				}
			} else if (tk.n > 1) {
				size_t len = 0;
				int reg = en_region_at(&tk, 0, &len);
				if (reg >= 0 && len < tk.n) {
					r->region = better_region(r->region, reg);
					while (len-- > 0)
						toks_remove(&tk, 0);
					changed = 1;
				}
			}
		}
	} while (changed);

	/* core: CJK runs as they are, English words expanded, stop words dropped */
	r->core_len = 0;
	for (i = 0; i < tk.n; i++) {
		const char *w = tk.t[i];
		if (!*w)
			continue;
		if (!first_byte_cjk(w)) {
			if (in_list(w, en_stop) && tk.n > 1)
				continue;
			w = en_word(w, wbuf, sizeof wbuf);
		}
		cp_append(r->core, &r->core_len, MATCH_CORE_MAX, w);
	}
	return legal;
}

static void parse_person(struct match_record *r, char *f)
{
	struct toks tk;
	size_t i;

	toks_split(&tk, f);
	r->core_len = 0;
	for (i = 0; i < tk.n; i++)
		cp_append(r->core, &r->core_len, MATCH_CORE_MAX, tk.t[i]);
}

static void parse_address(struct match_record *r, const char *addr, const char *city,
			  int *err)
{
	const char *parts[2] = {addr, city};
	size_t k, i, j;

	r->addr_len = 0;
	for (k = 0; k < 2; k++) {
		struct toks tk;
		char *f;
		if (!parts[k] || !*parts[k])
			continue;
		f = match__fold(parts[k], 0);
		if (!f) {
			*err = 1;
			return;
		}
		toks_split(&tk, f);
		for (i = 0; i < tk.n; i++) {
			const char *w = tk.t[i];
			for (j = 0; addr_abbrev[j][0]; j++)
				if (strcmp(w, addr_abbrev[j][0]) == 0) {
					w = addr_abbrev[j][1];
					break;
				}
			if (*w)
				cp_append(r->addr, &r->addr_len, MATCH_ADDR_MAX, w);
		}
		free(f);
	}
}

/* Digits of s (ASCII after folding), at most max-1, into out. */
static size_t digits_of(const char *s, char *out, size_t max, int *plus)
{
	size_t n = 0;

	*plus = 0;
	for (; *s && n + 1 < max; s++) {
		if (*s >= '0' && *s <= '9')
			out[n++] = *s;
		else if (*s == '+' && n == 0)
			*plus = 1;
		else if (*s == '(' || *s == ')' || *s == '-' || *s == ' ' || *s == '.' ||
			 *s == '/')
			continue;
		else if (n > 0) /* "ext", letters: stop */
			break;
	}
	out[n] = '\0';
	return n;
}

/*
 * Phone to E.164 text (the fields rule: +86 mobiles and landlines, "+" or 00
 * international). Returns 0 if it does not look like a phone.
 */
static int norm_phone(const char *in, char *out, size_t outsz, int *mobile)
{
	char *f = match__fold(in, 0);
	char d[32];
	const char *p;
	size_t n;
	int plus, ok = 0;

	*mobile = 0;
	if (!f)
		return 0;
	n = digits_of(in, d, sizeof d, &plus);
	if (n < 7) {
		/* maybe full-width digits: try the folded text */
		n = digits_of(f, d, sizeof d, &plus);
	}
	p = d;
	if (!plus && strncmp(p, "00", 2) == 0) {
		plus = 1;
		p += 2;
		n -= 2;
	}
	if (plus) {
		if (strncmp(p, "86", 2) == 0) {
			p += 2;
			n -= 2;
			if (*p == '0') {
				p++;
				n--;
			}
			goto cn;
		}
		if (n >= 7 && n <= 15) {
			ok = snprintf(out, outsz, "+%s", p) > 0;
		}
		goto out;
	}
	if (n == 13 && strncmp(p, "86", 2) == 0 && p[2] == '1') {
		p += 2;
		n -= 2;
	}
	if (*p == '0') {
		p++;
		n--;
	}
cn:
	if (n == 11 && p[0] == '1' && p[1] >= '3' && p[1] <= '9') {
		*mobile = 1;
		ok = 1;
	} else if (n >= 9 && n <= 11 && p[0] != '1') {
		ok = 1; /* landline with area code */
	} else if (n >= 9 && n <= 11 && p[0] == '1' && p[1] == '0') {
		ok = 1; /* Beijing 010 */
	}
	if (ok)
		ok = snprintf(out, outsz, "+86%s", p) > 0;
out:
	free(f);
	return ok;
}

bool match_uscc_valid(const char *s)
{
	static const char alpha[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
	int sum = 0, i, c;

	if (!s || strlen(s) != 18)
		return false;
	for (i = 0; i < 17; i++) {
		const char *p = strchr(alpha, s[i]);
		if (!p || !s[i])
			return false;
		sum += (int)(p - alpha) * w[i];
	}
	c = (31 - sum % 31) % 31;
	return s[17] == alpha[c];
}

static void norm_uscc(const char *in, char *out)
{
	char *f = match__fold(in, 0);
	size_t n = 0;
	const char *p;

	out[0] = '\0';
	if (!f)
		return;
	for (p = f; *p && n < 18; p++) {
		if (*p == ' ')
			continue;
		out[n++] = (char)toupper((unsigned char)*p);
	}
	out[n] = '\0';
	if (*p || !match_uscc_valid(out))
		out[0] = '\0';
	free(f);
}

static void norm_idnum(const char *in, char *out, size_t outsz)
{
	char *f = match__fold(in, 0);
	size_t n = 0;
	const char *p;

	out[0] = '\0';
	if (!f)
		return;
	for (p = f; *p && n + 1 < outsz; p++)
		if (isalnum((unsigned char)*p))
			out[n++] = (char)toupper((unsigned char)*p);
	out[n] = '\0';
	free(f);
}

static void norm_email(struct match_record *r, const char *in)
{
	char buf[256];
	size_t n = 0;
	const char *p, *at;

	for (p = in; *p && n + 1 < sizeof buf; p++)
		if (!isspace((unsigned char)*p))
			buf[n++] = (char)tolower((unsigned char)*p);
	buf[n] = '\0';
	at = strchr(buf, '@');
	if (!at || at == buf || !strchr(at, '.') || strchr(at + 1, '@'))
		return;
	r->email = match__hash('e', buf, n);
	r->email_domain = match__hash('m', at + 1, strlen(at + 1));
	r->email_free = (uint8_t)in_list(at + 1, free_mail);
}

static int two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static void norm_birth(struct match_record *r, const char *in)
{
	char d[16];
	size_t n = 0;
	const char *p;
	int y, m, dd;

	for (p = in; *p && n < 9; p++)
		if (*p >= '0' && *p <= '9')
			d[n++] = *p;
	if (n != 8)
		return;
	y = two(d) * 100 + two(d + 2);
	m = two(d + 4);
	dd = two(d + 6);
	if (y < 1800 || y > 2200 || m < 1 || m > 12 || dd < 1 || dd > 31)
		return;
	r->has_birth = 1;
	r->birth_y = (uint16_t)y;
	r->birth_m = (uint8_t)m;
	r->birth_d = (uint8_t)dd;
}

static int valid_or_empty(const char *s)
{
	return !s || crm_utf8_valid(s, strlen(s));
}

enum crm_err match_record_init(struct match_record *out, const struct match_input *in,
			       struct crm_error *err)
{
	enum crm_err rc = CRM_OK;
	char *f = NULL;
	const char *const all[] = {in->kind, in->name, in->uscc, in->id_number, in->birth_date,
				   in->phone, in->email, in->address, in->city, in->region};
	size_t i;
	int bad = 0;

	memset(out, 0, sizeof *out);
	out->region = -1;
	out->branch_region = -1;
	for (i = 0; i < sizeof all / sizeof all[0]; i++)
		if (!valid_or_empty(all[i])) {
			rc = crm_fail(err, CRM_EUTF8, "customer field %zu: not valid UTF-8", i);
			goto out;
		}
	if (in->uscc && *in->uscc)
		norm_uscc(in->uscc, out->uscc);
	if (in->kind && strcmp(in->kind, "person") == 0)
		out->kind = MATCH_KIND_PERSON;
	else if (in->kind && strcmp(in->kind, "company") == 0)
		out->kind = MATCH_KIND_COMPANY;
	if (in->name && *in->name) {
		f = match__fold(in->name, 1);
		if (!f)
			goto nomem;
		if (out->kind == MATCH_KIND_PERSON) {
			parse_person(out, f);
		} else {
			int legal = parse_company(out, f);
			if (out->kind == MATCH_KIND_UNKNOWN)
				out->kind = (legal || out->uscc[0] || out->branch) ?
						    MATCH_KIND_COMPANY :
						    MATCH_KIND_UNKNOWN;
		}
		make_grams(out);
	}
	if (out->region < 0 && in->region && *in->region) {
		char *g = match__fold(in->region, 0);
		if (!g)
			goto nomem;
		out->region = (int16_t)match__region_lookup(g);
		free(g);
	}
	if (in->city && *in->city && out->kind != MATCH_KIND_PERSON &&
	    (out->branch ? out->branch_region < 0 : out->region < 0)) {
		/* the city column says where this office is: a branch's own city */
		char *g = match__fold(in->city, 0);
		if (!g)
			goto nomem;
		if (out->branch)
			out->branch_region = (int16_t)match__region_guess(g, 0);
		else
			out->region = (int16_t)match__region_guess(g, 0);
		free(g);
	}
	if (in->phone && *in->phone) {
		char e164[32];
		int mobile;
		if (norm_phone(in->phone, e164, sizeof e164, &mobile)) {
			out->phone = match__hash('p', e164, strlen(e164));
			out->phone_mobile = (uint8_t)mobile;
		}
	}
	if (in->email && *in->email)
		norm_email(out, in->email);
	if (in->id_number && *in->id_number)
		norm_idnum(in->id_number, out->id_number, sizeof out->id_number);
	if (in->birth_date && *in->birth_date)
		norm_birth(out, in->birth_date);
	/* a company's city is its region; a person's suburb helps the address */
	parse_address(out, in->address, out->kind == MATCH_KIND_PERSON ? in->city : NULL, &bad);
	if (bad)
		goto nomem;
	goto out;
nomem:
	rc = crm_fail(err, CRM_ENOMEM, "out of memory normalizing a customer");
out:
	free(f);
	return rc;
}

/*
 * match: pair scoring and the match / review / distinct decision.
 *
 * A score is a sum of evidence points (log-odds in spirit, Fellegi-Sunter):
 * agreement on a field adds, disagreement subtracts, a missing field adds
 * nothing. Some rules are vetoes that no score overrides: different valid
 * USCCs, a branch against its head office, two named regions that differ.
 * Weights and thresholds are explained in docs/dedup.md.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "match_int.h"

void match_params_default(struct match_params *p)
{
	p->match_threshold = 7.0;
	p->review_threshold = 3.0;
	p->block_cap = 1000;
	p->max_candidates = 256;
}

const char *match_decision_name(enum match_decision d)
{
	switch (d) {
	case MATCH_MATCH:
		return "match";
	case MATCH_REVIEW:
		return "review";
	default:
		return "distinct";
	}
}

/* Adds a reason: the text, and " %.2f" of x when x >= 0. */
static void reason(struct match_verdict *v, const char *text, double x)
{
	if (v->nreasons >= MATCH_REASONS_MAX)
		return;
	{
		/* by hand: this runs for every scored pair, printf's %f is slow */
		char *o = v->reasons[v->nreasons];
		size_t n = strlen(text);
		if (n > MATCH_REASON_LEN - 6)
			n = MATCH_REASON_LEN - 6;
		memcpy(o, text, n);
		if (x >= 0) {
			long c = (long)(x * 100.0 + 0.5);
			if (c > 999)
				c = 999;
			o[n++] = ' ';
			o[n++] = (char)('0' + c / 100);
			o[n++] = '.';
			o[n++] = (char)('0' + (c / 10) % 10);
			o[n++] = (char)('0' + c % 10);
		}
		o[n] = '\0';
	}
	v->nreasons++;
}

char *match_verdict_reasons(const struct match_verdict *v, char *buf, size_t bufsz)
{
	size_t used = 0;
	int i;

	if (bufsz == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < v->nreasons; i++) {
		int k = snprintf(buf + used, bufsz - used, "%s%s", i ? ", " : "", v->reasons[i]);
		if (k < 0 || (size_t)k >= bufsz - used)
			break;
		used += (size_t)k;
	}
	return buf;
}

/* ---- similarities ------------------------------------------------------- */

/* Splits a ' '-separated code point array into token offsets. */
static size_t split_tokens(const uint32_t *s, size_t n, size_t *start, size_t *len, size_t max)
{
	size_t i = 0, k = 0;

	while (i < n && k < max) {
		size_t j = i;
		while (j < n && s[j] != ' ')
			j++;
		if (j > i) {
			start[k] = i;
			len[k] = j - i;
			k++;
		}
		i = j + 1;
	}
	return k;
}

/* The array without spaces (for whole-name edit similarity). */
static size_t squeeze(const uint32_t *s, size_t n, uint32_t *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (s[i] != ' ')
			out[k++] = s[i];
	return k;
}

/* Company name core similarity in [0, 1]. */
static double company_name_sim(const struct match_record *a, const struct match_record *b)
{
	uint32_t x[MATCH_CORE_MAX], y[MATCH_CORE_MAX];
	size_t nx, ny, mn;
	double sim;

	if (a->core_len == 0 || b->core_len == 0)
		return -1.0;
	nx = squeeze(a->core, a->core_len, x);
	ny = squeeze(b->core, b->core_len, y);
	if (nx == ny && memcmp(x, y, nx * sizeof *x) == 0)
		return 1.0;
	{
		/* below 0.4 the points are clamped and MATCH vetoed: no need to know more */
		size_t mx = nx > ny ? nx : ny;
		unsigned maxd = (unsigned)(mx * 6 / 10);
		unsigned d = (nx > ny ? nx - ny : ny - nx) > maxd ?
				     maxd + 1 :
				     match__lev_bounded(x, nx, y, ny, maxd);
		sim = 1.0 - (double)d / (double)mx;
	}
	/* one name is the other's start: the industry word was left out */
	mn = nx < ny ? nx : ny;
	if (mn >= 2 && memcmp(x, y, mn * sizeof *x) == 0 &&
	    (match__is_cjk(x[0]) ? mn >= 2 : mn >= 4) && sim < 0.8)
		sim = 0.8;
	return sim;
}

/*
 * Person name similarity: each token's best Jaro-Winkler partner, averaged
 * both ways (so given/surname swaps and a missing given name are handled).
 */
static double person_name_sim(const struct match_record *a, const struct match_record *b)
{
	size_t sa[MATCH_CORE_MAX], la[MATCH_CORE_MAX], sb[MATCH_CORE_MAX], lb[MATCH_CORE_MAX];
	size_t na, nb, i, j;
	double ab = 0, ba = 0;

	if (a->core_len == 0 || b->core_len == 0)
		return -1.0;
	na = split_tokens(a->core, a->core_len, sa, la, MATCH_CORE_MAX);
	nb = split_tokens(b->core, b->core_len, sb, lb, MATCH_CORE_MAX);
	if (na == 0 || nb == 0)
		return -1.0;
	if (na == 1 && nb == 1 && match__is_cjk(a->core[0]))
		return match__lev_sim(a->core, a->core_len, b->core, b->core_len);
	for (i = 0; i < na; i++) {
		double best = 0;
		for (j = 0; j < nb; j++) {
			double s = match__jaro_winkler(a->core + sa[i], la[i], b->core + sb[j], lb[j]);
			if (s > best)
				best = s;
		}
		ab += best;
	}
	for (j = 0; j < nb; j++) {
		double best = 0;
		for (i = 0; i < na; i++) {
			double s = match__jaro_winkler(a->core + sa[i], la[i], b->core + sb[j], lb[j]);
			if (s > best)
				best = s;
		}
		ba += best;
	}
	ab /= (double)na;
	ba /= (double)nb;
	/* a missing token costs less than a wrong one: weight by the longer side */
	return na >= nb ? (ab * 2 + ba) / 3 : (ab + ba * 2) / 3;
}

/* Birth dates: 1 same, 0.6 day/month swapped or one digit wrong, 0 else. */
static double birth_sim(const struct match_record *a, const struct match_record *b)
{
	char x[16], y[16];
	int diff = 0, i, first = -1, second = -1;

	if (a->birth_y == b->birth_y && a->birth_m == b->birth_m && a->birth_d == b->birth_d)
		return 1.0;
	if (a->birth_y == b->birth_y && a->birth_m == b->birth_d && a->birth_d == b->birth_m)
		return 0.6;
	snprintf(x, sizeof x, "%04u%02u%02u", (unsigned)a->birth_y, (unsigned)a->birth_m,
		 (unsigned)a->birth_d);
	snprintf(y, sizeof y, "%04u%02u%02u", (unsigned)b->birth_y, (unsigned)b->birth_m,
		 (unsigned)b->birth_d);
	for (i = 0; i < 8; i++) {
		if (x[i] != y[i]) {
			diff++;
			if (first < 0)
				first = i;
			else
				second = i;
		}
	}
	if (diff == 1)
		return 0.6;
	if (diff == 2 && second == first + 1 && x[first] == y[second] && x[second] == y[first])
		return 0.6;
	return 0.0;
}

/* Id numbers: 1 same, 0.6 one edit or swap, 0 else. */
static double id_sim(const char *a, const char *b)
{
	uint32_t x[MATCH_ID_MAX], y[MATCH_ID_MAX];
	size_t nx, ny, i;
	unsigned d;

	if (strcmp(a, b) == 0)
		return 1.0;
	nx = strlen(a);
	ny = strlen(b);
	for (i = 0; i < nx; i++)
		x[i] = (unsigned char)a[i];
	for (i = 0; i < ny; i++)
		y[i] = (unsigned char)b[i];
	d = match__lev(x, nx, y, ny);
	if (d <= 1)
		return 0.6;
	if (d == 2 && nx == ny) {
		size_t f = nx;
		for (i = 0; i < nx; i++)
			if (x[i] != y[i]) {
				f = i;
				break;
			}
		if (f + 1 < nx && x[f] == y[f + 1] && x[f + 1] == y[f] &&
		    memcmp(x + f + 2, y + f + 2, (nx - f - 2) * sizeof *x) == 0)
			return 0.6;
	}
	return 0.0;
}

static int is_digit_tok(const uint32_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

/*
 * Address overlap in [0, 1]: tokens matched (numbers exactly, words with
 * Jaro-Winkler >= 0.88) over all tokens of both sides. -1 if one is empty.
 */
static double addr_sim(const struct match_record *a, const struct match_record *b)
{
	size_t sa[MATCH_ADDR_MAX], la[MATCH_ADDR_MAX], sb[MATCH_ADDR_MAX], lb[MATCH_ADDR_MAX];
	size_t na, nb, i, j;
	double hit = 0;
	uint8_t used[MATCH_ADDR_MAX];

	if (a->addr_len == 0 || b->addr_len == 0)
		return -1.0;
	na = split_tokens(a->addr, a->addr_len, sa, la, MATCH_ADDR_MAX);
	nb = split_tokens(b->addr, b->addr_len, sb, lb, MATCH_ADDR_MAX);
	if (na == 0 || nb == 0)
		return -1.0;
	memset(used, 0, sizeof used);
	for (i = 0; i < na; i++) {
		const uint32_t *t = a->addr + sa[i];
		int num = is_digit_tok(t, la[i]);
		double best = 0;
		size_t bj = nb;
		for (j = 0; j < nb; j++) {
			const uint32_t *u = b->addr + sb[j];
			double s;
			if (used[j])
				continue;
			if (num || is_digit_tok(u, lb[j]))
				s = (la[i] == lb[j] && memcmp(t, u, la[i] * sizeof *t) == 0) ? 1.0 : 0.0;
			else
				s = match__jaro_winkler(t, la[i], u, lb[j]);
			if (s > best) {
				best = s;
				bj = j;
			}
		}
		if (best >= 0.88 && bj < nb) {
			used[bj] = 1;
			hit += best;
		}
	}
	return 2.0 * hit / (double)(na + nb);
}

static double clampd(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* ---- decisions ---------------------------------------------------------- */

static void finish(struct match_verdict *v, const struct match_params *p, int veto_match)
{
	if (v->score >= p->match_threshold && !veto_match)
		v->decision = MATCH_MATCH;
	else if (v->score >= p->review_threshold)
		v->decision = MATCH_REVIEW;
	else
		v->decision = MATCH_DISTINCT;
}

/*
 * True if both cores are CJK, at least 4 characters, of the same length and
 * differ in exactly one character that is not in the last two (the
 * industry word: 华信科技 vs 华信贸易 is another company).
 */
static int cjk_one_typo(const struct match_record *a, const struct match_record *b)
{
	uint32_t x[MATCH_CORE_MAX], y[MATCH_CORE_MAX];
	size_t nx = squeeze(a->core, a->core_len, x), ny = squeeze(b->core, b->core_len, y);
	size_t i, diff = 0, at = 0;

	if (nx != ny || nx < 4 || !match__is_cjk(x[0]) || !match__is_cjk(y[0]))
		return 0;
	for (i = 0; i < nx; i++)
		if (x[i] != y[i]) {
			diff++;
			at = i;
		}
	return diff == 1 && at + 2 < nx;
}

/*
 * The points of a company pair from everything but the name: region, phone,
 * e-mail, and at most the address's 2 (not computed: it is the costly part).
 * The same sums as compare_company's, for its quick bound.
 */
static double company_rest_max(const struct match_record *a, const struct match_record *b, int rel)
{
	double pts = 2.0;

	if (rel == 2)
		pts += 1.0;
	else if (rel == 0)
		pts -= 6.0;
	if (a->phone && a->phone == b->phone)
		pts += a->phone_mobile ? 5.0 : 3.5;
	if (a->email && a->email == b->email)
		pts += 5.0;
	else if (a->email_domain && a->email_domain == b->email_domain && !a->email_free)
		pts += 1.0;
	else if (a->email_domain && b->email_domain && !a->email_free && !b->email_free)
		pts -= 2.0;
	return pts;
}

/*
 * At least the name points compare_company can give the pair: what the
 * length difference leaves of the edit similarity (an upper bound of it,
 * computed with the same operations), or 2 (one character off, a prefix).
 */
static double company_name_max(const struct match_record *a, const struct match_record *b, int rel)
{
	uint32_t x[MATCH_CORE_MAX], y[MATCH_CORE_MAX];
	size_t nx, ny, mx;
	double sim, pts;

	if (a->core_len == 0 || b->core_len == 0)
		return 0.0;
	nx = squeeze(a->core, a->core_len, x);
	ny = squeeze(b->core, b->core_len, y);
	if (nx == ny && memcmp(x, y, nx * sizeof *x) == 0)
		return rel == 1 ? 5.5 : 7.0;
	{
		/* company_name_sim's distance is at least this (its cap included) */
		size_t diff = nx > ny ? nx - ny : ny - nx;
		unsigned maxd;

		mx = nx > ny ? nx : ny;
		maxd = (unsigned)(mx * 6 / 10);
		sim = 1.0 - (double)(diff > maxd ? maxd + 1 : diff) / (double)mx;
	}
	pts = clampd((sim - 0.75) * 24.0, -8.0, 5.0);
	return pts > 2.0 ? pts : 2.0;
}

/*
 * quick: the caller only keeps REVIEW and MATCH verdicts; a pair that
 * cannot reach the review threshold is given DISTINCT without its name's
 * edit distance or its address measured (score and reasons then partial).
 */
static void compare_company(const struct match_record *a, const struct match_record *b,
			    const struct match_params *p, struct match_verdict *v, int quick)
{
	double name;
	int rel = match__region_relation(a->region, b->region);
	int veto = 0, strong = 0;

	/* vetoes first */
	if (a->uscc[0] && b->uscc[0] && strcmp(a->uscc, b->uscc) != 0) {
		reason(v, "different USCC", -1);
		v->score = -20;
		v->decision = MATCH_DISTINCT;
		return;
	}
	if (a->branch != b->branch) {
		reason(v, "branch vs head office", -1);
		v->score = -20;
		v->decision = MATCH_DISTINCT;
		return;
	}
	if (a->branch && match__region_relation(a->branch_region, b->branch_region) == 0) {
		reason(v, "different branches", -1);
		v->score = -20;
		v->decision = MATCH_DISTINCT;
		return;
	}
	if (a->uscc[0] && b->uscc[0]) {
		reason(v, "same USCC", -1);
		v->score = 20;
		v->decision = MATCH_MATCH;
		return;
	}
	/* 1e-9: the bound sums in another order than the score below */
	if (quick && company_name_max(a, b, rel) + company_rest_max(a, b, rel) <
			     p->review_threshold - 1e-9) {
		v->decision = MATCH_DISTINCT;
		return;
	}
	name = company_name_sim(a, b);
	if (name >= 0) {
		double pts;
		if (name >= 1.0)
			pts = rel == 1 ? 5.5 : 7.0; /* a name alone with a region unknown: ask */
		else
			pts = clampd((name - 0.75) * 24.0, -8.0, 5.0);
		if (pts < 2.0 && cjk_one_typo(a, b)) {
			/* 华信 typed 华新: a pinyin input method's homophone */
			pts = 2.0;
			reason(v, "name one character off", -1);
		} else {
			reason(v, "name", name);
		}
		v->score += pts;
	}
	if (rel == 2) {
		v->score += 1.0;
		reason(v, "same region", -1);
	} else if (rel == 0) {
		v->score -= 6.0;
		veto = 1;
		reason(v, "different region", -1);
	}
	if (a->phone && a->phone == b->phone) {
		v->score += a->phone_mobile ? 5.0 : 3.5;
		strong = 1;
		reason(v, a->phone_mobile ? "same mobile" : "same phone", -1);
	}
	if (a->email && a->email == b->email) {
		v->score += 5.0;
		strong = 1;
		reason(v, "same e-mail", -1);
	} else if (a->email_domain && a->email_domain == b->email_domain && !a->email_free) {
		v->score += 1.0;
		reason(v, "same e-mail domain", -1);
	} else if (a->email_domain && b->email_domain && !a->email_free && !b->email_free) {
		v->score -= 2.0;
		reason(v, "different e-mail domain", -1);
	}
	if (quick && v->score + 2.0 < p->review_threshold - 1e-9) {
		v->decision = MATCH_DISTINCT; /* the address cannot lift it to a review */
		return;
	}
	{
		double ad = addr_sim(a, b);
		if (ad >= 0.9 && a->addr_len >= 4 && b->addr_len >= 4) {
			v->score += 2.0;
			reason(v, "same address", -1);
		}
	}
	if (name < 0.6 && name >= 0)
		veto = 1; /* shared numbers alone never merge two names */
	(void)strong;
	finish(v, p, veto);
}

static void compare_person(const struct match_record *a, const struct match_record *b,
			   const struct match_params *p, struct match_verdict *v)
{
	double name = person_name_sim(a, b);
	double addr = -1;
	int veto = 0, same_id = 0, same_birth = 0;

	if (name >= 0) {
		v->score += clampd((name - 0.8) * 25.0, -6.0, 4.5);
		reason(v, "name", name);
	}
	if (a->id_number[0] && b->id_number[0]) {
		double s = id_sim(a->id_number, b->id_number);
		if (s >= 1.0) {
			v->score += 7.0;
			same_id = 1;
			reason(v, "same id number", -1);
		} else if (s > 0) {
			v->score += 3.0;
			reason(v, "id number", s);
		} else {
			v->score -= 2.0;
			reason(v, "different id number", -1);
		}
	}
	if (a->has_birth && b->has_birth) {
		double s = birth_sim(a, b);
		if (s >= 1.0) {
			v->score += 4.5;
			same_birth = 1;
			reason(v, "same birth date", -1);
		} else if (s > 0) {
			v->score += 2.0;
			reason(v, "birth date", s);
		} else {
			v->score -= 2.0;
			reason(v, "different birth date", -1);
		}
	}
	if (a->phone && a->phone == b->phone) {
		v->score += 4.0;
		reason(v, "same phone", -1);
	}
	if (a->email && a->email == b->email) {
		v->score += 4.0;
		reason(v, "same e-mail", -1);
	}
	/* the address (the costly part) only when it can change the decision */
	if (v->score + 5.5 < p->review_threshold)
		goto done;
	if (v->score - 2.0 >= p->match_threshold && !(name >= 0 && name < 0.55))
		goto done;
	addr = addr_sim(a, b);
	if (addr >= 0) {
		v->score += clampd((addr - 0.4) * 10.0, -2.0, 5.5);
		reason(v, "address", addr);
	}
	if (name >= 0 && name < 0.55 && !(same_id && (same_birth || addr >= 0.8)))
		veto = 1; /* another name: only an id number with a birth date or address overrides */
done:
	finish(v, p, veto);
}

/* A cheap total order of records (most differ in the first fields tested). */
static int record_order(const struct match_record *a, const struct match_record *b)
{
	size_t n;
	int c;

	if (a->phone != b->phone)
		return a->phone < b->phone ? -1 : 1;
	if (a->email != b->email)
		return a->email < b->email ? -1 : 1;
	if (a->core_len != b->core_len)
		return a->core_len < b->core_len ? -1 : 1;
	n = a->core_len;
	c = memcmp(a->core, b->core, n * sizeof a->core[0]);
	if (c != 0)
		return c;
	return memcmp(a, b, sizeof *a);
}

static void compare(const struct match_record *a, const struct match_record *b,
		    const struct match_params *p, struct match_verdict *v, int quick)
{
	struct match_params def;

	if (!p) {
		match_params_default(&def);
		p = &def;
	}
	memset(v, 0, sizeof *v);
	if (record_order(a, b) > 0) {
		/* a fixed order makes every measure symmetric */
		const struct match_record *t = a;
		a = b;
		b = t;
	}
	if (a->kind == MATCH_KIND_PERSON || b->kind == MATCH_KIND_PERSON) {
		if (a->kind == MATCH_KIND_COMPANY || b->kind == MATCH_KIND_COMPANY) {
			reason(v, "person vs company", -1);
			v->score = -20;
			v->decision = MATCH_DISTINCT;
			return;
		}
		compare_person(a, b, p, v);
		return;
	}
	compare_company(a, b, p, v, quick);
}

void match_compare(const struct match_record *a, const struct match_record *b,
		   const struct match_params *p, struct match_verdict *v)
{
	compare(a, b, p, v, 0);
}

void match__compare_quick(const struct match_record *a, const struct match_record *b,
			  const struct match_params *p, struct match_verdict *v)
{
	compare(a, b, p, v, 1);
}

/* ---- blocking keys ------------------------------------------------------ */

#define KEY_STRONG_TAG 0x80u

int match__key_strong(uint64_t key)
{
	return (key >> 56) & KEY_STRONG_TAG ? 1 : 0;
}

static uint64_t mark(uint64_t h, int strong)
{
	h &= ~((uint64_t)0xFF << 56);
	h |= (uint64_t)(strong ? KEY_STRONG_TAG : 0x01u) << 56;
	return h;
}

size_t match__keys(const struct match_record *r, uint64_t *keys, size_t max)
{
	size_t n = 0, i;

#define ADD(k, s)                                    \
	do {                                         \
		if (n < max)                         \
			keys[n++] = mark((k), (s));   \
	} while (0)
	if (r->uscc[0])
		ADD(match__hash('U', r->uscc, strlen(r->uscc)), 1);
	if (r->phone)
		ADD(r->phone, 1);
	if (r->email)
		ADD(r->email, 1);
	if (r->id_number[0])
		ADD(match__hash('I', r->id_number, strlen(r->id_number)), 1);
	if (r->kind == MATCH_KIND_PERSON) {
		/* name tokens, birth date, first letters + birth year, street */
		size_t st[MATCH_CORE_MAX], ln[MATCH_CORE_MAX];
		size_t k = split_tokens(r->core, r->core_len, st, ln, MATCH_CORE_MAX);
		for (i = 0; i < k; i++)
			ADD(match__hash('N', r->core + st[i], ln[i] * 4), 0);
		if (r->has_birth) {
			uint32_t d[3] = {r->birth_y, r->birth_m, r->birth_d};
			ADD(match__hash('D', d, sizeof d), 0);
			for (i = 0; i < k; i++) {
				uint32_t x[3] = {r->core[st[i]], ln[i] > 1 ? r->core[st[i] + 1] : 0,
						 r->birth_y};
				ADD(match__hash('Y', x, sizeof x), 0);
			}
		}
		if (r->addr_len) {
			size_t as[MATCH_ADDR_MAX], al[MATCH_ADDR_MAX];
			size_t m = split_tokens(r->addr, r->addr_len, as, al, MATCH_ADDR_MAX);
			for (i = 0; i < m && i < 6; i++)
				if (al[i] >= 4 && !is_digit_tok(r->addr + as[i], al[i]))
					ADD(match__hash('A', r->addr + as[i], al[i] * 4), 0);
		}
	} else {
		size_t st[MATCH_CORE_MAX], ln[MATCH_CORE_MAX];
		size_t k = split_tokens(r->core, r->core_len, st, ln, MATCH_CORE_MAX);
		for (i = 0; i < r->ngrams; i++)
			ADD(match__hash('G', &r->grams[i], 4), 0);
		/*
		 * Rarer grams for big pools, where single words (trading, acme)
		 * fill their blocks: adjacent word pairs.
		 */
		for (i = 0; i + 1 < k; i++) {
			uint32_t x[MATCH_CORE_MAX];
			size_t m = ln[i] + ln[i + 1];
			memcpy(x, r->core + st[i], ln[i] * 4);
			memcpy(x + ln[i], r->core + st[i + 1], ln[i + 1] * 4);
			ADD(match__hash('W', x, m * 4), 0);
		}

		if (r->core_len) {
			uint32_t x[MATCH_CORE_MAX], y[MATCH_CORE_MAX];
			size_t m = squeeze(r->core, r->core_len, x);
			ADD(match__hash('C', x, m * 4), 0);
			/*
			 * Deletion neighbourhood (SymSpell): the name without one of
			 * its characters. Two names one typo apart share one of these.
			 */
			if (m >= 3 && m <= 24) {
				ADD(match__hash('X', x, m * 4), 0);
				for (i = 0; i < m; i++) {
					memcpy(y, x, i * 4);
					memcpy(y + i, x + i + 1, (m - i - 1) * 4);
					ADD(match__hash('X', y, (m - 1) * 4), 0);
				}
			}
		}
	}
#undef ADD
	return n;
}

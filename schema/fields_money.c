/*
 * Field rules for money and currency codes: "12,000.50", "¥12000", "1.5万元",
 * "USD 99.99" to minor units and an ISO 4217 code. See fields.h.
 */
#include "fields.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fields_int.h"

#define MONEY_EXAMPLE "expected e.g. 12,000.50, ¥12000, 12000 CNY, USD 99.99 or 1.5万"

struct currency_alias {
	const char *text; /* as typed, ASCII letters compared case-insensitively */
	const char *code;
};

/*
 * Symbols and words people write instead of a code. "¥" is read as CNY here
 * (the yen sign is the same character; this CRM's money is mostly yuan).
 * Longer spellings come before their prefixes ("HK$" before "$").
 */
static const struct currency_alias currency_aliases[] = {
	{"HK$", "HKD"}, {"US$", "USD"}, {"RMB", "CNY"}, {"人民币", "CNY"}, {"¥", "CNY"},
	{"元", "CNY"},  {"块", "CNY"},  {"$", "USD"},   {"美元", "USD"},   {"€", "EUR"},
	{"欧元", "EUR"}, {"£", "GBP"},  {"英镑", "GBP"}, {"港元", "HKD"},   {"港币", "HKD"},
	{"日元", "JPY"}, {NULL, NULL},
};

/*
 * A currency at the start of s: an alias or three ASCII letters not followed by
 * another letter. code gets the ISO code; returns the bytes used or 0.
 */
static size_t currency_at(const char *s, char code[FIELD_CURRENCY_MAX])
{
	for (size_t i = 0; currency_aliases[i].text; i++) {
		size_t n = fields__prefix_ci(s, currency_aliases[i].text);

		if (n && !(is_alpha(currency_aliases[i].text[0]) && is_alpha(s[n]))) {
			memcpy(code, currency_aliases[i].code, FIELD_CURRENCY_MAX);
			return n;
		}
	}
	if (is_alpha(s[0]) && is_alpha(s[1]) && is_alpha(s[2]) && !is_alpha(s[3])) {
		for (int i = 0; i < 3; i++)
			code[i] = to_upper(s[i]);
		code[3] = '\0';
		return 3;
	}
	return 0;
}

/* Minus signs: ASCII and U+2212. Returns the bytes used or 0. */
static size_t minus_at(const char *p)
{
	if (*p == '-')
		return 1;
	if (strncmp(p, "\xe2\x88\x92", 3) == 0)
		return 3;
	return 0;
}

/* v * 10^e into *out without overflow. */
static bool scale10(int64_t v, int e, int64_t *out)
{
	for (int i = 0; i < e; i++) {
		if (v > INT64_MAX / 10)
			return false;
		v *= 10;
	}
	*out = v;
	return true;
}

/*
 * The number part: digits with optional thousands commas (groups of three),
 * an optional fraction. *mant gets all digits as one integer, *frac the number
 * of fraction digits. NULL on success, else why.
 */
static const char *money_number(const char **pp, int64_t *mant, int *frac)
{
	const char *p = *pp;
	int64_t v = 0;
	int group = -1, nint = 0, nfrac = 0;

	while (is_digit(*p) || (*p == ',' && is_digit(p[1]))) {
		if (*p == ',') {
			if (group == 0 || (group > 0 && group != 3) || nint == 0 ||
			    (group < 0 && nint > 3))
				return "not an amount: misplaced thousands comma";
			group = 0;
			p++;
			continue;
		}
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return "too large an amount";
		v = v * 10 + (*p - '0');
		nint++;
		if (group >= 0)
			group++;
		p++;
	}
	if (group >= 0 && group != 3)
		return "not an amount: misplaced thousands comma";
	if (nint == 0)
		return "not an amount";
	if (*p == '.') {
		p++;
		while (is_digit(*p)) {
			if (v > (INT64_MAX - (*p - '0')) / 10 || nfrac > 12)
				return "too large an amount";
			v = v * 10 + (*p - '0');
			nfrac++;
			p++;
		}
		if (nfrac == 0)
			return "not an amount: nothing after the decimal point";
	}
	*mant = v;
	*frac = nfrac;
	*pp = p;
	return NULL;
}

static const char *money_parse(const char *s, int64_t *minor, char cur[FIELD_CURRENCY_MAX])
{
	const char *p = s, *why;
	char pre[FIELD_CURRENCY_MAX] = "", post[FIELD_CURRENCY_MAX] = "";
	bool neg = false, wan = false;
	int64_t mant = 0, v;
	int frac = 0, e;
	size_t n;

	n = minus_at(p);
	if (n) {
		neg = true;
		p = skip_spaces(p + n);
	} else if (*p == '+') {
		p = skip_spaces(p + 1);
	}
	n = currency_at(p, pre);
	if (n) {
		p = skip_spaces(p + n);
		n = minus_at(p);
		if (n && !neg) {
			neg = true;
			p = skip_spaces(p + n);
		}
	}
	why = money_number(&p, &mant, &frac);
	if (why)
		return why;
	p = skip_spaces(p);
	if (strncmp(p, "万", strlen("万")) == 0) {
		wan = true;
		p = skip_spaces(p + strlen("万"));
	}
	n = currency_at(p, post);
	if (n)
		p = skip_spaces(p + n);
	if (*p != '\0')
		return "not an amount";
	if (pre[0] && post[0] && strcmp(pre, post) != 0)
		return "two different currencies";
	e = 2 + (wan ? 4 : 0) - frac;
	if (e >= 0) {
		if (!scale10(mant, e, &v))
			return "too large an amount";
	} else {
		int64_t div = 1;

		for (int i = 0; i < -e; i++)
			div *= 10;
		if (mant % div != 0)
			return "at most two decimals are allowed";
		v = mant / div;
	}
	*minor = neg ? -v : v;
	memcpy(cur, pre[0] ? pre : post, FIELD_CURRENCY_MAX);
	return NULL;
}

/*
 * Amounts are kept in hundredths of the unit for every currency (fen, cents):
 * one rule everywhere, even for the few currencies (JPY, KRW) that have none.
 */
enum crm_err field_money(const char *field, const char *in, const char *default_currency,
			 int64_t *minor, char currency[FIELD_CURRENCY_MAX], struct crm_error *err)
{
	enum crm_err rc;
	char *s = NULL;
	char cur[FIELD_CURRENCY_MAX] = "";
	const char *why;
	int64_t v = 0;

	currency[0] = '\0';
	rc = fields__fold(field, in, &s, err);
	if (rc != CRM_OK)
		return rc;
	why = money_parse(s, &v, cur);
	if (why) {
		rc = fields__bad(err, field, in, why, MONEY_EXAMPLE);
		goto out;
	}
	if (cur[0] == '\0' && default_currency) {
		rc = field_currency(field, default_currency, cur, err);
		if (rc != CRM_OK)
			goto out;
	}
	*minor = v;
	memcpy(currency, cur, FIELD_CURRENCY_MAX);
out:
	free(s);
	return rc;
}

enum crm_err field_currency(const char *field, const char *in, char out[FIELD_CURRENCY_MAX],
			    struct crm_error *err)
{
	enum crm_err rc;
	char *s = NULL;
	char code[FIELD_CURRENCY_MAX] = "";
	size_t n;

	out[0] = '\0';
	rc = fields__fold(field, in, &s, err);
	if (rc != CRM_OK)
		return rc;
	n = currency_at(s, code);
	if (n == 0 || s[n] != '\0') {
		rc = fields__bad(err, field, in, "not a currency code",
			 "expected three letters like CNY, USD, EUR, HKD");
		goto out;
	}
	memcpy(out, code, FIELD_CURRENCY_MAX);
out:
	free(s);
	return rc;
}

/*
 * Field rules for times and dates: ISO-8601, 2026/11/24, 2026年11月24日,
 * "now", "today", "tomorrow 09:30", "+3d", all relative to crm_now_ms() and
 * the local zone. See fields.h.
 */
#include "fields.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_time.h"
#include "fields_int.h"

/* Relative times ("+3d") may reach at most this far, in days. */
#define REL_MAX_DAYS 36600

#define TIME_EXAMPLE                                                                       \
	"expected e.g. 2026-11-24 14:30, 2026-11-24T06:30:00Z, now, today, tomorrow 09:30, " \
	"+3d, -2h or +30m"
#define DATE_EXAMPLE "expected e.g. 2026-11-24, 2026/11/24, 2026年11月24日, today, tomorrow or +7d"

/* Compares a folded keyword case-insensitively (ASCII). */
static bool word_is(const char *s, const char *w)
{
	size_t i;

	for (i = 0; s[i] && w[i]; i++)
		if (to_lower(s[i]) != to_lower(w[i]))
			return false;
	return s[i] == '\0' && w[i] == '\0';
}

/*
 * "+3d", "-2h", "+30m", "+1w": *amount and *unit. Only whole numbers; the
 * magnitude is checked by the caller.
 */
static bool relative(const char *s, int64_t *amount, char *unit)
{
	size_t n = strlen(s), i;
	int64_t v = 0;

	if (n < 3 || (s[0] != '+' && s[0] != '-'))
		return false;
	for (i = 1; i < n - 1; i++) {
		if (!is_digit(s[i]) || v > 100000000)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*unit = to_lower(s[n - 1]);
	*amount = s[0] == '-' ? -v : v;
	return true;
}

/*
 * A date at the start of s: YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD (month and day
 * may have one digit), 2026年11月24日 (or 号), or YYYYMMDD. *rest points after it.
 * Does not check that the date exists.
 */
static bool date_prefix(const char *s, int *y, int *m, int *d, const char **rest)
{
	const char *p = s;
	size_t n;
	bool han = false;
	char sep = 0;

	if (!fields__digits(p, 4, y))
		return false;
	p += 4;
	if (is_digit(*p)) {
		/* YYYYMMDD */
		if (!fields__digits(p, 2, m) || !fields__digits(p + 2, 2, d) || is_digit(p[4]))
			return false;
		*rest = p + 4;
		return true;
	}
	if (*p == '-' || *p == '/' || *p == '.') {
		sep = *p;
		p++;
	} else if (strncmp(p, "年", strlen("年")) == 0) {
		han = true;
		p += strlen("年");
	} else {
		return false;
	}
	for (n = 0; is_digit(p[n]); n++)
		;
	if (n < 1 || n > 2 || !fields__digits(p, n, m))
		return false;
	p += n;
	if (han) {
		if (strncmp(p, "月", strlen("月")) != 0)
			return false;
		p += strlen("月");
	} else {
		if (*p != sep)
			return false;
		p++;
	}
	for (n = 0; is_digit(p[n]); n++)
		;
	if (n < 1 || n > 2 || !fields__digits(p, n, d))
		return false;
	p += n;
	if (han) {
		if (strncmp(p, "日", strlen("日")) == 0)
			p += strlen("日");
		else if (strncmp(p, "号", strlen("号")) == 0)
			p += strlen("号");
	}
	*rest = p;
	return true;
}

/* The local date `days` days from today. */
static void date_from_today(int64_t days, int *y, int *m, int *d)
{
	int ty, tm, td;

	fields__local_date(crm_now_ms(), &ty, &tm, &td);
	fields__civil_from_days(crm_days_from_civil(ty, tm, td) + days, y, m, d);
}

/*
 * "today", "tomorrow", "yesterday" (and 今天, 明天, 昨天) at the start of s, as
 * an offset in days; *rest gets what follows (a time of day, or "").
 */
static bool day_word(const char *s, int64_t *days, const char **rest)
{
	static const struct {
		const char *word;
		int days;
	} words[] = {
		{"today", 0},  {"今天", 0},  {"tomorrow", 1},
		{"明天", 1},   {"yesterday", -1}, {"昨天", -1},
	};

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t n = fields__prefix_ci(s, words[i].word);

		if (n && (s[n] == '\0' || s[n] == ' ' || is_digit(s[n]))) {
			*days = words[i].days;
			*rest = skip_spaces(s + n);
			return true;
		}
	}
	return false;
}

enum crm_err field_time(const char *field, const char *in, int64_t *ms, struct crm_error *err)
{
	enum crm_err rc;
	char *s = NULL;
	char buf[64];
	int64_t days, amount, unit_ms, now = crm_now_ms();
	int y, m, d;
	char unit;
	const char *rest;

	rc = fields__fold(field, in, &s, err);
	if (rc != CRM_OK)
		return rc;
	if (word_is(s, "now") || strcmp(s, "现在") == 0) {
		*ms = now;
		goto out;
	}
	if (day_word(s, &days, &rest)) {
		/* "tomorrow", or "tomorrow 09:30" */
		date_from_today(days, &y, &m, &d);
		if (strlen(rest) > 32) {
			rc = fields__bad(err, field, in, "not a time", TIME_EXAMPLE);
			goto out;
		}
		snprintf(buf, sizeof buf, "%04d-%02d-%02d%s%s", y, m, d, rest[0] ? " " : "", rest);
		if (crm_time_parse(buf, true, ms) != CRM_OK)
			rc = fields__bad(err, field, in, "not a time", TIME_EXAMPLE);
		goto out;
	}
	if (relative(s, &amount, &unit)) {
		switch (unit) {
		case 'm': unit_ms = 60000; break;
		case 'h': unit_ms = 3600000; break;
		case 'd': unit_ms = 86400000; break;
		case 'w': unit_ms = 7 * 86400000LL; break;
		default: unit_ms = 0; break;
		}
		if (unit_ms == 0) {
			rc = fields__bad(err, field, in, "not a time: units are m, h, d, w", TIME_EXAMPLE);
			goto out;
		}
		/* |amount| <= 10^8 and unit_ms < 10^9: the product cannot overflow */
		if ((amount < 0 ? -amount : amount) * unit_ms > REL_MAX_DAYS * 86400000LL) {
			rc = fields__bad(err, field, in, "too far away", TIME_EXAMPLE);
			goto out;
		}
		*ms = now + amount * unit_ms;
		goto out;
	}
	if (date_prefix(s, &y, &m, &d, &rest)) {
		if (!fields__date_exists(y, m, d)) {
			rc = fields__bad(err, field, in, "that date does not exist", TIME_EXAMPLE);
			goto out;
		}
		if (strlen(rest) > 32) {
			rc = fields__bad(err, field, in, "not a time", TIME_EXAMPLE);
			goto out;
		}
		snprintf(buf, sizeof buf, "%04d-%02d-%02d%s%s", y, m, d, is_digit(rest[0]) ? " " : "",
			 rest);
		if (crm_time_parse(buf, true, ms) == CRM_OK)
			goto out;
	}
	rc = fields__bad(err, field, in, "not a time", TIME_EXAMPLE);
out:
	free(s);
	return rc;
}

enum crm_err field_date(const char *field, const char *in, char out[11], struct crm_error *err)
{
	enum crm_err rc;
	char *s = NULL;
	int64_t days, amount;
	int y, m, d;
	char unit;
	const char *rest;

	out[0] = '\0';
	rc = fields__fold(field, in, &s, err);
	if (rc != CRM_OK)
		return rc;
	if (day_word(s, &days, &rest) && *rest == '\0') {
		date_from_today(days, &y, &m, &d);
	} else if (relative(s, &amount, &unit)) {
		if (unit != 'd' && unit != 'w') {
			rc = fields__bad(err, field, in, "not a date: relative dates count d or w", DATE_EXAMPLE);
			goto out;
		}
		days = unit == 'w' ? amount * 7 : amount;
		if ((days < 0 ? -days : days) > REL_MAX_DAYS) {
			rc = fields__bad(err, field, in, "too far away", DATE_EXAMPLE);
			goto out;
		}
		date_from_today(days, &y, &m, &d);
	} else if (date_prefix(s, &y, &m, &d, &rest) && *rest == '\0') {
		if (!fields__date_exists(y, m, d)) {
			rc = fields__bad(err, field, in, "that date does not exist", DATE_EXAMPLE);
			goto out;
		}
	} else {
		rc = fields__bad(err, field, in, "not a date", DATE_EXAMPLE);
		goto out;
	}
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
out:
	free(s);
	return rc;
}

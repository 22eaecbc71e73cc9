/* Clock reading with the CRM_NOW override, and ISO-8601 parsing/formatting. */
#include "crm_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

int64_t crm_days_from_civil(int y, int m, int d)
{
	/* Howard Hinnant's days_from_civil, valid for any proleptic Gregorian date. */
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t mp = (m + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* A date YYYY-MM-DD at the start of s (crm_time_parse reads on after it). */
static enum crm_err date_prefix(const char *s, int *y, int *m, int *d)
{
	if (strlen(s) < 10 || s[4] != '-' || s[7] != '-')
		return CRM_EINVAL;
	if (!digits(s, 4, y) || !digits(s + 5, 2, m) || !digits(s + 8, 2, d))
		return CRM_EINVAL;
	if (*y < 1 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
		return CRM_EINVAL;
	return CRM_OK;
}

enum crm_err crm_date_parse(const char *s, int *y, int *m, int *d)
{
	/* the whole text: "2026-11-24junk" is not a date */
	if (strlen(s) != 10)
		return CRM_EINVAL;
	return date_prefix(s, y, m, d);
}

/* Local-time offset east of UTC, in seconds, for a UTC instant. */
static int64_t local_offset(int64_t utc_s)
{
	time_t t = (time_t)utc_s;
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return (int64_t)tm.tm_gmtoff;
}

enum crm_err crm_time_parse(const char *s, bool local, int64_t *ms)
{
	int y, mo, d, hh = 0, mi = 0, ss = 0, frac = 0;
	int64_t secs, off = 0;
	bool zone = false;
	const char *p;

	if (!s || date_prefix(s, &y, &mo, &d) != CRM_OK)
		return CRM_EINVAL;
	p = s + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(p, 2, &hh) || p[2] != ':' || !digits(p + 3, 2, &mi))
			return CRM_EINVAL;
		p += 5;
		if (*p == ':') {
			if (!digits(p + 1, 2, &ss))
				return CRM_EINVAL;
			p += 3;
			if (*p == '.') {
				int n = 0, scale = 100;

				p++;
				while (*p >= '0' && *p <= '9') {
					if (n < 3)
						frac += (*p - '0') * scale;
					scale /= 10;
					n++;
					p++;
				}
				if (n == 0)
					return CRM_EINVAL;
			}
		}
		if (hh > 23 || mi > 59 || ss > 60)
			return CRM_EINVAL;
	}
	if (*p == 'Z' || *p == 'z') {
		zone = true;
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		int sign = *p == '-' ? -1 : 1;

		if (!digits(p + 1, 2, &oh))
			return CRM_EINVAL;
		if (p[3] == ':') {
			if (!digits(p + 4, 2, &om))
				return CRM_EINVAL;
			p += 6;
		} else if (digits(p + 3, 2, &om)) {
			p += 5;
		} else {
			om = 0;
			p += 3;
		}
		if (oh > 23 || om > 59)
			return CRM_EINVAL;
		off = sign * (oh * 3600 + om * 60);
		zone = true;
	}
	if (*p != '\0')
		return CRM_EINVAL;
	secs = crm_days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss;
	if (!zone && local) {
		/* Two passes find the offset in force at that local time (DST edges). */
		off = local_offset(secs);
		off = local_offset(secs - off);
	}
	*ms = (secs - off) * 1000 + frac;
	return CRM_OK;
}

int64_t crm_now_ms(void)
{
	static char cached_text[64];
	static int64_t cached_ms;
	const char *env = getenv("CRM_NOW");
	struct timeval tv;

	if (env && *env) {
		if (strcmp(env, cached_text) == 0)
			return cached_ms;
		if (strlen(env) < sizeof cached_text && crm_time_parse(env, false, &cached_ms) == CRM_OK) {
			snprintf(cached_text, sizeof cached_text, "%s", env);
			return cached_ms;
		}
	}
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void split(int64_t ms, struct tm *tm, int *millis, bool local)
{
	int64_t s = ms / 1000;
	time_t t;

	*millis = (int)(ms % 1000);
	if (*millis < 0) {
		*millis += 1000;
		s--;
	}
	t = (time_t)s;
	if (local)
		localtime_r(&t, tm);
	else
		gmtime_r(&t, tm);
}

/*
 * The compiler cannot know that struct tm's fields are small, so formatting
 * goes through a buffer wide enough for any int and is cut to the caller's
 * size (only reachable for years past 9999).
 */
static void copy_out(char out[CRM_TIME_ISO_MAX], const char *wide)
{
	size_t n = strnlen(wide, CRM_TIME_ISO_MAX - 1);

	memcpy(out, wide, n);
	out[n] = '\0';
}

void crm_time_format_utc(int64_t ms, char out[CRM_TIME_ISO_MAX])
{
	char wide[96];
	struct tm tm;
	int millis;

	split(ms, &tm, &millis, false);
	snprintf(wide, sizeof wide, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
	copy_out(out, wide);
}

void crm_time_format_local(int64_t ms, char out[CRM_TIME_ISO_MAX])
{
	char wide[96];
	struct tm tm;
	int millis;

	split(ms, &tm, &millis, true);
	snprintf(wide, sizeof wide, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min);
	copy_out(out, wide);
}

/*
 * Field rules: turn what people type (often Chinese, often with full-width
 * digits, spaces and dashes) into one canonical form, or refuse it with a
 * message that names the field and the value and says what is expected.
 *
 * Everything starts with fields__fold(): UTF-8 check, NFKC (utf8proc:
 * full-width digits, letters, signs and the ideographic space become ASCII),
 * outer white space trimmed. The rules then work on that folded text.
 * This file has the shared helpers, phones, e-mail, USCC, id numbers, numbers
 * and free text; fields_money.c and fields_time.c the rest. See fields.h.
 */
#include "fields.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

#include "crm_time.h"
#include "crm_utf8.h"
#include "fields_int.h"

/* Field-rule inputs are short; anything longer is refused before folding. */
#define FOLD_MAX 1024
/* Bytes of a value quoted in a message. */
#define SHOW_MAX 80
#define SHOW_SIZE (SHOW_MAX + 8)

#define PHONE_EXAMPLE "expected e.g. 138 0013 8000, 010-6552 9988 or +1 415 555 2671"
#define EMAIL_EXAMPLE "expected e.g. zhang.san@example.com"
#define USCC_EXAMPLE "expected 18 characters like 91350100M000100Y43"
#define IDNUM_EXAMPLE "expected 18 characters: 17 digits and a check digit or X"

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* ---- small helpers ------------------------------------------------------ */

/* Decodes the code point at s (valid UTF-8); *len gets its byte length. */
static utf8proc_int32_t cp_at(const char *s, size_t *len)
{
	utf8proc_int32_t cp = 0;
	utf8proc_ssize_t k;

	if ((unsigned char)s[0] < 0x80) {
		*len = 1;
		return (unsigned char)s[0];
	}
	k = utf8proc_iterate((const utf8proc_uint8_t *)s, -1, &cp);
	if (k <= 0) {
		*len = 1;
		return -1;
	}
	*len = (size_t)k;
	return cp;
}

/* White space that is trimmed: ASCII, every Unicode space separator, and a BOM. */
static bool is_space_cp(utf8proc_int32_t cp)
{
	if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f')
		return true;
	if (cp == 0xFEFF)
		return true;
	return cp > 0x7f && utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

/* Trims white space at both ends of the n bytes at s: [*start, *end). */
static void trim_span(const char *s, size_t n, size_t *start, size_t *end)
{
	size_t i = 0, last = 0, len;

	while (i < n) {
		utf8proc_int32_t cp = cp_at(s + i, &len);

		if (!is_space_cp(cp))
			break;
		i += len;
	}
	*start = i;
	last = i;
	while (i < n) {
		utf8proc_int32_t cp = cp_at(s + i, &len);

		i += len;
		if (!is_space_cp(cp))
			last = i;
	}
	*end = last;
}

/*
 * A printable, bounded copy of a value for a message: control characters and
 * broken UTF-8 become '?', and a long value is cut (between characters) with "...".
 */
static const char *show(const char *in, char out[SHOW_SIZE])
{
	size_t i = 0, o = 0, n = in ? strlen(in) : 0;

	while (i < n) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)in + i,
						      (utf8proc_ssize_t)(n - i), &cp);

		if (k <= 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			if (o + 1 > SHOW_MAX)
				goto cut;
			out[o++] = '?';
			i += k <= 0 ? 1 : (size_t)k;
			continue;
		}
		if (o + (size_t)k > SHOW_MAX)
			goto cut;
		memcpy(out + o, in + i, (size_t)k);
		o += (size_t)k;
		i += (size_t)k;
	}
	out[o] = '\0';
	return out;
cut:
	memcpy(out + o, "...", 4);
	return out;
}

/* Fails with CRM_EINVAL: `field "value": what (expected ...)`. */
enum crm_err fields__bad(struct crm_error *err, const char *field, const char *in,
			const char *what, const char *expected)
{
	char v[SHOW_SIZE];

	return crm_fail(err, CRM_EINVAL, "%s \"%s\": %s (%s)", field, show(in, v), what, expected);
}

/*
 * NFKC-folds in into a malloc()ed string (*out, caller frees) with white space
 * trimmed at both ends. CRM_EUTF8 for broken UTF-8, CRM_EINVAL for an absurdly
 * long value, CRM_ENOMEM.
 */
enum crm_err fields__fold(const char *field, const char *in, char **out, struct crm_error *err)
{
	utf8proc_uint8_t *m = NULL;
	utf8proc_ssize_t n;
	size_t len, start, end;
	char v[SHOW_SIZE];

	*out = NULL;
	if (!in)
		return crm_fail(err, CRM_EINVAL, "%s: a value is required", field);
	len = strlen(in);
	if (!crm_utf8_valid(in, len))
		return crm_fail(err, CRM_EUTF8, "%s: the value is not valid UTF-8 text", field);
	if (len > FOLD_MAX)
		return crm_fail(err, CRM_EINVAL, "%s \"%s\": far too long (%zu bytes)", field,
				show(in, v), len);
	n = utf8proc_map((const utf8proc_uint8_t *)in, 0, &m,
			 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
	if (n < 0) {
		if (n == UTF8PROC_ERROR_NOMEM)
			return crm_fail(err, CRM_ENOMEM, "%s: out of memory", field);
		return crm_fail(err, CRM_EUTF8, "%s: the value is not valid UTF-8 text", field);
	}
	trim_span((const char *)m, (size_t)n, &start, &end);
	memmove(m, m + start, end - start);
	m[end - start] = '\0';
	*out = (char *)m;
	return CRM_OK;
}

/* Strict decimal digits s[0..n) into *v (no sign, no overflow for n <= 9). */
bool fields__digits(const char *s, size_t n, int *v)
{
	int x = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return n > 0;
}

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool fields__date_exists(int y, int m, int d)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return false;
	return d <= (m == 2 && leap_year(y) ? 29 : dim[m - 1]);
}

/* Days since the epoch back to a civil date (via gmtime_r on a 64-bit time_t). */
bool fields__civil_from_days(int64_t days, int *y, int *m, int *d)
{
	time_t t = (time_t)(days * 86400);
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return false;
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
	return true;
}

/* The local calendar date of the instant ms. */
void fields__local_date(int64_t ms, int *y, int *m, int *d)
{
	int64_t s = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
	time_t t = (time_t)s;
	struct tm tm;

	if (!localtime_r(&t, &tm)) {
		fields__civil_from_days(s / 86400, y, m, d);
		return;
	}
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

size_t fields__prefix_ci(const char *s, const char *text)
{
	size_t i;

	for (i = 0; text[i]; i++)
		if (to_lower(s[i]) != to_lower(text[i]) || s[i] == '\0')
			return 0;
	return i;
}

/* ---- phones ------------------------------------------------------------- */

/* Separators people put in phone numbers. */
static bool phone_sep(utf8proc_int32_t cp)
{
	return cp == ' ' || cp == '-' || cp == '.' || cp == '(' || cp == ')' || cp == '/' ||
	       (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0x30FC;
}

/* What an extension looks like once the number has started. */
static bool extension_mark(const char *p)
{
	static const char *const marks[] = {"x", "X", "#", ",", ";", "ext", "Ext", "EXT",
					    "转", "分机", "p", "w", NULL};

	for (size_t i = 0; marks[i]; i++)
		if (strncmp(p, marks[i], strlen(marks[i])) == 0)
			return true;
	return false;
}

/* Chinese non-geographic numbers written without trunk 0: 400 / 800 + 7 digits. */
static bool cn_service(const char *d, size_t n)
{
	return n == 10 && (strncmp(d, "400", 3) == 0 || strncmp(d, "800", 3) == 0);
}

/*
 * A Chinese number without country code into "+86...". national: it was
 * written without +86 (a landline must then start with its trunk 0);
 * otherwise it followed +86 and a stray trunk 0 is tolerated ("+86 (0)10 ...").
 */
static const char *phone_cn(const char *d, size_t n, bool national, char *out)
{
	const char *why = "not a phone number";

	if (cn_service(d, n))
		goto ok;
	if (national) {
		if (n > 0 && d[0] != '0' && d[0] != '1')
			return n >= 7 && n <= 8 ? "a landline needs its area code" : why;
		if (n > 0 && d[0] == '0') {
			d++;
			n--;
			if (n > 1 && d[0] == '1' && d[1] != '0')
				return "not a phone number: a mobile has no leading 0";
		} else if (n > 1 && d[1] == '0') {
			return "a landline needs its trunk 0: 010 for Beijing";
		}
	} else if (n > 0 && d[0] == '0') {
		d++;
		n--;
	}
	if (n < 7 || d[0] == '0')
		return why;
	if (d[0] == '1' && d[1] != '0') {
		if (d[1] < '3' || n != 11)
			return "not a Chinese mobile number: 11 digits starting 13 to 19";
		goto ok;
	}
	if (d[0] == '1' || d[0] == '2') {
		/* 010 (Beijing) and 02x: a 2-digit area code and 8 digits */
		if (n != 10)
			return n < 10 ? "too few digits for a landline with area code 010 or 02x"
				      : "too many digits for a landline with area code 010 or 02x";
		if (d[2] < '2')
			return why;
		goto ok;
	}
	/* 3-digit area codes 03xx-09xx: 7 or 8 digits follow */
	if (n != 10 && n != 11)
		return n < 10 ? "too few digits for a landline with area code"
			      : "too many digits for a landline with area code";
	if (d[3] < '2')
		return why;
ok:
	snprintf(out, FIELD_PHONE_MAX, "+86%.*s", (int)n, d);
	return NULL;
}

/* An international number (after + or 00) into "+...". */
static const char *phone_intl(const char *d, size_t n, char *out)
{
	if (n >= 2 && d[0] == '8' && d[1] == '6')
		return phone_cn(d + 2, n - 2, false, out);
	if (n == 0 || d[0] == '0')
		return "not a phone number: a country code never starts with 0";
	if (n > 15)
		return "too many digits: E.164 allows at most 15";
	if (d[0] == '1' && (n != 11 || d[1] < '2'))
		return "not a North American number: +1 and 10 digits";
	if (n < 8)
		return "too few digits for an international number";
	snprintf(out, FIELD_PHONE_MAX, "+%.*s", (int)n, d);
	return NULL;
}

enum crm_err field_phone(const char *field, const char *in, char out[FIELD_PHONE_MAX],
			 struct crm_error *err)
{
	enum crm_err rc;
	char *s = NULL;
	char d[24];
	size_t nd = 0, i = 0, len;
	bool plus = false, started = false;
	const char *why = NULL;

	out[0] = '\0';
	rc = fields__fold(field, in, &s, err);
	if (rc != CRM_OK)
		return rc;
	while (s[i]) {
		utf8proc_int32_t cp = cp_at(s + i, &len);

		if (cp >= '0' && cp <= '9') {
			if (nd + 1 >= sizeof d) {
				why = "too many digits: E.164 allows at most 15";
				break;
			}
			d[nd++] = (char)cp;
			started = true;
		} else if (cp == '+' && !started && !plus) {
			plus = true;
		} else if (phone_sep(cp)) {
			/* ignored */
		} else if (nd >= 5 && extension_mark(s + i)) {
			why = "extensions are not accepted: keep the extension in the notes";
			break;
		} else {
			why = "not a phone number";
			break;
		}
		i += len;
	}
	if (!why) {
		if (nd == 0)
			why = "not a phone number";
		else if (plus)
			why = phone_intl(d, nd, out);
		else if (nd >= 2 && d[0] == '0' && d[1] == '0')
			why = phone_intl(d + 2, nd - 2, out);
		else if (nd == 13 && d[0] == '8' && d[1] == '6' && d[2] == '1')
			why = phone_cn(d + 2, nd - 2, false, out);
		else
			why = phone_cn(d, nd, true, out);
	}
	if (why) {
		out[0] = '\0';
		rc = fields__bad(err, field, in, why, PHONE_EXAMPLE);
	}
	free(s);
	return rc;
}

/* ---- e-mail ------------------------------------------------------------- */

static bool email_local_char(unsigned char c)
{
	return c >= 0x80 || is_alpha(c) || is_digit(c) || strchr("!#$%&'*+/=?^_`{|}~-.", c);
}

static const char *email_check(const char *s)
{
	const char *at = strchr(s, '@'), *dom, *label;
	size_t local_len, n;
	bool all_digits = true;

	if (!at)
		return "not an e-mail address: no @";
	if (strchr(at + 1, '@'))
		return "not an e-mail address: more than one @";
	local_len = (size_t)(at - s);
	if (local_len == 0)
		return "not an e-mail address: nothing before the @";
	if (local_len > 64)
		return "not an e-mail address: more than 64 bytes before the @";
	for (size_t i = 0; i < local_len; i++) {
		if (!email_local_char((unsigned char)s[i]))
			return "not an e-mail address: a character that is not allowed before the @";
	}
	if (s[0] == '.' || at[-1] == '.' || strstr(s, "..") != NULL)
		return "not an e-mail address: misplaced dot";
	dom = at + 1;
	if (!strchr(dom, '.'))
		return "not an e-mail address: the domain needs a dot, like example.com";
	label = dom;
	for (;;) {
		n = strcspn(label, ".");
		if (n == 0)
			return "not an e-mail address: empty part in the domain";
		if (n > 63)
			return "not an e-mail address: a domain part is longer than 63 bytes";
		if (label[0] == '-' || label[n - 1] == '-')
			return "not an e-mail address: a domain part starts or ends with -";
		all_digits = true;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)label[i];

			if (!(c >= 0x80 || is_alpha(c) || is_digit(c) || c == '-'))
				return "not an e-mail address: a character that is not allowed in the domain";
			if (!is_digit(c))
				all_digits = false;
		}
		if (label[n] == '\0')
			break;
		label += n + 1;
	}
	if (all_digits)
		return "not an e-mail address: the domain must end with a name, like .com or .cn";
	return NULL;
}

/*
 * Both halves are lower-cased: the local part is case-sensitive in theory, but
 * no mail system people use here treats Zhang@ and zhang@ as different boxes,
 * and one canonical form is what duplicate detection needs.
 */
enum crm_err field_email(const char *field, const char *in, char *out, size_t outsz,
			 struct crm_error *err)
{
	enum crm_err rc;
	char *s = NULL, *low = NULL;
	size_t i = 0, o = 0, len, n, cap;
	const char *why;
	char v[SHOW_SIZE];

	if (outsz)
		out[0] = '\0';
	rc = fields__fold(field, in, &s, err);
	if (rc != CRM_OK)
		return rc;
	n = strlen(s);
	cap = n * 2 + 4; /* a lower-case letter may take more bytes (at most 1.5 times) */
	low = malloc(cap);
	if (!low) {
		rc = crm_fail(err, CRM_ENOMEM, "%s: out of memory", field);
		goto out;
	}
	while (s[i]) {
		utf8proc_int32_t cp = cp_at(s + i, &len);

		if (cp == 0x3002)
			cp = '.'; /* the ideographic full stop typed in a domain */
		cp = cp < 0x80 ? to_lower((char)cp) : utf8proc_tolower(cp);
		if (o + 4 >= cap)
			break;
		o += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)low + o);
		i += len;
	}
	low[o] = '\0';
	if (o == 0) {
		rc = fields__bad(err, field, in, "not an e-mail address: empty", EMAIL_EXAMPLE);
		goto out;
	}
	if (o > 254) {
		rc = fields__bad(err, field, in, "not an e-mail address: longer than 254 bytes", EMAIL_EXAMPLE);
		goto out;
	}
	why = email_check(low);
	if (why) {
		rc = fields__bad(err, field, in, why, EMAIL_EXAMPLE);
		goto out;
	}
	if (o + 1 > outsz) {
		rc = crm_fail(err, CRM_ETOOBIG, "%s \"%s\": does not fit in %zu bytes", field,
			      show(in, v), outsz);
		goto out;
	}
	memcpy(out, low, o + 1);
out:
	free(low);
	free(s);
	return rc;
}

/* ---- USCC and resident id numbers --------------------------------------- */

/* The GB 32100 check character for the first 17 characters, or 0 if one is invalid. */
static char uscc_check_char(const char *s)
{
	unsigned sum = 0, w = 1;

	for (int i = 0; i < 17; i++) {
		const char *p = s[i] ? strchr(uscc_alphabet, s[i]) : NULL;

		if (!p)
			return 0;
		sum += (unsigned)(p - uscc_alphabet) * w;
		w = (w * 3) % 31;
	}
	return uscc_alphabet[(31 - sum % 31) % 31];
}

bool field_uscc_valid(const char *s)
{
	/* uscc_check_char() gives 0 when a character is not in the alphabet */
	return s && strlen(s) == FIELD_USCC_LEN && uscc_check_char(s) == s[17];
}

/*
 * Folds s (already NFKC) into upper-case ASCII without spaces or dashes, at most
 * max chars; false if something else is in it or it is too long.
 */
static bool compact_upper(const char *s, char *out, size_t max)
{
	size_t o = 0;

	for (; *s; s++) {
		if (*s == ' ' || *s == '-')
			continue;
		if ((unsigned char)*s >= 0x80 || o >= max)
			return false;
		out[o++] = to_upper(*s);
	}
	out[o] = '\0';
	return true;
}

enum crm_err field_uscc(const char *field, const char *in, char out[FIELD_USCC_LEN + 1],
			struct crm_error *err)
{
	enum crm_err rc;
	char *s = NULL;
	char u[FIELD_USCC_LEN + 2];

	out[0] = '\0';
	rc = fields__fold(field, in, &s, err);
	if (rc != CRM_OK)
		return rc;
	if (!compact_upper(s, u, FIELD_USCC_LEN + 1) || strlen(u) != FIELD_USCC_LEN) {
		rc = fields__bad(err, field, in, "not a unified social credit code", USCC_EXAMPLE);
		goto out;
	}
	for (size_t i = 0; i < FIELD_USCC_LEN; i++) {
		if (!strchr(uscc_alphabet, u[i])) {
			rc = fields__bad(err, field, in,
				 strchr("IOSVZ", u[i])
					 ? "not a unified social credit code: it never uses I, O, S, V or Z"
					 : "not a unified social credit code: only digits and letters",
				 USCC_EXAMPLE);
			goto out;
		}
	}
	if (uscc_check_char(u) != u[17]) {
		rc = fields__bad(err, field, in,
			 "the check character at the end does not match: a typo?", USCC_EXAMPLE);
		goto out;
	}
	memcpy(out, u, FIELD_USCC_LEN + 1);
out:
	free(s);
	return rc;
}

enum crm_err field_id_number(const char *field, const char *in, char out[19],
			     struct crm_error *err)
{
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const char checks[] = "10X98765432";
	enum crm_err rc;
	char *s = NULL;
	char u[20];
	int sum = 0, y, m, d, ty = 0, tm = 0, td = 0;

	out[0] = '\0';
	rc = fields__fold(field, in, &s, err);
	if (rc != CRM_OK)
		return rc;
	if (!compact_upper(s, u, 19) || strlen(u) != 18) {
		rc = fields__bad(err, field, in, "not a resident id number", IDNUM_EXAMPLE);
		goto out;
	}
	for (int i = 0; i < 17; i++) {
		if (!is_digit(u[i])) {
			rc = fields__bad(err, field, in, "not a resident id number", IDNUM_EXAMPLE);
			goto out;
		}
		sum += (u[i] - '0') * w[i];
	}
	if (!is_digit(u[17]) && u[17] != 'X') {
		rc = fields__bad(err, field, in, "not a resident id number: the last character is 0-9 or X",
			 IDNUM_EXAMPLE);
		goto out;
	}
	if (u[0] == '0') {
		rc = fields__bad(err, field, in, "not a resident id number: no region code starts with 0",
			 IDNUM_EXAMPLE);
		goto out;
	}
	fields__digits(u + 6, 4, &y);
	fields__digits(u + 10, 2, &m);
	fields__digits(u + 12, 2, &d);
	fields__local_date(crm_now_ms(), &ty, &tm, &td);
	if (y < 1900 || !fields__date_exists(y, m, d) ||
	    (int64_t)y * 10000 + m * 100 + d > (int64_t)ty * 10000 + tm * 100 + td) {
		rc = fields__bad(err, field, in, "the birth date in it, characters 7 to 14, is not a real date",
			 IDNUM_EXAMPLE);
		goto out;
	}
	if (checks[sum % 11] != u[17]) {
		rc = fields__bad(err, field, in, "the check character at the end does not match: a typo?",
			 IDNUM_EXAMPLE);
		goto out;
	}
	memcpy(out, u, 19);
out:
	free(s);
	return rc;
}

/* ---- numbers and text --------------------------------------------------- */

enum crm_err field_int(const char *field, const char *in, int64_t min, int64_t max, int64_t *out,
		       struct crm_error *err)
{
	enum crm_err rc;
	char *s = NULL, *end = NULL;
	char expected[96];
	long long v;
	size_t i = 0;

	snprintf(expected, sizeof expected, "expected a whole number from %lld to %lld",
		 (long long)min, (long long)max);
	rc = fields__fold(field, in, &s, err);
	if (rc != CRM_OK)
		return rc;
	if (s[0] == '+' || s[0] == '-')
		i++;
	if (!is_digit(s[i])) {
		rc = fields__bad(err, field, in, "not a whole number", expected);
		goto out;
	}
	for (; s[i]; i++) {
		if (!is_digit(s[i])) {
			rc = fields__bad(err, field, in, "not a whole number", expected);
			goto out;
		}
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || !end || *end != '\0' || v < min || v > max) {
		rc = fields__bad(err, field, in, "out of range", expected);
		goto out;
	}
	*out = (int64_t)v;
out:
	free(s);
	return rc;
}

enum crm_err field_real(const char *field, const char *in, double min, double max, double *out,
			struct crm_error *err)
{
	enum crm_err rc;
	char *s = NULL, *end = NULL;
	char expected[96];
	double v;

	snprintf(expected, sizeof expected, "expected a number from %g to %g", min, max);
	rc = fields__fold(field, in, &s, err);
	if (rc != CRM_OK)
		return rc;
	/* only plain decimal notation: strtod would also take "nan", "inf" and hex */
	if (!strpbrk(s, "0123456789") || strspn(s, "+-.eE0123456789") != strlen(s)) {
		rc = fields__bad(err, field, in, "not a number", expected);
		goto out;
	}
	errno = 0;
	v = strtod(s, &end);
	if (!end || *end != '\0') {
		rc = fields__bad(err, field, in, "not a number", expected);
		goto out;
	}
	if (errno == ERANGE || !isfinite(v) || v < min || v > max) {
		rc = fields__bad(err, field, in, "out of range", expected);
		goto out;
	}
	*out = v;
out:
	free(s);
	return rc;
}

/*
 * Free text. A CR before an LF is dropped (CSV files from Windows), any other
 * control character (C0 except tab and newline, DEL, C1) is refused. The text
 * is otherwise kept as typed: no NFKC, names stay as people wrote them.
 */
const char *field_control_at(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20) {
			if (*p == '\t' || *p == '\n' || (*p == '\r' && p[1] == '\n'))
				continue;
			return (const char *)p;
		}
		/* DEL; C1 controls U+0080..U+009F are C2 80..C2 9F */
		if (*p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0))
			return (const char *)p;
	}
	return NULL;
}

enum crm_err field_text(const char *field, const char *in, size_t max_bytes, char **out,
			struct crm_error *err)
{
	enum crm_err rc = CRM_OK;
	size_t n, start, end, i, o = 0, len;
	char *t = NULL;
	char v[SHOW_SIZE];

	*out = NULL;
	if (!in)
		return crm_fail(err, CRM_EINVAL, "%s: a value is required", field);
	n = strlen(in);
	if (!crm_utf8_valid(in, n))
		return crm_fail(err, CRM_EUTF8, "%s: the value is not valid UTF-8 text", field);
	{
		const char *bad = field_control_at(in);

		if (bad)
			return crm_fail(err, CRM_EINVAL,
					"%s \"%s\": contains a control character (U+%04X); only "
					"text, tabs and line breaks are allowed",
					field, show(in, v), (unsigned)cp_at(bad, &len));
	}
	trim_span(in, n, &start, &end);
	t = malloc(end - start + 1);
	if (!t)
		return crm_fail(err, CRM_ENOMEM, "%s: out of memory", field);
	for (i = start; i < end; i++) {
		if (in[i] == '\r' && in[i + 1] == '\n')
			continue;
		t[o++] = in[i];
	}
	t[o] = '\0';
	if (o > max_bytes) {
		rc = crm_fail(err, CRM_ETOOBIG, "%s \"%s\": too long (%zu bytes, at most %zu)", field,
			      show(t, v), o, max_bytes);
		free(t);
		t = NULL;
	}
	*out = t;
	return rc;
}

/*
 * fields_int: helpers shared by the field-rule files (fields.c, fields_money.c,
 * fields_time.c). Private to schema/; the public contract is fields.h.
 */
#ifndef SCHEMA_FIELDS_INT_H
#define SCHEMA_FIELDS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"

/* ASCII-only classification: the rules work on NFKC-folded text, never locales. */
static inline bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline char to_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static inline char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static inline const char *skip_spaces(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

/*
 * NFKC-folds in into a malloc()ed string (*out, caller frees) with white space
 * trimmed at both ends. CRM_EUTF8 for broken UTF-8, CRM_EINVAL for NULL or an
 * absurdly long value, CRM_ENOMEM.
 */
enum crm_err fields__fold(const char *field, const char *in, char **out, struct crm_error *err);

/*
 * Fails with CRM_EINVAL and the message `field "value": what (expected)`; the
 * value is quoted printable and cut if long. Returns CRM_EINVAL.
 */
enum crm_err fields__bad(struct crm_error *err, const char *field, const char *in,
			 const char *what, const char *expected);

/* ASCII case-insensitive prefix match: the bytes of text matched at s, or 0. */
size_t fields__prefix_ci(const char *s, const char *text);

/* Exactly n decimal digits at s into *v (n <= 9); false otherwise. */
bool fields__digits(const char *s, size_t n, int *v);

/* True if the proleptic Gregorian date y-m-d exists (years 1..9999). */
bool fields__date_exists(int y, int m, int d);

/* Days since the epoch to a civil date. */
bool fields__civil_from_days(int64_t days, int *y, int *m, int *d);

/* The local calendar date (TZ) of the UTC instant ms. */
void fields__local_date(int64_t ms, int *y, int *m, int *d);

#endif

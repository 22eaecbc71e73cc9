/*
 * fields: the field rules. Normalizes and validates what people type.
 *
 * Each function takes raw text (UTF-8, may contain full-width digits and
 * letters, spaces, dashes) and either writes the canonical form or fails with
 * CRM_EINVAL and a message naming the field and the value, e.g.
 *   phone "12345": not a phone number (expected a Chinese mobile like
 *   138 0013 8000, a landline with area code like 010-6552 9988, or +CC...)
 * `field` is the column name used in that message.
 */
#ifndef SCHEMA_FIELDS_H
#define SCHEMA_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"

#define FIELD_PHONE_MAX 24   /* "+" and at most 15 digits, with room */
#define FIELD_USCC_LEN 18
#define FIELD_CURRENCY_MAX 4 /* ISO 4217 code + NUL */

/*
 * Phone to E.164 ("+8613800138000"). Accepts Chinese mobiles (1[3-9] + 9
 * digits), with or without +86 / 0086 / 86; Chinese landlines with their area
 * code (010-65529988, 0755 8888 8888, +86 10 6552 9988; the trunk 0 dropped);
 * international numbers written with + or 00. Spaces, dashes, dots,
 * parentheses and full-width characters are ignored. An extension is refused.
 */
enum crm_err field_phone(const char *field, const char *in, char out[FIELD_PHONE_MAX],
			 struct crm_error *err);

/*
 * E-mail: trimmed, width-folded, lower-cased (the local part too: one canonical
 * form for duplicate detection), one @, a dotted domain, at most 254 bytes.
 * CRM_ETOOBIG if the result does not fit in outsz.
 */
enum crm_err field_email(const char *field, const char *in, char *out, size_t outsz,
			 struct crm_error *err);

/*
 * USCC (统一社会信用代码, GB 32100-2015): 18 characters from the 31-character
 * alphabet 0-9 A-H J-N P-R T U W-Y, upper-cased and width-folded, with its
 * check character verified (weights 3^(i-1) mod 31). out gets 18 chars + NUL.
 */
enum crm_err field_uscc(const char *field, const char *in, char out[FIELD_USCC_LEN + 1],
			struct crm_error *err);

/* True if s is an 18-character USCC whose check character is right. */
bool field_uscc_valid(const char *s);

/*
 * Money to minor units. Accepts "12000", "12,000.50", "¥12000", "￥1.5",
 * "12000 CNY", "USD 99.99", "$5", "€3", "-20" (a refund); at most two
 * decimals. *currency gets the ISO code found in the text, or default_currency
 * when none is given (may be NULL: then "" is written).
 * Also: "HK$10", "RMB 100", "100元", "50美元", "1.5万" (x 10,000). "¥" is CNY.
 * Minor units are hundredths for every currency (even JPY). On failure
 * *minor is untouched.
 */
enum crm_err field_money(const char *field, const char *in, const char *default_currency,
			 int64_t *minor, char currency[FIELD_CURRENCY_MAX], struct crm_error *err);

/* A currency code: three letters, upper-cased ("cny" -> "CNY"). */
enum crm_err field_currency(const char *field, const char *in, char out[FIELD_CURRENCY_MAX],
			    struct crm_error *err);

/*
 * A point in time (crm_time_parse rules, zone-less text is local time) to UTC
 * milliseconds. Also accepts "now", "today" (local midnight), "tomorrow",
 * and relative "+3d" / "-2h" / "+30m" from crm_now_ms().
 * Also: "yesterday", 现在/今天/明天/昨天, "tomorrow 09:30", "+1w", and dates
 * written 2026/11/24 or 2026年11月24日 (with or without a time after them).
 */
enum crm_err field_time(const char *field, const char *in, int64_t *ms, struct crm_error *err);

/*
 * A calendar date YYYY-MM-DD (also "today", "tomorrow", "+7d"); out gets YYYY-MM-DD.
 * Also: 2026/11/24, 2026.11.24, 2026-1-5, 20261124, 2026年11月24日, "yesterday",
 * 今天/明天/昨天, "+2w". "today" is the local date of crm_now_ms().
 */
enum crm_err field_date(const char *field, const char *in, char out[11], struct crm_error *err);

/* An integer in [min, max] (strtoll with full checks). */
enum crm_err field_int(const char *field, const char *in, int64_t min, int64_t max, int64_t *out,
		       struct crm_error *err);

/* A decimal number in [min, max] (latitude, longitude). */
enum crm_err field_real(const char *field, const char *in, double min, double max, double *out,
			struct crm_error *err);

/*
 * Free text: must be valid UTF-8, at most max_bytes, no control characters
 * other than newline and tab; leading/trailing white space trimmed into out
 * (malloc()ed, caller frees). An empty result is allowed (it clears a field).
 */
enum crm_err field_text(const char *field, const char *in, size_t max_bytes, char **out,
			struct crm_error *err);

/*
 * The first character of valid UTF-8 text s that field_text refuses (a C0
 * control other than tab, newline and a CR before a newline; DEL; a C1
 * control), or NULL: one pass over the bytes, for checking every pushed value.
 */
const char *field_control_at(const char *s);

/* Chinese resident id number (18 chars, ISO 7064 MOD 11-2 check) upper-cased. */
enum crm_err field_id_number(const char *field, const char *in, char out[19],
			     struct crm_error *err);

#endif

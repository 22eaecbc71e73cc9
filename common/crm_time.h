/*
 * crm_time: the one place the project reads the clock, and ISO-8601 text.
 *
 * Time is UTC milliseconds since the Unix epoch internally and ISO-8601 text at
 * the edges. Every reading of "now" (the HLC's included) goes through
 * crm_now_ms(), which the CRM_NOW environment variable (ISO-8601) overrides so
 * tests and demos can move time.
 */
#ifndef CRM_TIME_H
#define CRM_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"

/*
 * Current time in UTC milliseconds. With CRM_NOW set to an ISO-8601 time, that
 * time instead (an unparsable CRM_NOW is ignored and the real clock is used).
 */
int64_t crm_now_ms(void);

/*
 * Parses ISO-8601 text into UTC milliseconds. Accepted:
 *   YYYY-MM-DD                      (midnight)
 *   YYYY-MM-DD[T ]HH:MM[:SS[.fff]]  optionally followed by Z or +HH:MM / -HH:MM
 * Text without a zone is read as local time (the TZ environment variable);
 * with local false it is read as UTC. Fails with CRM_EINVAL on anything else,
 * including impossible dates (2026-02-30).
 */
enum crm_err crm_time_parse(const char *s, bool local, int64_t *ms);

/* Parses a calendar date YYYY-MM-DD and checks that it exists. */
enum crm_err crm_date_parse(const char *s, int *y, int *m, int *d);

#define CRM_TIME_ISO_MAX 32

/* Formats ms as "YYYY-MM-DDTHH:MM:SS.fffZ" (UTC) into out. */
void crm_time_format_utc(int64_t ms, char out[CRM_TIME_ISO_MAX]);

/* Formats ms as local "YYYY-MM-DD HH:MM" for people. */
void crm_time_format_local(int64_t ms, char out[CRM_TIME_ISO_MAX]);

/* Days since the epoch of a date, and back (proleptic Gregorian). */
int64_t crm_days_from_civil(int y, int m, int d);

#endif

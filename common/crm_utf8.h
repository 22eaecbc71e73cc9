/*
 * crm_utf8: UTF-8 checks and display widths (utf8proc underneath).
 *
 * Every text that enters the system is checked with crm_utf8_valid(); tables
 * for people are aligned with crm_utf8_width(), which counts a CJK character
 * as two columns.
 */
#ifndef CRM_UTF8_H
#define CRM_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True if the n bytes at s are well-formed UTF-8 with no NUL byte. */
bool crm_utf8_valid(const char *s, size_t n);

/* Terminal columns the NUL-terminated UTF-8 string s takes (CJK = 2). */
size_t crm_utf8_width(const char *s);

/*
 * Byte length of the longest prefix of s that fits in max_cols columns,
 * cutting only between characters. *cols_out (if not NULL) gets its width.
 */
size_t crm_utf8_prefix(const char *s, size_t max_cols, size_t *cols_out);

#endif

/* UTF-8 validation and column widths over utf8proc. */
#include "crm_utf8.h"

#include <string.h>
#include <sys/types.h>
#include <utf8proc.h>

bool crm_utf8_valid(const char *s, size_t n)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;

	while (i < n) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k;

		if (p[i] < 0x80) {
			if (p[i] == 0)
				return false;
			i++;
			continue;
		}
		k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &cp);
		if (k <= 0)
			return false;
		i += (size_t)k;
	}
	return true;
}

static size_t char_width(utf8proc_int32_t cp)
{
	int w = utf8proc_charwidth(cp);

	return w > 0 ? (size_t)w : 0;
}

size_t crm_utf8_prefix(const char *s, size_t max_cols, size_t *cols_out)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0, cols = 0, n = strlen(s);

	while (i < n) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &cp);
		size_t w;

		if (k <= 0) {
			cp = '?';
			k = 1;
		}
		w = char_width(cp);
		if (cols + w > max_cols)
			break;
		cols += w;
		i += (size_t)k;
	}
	if (cols_out)
		*cols_out = cols;
	return i;
}

size_t crm_utf8_width(const char *s)
{
	size_t cols;

	crm_utf8_prefix(s, (size_t)-1, &cols);
	return cols;
}

/* HLC arithmetic and the decimal wire form of an HLC. */
#include "hlc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sync_hlc hlc_make(int64_t ms, uint16_t counter)
{
	if (ms < 0)
		ms = 0;
	if (ms > HLC_MS_MAX)
		ms = HLC_MS_MAX;
	return ((sync_hlc)ms << 16) | counter;
}

sync_hlc hlc_tick(sync_hlc last, int64_t now_ms)
{
	sync_hlc phys = hlc_make(now_ms, 0);

	if (phys > last)
		return phys;
	if (last == UINT64_MAX)
		return last; /* year 10889: nothing sensible left */
	return last + 1;
}

int hlc_too_far(sync_hlc remote, int64_t now_ms, int64_t max_skew_ms)
{
	return SYNC_HLC_MS(remote) > now_ms + max_skew_ms;
}

void sync_hlc_format(sync_hlc h, char out[SYNC_HLC_STR_MAX])
{
	snprintf(out, SYNC_HLC_STR_MAX, "%llu", (unsigned long long)h);
}

enum crm_err sync_hlc_parse(const char *s, sync_hlc *out)
{
	unsigned long long v;
	char *end = NULL;
	size_t n;

	if (!s)
		return CRM_EFORMAT;
	n = strlen(s);
	/* digits only: strtoull would accept spaces, signs and wrap "-1" */
	if (n == 0 || n > SYNC_HLC_STR_MAX - 1)
		return CRM_EFORMAT;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return CRM_EFORMAT;
	}
	if (n > 1 && s[0] == '0')
		return CRM_EFORMAT;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || !end || *end != '\0')
		return CRM_EFORMAT;
	*out = (sync_hlc)v;
	return CRM_OK;
}

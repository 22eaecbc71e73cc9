/* UUIDv7 generation with a per-process monotonic sequence. */
#include "crm_id.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crm_time.h"

void crm_id_new(char out[CRM_ID_SIZE])
{
	static int64_t last_ms = -1;
	static uint16_t seq;
	uint8_t b[16];
	int64_t ms = crm_now_ms();

	randombytes_buf(b, sizeof b);
	if (ms <= last_ms) {
		/* Same (or earlier) millisecond: keep order with a 12-bit counter. */
		ms = last_ms;
		if (++seq > 0x0fff) {
			ms++;
			seq = 0;
		}
	} else {
		seq = (uint16_t)(b[6] & 0x03);  /* start low so many ids fit in one ms */
	}
	last_ms = ms;
	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)((uint64_t)ms >> (40 - 8 * i));
	b[6] = (uint8_t)(0x70 | ((seq >> 8) & 0x0f));
	b[7] = (uint8_t)(seq & 0xff);
	b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
	snprintf(out, CRM_ID_SIZE,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

bool crm_id_valid(const char *s)
{
	if (!s || strlen(s) != CRM_ID_LEN)
		return false;
	for (int i = 0; i < CRM_ID_LEN; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

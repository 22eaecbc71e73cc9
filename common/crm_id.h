/*
 * crm_id: UUIDv7 identifiers (RFC 9562) for rows and sites.
 *
 * The 48-bit timestamp comes from crm_now_ms(), the rest from libsodium's
 * CSPRNG; ids made in one process are strictly increasing even when the clock
 * stands still (CRM_NOW), so they sort by creation.
 */
#ifndef CRM_ID_H
#define CRM_ID_H

#include <stdbool.h>

#define CRM_ID_LEN 36
#define CRM_ID_SIZE 37

/* Writes a new lower-case UUIDv7 ("0190c3e2-....") into out. */
void crm_id_new(char out[CRM_ID_SIZE]);

/* True if s is a well-formed lower- or upper-case UUID (any version). */
bool crm_id_valid(const char *s);

#endif

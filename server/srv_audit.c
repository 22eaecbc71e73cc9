/* Ownership audit: append and read srv_ownership. */
#include "srv_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s && s[0])
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

enum crm_err srv_audit_record(sqlite3 *db, const char *customer, const char *old_owner,
			      const char *new_owner, const char *by, const char *reason, int64_t at,
			      struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	if (sqlite3_prepare_v2(db,
			       "INSERT INTO srv_ownership (customer_id, old_owner, new_owner, by_user,"
			       " reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			       -1, &st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "audit: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
	bind_opt(st, 2, old_owner);
	bind_opt(st, 3, new_owner);
	bind_opt(st, 4, by);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, at);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = crm_fail(err, CRM_EDB, "audit: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

static void copy_col(sqlite3_stmt *st, int i, char *out, size_t n)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	snprintf(out, n, "%s", s ? (const char *)s : "");
}

enum crm_err srv_audit_customer(sqlite3 *db, const char *customer, struct srv_audit_entry **list,
				size_t *n, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	struct srv_audit_entry *v = NULL;
	size_t len = 0, cap = 0;
	enum crm_err rc = CRM_OK;

	*list = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT seq, at, old_owner, new_owner, by_user, reason FROM srv_ownership"
			       " WHERE customer_id = ?1 ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "audit: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
	for (;;) {
		int step = sqlite3_step(st);
		struct srv_audit_entry *e;

		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = crm_fail(err, CRM_EDB, "audit: %s", sqlite3_errmsg(db));
			goto out;
		}
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct srv_audit_entry *nv = realloc(v, ncap * sizeof *nv);

			if (!nv) {
				rc = crm_fail(err, CRM_ENOMEM, "out of memory");
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		e = &v[len++];
		e->seq = sqlite3_column_int64(st, 0);
		e->at = sqlite3_column_int64(st, 1);
		copy_col(st, 2, e->old_owner, sizeof e->old_owner);
		copy_col(st, 3, e->new_owner, sizeof e->new_owner);
		copy_col(st, 4, e->by, sizeof e->by);
		copy_col(st, 5, e->reason, sizeof e->reason);
	}
	*list = v;
	*n = len;
	v = NULL;
out:
	free(v);
	sqlite3_finalize(st);
	return rc;
}

/*
 * match_db: scores one customer against the customers table (see match_db.h).
 */
#include <stdio.h>
#include <string.h>

#include "match_db.h"

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : NULL;
}

/* Keeps hits sorted best first; drops the weakest when full. */
static void keep(struct match_db_hit *hits, size_t max, size_t *n, const char *id,
		 const char *name, const struct match_verdict *v)
{
	size_t pos = *n;

	while (pos > 0) {
		const struct match_verdict *p = &hits[pos - 1].verdict;
		if (p->decision > v->decision ||
		    (p->decision == v->decision && p->score >= v->score))
			break;
		pos--;
	}
	if (pos >= max)
		return;
	if (*n < max)
		(*n)++;
	memmove(&hits[pos + 1], &hits[pos], (*n - 1 - pos) * sizeof *hits);
	snprintf(hits[pos].id, sizeof hits[pos].id, "%s", id);
	snprintf(hits[pos].name, sizeof hits[pos].name, "%s", name ? name : "");
	hits[pos].verdict = *v;
}

enum crm_err match_db_similar(sqlite3 *db, const struct match_input *in, const char *exclude_id,
			      struct match_db_hit *hits, size_t max, size_t *n,
			      struct crm_error *err)
{
	static const char sql[] =
		"SELECT id, kind, name, uscc, id_number, birth_date, phone, email, address, city,"
		" region FROM customers WHERE deleted = 0 AND id <> ?1";
	sqlite3_stmt *st = NULL;
	struct match_record me;
	enum crm_err rc;
	int step;

	*n = 0;
	rc = match_record_init(&me, in, err);
	if (rc != CRM_OK)
		return rc;
	if (max == 0)
		return CRM_OK;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "cannot read customers for the duplicate check: %s",
			      sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, exclude_id ? exclude_id : "", -1, SQLITE_STATIC);
	for (;;) {
		struct match_input o = {0};
		struct match_record r;
		struct match_verdict v;
		const char *id;

		step = sqlite3_step(st);
		if (step != SQLITE_ROW)
			break;
		id = col(st, 0);
		if (!id)
			continue;
		o.kind = col(st, 1);
		o.name = col(st, 2);
		o.uscc = col(st, 3);
		o.id_number = col(st, 4);
		o.birth_date = col(st, 5);
		o.phone = col(st, 6);
		o.email = col(st, 7);
		o.address = col(st, 8);
		o.city = col(st, 9);
		o.region = col(st, 10);
		if (match_record_init(&r, &o, NULL) != CRM_OK)
			continue;
		match_compare(&me, &r, NULL, &v);
		if (v.decision != MATCH_DISTINCT)
			keep(hits, max, n, id, o.name, &v);
	}
	if (step != SQLITE_DONE)
		rc = crm_fail(err, CRM_EDB, "cannot read customers for the duplicate check: %s",
			      sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	return rc;
}

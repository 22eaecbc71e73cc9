/*
 * srv_dupcmd: `crm-server dup list|merge|dismiss|unmerge|scan|log`, head
 * office's side of de-duplication (srv_dedup.h). Each opens the database
 * with the sync core (merges are captured writes that replicate), works in
 * IMMEDIATE transactions beside a running `serve`, and prints the result.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_time.h"
#include "crm_utf8.h"
#include "srv_db.h"
#include "srv_dedup.h"
#include "srv_args.h"
#include "srv_pool.h"
#include "srv_out.h"

#define SCAN_BATCH 200

struct dup_opts {
	const char *db, *by;
	bool json;
	const char *pos[4];
	size_t npos;
};

static int dup_usage(void)
{
	fputs("usage: crm-server dup COMMAND --db PATH\n"
	      "  dup list [--json]          the review queue: open pairs, best first\n"
	      "  dup merge A B              merge two customers (the one registered first survives)\n"
	      "  dup dismiss A B            not the same customer: never proposed again\n"
	      "  dup unmerge ID             undo a merge; ID is the merged-away customer's id\n"
	      "                             or the merge id shown by `dup log`\n"
	      "  dup log [--json]           every merge, newest first\n"
	      "  dup scan                   match the whole pool (after an import): merge and queue\n"
	      "Customers may be named by id, ext_ref, a unique id prefix or name.\n",
	      stderr);
	return 2;
}

static int dup_parse(int argc, char **argv, struct dup_opts *o)
{
	const struct srv_arg specs[] = {
		{"--json", &o->json, NULL}, {"--db", NULL, &o->db},
		{"--by", NULL, &o->by},     {NULL, NULL, NULL},
	};
	int rc;

	memset(o, 0, sizeof *o);
	o->db = getenv("CRM_SERVER_DB");
	o->by = "admin";
	rc = srv_args_parse(argc, argv, specs, o->pos, sizeof o->pos / sizeof o->pos[0], &o->npos);
	return rc ? rc : srv_args_need_db(o->db);
}

static int dfail(const struct crm_error *err)
{
	fprintf(stderr, "crm-server: %s\n", err->msg);
	return 1;
}

/* ---- list --------------------------------------------------------------- */

static int dup_list(struct dup_opts *o, struct srv_db *d)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();
	size_t n = 0;

	if (!arr || sqlite3_prepare_v2(d->db,
				       "SELECT p.a, p.b, p.score, p.reasons, ca.name, cb.name, ca.owner, cb.owner,"
				       " p.created_at FROM srv_dup_pairs p"
				       " JOIN customers ca ON ca.id = p.a JOIN customers cb ON cb.id = p.b"
				       " WHERE p.status = 'open' AND ca.deleted = 0 AND ca.merged_into IS NULL"
				       " AND cb.deleted = 0 AND cb.merged_into IS NULL"
				       " ORDER BY p.score DESC, p.a, p.b",
				       -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "crm-server: review queue: %s\n", sqlite3_errmsg(d->db));
		cJSON_Delete(arr);
		return 1;
	}
	if (!o->json) {
		srv_out_padded("A", 38);
		srv_out_padded("B", 38);
		srv_out_padded("SCORE", 7);
		puts("NAMES / REASONS");
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		const char *b = (const char *)sqlite3_column_text(st, 1);
		double score = sqlite3_column_double(st, 2);
		cJSON *reasons = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
		const char *na = (const char *)sqlite3_column_text(st, 4);
		const char *nb = (const char *)sqlite3_column_text(st, 5);
		const char *oa = (const char *)sqlite3_column_text(st, 6);
		const char *ob = (const char *)sqlite3_column_text(st, 7);
		char when[CRM_TIME_ISO_MAX];

		n++;
		if (o->json) {
			cJSON *x = cJSON_CreateObject();

			if (!x) {
				cJSON_Delete(reasons);
				break;
			}
			cJSON_AddStringToObject(x, "a", a);
			cJSON_AddStringToObject(x, "b", b);
			cJSON_AddNumberToObject(x, "score", score);
			cJSON_AddItemToObject(x, "reasons", reasons ? reasons : cJSON_CreateArray());
			reasons = NULL;
			cJSON_AddStringToObject(x, "a_name", na ? na : "");
			cJSON_AddStringToObject(x, "b_name", nb ? nb : "");
			if (oa)
				cJSON_AddStringToObject(x, "a_owner", oa);
			else
				cJSON_AddNullToObject(x, "a_owner");
			if (ob)
				cJSON_AddStringToObject(x, "b_owner", ob);
			else
				cJSON_AddNullToObject(x, "b_owner");
			crm_time_format_utc(sqlite3_column_int64(st, 8), when);
			cJSON_AddStringToObject(x, "queued_at", when);
			cJSON_AddItemToArray(arr, x);
		} else {
			char sc[16];
			const cJSON *r;
			bool first = true;

			snprintf(sc, sizeof sc, "%.3f", score);
			srv_out_padded(a, 38);
			srv_out_padded(b, 38);
			srv_out_padded(sc, 7);
			printf("%s (%s) / %s (%s)\n", na ? na : "", oa ? oa : "pool", nb ? nb : "",
			       ob ? ob : "pool");
			srv_out_padded("", 83);
			cJSON_ArrayForEach(r, reasons) {
				if (cJSON_IsString(r))
					printf("%s%s", first ? "" : ", ", r->valuestring);
				first = false;
			}
			putchar('\n');
		}
		cJSON_Delete(reasons);
	}
	sqlite3_finalize(st);
	if (o->json)
		srv_out_json(arr);
	else
		printf("%zu pair%s to review\n", n, n == 1 ? "" : "s");
	cJSON_Delete(arr);
	return 0;
}

/* ---- log ---------------------------------------------------------------- */

static int dup_log(struct dup_opts *o, struct srv_db *d)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();

	if (!arr || sqlite3_prepare_v2(d->db,
				       "SELECT m.id, m.survivor, m.merged, m.how, m.by_user, m.at, m.undone_at,"
				       " cs.name, cm.name, m.survivor_owner, m.merged_owner,"
				       " (SELECT COUNT(*) FROM srv_dup_moves v WHERE v.merge_id = m.id)"
				       " FROM srv_dup_merges m LEFT JOIN customers cs ON cs.id = m.survivor"
				       " LEFT JOIN customers cm ON cm.id = m.merged ORDER BY m.id DESC",
				       -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "crm-server: merge log: %s\n", sqlite3_errmsg(d->db));
		cJSON_Delete(arr);
		return 1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *cols[] = {"survivor", "merged", "how", "by"};
		const char *names[] = {"survivor_name", "merged_name", "survivor_owner", "merged_owner"};
		const int ncol[] = {7, 8, 9, 10};
		char when[CRM_TIME_ISO_MAX];

		crm_time_format_utc(sqlite3_column_int64(st, 5), when);
		if (o->json) {
			cJSON *x = cJSON_CreateObject();

			if (!x)
				break;
			cJSON_AddNumberToObject(x, "id", (double)sqlite3_column_int64(st, 0));
			for (int i = 0; i < 4; i++) {
				const char *v = (const char *)sqlite3_column_text(st, i + 1);

				if (v)
					cJSON_AddStringToObject(x, cols[i], v);
				else
					cJSON_AddNullToObject(x, cols[i]);
			}
			for (int i = 0; i < 4; i++) {
				const char *v = (const char *)sqlite3_column_text(st, ncol[i]);

				if (v)
					cJSON_AddStringToObject(x, names[i], v);
				else
					cJSON_AddNullToObject(x, names[i]);
			}
			cJSON_AddStringToObject(x, "at", when);
			cJSON_AddBoolToObject(x, "undone", sqlite3_column_type(st, 6) != SQLITE_NULL);
			cJSON_AddNumberToObject(x, "moved", (double)sqlite3_column_int64(st, 11));
			cJSON_AddItemToArray(arr, x);
		} else {
			const char *sn = (const char *)sqlite3_column_text(st, 7);
			const char *mn = (const char *)sqlite3_column_text(st, 8);

			printf("%lld  %s  %s %s (%s) into %s (%s)  %s by %s, %lld row%s moved\n",
			       (long long)sqlite3_column_int64(st, 0), when,
			       sqlite3_column_type(st, 6) != SQLITE_NULL ? "undone:" : "merged",
			       (const char *)sqlite3_column_text(st, 2), mn ? mn : "",
			       (const char *)sqlite3_column_text(st, 1), sn ? sn : "",
			       (const char *)sqlite3_column_text(st, 3),
			       sqlite3_column_text(st, 4) ? (const char *)sqlite3_column_text(st, 4) : "server",
			       (long long)sqlite3_column_int64(st, 11),
			       sqlite3_column_int64(st, 11) == 1 ? "" : "s");
		}
	}
	sqlite3_finalize(st);
	if (o->json)
		srv_out_json(arr);
	cJSON_Delete(arr);
	return 0;
}

/* ---- merge, dismiss, unmerge -------------------------------------------- */

/* The verdict of the match library on two customers as they are now. */
static enum crm_err verdict_of(sqlite3 *db, const char *a, const char *b, struct match_verdict *v,
			       struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	struct match_record r[2];
	enum crm_err rc = CRM_OK;
	const char *ids[2] = {a, b};

	memset(v, 0, sizeof *v);
	if (sqlite3_prepare_v2(db,
			       "SELECT kind, name, uscc, id_number, birth_date, phone, email, address, city, region"
			       " FROM customers WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "%s", sqlite3_errmsg(db));
	for (int i = 0; i < 2 && rc == CRM_OK; i++) {
		struct match_input in;

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			rc = crm_fail(err, CRM_ENOTFOUND, "no customer %s", ids[i]);
			break;
		}
		in.kind = (const char *)sqlite3_column_text(st, 0);
		in.name = (const char *)sqlite3_column_text(st, 1);
		in.uscc = (const char *)sqlite3_column_text(st, 2);
		in.id_number = (const char *)sqlite3_column_text(st, 3);
		in.birth_date = (const char *)sqlite3_column_text(st, 4);
		in.phone = (const char *)sqlite3_column_text(st, 5);
		in.email = (const char *)sqlite3_column_text(st, 6);
		in.address = (const char *)sqlite3_column_text(st, 7);
		in.city = (const char *)sqlite3_column_text(st, 8);
		in.region = (const char *)sqlite3_column_text(st, 9);
		rc = match_record_init(&r[i], &in, err);
	}
	sqlite3_finalize(st);
	if (rc == CRM_OK)
		match_compare(&r[0], &r[1], NULL, v);
	return rc;
}

static enum crm_err resolve2(sqlite3 *db, struct dup_opts *o, char a[37], char b[37],
			     struct crm_error *err)
{
	enum crm_err rc = srv_pool_resolve(db, o->pos[1], SRV_AMONG_ALL, NULL, a, err);

	if (rc == CRM_OK)
		rc = srv_pool_resolve(db, o->pos[2], SRV_AMONG_ALL, NULL, b, err);
	if (rc == CRM_OK && strcmp(a, b) == 0)
		rc = crm_fail(err, CRM_EINVAL, "%s and %s name the same customer", o->pos[1], o->pos[2]);
	return rc;
}

static int dup_merge(struct dup_opts *o, struct srv_db *d)
{
	struct crm_error err;
	struct srv_dup_merge_info info;
	struct match_verdict v;
	char a[37], b[37];
	enum crm_err rc;

	if (o->npos != 3) {
		fprintf(stderr, "crm-server: usage: dup merge A B --db PATH\n");
		return 2;
	}
	rc = srv_db_begin(d->db, &err);
	if (rc != CRM_OK)
		return dfail(&err);
	rc = resolve2(d->db, o, a, b, &err);
	if (rc == CRM_OK)
		rc = verdict_of(d->db, a, b, &v, &err);
	if (rc == CRM_OK)
		rc = srv_dedup_merge(NULL, d->db, d->sync, a, b, "review", o->by, &v, &info, &err);
	if (rc == CRM_OK)
		rc = srv_db_commit(d->db, &err);
	if (rc != CRM_OK) {
		srv_db_rollback(d->db);
		return dfail(&err);
	}
	if (o->json) {
		cJSON *x = cJSON_CreateObject();

		if (x) {
			cJSON_AddNumberToObject(x, "merge", (double)info.merge_id);
			cJSON_AddStringToObject(x, "survivor", info.survivor);
			cJSON_AddStringToObject(x, "merged", info.merged);
			cJSON_AddNumberToObject(x, "moved", (double)info.moved);
			cJSON_AddNumberToObject(x, "filled", (double)info.filled);
			cJSON_AddNumberToObject(x, "conflicts", (double)info.conflicts);
		}
		srv_out_json(x);
		cJSON_Delete(x);
		return 0;
	}
	printf("merged %s (%s) into %s (%s), registered first: %zu row%s moved, %zu field%s filled, "
	       "%zu conflict%s kept (merge %lld; undo with crm-server dup unmerge %s)\n",
	       info.merged, info.merged_name, info.survivor, info.survivor_name, info.moved,
	       info.moved == 1 ? "" : "s", info.filled, info.filled == 1 ? "" : "s", info.conflicts,
	       info.conflicts == 1 ? "" : "s", (long long)info.merge_id, info.merged);
	return 0;
}

static int dup_dismiss(struct dup_opts *o, struct srv_db *d)
{
	struct crm_error err;
	struct match_verdict v;
	char a[37], b[37];
	enum crm_err rc;
	sqlite3_stmt *st = NULL;

	if (o->npos != 3) {
		fprintf(stderr, "crm-server: usage: dup dismiss A B --db PATH\n");
		return 2;
	}
	rc = srv_db_begin(d->db, &err);
	if (rc != CRM_OK)
		return dfail(&err);
	rc = resolve2(d->db, o, a, b, &err);
	if (rc == CRM_OK)
		rc = verdict_of(d->db, a, b, &v, &err);
	if (rc == CRM_OK) {
		const char *x = strcmp(a, b) < 0 ? a : b, *y = strcmp(a, b) < 0 ? b : a;
		char *reasons = NULL;
		cJSON *ra = cJSON_CreateArray();

		for (int i = 0; ra && i < v.nreasons; i++)
			cJSON_AddItemToArray(ra, cJSON_CreateString(v.reasons[i]));
		reasons = ra ? cJSON_PrintUnformatted(ra) : NULL;
		cJSON_Delete(ra);
		if (!reasons ||
		    sqlite3_prepare_v2(d->db,
				       "INSERT INTO srv_dup_pairs (a, b, score, reasons, status, created_at,"
				       " decided_at, decided_by) VALUES (?1, ?2, ?3, ?4, 'dismissed', ?5, ?5, ?6)"
				       " ON CONFLICT (a, b) DO UPDATE SET status = 'dismissed',"
				       " decided_at = excluded.decided_at, decided_by = excluded.decided_by",
				       -1, &st, NULL) != SQLITE_OK) {
			rc = crm_fail(&err, CRM_EDB, "review queue: %s", sqlite3_errmsg(d->db));
		} else {
			sqlite3_bind_text(st, 1, x, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, y, -1, SQLITE_STATIC);
			sqlite3_bind_double(st, 3, v.score);
			sqlite3_bind_text(st, 4, reasons, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 5, crm_now_ms());
			sqlite3_bind_text(st, 6, o->by, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = crm_fail(&err, CRM_EDB, "review queue: %s", sqlite3_errmsg(d->db));
		}
		sqlite3_finalize(st);
		free(reasons);
	}
	if (rc == CRM_OK)
		rc = srv_db_commit(d->db, &err);
	if (rc != CRM_OK) {
		srv_db_rollback(d->db);
		return dfail(&err);
	}
	printf("dismissed: %s and %s are different customers (never proposed again)\n", a, b);
	return 0;
}

static int dup_unmerge(struct dup_opts *o, struct srv_db *d)
{
	struct crm_error err;
	struct srv_dup_merge_info info;
	enum crm_err rc;

	if (o->npos != 2) {
		fprintf(stderr, "crm-server: usage: dup unmerge ID --db PATH (ID: the merged-away "
				"customer's id, or the merge id from dup log)\n");
		return 2;
	}
	rc = srv_db_begin(d->db, &err);
	if (rc != CRM_OK)
		return dfail(&err);
	rc = srv_dedup_unmerge(NULL, d->db, d->sync, o->pos[1], o->by, &info, &err);
	if (rc == CRM_OK)
		rc = srv_db_commit(d->db, &err);
	if (rc != CRM_OK) {
		srv_db_rollback(d->db);
		return dfail(&err);
	}
	printf("unmerged %s (%s) from %s (%s): %zu row%s moved back, %zu filled field%s emptied "
	       "(merge %lld undone; the pair will not be merged automatically again)\n",
	       info.merged, info.merged_name, info.survivor, info.survivor_name, info.moved,
	       info.moved == 1 ? "" : "s", info.filled, info.filled == 1 ? "" : "s",
	       (long long)info.merge_id);
	return 0;
}

/* ---- scan --------------------------------------------------------------- */

struct found_pair {
	char a[37], b[37];
	struct match_verdict v;
};

struct found {
	struct found_pair *p;
	size_t n, cap;
	bool oom;
};

static int collect_pair(void *ctx, const char *a, const char *b, const struct match_verdict *v)
{
	struct found *f = ctx;

	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 64;
		struct found_pair *np = realloc(f->p, ncap * sizeof *np);

		if (!np) {
			f->oom = true;
			return 1;
		}
		f->p = np;
		f->cap = ncap;
	}
	snprintf(f->p[f->n].a, sizeof f->p[0].a, "%s", a);
	snprintf(f->p[f->n].b, sizeof f->p[0].b, "%s", b);
	f->p[f->n].v = *v;
	f->n++;
	return 0;
}

/* Matches first, best first: merges settle before reviews are queued. */
static int cmp_pair(const void *x, const void *y)
{
	const struct found_pair *a = x, *b = y;

	if (a->v.decision != b->v.decision)
		return a->v.decision > b->v.decision ? -1 : 1;
	if (a->v.score != b->v.score)
		return a->v.score > b->v.score ? -1 : 1;
	return strcmp(a->a, b->a);
}

static int dup_scan(struct dup_opts *o, struct srv_db *d)
{
	struct srv_dedup *dd = NULL;
	struct crm_error err;
	struct found f = {0};
	enum crm_err rc;
	size_t merged = 0, queued = 0, skipped = 0, matches = 0, reviews = 0, pending = 0;
	size_t customers;
	bool in_txn = false;
	int64_t t0 = crm_now_ms();

	rc = srv_dedup_open(d->db, &dd, &err);
	if (rc != CRM_OK)
		return dfail(&err);
	customers = srv_dedup_count(dd);
	rc = srv_dedup_index_scan(dd, 2, collect_pair, &f, &err);
	if (rc == CRM_OK && f.oom)
		rc = crm_fail(&err, CRM_ENOMEM, "out of memory collecting pairs");
	if (rc != CRM_OK)
		goto out;
	qsort(f.p, f.n, sizeof *f.p, cmp_pair);
	for (size_t i = 0; i < f.n && rc == CRM_OK; i++) {
		struct found_pair *p = &f.p[i];
		char status[16];
		bool live;

		if (p->v.decision == MATCH_MATCH)
			matches++;
		else
			reviews++;
		if (!in_txn) {
			rc = srv_db_begin(d->db, &err);
			if (rc != CRM_OK)
				break;
			in_txn = true;
		}
		/*
		 * An earlier merge of this scan may have taken either side: then the
		 * pair is left for the next scan to judge afresh (no merge by chain).
		 */
		rc = srv_dedup_pair_state(d->db, p->a, p->b, status, &live, &err);
		if (rc != CRM_OK)
			break;
		if (!live || status[0]) {
			skipped++;
			continue;
		}
		if (p->v.decision == MATCH_MATCH) {
			struct srv_dup_merge_info info;

			rc = srv_dedup_merge(dd, d->db, d->sync, p->a, p->b, "scan", o->by, &p->v, &info, &err);
			if (rc == CRM_OK)
				merged++;
		} else {
			rc = srv_dedup_queue(d->db, p->a, p->b, &p->v, &err);
			if (rc == CRM_OK)
				queued++;
		}
		if (rc == CRM_OK && ++pending >= SCAN_BATCH) {
			rc = srv_db_commit(d->db, &err);
			in_txn = false;
			pending = 0;
		}
	}
	if (rc == CRM_OK && in_txn) {
		rc = srv_db_commit(d->db, &err);
		in_txn = false;
	}
out:
	if (in_txn)
		srv_db_rollback(d->db);
	free(f.p);
	srv_dedup_free(dd);
	if (rc != CRM_OK)
		return dfail(&err);
	printf("scanned %zu customers in %.1f s: %zu pair%s found (%zu match, %zu review); "
	       "merged %zu, queued %zu for review, %zu skipped (decided before or taken by an "
	       "earlier merge)\n",
	       customers, (double)(crm_now_ms() - t0) / 1000.0, f.n, f.n == 1 ? "" : "s", matches,
	       reviews, merged, queued, skipped);
	return 0;
}

int srv_cmd_dup(int argc, char **argv)
{
	struct dup_opts o;
	struct srv_db d;
	struct crm_error err;
	int rc;

	if (argc < 1 || strcmp(argv[0], "--help") == 0)
		return dup_usage();
	rc = dup_parse(argc, argv, &o);
	if (rc != 0)
		return rc;
	if (o.npos < 1)
		return dup_usage();
	if (srv_db_open(o.db, SRV_DB_SYNC, &d, &err) != CRM_OK)
		return dfail(&err);
	if (strcmp(o.pos[0], "list") == 0)
		rc = dup_list(&o, &d);
	else if (strcmp(o.pos[0], "log") == 0)
		rc = dup_log(&o, &d);
	else if (strcmp(o.pos[0], "merge") == 0)
		rc = dup_merge(&o, &d);
	else if (strcmp(o.pos[0], "dismiss") == 0)
		rc = dup_dismiss(&o, &d);
	else if (strcmp(o.pos[0], "unmerge") == 0)
		rc = dup_unmerge(&o, &d);
	else if (strcmp(o.pos[0], "scan") == 0)
		rc = dup_scan(&o, &d);
	else
		rc = dup_usage();
	srv_db_close(&d);
	return rc;
}

/* Scope tests as prepared SQL over customers.owner and srv_users.team. */
#include "srv_scope.h"

#include <stdio.h>
#include <string.h>

static const char *const conds[] = {
	/* rep (a customer merged into another is no longer anybody's: srv_dedup) */
	"(c.owner = :user AND c.merged_into IS NULL)",
	/* manager: their own and their team's */
	"((c.owner = :user OR (:team <> '' AND c.owner IN "
	"(SELECT name FROM srv_users WHERE team = :team))) AND c.merged_into IS NULL)",
	/* admin */
	"1",
};

const char *srv_scope_cond(enum srv_role role)
{
	return (unsigned)role < 3 ? conds[role] : conds[0];
}

void srv_scope_bind(sqlite3_stmt *st, const struct srv_user *u)
{
	int i = sqlite3_bind_parameter_index(st, ":user");

	if (i > 0)
		sqlite3_bind_text(st, i, u->name, -1, SQLITE_TRANSIENT);
	i = sqlite3_bind_parameter_index(st, ":team");
	if (i > 0)
		sqlite3_bind_text(st, i, u->team, -1, SQLITE_TRANSIENT);
}

static enum crm_err prep(struct srv_scope *sc, const char *sql, sqlite3_stmt **st,
			 struct crm_error *err)
{
	if (sqlite3_prepare_v3(sc->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(sc->db));
	srv_scope_bind(*st, &sc->user);
	return CRM_OK;
}

enum crm_err srv_scope_init(struct srv_scope *sc, sqlite3 *db, const struct srv_user *u,
			    struct crm_error *err)
{
	char sql[1024];
	enum crm_err rc = CRM_OK;

	memset(sc, 0, sizeof *sc);
	sc->db = db;
	sc->user = *u;
	snprintf(sql, sizeof sql, "SELECT 1 FROM customers c WHERE c.id = ?1 AND %s",
		 srv_scope_cond(u->role));
	rc = prep(sc, sql, &sc->customer, err);
	if (rc == CRM_OK)
		rc = prep(sc, "SELECT 1 FROM customers WHERE id = ?1", &sc->any_customer, err);
	for (size_t i = 0; rc == CRM_OK && i < schema_tables_count && i < SRV_SCOPE_MAX_TABLES; i++) {
		const struct schema_table *t = &schema_tables[i];

		if (!t->parent)
			continue;
		/* Identifiers come from the schema's own metadata. */
		snprintf(sql, sizeof sql,
			 "SELECT 1 FROM \"%s\" x JOIN customers c ON c.id = x.\"%s\" WHERE x.id = ?1 AND %s",
			 t->name, t->parent, srv_scope_cond(u->role));
		rc = prep(sc, sql, &sc->child[i], err);
		if (rc != CRM_OK)
			break;
		snprintf(sql, sizeof sql, "SELECT \"%s\" FROM \"%s\" WHERE id = ?1", t->parent, t->name);
		rc = prep(sc, sql, &sc->parent[i], err);
	}
	if (rc != CRM_OK)
		srv_scope_release(sc);
	return rc;
}

void srv_scope_release(struct srv_scope *sc)
{
	sqlite3_finalize(sc->customer);
	sqlite3_finalize(sc->any_customer);
	sc->customer = NULL;
	sc->any_customer = NULL;
	for (size_t i = 0; i < SRV_SCOPE_MAX_TABLES; i++) {
		sqlite3_finalize(sc->child[i]);
		sqlite3_finalize(sc->parent[i]);
		sc->child[i] = NULL;
		sc->parent[i] = NULL;
	}
}

static bool exists(sqlite3_stmt *st, const char *id)
{
	bool yes;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return yes;
}

/* Index of table name in schema_tables, or -1. */
static int table_index(const char *name)
{
	for (size_t i = 0; i < schema_tables_count && i < SRV_SCOPE_MAX_TABLES; i++)
		if (strcmp(schema_tables[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool srv_scope_customer(struct srv_scope *sc, const char *id)
{
	if (sc->user.role == SRV_ADMIN)
		return true;
	return exists(sc->customer, id);
}

bool srv_scope_row(struct srv_scope *sc, const char *table, const char *id)
{
	int i = table_index(table);

	if (i < 0)
		return false;
	if (!schema_tables[i].parent)
		return sc->user.role == SRV_ADMIN || exists(sc->customer, id);
	if (sc->user.role == SRV_ADMIN)
		return true;
	return exists(sc->child[i], id);
}

enum crm_err srv_scope_parent(struct srv_scope *sc, const char *table, const char *id,
			      char out[37], bool *found, struct crm_error *err)
{
	int i = table_index(table);
	sqlite3_stmt *st;
	int step;
	enum crm_err rc = CRM_OK;

	*found = false;
	if (i < 0)
		return CRM_OK;
	if (!schema_tables[i].parent) {
		*found = exists(sc->any_customer, id);
		if (*found)
			snprintf(out, 37, "%s", id);
		return CRM_OK;
	}
	st = sc->parent[i];
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const unsigned char *p = sqlite3_column_text(st, 0);

		*found = true;
		snprintf(out, 37, "%s", p ? (const char *)p : "");
	} else if (step != SQLITE_DONE) {
		rc = crm_fail(err, CRM_EDB, "scope: %s", sqlite3_errmsg(sc->db));
	}
	sqlite3_reset(st);
	return rc;
}

bool srv_scope_may_own(struct srv_scope *sc, const char *owner)
{
	struct srv_user o;

	if (strcmp(owner, sc->user.name) == 0)
		return true;
	if (sc->user.role == SRV_REP)
		return false;
	if (srv_user_get(sc->db, owner, &o, NULL) != CRM_OK || o.disabled)
		return false;
	if (sc->user.role == SRV_ADMIN)
		return true;
	return sc->user.team[0] && strcmp(o.team, sc->user.team) == 0;
}

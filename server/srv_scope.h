/*
 * srv_scope: who may see and change which rows (partial replication and
 * server authority share one rule).
 *
 * A rep's scope is the customers they own and every row under them (child
 * rows name their customer in customer_id); a manager's, the customers owned
 * by anyone in their team (themselves included); an admin's, everything. The
 * same scope decides what a device is sent and what it may change.
 */
#ifndef SERVER_SRV_SCOPE_H
#define SERVER_SRV_SCOPE_H

#include <sqlite3.h>
#include <stdbool.h>

#include "crm_err.h"
#include "srv_users.h"
#include "tables.h"

#define SRV_SCOPE_MAX_TABLES 16

/* Prepared membership tests for one user on one connection. */
struct srv_scope {
	sqlite3 *db;
	struct srv_user user;
	sqlite3_stmt *customer;                      /* is customer ?1 in scope */
	sqlite3_stmt *any_customer;                  /* does customer ?1 exist */
	sqlite3_stmt *child[SRV_SCOPE_MAX_TABLES];   /* is the customer of row ?1 in scope */
	sqlite3_stmt *parent[SRV_SCOPE_MAX_TABLES];  /* customer_id of row ?1 */
};

/*
 * The SQL condition on a customers row aliased c that holds when it is in
 * the user's scope, with parameters :user and :team (bind them with
 * srv_scope_bind). A static string.
 */
const char *srv_scope_cond(enum srv_role role);

/* Binds :user and :team of u in st (parameters that st lacks are skipped). */
void srv_scope_bind(sqlite3_stmt *st, const struct srv_user *u);

/* Prepares the tests for u on db. Release with srv_scope_release. */
enum crm_err srv_scope_init(struct srv_scope *sc, sqlite3 *db, const struct srv_user *u,
			    struct crm_error *err);
void srv_scope_release(struct srv_scope *sc);

/* True if customer id is in scope (false for an unknown customer). */
bool srv_scope_customer(struct srv_scope *sc, const char *id);

/*
 * True if the row (table, id) exists and is in scope: a customer by itself,
 * a child row through its customer_id.
 */
bool srv_scope_row(struct srv_scope *sc, const char *table, const char *id);

/*
 * The customer a row belongs to: the id itself for customers, customer_id
 * for a child row. *found false when the row does not exist (out untouched).
 */
enum crm_err srv_scope_parent(struct srv_scope *sc, const char *table, const char *id,
			      char out[37], bool *found, struct crm_error *err);

/*
 * May u make owner the owner of a customer? A rep only themselves, a
 * manager themselves or a member of their team, an admin any enabled user.
 */
bool srv_scope_may_own(struct srv_scope *sc, const char *owner);

#endif

/* The pool rules: known keys with defaults and ranges, over the srv_config table. */
#include "srv_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crm_time.h"
#include "srv_db.h"

enum key_kind { KEY_INT, KEY_FLAG };

struct known_key {
	const char *key;
	enum key_kind kind;
	int64_t min, max;
	const char *def;
	const char *help;
};

static const struct known_key keys[] = {
	{"pool.recycle_days", KEY_INT, 1, 3650, "30",
	 "days without a follow-up by its owner before a customer returns to the pool"},
	{"pool.warn_days", KEY_INT, 0, 3650, "3",
	 "days before recycling that `crm today` warns the owner"},
	{"pool.exempt_open_deals", KEY_FLAG, 0, 1, "on",
	 "on: a customer with an open deal (not won or lost) is never recycled"},
	{"pool.claim_limit", KEY_INT, 0, 1000000, "200",
	 "most customers a rep may own; claims beyond it are refused"},
	{"pool.lockout_days", KEY_INT, 0, 3650, "7",
	 "days a previous owner must wait before claiming the same customer again"},
};

#define NKEYS (sizeof keys / sizeof keys[0])

size_t srv_config_count(void)
{
	return NKEYS;
}

static const struct known_key *find_key(const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

/* Checks value against k and writes its normal form; CRM_EINVAL with a message otherwise. */
static enum crm_err normalize(const struct known_key *k, const char *value,
			      char out[SRV_CONFIG_VALUE_MAX], struct crm_error *err)
{
	static const char *const yes[] = {"on", "true", "yes", "1", NULL};
	static const char *const no[] = {"off", "false", "no", "0", NULL};
	char *end = NULL;
	long long v;

	if (k->kind == KEY_FLAG) {
		for (size_t i = 0; yes[i]; i++) {
			if (strcasecmp(value, yes[i]) == 0) {
				snprintf(out, SRV_CONFIG_VALUE_MAX, "on");
				return CRM_OK;
			}
			if (strcasecmp(value, no[i]) == 0) {
				snprintf(out, SRV_CONFIG_VALUE_MAX, "off");
				return CRM_OK;
			}
		}
		return crm_fail(err, CRM_EINVAL, "%s must be on or off, not \"%s\"", k->key, value);
	}
	errno = 0;
	v = strtoll(value, &end, 10);
	if (!value[0] || errno || !end || *end || value[0] == '+' || value[0] == ' ' ||
	    v < k->min || v > k->max)
		return crm_fail(err, CRM_EINVAL, "%s must be a whole number from %lld to %lld, not \"%s\"",
				k->key, (long long)k->min, (long long)k->max, value);
	snprintf(out, SRV_CONFIG_VALUE_MAX, "%lld", v);
	return CRM_OK;
}

void srv_config_defaults(struct srv_pool_rules *out)
{
	out->recycle_days = 30;
	out->warn_days = 3;
	out->exempt_open_deals = true;
	out->claim_limit = 200;
	out->lockout_days = 7;
}

enum crm_err srv_config_list(sqlite3 *db, struct srv_config_entry *out, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	for (size_t i = 0; i < NKEYS; i++) {
		out[i].key = keys[i].key;
		out[i].help = keys[i].help;
		snprintf(out[i].value, sizeof out[i].value, "%s", keys[i].def);
		out[i].is_default = true;
	}
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM srv_config", -1, &st, NULL) != SQLITE_OK)
		return crm_fail(err, CRM_EDB, "cannot read the pool rules: %s", sqlite3_errmsg(db));
	for (;;) {
		int step = sqlite3_step(st);
		const char *key, *value;
		char norm[SRV_CONFIG_VALUE_MAX];

		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = crm_fail(err, step == SQLITE_BUSY ? CRM_EBUSY : CRM_EDB,
				      "cannot read the pool rules: %s", sqlite3_errmsg(db));
			break;
		}
		key = (const char *)sqlite3_column_text(st, 0);
		value = (const char *)sqlite3_column_text(st, 1);
		for (size_t i = 0; key && value && i < NKEYS; i++) {
			if (strcmp(keys[i].key, key) != 0)
				continue;
			if (normalize(&keys[i], value, norm, NULL) == CRM_OK) {
				memcpy(out[i].value, norm, sizeof norm);
				out[i].is_default = false;
			}
		}
	}
	sqlite3_finalize(st);
	return rc;
}

enum crm_err srv_config_rules(sqlite3 *db, struct srv_pool_rules *out, struct crm_error *err)
{
	struct srv_config_entry e[NKEYS];
	enum crm_err rc;

	srv_config_defaults(out);
	rc = srv_config_list(db, e, err);
	if (rc != CRM_OK)
		return rc;
	for (size_t i = 0; i < NKEYS; i++) {
		long long v = strtoll(e[i].value, NULL, 10);

		if (strcmp(e[i].key, "pool.recycle_days") == 0)
			out->recycle_days = v;
		else if (strcmp(e[i].key, "pool.warn_days") == 0)
			out->warn_days = v;
		else if (strcmp(e[i].key, "pool.exempt_open_deals") == 0)
			out->exempt_open_deals = strcmp(e[i].value, "on") == 0;
		else if (strcmp(e[i].key, "pool.claim_limit") == 0)
			out->claim_limit = v;
		else if (strcmp(e[i].key, "pool.lockout_days") == 0)
			out->lockout_days = v;
	}
	return CRM_OK;
}

enum crm_err srv_config_set(sqlite3 *db, const char *key, const char *value,
			    char normalized[SRV_CONFIG_VALUE_MAX], struct crm_error *err)
{
	const struct known_key *k = find_key(key);
	char norm[SRV_CONFIG_VALUE_MAX];
	sqlite3_stmt *st = NULL;
	enum crm_err rc;

	if (!k) {
		char known[512];
		size_t used = 0;

		known[0] = '\0';
		for (size_t i = 0; i < NKEYS; i++) {
			int w = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
					 keys[i].key);

			if (w < 0 || (size_t)w >= sizeof known - used)
				break;
			used += (size_t)w;
		}
		return crm_fail(err, CRM_ENOTFOUND, "unknown setting \"%s\" (known: %s)", key, known);
	}
	rc = normalize(k, value, norm, err);
	if (rc != CRM_OK)
		return rc;
	rc = srv_db_begin(db, err);
	if (rc != CRM_OK)
		return rc;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO srv_config (key, value, updated_at) VALUES (?1, ?2, ?3)"
			       " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
			       " updated_at = excluded.updated_at",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = crm_fail(err, CRM_EDB, "cannot store %s: %s", key, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, k->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, norm, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, crm_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = crm_fail(err, CRM_EDB, "cannot store %s: %s", key, sqlite3_errmsg(db));
		goto out;
	}
	rc = srv_db_commit(db, err);
	if (rc == CRM_OK && normalized)
		memcpy(normalized, norm, sizeof norm);
out:
	sqlite3_finalize(st);
	if (rc != CRM_OK)
		srv_db_rollback(db);
	return rc;
}

cJSON *srv_config_rules_json(const struct srv_pool_rules *r)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (!cJSON_AddNumberToObject(o, "recycle_days", (double)r->recycle_days) ||
	    !cJSON_AddNumberToObject(o, "warn_days", (double)r->warn_days) ||
	    !cJSON_AddBoolToObject(o, "exempt_open_deals", r->exempt_open_deals) ||
	    !cJSON_AddNumberToObject(o, "claim_limit", (double)r->claim_limit) ||
	    !cJSON_AddNumberToObject(o, "lockout_days", (double)r->lockout_days)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

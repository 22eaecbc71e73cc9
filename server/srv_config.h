/*
 * srv_config: the rules head office sets for the customer pool (公海).
 *
 * A small key/value table (srv_config, server migration 2) with a fixed set
 * of known keys, each with a default, a range and a one-line help. A key not
 * in the table has its default, so a fresh database works without any
 * `crm-server config set`. Values are validated and normalized on the way in
 * (an integer in range; on/off for flags), so readers never see a bad one.
 */
#ifndef SERVER_SRV_CONFIG_H
#define SERVER_SRV_CONFIG_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"

#define SRV_CONFIG_VALUE_MAX 32

/* The pool rules as the server and the clients use them. */
struct srv_pool_rules {
	int64_t recycle_days;    /* back to the pool after this many days without a follow-up */
	int64_t warn_days;       /* the owner is warned this many days before */
	bool exempt_open_deals;  /* a customer with an open deal is never recycled */
	int64_t claim_limit;     /* most customers a rep may own (claims beyond are refused) */
	int64_t lockout_days;    /* a previous owner may not claim it again for this long */
};

/* One known key, its value in force and whether that is the default. */
struct srv_config_entry {
	const char *key;   /* static */
	const char *help;  /* static */
	char value[SRV_CONFIG_VALUE_MAX];
	bool is_default;
};

/* Number of known keys (the size srv_config_list fills). */
size_t srv_config_count(void);

/* The defaults (recycle 30, warn 3, exempt on, limit 200, lock-out 7). */
void srv_config_defaults(struct srv_pool_rules *out);

/*
 * Reads the rules in force (defaults for unset keys). A stored value that is
 * somehow not valid (edited by hand) is ignored in favour of the default.
 */
enum crm_err srv_config_rules(sqlite3 *db, struct srv_pool_rules *out, struct crm_error *err);

/*
 * Validates and stores key = value. CRM_ENOTFOUND for an unknown key (the
 * message lists the known ones), CRM_EINVAL for a bad value (the message says
 * what is allowed). normalized (may be NULL) gets the value as stored
 * ("on" for "true", "30" for "030"). Runs its own IMMEDIATE transaction.
 */
enum crm_err srv_config_set(sqlite3 *db, const char *key, const char *value,
			    char normalized[SRV_CONFIG_VALUE_MAX], struct crm_error *err);

/* Every known key with its value in force, in a fixed order; out has srv_config_count() slots. */
enum crm_err srv_config_list(sqlite3 *db, struct srv_config_entry *out, struct crm_error *err);

/*
 * The rules a client needs to warn its rep offline, as a new JSON object
 * (caller owns it, cJSON_Delete): {"recycle_days":30,"warn_days":3,
 * "exempt_open_deals":true,"claim_limit":200,"lockout_days":7}. NULL without memory.
 */
cJSON *srv_config_rules_json(const struct srv_pool_rules *r);

#endif

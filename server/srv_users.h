/*
 * srv_users: people, their roles, and the devices they sync from.
 *
 * Passwords are stored as Argon2id strings (libsodium crypto_pwhash_str).
 * A login makes a device: a per-laptop bearer token of 32 random bytes sent
 * once (base64url), of which only a BLAKE2b hash is stored; the token stays
 * valid until the device is revoked or its user disabled (field laptops stay
 * offline for weeks). All functions take a sqlite3 handle of the server
 * database and run their own short transactions.
 */
#ifndef SERVER_SRV_USERS_H
#define SERVER_SRV_USERS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"

enum srv_role { SRV_REP, SRV_MANAGER, SRV_ADMIN };

#define SRV_NAME_MAX 64    /* bytes of a user, team or device name */
#define SRV_TOKEN_SIZE 48  /* base64url of 32 bytes (43 chars) + NUL, with room */
#define SRV_PASSWORD_MAX 1024

struct srv_user {
	char name[SRV_NAME_MAX + 1];
	enum srv_role role;
	char team[SRV_NAME_MAX + 1]; /* "" when none */
	bool disabled;
	int64_t created_at;
};

struct srv_device {
	char id[37];
	char user[SRV_NAME_MAX + 1];
	char name[SRV_NAME_MAX + 1];
	char site[37];      /* "" until the first sync */
	int64_t created_at; /* UTC ms */
	int64_t last_seen;  /* 0: never synced */
	int64_t revoked_at; /* 0: valid */
};

/* What a valid token says about the caller. */
struct srv_session {
	struct srv_user user;
	struct srv_device device;
};

/* "rep" / "manager" / "admin" and back (CRM_EINVAL for anything else). */
const char *srv_role_name(enum srv_role r);
enum crm_err srv_role_parse(const char *s, enum srv_role *out, struct crm_error *err);

/* A user, team or device name: 1..SRV_NAME_MAX bytes of UTF-8, no control characters. */
enum crm_err srv_name_check(const char *what, const char *s, struct crm_error *err);

/* Adds a user (CRM_EEXISTS if the name is taken). team may be NULL or "". */
enum crm_err srv_user_add(sqlite3 *db, const char *name, enum srv_role role, const char *team,
			  const char *password, struct crm_error *err);

/* Sets a new password (CRM_ENOTFOUND for an unknown user). */
enum crm_err srv_user_passwd(sqlite3 *db, const char *name, const char *password,
			     struct crm_error *err);

/* Disables a user: their tokens stop working, logins are refused. */
enum crm_err srv_user_disable(sqlite3 *db, const char *name, struct crm_error *err);

/* One user (CRM_ENOTFOUND). */
enum crm_err srv_user_get(sqlite3 *db, const char *name, struct srv_user *out,
			  struct crm_error *err);

/* Every user by name. *list is malloc()ed (caller frees); may be NULL when *n is 0. */
enum crm_err srv_user_list(sqlite3 *db, struct srv_user **list, size_t *n,
			   struct crm_error *err);

/*
 * Checks user and password and makes a device named device_name with a new
 * token, written to token (NUL-terminated). CRM_EAUTH for an unknown or
 * disabled user or a wrong password (one message for all three).
 */
enum crm_err srv_login(sqlite3 *db, const char *user, const char *password,
		       const char *device_name, char token[SRV_TOKEN_SIZE],
		       struct srv_session *out, struct crm_error *err);

/*
 * Finds the device a bearer token belongs to. CRM_EAUTH if the token is
 * unknown, its device revoked, or its user disabled.
 */
enum crm_err srv_auth(sqlite3 *db, const char *token, struct srv_session *out,
		      struct crm_error *err);

/* Every device, newest first. *list is malloc()ed (caller frees). */
enum crm_err srv_device_list(sqlite3 *db, struct srv_device **list, size_t *n,
			     struct crm_error *err);

/* Revokes a device (CRM_ENOTFOUND for an unknown id); its token stops working at once. */
enum crm_err srv_device_revoke(sqlite3 *db, const char *id, struct crm_error *err);

#endif

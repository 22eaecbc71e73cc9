/* Users, Argon2id passwords, devices and their hashed bearer tokens. */
#include "srv_users.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_id.h"
#include "crm_time.h"
#include "crm_utf8.h"
#include "srv_db.h"

#define TOKEN_BYTES 32
#define HASH_BYTES 32

static const char *const role_names[] = {"rep", "manager", "admin"};

const char *srv_role_name(enum srv_role r)
{
	return (unsigned)r < 3 ? role_names[r] : "?";
}

enum crm_err srv_role_parse(const char *s, enum srv_role *out, struct crm_error *err)
{
	for (int i = 0; i < 3; i++) {
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum srv_role)i;
			return CRM_OK;
		}
	}
	return crm_fail(err, CRM_EINVAL, "role \"%s\": expected rep, manager or admin", s);
}

enum crm_err srv_name_check(const char *what, const char *s, struct crm_error *err)
{
	size_t n = strlen(s);

	if (n == 0 || n > SRV_NAME_MAX)
		return crm_fail(err, CRM_EINVAL, "%s must be 1 to %d bytes", what, SRV_NAME_MAX);
	if (!crm_utf8_valid(s, n))
		return crm_fail(err, CRM_EUTF8, "%s is not valid UTF-8", what);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return crm_fail(err, CRM_EINVAL, "%s contains a control character", what);
	return CRM_OK;
}

static enum crm_err db_fail(sqlite3 *db, struct crm_error *err, const char *what)
{
	int code = sqlite3_errcode(db);

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return crm_fail(err, CRM_EBUSY, "%s: database busy", what);
	return crm_fail(err, CRM_EDB, "%s: %s", what, sqlite3_errmsg(db));
}

static enum crm_err hash_password(const char *password, char out[crypto_pwhash_STRBYTES],
				  struct crm_error *err)
{
	size_t n = strlen(password);

	if (n == 0)
		return crm_fail(err, CRM_EINVAL, "the password is empty");
	if (n > SRV_PASSWORD_MAX)
		return crm_fail(err, CRM_ETOOBIG, "the password is longer than %d bytes",
				SRV_PASSWORD_MAX);
	if (sodium_init() < 0)
		return crm_fail(err, CRM_EINTERNAL, "libsodium could not start");
	if (crypto_pwhash_str(out, password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return crm_fail(err, CRM_ENOMEM, "not enough memory to hash the password");
	return CRM_OK;
}

enum crm_err srv_user_add(sqlite3 *db, const char *name, enum srv_role role, const char *team,
			  const char *password, struct crm_error *err)
{
	char hash[crypto_pwhash_STRBYTES];
	sqlite3_stmt *st = NULL;
	enum crm_err rc = srv_name_check("user name", name, err);

	if (rc == CRM_OK && team && team[0])
		rc = srv_name_check("team", team, err);
	if (rc == CRM_OK)
		rc = hash_password(password, hash, err);
	if (rc != CRM_OK)
		return rc;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO srv_users (name, role, team, pwhash, created_at) "
			       "VALUES (?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "add user");
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, srv_role_name(role), -1, SQLITE_STATIC);
	if (team && team[0])
		sqlite3_bind_text(st, 3, team, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, crm_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY)
			rc = crm_fail(err, CRM_EEXISTS, "user %s already exists", name);
		else
			rc = db_fail(db, err, "add user");
	}
out:
	sodium_memzero(hash, sizeof hash);
	sqlite3_finalize(st);
	return rc;
}

/* Runs one UPDATE of srv_users keyed by name (?2); CRM_ENOTFOUND if no row. */
static enum crm_err update_user(sqlite3 *db, const char *sql, const char *arg, const char *name,
				struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "update user");
		goto out;
	}
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, err, "update user");
		goto out;
	}
	if (sqlite3_changes(db) == 0)
		rc = crm_fail(err, CRM_ENOTFOUND, "no user called %s", name);
out:
	sqlite3_finalize(st);
	return rc;
}

enum crm_err srv_user_passwd(sqlite3 *db, const char *name, const char *password,
			     struct crm_error *err)
{
	char hash[crypto_pwhash_STRBYTES];
	enum crm_err rc = hash_password(password, hash, err);

	if (rc == CRM_OK)
		rc = update_user(db, "UPDATE srv_users SET pwhash = ?1 WHERE name = ?2", hash, name,
				 err);
	sodium_memzero(hash, sizeof hash);
	return rc;
}

enum crm_err srv_user_disable(sqlite3 *db, const char *name, struct crm_error *err)
{
	return update_user(db, "UPDATE srv_users SET disabled = 1 WHERE name = ?2", NULL, name, err);
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

#define USER_COLS "u.name, u.role, u.team, u.disabled, u.created_at"

/* Reads USER_COLS starting at column at. */
static void read_user(sqlite3_stmt *st, int at, struct srv_user *u)
{
	struct crm_error ignored;
	const char *role = (const char *)sqlite3_column_text(st, at + 1);

	memset(u, 0, sizeof *u);
	copy_col(u->name, sizeof u->name, st, at);
	if (srv_role_parse(role ? role : "", &u->role, &ignored) != CRM_OK)
		u->role = SRV_REP;
	copy_col(u->team, sizeof u->team, st, at + 2);
	u->disabled = sqlite3_column_int(st, at + 3) != 0;
	u->created_at = sqlite3_column_int64(st, at + 4);
}

enum crm_err srv_user_get(sqlite3 *db, const char *name, struct srv_user *out,
			  struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	int step;

	if (sqlite3_prepare_v2(db, "SELECT " USER_COLS " FROM srv_users u WHERE u.name = ?", -1,
			       &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "read user");
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		read_user(st, 0, out);
	else if (step == SQLITE_DONE)
		rc = crm_fail(err, CRM_ENOTFOUND, "no user called %s", name);
	else
		rc = db_fail(db, err, "read user");
out:
	sqlite3_finalize(st);
	return rc;
}

/* Reads one row of a list at column 0 into the element at out. */
typedef void (*row_reader)(sqlite3_stmt *st, void *out);

/*
 * Every row sql yields, read by read into a malloc()ed array of elem-byte
 * elements (*list, *n; empty on failure). what names the list in errors.
 */
static enum crm_err list_rows(sqlite3 *db, const char *sql, size_t elem, row_reader read,
			      const char *what, void **list, size_t *n, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	char *v = NULL;
	size_t len = 0, cap = 0;
	int step;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, what);
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char *nv = realloc(v, ncap * elem);

			if (!nv) {
				rc = crm_fail(err, CRM_ENOMEM, "%s: out of memory", what);
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		read(st, v + len++ * elem);
	}
	if (step != SQLITE_DONE)
		rc = db_fail(db, err, what);
out:
	sqlite3_finalize(st);
	if (rc != CRM_OK) {
		free(v);
		v = NULL;
		len = 0;
	}
	*list = v;
	*n = len;
	return rc;
}

static void read_user_row(sqlite3_stmt *st, void *out)
{
	read_user(st, 0, out);
}

enum crm_err srv_user_list(sqlite3 *db, struct srv_user **list, size_t *n,
			   struct crm_error *err)
{
	void *v = NULL;
	enum crm_err rc = list_rows(db, "SELECT " USER_COLS " FROM srv_users u ORDER BY u.name",
				    sizeof **list, read_user_row, "list users", &v, n, err);

	*list = v;
	return rc;
}

static char dummy[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
	unsigned char pw[16];

	randombytes_buf(pw, sizeof pw);
	if (crypto_pwhash_str(dummy, (const char *)pw, sizeof pw, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy[0] = '\0';
}

/* An Argon2id hash of a random password, made once, for logins of unknown users. */
static const char *dummy_hash(void)
{
	pthread_once(&dummy_once, make_dummy);
	return dummy;
}

static void token_hash(const char *token, unsigned char out[HASH_BYTES])
{
	crypto_generichash(out, HASH_BYTES, (const unsigned char *)token, strlen(token), NULL, 0);
}

enum crm_err srv_login(sqlite3 *db, const char *user, const char *password,
		       const char *device_name, char token[SRV_TOKEN_SIZE],
		       struct srv_session *out, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	unsigned char raw[TOKEN_BYTES], hash[HASH_BYTES];
	char pwhash[crypto_pwhash_STRBYTES] = "";
	bool known = false;

	token[0] = '\0';
	memset(out, 0, sizeof *out);
	if (sodium_init() < 0)
		return crm_fail(err, CRM_EINTERNAL, "libsodium could not start");
	rc = srv_name_check("device name", device_name, err);
	if (rc != CRM_OK)
		return rc;
	if (strlen(password) > SRV_PASSWORD_MAX || srv_name_check("user", user, NULL) != CRM_OK)
		return crm_fail(err, CRM_EAUTH, "wrong user name or password");
	if (sqlite3_prepare_v2(db, "SELECT " USER_COLS ", u.pwhash FROM srv_users u WHERE u.name = ?",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "login");
		goto out;
	}
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		read_user(st, 0, &out->user);
		copy_col(pwhash, sizeof pwhash, st, 5);
		known = !out->user.disabled;
	}
	sqlite3_finalize(st);
	st = NULL;
	/*
	 * Same message, and the same Argon2id work, whether the user is unknown,
	 * disabled, or the password wrong: timing does not tell names apart.
	 */
	if (!known)
		snprintf(pwhash, sizeof pwhash, "%s", dummy_hash());
	if (crypto_pwhash_str_verify(pwhash, password, strlen(password)) != 0 || !known) {
		rc = crm_fail(err, CRM_EAUTH, "wrong user name or password");
		goto out;
	}
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(token, SRV_TOKEN_SIZE, raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	token_hash(token, hash);
	crm_id_new(out->device.id);
	snprintf(out->device.user, sizeof out->device.user, "%s", out->user.name);
	snprintf(out->device.name, sizeof out->device.name, "%s", device_name);
	out->device.created_at = crm_now_ms();
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO srv_devices (id, user, name, token_hash, created_at) "
			       "VALUES (?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "login");
		goto out;
	}
	sqlite3_bind_text(st, 1, out->device.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, out->device.user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, out->device.name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, hash, sizeof hash, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, out->device.created_at);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, err, "login");
out:
	sqlite3_finalize(st);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(pwhash, sizeof pwhash);
	if (rc != CRM_OK)
		token[0] = '\0';
	return rc;
}

#define DEVICE_COLS "d.id, d.user, d.name, d.site, d.created_at, d.last_seen, d.revoked_at"

static void read_device(sqlite3_stmt *st, int at, struct srv_device *d)
{
	memset(d, 0, sizeof *d);
	copy_col(d->id, sizeof d->id, st, at);
	copy_col(d->user, sizeof d->user, st, at + 1);
	copy_col(d->name, sizeof d->name, st, at + 2);
	copy_col(d->site, sizeof d->site, st, at + 3);
	d->created_at = sqlite3_column_int64(st, at + 4);
	d->last_seen = sqlite3_column_int64(st, at + 5);
	d->revoked_at = sqlite3_column_int64(st, at + 6);
}

/* A token as srv_login makes them: 43 characters of base64url. */
static bool token_shaped(const char *t)
{
	size_t n = strlen(t);

	if (n != 43)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

enum crm_err srv_auth(sqlite3 *db, const char *token, struct srv_session *out,
		      struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;
	unsigned char hash[HASH_BYTES];
	const void *stored;
	int step;

	memset(out, 0, sizeof *out);
	if (!token_shaped(token))
		return crm_fail(err, CRM_EAUTH, "the token is not valid: log in again (crm login)");
	if (sodium_init() < 0)
		return crm_fail(err, CRM_EINTERNAL, "libsodium could not start");
	token_hash(token, hash);
	if (sqlite3_prepare_v2(db,
			       "SELECT " DEVICE_COLS ", d.token_hash, " USER_COLS
			       " FROM srv_devices d JOIN srv_users u ON u.name = d.user"
			       " WHERE d.token_hash = ?",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "check token");
		goto out;
	}
	sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		rc = step == SQLITE_DONE
			     ? crm_fail(err, CRM_EAUTH, "the token is not valid: log in again (crm login)")
			     : db_fail(db, err, "check token");
		goto out;
	}
	stored = sqlite3_column_blob(st, 7);
	if (!stored || sqlite3_column_bytes(st, 7) != HASH_BYTES ||
	    sodium_memcmp(stored, hash, HASH_BYTES) != 0) {
		rc = crm_fail(err, CRM_EAUTH, "the token is not valid: log in again (crm login)");
		goto out;
	}
	read_device(st, 0, &out->device);
	read_user(st, 8, &out->user);
	if (out->device.revoked_at)
		rc = crm_fail(err, CRM_EAUTH, "this device was revoked: ask an administrator");
	else if (out->user.disabled)
		rc = crm_fail(err, CRM_EAUTH, "user %s is disabled", out->user.name);
out:
	sqlite3_finalize(st);
	return rc;
}

static void read_device_row(sqlite3_stmt *st, void *out)
{
	read_device(st, 0, out);
}

enum crm_err srv_device_list(sqlite3 *db, struct srv_device **list, size_t *n,
			     struct crm_error *err)
{
	void *v = NULL;
	enum crm_err rc = list_rows(db, "SELECT " DEVICE_COLS " FROM srv_devices d ORDER BY d.id DESC",
				    sizeof **list, read_device_row, "list devices", &v, n, err);

	*list = v;
	return rc;
}

enum crm_err srv_device_revoke(sqlite3 *db, const char *id, struct crm_error *err)
{
	sqlite3_stmt *st = NULL;
	enum crm_err rc = CRM_OK;

	if (sqlite3_prepare_v2(db,
			       "UPDATE srv_devices SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "revoke device");
		goto out;
	}
	sqlite3_bind_int64(st, 1, crm_now_ms());
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, err, "revoke device");
	else if (sqlite3_changes(db) == 0)
		rc = crm_fail(err, CRM_ENOTFOUND, "no device %s (see crm-server device list)", id);
out:
	sqlite3_finalize(st);
	return rc;
}

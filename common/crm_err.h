/*
 * crm_err: the one error type of the project (curl's CURLcode habit).
 *
 * Library functions return an enum crm_err and, on failure, write a one-line
 * human message into a caller-provided struct crm_error (which may be NULL).
 * The codes and their short descriptions come from one X-macro list, so the
 * enum and crm_strerror() never drift apart (libuv's UV_ERRNO_MAP).
 */
#ifndef CRM_ERR_H
#define CRM_ERR_H

#include <stddef.h>

#define CRM_ERR_MAP(X)                                                     \
	X(OK, "ok")                                                        \
	X(USAGE, "bad usage")                                              \
	X(INVAL, "invalid value")                                        \
	X(NOTFOUND, "not found")                                           \
	X(AMBIGUOUS, "ambiguous reference")                                \
	X(EXISTS, "already exists")                                        \
	X(NOMEM, "out of memory")                                          \
	X(DB, "database error")                                            \
	X(IO, "input/output error")                                        \
	X(TOOBIG, "too large")                                             \
	X(VERSION, "version mismatch")                                     \
	X(PERM, "permission denied")                                       \
	X(AUTH, "authentication failed")                                   \
	X(NET, "network error")                                            \
	X(CLOCK, "clock out of range")                                     \
	X(FORMAT, "malformed data")                                        \
	X(UTF8, "invalid UTF-8")                                           \
	X(CONFLICT, "conflict")                                            \
	X(BUSY, "busy")                                                    \
	X(INTERNAL, "internal error")

enum crm_err {
#define CRM_ERR_ENUM(name, text) CRM_E##name,
	CRM_ERR_MAP(CRM_ERR_ENUM)
#undef CRM_ERR_ENUM
	CRM_E_COUNT
};
#define CRM_OK CRM_EOK

#define CRM_ERRMSG_MAX 512

/* Detail for a failed call: the code and one line for a person. */
struct crm_error {
	enum crm_err code;
	char msg[CRM_ERRMSG_MAX];
};

/* Short description of a code ("not found"); a static string, never NULL. */
const char *crm_strerror(enum crm_err code);

/* Stable lower-case identifier of a code ("notfound"), for JSON and logs. */
const char *crm_errname(enum crm_err code);

/*
 * Records a failure: sets err->code and formats the message (printf style).
 * err may be NULL. Returns code, so callers can write
 * `return crm_fail(err, CRM_EINVAL, "phone %s: ...", v);`.
 */
enum crm_err crm_fail(struct crm_error *err, enum crm_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clears err to CRM_OK with an empty message. err may be NULL. */
void crm_error_clear(struct crm_error *err);

#endif

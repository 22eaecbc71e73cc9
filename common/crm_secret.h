/*
 * crm_secret: a password typed by a person, for the front ends (crm login,
 * crm-server user add / passwd): one line of stdin, or, on a terminal, a
 * prompt on stderr and the line read without echo.
 */
#ifndef CRM_SECRET_H
#define CRM_SECRET_H

#include <stddef.h>

#include "crm_err.h"

/*
 * Reads the secret into out (n bytes, NUL-terminated, line ending removed).
 * CRM_EUSAGE when nothing was given (err says so, with how to give it).
 */
enum crm_err crm_secret_read(const char *prompt, char *out, size_t n, struct crm_error *err);

#endif

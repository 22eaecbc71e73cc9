/* The error table and the helpers that fill struct crm_error. */
#include "crm_err.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const err_text[] = {
#define CRM_ERR_TEXT(name, text) text,
	CRM_ERR_MAP(CRM_ERR_TEXT)
#undef CRM_ERR_TEXT
};

static const char *const err_name[] = {
#define CRM_ERR_NAME(name, text) #name,
	CRM_ERR_MAP(CRM_ERR_NAME)
#undef CRM_ERR_NAME
};

const char *crm_strerror(enum crm_err code)
{
	if ((unsigned)code >= CRM_E_COUNT)
		return "unknown error";
	return err_text[code];
}

const char *crm_errname(enum crm_err code)
{
	static char lower[CRM_E_COUNT][16];
	const char *src;
	size_t i;

	if ((unsigned)code >= CRM_E_COUNT)
		return "unknown";
	if (lower[code][0] == '\0') {
		src = err_name[code];
		for (i = 0; src[i] && i + 1 < sizeof lower[code]; i++)
			lower[code][i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] + 32 : src[i]);
		lower[code][i] = '\0';
	}
	return lower[code];
}

enum crm_err crm_fail(struct crm_error *err, enum crm_err code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}

void crm_error_clear(struct crm_error *err)
{
	if (!err)
		return;
	err->code = CRM_OK;
	err->msg[0] = '\0';
}

/*
 * crm_buf: the one growable byte buffer (git's strbuf, curl's dynbuf).
 *
 * Every buffer has a hard maximum size set at init: SQL, JSON and bodies read
 * from the network are built in it, and growth past the maximum fails with
 * CRM_ETOOBIG instead of eating memory. The content is always NUL-terminated
 * (the NUL is not counted in len). buf->data is never NULL after init.
 */
#ifndef CRM_BUF_H
#define CRM_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "crm_err.h"

struct crm_buf {
	char *data;  /* owned; "" until something is added */
	size_t len;  /* bytes in use, without the terminating NUL */
	size_t cap;  /* bytes allocated (0 while data points at the static "") */
	size_t max;  /* hard limit on len */
};

/* Sets up an empty buffer that may grow to max bytes. Allocates nothing. */
void crm_buf_init(struct crm_buf *b, size_t max);

/* Frees the contents and leaves b empty, ready for reuse with the same max. */
void crm_buf_release(struct crm_buf *b);

/* Empties b, keeping its allocation. */
void crm_buf_reset(struct crm_buf *b);

/* Appends n bytes. CRM_ETOOBIG past max, CRM_ENOMEM if allocation fails. */
enum crm_err crm_buf_add(struct crm_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string. */
enum crm_err crm_buf_addstr(struct crm_buf *b, const char *s);

/* Appends printf-formatted text. */
enum crm_err crm_buf_addf(struct crm_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum crm_err crm_buf_vaddf(struct crm_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Makes room for at least n more bytes without changing len. */
enum crm_err crm_buf_grow(struct crm_buf *b, size_t n);

/*
 * Hands the content over: returns a malloc()ed, NUL-terminated string that the
 * caller must free(), and leaves b empty. *len_out (if not NULL) gets its length.
 * Returns NULL only if memory runs out.
 */
char *crm_buf_detach(struct crm_buf *b, size_t *len_out);

#endif

/*
 * http: crm's side of the wire (libcurl), for protocol v1.
 *
 * Posts a JSON object deflated (Content-Encoding: deflate), asks for a
 * deflated answer (Accept-Encoding: deflate) and inflates it with hard caps
 * (a zip bomb from a broken server fails instead of eating memory). HTTPS
 * peers are always verified; cacert names a private CA bundle. Errors:
 * CRM_ENET for anything worth retrying (no connection, timeout, a reset, a
 * 5xx), otherwise the code that fits the server's {"error","message"}:
 * 401 CRM_EAUTH, 403 CRM_EPERM, 409 CRM_EVERSION, 413 CRM_ETOOBIG,
 * 400 CRM_EFORMAT, 422 CRM_EINVAL, with the server's message.
 *
 * Threads: http_init and http_release on the main thread (libcurl's global
 * setup is not thread-safe). A client (one easy handle, one kept-alive
 * connection) may be handed to another thread for http_post, but used by
 * one thread at a time: crm sync posts from a second thread and joins it
 * before the next request.
 */
#ifndef CLIENT_HTTP_H
#define CLIENT_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "crm_buf.h"
#include "crm_err.h"

struct http_client {
	void *curl;       /* CURL *, reused across requests (keep-alive) */
	char *base;       /* server URL without a trailing slash; malloc()ed */
	char *cacert;     /* CA bundle file or NULL; malloc()ed */
	size_t bytes_out; /* on the wire, summed over requests */
	size_t bytes_in;
};

/* Sets up a client for base_url ("https://crm.example:8443"). Release with http_release. */
enum crm_err http_init(struct http_client *h, const char *base_url, const char *cacert,
		       struct crm_error *err);
void http_release(struct http_client *h);

/*
 * POSTs body to path ("/v1/sync") with an optional bearer token; *out gets
 * the parsed JSON answer of a 2xx (caller frees with cJSON_Delete).
 * timeout_ms bounds the whole exchange (0: 5 minutes).
 */
enum crm_err http_post(struct http_client *h, const char *path, const char *token,
		       const cJSON *body, long timeout_ms, cJSON **out, struct crm_error *err);

/*
 * A request body deflated ahead of time, piece by piece: the bulk can be
 * compressed while another request is on the wire, and the last piece (the
 * part known only later) added just before sending. Pieces are JSON text
 * concatenated in order; the caller makes them one JSON object.
 */
struct http_body {
	void *z;             /* z_stream *, owned; NULL once finished */
	struct crm_buf packed; /* the deflated bytes so far */
	bool done;           /* the last piece is in */
};

/* Starts an empty body. Release with http_body_release (also after errors). */
enum crm_err http_body_init(struct http_body *b, struct crm_error *err);

/* Deflates n bytes of text into b; last ends the stream (no more pieces). */
enum crm_err http_body_add(struct http_body *b, const char *text, size_t n, bool last,
			   struct crm_error *err);

void http_body_release(struct http_body *b);

/* http_post of a finished body (CRM_EINTERNAL if it is not finished). */
enum crm_err http_post_body(struct http_client *h, const char *path, const char *token,
			    const struct http_body *body, long timeout_ms, cJSON **out,
			    struct crm_error *err);

#endif

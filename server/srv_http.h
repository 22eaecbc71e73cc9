/*
 * srv_http: the HTTP front of crm-server on GNU libmicrohttpd.
 *
 * It reads each request body under a hard cap, inflates a
 * `Content-Encoding: deflate` body with caps on size and ratio (a zip bomb
 * gets 413), checks it is UTF-8 JSON, dispatches through a static table of
 * routes, encodes the answer (deflated when the client sent
 * `Accept-Encoding: deflate`), and writes one log line per request on stderr:
 * time, user, device, method, path, status, bytes in, bytes out, ms.
 * Errors are JSON {"error": code, "message": text}. Stopping waits for the
 * requests in flight.
 */
#ifndef SERVER_SRV_HTTP_H
#define SERVER_SRV_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crm_err.h"
#include "srv_users.h"

/* What a route sees of a request. */
struct srv_req {
	const char *method;
	const char *path;
	const cJSON *json;          /* the parsed body (an object), owned by the HTTP layer */
	const char *authorization;  /* the Authorization header, or NULL */
	size_t body_bytes;          /* inflated size of the body */
	/* Set by the route for the log line. */
	char user[SRV_NAME_MAX + 1];
	char device[37];
};

/* What a route answers: a status and a JSON body the HTTP layer takes over. */
struct srv_resp {
	unsigned status;
	cJSON *json;
};

typedef void (*srv_route_fn)(void *app, struct srv_req *req, struct srv_resp *resp);

struct srv_route {
	const char *method;
	const char *path;
	srv_route_fn run;
};

struct srv_http_options {
	const char *host;        /* "127.0.0.1", "0.0.0.0", "::1" ... */
	unsigned port;           /* 0: any free port (see srv_http_port) */
	const char *cert_pem;    /* with key_pem: HTTPS; both NULL: HTTP */
	const char *key_pem;
	size_t max_body;         /* bytes on the wire, before inflating */
	size_t max_inflated;     /* bytes after inflating */
	size_t max_ratio;        /* inflated / compressed */
};

struct srv_http;

/*
 * Starts listening and serving routes[0..nroutes-1] (the table must outlive
 * the server) with app passed to every route. *out is stopped and freed with
 * srv_http_stop().
 */
enum crm_err srv_http_start(const struct srv_http_options *opt, const struct srv_route *routes,
			    size_t nroutes, void *app, struct srv_http **out,
			    struct crm_error *err);

/* The port actually bound (useful with port 0). */
unsigned srv_http_port(const struct srv_http *h);

/*
 * Stops accepting connections, waits up to grace_ms for the requests in
 * flight to finish, then closes everything and frees h.
 */
void srv_http_stop(struct srv_http *h, int grace_ms);

/*
 * Fills resp with status and {"error": code, "message": ...}; code is a
 * short identifier ("malformed", "unauthorized" ...).
 */
void srv_resp_error(struct srv_resp *resp, unsigned status, const char *code, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));

/* The HTTP status and error code that fit a library error (CRM_EAUTH -> 401 ...). */
unsigned srv_status_of(enum crm_err e, const char **code);

#endif

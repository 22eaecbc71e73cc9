/* libmicrohttpd glue: capped bodies, deflate both ways, routing, logging, graceful stop. */
#include "srv_http.h"

#include <arpa/inet.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crm_buf.h"
#include "crm_time.h"
#include "crm_utf8.h"
#include "sync.h"

#define MIN_DEFLATE_BYTES 256

struct srv_http {
	struct MHD_Daemon *daemon;
	const struct srv_route *routes;
	size_t nroutes;
	void *app;
	struct srv_http_options opt;
	unsigned port;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned inflight;
};

/* One request, from its first byte to the completed callback. */
struct conn_state {
	struct srv_http *h;
	struct crm_buf body;
	bool too_big;
	int64_t started;   /* monotonic ms */
	size_t bytes_in;   /* on the wire */
	size_t bytes_out;  /* on the wire */
	unsigned status;
	char method[16];
	char path[128];
	char user[SRV_NAME_MAX + 1];
	char device[37];
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned srv_status_of(enum crm_err e, const char **code)
{
	unsigned st = 500;
	const char *c = "internal";

	switch (e) {
	case CRM_EUSAGE:
	case CRM_EFORMAT:
	case CRM_EUTF8:
		st = 400;
		c = "malformed";
		break;
	case CRM_EAUTH:
		st = 401;
		c = "unauthorized";
		break;
	case CRM_EPERM:
		st = 403;
		c = "forbidden";
		break;
	case CRM_ENOTFOUND:
		st = 404;
		c = "notfound";
		break;
	case CRM_EVERSION:
		st = 409;
		c = "version";
		break;
	case CRM_ETOOBIG:
		st = 413;
		c = "toobig";
		break;
	case CRM_EINVAL:
	case CRM_ECLOCK:
		st = 422;
		c = "invalid";
		break;
	case CRM_EBUSY:
		st = 503;
		c = "busy";
		break;
	default:
		break;
	}
	if (code)
		*code = c;
	return st;
}

void srv_resp_error(struct srv_resp *resp, unsigned status, const char *code, const char *fmt,
		    ...)
{
	char msg[CRM_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cJSON_Delete(resp->json);
	resp->status = status;
	resp->json = cJSON_CreateObject();
	if (resp->json) {
		cJSON_AddStringToObject(resp->json, "error", code);
		cJSON_AddStringToObject(resp->json, "message", msg);
	}
}

/* True if an Accept-Encoding value lists deflate (without q=0). */
static bool accepts_deflate(const char *v)
{
	const char *p = v;

	while (p && *p) {
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, ",");
		if (n >= 7 && strncasecmp(p, "deflate", 7) == 0 &&
		    (n == 7 || p[7] == ';' || p[7] == ' ')) {
			const char *q = p + 7;
			const char *end = p + n;
			const char *qv = NULL;

			for (; q + 1 < end; q++) {
				if (q[0] == 'q' && q[1] == '=') {
					qv = q + 2;
					break;
				}
			}
			return !qv || strtod(qv, NULL) > 0.0;
		}
		p += n;
	}
	return false;
}

static enum MHD_Result send_json(struct MHD_Connection *c, struct conn_state *cs,
				 struct srv_resp *resp)
{
	struct crm_buf out;
	struct crm_error err;
	char *text = NULL;
	char *data = NULL;
	size_t len = 0;
	bool deflated = false;
	struct MHD_Response *r = NULL;
	enum MHD_Result ret = MHD_NO;
	const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);

	crm_buf_init(&out, (size_t)1 << 30);
	if (!resp->json)
		srv_resp_error(resp, 500, "internal", "out of memory");
	text = resp->json ? cJSON_PrintUnformatted(resp->json) : NULL;
	if (!text) {
		static const char fallback[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";

		resp->status = 500;
		r = MHD_create_response_from_buffer(sizeof fallback - 1, (void *)(uintptr_t)fallback,
						    MHD_RESPMEM_PERSISTENT);
		len = sizeof fallback - 1;
		goto queue;
	}
	len = strlen(text);
	if (ae && accepts_deflate(ae) && len >= MIN_DEFLATE_BYTES &&
	    sync_deflate(text, len, &out, &err) == CRM_OK) {
		data = crm_buf_detach(&out, &len);
		deflated = data != NULL;
	}
	if (!deflated) {
		data = text;
		text = NULL;
	}
	r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (r)
		data = NULL;
queue:
	if (r) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		if (deflated)
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "deflate");
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
		cs->status = resp->status;
		cs->bytes_out = len;
		ret = MHD_queue_response(c, resp->status, r);
		MHD_destroy_response(r);
	}
	free(data);
	free(text);
	crm_buf_release(&out);
	cJSON_Delete(resp->json);
	resp->json = NULL;
	return ret;
}

static const struct srv_route *find_route(const struct srv_http *h, const char *method,
					  const char *path, bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < h->nroutes; i++) {
		if (strcmp(h->routes[i].path, path) != 0)
			continue;
		*path_known = true;
		if (strcmp(h->routes[i].method, method) == 0)
			return &h->routes[i];
	}
	return NULL;
}

/* Turns the received body into JSON and runs the route. */
static void handle(struct MHD_Connection *c, struct conn_state *cs, struct srv_resp *resp)
{
	struct srv_http *h = cs->h;
	const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
	struct crm_buf plain;
	struct crm_error err;
	const char *body = cs->body.data;
	size_t n = cs->body.len;
	cJSON *json = NULL;
	struct sync_json_arena *arena = NULL;
	bool known = false;
	const struct srv_route *route = find_route(h, cs->method, cs->path, &known);
	struct srv_req req;

	crm_buf_init(&plain, h->opt.max_inflated);
	if (!route) {
		if (known)
			srv_resp_error(resp, 405, "method", "%s is not allowed on %s", cs->method, cs->path);
		else
			srv_resp_error(resp, 404, "notfound", "no such route: %s", cs->path);
		goto out;
	}
	if (cs->too_big) {
		srv_resp_error(resp, 413, "toobig", "the request body is larger than %zu bytes",
			       h->opt.max_body);
		goto out;
	}
	if (enc && strcasecmp(enc, "deflate") == 0) {
		enum crm_err rc = sync_inflate(body, n, h->opt.max_inflated, h->opt.max_ratio, &plain, &err);

		if (rc == CRM_ETOOBIG) {
			srv_resp_error(resp, 413, "toobig", "the inflated body is too large: %s", err.msg);
			goto out;
		}
		if (rc != CRM_OK) {
			srv_resp_error(resp, 400, "malformed", "the deflated body is corrupt: %s", err.msg);
			goto out;
		}
		body = plain.data;
		n = plain.len;
	} else if (enc && strcasecmp(enc, "identity") != 0) {
		srv_resp_error(resp, 415, "encoding", "unsupported Content-Encoding %s (use deflate)", enc);
		goto out;
	}
	if (!crm_utf8_valid(body, n)) {
		srv_resp_error(resp, 400, "malformed", "the request body is not valid UTF-8");
		goto out;
	}
	if (strcmp(cs->method, "POST") != 0)
		goto run;
	/*
	 * A sync request's push is read into nodes carved from one arena (no
	 * malloc and free per value; the route only reads it); every other
	 * member, and any other body, is parsed by cJSON as before.
	 */
	if (strcmp(cs->path, "/v1/sync") == 0)
		json = sync_json_parse_packed(body, n, "push", &arena);
	else
		json = cJSON_ParseWithLength(body, n);
	if (!json || !cJSON_IsObject(json)) {
		srv_resp_error(resp, 400, "malformed", "the request body is not a JSON object");
		goto out;
	}
run:
	memset(&req, 0, sizeof req);
	req.method = cs->method;
	req.path = cs->path;
	req.json = json;
	req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	req.body_bytes = n;
	resp->status = 200;
	route->run(h->app, &req, resp);
	memcpy(cs->user, req.user, sizeof cs->user);
	memcpy(cs->device, req.device, sizeof cs->device);
out:
	cJSON_Delete(json);
	sync_json_arena_free(arena);
	crm_buf_release(&plain);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct srv_http *h = cls;
	struct conn_state *cs = *con_cls;
	struct srv_resp resp = {0, NULL};

	(void)version;
	if (!cs) {
		const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							      MHD_HTTP_HEADER_CONTENT_LENGTH);

		cs = calloc(1, sizeof *cs);
		if (!cs)
			return MHD_NO;
		cs->h = h;
		cs->started = mono_ms();
		crm_buf_init(&cs->body, h->opt.max_body);
		snprintf(cs->method, sizeof cs->method, "%s", method);
		snprintf(cs->path, sizeof cs->path, "%s", url);
		if (len) {
			char *end = NULL;
			unsigned long long v;

			errno = 0;
			v = strtoull(len, &end, 10);
			if (errno || end == len || v > h->opt.max_body)
				cs->too_big = true;
		}
		pthread_mutex_lock(&h->lock);
		h->inflight++;
		pthread_mutex_unlock(&h->lock);
		*con_cls = cs;
		if (!cs->too_big)
			return MHD_YES;
		/* Content-Length says too big: answer 413 instead of "100 Continue". */
		handle(c, cs, &resp);
		return send_json(c, cs, &resp);
	}
	if (*upload_data_size) {
		cs->bytes_in += *upload_data_size;
		if (!cs->too_big && crm_buf_add(&cs->body, upload_data, *upload_data_size) != CRM_OK)
			cs->too_big = true;
		*upload_data_size = 0;
		/*
		 * Past the cap: drain (and drop) a little more so the client can read
		 * the 413 at the end; past 4 times the cap, answer now and let MHD
		 * close the connection.
		 */
		if (!cs->too_big || cs->status || cs->bytes_in <= 4 * cs->h->opt.max_body)
			return MHD_YES;
		handle(c, cs, &resp);
		crm_buf_release(&cs->body);
		return send_json(c, cs, &resp);
	}
	if (cs->status)
		return MHD_YES; /* 413 already queued while the body was arriving */
	handle(c, cs, &resp);
	crm_buf_release(&cs->body);
	return send_json(c, cs, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct srv_http *h = cls;
	struct conn_state *cs = *con_cls;
	char when[CRM_TIME_ISO_MAX];

	(void)c;
	if (!cs)
		return;
	crm_time_format_utc(crm_now_ms(), when);
	fprintf(stderr, "%s %s %s %s %s %u %zu %zu %lldms%s\n", when, cs->user[0] ? cs->user : "-",
		cs->device[0] ? cs->device : "-", cs->method, cs->path, cs->status ? cs->status : 0,
		cs->bytes_in, cs->bytes_out, (long long)(mono_ms() - cs->started),
		toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	crm_buf_release(&cs->body);
	free(cs);
	*con_cls = NULL;
	pthread_mutex_lock(&h->lock);
	h->inflight--;
	if (h->inflight == 0)
		pthread_cond_broadcast(&h->idle);
	pthread_mutex_unlock(&h->lock);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fprintf(stderr, "crm-server: libmicrohttpd: ");
	vfprintf(stderr, fmt, ap);
}

enum crm_err srv_http_start(const struct srv_http_options *opt, const struct srv_route *routes,
			    size_t nroutes, void *app, struct srv_http **out,
			    struct crm_error *err)
{
	struct srv_http *h = NULL;
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;

#ifdef __GLIBC__
	/*
	 * No fastbins: a sync request frees hundreds of thousands of small JSON
	 * nodes and then a large body buffer, and each large free made glibc
	 * consolidate every fastbin chunk (malloc_consolidate was 6-7% of the
	 * CPU of a 1.12M-field sync; this saves about 7-10% of it, measured).
	 */
	mallopt(M_MXFAST, 0);
#endif
	enum crm_err rc = CRM_OK;

	*out = NULL;
	memset(&ss, 0, sizeof ss);
	if (opt->port > 65535)
		return crm_fail(err, CRM_EINVAL, "port %u is out of range", opt->port);
	if (inet_pton(AF_INET, opt->host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)opt->port);
	} else if (inet_pton(AF_INET6, opt->host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)opt->port);
		flags |= MHD_USE_IPv6;
	} else {
		return crm_fail(err, CRM_EINVAL, "listen address %s: expected an IPv4 or IPv6 address",
				opt->host);
	}
	if ((opt->cert_pem == NULL) != (opt->key_pem == NULL))
		return crm_fail(err, CRM_EUSAGE, "HTTPS needs both --tls-cert and --tls-key");
	if (opt->cert_pem)
		flags |= MHD_USE_TLS;
	h = calloc(1, sizeof *h);
	if (!h)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	h->routes = routes;
	h->nroutes = nroutes;
	h->app = app;
	h->opt = *opt;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->idle, NULL);
	if (opt->cert_pem)
		h->daemon = MHD_start_daemon(flags, (uint16_t)opt->port, NULL, NULL, on_request, h,
					     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
					     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
					     MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
					     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
					     MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
					     MHD_OPTION_HTTPS_MEM_KEY, opt->key_pem,
					     MHD_OPTION_HTTPS_MEM_CERT, opt->cert_pem,
					     MHD_OPTION_END);
	else
		h->daemon = MHD_start_daemon(flags, (uint16_t)opt->port, NULL, NULL, on_request, h,
					     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
					     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
					     MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
					     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
					     MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
					     MHD_OPTION_END);
	if (!h->daemon) {
		rc = crm_fail(err, CRM_EIO, "cannot listen on %s:%u (address in use, or a bad certificate?)",
			      opt->host, opt->port);
		goto out;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : opt->port;
out:
	if (rc != CRM_OK) {
		pthread_mutex_destroy(&h->lock);
		pthread_cond_destroy(&h->idle);
		free(h);
		h = NULL;
	}
	*out = h;
	return rc;
}

unsigned srv_http_port(const struct srv_http *h)
{
	return h->port;
}

void srv_http_stop(struct srv_http *h, int grace_ms)
{
	MHD_socket s;
	struct timespec until;

	if (!h)
		return;
	s = MHD_quiesce_daemon(h->daemon);
	if (s != MHD_INVALID_SOCKET)
		close(s);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += grace_ms / 1000;
	until.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->lock);
	while (h->inflight > 0) {
		if (pthread_cond_timedwait(&h->idle, &h->lock, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&h->lock);
	MHD_stop_daemon(h->daemon);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->idle);
	free(h);
}

/* libcurl POST of deflated JSON with capped inflation of the answer. */
#include "http.h"

#include <curl/curl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "crm_buf.h"
#include "sync.h"

#define MAX_WIRE_BODY ((size_t)256 << 20)
#define MAX_INFLATED ((size_t)512 << 20)
#define MAX_RATIO 200

struct reply {
	struct crm_buf body;
	bool deflated;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;

	if (crm_buf_add(&r->body, p, size * n) != CRM_OK)
		return 0; /* too big: curl fails the transfer */
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n;
	static const char key[] = "content-encoding:";

	if (len > sizeof key - 1 && strncasecmp(p, key, sizeof key - 1) == 0) {
		const char *v = p + sizeof key - 1;

		while (*v == ' ')
			v++;
		if (strncasecmp(v, "deflate", 7) == 0)
			r->deflated = true;
	}
	return len;
}

enum crm_err http_init(struct http_client *h, const char *base_url, const char *cacert,
		       struct crm_error *err)
{
	size_t n;

	memset(h, 0, sizeof *h);

#ifdef __GLIBC__
	/*
	 * No fastbins: a sync request frees hundreds of thousands of small JSON
	 * nodes and then a large body buffer, and each large free made glibc
	 * consolidate every fastbin chunk (malloc_consolidate was 6-7% of the
	 * CPU of a 1.12M-field sync; this saves about 7-10% of it, measured).
	 */
	mallopt(M_MXFAST, 0);
#endif
	if (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0)
		return crm_fail(err, CRM_EUSAGE,
				"server %s: expected a URL such as https://crm.example.com:8443",
				base_url);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return crm_fail(err, CRM_EINTERNAL, "libcurl could not start");
	h->curl = curl_easy_init();
	h->base = strdup(base_url);
	h->cacert = cacert ? strdup(cacert) : NULL;
	if (!h->curl || !h->base || (cacert && !h->cacert)) {
		http_release(h);
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	}
	n = strlen(h->base);
	while (n > 0 && h->base[n - 1] == '/')
		h->base[--n] = '\0';
	return CRM_OK;
}

void http_release(struct http_client *h)
{
	if (h->curl) {
		curl_easy_cleanup(h->curl);
		curl_global_cleanup();
	}
	free(h->base);
	free(h->cacert);
	memset(h, 0, sizeof *h);
}

static enum crm_err status_err(long status)
{
	switch (status) {
	case 400:
		return CRM_EFORMAT;
	case 401:
		return CRM_EAUTH;
	case 403:
		return CRM_EPERM;
	case 404:
		return CRM_ENOTFOUND;
	case 409:
		return CRM_EVERSION;
	case 413:
		return CRM_ETOOBIG;
	case 422:
		return CRM_EINVAL;
	default:
		return status >= 500 ? CRM_ENET : CRM_EINTERNAL;
	}
}

/* POSTs packed (deflated JSON) to path; *out gets the parsed answer of a 2xx. */
static enum crm_err post_packed(struct http_client *h, const char *path, const char *token,
				const struct crm_buf *packed, long timeout_ms, cJSON **out,
				struct crm_error *err)
{
	CURL *c = h->curl;
	struct curl_slist *hdr = NULL;
	struct reply r;
	struct crm_buf plain;
	char url[2048], auth[256], ebuf[CURL_ERROR_SIZE] = "";
	enum crm_err rc = CRM_OK;
	CURLcode cc;
	long status = 0;
	curl_off_t up = 0, down = 0;

	*out = NULL;
	crm_buf_init(&r.body, MAX_WIRE_BODY);
	r.deflated = false;
	crm_buf_init(&plain, MAX_INFLATED);
	if (snprintf(url, sizeof url, "%s%s", h->base, path) >= (int)sizeof url) {
		rc = crm_fail(err, CRM_EINVAL, "the server URL is too long");
		goto out;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "Content-Encoding: deflate");
	hdr = curl_slist_append(hdr, "Accept-Encoding: deflate");
	hdr = curl_slist_append(hdr, "Expect:");
	if (token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		hdr = curl_slist_append(hdr, auth);
	}
	if (!hdr) {
		rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, packed->data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)packed->len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 300000L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "crm/1 (protocol 1)");
	if (h->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
	h->bytes_out += (size_t)(up > 0 ? up : 0);
	h->bytes_in += (size_t)(down > 0 ? down : 0);
	if (cc != CURLE_OK) {
		bool tls = cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
			   cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SSL_CERTPROBLEM;

		rc = crm_fail(err, tls ? CRM_EAUTH : CRM_ENET, "%s: %s%s", url,
			      ebuf[0] ? ebuf : curl_easy_strerror(cc),
			      tls ? " (for a private CA, pass --cacert FILE)" : "");
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (r.deflated) {
		struct crm_error ie;

		rc = sync_inflate(r.body.data, r.body.len, MAX_INFLATED, MAX_RATIO, &plain, &ie);
		if (rc != CRM_OK) {
			rc = crm_fail(err, CRM_ENET, "%s: the answer could not be inflated: %s", url,
				      ie.msg);
			goto out;
		}
	} else {
		rc = crm_buf_add(&plain, r.body.data, r.body.len);
		if (rc != CRM_OK) {
			rc = crm_fail(err, rc, "%s: the answer is too large", url);
			goto out;
		}
	}
	*out = cJSON_ParseWithLength(plain.data, plain.len);
	if (status < 200 || status > 299) {
		const cJSON *m = *out ? cJSON_GetObjectItemCaseSensitive(*out, "message") : NULL;

		rc = crm_fail(err, status_err(status), "server said %ld: %s", status,
			      cJSON_IsString(m) ? m->valuestring : "no explanation");
		cJSON_Delete(*out);
		*out = NULL;
		goto out;
	}
	if (!*out || !cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		rc = crm_fail(err, CRM_ENET, "%s: the answer is not JSON (is this a crm-server?)", url);
	}
out:
	curl_slist_free_all(hdr);
	crm_buf_release(&r.body);
	crm_buf_release(&plain);
	return rc;
}

enum crm_err http_post(struct http_client *h, const char *path, const char *token,
		       const cJSON *body, long timeout_ms, cJSON **out, struct crm_error *err)
{
	struct crm_buf packed;
	char *text = cJSON_PrintUnformatted(body);
	enum crm_err rc;

	*out = NULL;
	crm_buf_init(&packed, MAX_WIRE_BODY);
	if (!text) {
		rc = crm_fail(err, CRM_ENOMEM, "out of memory");
		goto out;
	}
	rc = sync_deflate(text, strlen(text), &packed, err);
	if (rc == CRM_OK)
		rc = post_packed(h, path, token, &packed, timeout_ms, out, err);
out:
	free(text);
	crm_buf_release(&packed);
	return rc;
}

/* ---- bodies deflated ahead -------------------------------------------- */

enum crm_err http_body_init(struct http_body *b, struct crm_error *err)
{
	z_stream *z = calloc(1, sizeof *z);

	memset(b, 0, sizeof *b);
	crm_buf_init(&b->packed, MAX_WIRE_BODY);
	if (!z)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	/* Level 1, as sync_deflate (sync/zip.c says why). */
	if (deflateInit(z, Z_BEST_SPEED) != Z_OK) {
		free(z);
		return crm_fail(err, CRM_ENOMEM, "deflate: cannot start");
	}
	b->z = z;
	return CRM_OK;
}

enum crm_err http_body_add(struct http_body *b, const char *text, size_t n, bool last,
			   struct crm_error *err)
{
	z_stream *z = b->z;
	unsigned char chunk[64 * 1024];
	const char *p = text;
	size_t left = n;
	enum crm_err rc = CRM_OK;
	int zrc = Z_OK;

	if (!z || b->done)
		return crm_fail(err, CRM_EINTERNAL, "request body already finished");
	do {
		uInt take = left > UINT_MAX / 2 ? UINT_MAX / 2 : (uInt)left;
		int flush;

		z->next_in = (Bytef *)(uintptr_t)p;
		z->avail_in = take;
		p += take;
		left -= take;
		flush = last && left == 0 ? Z_FINISH : Z_NO_FLUSH;
		do {
			z->next_out = chunk;
			z->avail_out = sizeof chunk;
			zrc = deflate(z, flush);
			if (zrc == Z_STREAM_ERROR)
				return crm_fail(err, CRM_EINTERNAL, "deflate failed");
			rc = crm_buf_add(&b->packed, chunk, sizeof chunk - z->avail_out);
			if (rc != CRM_OK)
				return crm_fail(err, rc, "the request is too large");
		} while (z->avail_out == 0);
	} while (left > 0);
	if (last) {
		if (zrc != Z_STREAM_END)
			return crm_fail(err, CRM_EINTERNAL, "deflate did not finish");
		b->done = true;
		deflateEnd(z);
		free(z);
		b->z = NULL;
	}
	return CRM_OK;
}

void http_body_release(struct http_body *b)
{
	if (b->z) {
		deflateEnd(b->z);
		free(b->z);
	}
	crm_buf_release(&b->packed);
	memset(b, 0, sizeof *b);
}

enum crm_err http_post_body(struct http_client *h, const char *path, const char *token,
			    const struct http_body *body, long timeout_ms, cJSON **out,
			    struct crm_error *err)
{
	*out = NULL;
	if (!body->done)
		return crm_fail(err, CRM_EINTERNAL, "request body not finished");
	return post_packed(h, path, token, &body->packed, timeout_ms, out, err);
}

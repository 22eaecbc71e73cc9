/* zlib (RFC 1950) compression with hard caps on inflation. */
#include "zip.h"

#include <limits.h>
#include <string.h>
#include <zlib.h>

#define ZIP_CHUNK 16384

enum crm_err sync_deflate(const void *in, size_t n, struct crm_buf *out, struct crm_error *err)
{
	z_stream zs;
	enum crm_err rc = CRM_OK;
	int zrc;
	unsigned char chunk[ZIP_CHUNK];
	const unsigned char *p = in;
	size_t left = n;

	memset(&zs, 0, sizeof zs);
	/*
	 * Level 1 (the choice of nginx's gzip_comp_level default for dynamic
	 * content): on change-set JSON it made 28% more bytes than level 6 at 2.3x
	 * less CPU, and deflate was a quarter of the server's CPU in a bulk pull.
	 * It loses on links slower than about 6 MB/s; docs/benchmarks.md.
	 */
	if (deflateInit(&zs, Z_BEST_SPEED) != Z_OK)
		return crm_fail(err, CRM_ENOMEM, "deflate: cannot start");
	do {
		uInt take = left > UINT_MAX / 2 ? UINT_MAX / 2 : (uInt)left;
		int flush;

		zs.next_in = (Bytef *)(uintptr_t)p;
		zs.avail_in = take;
		p += take;
		left -= take;
		flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
		do {
			size_t have;

			zs.next_out = chunk;
			zs.avail_out = sizeof chunk;
			zrc = deflate(&zs, flush);
			if (zrc == Z_STREAM_ERROR) {
				rc = crm_fail(err, CRM_EINTERNAL, "deflate failed");
				goto out;
			}
			have = sizeof chunk - zs.avail_out;
			rc = crm_buf_add(out, chunk, have);
			if (rc != CRM_OK) {
				rc = crm_fail(err, rc, "deflate: output too large");
				goto out;
			}
		} while (zs.avail_out == 0);
	} while (left > 0);
	if (zrc != Z_STREAM_END)
		rc = crm_fail(err, CRM_EINTERNAL, "deflate did not finish");
out:
	deflateEnd(&zs);
	return rc;
}

enum crm_err sync_inflate(const void *in, size_t n, size_t max_out, size_t max_ratio,
			  struct crm_buf *out, struct crm_error *err)
{
	z_stream zs;
	enum crm_err rc = CRM_OK;
	int zrc = Z_OK;
	unsigned char chunk[ZIP_CHUNK];
	const unsigned char *p = in;
	size_t left = n, total = 0, ratio_cap;

	if (n > UINT_MAX)
		return crm_fail(err, CRM_ETOOBIG, "inflate: input too large");
	/* the ratio cap in bytes, with saturation (ratio * n may overflow) */
	ratio_cap = (max_ratio && n > SIZE_MAX / max_ratio) ? SIZE_MAX : max_ratio * n;
	if (!max_ratio)
		ratio_cap = SIZE_MAX;
	memset(&zs, 0, sizeof zs);
	if (inflateInit(&zs) != Z_OK)
		return crm_fail(err, CRM_ENOMEM, "inflate: cannot start");
	zs.next_in = (Bytef *)(uintptr_t)p;
	zs.avail_in = (uInt)left;
	while (zrc != Z_STREAM_END) {
		size_t have;

		zs.next_out = chunk;
		zs.avail_out = sizeof chunk;
		zrc = inflate(&zs, Z_NO_FLUSH);
		if (zrc == Z_NEED_DICT || zrc == Z_DATA_ERROR || zrc == Z_STREAM_ERROR) {
			rc = crm_fail(err, CRM_EFORMAT, "inflate: corrupt data");
			goto out;
		}
		if (zrc == Z_MEM_ERROR) {
			rc = crm_fail(err, CRM_ENOMEM, "inflate: out of memory");
			goto out;
		}
		have = sizeof chunk - zs.avail_out;
		total += have;
		if (total > max_out || total > ratio_cap) {
			rc = crm_fail(err, CRM_ETOOBIG,
				      "inflate: output passes %zu bytes or %zu times the input", max_out,
				      max_ratio);
			goto out;
		}
		rc = crm_buf_add(out, chunk, have);
		if (rc != CRM_OK) {
			rc = crm_fail(err, rc, "inflate: output too large");
			goto out;
		}
		if (zrc == Z_BUF_ERROR || (have == 0 && zs.avail_in == 0 && zrc != Z_STREAM_END)) {
			rc = crm_fail(err, CRM_EFORMAT, "inflate: truncated data");
			goto out;
		}
	}
	if (zs.avail_in != 0)
		rc = crm_fail(err, CRM_EFORMAT, "inflate: trailing bytes after the stream");
out:
	inflateEnd(&zs);
	return rc;
}

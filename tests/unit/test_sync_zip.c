/*
 * Unit tests of the capped zlib wrapper: round trip, a real zip bomb (50 MB
 * of zeros) refused by the size cap and by the ratio cap, corrupt, truncated
 * and trailing input refused, and the output buffer's own cap honoured.
 */
#include "sync_testutil.h"

#include "crm_buf.h"

#include <zlib.h>

#define MB (1024u * 1024u)

static void test_round_trip(void **state)
{
	struct crm_buf z, out;
	struct crm_error err;
	size_t n = 1 * MB;
	char *data = malloc(n);
	unsigned st = 7;

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < n; i++) {
		st = st * 1103515245u + 12345u;
		data[i] = (char)("abcdefgh 深圳"[(st >> 16) % 14]);
	}
	crm_buf_init(&z, 4 * MB);
	crm_buf_init(&out, 4 * MB);
	assert_int_equal(sync_deflate(data, n, &z, &err), CRM_OK);
	assert_true(z.len < n);
	assert_int_equal(sync_inflate(z.data, z.len, 2 * MB, 100, &out, &err), CRM_OK);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data, data, n);
	/* empty input round trips too */
	crm_buf_reset(&z);
	crm_buf_reset(&out);
	assert_int_equal(sync_deflate("", 0, &z, &err), CRM_OK);
	assert_int_equal(sync_inflate(z.data, z.len, 10, 10, &out, &err), CRM_OK);
	assert_int_equal(out.len, 0);
	crm_buf_release(&z);
	crm_buf_release(&out);
	free(data);
}

static void test_zip_bomb(void **state)
{
	struct crm_buf z, out;
	struct crm_error err;
	size_t n = 50 * MB;
	char *zeros = calloc(n, 1);

	(void)state;
	assert_non_null(zeros);
	crm_buf_init(&z, 1 * MB);
	crm_buf_init(&out, 64 * MB);
	/* made as an attacker would: at zlib's best compression (sync_deflate uses level 1) */
	{
		uLongf zn = compressBound((uLong)n);
		Bytef *zb = malloc(zn);

		assert_non_null(zb);
		assert_int_equal(compress2(zb, &zn, (const Bytef *)zeros, (uLong)n,
					   Z_BEST_COMPRESSION), Z_OK);
		assert_int_equal(crm_buf_add(&z, zb, zn), CRM_OK);
		free(zb);
	}
	free(zeros);
	assert_true(z.len < 100 * 1024); /* about 1000:1 */
	/* the size cap */
	assert_int_equal(sync_inflate(z.data, z.len, 8 * MB, SIZE_MAX, &out, &err), CRM_ETOOBIG);
	assert_true(out.len <= 8 * MB);
	assert_int_equal(err.code, CRM_ETOOBIG);
	/* the ratio cap alone */
	crm_buf_release(&out);
	crm_buf_init(&out, 64 * MB);
	assert_int_equal(sync_inflate(z.data, z.len, 64 * MB, 100, &out, &err), CRM_ETOOBIG);
	assert_true(out.len <= z.len * 100);
	crm_buf_release(&z);
	crm_buf_release(&out);
}

static void test_corrupt(void **state)
{
	struct crm_buf z, out;
	struct crm_error err;
	const char *text = "hello hello hello hello hello";

	(void)state;
	crm_buf_init(&z, MB);
	crm_buf_init(&out, MB);
	assert_int_equal(sync_inflate("not zlib at all", 15, MB, 100, &out, &err), CRM_EFORMAT);
	crm_buf_reset(&out);
	assert_int_equal(sync_inflate("", 0, MB, 100, &out, &err), CRM_EFORMAT);
	assert_int_equal(sync_deflate(text, strlen(text), &z, &err), CRM_OK);
	/* truncated */
	crm_buf_reset(&out);
	assert_int_equal(sync_inflate(z.data, z.len - 3, MB, 100, &out, &err), CRM_EFORMAT);
	/* trailing bytes */
	assert_int_equal(crm_buf_addstr(&z, "junk"), CRM_OK);
	crm_buf_reset(&out);
	assert_int_equal(sync_inflate(z.data, z.len, MB, 100, &out, &err), CRM_EFORMAT);
	/* a flipped byte in the middle (the checksum catches what inflate does not) */
	z.len -= 4;
	z.data[z.len / 2] ^= 0x55;
	crm_buf_reset(&out);
	assert_int_equal(sync_inflate(z.data, z.len, MB, 100, &out, &err), CRM_EFORMAT);
	crm_buf_release(&z);
	crm_buf_release(&out);
}

static void test_deflate_cap(void **state)
{
	struct crm_buf z;
	struct crm_error err;
	char data[4096];

	(void)state;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)(i * 7919 % 251);
	crm_buf_init(&z, 64);
	assert_int_equal(sync_deflate(data, sizeof data, &z, &err), CRM_ETOOBIG);
	crm_buf_release(&z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_zip_bomb),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_deflate_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

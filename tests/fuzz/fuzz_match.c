/*
 * Fuzz target for customer normalization and matching (schema/match.h;
 * libFuzzer, or replayed from tests/fuzz/corpus/match/ by ctest).
 *
 * Input: two customers, each ten newline-separated fields (kind, name, uscc,
 * id number, birth date, phone, e-mail, address, city, region), the two
 * separated by a form feed. Checks that normalization never fails on valid
 * UTF-8, that scoring is symmetric, and that the index finds what it holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crm_utf8.h"
#include "match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits s (modified) into at most 10 fields at '\n'. */
static void fields(char *s, struct match_input *in)
{
	const char **f[10] = {&in->kind, &in->name, &in->uscc, &in->id_number, &in->birth_date,
			      &in->phone, &in->email, &in->address, &in->city, &in->region};
	size_t k = 0;
	char *p = s;

	memset(in, 0, sizeof *in);
	while (k < 10) {
		char *nl = strchr(p, '\n');
		*f[k++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *second;
	struct match_input ia, ib;
	struct match_record a, b;
	struct match_verdict v, w;
	struct match_index *idx = NULL;
	struct match_hit hits[4];
	size_t n = 0;
	int ok_a, ok_b, valid_a;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	second = strchr(buf, '\f');
	if (second)
		*second++ = '\0';
	else
		second = buf + size;
	valid_a = crm_utf8_valid(buf, strlen(buf));
	fields(buf, &ia);
	fields(second, &ib);
	ok_a = match_record_init(&a, &ia, NULL) == CRM_OK;
	ok_b = match_record_init(&b, &ib, NULL) == CRM_OK;
	if (valid_a && !ok_a)
		abort(); /* valid text must always normalize */
	if (ok_a && ok_b) {
		match_compare(&a, &b, NULL, &v);
		match_compare(&b, &a, NULL, &w);
		if (v.decision != w.decision || v.score != w.score)
			abort();
		match_compare(&a, &a, NULL, &v);
		if (match_index_new(&idx, NULL, NULL) == CRM_OK) {
			if (match_index_add(idx, "a", &a, NULL) != CRM_OK ||
			    match_index_add(idx, "b", &b, NULL) != CRM_OK ||
			    match_index_query(idx, &a, "a", hits, 4, &n, NULL) != CRM_OK ||
			    match_index_remove(idx, "b", NULL) != CRM_OK ||
			    match_index_count(idx) != 1)
				abort();
			match_index_free(idx);
		}
	}
	free(buf);
	return 0;
}

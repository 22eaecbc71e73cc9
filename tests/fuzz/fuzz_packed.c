/*
 * Fuzz target for crm-server's reading of a sync request body
 * (sync_json_parse_packed: the "push" array built in one pass into arena
 * nodes), differential against cJSON_ParseWithLength, which reads every other
 * body (libFuzzer; replayed from tests/fuzz/corpus/packed/ by ctest otherwise).
 *
 * Both must agree on whether the body is a JSON document, print the same
 * document, and decode the push to the same change set or the same refusal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The push decoded and printed back, or the refusal: one string to compare. */
static char *decoded(const cJSON *doc)
{
	const cJSON *push = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "push") : NULL;
	struct sync_changeset cs;
	struct crm_error err;
	char *out = NULL;

	if (!push)
		return strdup("(no push)");
	if (sync_changeset_from_json(push, NULL, &cs, &err) != CRM_OK) {
		out = malloc(strlen(err.msg) + 32);
		if (out)
			snprintf(out, strlen(err.msg) + 32, "refused %d: %s", (int)err.code, err.msg);
		return out;
	}
	{
		cJSON *j = sync_changeset_to_json(&cs);

		out = j ? cJSON_PrintUnformatted(j) : NULL;
		cJSON_Delete(j);
	}
	sync_changeset_release(&cs);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_json_arena *arena = NULL;
	cJSON *a = sync_json_parse_packed((const char *)data, size, "push", &arena);
	cJSON *b = cJSON_ParseWithLength((const char *)data, size);
	char *pa = NULL, *pb = NULL, *da = NULL, *db = NULL;

	if (!a != !b) {
		fprintf(stderr, "packed %s, cJSON %s\n", a ? "parsed" : "refused", b ? "parsed" : "refused");
		abort();
	}
	if (!a)
		goto out;
	pa = cJSON_PrintUnformatted(a);
	pb = cJSON_PrintUnformatted(b);
	if (!pa || !pb || strcmp(pa, pb) != 0) {
		fprintf(stderr, "documents differ:\npacked %s\ncJSON  %s\n", pa ? pa : "?", pb ? pb : "?");
		abort();
	}
	da = decoded(a);
	db = decoded(b);
	if (!da || !db || strcmp(da, db) != 0) {
		fprintf(stderr, "decodes differ:\npacked %s\ncJSON  %s\n", da ? da : "?", db ? db : "?");
		abort();
	}
out:
	free(pa);
	free(pb);
	free(da);
	free(db);
	cJSON_Delete(a);
	cJSON_Delete(b);
	sync_json_arena_free(arena);
	return 0;
}

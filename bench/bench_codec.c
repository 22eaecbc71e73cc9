/*
 * bench_codec: CPU figures of the change-set codec on a real outbox
 * (docs/benchmarks.md, "Sync speed work", "Codec" sub-section).
 *
 * Usage: bench_codec REPLICA.db [BATCH_FIELDS] [REPS]
 * Opens a copy of a crm replica (never the one in use: sync_open may write
 * its triggers), collects its whole outbox in batches of BATCH_FIELDS fields
 * (default 45000) as crm sync does, then times, over all batches, best of
 * REPS (default 3):
 *   collect  sync_outbox_after (the client's walk of its clock rows)
 *   encode   the cJSON tree + cJSON_PrintUnformatted, and sync_changeset_write_json
 *   decode   a request body {"push": ...} through cJSON_ParseWithLength +
 *            sync_changeset_from_json, and through sync_json_parse_packed +
 *            sync_changeset_from_json (the server's read of a push)
 * and checks both encoders give the same bytes and both decoders the same
 * number of fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "crm_buf.h"
#include "sync.h"
#include "tables.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct crm_error *err)
{
	fprintf(stderr, "bench_codec: %s: %s\n", what, err ? err->msg : "");
	exit(1);
}

struct batch {
	char *body;     /* {"push": ..., "batch": "b"} */
	size_t len;
	size_t nfields;
};

int main(int argc, char **argv)
{
	static const char *const quiet[] = {"updated_at", NULL};
	struct sync_table_spec specs[16];
	struct batch *b = NULL;
	size_t nb = 0, cap = 0, total = 0, max_fields = 45000;
	int reps = 3;
	double best_collect = 1e9, best_old_enc = 1e9, best_new_enc = 1e9, best_old_dec = 1e9,
	       best_new_dec = 1e9;
	struct crm_error err;
	struct sync_db *s = NULL;
	sqlite3 *db = NULL;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_codec REPLICA.db [BATCH_FIELDS] [REPS]\n");
		return 2;
	}
	if (argc > 2)
		max_fields = (size_t)strtoul(argv[2], NULL, 10);
	if (argc > 3)
		reps = (int)strtol(argv[3], NULL, 10);
	if (max_fields == 0 || reps <= 0 || schema_tables_count > 16) {
		fprintf(stderr, "bench_codec: bad arguments\n");
		return 2;
	}
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		die("open", NULL);
	for (size_t i = 0; i < schema_tables_count; i++) {
		specs[i].name = schema_tables[i].name;
		specs[i].quiet = quiet;
	}
	if (sync_open(db, specs, schema_tables_count, NULL, &s, &err) != CRM_OK)
		die("sync_open", &err);
	for (int rep = 0; rep < reps; rep++) {
		double t0, t_collect = 0, t_old = 0, t_new = 0;
		int64_t after = 0, upto = 0;
		bool more = true;

		for (size_t i = 0; i < nb; i++)
			free(b[i].body);
		nb = 0;
		total = 0;
		while (more) {
			struct sync_changeset cs;
			struct crm_buf w;
			cJSON *j;
			char *old;

			t0 = now_s();
			if (sync_outbox_after(s, after, max_fields, &cs, &upto, &more, &err) != CRM_OK)
				die("collect", &err);
			t_collect += now_s() - t0;
			if (cs.nfields == 0) {
				sync_changeset_release(&cs);
				break;
			}
			after = upto;
			t0 = now_s();
			j = sync_changeset_to_json(&cs);
			old = j ? cJSON_PrintUnformatted(j) : NULL;
			cJSON_Delete(j);
			t_old += now_s() - t0;
			if (!old)
				die("encode", NULL);
			crm_buf_init(&w, SIZE_MAX);
			t0 = now_s();
			if (crm_buf_add(&w, "{\"push\":", 8) != CRM_OK || sync_changeset_write_json(&cs, &w) != CRM_OK)
				die("write", NULL);
			t_new += now_s() - t0;
			if (strcmp(w.data + 8, old) != 0)
				die("the two encoders differ", NULL);
			free(old);
			if (crm_buf_addstr(&w, ",\"batch\":\"b\"}") != CRM_OK)
				die("write", NULL);
			if (nb == cap) {
				cap = cap ? cap * 2 : 32;
				b = realloc(b, cap * sizeof *b);
				if (!b)
					die("memory", NULL);
			}
			b[nb].nfields = cs.nfields;
			total += cs.nfields;
			b[nb].body = crm_buf_detach(&w, &b[nb].len);
			nb++;
			sync_changeset_release(&cs);
		}
		if (t_collect < best_collect)
			best_collect = t_collect;
		if (t_old < best_old_enc)
			best_old_enc = t_old;
		if (t_new < best_new_enc)
			best_new_enc = t_new;
	}
	for (int rep = 0; rep < reps; rep++) {
		for (int way = 0; way < 2; way++) {
			double t0 = now_s(), t;

			for (size_t i = 0; i < nb; i++) {
				struct sync_json_arena *arena = NULL;
				cJSON *j = way ? sync_json_parse_packed(b[i].body, b[i].len, "push", &arena)
					       : cJSON_ParseWithLength(b[i].body, b[i].len);
				struct sync_changeset cs;

				if (!j || sync_changeset_from_json(cJSON_GetObjectItemCaseSensitive(j, "push"), NULL, &cs,
								   &err) != CRM_OK)
					die("decode", &err);
				if (cs.nfields != b[i].nfields)
					die("decode lost fields", NULL);
				sync_changeset_release(&cs);
				cJSON_Delete(j);
				sync_json_arena_free(arena);
			}
			t = now_s() - t0;
			if (way == 0 && t < best_old_dec)
				best_old_dec = t;
			if (way == 1 && t < best_new_dec)
				best_new_dec = t;
		}
	}
	printf("outbox: %zu fields in %zu batches of at most %zu; CPU seconds, best of %d:\n", total, nb,
	       max_fields, reps);
	printf("  collect (sync_outbox_after)           %.3f s\n", best_collect);
	printf("  encode: cJSON tree + print            %.3f s\n", best_old_enc);
	printf("  encode: sync_changeset_write_json     %.3f s  (%.1fx)\n", best_new_enc,
	       best_old_enc / best_new_enc);
	printf("  decode: cJSON parse + from_json       %.3f s\n", best_old_dec);
	printf("  decode: parse_packed + from_json      %.3f s  (%.1fx)\n", best_new_dec,
	       best_old_dec / best_new_dec);
	for (size_t i = 0; i < nb; i++)
		free(b[i].body);
	free(b);
	sync_close(s);
	sqlite3_close(db);
	return 0;
}

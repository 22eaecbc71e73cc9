/*
 * crm-server: the central server and head office's admin commands.
 *
 * A thin front end: a static table of subcommands, each parsing its options
 * and calling srv_db / srv_users / srv_app. Admin commands work on the
 * database file while `serve` runs (WAL, busy timeouts).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <unistd.h>

#include "crm_secret.h"
#include "crm_buf.h"
#include "crm_time.h"
#include "crm_utf8.h"
#include "migrate.h"
#include "srv_app.h"
#include "srv_args.h"
#include "srv_db.h"
#include "srv_dedup.h"
#include "srv_http.h"
#include "srv_import.h"
#include "srv_poolcmd.h"
#include "srv_users.h"
#include "srv_out.h"

#define MAX_PEM (1024 * 1024)

/* Options every subcommand may take; each reads the ones it needs. */
struct opts {
	const char *db, *listen, *cert, *key, *role, *team;
	bool json;
	const char *pos[4];
	size_t npos;
	unsigned readers;
};

static int usage(void)
{
	fputs("usage: crm-server COMMAND [ARGS] --db PATH\n"
	      "\n"
	      "  init --db PATH                               make a new server database\n"
	      "  serve --db PATH --listen HOST:PORT           serve protocol v1 (HTTP)\n"
	      "        [--tls-cert FILE --tls-key FILE]       ... over HTTPS\n"
	      "  user add NAME --role rep|manager|admin [--team TEAM]   (password on stdin)\n"
	      "  user list [--json]\n"
	      "  user disable NAME\n"
	      "  user passwd NAME                             (new password on stdin)\n"
	      "  device list [--json]\n"
	      "  device revoke ID                             the device's token stops working\n"
	      "  config set KEY VALUE | config list [--json]  the pool rules (docs/pool.md)\n"
	      "  pool recycle [--json]                        return neglected customers to the pool\n"
	      "  pool list [--city C] [--industry I] [--json] the customers in the pool\n"
	      "  pool assign REF USER | pool release REF      change a customer's owner\n"
	      "  audit customer REF [--json]                  every change of a customer's owner\n"
	      "  dup list [--json] | dup scan | dup log       duplicate customers (docs/dedup.md)\n"
	      "  dup merge A B | dup dismiss A B | dup unmerge ID\n"
	      "  import customers FILE.csv [--owner USER] [--skip-bad]   de-duplicated import\n"
	      "  export customers --format csv|json           every customer record, merged ones too\n"
	      "\n"
	      "--db may also come from the CRM_SERVER_DB environment variable.\n",
	      stderr);
	return 2;
}

static int fail(const struct crm_error *err)
{
	fprintf(stderr, "crm-server: %s\n", err->msg);
	return 1;
}

static int parse(int argc, char **argv, struct opts *o)
{
	const struct srv_arg specs[] = {
		{"--json", &o->json, NULL},       {"--db", NULL, &o->db},
		{"--listen", NULL, &o->listen},   {"--tls-cert", NULL, &o->cert},
		{"--tls-key", NULL, &o->key},     {"--role", NULL, &o->role},
		{"--team", NULL, &o->team},       {NULL, NULL, NULL},
	};
	int rc;

	memset(o, 0, sizeof *o);
	o->db = getenv("CRM_SERVER_DB");
	o->readers = 4;
	rc = srv_args_parse(argc, argv, specs, o->pos, sizeof o->pos / sizeof o->pos[0], &o->npos);
	return rc ? rc : srv_args_need_db(o->db);
}

static int cmd_init(struct opts *o)
{
	struct srv_db d;
	struct crm_error err;

	if (srv_db_open(o->db, SRV_DB_CREATE | SRV_DB_SYNC, &d, &err) != CRM_OK)
		return fail(&err);
	printf("initialized %s (schema %d, server tables %d, site %s)\n", o->db, schema_version(),
	       srv_db_version(), sync_site_id(d.sync));
	srv_db_close(&d);
	return 0;
}

/* Reads a whole PEM file into a malloc()ed string. */
static char *read_file(const char *path, struct crm_error *err)
{
	FILE *f = fopen(path, "rb");
	struct crm_buf b;
	char chunk[4096];
	size_t n;

	crm_buf_init(&b, MAX_PEM);
	if (!f) {
		crm_fail(err, CRM_EIO, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (crm_buf_add(&b, chunk, n) != CRM_OK) {
			crm_fail(err, CRM_ETOOBIG, "%s is too large for a PEM file", path);
			fclose(f);
			crm_buf_release(&b);
			return NULL;
		}
	}
	fclose(f);
	return crm_buf_detach(&b, NULL);
}

/* Splits HOST:PORT ([v6]:PORT too). */
static int split_listen(const char *s, char *host, size_t n, unsigned *port)
{
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t hl;
	char *end = NULL;
	unsigned long p;

	if (!colon)
		return -1;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && colon[-1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= n)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p > 65535)
		return -1;
	*port = (unsigned)p;
	return 0;
}

static int cmd_serve(struct opts *o)
{
	struct srv_app app;
	struct srv_http *http = NULL;
	struct srv_pool_timer *recycler = NULL;
	struct srv_http_options hopt;
	struct crm_error err;
	char host[128];
	char *cert = NULL, *key = NULL;
	sigset_t sigs;
	int sig = 0, rc = 1;
	bool app_open = false;

	memset(&hopt, 0, sizeof hopt);
	if (!o->listen || split_listen(o->listen, host, sizeof host, &hopt.port) != 0) {
		fprintf(stderr, "crm-server: serve needs --listen HOST:PORT (e.g. 127.0.0.1:8443)\n");
		return 2;
	}
	if ((o->cert == NULL) != (o->key == NULL)) {
		fprintf(stderr, "crm-server: HTTPS needs both --tls-cert FILE and --tls-key FILE\n");
		return 2;
	}
	if (o->cert) {
		cert = read_file(o->cert, &err);
		key = cert ? read_file(o->key, &err) : NULL;
		if (!cert || !key) {
			rc = fail(&err);
			goto out;
		}
	}
	/* Every thread started from here on inherits the mask; only sigwait sees them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (srv_app_open(&app, o->db, o->readers, &err) != CRM_OK) {
		rc = fail(&err);
		goto out;
	}
	app_open = true;
	hopt.host = host;
	hopt.cert_pem = cert;
	hopt.key_pem = key;
	hopt.max_body = 16u << 20;
	hopt.max_inflated = 64u << 20;
	hopt.max_ratio = 100;
	if (srv_http_start(&hopt, srv_routes, srv_routes_count, &app, &http, &err) != CRM_OK) {
		rc = fail(&err);
		goto out;
	}
	fprintf(stderr, "crm-server: listening on %s://%s%s%s:%u (site %s, schema %d, protocol %d)\n",
		cert ? "https" : "http", strchr(host, ':') ? "[" : "", host,
		strchr(host, ':') ? "]" : "", srv_http_port(http), sync_site_id(app.writer.sync),
		schema_version(), SRV_PROTOCOL);
	fflush(stderr);
	if (srv_pool_timer_start(&app, srv_pool_timer_interval_ms(), &recycler, &err) != CRM_OK) {
		rc = fail(&err);
		goto out;
	}
	while (sigwait(&sigs, &sig) != 0)
		;
	fprintf(stderr, "crm-server: %s received, finishing requests in flight\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM");
	srv_http_stop(http, 30000);
	http = NULL;
	fprintf(stderr, "crm-server: stopped\n");
	rc = 0;
out:
	srv_pool_timer_stop(recycler);
	if (http)
		srv_http_stop(http, 0);
	if (app_open)
		srv_app_close(&app);
	free(cert);
	free(key);
	return rc;
}

static int user_add(struct opts *o, sqlite3 *db)
{
	char pw[SRV_PASSWORD_MAX + 2];
	struct crm_error err;
	enum srv_role role;

	if (o->npos != 1 || !o->role) {
		fprintf(stderr, "crm-server: usage: user add NAME --role rep|manager|admin [--team TEAM]\n");
		return 2;
	}
	if (srv_role_parse(o->role, &role, &err) != CRM_OK)
		return fail(&err);
	if (crm_secret_read("password: ", pw, sizeof pw, &err) != CRM_OK)
		return fail(&err);
	if (srv_user_add(db, o->pos[0], role, o->team, pw, &err) != CRM_OK) {
		memset(pw, 0, sizeof pw);
		return fail(&err);
	}
	memset(pw, 0, sizeof pw);
	printf("added %s %s%s%s\n", srv_role_name(role), o->pos[0], o->team ? " in team " : "",
	       o->team ? o->team : "");
	return 0;
}

static int user_list(struct opts *o, sqlite3 *db)
{
	struct srv_user *u = NULL;
	size_t n = 0;
	struct crm_error err;
	char when[CRM_TIME_ISO_MAX];

	if (srv_user_list(db, &u, &n, &err) != CRM_OK)
		return fail(&err);
	if (o->json) {
		cJSON *a = cJSON_CreateArray();

		for (size_t i = 0; a && i < n; i++) {
			cJSON *x = cJSON_CreateObject();

			if (!x)
				break;
			cJSON_AddStringToObject(x, "name", u[i].name);
			cJSON_AddStringToObject(x, "role", srv_role_name(u[i].role));
			if (u[i].team[0])
				cJSON_AddStringToObject(x, "team", u[i].team);
			else
				cJSON_AddNullToObject(x, "team");
			cJSON_AddBoolToObject(x, "disabled", u[i].disabled);
			crm_time_format_utc(u[i].created_at, when);
			cJSON_AddStringToObject(x, "created_at", when);
			cJSON_AddItemToArray(a, x);
		}
		srv_out_json(a);
		cJSON_Delete(a);
	} else {
		srv_out_padded("NAME", 16);
		srv_out_padded("ROLE", 9);
		srv_out_padded("TEAM", 16);
		puts("STATUS");
		for (size_t i = 0; i < n; i++) {
			srv_out_padded(u[i].name, 16);
			srv_out_padded(srv_role_name(u[i].role), 9);
			srv_out_padded(u[i].team[0] ? u[i].team : "-", 16);
			puts(u[i].disabled ? "disabled" : "active");
		}
	}
	free(u);
	return 0;
}

static int user_disable(struct opts *o, sqlite3 *db)
{
	struct crm_error err;

	if (o->npos != 1) {
		fprintf(stderr, "crm-server: usage: user disable NAME\n");
		return 2;
	}
	if (srv_user_disable(db, o->pos[0], &err) != CRM_OK)
		return fail(&err);
	printf("disabled %s: their devices can no longer sync\n", o->pos[0]);
	return 0;
}

static int user_passwd(struct opts *o, sqlite3 *db)
{
	char pw[SRV_PASSWORD_MAX + 2];
	struct crm_error err;
	enum crm_err rc;

	if (o->npos != 1) {
		fprintf(stderr, "crm-server: usage: user passwd NAME (new password on stdin)\n");
		return 2;
	}
	if (crm_secret_read("new password: ", pw, sizeof pw, &err) != CRM_OK)
		return fail(&err);
	rc = srv_user_passwd(db, o->pos[0], pw, &err);
	memset(pw, 0, sizeof pw);
	if (rc != CRM_OK)
		return fail(&err);
	printf("password of %s changed\n", o->pos[0]);
	return 0;
}

static int device_list(struct opts *o, sqlite3 *db)
{
	struct srv_device *d = NULL;
	size_t n = 0;
	struct crm_error err;
	char when[CRM_TIME_ISO_MAX];

	if (srv_device_list(db, &d, &n, &err) != CRM_OK)
		return fail(&err);
	if (o->json) {
		cJSON *a = cJSON_CreateArray();

		for (size_t i = 0; a && i < n; i++) {
			cJSON *x = cJSON_CreateObject();

			if (!x)
				break;
			cJSON_AddStringToObject(x, "id", d[i].id);
			cJSON_AddStringToObject(x, "user", d[i].user);
			cJSON_AddStringToObject(x, "name", d[i].name);
			if (d[i].site[0])
				cJSON_AddStringToObject(x, "site", d[i].site);
			else
				cJSON_AddNullToObject(x, "site");
			crm_time_format_utc(d[i].created_at, when);
			cJSON_AddStringToObject(x, "created_at", when);
			if (d[i].last_seen) {
				crm_time_format_utc(d[i].last_seen, when);
				cJSON_AddStringToObject(x, "last_seen", when);
			} else {
				cJSON_AddNullToObject(x, "last_seen");
			}
			cJSON_AddBoolToObject(x, "revoked", d[i].revoked_at != 0);
			cJSON_AddItemToArray(a, x);
		}
		srv_out_json(a);
		cJSON_Delete(a);
	} else {
		srv_out_padded("ID", 38);
		srv_out_padded("USER", 14);
		srv_out_padded("DEVICE", 18);
		srv_out_padded("LAST SYNC", 18);
		puts("STATUS");
		for (size_t i = 0; i < n; i++) {
			srv_out_padded(d[i].id, 38);
			srv_out_padded(d[i].user, 14);
			srv_out_padded(d[i].name, 18);
			if (d[i].last_seen)
				crm_time_format_local(d[i].last_seen, when);
			else
				snprintf(when, sizeof when, "never");
			srv_out_padded(when, 18);
			puts(d[i].revoked_at ? "revoked" : "active");
		}
	}
	free(d);
	return 0;
}

static int device_revoke(struct opts *o, sqlite3 *db)
{
	struct crm_error err;

	if (o->npos != 1) {
		fprintf(stderr, "crm-server: usage: device revoke ID (see device list)\n");
		return 2;
	}
	if (srv_device_revoke(db, o->pos[0], &err) != CRM_OK)
		return fail(&err);
	printf("revoked device %s: its token is refused from now on\n", o->pos[0]);
	return 0;
}

typedef int (*sub_fn)(struct opts *o, sqlite3 *db);

struct sub {
	const char *group, *verb;
	sub_fn run;
};

/* Admin commands on the database file (they run beside `serve`). */
static const struct sub subs[] = {
	{"user", "add", user_add},         {"user", "list", user_list},
	{"user", "disable", user_disable}, {"user", "passwd", user_passwd},
	{"device", "list", device_list},   {"device", "revoke", device_revoke},
};

static int run_sub(const char *group, int argc, char **argv)
{
	struct opts o;
	struct srv_db d;
	struct crm_error err;
	int rc;

	if (argc < 1)
		return usage();
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		if (strcmp(subs[i].group, group) != 0 || strcmp(subs[i].verb, argv[0]) != 0)
			continue;
		rc = parse(argc - 1, argv + 1, &o);
		if (rc != 0)
			return rc;
		if (srv_db_open(o.db, 0, &d, &err) != CRM_OK)
			return fail(&err);
		rc = subs[i].run(&o, d.db);
		srv_db_close(&d);
		return rc;
	}
	fprintf(stderr, "crm-server: unknown command %s %s\n", group, argv[0]);
	return usage();
}

static int cmd_user(int argc, char **argv)
{
	return run_sub("user", argc, argv);
}

static int cmd_device(int argc, char **argv)
{
	return run_sub("device", argc, argv);
}

static int cmd_init_main(int argc, char **argv)
{
	struct opts o;
	int rc = parse(argc, argv, &o);

	return rc ? rc : cmd_init(&o);
}

static int cmd_serve_main(int argc, char **argv)
{
	struct opts o;
	int rc = parse(argc, argv, &o);

	return rc ? rc : cmd_serve(&o);
}

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{"init", cmd_init_main},
	{"serve", cmd_serve_main},
	{"user", cmd_user},
	{"device", cmd_device},
	{"config", srv_cmd_config},
	{"pool", srv_cmd_pool},
	{"audit", srv_cmd_audit},
	{"dup", srv_cmd_dup},
	{"import", srv_cmd_import},
	{"export", srv_cmd_export},
};

int main(int argc, char **argv)
{
	/*
	 * No allocation statistics: with them every SQLite allocation takes a
	 * global mutex (sqlite3_status() is not used). Before any database opens.
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return usage();
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			return commands[i].run(argc - 2, argv + 2);
	fprintf(stderr, "crm-server: unknown command %s\n", argv[1]);
	return usage();
}

/*
 * srv_poolcmd: the front ends of the customer pool in crm-server.
 *
 * The admin commands `crm-server config ...`, `crm-server pool ...` and
 * `crm-server audit ...` (rows of main.c's command table), the HTTP routes
 * /v1/pool/... the client uses (rows of srv_app.c's route table), and the
 * recycling timer `serve` runs. Each parses its input, calls srv_config /
 * srv_pool / srv_audit, and prints or encodes the answer.
 */
#ifndef SERVER_SRV_POOLCMD_H
#define SERVER_SRV_POOLCMD_H

#include <stdint.h>

#include "srv_app.h"
#include "srv_http.h"

/* `crm-server config set KEY VALUE | get KEY | list [--json]`; exit status. */
int srv_cmd_config(int argc, char **argv);

/* `crm-server pool recycle | list | assign REF USER | release REF`; exit status. */
int srv_cmd_pool(int argc, char **argv);

/* `crm-server audit customer REF [--json]`; exit status. */
int srv_cmd_audit(int argc, char **argv);

/* Routes (app is a struct srv_app). Bodies and answers are in docs/protocol.md. */
void srv_route_pool_rules(void *app, struct srv_req *req, struct srv_resp *resp);
void srv_route_pool_list(void *app, struct srv_req *req, struct srv_resp *resp);
void srv_route_pool_claim(void *app, struct srv_req *req, struct srv_resp *resp);
void srv_route_pool_release(void *app, struct srv_req *req, struct srv_resp *resp);
void srv_route_pool_assign(void *app, struct srv_req *req, struct srv_resp *resp);

/*
 * The rules in force as JSON for a sync or login response (new object, the
 * caller owns it), read on db; NULL on failure.
 */
cJSON *srv_pool_rules_object(sqlite3 *db);

struct srv_pool_timer;

/*
 * Starts a thread that runs the recycling sweep on app's writer (under its
 * write lock) at once and then every every_ms, logging what it recycled on
 * stderr. every_ms <= 0 starts nothing (*out NULL). Stop it with
 * srv_pool_timer_stop (NULL is fine) before closing app.
 */
enum crm_err srv_pool_timer_start(struct srv_app *app, int64_t every_ms,
				  struct srv_pool_timer **out, struct crm_error *err);
void srv_pool_timer_stop(struct srv_pool_timer *t);

/*
 * The sweep interval for serve: CRM_POOL_INTERVAL seconds if set and valid
 * (0: no timer, recycling only on demand), else 60 s.
 */
int64_t srv_pool_timer_interval_ms(void);

#endif

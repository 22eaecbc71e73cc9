/* POST /v1/sync: placeholder until the replication core lands. */
#include "srv_app.h"

void srv_route_sync(void *app, struct srv_req *req, struct srv_resp *resp)
{
	(void)app;
	(void)req;
	srv_resp_error(resp, 501, "unimplemented", "sync is not implemented yet");
}

#!/usr/bin/env bash
# SIGTERM and SIGINT stop crm-server cleanly: a request in flight is
# finished and answered, new connections are refused, the database is closed
# and the process exits 0 (under ASan: without a leak report).
. "$(dirname "$0")/lib_server.sh"

init_server
start_server
login a alice
laptop a customer add --name "In Flight Ltd" >/dev/null

# A sync whose answer takes 2 s; SIGTERM arrives while it is in flight.
stop_server
CRM_SERVER_TEST_SLOW_MS=2000 start_server
laptop a sync >"$T/sync.out" 2>&1 &
sync_pid=$!
for _ in $(seq 1 50); do
	[ "$(sql "SELECT count(*) FROM customers")" = 1 ] && break
	sleep 0.1
done
pid=$SERVER_PID
kill -TERM "$pid"
sleep 0.3
# The listening socket is closed at once: new requests are refused.
if curl -s -m 2 -o /dev/null "$URL/v1/health"; then
	fail "the server still accepted a connection after SIGTERM"
fi
st=0
wait "$sync_pid" || st=$?
assert_eq "$st" 0 "the sync in flight was answered ($(cat "$T/sync.out"))"
grep -q "pushed" "$T/sync.out" || fail "no summary from the sync in flight"
st=0
wait "$pid" || st=$?
SERVER_PID=""
assert_eq "$st" 0 "crm-server exit status after SIGTERM"
grep -q "SIGTERM received, finishing requests in flight" "$T/server.log" || fail "no SIGTERM line in the log"
assert_eq "$(laptop a status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])')" 0 \
	"the laptop got its acknowledgement"

# SIGINT (Ctrl-C) too; the database opens again afterwards.
start_server
kill -INT "$SERVER_PID"
st=0
wait "$SERVER_PID" || st=$?
SERVER_PID=""
assert_eq "$st" 0 "crm-server exit status after SIGINT"
grep -q "SIGINT received" "$T/server.log" || fail "no SIGINT line in the log"
start_server
sync_ok a
stop_server
echo "ok: SIGTERM/SIGINT finish requests in flight and exit 0"

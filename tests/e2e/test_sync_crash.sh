#!/usr/bin/env bash
# crm-server killed with SIGKILL in the middle of a sync (after the push
# committed, before the answer left; and during a pull), then restarted: the
# next sync finishes, and nothing is lost or doubled on the server or on the
# laptops.
. "$(dirname "$0")/lib_server.sh"

N=300
init_server
start_server
login a1 alice
login a2 alice

python3 - "$T/customers.csv" "$N" <<'PY'
import csv, sys
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["name", "phone", "city"])
    for i in range(int(sys.argv[2])):
        w.writerow([f"客户{i:04d} Trading", f"139{i:08d}", "深圳" if i % 2 else "London"])
PY
laptop a1 import customers "$T/customers.csv" >/dev/null

# --- killed while the pushing laptop waits for its answer
stop_server
CRM_SERVER_TEST_SLOW_MS=4000 start_server
laptop a1 sync >"$T/sync1.out" 2>&1 &
sync_pid=$!
for _ in $(seq 1 100); do
	[ "$(sql "SELECT count(*) FROM customers")" = "$N" ] && break
	sleep 0.1
done
assert_eq "$(sql "SELECT count(*) FROM customers")" "$N" "the push committed before the kill"
kill_server
if wait "$sync_pid"; then
	fail "the sync should have failed: the server died before answering"
fi
start_server
sync_ok a1
assert_eq "$(sql "SELECT count(*) FROM customers")" "$N" "no customer doubled by the retry"
assert_eq "$(sql "SELECT count(DISTINCT name) FROM customers")" "$N" "every customer once"
assert_eq "$(sql "SELECT count(*) FROM customers WHERE owner = 'alice'")" "$N" "the server gave them to alice"
assert_eq "$(laptop a1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])')" 0 \
	"nothing left to push"

# --- killed while the other laptop pulls
stop_server
CRM_SERVER_TEST_SLOW_MS=4000 start_server
laptop a2 sync >"$T/sync2.out" 2>&1 &
sync_pid=$!
sleep 1
kill_server
if wait "$sync_pid"; then
	fail "the pull should have failed: the server died before answering"
fi
start_server
sync_ok a2
assert_eq "$(lsql a2 "SELECT count(*) FROM customers")" "$N" "the pulling laptop has every customer"
assert_eq "$(lsql a2 "SELECT count(DISTINCT phone) FROM customers")" "$N" "no customer twice"
assert_eq "$(lsql a2 "SELECT count(*) FROM customers WHERE owner = 'alice'")" "$N" "with its owner"
sync_ok a1
assert_eq "$(lsql a1 "SELECT count(*) FROM customers WHERE owner = 'alice'")" "$N" \
	"the pushing laptop learned the owner the server assigned"

stop_server
echo "ok: SIGKILL during push and pull, restart, nothing lost or doubled"

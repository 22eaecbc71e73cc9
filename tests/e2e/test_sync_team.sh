#!/usr/bin/env bash
# A customer a rep creates reaches the rep's other laptop and the team's
# manager exactly once (whole, through the feed: as many fields pulled as were
# pushed), and the manager's edit of it reaches the rep.
. "$(dirname "$0")/lib_server.sh"

init_server
start_server
login a1 alice
login a2 alice
login b bob
login m mgr

# Everyone has synced before (their cursors are past the start).
laptop b customer add --name "Bob Co" >/dev/null
sync_ok b
sync_ok a2
sync_ok m

laptop a1 customer add --name 深圳市华信科技有限公司 --phone 13800138000 >/dev/null
laptop a1 visit 华信 --note "初次拜访" >/dev/null
pushed=$(laptop a1 sync --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pushed"])')
[ "$pushed" -gt 0 ] || fail "a1 pushed nothing"
for l in a2 m; do
	pulled=$(laptop $l sync --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pulled"])')
	assert_eq "$pulled" "$pushed" "$l pulls the new customer and visit once"
	assert_eq "$(lsql $l "SELECT name || '|' || owner FROM customers WHERE name LIKE '深圳%'")" \
		"深圳市华信科技有限公司|alice" "$l has the customer"
	assert_eq "$(lsql $l "SELECT count(*) FROM activities")" 1 "$l has the visit"
done
assert_eq "$(lsql m "SELECT count(*) FROM customers")" 1 "the manager (team east) does not get bob's (team west)"

laptop m customer edit 华信 --city 深圳 --tier A >/dev/null
sync_ok m
sync_ok a1
assert_eq "$(lsql a1 "SELECT city || '|' || tier FROM customers")" "深圳|A" "the manager's edit reached alice"
assert_eq "$(lsql a1 "SELECT count(*) FROM sync_conflicts")" 0 "no conflict for an edit on top of the latest"

stop_server
echo "ok: new customers reach the other laptop and the manager once; the manager's edits reach the rep"

#!/usr/bin/env bash
# A customer leaves a laptop's scope (transferred by head office, released,
# recycled) while its rep had edited it offline: the next sync pushes those
# edits first and the server keeps them, then the customer and every row
# under it leave the laptop; the new owner's next sync brings it in whole,
# the offline edits included. Ownership changes are audited.
. "$(dirname "$0")/lib_server.sh"

export CRM_POOL_INTERVAL=0
init_server
echo carol-pw | S user add carol --role rep --team east >/dev/null
start_server
login a alice
login c carol
login m mgr

laptop a customer add --name 深圳市华信科技有限公司 --phone "138 0013 8000" --city 深圳 >/dev/null
laptop a contact add 华信 --name 王经理 --phone "139 1111 2222" >/dev/null
laptop a visit 华信 --note "首次拜访" >/dev/null
laptop a customer add --name "ACME Trading" --city London >/dev/null
sync_ok a
sync_ok c
assert_eq "$(lsql c "SELECT count(*) FROM customers")" 0 "carol starts with nothing"

# --- alice, offline, edits 华信 and logs a visit; meanwhile head office moves it to carol
laptop a customer edit 华信 --phone "137 2222 3333" >/dev/null
laptop a visit 华信 --note "报价已发送" >/dev/null
S pool assign 华信 carol --note "alice moves to the north" >"$T/assign.out"
grep -q "transferred 深圳市华信科技有限公司" "$T/assign.out" || fail "assign: $(cat "$T/assign.out")"
assert_eq "$(sql "SELECT owner FROM customers WHERE name LIKE '深圳%'")" carol "carol owns it on the server"

# --- alice syncs: her edits reach the server, then the customer leaves her laptop
sync_ok a
assert_eq "$(sql "SELECT phone FROM customers WHERE name LIKE '深圳%'")" "+8613722223333" \
	"alice's offline phone edit was kept"
assert_eq "$(sql "SELECT count(*) FROM activities WHERE note = '报价已发送'")" 1 \
	"alice's offline visit was kept"
assert_eq "$(lsql a "SELECT count(*) FROM customers WHERE name LIKE '深圳%'")" 0 \
	"the customer left alice's laptop"
assert_eq "$(lsql a "SELECT count(*) FROM contacts")" 0 "its contact left too"
assert_eq "$(lsql a "SELECT count(*) FROM activities")" 0 "its visits left too"
assert_eq "$(lsql a "SELECT group_concat(name) FROM customers")" "ACME Trading" "alice keeps ACME"
n=$(laptop a status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])')
assert_eq "$n" 0 "nothing left to push on alice's laptop"

# --- carol's next sync brings it whole, with alice's last edits
sync_ok c
assert_eq "$(field c 华信 phone)" "+8613722223333" "carol has the phone alice set offline"
assert_eq "$(field c 华信 owner)" "carol" "carol's laptop says it is hers"
assert_eq "$(lsql c "SELECT count(*) FROM activities")" 2 "carol has both visits"
assert_eq "$(lsql c "SELECT count(*) FROM contacts")" 1 "carol has the contact"

# --- a sync later, nothing comes back to alice
sync_ok a
assert_eq "$(lsql a "SELECT count(*) FROM customers WHERE name LIKE '深圳%'")" 0 "still gone from alice's laptop"

# --- the manager transfers it back within the team over HTTP; carol's laptop loses it
st=$(post /v1/pool/assign '{"customer":"华信","to":"alice","note":"back from the north"}' "$(token_of m)")
assert_eq "$st" 200 "the manager assigns within the team"
st=$(post /v1/pool/assign '{"customer":"ACME","to":"bob"}' "$(token_of m)")
assert_eq "$st" 403 "the manager may not give a customer to another team"
grep -q '"error":"forbidden"' "$T/body" || fail "403 without the code: $(cat "$T/body")"
st=$(post /v1/pool/assign '{"customer":"ACME","to":"carol"}' "$(token_of c)")
assert_eq "$st" 403 "a rep may not assign"
laptop c customer edit 华信 --city 广州 >/dev/null
sync_ok c
assert_eq "$(sql "SELECT city FROM customers WHERE name LIKE '深圳%'")" "广州" "carol's last edit was kept"
assert_eq "$(lsql c "SELECT count(*) FROM customers")" 0 "it left carol's laptop"
sync_ok a
assert_eq "$(field a 华信 city)" "广州" "alice has it back with carol's edit"

# --- the same through crm on the manager's laptop
sync_ok m
laptop m pool assign ACME carol --note "coverage" >"$T/o" || fail "crm pool assign: $(cat "$T/o")"
grep -q "assigned ACME Trading (.*) to carol" "$T/o" || fail "assign message: $(cat "$T/o")"
st=0; laptop m pool assign ACME bob 2>"$T/e" || st=$?
assert_eq "$st" 1 "crm pool assign outside the team fails"
grep -q "bob is not in your team (east)" "$T/e" || fail "assign refusal: $(cat "$T/e")"
sync_ok a
sync_ok c
assert_eq "$(lsql a "SELECT count(*) FROM customers WHERE name = 'ACME Trading'")" 0 "ACME left alice's laptop"
assert_eq "$(lsql c "SELECT owner FROM customers WHERE name = 'ACME Trading'")" carol "ACME came to carol's"

S audit customer 华信 --json | python3 -c '
import json, sys
a = json.load(sys.stdin)
moves = [(x["from"], x["to"], x["by"]) for x in a]
assert moves == [(None, "alice", "alice"), ("alice", "carol", "crm-server"), ("carol", "alice", "mgr")], moves
assert "alice moves to the north" in a[1]["reason"], a
assert "back from the north" in a[2]["reason"], a
' || fail "audit: $(S audit customer 华信)"
stop_server
echo "ok"

#!/usr/bin/env bash
# Two reps enter the same company offline, spelled differently, with the
# same phone (撞单). Syncing merges them on the server: the record registered
# first survives even though it arrived second, its empty fields are filled,
# differing values are kept as conflicts, the other rep's visit moves to the
# survivor, and the other record becomes a tombstone with an alias. The rep
# who lost is told in the sync response and their copy leaves their laptop;
# a visit they logged offline on the old record afterwards lands on the
# survivor. `crm-server dup unmerge` puts everything back on both laptops,
# and the pair is never merged automatically again.
. "$(dirname "$0")/lib_server.sh"

export CRM_POOL_INTERVAL=0
init_server
start_server
login a alice
login b bob
login m mgr

# --- offline: alice registers it first, bob a moment later
laptop a customer add --name 深圳市华信科技有限公司 --phone "138 0013 8000" --city 深圳 >/dev/null
laptop a contact add 华信 --name 王经理 --phone "139 1111 2222" >/dev/null
sleep 0.05
laptop b customer add --name "华信科技（深圳）有限公司" --phone 13800138000 --email info@huaxin.cn >/dev/null
laptop b visit 华信 --note "bob: first visit" >/dev/null

# --- bob's record reaches the server first: nothing to merge with yet
sync_ok b
assert_eq "$(sql "SELECT count(*) FROM customers WHERE deleted = 0")" 1 "one customer after bob's sync"

# --- alice's arrives: it was registered first, so it survives
sync_ok a
A=$(sql "SELECT id FROM customers WHERE name = '深圳市华信科技有限公司'")
B=$(sql "SELECT id FROM customers WHERE name = '华信科技（深圳）有限公司'")
[ -n "$A" ] && [ -n "$B" ] || fail "both records should exist on the server"
assert_eq "$(sql "SELECT deleted, merged_into, owner FROM customers WHERE id = '$B'")" "1|$A|bob" \
	"bob's record is a tombstone pointing at alice's"
assert_eq "$(sql "SELECT deleted, merged_into, owner FROM customers WHERE id = '$A'")" "0||alice" \
	"alice's record survives and stays hers"
assert_eq "$(sql "SELECT email FROM customers WHERE id = '$A'")" "info@huaxin.cn" \
	"the survivor's empty e-mail was filled from bob's record"
assert_eq "$(sql "SELECT customer_id FROM activities WHERE note = 'bob: first visit'")" "$A" \
	"bob's visit moved to the survivor"
assert_eq "$(sql "SELECT old_id, new_id FROM srv_dup_aliases")" "$B|$A" "an alias old -> survivor"
assert_eq "$(sql "SELECT count(*) FROM srv_conflicts WHERE row_id = '$A' AND body LIKE '%\"col\":\"name\"%'")" 1 \
	"the differing name is kept as a conflict on the survivor"
grep -q "was merged into your customer 深圳市华信科技有限公司 ($A)" "$T/last-sync.out" ||
	fail "alice is told: $(cat "$T/last-sync.out")"
assert_eq "$(lsql a "SELECT count(*) FROM activities WHERE customer_id = '$A' AND note = 'bob: first visit'")" 1 \
	"alice's laptop has bob's visit under her customer"
assert_eq "$(lsql a "SELECT email FROM customers WHERE id = '$A'")" "info@huaxin.cn" "alice's laptop has the e-mail"
assert_eq "$(lsql a "SELECT count(*) FROM customers WHERE id = '$B'")" 0 "alice never gets the tombstone"
laptop a conflicts >"$T/conflicts.out" 2>&1 || true
grep -q "华信科技（深圳）有限公司" "$T/conflicts.out" || fail "alice sees bob's name as a conflict: $(cat "$T/conflicts.out")"

# --- bob, still offline, logs a visit on his old record and edits it
laptop b visit 华信 --note "bob: offline visit after the merge" >/dev/null
laptop b customer edit 华信 --industry software >/dev/null
sync_ok b
grep -q "your customer 华信科技（深圳）有限公司 ($B) was merged into 深圳市华信科技有限公司 ($A) (owned by alice" \
	"$T/last-sync.out" || fail "bob is told who has it now: $(cat "$T/last-sync.out")"
assert_eq "$(sql "SELECT customer_id FROM activities WHERE note = 'bob: offline visit after the merge'")" "$A" \
	"the visit bob logged on the old id landed on the survivor"
assert_eq "$(sql "SELECT industry FROM customers WHERE id = '$A'")" "software" \
	"bob's edit of the old record landed on the survivor"
assert_eq "$(sql "SELECT count(*) FROM customers WHERE deleted = 0")" 1 "still one live customer"
assert_eq "$(lsql b "SELECT count(*) FROM customers")" 0 "bob may not see alice's customer: his copy left"
assert_eq "$(lsql b "SELECT count(*) FROM activities")" 0 "and its visits with it"
n=$(laptop b status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])')
assert_eq "$n" 0 "nothing left to push on bob's laptop"
sync_ok b
grep -q "was merged into" "$T/last-sync.out" && fail "bob is told only once: $(cat "$T/last-sync.out")"

# --- alice and her manager get the survivor with everything under it
sync_ok a
assert_eq "$(lsql a "SELECT count(*) FROM activities WHERE customer_id = '$A'")" 2 "alice has both of bob's visits"
assert_eq "$(lsql a "SELECT industry FROM customers WHERE id = '$A'")" "software" "and bob's edit"
sync_ok m
assert_eq "$(lsql m "SELECT count(*) FROM activities WHERE customer_id = '$A'")" 2 "the manager too"
assert_eq "$(lsql m "SELECT count(*) FROM contacts WHERE customer_id = '$A'")" 1 "with alice's contact"
assert_eq "$(lsql m "SELECT count(*) FROM customers")" 1 "and no tombstone"

# --- head office undoes it
S dup log --json >"$T/log.json"
python3 -c '
import json, sys
log = json.load(open(sys.argv[1]))
assert len(log) == 1 and log[0]["merged"] == sys.argv[2] and log[0]["survivor"] == sys.argv[3], log
assert log[0]["how"] == "sync" and log[0]["by"] == "alice" and not log[0]["undone"], log
' "$T/log.json" "$B" "$A" || fail "dup log: $(cat "$T/log.json")"
S dup unmerge "$B" >"$T/unmerge.out" || fail "unmerge: $(cat "$T/unmerge.out")"
grep -q "2 rows moved back" "$T/unmerge.out" || fail "unmerge says what it did: $(cat "$T/unmerge.out")"
assert_eq "$(sql "SELECT deleted, merged_into, owner FROM customers WHERE id = '$B'")" "0||bob" \
	"bob's record is revived as it was"
assert_eq "$(sql "SELECT count(*) FROM activities WHERE customer_id = '$B'")" 2 \
	"both of bob's visits are back under his record"
assert_eq "$(sql "SELECT email FROM customers WHERE id = '$A'")" "" "the filled e-mail is emptied again"
assert_eq "$(sql "SELECT email FROM customers WHERE id = '$B'")" "info@huaxin.cn" "bob's record kept its e-mail"
assert_eq "$(sql "SELECT count(*) FROM srv_dup_aliases")" 0 "the alias is gone"
assert_eq "$(sql "SELECT status FROM srv_dup_pairs")" "dismissed" "the pair will not be merged again"

sync_ok a
assert_eq "$(lsql a "SELECT count(*) FROM activities")" 0 "bob's visits left alice's laptop"
assert_eq "$(lsql a "SELECT coalesce(email, '') FROM customers WHERE id = '$A'")" "" "alice's e-mail is empty again"
assert_eq "$(lsql a "SELECT count(*) FROM contacts WHERE customer_id = '$A'")" 1 "alice keeps her contact"
sync_ok b
grep -q "is back: the merge into" "$T/last-sync.out" || fail "bob is told: $(cat "$T/last-sync.out")"
assert_eq "$(lsql b "SELECT name FROM customers")" "华信科技（深圳）有限公司" "bob has his record back"
assert_eq "$(lsql b "SELECT count(*) FROM activities WHERE customer_id = '$B'")" 2 "with both visits"

# --- head office imports while serve runs: a rep's duplicate arriving later meets it
printf 'name,phone,city,ext_ref\n"ACME Trading Co., Ltd.",+44 20 7946 0000,London,ERP-9\n' >"$T/imp.csv"
S import customers "$T/imp.csv" --owner alice >"$T/imp.out" || fail "import beside serve: $(cat "$T/imp.out")"
grep -q "1 created" "$T/imp.out" || fail "import: $(cat "$T/imp.out")"
laptop b customer add --name "Acme Trading Company Limited" --phone "+44 20 7946 0000" --city London >/dev/null
sync_ok b
IMP=$(sql "SELECT id FROM customers WHERE ext_ref = 'ERP-9'")
assert_eq "$(sql "SELECT merged_into FROM customers WHERE name = 'Acme Trading Company Limited'")" "$IMP" \
	"bob's later record merged into the one imported while serve ran"
grep -q "was merged into \"ACME Trading Co., Ltd.\"\|was merged into ACME Trading Co., Ltd." "$T/last-sync.out" ||
	fail "bob is told at once: $(cat "$T/last-sync.out")"
assert_eq "$(lsql b "SELECT count(*) FROM customers WHERE name LIKE 'Acme%'")" 0 "and his copy left"

# --- an identifying edit later does not merge them again (dismissed)
laptop b customer edit 华信 --phone "138 0013 8000" --city 深圳 >/dev/null
sync_ok b
assert_eq "$(sql "SELECT count(*) FROM customers WHERE deleted = 0 AND name LIKE '%华信%'")" 2 "a dismissed pair stays apart"
# --- a review pair merged by head office while serve runs; the manager held both
echo carol-pw | S user add carol --role rep --team east >/dev/null
login c carol
laptop c customer add --name "Globex Corporation" --city Springfield >/dev/null
sync_ok c
sleep 0.05
laptop a customer add --name "Globex Corp" --city Springfield >/dev/null
laptop a visit Globex --note "alice: globex visit" >/dev/null
sync_ok a
G1=$(sql "SELECT id FROM customers WHERE name = 'Globex Corporation'")
G2=$(sql "SELECT id FROM customers WHERE name = 'Globex Corp'")
assert_eq "$(sql "SELECT status FROM srv_dup_pairs WHERE '$G1' IN (a, b) AND '$G2' IN (a, b)")" open \
	"a name-only likeness waits for review"
sync_ok m
assert_eq "$(lsql m "SELECT count(*) FROM customers WHERE name LIKE 'Globex%'")" 2 "the manager holds both"
S dup merge "$G2" "$G1" >"$T/merge.out" || fail "dup merge beside serve: $(cat "$T/merge.out")"
sync_ok m
assert_eq "$(lsql m "SELECT id FROM customers WHERE name LIKE 'Globex%'")" "$G1" \
	"the manager keeps the survivor only"
assert_eq "$(lsql m "SELECT customer_id FROM activities WHERE note = 'alice: globex visit'")" "$G1" \
	"with alice's visit under it"
sync_ok a
grep -q "your customer Globex Corp ($G2) was merged into Globex Corporation ($G1) (owned by carol" \
	"$T/last-sync.out" || fail "alice is told: $(cat "$T/last-sync.out")"
assert_eq "$(lsql a "SELECT count(*) FROM customers WHERE name LIKE 'Globex%'")" 0 "alice's copy left"
assert_eq "$(lsql a "SELECT name FROM customers WHERE ext_ref = 'ERP-9'")" "ACME Trading Co., Ltd." \
	"the customer head office imported for alice replicated to her laptop"
sync_ok c
assert_eq "$(lsql c "SELECT count(*) FROM activities WHERE customer_id = '$G1'")" 1 "carol got alice's visit"
# --- the survivor sits in the pool: the rep is told where it is and how to get it
S pool release ERP-9 >/dev/null
laptop c customer add --name "Acme Trading Co" --phone "+44 20 7946 0000" --city London >/dev/null
sync_ok c
grep -q "was merged into ACME Trading Co., Ltd. ($IMP) (in the pool, registered first).*crm pool claim" \
	"$T/last-sync.out" || fail "carol is told it is in the pool: $(cat "$T/last-sync.out")"
assert_eq "$(sql "SELECT merged_into FROM customers WHERE name = 'Acme Trading Co'")" "$IMP" "merged into the pool's"
stop_server

#!/usr/bin/env bash
# crm sync overlaps its own work with the server's (client/cmd_sync.c): while
# a push batch is on the wire the next one is collected and sent beside it
# (two batches on the wire, the second "after" the first), and while a pulled
# page is applied the next one is already asked for. This checks that the
# overlap keeps every guarantee of the serial loop: a push of many batches
# arrives whole and once; when an answer is lost mid-push, the batch on the
# wire beside it is stored too, and both are replayed under their own ids;
# a page asked for ahead is dropped when the page before it cannot be stored,
# and a pull whose prefetched page is lost resumes from the last committed page;
# and every replica ends with exactly the server's rows.
. "$(dirname "$0")/lib_server.sh"

N=6200 # about 104,000 fields: three pulled pages or more
pending() { laptop "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])'; }
jget() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
# digest of every customer and activity as a replica or the server holds them
digest_of() {
	"$1" "$2" "SELECT group_concat(x, ';') FROM (SELECT id || '|' || name || '|' || coalesce(phone, '') || '|' ||
		deleted AS x FROM customers UNION ALL SELECT id || '|' || coalesce(note, '') || '|' || deleted FROM activities
		ORDER BY 1)" | md5sum | cut -d' ' -f1
}
sdigest() { digest_of sql_one ""; }
sql_one() { sql "$2"; }
ldigest() { digest_of lsql "$1"; }

init_server
start_server
login a alice

python3 - "$T/customers.csv" "$N" <<'PY'
import csv, sys
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["name", "phone", "city", "notes"])
    for i in range(int(sys.argv[2])):
        w.writerow([f"Pipe {i:05d} 管道", f"139{i:08d}", "深圳" if i % 2 else "Porto", f"note {i}"])
PY
laptop a import customers "$T/customers.csv" >/dev/null
laptop a visit "Pipe 00007" --note "first visit" >/dev/null
before=$(pending a)
[ "$before" -gt 100000 ] || fail "expected more than 100,000 fields pending, got $before"

# --- push in batches of 10,000 fields; the answer of the 4th is lost
export CRM_TEST_PUSH_FIELDS=10000
CRM_TEST_DROP_RESPONSE=4 sync_fails a "$T/push1.out" "a lost answer" "run crm sync again"
assert_eq "$(sql "SELECT count(*) FROM srv_batches")" 5 \
	"five batches reached the server: the fourth, whose answer was lost, and the fifth, on the wire beside it"
kept=$(lsql a "SELECT value FROM sync_state WHERE key = 'push_batch'" | cut -d' ' -f1 | sed "s/.*/'&'/" | paste -sd,)
assert_eq "$(sql "SELECT count(*) FROM srv_batches WHERE batch_id IN ($kept)")" 2 \
	"the laptop keeps the ids of the two batches whose answers it did not store"
left=$(pending a)
[ "$left" -gt 0 ] && [ "$left" -lt "$before" ] || fail "three batches acknowledged: $left of $before pending"

laptop a --json sync >"$T/push2.json" 2>"$T/push2.err" || fail "the retry failed: $(cat "$T/push2.err")"
assert_eq "$(jget "$T/push2.json" replayed_batches)" 2 "the two batches were replayed under their ids, once each"
assert_eq "$(jget "$T/push2.json" pushed)" "$left" "the retry pushed what was pending"
assert_eq "$(pending a)" 0 "nothing pending"
batches=$(sql "SELECT count(*) FROM srv_batches")
[ "$batches" -ge 10 ] || fail "expected at least 10 batches of 6,000 fields, got $batches"
assert_eq "$(sql "SELECT count(*) FROM customers")" "$N" "every customer on the server, once"
assert_eq "$(sql "SELECT count(DISTINCT name) FROM customers")" "$N" "no customer doubled"
assert_eq "$(sql "SELECT count(*) FROM activities")" 1 "the visit on the server"
[ "$(sdigest)" != "$(echo | md5sum | cut -d' ' -f1)" ] || fail "the digest reads nothing"
assert_eq "$(ldigest a)" "$(sdigest)" "the server holds exactly what laptop a has"
unset CRM_TEST_PUSH_FIELDS

# --- a fresh laptop pulls. Its first answer hands out the laptop's scope (a
# new ack): the second page waits for its commit. The second answer hands out
# nothing: the third page is asked for while the second is applied.
login b alice
reqs() { grep -c "POST /v1/sync" "$T/server.log"; }
r0=$(reqs)
CRM_TEST_FAIL_APPLY=2 sync_fails b "$T/pull1.out" "a second page that cannot be stored" \
	"CRM_TEST_FAIL_APPLY"
assert_eq "$(($(reqs) - r0))" 3 "the third page was asked for while the second was being applied"
page1=$(lsql b "SELECT count(*) FROM customers")
[ "$page1" -gt 0 ] && [ "$page1" -lt "$N" ] || fail "the first page alone committed: $page1 of $N"
cursor1=$(lsql b "SELECT value FROM sync_state WHERE key = 'cursor'")
[ "$cursor1" -gt 0 ] || fail "no cursor committed"

# the next sync starts at the second page; the third, prefetched, is lost
r0=$(reqs)
CRM_TEST_DROP_RESPONSE=2 sync_fails b "$T/pull2.out" "a lost prefetched page" "run crm sync again"
assert_eq "$(($(reqs) - r0))" 2 "the second page and the third, asked for ahead"
page2=$(lsql b "SELECT count(*) FROM customers")
[ "$page2" -gt "$page1" ] && [ "$page2" -lt "$N" ] || fail "the second page committed, not the third: $page2"
[ "$(lsql b "SELECT value FROM sync_state WHERE key = 'cursor'")" -gt "$cursor1" ] || fail "the cursor did not move"
laptop b --json sync >"$T/pull3.json" 2>"$T/pull3.err" || fail "the resumed pull failed: $(cat "$T/pull3.err")"
assert_eq "$(lsql b "SELECT count(*) FROM customers")" "$N" "every customer pulled"
assert_eq "$(ldigest b)" "$(sdigest)" "laptop b holds exactly the server's rows"

# --- an uninterrupted fresh pull
login c alice
laptop c --json sync >"$T/pull4.json" 2>"$T/pull4.err" || fail "the pull failed: $(cat "$T/pull4.err")"
[ "$(jget "$T/pull4.json" round_trips)" -ge 3 ] || fail "expected a pull of several pages"
assert_eq "$(ldigest c)" "$(sdigest)" "laptop c holds exactly the server's rows"

# --- both ways at once: b edits and adds while a edits and deletes
laptop a customer edit "Pipe 00001" --name "Pipe renamed by a" >/dev/null
laptop a customer delete "Pipe 00002" >/dev/null
laptop a visit "Pipe 00003" --note "from a" >/dev/null
sync_ok a
laptop b customer edit "Pipe 00004" --phone 13912345678 >/dev/null
laptop b customer add --name "Added by b" >/dev/null
CRM_TEST_PUSH_FIELDS=5 laptop b sync >"$T/both.out" 2>&1 || fail "the two-way sync failed: $(cat "$T/both.out")"
sync_ok a
sync_ok c
assert_eq "$(ldigest a)" "$(sdigest)" "a converged"
assert_eq "$(ldigest b)" "$(sdigest)" "b converged"
assert_eq "$(ldigest c)" "$(sdigest)" "c converged"
assert_eq "$(lsql c "SELECT name FROM customers WHERE name LIKE 'Pipe renamed%'")" "Pipe renamed by a" "a's edit reached c"
assert_eq "$(lsql c "SELECT phone FROM customers WHERE name = 'Pipe 00004 管道'")" "+8613912345678" "b's edit reached c"

stop_server
echo "ok: the sync pipeline pushes and pulls everything once, and resumes after a lost answer"

#!/usr/bin/env bash
# Idempotent pushes: an answer lost on the way back (the server applied the
# batch, the laptop never heard) is retried with the same batch id and is
# applied once; a batch replayed by hand over raw HTTP gets the stored
# receipts back and changes nothing.
. "$(dirname "$0")/lib_server.sh"

init_server
start_server
login a1 alice
login a2 alice

laptop a1 customer add --name 华信科技 --phone 13800138000 >/dev/null
laptop a1 visit 华信 --note "第一次拜访" >/dev/null
pending=$(laptop a1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])')
[ "$pending" -gt 0 ] || fail "nothing pending before the sync"

# The server applies the batch, then the answer is lost.
CRM_TEST_DROP_RESPONSE=1 sync_fails a1 "$T/out" "a lost answer" "run crm sync again"
assert_eq "$(sql "SELECT count(*) FROM customers")" 1 "the server applied the batch"
after=$(laptop a1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])')
assert_eq "$after" "$pending" "the laptop still has its changes pending"

# Retry: same batch id, applied once.
sync_ok a1
assert_eq "$(sql "SELECT count(*) FROM srv_batches")" 1 "one batch recorded"
assert_eq "$(sql "SELECT count(*) FROM customers")" 1 "one customer on the server"
assert_eq "$(sql "SELECT count(*) FROM activities")" 1 "one visit on the server"
assert_eq "$(laptop a1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])')" 0 \
	"nothing pending after the retry"
grep -q "POST /v1/sync 200" "$T/server.log" || fail "no sync in the server log"
sync_ok a2
assert_eq "$(lsql a2 "SELECT count(*) FROM activities")" 1 "the other laptop sees one visit"

# Raw HTTP: the same batch twice.
tok=$(token_of a2)
site=$(site_of a2)
body=$(python3 - "$site" "$(lsql a2 "SELECT id FROM customers")" <<'PY'
import json, sys, time, uuid
site, cust = sys.argv[1], sys.argv[2]
h = str(int(time.time() * 1000) << 16)
act = "01900000-0000-7000-8000-" + uuid.uuid4().hex[:12]
print(json.dumps({"protocol": 1, "schema": 2, "batch": "manual-1", "cursor": "0", "site": site,
    "push": [{"t": "activities", "id": act, "h": h, "s": site,
              "f": [["customer_id", cust], ["kind", "call"], ["note", "by hand"]]}]}))
PY
)
# the schema version the server speaks
schema=$(curl -s "$URL/v1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["schema"])')
body=${body/\"schema\": 2/\"schema\": $schema}
st=$(post /v1/sync "$body" "$tok")
assert_eq "$st" 200 "first manual push"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["replayed"] is False and d["receipts"][0]["status"]=="ok", d' "$T/body" ||
	fail "first manual push not accepted: $(cat "$T/body")"
st=$(post /v1/sync "$body" "$tok")
assert_eq "$st" 200 "replayed manual push"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["replayed"] is True and d["receipts"][0]["status"]=="ok", d' "$T/body" ||
	fail "the replay was not recognised: $(cat "$T/body")"
assert_eq "$(sql "SELECT count(*) FROM activities")" 2 "the replayed batch was applied once"

stop_server
echo "ok: lost answer retried and replayed batches are applied once"

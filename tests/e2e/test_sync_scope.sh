#!/usr/bin/env bash
# Partial replication and server authority: rep bob cannot read or change
# rep alice's customers, neither through crm nor over raw HTTP; the manager
# of alice's team sees them; refused changes get receipts and are put back.
. "$(dirname "$0")/lib_server.sh"

init_server
start_server
login a alice
login b bob
login m mgr
login x admin

laptop a customer add --name 深圳市华信科技有限公司 --phone 13800138000 >/dev/null
laptop a visit 华信 --note "初次拜访" >/dev/null
laptop b customer add --name "Bob's Bikes" --email bob@bikes.example >/dev/null
sync_ok a
sync_ok b
sync_ok a
sync_ok m
sync_ok x

# --- what each one sees
assert_eq "$(lsql a "SELECT group_concat(name) FROM customers")" "深圳市华信科技有限公司" "alice sees only hers"
assert_eq "$(lsql b "SELECT group_concat(name) FROM customers")" "Bob's Bikes" "bob sees only his"
assert_eq "$(lsql b "SELECT count(*) FROM activities")" 0 "bob gets none of alice's visits"
assert_eq "$(lsql m "SELECT group_concat(name) FROM customers")" "深圳市华信科技有限公司" \
	"the manager of team east sees alice's, not bob's (team west)"
assert_eq "$(lsql x "SELECT count(*) FROM customers")" 2 "the admin sees everything"
if laptop b customer show 华信 >/dev/null 2>&1; then
	fail "bob's laptop can show alice's customer"
fi

cust=$(sql "SELECT id FROM customers WHERE name LIKE '深圳%'")
tok=$(token_of b)
site=$(site_of b)
schema=$(curl -s "$URL/v1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["schema"])')

# --- raw HTTP read: 403 for someone else's customer, 200 for one's own
st=$(post /v1/customer "{\"id\":\"$cust\"}" "$tok")
assert_eq "$st" 403 "bob reading alice's customer over HTTP"
grep -q '"error":"forbidden"' "$T/body" || fail "403 without the error code: $(cat "$T/body")"
st=$(post /v1/customer "{\"id\":\"$cust\"}" "$(token_of a)")
assert_eq "$st" 200 "alice reading her own customer"
grep -q "初次拜访" "$T/body" || fail "alice's read lacks her visit"

# --- raw HTTP writes: an edit, a new visit under her customer, a customer given to her
body=$(python3 - "$site" "$cust" "$schema" <<'PY'
import json, sys, time
site, cust, schema = sys.argv[1], sys.argv[2], int(sys.argv[3])
h = str(int(time.time() * 1000) << 16)
print(json.dumps({"protocol": 1, "schema": schema, "batch": "evil-1", "cursor": "0", "site": site,
  "push": [
    {"t": "customers", "id": cust, "h": h, "s": site, "f": [["phone", "+8613000000000"]]},
    {"t": "activities", "id": "01900000-0000-7000-8000-00000000a001", "h": h, "s": site,
     "f": [["customer_id", cust], ["kind", "visit"], ["note", "sneaky"]]},
    {"t": "customers", "id": "01900000-0000-7000-8000-00000000c001", "h": h, "s": site,
     "f": [["name", "Planted"], ["owner", "alice"]]},
    {"t": "customers", "id": "01900000-0000-7000-8000-00000000c002", "h": h, "s": site,
     "f": [["name", "Mine"], ["owner", "bob"], ["merged_into", "01900000-0000-7000-8000-00000000c001"]]}]}))
PY
)
st=$(post /v1/sync "$body" "$tok")
assert_eq "$st" 200 "the push is answered with receipts"
python3 - "$T/body" "$cust" <<'PY' || fail "receipts not as expected: $(cat "$T/body")"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["receipts"]
assert [x["status"] for x in r] == ["refused"] * 4, r
assert all(f["code"] == "perm" for x in r for f in x["refused"]), r
assert "not yours" in r[0]["refused"][0]["reason"], r
assert "merged_into" in r[3]["refused"][0]["reason"], r
ev = {(e["table"], e["id"]) for e in d["evict"]}
assert ("customers", sys.argv[2]) in ev and ("activities", "01900000-0000-7000-8000-00000000a001") in ev, ev
assert not any(c for c in d["changes"] if c["id"] == sys.argv[2]), "alice's customer leaked in the pull"
PY
assert_eq "$(sql "SELECT phone FROM customers WHERE id = '$cust'")" "+8613800138000" "alice's phone unchanged"
assert_eq "$(sql "SELECT count(*) FROM activities")" 1 "no visit planted"
assert_eq "$(sql "SELECT count(*) FROM customers")" 2 "no customer planted"

# --- an owner change from alice's own laptop is refused and put back
# (crm never lets people set owner; a tampered client could send it)
atok=$(token_of a)
asite=$(site_of a)
body=$(python3 - "$asite" "$cust" "$schema" <<'PY'
import json, sys, time
site, cust, schema = sys.argv[1], sys.argv[2], int(sys.argv[3])
h = str(int(time.time() * 1000) << 16)
print(json.dumps({"protocol": 1, "schema": schema, "batch": "owner-1", "cursor": "0", "site": site,
  "push": [{"t": "customers", "id": cust, "h": h, "s": site,
            "f": [["owner", "bob"], ["city", "深圳"]]}]}))
PY
)
st=$(post /v1/sync "$body" "$atok")
assert_eq "$st" 200 "alice's push"
python3 - "$T/body" "$cust" <<'PY' || fail "owner refusal not as expected: $(cat "$T/body")"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["receipts"][0]
assert r["status"] == "partial", r
assert [f["col"] for f in r["refused"]] == ["owner"], r
assert "server operations" in r["refused"][0]["reason"], r
# the correcting change: the server's owner at a fresh version, for the replica to take back
fixed = [c for c in d["changes"] if c["id"] == sys.argv[2]]
assert fixed, d["changes"]
vals = {f[0]: f[1] for c in fixed for f in c["f"]}
assert vals.get("owner") == "alice", vals
PY
assert_eq "$(sql "SELECT owner || '|' || city FROM customers WHERE id = '$cust'")" "alice|深圳" \
	"owner unchanged, the allowed field applied"

# --- the customer changes hands (a server operation): it enters bob's
# replica whole (with the visit) and leaves alice's after her pending edit was
# pushed (and kept: it was made while the customer was hers, docs/pool.md)
"$CRM_SERVER_BIN" pool assign "$cust" bob --db "$T/server.db" >/dev/null
laptop a customer edit 华信 --notes "too late" >/dev/null
laptop a sync >"$T/a.out" 2>&1 || fail "alice's sync failed: $(cat "$T/a.out")"
grep -q "1 evicted" "$T/a.out" || fail "alice was not told of the eviction: $(cat "$T/a.out")"
assert_eq "$(sql "SELECT notes FROM customers WHERE id = '$cust'")" "too late" \
	"alice's pending edit was pushed and kept before the eviction"
assert_eq "$(lsql a "SELECT count(*) FROM customers")" 0 "the customer left alice's replica"
assert_eq "$(lsql a "SELECT count(*) FROM activities")" 0 "with its visit"
sync_ok b
assert_eq "$(lsql b "SELECT owner FROM customers WHERE id = '$cust'")" "bob" "it entered bob's replica"
assert_eq "$(lsql b "SELECT note FROM activities WHERE customer_id = '$cust'")" "初次拜访" \
	"with the visit logged before"
sync_ok a
assert_eq "$(lsql a "SELECT count(*) FROM customers")" 0 "and stays out of alice's"
laptop b customer edit 华信 --notes "bob's now" >/dev/null
sync_ok b
assert_eq "$(sql "SELECT notes FROM customers WHERE id = '$cust'")" "bob's now" "bob may change it now"

stop_server
echo "ok: reps see and change only their own customers; refusals get receipts and evictions"

#!/usr/bin/env bash
# The pool's clock: a customer nobody follows up returns to the pool after
# pool.recycle_days, `crm today` warns its owner pool.warn_days before (offline,
# from the rules the last sync brought), an open deal exempts it while
# pool.exempt_open_deals is on, and the sweep runs both on demand
# (`crm-server pool recycle`) and on the timer inside `serve`. Time moves with
# CRM_NOW; the server is restarted at each step so its clock moves too.
. "$(dirname "$0")/lib_server.sh"

at() { # at ISO: the server runs at that time from now on
	export CRM_NOW=$1
	stop_server
	start_server
}
# today_days LAPTOP: "name=days_left ..." of the pool warnings, sorted by name
today_days() {
	laptop "$1" today --json | python3 -c '
import json, sys
w = json.load(sys.stdin)["pool"]
print(" ".join(sorted("%s=%d" % (x["name"], x["days_left"]) for x in w)))'
}

export CRM_POOL_INTERVAL=0 # the sweep on demand first; the timer at the end
init_server
S config set pool.recycle_days 30 >/dev/null
S config set pool.warn_days 3 >/dev/null
# Bad settings are refused, clearly, and change nothing.
if S config set pool.recycle_days -5 2>"$T/err"; then fail "a negative recycle_days was accepted"; fi
grep -q "pool.recycle_days must be a whole number" "$T/err" || fail "unclear message: $(cat "$T/err")"
st=0; S config set pool.nonsense 1 2>"$T/err" || st=$?
[ "$st" = 2 ] || fail "an unknown key should exit 2, got $st"
grep -q 'unknown setting "pool.nonsense"' "$T/err" || fail "unclear message: $(cat "$T/err")"
assert_eq "$(S config get pool.recycle_days)" 30 "recycle_days kept"
S config list --json | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert c == {"pool.recycle_days": 30, "pool.warn_days": 3, "pool.exempt_open_deals": True,
             "pool.claim_limit": 200, "pool.lockout_days": 7}, c
' || fail "config list --json"
S config list | grep -E "^pool.claim_limit +200 +\(default\)" >/dev/null || fail "config list for people"

export CRM_NOW=2026-01-01T09:00:00Z
start_server
login a alice
laptop a customer add --name 深圳市华信科技有限公司 --city 深圳 >/dev/null
laptop a customer add --name "ACME Trading" --city London >/dev/null
laptop a customer add --name "Old Mill Ltd" --city Leeds >/dev/null
laptop a deal add 'ACME' --title "Pilot" --stage proposal >/dev/null
laptop a visit 华信 --note "首次拜访" >/dev/null
sync_ok a
# Met on the road the same day, typed in offline, synced only a month later:
# it is alice's since she typed it (created_at), on the laptop and the server.
laptop a customer add --name "Field Find" --city Hull >/dev/null

# Day 27: three days left for the two without an open deal.
at 2026-01-28T09:00:00Z
assert_eq "$(today_days a)" "Field Find=3 Old Mill Ltd=3 深圳市华信科技有限公司=3" "warnings on day 27"
laptop a today >"$T/today.txt"
grep -q "returning to the pool within 3 days" "$T/today.txt" || fail "no pool heading in crm today"
grep -q "深圳市华信科技有限公司" "$T/today.txt" || fail "crm today does not name the customer"
# Day 26 is outside the window: nothing yet.
assert_eq "$(CRM_NOW=2026-01-27T08:00:00Z today_days a)" "" "no warning 4 days before"

# Day 29: a visit to Old Mill keeps it; 华信 has one day left. All offline.
at 2026-01-30T09:00:00Z
laptop a visit "Old Mill" --note "called the buyer" >/dev/null
assert_eq "$(today_days a)" "Field Find=1 深圳市华信科技有限公司=1" "the visit removed Old Mill's warning"
sync_ok a

# Day 30: the sweep recycles 华信 and Field Find (ACME has an open deal, Old Mill a visit).
at 2026-01-31T09:00:00Z
assert_eq "$(today_days a)" "Field Find=0 深圳市华信科技有限公司=0" "due now, before the sweep"
laptop a today | grep -q "due now  深圳市华信科技有限公司" || fail "crm today does not say due now"
S pool recycle --json >"$T/rec.json"
python3 - "$T/rec.json" <<'PY' || fail "recycle output: $(cat "$T/rec.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["count"] == 2, r
assert sorted(x["name"] for x in r["recycled"]) == ["Field Find", "深圳市华信科技有限公司"], r
assert all(x["previous_owner"] == "alice" for x in r["recycled"]), r
PY
assert_eq "$(sql "SELECT count(*) FROM customers WHERE owner IS NULL")" 2 "two customers in the pool"
S audit customer 华信 >"$T/audit.txt"
grep -q "recycled to the pool: no follow-up by alice since 2026-01-01" "$T/audit.txt" ||
	fail "audit lacks the recycling: $(cat "$T/audit.txt")"
S audit customer 华信 --json | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert [(x["from"], x["to"]) for x in a] == [(None, "alice"), ("alice", None)], a
assert a[1]["by"] == "server", a
' || fail "audit --json"
# A second sweep finds nothing more.
S pool recycle | grep -q "recycled 0 customers" || fail "second sweep recycled again"

# alice's next sync evicts it from her laptop; bob sees it in the pool.
sync_ok a
if laptop a customer show 华信 >/dev/null 2>&1; then fail "the recycled customer is still on alice's laptop"; fi
assert_eq "$(lsql a "SELECT count(*) FROM customers")" 2 "alice keeps her other two customers"
login b bob
laptop b pool list --json | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert [c["name"] for c in p] == ["Field Find", "深圳市华信科技有限公司"], p
assert p[1]["previous_owner"] == "alice" and p[1]["city"] == "深圳", p
' || fail "pool list"
assert_eq "$(laptop b pool list --city 伦敦 --json)" "[]" "city filter"

# Exemption off: ACME's open deal no longer protects it.
S config set pool.exempt_open_deals off >/dev/null
assert_eq "$(S pool recycle --json | python3 -c 'import json,sys; print([x["name"] for x in json.load(sys.stdin)["recycled"]])')" \
	"['ACME Trading']" "exemption off recycles the customer with the open deal"

# The timer inside serve: Old Mill (visited on day 29) is due on day 59.
export CRM_POOL_INTERVAL=1
at 2026-03-02T09:00:00Z
for _ in $(seq 1 50); do
	grep -q "pool: recycled .*Old Mill Ltd" "$T/server.log" && break
	sleep 0.1
done
grep -q "pool: recycled .*Old Mill Ltd" "$T/server.log" || fail "the timer in serve did not recycle"
assert_eq "$(sql "SELECT count(*) FROM customers WHERE owner IS NOT NULL")" 0 "everything is in the pool"
stop_server
echo "ok"

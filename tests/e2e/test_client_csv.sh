#!/usr/bin/env bash
# End-to-end: CSV import (BOM, quoting, line breaks in fields, Chinese and
# English, child rows by customer_ext_ref / customer_id) all-or-nothing and
# with --skip-bad (refused rows named by line), and export that reads back.
set -u
: "${CRM_BIN:?CRM_BIN must point at the crm binary}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CRM_HOME="$T/home" TZ=Asia/Shanghai CRM_NOW=2026-11-24T09:00:00+08:00
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
crm() { "$CRM_BIN" "$@"; }
json() { python3 -c "import json,sys; j=json.load(sys.stdin); r=($1); sys.exit(0 if r else 1)"; }
# The whole database: business tables, the sync outbox (clock table) and the
# search index; sqlite3 reads the WAL too. Left out: sync_state's clock and
# sequence high-water marks, which sync keeps monotonic even across a rollback.
snapshot() {
  sqlite3 "$CRM_HOME/replica.db" .dump | grep -v "^INSERT INTO sync_state VALUES('sync\.\(hlc\|seq\)'" \
    || echo "dump failed"
}

crm customer add --name 已有客户 --phone 13700000000 >/dev/null || fail setup

# A file with one bad row (line 5: the quoted name spans lines 3-4).
printf '\xef\xbb\xbfname,phone,email,city,ext_ref,notes\r\n' >"$T/c.csv"
printf '深圳市华信科技有限公司,138 0013 8000,,深圳,ERP-1,"说 ""你好"""\r\n' >>"$T/c.csv"
printf '"Globex, Inc.\nWest",+1 415 555 2671,info@globex.example,San Francisco,ERP-2,\r\n' >>"$T/c.csv"
printf 'Bad Phone Co,12345,,x,ERP-3,\r\n' >>"$T/c.csv"
printf '重复客户,137 0000 0000,,x,ERP-4,\r\n' >>"$T/c.csv"
printf 'ACME Trading,,sales@acme.example,London,ERP-5,\r\n' >>"$T/c.csv"

before=$(snapshot)
crm import customers "$T/c.csv" >"$T/out" 2>"$T/err" && fail "import with bad rows succeeded"
grep -q 'line 5: phone "12345": not a phone number' "$T/err" || fail "bad row named by line: $(cat "$T/err")"
grep -q 'line 6: phone +8613700000000 already belongs to customer 已有客户' "$T/err" || fail "duplicate row: $(cat "$T/err")"
grep -q '2 bad rows, nothing imported' "$T/err" || fail "all-or-nothing summary: $(cat "$T/err")"
[ "$before" = "$(snapshot)" ] || fail "a failed import changed the replica"

crm import customers "$T/c.csv" --skip-bad >"$T/out" 2>"$T/err" || fail "--skip-bad failed: $(cat "$T/err")"
grep -q 'imported 3 customers, refused 2' "$T/out" || fail "summary: $(cat "$T/out")"
grep -q 'line 5: ' "$T/err" || fail "--skip-bad reports the refused row: $(cat "$T/err")"
crm --json customer show ERP-1 | json 'j["phone"] == "+8613800138000" and j["notes"] == "说 \"你好\""' || fail "quotes"
crm --json customer show ERP-2 | json 'j["name"] == "Globex, Inc.\nWest"' || fail "comma and line break in a field"
crm --json search globex | json 'len(j) == 1' || fail "imported rows are searchable"

# Children by customer_ext_ref and customer_id; money and times parsed.
id=$(crm --json customer show ERP-5 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cat >"$T/a.csv" <<CSV
customer_ext_ref,customer_id,kind,occurred_at,note,next_at
ERP-1,,visit,2026-11-20 10:00,介绍新产品,2026-11-23 10:00
,$id,call,2026-11-21T08:00:00Z,Discussed renewal,
ERP-9,,call,,nobody has ERP-9,
ERP-1,,party,,bad kind,
CSV
crm --json import activities "$T/a.csv" --skip-bad >"$T/out" 2>"$T/err" || fail "activities import"
json 'j["imported"] == 2 and j["refused"] == 2 and [e["line"] for e in j["errors"]] == [4, 5]' <"$T/out" \
  || fail "activities report: $(cat "$T/out")"
grep -q 'customer_ext_ref "ERP-9"' "$T/err" || fail "unknown customer_ext_ref named"
crm --json activity list ERP-1 | json 'j[0]["occurred_at"] == "2026-11-20T02:00:00.000Z" and j[0]["note"] == "介绍新产品"' || fail "activity times"
crm --json today | json 'len(j["follow_ups"]) == 1' || fail "imported follow-up shows in today"

printf 'customer_ext_ref,title,amount,currency,expected_close\nERP-1,框架合同,"¥120,000.50",,2026-12-31\nERP-5,Licence,5000 USD,,\n' >"$T/d.csv"
crm import deals "$T/d.csv" >/dev/null || fail "deals import"
crm --json export deals --format json | json 'sorted((d["amount"], d["currency"]) for d in j) == [(500000, "USD"), (12000050, "CNY")]' \
  || fail "deal amounts"

# Header problems stop the import before any row.
printf 'name,colour\nX,red\n' >"$T/h.csv"
before=$(snapshot)
crm import customers "$T/h.csv" 2>"$T/err" && fail "unknown header accepted"
grep -q 'unknown column "colour"' "$T/err" || fail "unknown header named: $(cat "$T/err")"
printf 'name,city\n"unclosed,x\n' >"$T/q.csv"
crm import customers "$T/q.csv" 2>"$T/err" && fail "malformed CSV accepted"
grep -q 'line 2: a quoted field runs to the end of the file' "$T/err" || fail "malformed CSV message: $(cat "$T/err")"
printf 'name,city\n%s,x\n' "$(printf 'bad\xff')" >"$T/u.csv"
crm import customers "$T/u.csv" 2>"$T/err" && fail "invalid UTF-8 row accepted"
grep -q 'line 2: .*UTF-8' "$T/err" || fail "invalid UTF-8 row message: $(cat "$T/err")"
crm import customers "$T/missing.csv" 2>"$T/err" && fail "missing file accepted"
grep -q 'cannot open' "$T/err" || fail "missing file message"
[ "$before" = "$(snapshot)" ] || fail "refused imports changed the replica"

# Export: header = every column; reads back into another replica unchanged.
crm export customers | head -1 | tr -d '\r' | grep -qx 'id,created_at,updated_at,deleted,kind,name,uscc,id_number,birth_date,phone,email,address,city,region,industry,source,stage,tier,owner,notes,ext_ref,merged_into' \
  || fail "export header"
crm customer delete ACME >/dev/null
crm export customers --deleted >"$T/all.csv"
crm --db "$T/other.db" import customers "$T/all.csv" >/dev/null 2>"$T/err" || fail "re-import of an export: $(cat "$T/err")"
a=$(crm export customers --deleted --format json | python3 -c 'import json,sys; print(sorted(json.dumps(c, sort_keys=True) for c in json.load(sys.stdin)))')
b=$(crm --db "$T/other.db" export customers --deleted --format json | python3 -c 'import json,sys; print(sorted(json.dumps(c, sort_keys=True) for c in json.load(sys.stdin)))')
[ "$a" = "$b" ] || fail "export -> import round trip differs"
crm export customers --format json | json 'len(j) == 3' || fail "export leaves deleted out"
crm export customers --deleted --format json | json 'len(j) == 4' || fail "export --deleted"

[ "$fails" = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "ok"

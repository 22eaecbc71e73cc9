#!/usr/bin/env bash
# Head office's side of de-duplication, without a running server: a
# de-duplicating import (duplicates inside the file and against the pool,
# all or nothing unless --skip-bad, line numbers of refused rows), the review
# queue (list, merge, dismiss), unmerge by merge id, a full scan, and the
# export of every record with merged_into.
. "$(dirname "$0")/lib_server.sh"

init_server

# --- the pool before the import
cat >"$T/pool.csv" <<'CSV'
name,phone,city,ext_ref,created_at
深圳市华信科技有限公司,0755 2345 6789,深圳,ERP-1,2025-01-10T08:00:00Z
Globex Corporation,,Springfield,ERP-2,2025-01-11T08:00:00Z
CSV
S import customers "$T/pool.csv" --owner alice >"$T/out" || fail "pool import: $(cat "$T/out")"
grep -q "2 rows: 2 created, 0 merged, 0 queued for review, 0 refused" "$T/out" || fail "pool import: $(cat "$T/out")"
assert_eq "$(sql "SELECT count(*) FROM srv_ownership WHERE reason = 'imported' AND new_owner = 'alice'")" 2 \
	"imported owners are audited"

# --- the batch: a duplicate of the pool, duplicates inside the file, a review pair, bad rows
cat >"$T/batch.csv" <<'CSV'
name,phone,email,city,ext_ref,owner
华信科技（深圳）有限公司,+86 755 2345 6789,info@huaxin.cn,,CRM-1,bob
"ACME Trading Co., Ltd.",+44 20 7946 0000,sales@acme.co.uk,London,CRM-2,
Acme Trading Company Limited,+44 20 7946 0000,,London,CRM-3,
,13900000000,,,CRM-4,
Globex Corp,,,Springfield,CRM-5,
Initech,,not-an-email,,CRM-6,
Umbrella Ltd,,,,CRM-7,nobody
CSV
before=$(sql "SELECT count(*) FROM customers")
st=0
S import customers "$T/batch.csv" --owner bob >"$T/out" 2>"$T/err" || st=$?
assert_eq "$st" 1 "bad rows without --skip-bad fail the import"
grep -q "line 5: name is required" "$T/err" || fail "refused row with its line: $(cat "$T/err")"
grep -q "line 7: email" "$T/err" || fail "refused e-mail with its line: $(cat "$T/err")"
grep -q "line 8: owner nobody" "$T/err" || fail "unknown owner refused: $(cat "$T/err")"
grep -q "3 bad rows, nothing imported" "$T/err" || fail "all or nothing: $(cat "$T/err")"
assert_eq "$(sql "SELECT count(*) FROM customers")" "$before" "nothing was imported"

S import customers "$T/batch.csv" --owner bob --skip-bad --json >"$T/out.json" || fail "skip-bad import failed"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["rows"], r["created"], r["merged"], r["queued"], r["refused_count"]) == (7, 2, 2, 1, 3), r
assert [x["line"] for x in r["refused"]] == [5, 7, 8], r
' "$T/out.json" || fail "summary: $(cat "$T/out.json")"

HX=$(sql "SELECT id FROM customers WHERE ext_ref = 'ERP-1'")
HX2=$(sql "SELECT id FROM customers WHERE ext_ref = 'CRM-1'")
assert_eq "$(sql "SELECT deleted, merged_into, owner FROM customers WHERE id = '$HX2'")" "1|$HX|bob" \
	"the duplicate of the pool merged into the pool's (older) record"
assert_eq "$(sql "SELECT email, owner FROM customers WHERE id = '$HX'")" "info@huaxin.cn|alice" \
	"the pool's record got the e-mail and kept its owner"
AC1=$(sql "SELECT id FROM customers WHERE ext_ref = 'CRM-2'")
assert_eq "$(sql "SELECT merged_into FROM customers WHERE ext_ref = 'CRM-3'")" "$AC1" \
	"the duplicate inside the file merged into the earlier row"
assert_eq "$(sql "SELECT ext_ref FROM customers WHERE deleted = 0 ORDER BY ext_ref" | tr '\n' ' ')" \
	"CRM-2 CRM-5 ERP-1 ERP-2 " "live customers after the import"

# --- the review queue: Globex Corp vs Globex Corporation
S dup list --json >"$T/list.json"
G1=$(sql "SELECT id FROM customers WHERE ext_ref = 'ERP-2'")
G2=$(sql "SELECT id FROM customers WHERE ext_ref = 'CRM-5'")
python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert len(l) == 1, l
p = l[0]
assert sorted([p["a"], p["b"]]) == sorted(sys.argv[2:4]), p
assert p["score"] > 0 and isinstance(p["reasons"], list) and p["reasons"], p
assert {p["a_name"], p["b_name"]} == {"Globex Corporation", "Globex Corp"}, p
' "$T/list.json" "$G1" "$G2" || fail "dup list: $(cat "$T/list.json")"
S dup list >"$T/list.txt"
grep -q "1 pair to review" "$T/list.txt" || fail "dup list for people: $(cat "$T/list.txt")"

S dup merge CRM-5 ERP-2 >"$T/merge.out" || fail "dup merge: $(cat "$T/merge.out")"
grep -q "merged $G2 (Globex Corp) into $G1 (Globex Corporation), registered first" "$T/merge.out" ||
	fail "the earlier registration survives a manual merge too: $(cat "$T/merge.out")"
assert_eq "$(sql "SELECT merged_into FROM customers WHERE id = '$G2'")" "$G1" "merged by hand"
assert_eq "$(sql "SELECT status FROM srv_dup_pairs WHERE '$G1' IN (a, b) AND '$G2' IN (a, b)")" merged "pair decided"
S dup list --json | python3 -c 'import json,sys; assert json.load(sys.stdin) == []' ||
	fail "the queue is empty after the merge"

# --- unmerge by merge id, then dismiss: never proposed again
MID=$(S dup log --json | python3 -c '
import json, sys
print([m["id"] for m in json.load(sys.stdin) if m["merged"] == sys.argv[1]][0])' "$G2")
S dup unmerge "$MID" >"$T/unmerge.out" || fail "unmerge: $(cat "$T/unmerge.out")"
assert_eq "$(sql "SELECT deleted, coalesce(merged_into, '-') FROM customers WHERE id = '$G2'")" "0|-" "revived"
st=0
S dup unmerge "$MID" 2>"$T/err" || st=$?
assert_eq "$st" 1 "a merge is undone only once"
grep -q "no merge in force" "$T/err" || fail "second unmerge: $(cat "$T/err")"
S dup dismiss ERP-2 CRM-5 >/dev/null
assert_eq "$(sql "SELECT status FROM srv_dup_pairs WHERE '$G1' IN (a, b) AND '$G2' IN (a, b)")" dismissed "dismissed"

# --- a full scan: decided pairs stay decided; a forgotten decision is taken again
S dup scan >"$T/scan.out" || fail "scan: $(cat "$T/scan.out")"
grep -q "merged 0, queued 0" "$T/scan.out" || fail "nothing new to do: $(cat "$T/scan.out")"
python3 - "$T/server.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM srv_dup_pairs")
db.commit()
PY
S dup scan >"$T/scan.out" || fail "scan: $(cat "$T/scan.out")"
grep -q "scanned 4 customers" "$T/scan.out" || fail "scan counts the live customers: $(cat "$T/scan.out")"
grep -q "merged 0, queued 1" "$T/scan.out" || fail "the Globex pair is proposed again: $(cat "$T/scan.out")"
assert_eq "$(sql "SELECT count(*) FROM srv_dup_pairs WHERE status = 'open'")" 1 "queued by the scan"

# --- unmerge the automatic merge of the import, then the scan merges it again
S dup unmerge "$HX2" >/dev/null
assert_eq "$(sql "SELECT deleted FROM customers WHERE id = '$HX2'")" 0 "unmerged"
python3 - "$T/server.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM srv_dup_pairs WHERE status = 'dismissed'")
db.commit()
PY
S dup scan >"$T/scan.out" || fail "scan: $(cat "$T/scan.out")"
grep -q "merged 1" "$T/scan.out" || fail "the scan merges a match: $(cat "$T/scan.out")"
assert_eq "$(sql "SELECT merged_into FROM customers WHERE id = '$HX2'")" "$HX" "merged by the scan"

# --- export: every record, merged ones included, every column
S export customers --format csv >"$T/export.csv"
python3 - "$T/export.csv" "$HX2" "$HX" <<'PY' || fail "csv export: $(head -3 "$T/export.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
assert len(rows) == 6, len(rows)
for col in ("id", "ext_ref", "owner", "deleted", "merged_into", "created_at", "name"):
    assert col in rows[0], col
by = {r["id"]: r for r in rows}
assert by[sys.argv[2]]["merged_into"] == sys.argv[3] and by[sys.argv[2]]["deleted"] == "1", by[sys.argv[2]]
assert by[sys.argv[2]]["ext_ref"] == "CRM-1" and by[sys.argv[2]]["owner"] == "bob"
acme = [r for r in rows if r["ext_ref"] == "CRM-2"][0]
assert acme["name"] == "ACME Trading Co., Ltd.", acme
PY
S export customers --format json >"$T/export.json"
python3 - "$T/export.json" "$HX2" "$HX" <<'PY' || fail "json export"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 6
r = [x for x in rows if x["id"] == sys.argv[2]][0]
assert r["merged_into"] == sys.argv[3] and r["deleted"] == 1 and r["ext_ref"] == "CRM-1", r
live = [x for x in rows if x["merged_into"] is None]
assert all(x["deleted"] == 0 for x in live), live
PY

#!/usr/bin/env bash
# The scope handout is incremental (server/srv_handout.c): a round trip looks
# only at customers logged since the device's last one (srv_scope_log), not at
# every customer in its scope. Each kind of scope change must still reach every
# laptop: a release, a claim, a manager's reassignment, a merge, a teammate's
# new customer (also one imported by head office), an answer lost on the way,
# a change of team or role (which falls back to the whole walk), and the
# recycling sweep. After every
# step each laptop must hold exactly its scope as the server computes it, the
# customers and every row under them, and the server's own record of what
# each device holds must say the same. Before each step that is not a user
# change, every device is checked to take the incremental path next.
. "$(dirname "$0")/lib_server.sh"

export CRM_POOL_INTERVAL=0
init_server
echo carol-pw | S user add carol --role rep --team east >/dev/null
start_server
LAPTOPS="a b c m x"
login a alice
login b bob
login c carol
login m mgr
login x admin
user_of() { case $1 in a) echo alice ;; b) echo bob ;; c) echo carol ;; m) echo mgr ;; x) echo admin ;; esac; }

# sqlw QUERY: write the server database beside the running server.
sqlw() {
	python3 - "$T/server.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
db.execute(sys.argv[2])
db.commit()
PY
}

# holds LAPTOP STEP: the laptop holds exactly its user's scope (customers and
# the rows under them), and srv_scope records exactly that scope as held.
holds() {
	local l=$1 step=$2 dev
	dev=$(sql "SELECT id FROM srv_devices WHERE name = '$l'")
	python3 - "$T/server.db" "$T/$l.db" "$(user_of "$l")" "$dev" <<'PY' || fail "$step: laptop $l does not hold its scope"
import sqlite3, sys
srv, lap, user, dev = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2]), sys.argv[3], sys.argv[4]
role, team = srv.execute("SELECT role, coalesce(team, '') FROM srv_users WHERE name = ?", (user,)).fetchone()
if role == "admin":
    cond, args = "1", ()
elif role == "manager":
    cond = ("(c.owner = ?1 OR (?2 <> '' AND c.owner IN (SELECT name FROM srv_users WHERE team = ?2)))"
            " AND c.merged_into IS NULL")
    args = (user, team)
else:
    cond, args = "c.owner = ?1 AND c.merged_into IS NULL", (user,)
want = {r[0] for r in srv.execute("SELECT c.id FROM customers c WHERE " + cond, args)}
have = {r[0] for r in lap.execute("SELECT id FROM customers")}
names = dict(srv.execute("SELECT id, name FROM customers"))
def show(ids):
    return sorted(names.get(i, i) for i in ids)
ok = True
if want != have:
    print("%s: missing %s, extra %s" % (user, show(want - have), show(have - want)), file=sys.stderr)
    ok = False
held = {r[0] for r in srv.execute(
    "SELECT customer_id FROM srv_scope WHERE device_id = ? AND in_scope = 1", (dev,))}
if held != want:
    print("%s: srv_scope holds %s, scope is %s" % (user, show(held), show(want)), file=sys.stderr)
    ok = False
for t in ("contacts", "activities", "deals"):
    w = {r[0] for r in srv.execute(
        "SELECT x.id FROM %s x JOIN customers c ON c.id = x.customer_id WHERE %s" % (t, cond), args)}
    h = {r[0] for r in lap.execute("SELECT id FROM %s" % t)}
    if w != h:
        print("%s: %s differ (missing %d, extra %d)" % (user, t, len(w - h), len(h - w)), file=sys.stderr)
        ok = False
sys.exit(0 if ok else 1)
PY
}

# all_hold STEP: every laptop syncs (twice: what one pushes, the others pull)
# and holds its scope.
all_hold() {
	local l
	for l in $LAPTOPS; do sync_ok "$l"; done
	for l in $LAPTOPS; do sync_ok "$l"; done
	for l in $LAPTOPS; do holds "$l" "$1"; done
}

# incremental STEP: every device has processed the log past its last
# "walk everything" entry, so its next round trip looks at the log only.
incremental() {
	local n
	n=$(sql "SELECT count(*) FROM srv_devices d WHERE d.scope_seen < (SELECT seq FROM srv_scope_log
		WHERE customer_id = '') OR d.evict_seen < (SELECT seq FROM srv_scope_log WHERE customer_id = '')")
	assert_eq "$n" 0 "$1: every device takes the incremental path"
}

# --- customers with rows under them, every laptop past its first sync
laptop a customer add --name "Alpha Mining" --city Perth >/dev/null
laptop a contact add Alpha --name "Ann Alpha" >/dev/null
laptop a visit Alpha --note "first visit" >/dev/null
laptop a customer add --name "Borealis Textiles" --city Oslo >/dev/null
laptop a visit Borealis --note "samples" >/dev/null
laptop a customer add --name "Cygnus Foods" --city Lima >/dev/null
laptop a visit Cygnus --note "tasting" >/dev/null
laptop b customer add --name "Delta Shipping" --city Hamburg >/dev/null
laptop b visit Delta --note "port tour" >/dev/null
laptop b customer add --name "Echo Pharma" --city Basel >/dev/null
laptop c customer add --name "Fjord Timber" --city Bergen >/dev/null
laptop c visit Fjord --note "sawmill" >/dev/null
all_hold start
assert_eq "$(lsql m "SELECT count(*) FROM customers")" 4 "the manager of east sees alice's and carol's"
incremental start

# --- release: alice gives Alpha back to the pool
laptop a release Alpha --no-sync >/dev/null || fail "alice could not release Alpha"
all_hold release
assert_eq "$(lsql a "SELECT count(*) FROM customers WHERE name = 'Alpha Mining'")" 0 "Alpha left alice"
assert_eq "$(lsql m "SELECT count(*) FROM customers WHERE name = 'Alpha Mining'")" 0 "Alpha left the manager"
assert_eq "$(lsql x "SELECT count(*) FROM customers WHERE name = 'Alpha Mining'")" 1 "the admin keeps Alpha"
incremental release

# --- claim: bob (team west) takes Alpha from the pool, whole
laptop b pool claim Alpha >/dev/null || fail "bob could not claim Alpha"
all_hold claim
assert_eq "$(lsql b "SELECT count(*) FROM activities a JOIN customers c ON c.id = a.customer_id
	WHERE c.name = 'Alpha Mining'")" 1 "bob has Alpha's visit"
assert_eq "$(lsql b "SELECT count(*) FROM contacts")" 1 "bob has Alpha's contact"
incremental claim

# --- the manager moves Borealis from alice to carol
laptop m pool assign Borealis carol >/dev/null || fail "the manager could not assign Borealis"
all_hold assign
assert_eq "$(lsql c "SELECT group_concat(note, ',') FROM (SELECT note FROM activities ORDER BY note)")" \
	"samples,sawmill" "carol has Borealis's visit beside her own"
incremental assign

# --- head office moves Delta from bob to alice
S pool assign Delta alice >/dev/null || fail "crm-server pool assign Delta"
all_hold "admin assign"
incremental "admin assign"

# --- a merge: Echo (bob's) into Cygnus (alice's); Echo leaves bob
laptop b visit Echo --note "contract talk" >/dev/null
sync_ok b
S dup merge Cygnus Echo >"$T/merge.out" 2>&1 || fail "dup merge: $(cat "$T/merge.out")"
all_hold merge
assert_eq "$(lsql b "SELECT count(*) FROM customers WHERE name = 'Echo Pharma'")" 0 "Echo left bob"
assert_eq "$(lsql a "SELECT count(*) FROM activities WHERE note = 'contract talk'")" 1 \
	"Echo's visit reached alice under Cygnus"
incremental merge

# --- and undone: Echo comes back to bob, its visit with it
echo_id=$(sql "SELECT id FROM customers WHERE name = 'Echo Pharma'")
S dup unmerge "$echo_id" >"$T/unmerge.out" 2>&1 || fail "dup unmerge: $(cat "$T/unmerge.out")"
all_hold unmerge
assert_eq "$(lsql b "SELECT count(*) FROM customers WHERE name = 'Echo Pharma'")" 1 "Echo back on bob's"
incremental unmerge

# --- a teammate's new customer reaches the manager; so does one head office imports for carol
laptop c customer add --name "Gamma Optics" --city Jena >/dev/null
laptop c visit Gamma --note "lens demo" >/dev/null
printf 'name,city\nHelix Robotics,Turin\n' >"$T/import.csv"
S import customers "$T/import.csv" --owner carol >"$T/import.out" || fail "import: $(cat "$T/import.out")"
all_hold "new customers"
assert_eq "$(lsql m "SELECT count(*) FROM customers WHERE name IN ('Gamma Optics', 'Helix Robotics')")" 2 \
	"the manager has carol's new customers"
incremental "new customers"

# --- a lost answer: the handout of Cygnus to carol and its eviction from alice
# are answered but never committed by the laptops; what the devices send next
# (the old ack) gets both again, from the unacknowledged entries alone (the
# log has been processed past them by then)
S pool assign Cygnus carol >/dev/null || fail "crm-server pool assign Cygnus"
schema=$(curl -s "$URL/v1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["schema"])')
cygnus=$(sql "SELECT id FROM customers WHERE name = 'Cygnus Foods'")
for l in c a; do
	body=$(printf '{"protocol":1,"schema":%s,"cursor":"%s","ack":"%s","site":"%s","more_push":false}' \
		"$schema" "$(lsql $l "SELECT value FROM sync_state WHERE key = 'cursor'")" \
		"$(lsql $l "SELECT value FROM sync_state WHERE key = 'ack'")" "$(site_of $l)")
	st=$(post /v1/sync "$body" "$(token_of $l)")
	assert_eq "$st" 200 "the answer that gets lost ($l)"
	python3 - "$T/body" "$cygnus" "$l" <<'PY' || fail "the lost answer to $l: $(head -c 600 "$T/body")"
import json, sys
d, cid, l = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
if l == "c":
    assert any(r["t"] == "customers" and r["id"] == cid for r in d["changes"]), "no Cygnus snapshot"
else:
    assert {"table": "customers", "id": cid} in d["evict"], d["evict"]
PY
done
incremental "lost answer"
all_hold "lost answer"
assert_eq "$(lsql c "SELECT count(*) FROM customers WHERE name = 'Cygnus Foods'")" 1 "carol got Cygnus again"
assert_eq "$(lsql a "SELECT count(*) FROM customers WHERE name = 'Cygnus Foods'")" 0 "alice evicted Cygnus again"

# --- team and role changes fall back to the whole walk
sqlw "UPDATE srv_users SET team = 'west' WHERE name = 'carol'"
all_hold "carol moves to west"
assert_eq "$(lsql m "SELECT count(*) FROM customers WHERE name = 'Fjord Timber'")" 0 \
	"carol's customers left the manager of east"
sqlw "UPDATE srv_users SET team = 'east' WHERE name = 'bob'"
all_hold "bob moves to east"
assert_eq "$(lsql m "SELECT count(*) FROM customers WHERE name = 'Alpha Mining'")" 1 \
	"bob's customers reached the manager of east"
sqlw "UPDATE srv_users SET role = 'manager', team = 'west' WHERE name = 'alice'"
all_hold "alice manages west"
assert_eq "$(lsql a "SELECT count(*) FROM customers WHERE name = 'Fjord Timber'")" 1 \
	"alice now sees carol's customers"
sqlw "UPDATE srv_users SET role = 'rep' WHERE name = 'alice'"
all_hold "alice back to rep"
incremental "role changes"

# --- the recycling sweep returns carol's customers nobody followed up to the
# pool (she got them 60 days ago, as far as the ownership audit says)
S config set pool.recycle_days 30 >/dev/null
sqlw "UPDATE srv_ownership SET at = at - 60 * 86400000 WHERE new_owner = 'carol'"
S pool recycle >"$T/recycle.out" 2>&1 || fail "recycle: $(cat "$T/recycle.out")"
assert_eq "$(sql "SELECT group_concat(name, ',') FROM (SELECT name FROM customers WHERE owner IS NULL
	AND merged_into IS NULL ORDER BY name)")" "Borealis Textiles,Cygnus Foods,Helix Robotics" \
	"the sweep recycled carol's customers without her follow-up"
all_hold recycle
assert_eq "$(lsql c "SELECT group_concat(name, ',') FROM (SELECT name FROM customers ORDER BY name)")" \
	"Fjord Timber,Gamma Optics" "carol keeps the customers she followed up"
incremental recycle

stop_server
echo "ok: every kind of scope change reaches every laptop through the incremental handout"

#!/usr/bin/env bash
# Two batches on the wire (docs/protocol.md): a batch sent "after" another is
# stored only once that one is, whatever order they arrive in; one whose
# predecessor failed is refused with 409 "order" instead of waiting; a replay
# is answered at once; a push alone ("pull": false) hands nothing out and
# echoes the cursor. Raw HTTP, two requests at once, so arrival order is ours.
. "$(dirname "$0")/lib_server.sh"

init_server
start_server
login a alice
sync_ok a
schema=$(curl -s "$URL/v1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["schema"])')

python3 - "$URL" "$(token_of a)" "$(site_of a)" "$schema" "$T/server.db" <<'PY' || fail "see above"
import json, sqlite3, sys, threading, time, urllib.error, urllib.request, uuid

url, tok, site, schema, dbpath = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]

def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

def post(body):
    req = urllib.request.Request(url + "/v1/sync", data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + tok,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)

def stored():
    db = sqlite3.connect(dbpath)
    try:
        return [r[0] for r in db.execute("SELECT batch_id FROM srv_batches ORDER BY batch_id")]
    finally:
        db.close()

def uid():
    # a UUIDv7-shaped id: time prefix, random rest
    ms = "%012x" % int(time.time() * 1000)
    return "%s-%s-7%s-8%s-%s" % (ms[:8], ms[8:], uuid.uuid4().hex[:3], uuid.uuid4().hex[:3],
                                 uuid.uuid4().hex[:12])

def hlc():
    return str(int(time.time() * 1000) << 16)

def envelope(batch, rows, after=None, pull=False, cursor="0"):
    e = {"protocol": 1, "schema": schema, "site": site, "cursor": cursor, "ack": "0",
         "batch": batch, "more_push": True, "push": rows}
    if after is not None:
        e["after"] = after
    e["pull"] = pull
    return e

cust, act = uid(), uid()
b1 = envelope("ord-1", [{"t": "customers", "id": cust, "h": hlc(), "s": site,
                         "f": [["name", "有序客户 Ordered Ltd"], ["owner", "alice"]]}])
b2 = envelope("ord-2", [{"t": "activities", "id": act, "h": hlc(), "s": site,
                         "f": [["customer_id", cust], ["kind", "call"], ["note", "after its customer"]]}],
              after="ord-1", cursor="7")

# --- the second batch arrives first: it waits for the first, then both are stored in order
res = {}
t = threading.Thread(target=lambda: res.update(b2=post(b2)))
t.start()
time.sleep(1.0)
if not t.is_alive():
    fail("the batch sent after ord-1 was answered before ord-1 arrived: %r" % (res,))
if stored():
    fail("something was stored before ord-1 arrived: %r" % stored())
st1, a1 = post(b1)
t.join(30)
if t.is_alive():
    fail("the batch sent after ord-1 still waits once ord-1 is stored")
st2, a2 = res["b2"]
if st1 != 200 or st2 != 200:
    fail("expected 200 and 200, got %d %r / %d %r" % (st1, a1, st2, a2))
if a2["receipts"][0]["status"] != "ok":
    fail("the activity under the customer of the batch before was refused: %r" % a2)
if stored() != ["ord-1", "ord-2"]:
    fail("expected both batches stored, got %r" % stored())
# a push alone: nothing handed out, the cursor echoed, nothing more
if a2["changes"] != [] or a2["cursor"] != "7" or a2["more"] is not False or a2["conflicts"] != []:
    fail("a push alone handed something out: %r" % a2)
if "pool" in a2:
    fail("a push alone carries the pool rules: %r" % a2)

# --- a replay is answered at once, even when the batch it follows is unknown
t0 = time.time()
st, a = post(envelope("ord-2", b2["push"], after="never-sent"))
if st != 200 or a["replayed"] is not True or time.time() - t0 > 5:
    fail("a replay with an unknown after was not answered at once: %d %r" % (st, a))

# --- the batch before fails: the one after it is refused at once, and not stored
act2 = uid()
b4 = envelope("ord-4", [{"t": "activities", "id": act2, "h": hlc(), "s": site,
                         "f": [["customer_id", cust], ["kind", "call"], ["note", "never"]]}],
              after="ord-3")
res = {}
t = threading.Thread(target=lambda: res.update(b4=post(b4)))
t.start()
time.sleep(0.5)
bad = envelope("ord-3", [{"t": "customers", "id": uid(), "h": "not-a-clock", "s": site,
                          "f": [["name", "broken"]]}], after="ord-2")
st3, a3 = post(bad)
if st3 != 422:
    fail("a malformed batch: expected 422, got %d %r" % (st3, a3))
t0 = time.time()
t.join(30)
if t.is_alive():
    fail("the batch after a failed one still waits")
st4, a4 = res["b4"]
if st4 != 409 or a4.get("error") != "order":
    fail("the batch after a failed one: expected 409 order, got %d %r" % (st4, a4))
if "ord-4" in stored() or "ord-3" in stored():
    fail("a batch out of order was stored: %r" % stored())

# --- the batch before is refused for its envelope: the one after it is refused at once too
b6 = envelope("ord-6", b4["push"], after="ord-5")
res = {}
t = threading.Thread(target=lambda: res.update(b6=post(b6)))
t.start()
time.sleep(0.5)
bad5 = envelope("ord-5", b1["push"], after="ord-2")
bad5["cursor"] = 5  # a number, not a decimal string: the envelope is refused
st5, a5 = post(bad5)
if st5 != 422:
    fail("an envelope with a numeric cursor: expected 422, got %d %r" % (st5, a5))
t0 = time.time()
t.join(30)
if t.is_alive() or time.time() - t0 > 10:
    fail("the batch after one refused for its envelope still waits")
st6, a6 = res["b6"]
if st6 != 409 or a6.get("error") != "order":
    fail("the batch after a refused envelope: expected 409 order, got %d %r" % (st6, a6))

# --- bad members
for body, what in ((dict(envelope("x-1", [], after="ord-2")), "after without a push"),
                   (dict(envelope("x-2", b1["push"], after=""), ), "an empty after"),
                   (dict(envelope("x-3", b1["push"]), pull="no"), "pull not a boolean")):
    st, a = post(body)
    if st != 422:
        fail("%s: expected 422, got %d %r" % (what, st, a))
print("ordered batches: ok")
PY

# the laptop still syncs; alice's other laptop gets what was pushed in order
sync_ok a
login b alice
sync_ok b
assert_eq "$(lsql b "SELECT count(*) FROM activities")" 1 "the activity stored after its customer reached another laptop"
assert_eq "$(sql "SELECT count(*) FROM activities")" 1 "the refused batch left nothing on the server"
stop_server
echo "ok: batches sent after another are stored in order; a broken chain is refused, not stalled"

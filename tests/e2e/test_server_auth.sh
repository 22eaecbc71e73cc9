#!/usr/bin/env bash
# Logins and tokens: a wrong password, no token, a made-up token, a revoked
# device and a disabled user all get 401; revoking one laptop leaves the
# user's other laptop working; the admin commands run beside `serve`.
. "$(dirname "$0")/lib_server.sh"

init_server
start_server
login a1 alice
login a2 alice

st=$(post /v1/login '{"user":"alice","password":"wrong","device":"x"}')
assert_eq "$st" 401 "wrong password"
grep -q '"error":"unauthorized"' "$T/body" || fail "401 without the error code"
st=$(post /v1/login '{"user":"nobody","password":"x","device":"x"}')
assert_eq "$st" 401 "unknown user"
st=$(post /v1/login '{"user":"alice","device":"x"}')
assert_eq "$st" 400 "login without a password"

# The token file is private.
mode=$(stat -c %a "$T/a1.db.token")
assert_eq "$mode" 600 "token file mode"
[ "$(wc -c <"$T/a1.db.token")" -ge 43 ] || fail "token too short"
grep -q "$(cat "$T/a1.db.token")" "$T/server.db" && fail "the token is stored in clear on the server"

# One replica, one person: bob cannot log in on alice's laptop replica.
if echo bob-pw | laptop a1 login --server "$URL" --user bob --device a1 >"$T/out" 2>&1; then
	fail "bob logged in on alice's replica"
fi
grep -q "belongs to alice" "$T/out" || fail "the refusal does not say whose replica it is: $(cat "$T/out")"
[ "$(laptop a1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"])')" = alice ] ||
	fail "the refused login changed the replica's user"

sync_body='{"protocol":1,"schema":1,"cursor":"0","site":"01900000-0000-7000-8000-000000000001"}'
st=$(post /v1/sync "$sync_body")
assert_eq "$st" 401 "no token"
st=$(post /v1/sync "$sync_body" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
assert_eq "$st" 401 "made-up token"
st=$(post /v1/sync "$sync_body" "$(token_of a1)")
assert_eq "$st" 200 "a valid token"

# --- revoke laptop a1 (a lost laptop) while the server runs
"$CRM_SERVER_BIN" device list --json --db "$T/server.db" >"$T/devices.json"
dev=$(python3 -c 'import json,sys; print([d["id"] for d in json.load(open(sys.argv[1])) if d["name"]=="a1" and d["user"]=="alice"][0])' "$T/devices.json")
"$CRM_SERVER_BIN" device revoke "$dev" --db "$T/server.db" >/dev/null
st=$(post /v1/sync "$sync_body" "$(token_of a1)")
assert_eq "$st" 401 "revoked device over HTTP"
grep -q "revoked" "$T/body" || fail "the 401 does not say the device was revoked: $(cat "$T/body")"
sync_fails a1 "$T/out" "a revoked laptop" "401"
sync_ok a2
"$CRM_SERVER_BIN" device list --db "$T/server.db" | grep -q "revoked" || fail "device list does not show the revocation"

# --- a new password; the old one stops working, existing tokens stay valid
echo new-pw | "$CRM_SERVER_BIN" user passwd alice --db "$T/server.db" >/dev/null
st=$(post /v1/login '{"user":"alice","password":"alice-pw","device":"x"}')
assert_eq "$st" 401 "old password after passwd"
st=$(post /v1/login '{"user":"alice","password":"new-pw","device":"x"}')
assert_eq "$st" 200 "new password"
sync_ok a2

# --- a disabled user: logins and tokens refused
"$CRM_SERVER_BIN" user disable alice --db "$T/server.db" >/dev/null
st=$(post /v1/sync "$sync_body" "$(token_of a2)")
assert_eq "$st" 401 "disabled user's token"
st=$(post /v1/login '{"user":"alice","password":"new-pw","device":"x"}')
assert_eq "$st" 401 "disabled user's login"
"$CRM_SERVER_BIN" user list --json --db "$T/server.db" |
	python3 -c 'import json,sys; u={x["name"]:x for x in json.load(sys.stdin)}; assert u["alice"]["disabled"] and u["mgr"]["role"]=="manager"' ||
	fail "user list does not show alice disabled"

# Every request was logged with its user, device, route, status, bytes and time.
grep -Eq "alice [0-9a-f-]{36} POST /v1/sync 200 [0-9]+ [0-9]+ [0-9]+ms" "$T/server.log" ||
	fail "no complete log line for a sync"
grep -Eq " - - POST /v1/sync 401 " "$T/server.log" || fail "no log line for the refused request"

stop_server
echo "ok: 401 for bad logins, missing, made-up and revoked tokens and disabled users"

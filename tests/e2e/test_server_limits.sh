#!/usr/bin/env bash
# Hostile and broken requests each get their 4xx with a JSON error, and the
# server keeps serving: malformed JSON, invalid UTF-8, wrong types, version
# mismatches, an oversized body, a zip bomb, corrupt deflate, bad field values.
. "$(dirname "$0")/lib_server.sh"

init_server
start_server
login a alice
tok=$(token_of a)
site=$(site_of a)
schema=$(curl -s "$URL/v1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["schema"])')

alive() {
	local st
	st=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/health")
	[ "$st" = 200 ] || fail "the server stopped serving after: $1"
}

# expect STATUS CODE WHAT curl-args...: raw request with the token.
expect() {
	local want=$1 code=$2 what=$3 st
	shift 3
	# curl may fail to send the rest of a body the server refused early: only the status counts
	st=$(curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $tok" "$@" "$URL/v1/sync" || true)
	assert_eq "$st" "$want" "$what"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["error"]==sys.argv[2] and d["message"], d' \
		"$T/body" "$code" || fail "$what: not a JSON error $code: $(cat "$T/body")"
	alive "$what"
}

expect 400 malformed "malformed JSON" --data-binary '{"protocol":1,'
printf '{"protocol":1,"schema":1,"site":"\xff\xfe"}' >"$T/bad-utf8"
expect 400 malformed "invalid UTF-8" --data-binary @"$T/bad-utf8"
expect 400 malformed "protocol as a string" --data-binary "{\"protocol\":\"1\",\"schema\":$schema,\"site\":\"$site\"}"
expect 400 malformed "a JSON array, not an object" --data-binary '[1,2,3]'
expect 422 invalid "cursor as a number" --data-binary "{\"protocol\":1,\"schema\":$schema,\"site\":\"$site\",\"cursor\":5}"
expect 422 invalid "push as an object" --data-binary "{\"protocol\":1,\"schema\":$schema,\"site\":\"$site\",\"batch\":\"b\",\"push\":{}}"
expect 422 invalid "site not a UUID" --data-binary "{\"protocol\":1,\"schema\":$schema,\"site\":\"laptop\"}"
expect 422 invalid "a row without fields" --data-binary "{\"protocol\":1,\"schema\":$schema,\"site\":\"$site\",\"batch\":\"b\",\"push\":[{\"t\":\"customers\"}]}"
expect 409 version "protocol 2" --data-binary "{\"protocol\":2,\"schema\":$schema,\"site\":\"$site\"}"
expect 409 version "a newer schema" --data-binary "{\"protocol\":1,\"schema\":999,\"site\":\"$site\"}"

# An oversized body (16 MiB cap on the wire): refused before it is read whole.
python3 -c 'import sys; sys.stdout.write("{\"pad\":\"" + "x" * (17 << 20) + "\"}")' >"$T/big.json"
expect 413 toobig "a 17 MiB body" --data-binary @"$T/big.json"

# The same without a Content-Length (chunked): drained, then refused.
expect 413 toobig "a 17 MiB chunked body" -H 'Transfer-Encoding: chunked' --data-binary @"$T/big.json"

# A zip bomb: 200 MiB of zeros deflated to a few hundred KiB.
python3 - "$T/bomb" <<'PY'
import sys, zlib
c = zlib.compressobj(9)
out = [c.compress(b'{"pad":"')]
chunk = b"0" * (1 << 20)
for _ in range(200):
    out.append(c.compress(chunk))
out.append(c.compress(b'"}'))
out.append(c.flush())
open(sys.argv[1], "wb").write(b"".join(out))
PY
expect 413 toobig "a zip bomb" -H 'Content-Encoding: deflate' --data-binary @"$T/bomb"
printf 'this is not deflate' >"$T/corrupt"
expect 400 malformed "corrupt deflate" -H 'Content-Encoding: deflate' --data-binary @"$T/corrupt"

st=$(curl -s -o "$T/body" -w '%{http_code}' "$URL/v1/nothing-here")
assert_eq "$st" 404 "unknown route"
st=$(curl -s -o "$T/body" -w '%{http_code}' "$URL/v1/sync")
assert_eq "$st" 405 "GET on /v1/sync"

# Bad values inside a valid push: refused per field with receipts, the rest applied.
body=$(python3 - "$site" "$schema" <<'PY'
import json, sys, time
site, schema = sys.argv[1], int(sys.argv[2])
h = str(int(time.time() * 1000) << 16)
far = str((int(time.time() * 1000) + 3600 * 1000) << 16)
print(json.dumps({"protocol": 1, "schema": schema, "batch": "vals-1", "cursor": "0", "site": site,
  "push": [{"t": "customers", "id": "01900000-0000-7000-8000-00000000c010", "h": h, "s": site,
            "f": [["name", "Values Ltd"], ["owner", "alice"], ["phone", "12345"],
                  ["stage", "bogus"], ["tier", 7], ["nosuch", "x"], ["city", "x" * 5000],
                  ["notes", "from the future", far, site]]},
           {"t": "nosuchtable", "id": "01900000-0000-7000-8000-00000000c011", "h": h, "s": site,
            "f": [["x", 1]]}]}))
PY
)
st=$(post /v1/sync "$body" "$tok")
assert_eq "$st" 200 "a push with some bad fields"
python3 - "$T/body" <<'PY' || fail "field refusals not as expected: $(cat "$T/body")"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["receipts"]
assert r[0]["status"] == "partial", r
bad = {f["col"]: f["code"] for f in r[0]["refused"]}
assert set(bad) == {"phone", "stage", "tier", "nosuch", "city", "notes"}, bad
assert bad["notes"] == "clock", bad
assert r[1]["status"] == "refused", r
PY
assert_eq "$(sql "SELECT name || '|' || coalesce(phone, '') || '|' || coalesce(notes, '') FROM customers")" "Values Ltd||" \
	"the good fields applied, the bad ones not"
alive "bad field values"

# Compression both ways: a deflated request is understood; the answer is
# deflated only for a client that asks for it.
python3 - "$site" "$schema" "$T/req.z" <<'PY'
import json, sys, zlib
body = json.dumps({"protocol": 1, "schema": int(sys.argv[2]), "site": sys.argv[1], "cursor": "0"})
open(sys.argv[3], "wb").write(zlib.compress(body.encode()))
PY
curl -s -D "$T/headers" -o "$T/answer.z" -H "Authorization: Bearer $tok" -H 'Content-Encoding: deflate' \
	-H 'Accept-Encoding: deflate' --data-binary @"$T/req.z" "$URL/v1/sync"
grep -qi '^content-encoding: deflate' "$T/headers" || fail "no deflated answer for Accept-Encoding: deflate"
python3 -c 'import json,sys,zlib; d=json.loads(zlib.decompress(open(sys.argv[1],"rb").read())); assert d["protocol"]==1 and d["changes"], d' \
	"$T/answer.z" || fail "the deflated answer does not inflate to the page"
curl -s -D "$T/headers" -o "$T/answer" -H "Authorization: Bearer $tok" -H 'Content-Encoding: deflate' \
	--data-binary @"$T/req.z" "$URL/v1/sync"
grep -qi '^content-encoding' "$T/headers" && fail "a deflated answer nobody asked for"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/answer" || fail "the plain answer is not JSON"

# After all that, a laptop still syncs.
laptop a customer add --name "Still Fine" >/dev/null
sync_ok a
assert_eq "$(sql "SELECT count(*) FROM customers")" 2 "a normal sync after the abuse"

stop_server
echo "ok: every broken request got its 4xx and the server kept serving"

#!/usr/bin/env bash
# Claims from the pool: first come, first served on the server (two reps
# claiming the same customer at once: exactly one wins, through crm and
# through a burst of raw HTTP requests), the claim limit, the lock-out of a
# previous owner, releasing, and the clear message when offline.
. "$(dirname "$0")/lib_server.sh"

export CRM_POOL_INTERVAL=0
export CRM_NOW=2026-03-02T09:00:00Z
init_server
echo carol-pw | S user add carol --role rep --team east >/dev/null
start_server
login a alice
login b bob
login c carol
for n in 深圳市华信科技有限公司 "ACME Trading" "Globex Corp" "Initech" "Umbrella Ltd" "Wayne Enterprises" \
	"Stark Industries"; do
	laptop a customer add --name "$n" --city 深圳 --industry software >/dev/null
done
sync_ok a
# Head office puts six of them in the pool (alice keeps Stark).
for n in 华信 ACME Globex Initech Umbrella Wayne; do S pool release "$n" >/dev/null; done
sync_ok a
assert_eq "$(lsql a "SELECT group_concat(name) FROM customers")" "Stark Industries" "alice kept one"
assert_eq "$(laptop b pool list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 6 \
	"six customers in the pool"
laptop b pool list >"$T/list.txt"
grep -q "customers in the pool (6)" "$T/list.txt" || fail "pool list for people: $(cat "$T/list.txt")"
grep -q "深圳市华信科技有限公司" "$T/list.txt" || fail "pool list lacks the Chinese name"
assert_eq "$(laptop b pool list --industry SOFT --limit 2 --json | python3 -c 'import json,sys; print([c["name"] for c in json.load(sys.stdin)])')" \
	"['ACME Trading', 'Globex Corp']" "industry filter (any case) and limit, by name"
assert_eq "$(laptop b pool list --city 北京 --json)" "[]" "no pool customer in 北京"
S pool list --json | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert len(p) == 6 and all(c["previous_owner"] == "alice" and c["pool_since"] for c in p), p
' || fail "crm-server pool list"

# --- bob and carol claim the same customer at the same moment, three times
for n in 华信 ACME Globex; do
	laptop b pool claim "$n" >"$T/b.out" 2>"$T/b.err" &
	pb=$!
	laptop c pool claim "$n" >"$T/c.out" 2>"$T/c.err" &
	pc=$!
	sb=0; wait $pb || sb=$?
	sc=0; wait $pc || sc=$?
	if [ "$sb" = 0 ] && [ "$sc" != 0 ]; then winner=bob w=b loser=c
	elif [ "$sc" = 0 ] && [ "$sb" != 0 ]; then winner=carol w=c loser=b
	else fail "claims of $n: bob exited $sb, carol $sc (exactly one must win)"; fi
	grep -q "claimed .*it is yours now" "$T/$w.out" || fail "winner's message: $(cat "$T/$w.out")"
	grep -Eq "not in the pool: $winner owns it|claimed by someone else first" "$T/$loser.err" ||
		fail "loser's message: $(cat "$T/$loser.err")"
	id=$(sql "SELECT id FROM customers WHERE name LIKE '%$n%'")
	assert_eq "$(sql "SELECT owner FROM customers WHERE id = '$id'")" "$winner" "$n belongs to the winner"
	assert_eq "$(sql "SELECT count(*) FROM srv_ownership WHERE customer_id = '$id' AND reason = 'claimed from the pool'")" \
		1 "one claim of $n recorded"
	# the claim synced the winner's laptop: the customer is there, and not on the loser's
	assert_eq "$(lsql $w "SELECT count(*) FROM customers WHERE id = '$id'")" 1 "$n came to $winner's laptop"
	assert_eq "$(lsql $loser "SELECT count(*) FROM customers WHERE id = '$id'")" 0 "$n is not on the loser's laptop"
done

# --- a burst of raw claims of one customer from both: exactly one 200
id=$(sql "SELECT id FROM customers WHERE name = 'Initech'")
tb=$(token_of b)
tc=$(token_of c)
pids=()
for i in 1 2 3 4 5 6; do
	tok=$tb; [ $((i % 2)) = 0 ] && tok=$tc
	curl -s -o "$T/r$i.body" -w '%{http_code}\n' -H "Authorization: Bearer $tok" \
		--data-binary "{\"customer\":\"$id\"}" "$URL/v1/pool/claim" >"$T/r$i.code" &
	pids+=($!)
done
wait "${pids[@]}" # not a bare wait: the server is a background job too
codes=$(cat "$T"/r?.code | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
ok=$(cat "$T"/r?.code | grep -c '^200$' || true)
taken=$(cat "$T"/r?.code | grep -c '^409$' || true)
owner=$(sql "SELECT owner FROM customers WHERE id = '$id'")
# a rep repeating their own successful claim is told it is already theirs (200, unchanged)
same=$(grep -l '"unchanged":true' "$T"/r?.body | wc -l)
assert_eq "$((ok - same))" 1 "exactly one claim of Initech changed its owner (codes: $codes)"
assert_eq "$((ok + taken))" 6 "every other claim was refused as taken (codes: $codes)"
assert_eq "$(sql "SELECT count(*) FROM srv_ownership WHERE customer_id = '$id' AND reason = 'claimed from the pool'")" \
	1 "one claim of Initech recorded (owner $owner)"

# --- the claim limit: with as many as the limit, a claim is refused; one under it, it goes through
have=$(sql "SELECT count(*) FROM customers WHERE owner = 'bob'")
S config set pool.claim_limit "$have" >/dev/null
st=0; laptop b pool claim Wayne >"$T/o" 2>"$T/e" || st=$?
assert_eq "$st" 1 "bob (owns $have) at the limit"
grep -q "you own $have customers, the most a rep may own is $have (pool.claim_limit)" "$T/e" ||
	fail "limit message: $(cat "$T/e")"
assert_eq "$(sql "SELECT owner IS NULL FROM customers WHERE name = 'Wayne Enterprises'")" 1 "Wayne still in the pool"
S config set pool.claim_limit "$((have + 1))" >/dev/null
laptop b pool claim Wayne >/dev/null || fail "bob could not claim under the limit"
assert_eq "$(sql "SELECT owner FROM customers WHERE name = 'Wayne Enterprises'")" bob "Wayne is bob's"
S config set pool.claim_limit 200 >/dev/null

# --- release: back to the pool, gone from the laptop, and the lock-out starts
mine=$(sql "SELECT name FROM customers WHERE owner = 'bob' ORDER BY name LIMIT 1")
laptop b release "$mine" --note "not a fit" >"$T/o" || fail "release failed"
grep -q "released .* to the pool" "$T/o" || fail "release message: $(cat "$T/o")"
assert_eq "$(sql "SELECT owner IS NULL FROM customers WHERE name = '$mine'")" 1 "released on the server"
assert_eq "$(lsql b "SELECT count(*) FROM customers WHERE name = '$mine'")" 0 "released customer left bob's laptop"
st=0; laptop b pool claim "$mine" 2>"$T/e" || st=$?
assert_eq "$st" 1 "bob may not claim back at once"
grep -q "a previous owner may claim it again only after 7 days, from 2026-03-09T09:00" "$T/e" ||
	fail "lock-out message: $(cat "$T/e")"
st=0; laptop a pool claim Umbrella 2>"$T/e" || st=$?
assert_eq "$st" 1 "alice is locked out of a customer head office took from her"
grep -q "you owned Umbrella Ltd until 2026-03-02" "$T/e" || fail "lock-out message: $(cat "$T/e")"
st=0; laptop a release "$mine" 2>"$T/e" || st=$?
assert_eq "$st" 1 "alice may not release what is not hers"
S audit customer "$mine" | grep -q "released to the pool: not a fit" || fail "audit of the release"

# --- eight days later the lock-out is over
export CRM_NOW=2026-03-10T09:00:00Z
stop_server
start_server
laptop b pool claim "$mine" >/dev/null || fail "bob cannot claim back after the lock-out"
laptop a pool claim Umbrella >/dev/null || fail "alice cannot claim back after the lock-out"
assert_eq "$(lsql a "SELECT count(*) FROM customers WHERE name = 'Umbrella Ltd'")" 1 "Umbrella is back on alice's laptop"
st=0; laptop c pool claim Stark 2>"$T/e" || st=$?
assert_eq "$st" 1 "a customer someone owns cannot be claimed"
grep -q "Stark Industries is not in the pool: alice owns it" "$T/e" || fail "owned message: $(cat "$T/e")"

# --- offline: a clear message, nothing changes
stop_server
st=0; laptop c pool claim Globex 2>"$T/e" || st=$?
assert_eq "$st" 1 "claim offline fails"
grep -q "works only online: connect to the network and retry" "$T/e" || fail "offline message: $(cat "$T/e")"
st=0; laptop c pool list 2>"$T/e" || st=$?
assert_eq "$st" 1 "pool list offline fails"
grep -q "connect to the network and retry" "$T/e" || fail "offline message: $(cat "$T/e")"
# the replica still works offline
laptop c customer list >/dev/null || fail "crm stopped working offline"
echo "ok"

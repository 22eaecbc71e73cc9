#!/usr/bin/env bash
# Two laptops of one rep edit the same customer offline. The same field:
# one winner everywhere, the losing value listed as a conflict on both laptops
# (nothing lost), and keeping it is a new edit that wins everywhere. Different
# fields: both kept, no conflict. A third laptop (the manager) converges too.
. "$(dirname "$0")/lib_server.sh"

init_server
start_server
login a1 alice
login a2 alice
login m mgr

laptop a1 customer add --name 深圳市华信科技有限公司 --phone "138 0013 8000" --city 深圳 >/dev/null
sync_ok a1
sync_ok a2
sync_ok m
assert_eq "$(field a2 华信 phone)" "+8613800138000" "a2 got the customer"

# --- different fields on the two laptops: both kept, no conflict
laptop a1 customer edit 华信 --email sales@huaxin.example >/dev/null
laptop a2 customer edit 华信 --address "深南大道 1 号" >/dev/null
sync_ok a1
sync_ok a2
sync_ok a1
for l in a1 a2; do
	assert_eq "$(field $l 华信 email)" "sales@huaxin.example" "$l keeps a1's e-mail"
	assert_eq "$(field $l 华信 address)" "深南大道 1 号" "$l keeps a2's address"
	n=$(laptop $l conflicts --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	assert_eq "$n" 0 "$l: different fields are not a conflict"
done

# --- the same field on both laptops, offline
laptop a1 customer edit 华信 --phone "139 0000 1111" >/dev/null
sleep 0.01
laptop a2 customer edit 华信 --phone "137 2222 3333" >/dev/null
sync_ok a1
sync_ok a2
sync_ok a1
sync_ok m
w1=$(field a1 华信 phone)
w2=$(field a2 华信 phone)
wm=$(field m 华信 phone)
ws=$(sql "SELECT phone FROM customers")
assert_eq "$w2" "$w1" "both laptops agree on the phone"
assert_eq "$wm" "$w1" "the manager's laptop agrees"
assert_eq "$ws" "$w1" "the server agrees"
case "$w1" in +8613900001111 | +8613722223333) ;; *) fail "winner $w1 is neither edit" ;; esac
if [ "$w1" = "+8613900001111" ]; then loser=+8613722223333; else loser=+8613900001111; fi

for l in a1 a2; do
	laptop $l conflicts --json >"$T/c.json"
	python3 - "$T/c.json" "$w1" "$loser" "$l" <<'PY' || fail "conflict on $l not as expected"
import json, sys
c = json.load(open(sys.argv[1]))
assert len(c) == 1, c
c = c[0]
assert c["field"] == "phone", c
assert c["kept"]["value"] == sys.argv[2], c
assert c["lost"]["value"] == sys.argv[3], c
assert c["record"] == "深圳市华信科技有限公司", c
# who wrote each side: this laptop, or the other one by user and device name
whos = {c["kept"]["who"], c["lost"]["who"]}
assert "me (this laptop)" in whos, whos
other = "alice (a2)" if sys.argv[4] == "a1" else "alice (a1)"
assert other in whos, whos
PY
done
# The human table names the field and both values.
laptop a1 conflicts | grep -q "$loser" || fail "crm conflicts does not show the losing value"

# --- the loser keeps their value: a new edit that wins everywhere
loser_laptop=a1
[ "$loser" = "+8613722223333" ] && loser_laptop=a2
id=$(laptop $loser_laptop conflicts --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:8])')
laptop $loser_laptop conflicts resolve "$id" --keep mine >/dev/null
sync_ok $loser_laptop
sync_ok a1
sync_ok a2
sync_ok m
for l in a1 a2 m; do
	assert_eq "$(field $l 华信 phone)" "$loser" "$l has the kept value after resolve"
done
for l in a1 a2; do
	assert_eq "$(laptop $l conflicts --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0 \
		"$l: the conflict is settled once the kept value is everywhere"
	assert_eq "$(laptop $l conflicts --all --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 1 \
		"$l: the settled conflict stays in the history"
done

stop_server
echo "ok: same field -> one winner, conflict on both laptops, resolve keeps mine; different fields merge"

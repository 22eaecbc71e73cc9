#!/usr/bin/env bash
# End-to-end: `crm customer add` warns, offline, of likely duplicates already
# in the replica (schema/match.h scoring), says which, and still adds.
set -u
: "${CRM_BIN:?CRM_BIN must point at the crm binary}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CRM_HOME="$T/home" TZ=Asia/Shanghai
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
crm() { "$CRM_BIN" "$@"; }

crm customer add --name 深圳市华信科技有限公司 --phone "138 0013 8000" --city 深圳 >/dev/null 2>"$T/e0" \
  || fail "first add"
[ -s "$T/e0" ] && fail "first add warns of nothing: $(cat "$T/e0")"
HX=$(crm --json customer show 深圳市华信科技 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# the same company typed another way: added, with a warning naming the first
out=$(crm customer add --name "华信科技（深圳）有限公司" 2>"$T/e1") || fail "second add refused"
echo "$out" | grep -q '^added customer' || fail "second add not added: $out"
grep -q "duplicate of customer 深圳市华信科技有限公司 (id $HX)" "$T/e1" || fail "no warning naming the first: $(cat "$T/e1")"
grep -q "same region" "$T/e1" || fail "warning gives no reasons: $(cat "$T/e1")"

# full-width English with legal forms changed
crm customer add --name "ACME Trading Co., Ltd." --email sales@acme.example >/dev/null 2>&1 || fail "add ACME"
crm customer add --name "Ａｃｍｅ Ｔｒａｄｉｎｇ Company Limited" --email Sales@ACME.example >/dev/null 2>"$T/e2" \
  && fail "same e-mail must be refused without --force"
crm customer add --name "Ａｃｍｅ Ｔｒａｄｉｎｇ Company Limited" --email Sales@ACME.example --force >/dev/null 2>"$T/e2" \
  || fail "add --force"
grep -q "likely a duplicate of customer ACME Trading Co., Ltd." "$T/e2" || fail "ACME not warned: $(cat "$T/e2")"

# the same trade name in another city, and a branch: no 'likely' warning
crm customer add --name 北京市华信科技有限公司 --city 北京 >/dev/null 2>"$T/e3" || fail "add 北京"
grep -q "likely" "$T/e3" && fail "another city's company called a likely duplicate: $(cat "$T/e3")"
crm customer add --name 深圳市华信科技有限公司广州分公司 >/dev/null 2>"$T/e4" || fail "add branch"
grep -q "likely" "$T/e4" && fail "a branch called a duplicate of its head office: $(cat "$T/e4")"

[ "$fails" -eq 0 ] && echo "ok" && exit 0
exit 1

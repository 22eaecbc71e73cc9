#!/usr/bin/env bash
# End-to-end: a rep's day with the real `crm` in a temporary CRM_HOME, in
# Chinese and English: add, list, show, edit, delete, contacts, visits, deals,
# orders, tasks, search, today, and --json everywhere (parsed with python3).
set -u
: "${CRM_BIN:?CRM_BIN must point at the crm binary}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CRM_HOME="$T/home" TZ=Asia/Shanghai
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
crm() { "$CRM_BIN" "$@"; }
# json EXPR: evaluates a python expression over the JSON on stdin (bound to j).
json() { python3 -c "import json,sys; j=json.load(sys.stdin); r=($1); sys.exit(0 if r else 1)"; }
jget() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

export CRM_NOW=2026-11-24T09:00:00+08:00

# --- customers -----------------------------------------------------------
out=$(crm --json customer add --name 深圳市华信科技有限公司 --phone "138 0013 8000" \
      --uscc 91350100M000100Y43 --city 深圳 --ext-ref ERP-0012) || fail "add 华信"
HX=$(echo "$out" | jget 'j["id"]')
echo "$out" | json 'j["phone"] == "+8613800138000" and j["uscc"] == "91350100M000100Y43" and j["deleted"] == 0 and j["created_at"] == "2026-11-24T01:00:00.000Z" and j["kind"] == "company" and j["owner"] is None' \
  || fail "add: normalized phone/uscc, ISO time, defaults: $out"
[ -d "$CRM_HOME" ] && [ "$(stat -c %a "$CRM_HOME")" = 700 ] || fail "CRM_HOME not created 0700"
[ -f "$CRM_HOME/replica.db" ] || fail "replica.db not created"

out=$(crm customer add --name "ACME Trading" --email Sales@ACME.example --city London) || fail "add ACME"
echo "$out" | grep -q '^added customer ACME Trading (id ' || fail "add prints what was added: $out"
crm customer add --kind person --name 王小明 --phone 13912345678 --city 上海 >/dev/null || fail "add person"
crm customer add --name 华信贸易有限公司 --phone "0755-8888 6666" >/dev/null || fail "add 华信贸易"

# list: aligned table; CJK takes two columns so the phone column lines up.
out=$(crm customer list)
l1=$(echo "$out" | grep '深圳市华信科技有限公司')
l2=$(echo "$out" | grep 'ACME Trading')
w() { python3 -c "import sys,unicodedata as u; s=sys.argv[1]; i=s.rindex(sys.argv[2]); print(sum(2 if u.east_asian_width(c) in 'WF' else 1 for c in s[:i]))" "$1" "$2"; }
[ "$(w "$l1" 深圳)" = "$(w "$l2" London)" ] || fail "city column not aligned for CJK: $out"
crm --json customer list | json 'len(j) == 4 and all("id" in c for c in j)' || fail "list --json"
crm customer list --json --limit 2 | json 'len(j) == 2' || fail "list --limit"

# show by name part, ext_ref, id prefix, full id
crm customer show ERP-0012 | grep -q '+8613800138000' || fail "show by ext_ref"
crm customer show "${HX:0:30}" | grep -q 深圳市华信科技有限公司 || fail "show by id prefix"
crm customer show 深圳 | grep -q ERP-0012 || fail "show by unique name part"
crm customer show acme | grep -q sales@acme.example || fail "show by name part, any case (e-mail domain lower-cased)"

# edit
crm customer edit ERP-0012 --city 广州 --stage customer --tier a >/dev/null || fail "edit"
out=$(crm --json customer show ERP-0012)
echo "$out" | json 'j["city"] == "广州" and j["stage"] == "customer" and j["tier"] == "A"' || fail "edit applied: $out"
CRM_NOW=2026-11-24T09:05:00+08:00 crm customer edit ERP-0012 --notes "年底有采购计划" >/dev/null
crm --json customer show ERP-0012 | json 'j["updated_at"] == "2026-11-24T01:05:00.000Z" and j["created_at"] == "2026-11-24T01:00:00.000Z"' \
  || fail "edit sets updated_at only"
crm customer edit ERP-0012 --notes "" >/dev/null
crm --json customer show ERP-0012 | json 'j["notes"] is None' || fail "empty value clears a field"

# --- children ------------------------------------------------------------
crm contact add 华信科技 --name 李娜 --title 采购经理 --phone 13900001111 --wechat lina_sz >/dev/null || fail "contact add"
crm contact add ACME --name "John Smith" --email john@acme.example >/dev/null || fail "contact add en"
crm --json contact list 华信科技 | json 'len(j) == 1 and j[0]["name"] == "李娜" and j[0]["phone"] == "+8613900001111"' || fail "contact list"

out=$(crm --json visit 华信科技 --note "介绍新产品，客户有兴趣" --outcome 有意向 --next-step 报价 \
      --at "2026-11-20 10:00" --next "2026-11-23 10:00" --satisfaction 4) || fail "visit"
echo "$out" | json 'j["kind"] == "visit" and j["occurred_at"] == "2026-11-20T02:00:00.000Z" and j["next_at"] == "2026-11-23T02:00:00.000Z" and j["satisfaction"] == 4' \
  || fail "visit fields: $out"
crm activity add ACME --kind call --note "Discussed renewal" --next tomorrow >/dev/null || fail "activity add"
crm --json activity list --customer ACME | json 'len(j) == 1 and j[0]["kind"] == "call" and j[0]["occurred_at"] == "2026-11-24T01:00:00.000Z"' \
  || fail "activity list --customer"
crm --json activity list | json 'len(j) == 2' || fail "activity list all"

out=$(crm --json deal add 华信科技 --title "2027 年度框架合同" --amount ¥120,000 --expected-close 2026-11-28) || fail "deal add"
echo "$out" | json 'j["amount"] == 12000000 and j["currency"] == "CNY" and j["stage"] == "lead"' || fail "deal money: $out"
crm --json deal add ACME --title "Pilot licence" --amount "5000 USD" --stage qualified --expected-close 2027-03-01 \
  | json 'j["amount"] == 500000 and j["currency"] == "USD"' || fail "deal USD"
crm deal list | grep -q '120,000.00 CNY' || fail "deal list shows money for people"
crm deal stage "Pilot" negotiation --probability 60 >/dev/null || fail "deal stage"
crm --json deal stage "年度框架" lost --lost-reason "价格太高" | json 'j["stage"] == "lost" and j["lost_reason"] == "价格太高" and j["probability"] == 0' \
  || fail "deal stage lost"

crm --json order add 华信科技 --amount 12,000.50 --note 首批样品 | json 'j["amount"] == 1200050' || fail "order add"
crm order list | grep -q '12,000.50 CNY' || fail "order list"

crm task add 华信科技 --title 发送报价单 --due "2026-11-23 18:00" >/dev/null || fail "task add overdue"
crm task add ACME --title "Call back John" --due "2026-11-24 17:00" >/dev/null || fail "task add today"
crm task add ACME --title "Quarterly review" --due 2026-12-20 >/dev/null || fail "task add later"

# list filters: column flags, values normalized like add
crm --json customer list --city 上海 | json 'len(j) == 1 and j[0]["name"] == "王小明"' || fail "customer list --city"
crm --json customer list --phone "139 1234 5678" | json 'len(j) == 1' || fail "customer list --phone normalized"
crm --json customer list --tier A --stage customer | json '[c["ext_ref"] for c in j] == ["ERP-0012"]' || fail "customer list two filters"
crm customer list --city 火星 | grep -q 'no customers match' || fail "no match message"
crm --json deal list --stage negotiation | json '[d["title"] for d in j] == ["Pilot licence"]' || fail "deal list --stage"
crm --json activity list --kind call | json 'len(j) == 1' || fail "activity list --kind"
crm --json task list ACME --due-at "" | json 'j == []' || fail "task list: empty value filters rows without one"

# --- today ---------------------------------------------------------------
out=$(crm --json today)
echo "$out" | json '[t["title"] for t in j["tasks"]] == ["发送报价单", "Call back John"]' || fail "today tasks, overdue first: $out"
echo "$out" | json '[a["note"] for a in j["follow_ups"]] == ["介绍新产品，客户有兴趣"]' || fail "today follow-ups: $out"
echo "$out" | json 'j["deals"] == []' || fail "lost deal not closing: $out"
crm today | grep -q overdue || fail "today marks overdue"
# A later activity for the customer settles the follow-up.
crm activity add 华信科技 --kind call --note "电话跟进报价" >/dev/null
crm --json today | json 'j["follow_ups"] == []' || fail "follow-up done by a later activity"
crm task done 发送报价单 >/dev/null || fail "task done"
crm --json today | json '[t["title"] for t in j["tasks"]] == ["Call back John"]' || fail "done task leaves today"
# Deals closing within 7 days.
crm deal add ACME --title "Support renewal" --amount 800 --expected-close 2026-11-30 >/dev/null
crm --json today | json '[d["title"] for d in j["deals"]] == ["Support renewal"]' || fail "deal closing within 7 days"

# --- search --------------------------------------------------------------
crm --json search 华信 | json 'len(j) == 2' || fail "search 2-char Chinese finds both 华信"
crm --json search 华信科技 | json 'len(j) == 1 and j[0]["name"] == "深圳市华信科技有限公司"' || fail "search 4-char Chinese"
crm --json search 00138000 | json 'len(j) == 1 and j[0]["ext_ref"] == "ERP-0012"' || fail "search phone digits"
crm --json search "138 0013 8000" | json 'len(j) == 1' || fail "search phone as typed"
crm --json search 0755-88886666 | json 'len(j) == 1 and j[0]["name"] == "华信贸易有限公司"' || fail "search landline national form"
crm --json search acme | json 'len(j) == 1 and j[0]["name"] == "ACME Trading"' || fail "search case-insensitive"
crm --json search 李娜 | json 'len(j) == 1 and j[0]["matched"].startswith("contact")' || fail "search contact name"
crm --json search 电话跟进 | json 'len(j) == 1 and j[0]["matched"].startswith("activity")' || fail "search activity note"
crm --json search renewal | json 'len(j) == 1' || fail "search English note"
crm search 华信 | grep -q 'name' || fail "search human output"
crm --json search nosuchthing | json 'j == []' || fail "search no match"

# --- delete --------------------------------------------------------------
crm customer delete 华信贸易 >/dev/null || fail "delete"
crm --json customer list | json 'len(j) == 3' || fail "deleted customer left out of list"
crm --json customer list --deleted | json 'len(j) == 4 and any(c["deleted"] == 1 for c in j)' || fail "list --deleted"
crm --json search 华信 | json 'len(j) == 1' || fail "deleted customer left out of search"
crm --json search 华信 --deleted | json 'len(j) == 2' || fail "search --deleted"

# --- help ----------------------------------------------------------------
crm --help | grep -q 'customer' || fail "crm --help lists commands"
crm customer add --help | grep -q -- '--ext-ref' || fail "customer add --help lists column flags"
crm activity add --help | grep -q -- '--next-step' || fail "activity add --help"
crm --version | grep -q '^crm ' || fail "--version"

[ "$fails" = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "ok"

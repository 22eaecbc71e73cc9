#!/usr/bin/env bash
# End-to-end: every bad input gives one clear line on stderr, the right exit
# status (2 usage, 1 otherwise), and leaves the replica exactly as it was
# (the whole database dumped before and after, sync outbox and search index included).
set -u
: "${CRM_BIN:?CRM_BIN must point at the crm binary}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CRM_HOME="$T/home" TZ=Asia/Shanghai CRM_NOW=2026-11-24T09:00:00+08:00
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
crm() { "$CRM_BIN" "$@"; }

# The whole database: business tables, the sync outbox (clock table) and the
# search index; sqlite3 reads the WAL too. Left out: sync_state's clock and
# sequence high-water marks, which sync keeps monotonic even across a rollback.
snapshot() {
  sqlite3 "$CRM_HOME/replica.db" .dump | grep -v "^INSERT INTO sync_state VALUES('sync\.\(hlc\|seq\)'" \
    || echo "dump failed"
}

# expect STATUS PATTERN -- ARGS...: runs crm ARGS, checks status, that stderr is
# one line matching PATTERN and starting "crm: ", and that nothing changed.
expect() {
  local want=$1 pat=$2
  shift 3
  local before after status err
  before=$(snapshot)
  crm "$@" >"$T/out" 2>"$T/err"
  status=$?
  err=$(cat "$T/err")
  after=$(snapshot)
  [ "$status" = "$want" ] || fail "crm $*: exit $status, want $want (stderr: $err)"
  echo "$err" | grep -q -- "$pat" || fail "crm $*: stderr does not say '$pat': $err"
  [ "$(echo "$err" | wc -l)" = 1 ] || fail "crm $*: more than one error line: $err"
  case "$err" in "crm: "*) ;; *) fail "crm $*: error does not start with 'crm: ': $err" ;; esac
  [ "$before" = "$after" ] || fail "crm $*: the replica changed"
}

crm customer add --name 深圳市华信科技有限公司 --phone "138 0013 8000" --email info@huaxin.example \
  --ext-ref ERP-0012 >/dev/null || fail setup
crm customer add --name 华信贸易有限公司 --city 东莞 >/dev/null || fail setup
crm customer add --name "ACME Trading" --uscc 91350100M000100Y43 >/dev/null || fail setup
crm deal add ACME --title "Pilot" >/dev/null || fail setup
crm task add ACME --title "Call back" >/dev/null || fail setup

# usage errors: exit 2
expect 2 'unknown command "frobnicate"' -- frobnicate
expect 2 'unknown option --colour' -- customer add --name X --colour red
expect 2 'unknown option --wat' -- --wat customer list
expect 2 'unknown subcommand "purge"' -- customer purge
expect 2 '--name is required' -- customer add --city 深圳
expect 2 '--phone needs a value' -- customer add --name X --phone
expect 2 'owner is kept by the server' -- customer add --name X --owner bob
expect 2 'id is kept by the program' -- customer add --name X --id 0190c3e2-0000-7000-8000-000000000000
expect 2 'which customer' -- visit --note hello
expect 2 'which customer' -- customer show
expect 2 'nothing to change' -- customer edit ACME
expect 2 '--limit "many"' -- customer list --limit many
expect 2 'unknown table "widgets"' -- export widgets
expect 2 '--format "xml"' -- export customers --format xml
expect 2 'give the deal and the new stage' -- deal stage Pilot

# invalid values: exit 1, the field and the value named
expect 1 'phone "12345": not a phone number' -- customer add --name X --phone 12345
expect 1 'email' -- customer add --name X --email not-an-email
expect 1 'uscc' -- customer add --name X --uscc 91350100M000100Y44
expect 1 'stage "hot": not one of' -- customer add --name X --stage hot
expect 1 'satisfaction' -- visit ACME --satisfaction 9
expect 1 'amount' -- deal add ACME --title T --amount 12.345
expect 1 'stage "closed"' -- deal stage Pilot closed
expect 1 'not valid UTF-8' -- customer add --name "$(printf 'bad\xff')"
expect 1 'not valid UTF-8' -- customer add "--name=$(printf '\xc3\x28')"
expect 1 'not valid UTF-8' -- search "$(printf '\xff\xfe')"

# references
expect 1 '"华信" matches 2 customers: .*华信.*(0.*, .*华信.*(0.*use the id' -- customer show 华信
expect 1 '"华信" matches 2 customers' -- visit 华信 --note x
expect 1 'no customer matches "nobody"' -- customer edit nobody --city x
expect 1 'no customer matches' -- contact add nobody --name x

# duplicates: refused, naming the other customer and what to do
expect 1 'phone +8613800138000 already belongs to customer 深圳市华信科技有限公司 (id .*--force' -- \
  customer add --name 华信深圳分部 --phone 13800138000
expect 1 'email info@huaxin.example already belongs to customer 深圳市华信科技有限公司' -- \
  customer add --name Other --email INFO@huaxin.example
expect 1 'uscc 91350100M000100Y43 already belongs to customer ACME Trading' -- \
  customer add --name Other --uscc 91350100m000100y43
expect 1 'already belongs to customer 深圳市华信科技有限公司' -- customer edit 华信贸易 --phone +8613800138000
# ... and --force adds it anyway.
crm customer add --name 华信深圳分部 --phone 13800138000 --force >/dev/null || fail "--force adds a duplicate"

# deleted customers take no new rows
crm customer delete 华信深圳分部 >/dev/null || fail "delete"
id=$(crm --json customer list --deleted | python3 -c 'import json,sys; print([c["id"] for c in json.load(sys.stdin) if c["deleted"]][0])')
expect 1 'is deleted' -- visit "$id" --note x

# a database newer than this crm is refused, untouched
python3 - "$T/new.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = 999"); c.commit()
PY
crm --db "$T/new.db" customer list >/dev/null 2>"$T/err" && fail "newer database accepted"
grep -q 'newer than' "$T/err" || fail "newer database message: $(cat "$T/err")"

[ "$fails" = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "ok"

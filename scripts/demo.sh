#!/usr/bin/env bash
# `make demo`: the product in one minute. A crm-server on a free loopback
# port with a fresh database, a manager and two reps; alice has two laptops,
# bob one. They work offline, alice changes the same customer's phone on both
# laptops, everyone syncs, and we look at the conflict and at what each laptop
# sees. Then the server is stopped cleanly and the temp dir removed.
set -euo pipefail
BUILD=${1:-build}
CRM=$(cd "$BUILD" && pwd)/crm
SERVER=$(cd "$BUILD" && pwd)/crm-server
for b in "$CRM" "$SERVER"; do
	[ -x "$b" ] || { echo "demo: $b is missing: run make first" >&2; exit 1; }
done

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/crm-demo.XXXXXX")
SERVER_PID=""
cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$DEMO"
}
trap cleanup EXIT
export CRM_HOME="$DEMO/home"

bold=$'\e[1m'
dim=$'\e[2m'
off=$'\e[0m'
if [ ! -t 1 ]; then bold="" dim="" off=""; fi
heading() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$off"; }
# run LAPTOP ARGS...: shows the command as a person would type it, then runs it.
run() {
	local who=$1 shown="" a
	shift
	for a in "$@"; do
		case "$a" in
		*[[:space:]\'\"\$]* | "") shown="$shown \"$a\"" ;;
		*) shown="$shown $a" ;;
		esac
	done
	printf '%s[%s]$ crm%s%s\n' "$dim" "$who" "$shown" "$off"
	"$CRM" --db "$DEMO/$who.db" "$@"
}
quiet() {
	local who=$1
	shift
	"$CRM" --db "$DEMO/$who.db" "$@" >/dev/null
}

heading "1. Head office starts a server with a fresh database"
"$SERVER" init --db "$DEMO/server.db"
echo "wang-pw" | "$SERVER" user add 王经理 --role manager --team 华南 --db "$DEMO/server.db"
echo "alice-pw" | "$SERVER" user add alice --role rep --team 华南 --db "$DEMO/server.db"
echo "bob-pw" | "$SERVER" user add bob --role rep --team 华南 --db "$DEMO/server.db"
"$SERVER" user list --db "$DEMO/server.db"
"$SERVER" serve --db "$DEMO/server.db" --listen 127.0.0.1:0 2>"$DEMO/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
	grep -q "listening on" "$DEMO/server.log" && break
	sleep 0.1
done
URL=$(sed -nE 's/.*listening on (http[^ ]+) .*/\1/p' "$DEMO/server.log" | head -n 1)
[ -n "$URL" ] || { echo "demo: the server did not start" >&2; cat "$DEMO/server.log" >&2; exit 1; }
echo "crm-server is listening on $URL"

heading "2. Each laptop logs in once (the token stays valid until revoked)"
echo "alice-pw" | run alice-laptop login --server "$URL" --user alice --device alice-laptop
echo "alice-pw" | run alice-desktop login --server "$URL" --user alice --device alice-desktop
echo "bob-pw" | run bob-laptop login --server "$URL" --user bob --device bob-laptop
echo "wang-pw" | run manager login --server "$URL" --user 王经理 --device manager

heading "3. Offline: alice adds customers and logs visits on her laptop"
run alice-laptop customer add --name 深圳市华信科技有限公司 --phone "138 0013 8000" --city 深圳 --industry 电子
run alice-laptop customer add --name "ACME Trading Ltd" --email sales@acme.example --city London
run alice-laptop visit 华信 --note "介绍新产品，客户有兴趣" --next +7d
run alice-laptop visit ACME --note "Met the buyer, wants a quote"
heading "   ... and bob on his"
run bob-laptop customer add --name 北京云图信息技术有限公司 --phone 010-65529988 --city 北京
run bob-laptop visit 云图 --note "技术交流，安排演示"

heading "4. Everyone syncs (push and pull in one round trip)"
run alice-laptop sync
run alice-desktop sync
run bob-laptop sync
run manager sync

heading "5. Offline again: alice changes 华信's phone on BOTH of her computers"
run alice-laptop customer edit 华信 --phone "139 1111 2222"
sleep 0.01
run alice-desktop customer edit 华信 --phone "137 3333 4444" --notes "新的采购负责人"

heading "6. Both sync: the server keeps one winner, the other value is not lost"
run alice-laptop sync
run alice-desktop sync
run alice-laptop sync
quiet manager sync

heading "7. The conflict, as each of alice's computers lists it"
run alice-laptop conflicts
run alice-desktop conflicts

heading "8. What each laptop sees"
run alice-laptop customer show 华信
run alice-desktop customer list
printf '%s(bob sees only his own customers)%s\n' "$dim" "$off"
run bob-laptop customer list
printf '%s(the manager sees the whole team)%s\n' "$dim" "$off"
run manager customer list

heading "9. alice keeps the value she typed on the laptop, and syncs"
loser_id=$("$CRM" --db "$DEMO/alice-laptop.db" conflicts --json | python3 -c '
import json, sys
c = json.load(sys.stdin)
print(c[0]["id"][:8] if c else "")')
if [ -n "$loser_id" ]; then
	run alice-laptop conflicts resolve "$loser_id" --keep mine
	run alice-laptop sync
	run alice-desktop sync
	run alice-desktop customer show 华信
fi
run alice-laptop status

heading "10. Head office: devices, and a clean shutdown"
"$SERVER" device list --db "$DEMO/server.db"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=""
echo "server log (one line per request):"
tail -n 4 "$DEMO/server.log"
echo
echo "demo done: temp dir $DEMO removed"

# Shared by tests/e2e/test_sync_*.sh and test_server_*.sh (sourced, not run):
# a fresh crm-server on a free loopback port in a temp dir, always stopped by
# a trap (git's t/lib-httpd.sh habit), laptops as separate replicas, asserts.
set -euo pipefail
: "${CRM_BIN:?CRM_BIN must name the crm binary}"
: "${CRM_SERVER_BIN:?CRM_SERVER_BIN must name the crm-server binary}"

T=$(mktemp -d "${TMPDIR:-/tmp}/crm-e2e.XXXXXX")
: >"$T/server.log"
SERVER_PID=""
PORT=""
URL=""
SCHEME=http
export CRM_HOME="$T/home"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

fail() {
	echo "FAIL: $*" >&2
	if [ -f "$T/server.log" ]; then
		echo "--- last lines of the server log" >&2
		tail -n 30 "$T/server.log" >&2
	fi
	exit 1
}

# Stops the server with SIGTERM and insists on a clean exit (status 0: no
# leak report from LeakSanitizer, requests in flight finished).
stop_server() {
	if [ -n "$SERVER_PID" ]; then
		local pid=$SERVER_PID st=0
		SERVER_PID=""
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" || st=$?
		[ "$st" = 0 ] || fail "crm-server exited with status $st on SIGTERM"
		grep -q "crm-server: stopped" "$T/server.log" || fail "no clean stop in the server log"
	fi
}

kill_server() {
	if [ -n "$SERVER_PID" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
	fi
}

cleanup() {
	local st=$?
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$T"
	exit $st
}
trap cleanup EXIT

# S ARGS...: crm-server ARGS on this test's database (admin commands).
S() { "$CRM_SERVER_BIN" "$@" --db "$T/server.db"; }

# init_server: a new database with users mgr (manager), alice and bob (reps), admin.
init_server() {
	"$CRM_SERVER_BIN" init --db "$T/server.db" >/dev/null
	echo mgr-pw | "$CRM_SERVER_BIN" user add mgr --role manager --team east --db "$T/server.db" >/dev/null
	echo alice-pw | "$CRM_SERVER_BIN" user add alice --role rep --team east --db "$T/server.db" >/dev/null
	echo bob-pw | "$CRM_SERVER_BIN" user add bob --role rep --team west --db "$T/server.db" >/dev/null
	echo admin-pw | "$CRM_SERVER_BIN" user add admin --role admin --db "$T/server.db" >/dev/null
}

# start_server [--listen HOST:PORT] [serve options...]: waits until it listens.
start_server() {
	local listen="127.0.0.1:${PORT:-0}" lines
	lines=$(wc -l <"$T/server.log" 2>/dev/null || echo 0)
	"$CRM_SERVER_BIN" serve --db "$T/server.db" --listen "$listen" "$@" 2>>"$T/server.log" &
	SERVER_PID=$!
	for _ in $(seq 1 100); do
		if tail -n +"$((lines + 1))" "$T/server.log" | grep -q "listening on"; then
			break
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || fail "crm-server did not start"
		sleep 0.1
	done
	PORT=$(tail -n +"$((lines + 1))" "$T/server.log" | grep "listening on" | tail -n 1 |
		sed -E 's/.*:([0-9]+) \(site.*/\1/')
	[ -n "$PORT" ] || fail "crm-server did not say where it listens"
	URL="$SCHEME://127.0.0.1:$PORT"
}

# laptop NAME ARGS...: crm on the replica of laptop NAME.
laptop() {
	local name=$1
	shift
	"$CRM_BIN" --db "$T/$name.db" "$@"
}

# login LAPTOP USER [crm login options]: the password is USER-pw.
login() {
	local name=$1 user=$2
	shift 2
	echo "$user-pw" | laptop "$name" login --server "$URL" --user "$user" --device "$name" "$@" >/dev/null
}

# sync_fails LAPTOP OUTFILE WHAT PATTERN: crm sync on LAPTOP must fail (WHAT names the
# case) and say PATTERN; its output stays in OUTFILE. Test hooks go before it as
# environment: CRM_TEST_DROP_RESPONSE=2 sync_fails ...
sync_fails() {
	if laptop "$1" sync >"$2" 2>&1; then
		fail "$3: crm sync should have failed"
	fi
	grep -q "$4" "$2" || fail "$3: the failure does not say \"$4\": $(cat "$2")"
}

sync_ok() {
	laptop "$1" sync >"$T/last-sync.out" 2>&1 || { cat "$T/last-sync.out" >&2; fail "crm sync on $1 failed"; }
}

# field LAPTOP REF COL: one field of a customer as crm shows it in JSON.
field() {
	laptop "$1" customer show "$2" --json | python3 -c "import json,sys; v=json.load(sys.stdin).get('$3'); print('' if v is None else v)"
}

assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected [$2], got [$1]"
}

# sql QUERY: read the server database (WAL: fine beside the running server).
sql() {
	python3 - "$T/server.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PY
}

# post PATH JSON [TOKEN]: raw HTTP; prints the status code, body in $T/body.
post() {
	local auth=()
	[ -n "${3:-}" ] && auth=(-H "Authorization: Bearer $3")
	curl -s -o "$T/body" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
		--data-binary "$2" "$URL$1"
}

token_of() {
	cat "$T/$1.db.token"
}

site_of() {
	laptop "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["site"])'
}

# lsql LAPTOP QUERY: read a laptop's replica directly.
lsql() {
	python3 - "$T/$1.db" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PY
}

#!/usr/bin/env bash
# bench_sync_ab: the crm half of bench_sync_vs_pouchdb.sh, replayed from its
# kept snapshot with any build, to compare builds (A/B) on identical data.
#
# usage: bench/bench_sync_ab.sh WORKDIR BUILD [push|pull|both]
#   WORKDIR  a directory left by `bench/bench_sync_vs_pouchdb.sh --only crm --keep`
#            (uses WORKDIR/crm.snap: the server before the push and laptop 1 after
#            its offline import; and WORKDIR/crm/server.db: the server after the push)
#   BUILD    a build directory holding crm and crm-server (Release, no sanitizers)
# Prints the CPU seconds (user + system) of crm and of crm-server for the phase,
# and the wall time. Copies the databases first; the snapshot is never changed.
set -euo pipefail

W=${1:?usage: bench_sync_ab.sh WORKDIR BUILD [push|pull|both]}
B=${2:?usage: bench_sync_ab.sh WORKDIR BUILD [push|pull|both]}
WHAT=${3:-both}
[ -d "$W/crm.snap" ] && [ -f "$W/crm/server.db" ] || { echo "bench_sync_ab: $W is not a kept bench_sync_vs_pouchdb work directory" >&2; exit 2; }
[ -x "$B/crm" ] && [ -x "$B/crm-server" ] || { echo "bench_sync_ab: no crm / crm-server in $B" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-sync-ab.XXXXXX")
SP=""
cleanup() { [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
TICKS=$(getconf CLK_TCK)
cpu_ms() { awk -v t="$TICKS" '{ print int(($14 + $15) * 1000 / t) }' "/proc/$1/stat"; }

# phase NAME LAPTOP: serves $T/NAME/server.db, runs `crm sync` on $T/NAME/LAPTOP.
phase() {
	local name=$1 laptop=$2 port s0 s1 t0 t1
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$B/crm-server" serve --db "$T/$name/server.db" --listen "127.0.0.1:$port" 2>"$T/$name/serve.log" &
	SP=$!
	for _ in $(seq 1 100); do
		grep -q "listening on" "$T/$name/serve.log" && break
		sleep 0.1
	done
	sqlite3 "$T/$name/$laptop/replica.db" "UPDATE sync_state SET value = 'http://127.0.0.1:$port' WHERE key = 'server'"
	s0=$(cpu_ms "$SP")
	t0=$(date +%s%N)
	CRM_HOME="$T/$name/$laptop" /usr/bin/time -f "%U %S" -o "$T/$name/time" "$B/crm" sync >"$T/$name/sync.log" 2>&1 ||
		{ echo "bench_sync_ab: crm sync ($name) failed: $(tail -2 "$T/$name/sync.log")" >&2; exit 1; }
	t1=$(date +%s%N)
	s1=$(cpu_ms "$SP")
	kill "$SP"
	wait "$SP" 2>/dev/null || true
	SP=""
	awk -v name="$name" -v srv="$((s1 - s0))" -v wall="$(((t1 - t0) / 1000000))" \
		'{ c = ($1 + $2) * 1000; printf "%s: crm %.2f s CPU + crm-server %.2f s CPU = %.2f s; wall %.2f s\n", name, c / 1000, srv / 1000, (c + srv) / 1000, wall / 1000 }' \
		"$T/$name/time"
	tail -n 1 "$T/$name/sync.log"
}

if [ "$WHAT" = push ] || [ "$WHAT" = both ]; then
	mkdir -p "$T/push"
	cp -a "$W/crm.snap/server.db"* "$T/push/"
	cp -a "$W/crm.snap/laptop1" "$T/push/laptop1"
	phase push laptop1
fi
if [ "$WHAT" = pull ] || [ "$WHAT" = both ]; then
	mkdir -p "$T/pull"
	cp -a "$W/crm/server.db"* "$T/pull/"
	cp -a "$W/crm.snap/laptop2" "$T/pull/laptop2"
	phase pull laptop2
fi

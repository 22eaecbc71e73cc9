#!/usr/bin/env bash
# bench_sync_vs_pouchdb: crm sync against PouchDB 9 + express-pouchdb, side by side.
#
# One command, both sides, the same documents (bench/gen_sync_data.py, seeded):
#   crm      a fresh crm-server (Release build) on loopback with a rep user;
#            laptop 1 logs in and imports the customers and activities offline
#            (timed separately, not part of the sync figures); `crm sync` pushes
#            them all (TIMED: push); a fresh laptop 2 logs in as the same user
#            and `crm sync` pulls them all (TIMED: pull).
#   PouchDB  an express-pouchdb server (bench/pouchdb/server.js) on loopback; a
#            local PouchDB in Node filled with the same documents (not timed)
#            replicates to it (TIMED: push); a fresh local PouchDB replicates
#            from it (TIMED: pull).
# Each side runs twice from the same starting state: once connected directly
# (the times in the table), once through bench/tcp_count_proxy.py, which
# counts every byte of every TCP connection each way (the bytes in the table;
# the proxied times are printed too). Both sides get identical treatment.
#
# usage: bench/bench_sync_vs_pouchdb.sh [--customers N] [--activities N] [--seed S]
#            [--adapter leveldb|memory] [--pouch-batch-size N] [--only crm|pouchdb] [--keep]
#   BUILD=DIR   the Release build directory to use (default build-pouch-rel)
#   --adapter   the express-pouchdb server's storage: leveldb (default; on disk, like
#               crm-server's SQLite file) or memory. The local PouchDBs are always
#               leveldb (on disk, like crm's replica files).
#   --pouch-batch-size  PouchDB replication batch_size (default: PouchDB's own, 100)
#   --keep      keep the work directory (databases, logs) and print its path
# Needs: cmake + the project's Debian packages, python3, node and npm (Debian:
# apt-get install nodejs npm). Installs bench/pouchdb/node_modules with `npm ci`
# from the npm registry when it is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-pouch-rel}
NCUST=20000
NACT=50000
SEED=20261124
ADAPTER=leveldb
ONLY=""
KEEP=0
PBATCH=()
while [ $# -gt 0 ]; do
	case "$1" in
	--customers) NCUST=$2; shift 2 ;;
	--activities) NACT=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--adapter) ADAPTER=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--pouch-batch-size) PBATCH=(--batch-size "$2"); shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
	*) echo "bench_sync_vs_pouchdb: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
case "$ADAPTER" in leveldb|memory) ;; *) echo "bench_sync_vs_pouchdb: --adapter leveldb|memory" >&2; exit 2 ;; esac
case "$ONLY" in ""|crm|pouchdb) ;; *) echo "bench_sync_vs_pouchdb: --only crm|pouchdb" >&2; exit 2 ;; esac

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench_sync_vs_pouchdb: %s\n' "$*" >&2; exit 1; }
now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }
TICKS=$(getconf CLK_TCK)
# CPU time (user + system) a process has used so far, in ms, from /proc.
proc_cpu_ms() { awk -v t="$TICKS" '{ print int(($14 + $15) * 1000 / t) }' "/proc/$1/stat"; }
# Runs a command, leaving its user + system CPU ms in $CPU_MS (bash's `times` of children).
run_cpu() {
	local before after st
	child_cpu_ms >"$WORK/cpu0.txt"
	"$@"
	st=$?
	child_cpu_ms >"$WORK/cpu1.txt"
	before=$(cat "$WORK/cpu0.txt")
	after=$(cat "$WORK/cpu1.txt")
	CPU_MS=$((after - before))
	return $st
}
child_cpu_ms() {
	# the second line of `times`: children's user and system time, like 0m1.234s 0m0.056s
	# (`times` must run in this shell, not in a pipe's subshell, to see its children)
	times >"$WORK/times.txt"
	sed -n 2p "$WORK/times.txt" | awk '{ n = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); n += a[1] * 60000 + a[2] * 1000 } print int(n) }'
}

for tool in python3 node npm curl; do
	command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install -y python3 nodejs npm curl)"
done
[ "$ONLY" = pouchdb ] || command -v sqlite3 >/dev/null || die "sqlite3 not found (bash scripts/deps.sh)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-sync-pouch.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "$KEEP" = 1 ]; then
		echo "work directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# Starts a background process, remembering its pid in $BGPID (and for cleanup).
bg() {
	local log=$1; shift
	"$@" >"$log" 2>&1 &
	BGPID=$!
	PIDS+=("$BGPID")
}
stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_http() { # port, pid, log
	local i
	for i in $(seq 1 200); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" && return 0
		kill -0 "$2" 2>/dev/null || die "server on port $1 exited: $(tail -5 "$3")"
		sleep 0.05
	done
	die "server on port $1 did not answer"
}
# Proxy on $1 relaying to $2, stats in $3; sets PROXY_PID.
start_proxy() {
	rm -f "$3" "$3.ready"
	bg "$3.log" python3 "$ROOT/bench/tcp_count_proxy.py" "$1" "$2" "$3"
	PROXY_PID=$BGPID
	local i
	for i in $(seq 1 100); do
		[ -f "$3.ready" ] && return 0
		sleep 0.05
	done
	die "proxy did not start: $(cat "$3.log")"
}
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# Appends the proxy's counts since the last call to its stats file; prints that line.
proxy_mark() { # pid, stats file
	local n
	n=$(lines "$2")
	sleep 0.2
	kill -USR1 "$1"
	for _ in $(seq 1 100); do
		[ "$(lines "$2")" -gt "$n" ] && break
		sleep 0.02
	done
	tail -1 "$2"
}
# Sums crm-server's per-request log lines FROM+1..TO (route, bytes in/out, ms).
srvlog_sum() { # file, from, to
	sed -n "$(($2 + 1)),$3p" "$1" | python3 -c '
import sys, collections
n = bi = bo = ms = 0
for line in sys.stdin:
    f = line.split()
    if len(f) >= 9 and f[3] == "POST" and f[4].startswith("/v1/sync") and f[8].endswith("ms"):
        n += 1; bi += int(f[6]); bo += int(f[7]); ms += int(f[8][:-2])
print("%d requests to /v1/sync, request bodies %s bytes, response bodies %s bytes, %d ms in the server"
      % (n, format(bi, ","), format(bo, ","), ms))'
}
jget() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# ---------------------------------------------------------------- data
say "generating $NCUST customers and $NACT activities (seed $SEED)"
python3 "$ROOT/bench/gen_sync_data.py" --seed "$SEED" --customers "$NCUST" --activities "$NACT" \
	--owner rep1 "$WORK/data" 2>/dev/null
NDOCS=$((NCUST + NACT))

URLPORT=$(free_port)   # the port both sides' clients are told about
SRVPORT=$(free_port)   # where the server listens when the proxy sits in between

declare -A R   # results: R[side.key]

# ---------------------------------------------------------------- crm side
crm_side() {
	local CRM="$BUILD/crm" SRV="$BUILD/crm-server"
	say "building crm and crm-server (Release) in $BUILD"
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$WORK/cmake.log" 2>&1 ||
		{ CRM_FAIL="cmake configure failed: $(tail -3 "$WORK/cmake.log")"; return 1; }
	R[crm.commit]=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
	cmake --build "$BUILD" -j2 --target crm crm-server >>"$WORK/cmake.log" 2>&1 ||
		{ CRM_FAIL="build failed: $(grep -m3 -E 'error|Error' "$WORK/cmake.log")"; return 1; }
	[ -x "$CRM" ] || CRM=$(find "$BUILD" -name crm -type f -perm -u+x | head -1)
	[ -x "$SRV" ] || SRV=$(find "$BUILD" -name crm-server -type f -perm -u+x | head -1)
	[ -x "$CRM" ] && [ -x "$SRV" ] || { CRM_FAIL="crm or crm-server binary not found in $BUILD"; return 1; }

	local C="$WORK/crm" PW="bench-password-1"
	mkdir -p "$C/laptop1" "$C/laptop2"
	"$SRV" init --db "$C/server.db" >"$C/init.log" 2>&1 || { CRM_FAIL="crm-server init: $(tail -2 "$C/init.log")"; return 1; }
	printf '%s\n' "$PW" | "$SRV" user add rep1 --role rep --db "$C/server.db" >>"$C/init.log" 2>&1 ||
		{ CRM_FAIL="crm-server user add: $(tail -2 "$C/init.log")"; return 1; }
	bg "$C/serve-setup.log" "$SRV" serve --db "$C/server.db" --listen "127.0.0.1:$URLPORT"
	local spid=$BGPID
	wait_http "$URLPORT" "$spid" "$C/serve-setup.log"
	local l
	for l in laptop1 laptop2; do
		printf '%s\n' "$PW" | CRM_HOME="$C/$l" "$CRM" login --server "http://127.0.0.1:$URLPORT" --user rep1 \
			>"$C/$l-login.log" 2>&1 || { CRM_FAIL="crm login: $(tail -2 "$C/$l-login.log")"; stop "$spid"; return 1; }
	done
	stop "$spid"
	say "crm: laptop 1 imports the data offline"
	local t0
	t0=$(now_ns)
	CRM_HOME="$C/laptop1" "$CRM" import customers "$WORK/data/customers.csv" >"$C/import.log" 2>&1 ||
		{ CRM_FAIL="crm import customers: $(tail -3 "$C/import.log")"; return 1; }
	CRM_HOME="$C/laptop1" "$CRM" import activities "$WORK/data/activities.csv" >>"$C/import.log" 2>&1 ||
		{ CRM_FAIL="crm import activities: $(tail -3 "$C/import.log")"; return 1; }
	R[crm.import_ms]=$(ms_since "$t0")
	local n1
	n1=$(sqlite3 "$C/laptop1/replica.db" "SELECT (SELECT count(*) FROM customers)+(SELECT count(*) FROM activities)")
	[ "$n1" = "$NDOCS" ] || { CRM_FAIL="laptop 1 holds $n1 rows after import, expected $NDOCS"; return 1; }
	# Everything below starts from this state twice: direct, then through the proxy.
	cp -a "$C" "$WORK/crm.snap"

	local mode
	for mode in direct proxied; do
		rm -rf "$C" && cp -a "$WORK/crm.snap" "$C"
		local lport=$URLPORT ppid=""
		if [ "$mode" = proxied ]; then
			lport=$SRVPORT
			start_proxy "$URLPORT" "$SRVPORT" "$C/proxy.stats"
			ppid=$PROXY_PID
		fi
		bg "$C/serve-$mode.log" "$SRV" serve --db "$C/server.db" --listen "127.0.0.1:$lport"
		spid=$BGPID
		wait_http "$URLPORT" "$spid" "$C/serve-$mode.log"
		[ -n "$ppid" ] && proxy_mark "$ppid" "$C/proxy.stats" >/dev/null
		say "crm ($mode): laptop 1 pushes"
		local l0 l1 l2
		l0=$(lines "$C/serve-$mode.log")
		local sc0 sc1
		sc0=$(proc_cpu_ms "$spid")
		t0=$(now_ns)
		CRM_HOME="$C/laptop1" run_cpu "$CRM" sync >"$C/push-$mode.log" 2>&1 ||
			{ CRM_FAIL="crm sync (push, $mode): $(tail -3 "$C/push-$mode.log")"; stop "$spid"; return 1; }
		R[crm.push_ms.$mode]=$(ms_since "$t0")
		sc1=$(proc_cpu_ms "$spid")
		R[crm.push_cpu.$mode]=$((CPU_MS + sc1 - sc0))
		[ -n "$ppid" ] && R[crm.push_bytes]=$(proxy_mark "$ppid" "$C/proxy.stats")
		l1=$(lines "$C/serve-$mode.log")
		say "crm ($mode): laptop 2 pulls"
		sc0=$(proc_cpu_ms "$spid")
		t0=$(now_ns)
		CRM_HOME="$C/laptop2" run_cpu "$CRM" sync >"$C/pull-$mode.log" 2>&1 ||
			{ CRM_FAIL="crm sync (pull, $mode): $(tail -3 "$C/pull-$mode.log")"; stop "$spid"; return 1; }
		R[crm.pull_ms.$mode]=$(ms_since "$t0")
		sc1=$(proc_cpu_ms "$spid")
		R[crm.pull_cpu.$mode]=$((CPU_MS + sc1 - sc0))
		[ -n "$ppid" ] && R[crm.pull_bytes]=$(proxy_mark "$ppid" "$C/proxy.stats")
		stop "$spid"
		[ -n "$ppid" ] && stop "$ppid"
		l2=$(lines "$C/serve-$mode.log")
		R[crm.push_log.$mode]=$(srvlog_sum "$C/serve-$mode.log" "$l0" "$l1")
		R[crm.pull_log.$mode]=$(srvlog_sum "$C/serve-$mode.log" "$l1" "$l2")
		local n2 ns
		n2=$(sqlite3 "$C/laptop2/replica.db" "SELECT (SELECT count(*) FROM customers)+(SELECT count(*) FROM activities)")
		ns=$(sqlite3 "$C/server.db" "SELECT (SELECT count(*) FROM customers)+(SELECT count(*) FROM activities)")
		[ "$ns" = "$NDOCS" ] || { CRM_FAIL="server holds $ns rows after the push ($mode), expected $NDOCS"; return 1; }
		[ "$n2" = "$NDOCS" ] || { CRM_FAIL="laptop 2 holds $n2 rows after the pull ($mode), expected $NDOCS"; return 1; }
		# The pulled replica must hold the same data as the pushing one.
		local q="SELECT id,name,uscc,phone,email,address,city,notes,owner FROM customers ORDER BY id"
		local qa="SELECT id,customer_id,kind,occurred_at,note,outcome,next_at,satisfaction,latitude FROM activities ORDER BY id"
		if [ "$(sqlite3 "$C/laptop1/replica.db" "$q;$qa" | md5sum)" != "$(sqlite3 "$C/laptop2/replica.db" "$q;$qa" | md5sum)" ]; then
			CRM_FAIL="laptop 2's customers/activities differ from laptop 1's after the pull ($mode)"
			return 1
		fi
		cp "$C/serve-$mode.log" "$WORK/crm-serve-$mode.log"
	done
	return 0
}

# ---------------------------------------------------------------- PouchDB side
pouch_side() {
	local PD="$ROOT/bench/pouchdb" P="$WORK/pouch"
	if [ ! -d "$PD/node_modules" ]; then
		say "installing bench/pouchdb/node_modules (npm ci)"
		(cd "$PD" && npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1) ||
			{ POUCH_FAIL="npm ci failed: $(tail -3 "$WORK/npm.log")"; return 1; }
	fi
	mkdir -p "$P"
	say "PouchDB: laptop 1 loads the documents locally"
	local out
	out=$(node "$PD/bench.js" load --dir "$P/laptop1" --docs "$WORK/data/docs.ndjson") ||
		{ POUCH_FAIL="bench.js load failed"; return 1; }
	R[pouch.import_ms]=$(jget "$out" ms)
	cp -a "$P/laptop1" "$WORK/pouch-laptop1.snap"
	local mode
	for mode in direct proxied; do
		rm -rf "$P/laptop1" "$P/laptop2" "$P/server-$mode"
		cp -a "$WORK/pouch-laptop1.snap" "$P/laptop1"
		local lport=$URLPORT ppid=""
		if [ "$mode" = proxied ]; then
			lport=$SRVPORT
			start_proxy "$URLPORT" "$SRVPORT" "$P/proxy.stats"
			ppid=$PROXY_PID
		fi
		bg "$P/server-$mode.log" node "$PD/server.js" --port "$lport" --dir "$P/server-$mode" --adapter "$ADAPTER"
		local spid=$BGPID
		wait_http "$URLPORT" "$spid" "$P/server-$mode.log"
		[ -n "$ppid" ] && proxy_mark "$ppid" "$P/proxy.stats" >/dev/null
		say "PouchDB ($mode): laptop 1 replicates to the server"
		local sc0 sc1
		sc0=$(proc_cpu_ms "$spid")
		out=$(node "$PD/bench.js" push --dir "$P/laptop1" --url "http://127.0.0.1:$URLPORT/crm" "${PBATCH[@]}") ||
			{ POUCH_FAIL="push ($mode) failed"; stop "$spid"; return 1; }
		R[pouch.push_ms.$mode]=$(jget "$out" ms)
		sc1=$(proc_cpu_ms "$spid")
		R[pouch.push_cpu.$mode]=$(python3 -c 'import sys; print(int(float(sys.argv[1]) + int(sys.argv[2])))' "$(jget "$out" cpu_ms)" $((sc1 - sc0)))
		[ "$(jget "$out" docs_written)" = "$NDOCS" ] || { POUCH_FAIL="push wrote $(jget "$out" docs_written) docs"; return 1; }
		[ -n "$ppid" ] && R[pouch.push_bytes]=$(proxy_mark "$ppid" "$P/proxy.stats")
		say "PouchDB ($mode): fresh laptop 2 replicates from the server"
		sc0=$(proc_cpu_ms "$spid")
		out=$(node "$PD/bench.js" pull --dir "$P/laptop2" --url "http://127.0.0.1:$URLPORT/crm" --expect "$NDOCS" "${PBATCH[@]}") ||
			{ POUCH_FAIL="pull ($mode) failed"; stop "$spid"; return 1; }
		R[pouch.pull_ms.$mode]=$(jget "$out" ms)
		sc1=$(proc_cpu_ms "$spid")
		R[pouch.pull_cpu.$mode]=$(python3 -c 'import sys; print(int(float(sys.argv[1]) + int(sys.argv[2])))' "$(jget "$out" cpu_ms)" $((sc1 - sc0)))
		[ -n "$ppid" ] && R[pouch.pull_bytes]=$(proxy_mark "$ppid" "$P/proxy.stats")
		stop "$spid"
		[ -n "$ppid" ] && stop "$ppid"
	done
	return 0
}

CRM_FAIL=""
POUCH_FAIL=""
if [ "$ONLY" != crm ]; then pouch_side || true; fi
if [ "$ONLY" != pouchdb ]; then crm_side || true; fi

# ---------------------------------------------------------------- report
export RESULTS
RESULTS=$(for k in "${!R[@]}"; do printf '%s\t%s\n' "$k" "${R[$k]}"; done)
PBS=${PBATCH[1]:-100 (default)}
export CRM_FAIL POUCH_FAIL NCUST NACT SEED ADAPTER ONLY PBS
python3 - <<'EOF'
import json, os
r = {}
for line in os.environ["RESULTS"].splitlines():
    if line:
        k, v = line.split("\t", 1)
        r[k] = v
def num(k):
    return float(r[k]) if k in r else None
def b(side, phase, way):
    k = "%s.%s_bytes" % (side, phase)
    if k not in r:
        return None
    d = json.loads(r[k])
    return d["up"] + d["down"] if way == "total" else d[way]
print("sync benchmark: %s customers + %s activities (seed %s); express-pouchdb storage %s, "
      "PouchDB batch_size %s"
      % (os.environ["NCUST"], os.environ["NACT"], os.environ["SEED"], os.environ["ADAPTER"], os.environ["PBS"]))
if "crm.commit" in r:
    print("crm built from %s (git describe --always --dirty)" % r["crm.commit"])
print("%-34s %14s %14s %12s" % ("", "crm", "PouchDB 9", "PouchDB/crm"))
rows = []
for phase in ("push", "pull"):
    rows.append(("%s time, s" % phase, num("crm.%s_ms.direct" % phase), num("pouch.%s_ms.direct" % phase), 1000.0))
    rows.append(("%s CPU client+server, s" % phase, num("crm.%s_cpu.direct" % phase),
                 num("pouch.%s_cpu.direct" % phase), 1000.0))
    for way, label in (("up", "client->server"), ("down", "server->client"), ("total", "total")):
        rows.append(("%s bytes %s" % (phase, label), b("crm", phase, way), b("pouch", phase, way), None))
    rows.append(("%s time via proxy, s" % phase, num("crm.%s_ms.proxied" % phase),
                 num("pouch.%s_ms.proxied" % phase), 1000.0))
rows.append(("local load/import (not timed), s", num("crm.import_ms"), num("pouch.import_ms"), 1000.0))
def fmt(v, scale):
    if v is None:
        return "-"
    if scale:
        return "%.2f" % (v / scale)
    return "{:,}".format(int(v))
for label, c, p, scale in rows:
    ratio = "%.1fx" % (p / c) if c and p else "-"
    print("%-34s %14s %14s %12s" % (label, fmt(c, scale), fmt(p, scale), ratio))
for phase in ("push", "pull"):
    k = "crm.%s_log.direct" % phase
    if k in r:
        print("crm-server log, %s (direct): %s" % (phase, r[k]))
if os.environ["CRM_FAIL"]:
    print("crm side could not be run: " + os.environ["CRM_FAIL"])
if os.environ["POUCH_FAIL"]:
    print("PouchDB side could not be run: " + os.environ["POUCH_FAIL"])
EOF
[ -z "$CRM_FAIL" ] && [ -z "$POUCH_FAIL" ]

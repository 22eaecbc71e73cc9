#!/usr/bin/env bash
# bench_search_after_pull: the cost the lazy search index moves to the first search.
# usage: bench/bench_search_after_pull.sh WORKDIR BUILD
#   WORKDIR, BUILD as for bench_sync_ab.sh. Pulls laptop2 from the kept server database, then times
# the first and second `crm search`.
set -euo pipefail
W=$1; B=$2
T=$(mktemp -d /tmp/cs-sap.XXXXXX)
SP=""
cleanup() { if [ -n "$SP" ]; then kill "$SP" 2>/dev/null; wait "$SP" 2>/dev/null; fi; rm -rf "$T"; }
trap cleanup EXIT
cp -a "$W/crm/server.db"* "$T/"
cp -a "$W/crm.snap/laptop2" "$T/laptop2"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$B/crm-server" serve --db "$T/server.db" --listen "127.0.0.1:$port" 2>"$T/serve.log" &
SP=$!
for _ in $(seq 1 100); do grep -q "listening on" "$T/serve.log" && break; sleep 0.1; done
sqlite3 "$T/laptop2/replica.db" "UPDATE sync_state SET value = 'http://127.0.0.1:$port' WHERE key = 'server'"
CRM_HOME="$T/laptop2" /usr/bin/time -f "sync: %e s wall, %U user %S sys" "$B/crm" sync 2>&1 | tail -n 2
echo "search_rebuild after sync: $(sqlite3 "$T/laptop2/replica.db" "SELECT value FROM sync_state WHERE key='search_rebuild'")"
CRM_HOME="$T/laptop2" /usr/bin/time -f "first search: %e s wall, %U user %S sys" "$B/crm" search zzzznotthere 2>&1 | tail -n 3
CRM_HOME="$T/laptop2" /usr/bin/time -f "second search: %e s wall, %U user %S sys" "$B/crm" search zzzznotthere 2>&1 | tail -n 2

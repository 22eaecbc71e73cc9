#!/usr/bin/env bash
# One laptop deletes a customer while the other edits it offline. Deletion is
# a replicated field (a tombstone), so both changes survive: every replica
# ends with the same deleted customer carrying the edit, nothing lost. Child
# rows added offline under the deleted customer stay too.
. "$(dirname "$0")/lib_server.sh"

init_server
start_server
login a1 alice
login a2 alice

laptop a1 customer add --name "ACME Trading" --phone "+44 20 7946 0000" --city London >/dev/null
sync_ok a1
sync_ok a2

laptop a1 customer delete ACME >/dev/null
laptop a2 customer edit ACME --notes "asked for a quote" >/dev/null
laptop a2 visit ACME --note "met the buyer" >/dev/null
sync_ok a1
sync_ok a2
sync_ok a1

for l in a1 a2; do
	laptop $l customer list --json >"$T/list.json"
	n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/list.json")
	assert_eq "$n" 0 "$l: the deleted customer is not listed"
	assert_eq "$(lsql $l "SELECT deleted || '|' || notes FROM customers")" "1|asked for a quote" \
		"$l: a tombstone that kept the offline edit"
	assert_eq "$(lsql $l "SELECT count(*) FROM activities")" 1 "$l: the visit logged offline is kept"
done
assert_eq "$(sql "SELECT deleted || '|' || notes FROM customers")" "1|asked for a quote" "server state"
assert_eq "$(sql "SELECT count(*) FROM activities")" 1 "one visit on the server"

stop_server
echo "ok: delete vs edit keeps both (tombstone with the edit), on every replica"

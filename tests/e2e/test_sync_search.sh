#!/usr/bin/env bash
# crm search stays exactly right after a sync. A fresh laptop's first pull of
# a large page suspends the search triggers and leaves the index to be rebuilt
# by the first command that reads it (client/search.c, search_index_ensure);
# this checks the result: the sync ends with the index still suspended; edits,
# additions, deletions and an eviction made after the pull and before the first
# search are all reflected by that search, which rebuilds once (and says so);
# pulled customers and visit notes are found, an edited name is found by its
# new name only, a deleted customer is not; a second search does not rebuild;
# and after the rebuild the triggers are back, so later pulled edits and an
# eviction show up in search too.
. "$(dirname "$0")/lib_server.sh"

# search LAPTOP QUERY: how many customers `crm search` lists
search() {
	laptop "$1" --json search "$2" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

export CRM_POOL_INTERVAL=0
init_server
echo carol-pw | S user add carol --role rep --team east >/dev/null
start_server
login a alice

# 1,200 customers: the first page of a fresh laptop's pull is large (20,000 fields)
{
	echo "name,phone,email,city,ext_ref,notes"
	for i in $(seq 1 1200); do
		printf 'Filler %04d,,,Springfield,F-%04d,\n' "$i" "$i"
	done
} >"$T/c.csv"
laptop a import customers "$T/c.csv" >/dev/null
laptop a customer add --name "Zebra Unique Ltd" --city Lisbon >/dev/null
laptop a visit Zebra --note "kiwi flavoured proposal" >/dev/null
laptop a customer add --name "Doomed Ltd" >/dev/null
laptop a customer add --name "Moving Ltd" >/dev/null
sync_ok a
laptop a customer edit "Filler 0005" --name "Oyster Renamed" >/dev/null
laptop a customer delete Doomed >/dev/null
sync_ok a

# --- laptop b pulls everything from scratch
login b alice
sync_ok b
assert_eq "$(lsql b "SELECT value FROM sync_state WHERE key = 'search_rebuild'")" 1 \
	"the first pull took the bulk path and left the index for later"
assert_eq "$(lsql b "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'search_*'")" 0 \
	"the search triggers stay suspended after the sync"
assert_eq "$(lsql b "SELECT count(*) FROM customers")" 1203 "every customer pulled"

# --- writes between the pull and the first search: local, and a later sync
laptop b customer add --name "Quokka Local Ltd" --city Perth >/dev/null
laptop b visit Quokka --note "mango samples" >/dev/null
laptop b customer edit "Filler 0009" --name "Narwhal Edited" >/dev/null
laptop b customer delete "Filler 0011" >/dev/null
laptop a customer add --name "Pelican Later Ltd" >/dev/null
laptop a customer edit "Filler 0013" --name "Heron Renamed" >/dev/null
sync_ok a
S pool assign Moving carol --note "to carol" >/dev/null
sync_ok b
assert_eq "$(lsql b "SELECT value FROM sync_state WHERE key = 'search_rebuild'")" 1 \
	"a later sync leaves the index for later too"
assert_eq "$(lsql b "SELECT count(*) FROM customers WHERE name = 'Moving Ltd'")" 0 "Moving Ltd evicted"

# --- the first search builds the index, once
out=$(laptop b search Quokka 2>"$T/search.err")
grep -q "Quokka Local Ltd" <<<"$out" || fail "a customer added after the pull is found: $out"
grep -q "building the search index for 1206 records" "$T/search.err" ||
	fail "the first search says it builds the index: $(cat "$T/search.err")"
assert_eq "$(lsql b "SELECT value FROM sync_state WHERE key = 'search_rebuild'")" 0 "the index was built"
assert_eq "$(lsql b "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'search_*'")" 9 \
	"the search triggers are back"
laptop b search F-0999 >/dev/null 2>"$T/search2.err"
assert_eq "$(wc -c <"$T/search2.err")" 0 "a second search does not rebuild"
assert_eq "$(search b F-0999)" 1 "a pulled customer found by its ext_ref"
assert_eq "$(search b "Filler 12")" 1 "and by name (Filler 1200)"
assert_eq "$(search b "Zebra Unique")" 1 "a pulled customer found by name"
assert_eq "$(search b kiwi)" 1 "a pulled visit note finds its customer"
assert_eq "$(search b mango)" 1 "a visit note written after the pull finds its customer"
assert_eq "$(search b Oyster)" 1 "an edited name found by the new name"
assert_eq "$(search b "Filler 0005")" 0 "not by the old name"
assert_eq "$(search b Narwhal)" 1 "a local edit made after the pull is found"
assert_eq "$(search b "Filler 0009")" 0 "not by its old name"
assert_eq "$(search b "Filler 0011")" 0 "a customer deleted after the pull is not found"
assert_eq "$(search b Pelican)" 1 "a customer pulled by a later sync is found"
assert_eq "$(search b Heron)" 1 "an edit pulled by a later sync is found"
assert_eq "$(search b "Filler 0013")" 0 "not by its old name"
assert_eq "$(search b Doomed)" 0 "a deleted customer is not found"
assert_eq "$(search b Moving)" 0 "an evicted customer is not found"
assert_eq "$(lsql b "SELECT count(*) FROM search_docs WHERE customer_id NOT IN (SELECT id FROM customers)")" 0 \
	"no search document outlives its customer"
assert_eq "$(lsql b "SELECT value FROM sync_state WHERE key = 'search_rebuild'")" 0 "still built"

# --- later pulls go through the triggers again
laptop a customer edit "Filler 0007" --name "Walrus Works" >/dev/null
laptop a visit Walrus --note "durian tasting" >/dev/null
laptop a customer add --name "Gannet Ltd" >/dev/null
sync_ok a
S pool assign Gannet carol --note "to carol" >/dev/null
sync_ok b
assert_eq "$(search b Walrus)" 1 "a later edit pulled is found"
assert_eq "$(search b "Filler 0007")" 0 "its old name is gone"
assert_eq "$(search b durian)" 1 "a later visit note is found"
assert_eq "$(lsql b "SELECT count(*) FROM customers WHERE name = 'Gannet Ltd'")" 0 "Gannet Ltd evicted"
assert_eq "$(search b Gannet)" 0 "an evicted customer is not found"
assert_eq "$(lsql b "SELECT count(*) FROM search_docs WHERE customer_id NOT IN (SELECT id FROM customers)")" 0 \
	"no search document outlives its customer"

stop_server
echo "ok: search is right after a bulk first pull and after later pulls"

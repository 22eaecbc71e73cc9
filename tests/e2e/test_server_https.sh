#!/usr/bin/env bash
# HTTPS with a certificate made here by a private CA: crm verifies the server
# (no --cacert: refused), logs in and syncs with --cacert, and the CA it was
# given is remembered for later syncs.
. "$(dirname "$0")/lib_server.sh"

command -v openssl >/dev/null || fail "openssl is needed (scripts/deps.sh installs it)"
cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=crm test CA" \
	-keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
	-extfile ext.cnf -out server.pem 2>/dev/null
cd - >/dev/null

init_server
SCHEME=https
start_server --tls-cert "$T/server.pem" --tls-key "$T/server.key"
grep -q "listening on https://" "$T/server.log" || fail "the server does not say it serves HTTPS"

# Without the CA the server is not trusted.
if echo alice-pw | laptop a login --server "$URL" --user alice --device a >"$T/out" 2>&1; then
	fail "login over HTTPS succeeded without trusting the CA"
fi
grep -qi "cacert" "$T/out" || fail "the refusal does not point at --cacert: $(cat "$T/out")"

# Plain HTTP to the HTTPS port gets nowhere.
if curl -s -m 5 "http://127.0.0.1:$PORT/v1/health" | grep -q '"status"'; then
	fail "the HTTPS port answered plain HTTP"
fi

login a alice --cacert "$T/ca.pem"
login b alice --cacert "$T/ca.pem"
laptop a customer add --name "TLS Trading" --phone "+44 20 7946 0001" >/dev/null
sync_ok a
sync_ok b
assert_eq "$(lsql b "SELECT name FROM customers")" "TLS Trading" "synced over HTTPS"
st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca.pem" "$URL/v1/health")
assert_eq "$st" 200 "curl with the CA"

stop_server
echo "ok: HTTPS verified against a private CA with --cacert"

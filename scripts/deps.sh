#!/usr/bin/env bash
# Installs the Debian packages the project builds and tests with.
# As root it runs apt-get; otherwise it prints the exact command and fails,
# so `make demo` / `make test` stop with something a person can act on.
set -eu
PKGS="cmake make gcc pkg-config libsqlite3-dev sqlite3 libcurl4-openssl-dev zlib1g-dev
libcjson-dev libmicrohttpd-dev libsodium-dev libutf8proc-dev libcsv-dev libcmocka-dev
curl openssl python3 libmimalloc-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "deps: missing Debian packages. Install them with:" >&2
  echo "  sudo apt-get install -y$missing" >&2
  exit 1
fi

#!/usr/bin/env bash
# Creates what mutual TLS between `pagefl server` and its sites needs, with openssl:
#   ca.pem, ca.key          the federation's certificate authority (keep ca.key offline)
#   server.pem, server.key  the server's certificate, valid for SERVER_HOST
#   <site>.pem, <site>.key  one client certificate per site; its common name is the site's name,
#                           which must appear in the server's deploy.clients
# Usage: scripts/make-certs.sh OUT_DIR SERVER_HOST SITE [SITE...]
#   e.g. scripts/make-certs.sh certs localhost site-a site-b site-c
# SERVER_HOST is the name or IP address clients dial (--server SERVER_HOST:PORT).
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 OUT_DIR SERVER_HOST SITE [SITE...]" >&2
  exit 2
fi
out=$1 host=$2
shift 2
mkdir -p "$out"
cd "$out"

days=825
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }

if [ ! -f ca.pem ]; then
  new_key ca.key
  openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=pagefl federation CA" -out ca.pem
fi

# issue NAME EXTENSIONS: a key and a certificate for NAME, signed by the CA.
issue() {
  local name=$1 extensions=$2
  new_key "$name.key"
  openssl req -new -key "$name.key" -subj "/CN=$name" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days "$days" \
    -extfile <(printf '%s\n' "$extensions") -out "$name.pem" 2>/dev/null
  rm -f "$name.csr"
  chmod 600 "$name.key"
}

if [[ $host =~ ^[0-9.]+$ ]]; then san="IP:$host"; else san="DNS:$host"; fi
issue server "subjectAltName=$san,DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"

for site in "$@"; do
  if [[ ! $site =~ ^[A-Za-z0-9._-]+$ ]]; then
    echo "site name '$site' may hold only letters, digits, '.', '_' and '-'" >&2
    exit 2
  fi
  [ "$site" != server ] && [ "$site" != ca ] || { echo "'$site' is reserved" >&2; exit 2; }
  issue "$site" "extendedKeyUsage=clientAuth"
done
echo "certificates in $out: ca.pem, server.pem/.key, and $(printf '%s.pem/.key ' "$@")"

#!/usr/bin/env bash
# Generates the TLS fixtures used by the transport tests into test/fixtures/certs/.
# The generated PEM files are committed; CI does not run this script. Re-run it only to rotate them.
#
#   ca.pem / ca-key.pem                 test CA (100 years)
#   server.pem / server-key.pem         signed by the CA; SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   wrong-host.pem / wrong-host-key.pem signed by the CA; SAN DNS:example.invalid only
#   self-signed.pem / self-signed-key.pem  self-signed; SAN DNS:localhost, IP:127.0.0.1
#   client.pem / client-key.pem         signed by the CA, extendedKeyUsage clientAuth (mTLS)
#   client.p12                          client.pem + client-key.pem as PKCS#12, passphrase "effect-http1"
#   crl-empty.pem                       CRL of the CA revoking nothing (valid 2000-2100)
#   crl-server-revoked.pem              CRL of the CA revoking server.pem (valid 2000-2100)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../test/fixtures/certs}"
mkdir -p "$out"
cd "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

days=36500

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# CA
key ca-key.pem
cat > "$tmp/ca.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = effect-http1 test CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
openssl req -x509 -new -key ca-key.pem -days "$days" -sha256 -config "$tmp/ca.cnf" -out ca.pem

# leaf <name> <CN> <subjectAltName> <extendedKeyUsage>
leaf() {
  local name="$1" cn="$2" san="$3" eku="$4"
  key "$name-key.pem"
  cat > "$tmp/$name.ext" <<CNF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = $eku
subjectAltName = $san
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
CNF
  openssl req -new -key "$name-key.pem" -subj "/CN=$cn" -out "$tmp/$name.csr"
  openssl x509 -req -in "$tmp/$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
    -CAserial "$tmp/ca.srl" -days "$days" -sha256 -extfile "$tmp/$name.ext" -out "$name.pem" 2>/dev/null
}

leaf server localhost "DNS:localhost, IP:127.0.0.1, IP:::1" serverAuth
leaf wrong-host example.invalid "DNS:example.invalid" serverAuth
leaf client effect-http1-test-client "DNS:client.invalid" clientAuth

# Self-signed
key self-signed-key.pem
cat > "$tmp/self.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3
[dn]
CN = localhost
[v3]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
CNF
openssl req -x509 -new -key self-signed-key.pem -days "$days" -sha256 -config "$tmp/self.cnf" -out self-signed.pem

# The client certificate as PKCS#12 (for the `pfx` option).
openssl pkcs12 -export -in client.pem -inkey client-key.pem -passout pass:effect-http1 -out client.p12
chmod 644 client.p12

# CRLs of the CA (for the `crl` option), backdated so that a machine clock behind ours accepts them.
cat > "$tmp/crl.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $tmp/index.txt
crlnumber = $tmp/crlnumber
default_md = sha256
CNF
: > "$tmp/index.txt"
echo 01 > "$tmp/crlnumber"
crl() {
  openssl ca -config "$tmp/crl.cnf" -gencrl -crl_lastupdate 20000101000000Z -crl_nextupdate 21000101000000Z \
    -keyfile ca-key.pem -cert ca.pem -out "$1" 2>/dev/null
}
crl crl-empty.pem
openssl ca -config "$tmp/crl.cnf" -revoke server.pem -keyfile ca-key.pem -cert ca.pem 2>/dev/null
crl crl-server-revoked.pem

echo "certificates written to $out"

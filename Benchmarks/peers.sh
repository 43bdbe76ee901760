#!/usr/bin/env bash
# iotca beside its peers in one run, on this machine: the batch beside a Python `cryptography`
# loop, a CRL of 1,000,000 entries beside `openssl ca -gencrl`, `iotca serve` beside `cfssl
# serve` (behind the same mutual TLS, without and with its certificate database), OCSP beside
# `openssl ocsp`, and callgrind's instructions per operation. Each benchmark prints its own table
# (kept in the log folder); the summary table at the end puts the ratios beside the goals.
#   Benchmarks/peers.sh [LOG-FOLDER]
# BIN=folder holding iotca, iotca-bench and iotca-instructions (default: this tree's release
# build); BATCH_N=10000 CRL_N=1000000 SERVE_N=6000 OCSP_N=20000; INSTRUCTIONS=0 skips callgrind.
# The batch, service and OCSP stores go to /dev/shm (tmpfs), the CRL's to TMPDIR (default /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
logs="${1:-$(mktemp -d)}"
mkdir -p "$logs"
batch_n="${BATCH_N:-10000}" crl_n="${CRL_N:-1000000}" serve_n="${SERVE_N:-6000}" ocsp_n="${OCSP_N:-20000}"
if [ -n "${BIN:-}" ]; then
  bin="$BIN"
else
  for product in iotca iotca-bench iotca-instructions; do swift build -c release --product "$product" >/dev/null; done
  bin="$(swift build -c release --show-bin-path)"
fi
for tool in cfssl python3 openssl; do
  command -v "$tool" >/dev/null || { echo "peers.sh: $tool is not installed (apt-get install golang-cfssl python3-cryptography openssl)" >&2; exit 1; }
done

# A markdown table's cell: column N (1-based, after the leading |) of the first row starting with
# PREFIX in FILE; "?" (and a line on stderr) when a benchmark did not print that row.
cell() {
  local found
  found="$(grep -F -m1 -- "$2" "$1" | awk -F'|' -v n="$3" '{ gsub(/^ +| +$/, "", $(n + 1)); print $(n + 1) }' || true)"
  [ -n "$found" ] || { echo "peers.sh: no row \"$2\" in $1" >&2; found="?"; }
  echo "$found"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "?" }'; }

echo "== batch ($batch_n bundles, tmpfs)"
IOTCA="$bin/iotca" OPENSSL_N=0 Benchmarks/compare-batch.sh "$batch_n" /dev/shm/iotca-peers-batch | tee "$logs/batch.txt"
echo "== CRL ($crl_n entries, ${TMPDIR:-/tmp})"
"$bin/iotca-bench" crl --entries "$crl_n" --openssl | tee "$logs/crl.txt"
echo "== service ($serve_n requests, 32 connections, tmpfs)"
TMPDIR=/dev/shm "$bin/iotca-bench" serve --count "$serve_n" --connections 32 | tee "$logs/serve.txt"
echo "== OCSP ($ocsp_n requests)"
TMPDIR=/dev/shm "$bin/iotca-bench" ocsp --count "$ocsp_n" | tee "$logs/ocsp.txt"
if [ "${INSTRUCTIONS:-1}" != 0 ] && command -v valgrind >/dev/null; then
  echo "== instructions (callgrind)"
  IOTCA_INSTRUCTIONS="$bin/iotca-instructions" Benchmarks/instructions.sh 200 | tee "$logs/instructions.txt"
fi

batch=$(cell "$logs/batch.txt" "| iotca batch (all cores)" 4)
jsonl=$(cell "$logs/batch.txt" "| iotca batch --format jsonl" 4)
python=$(cell "$logs/batch.txt" "| Python cryptography loop" 4)
limit=$(cell "$logs/batch.txt" "| crypto limit" 4)
read -r crl_s crl_mb < <(awk -v n="$crl_n" '$1 == n { print $2, $3; exit }' "$logs/crl.txt") || echo "peers.sh: no CRL row in $logs/crl.txt" >&2
read -r openssl_s openssl_mb < <(awk '/openssl ca -gencrl/ { print $1, $2; exit }' "$logs/crl.txt") || echo "peers.sh: no openssl row in $logs/crl.txt" >&2
crl_s="${crl_s:-?}" crl_mb="${crl_mb:-?}" openssl_s="${openssl_s:-?}" openssl_mb="${openssl_mb:-?}"
serve=$(cell "$logs/serve.txt" "| iotca serve, CSR (mTLS, recorded) | 32" 3)
serve_cpu=$(cell "$logs/serve.txt" "| iotca serve, CSR (mTLS, recorded) | 32" 6)
cfssl=$(cell "$logs/serve.txt" "| cfssl serve, CSR (mTLS, no database) | 32" 3)
cfssl_cpu=$(cell "$logs/serve.txt" "| cfssl serve, CSR (mTLS, no database) | 32" 6)
cfssl_db=$(cell "$logs/serve.txt" "| cfssl serve, CSR (mTLS, recorded" 3)
cfssl_db_cpu=$(cell "$logs/serve.txt" "| cfssl serve, CSR (mTLS, recorded" 6)
signed=$(cell "$logs/ocsp.txt" "| iotca serve, signed per request" 2)
signed_cpu=$(cell "$logs/ocsp.txt" "| iotca serve, signed per request" 5)
cached=$(cell "$logs/ocsp.txt" "| iotca serve, cached" 2)
cached_cpu=$(cell "$logs/ocsp.txt" "| iotca serve, cached" 5)
responder=$(cell "$logs/ocsp.txt" "| openssl ocsp -index" 2)
responder_cpu=$(cell "$logs/ocsp.txt" "| openssl ocsp -index" 5)

echo
echo "iotca beside its peers, $(nproc) cores, $(date -u +%F), one run (logs: $logs):"
echo "| work | iotca | peer, same run | ratio | goal |"
echo "|---|---|---|---|---|"
echo "| $batch_n device bundles, folders | $batch/s | Python loop $python/s | $(ratio "$batch" "$python")× | ≥ 4× |"
echo "| same, \`--format jsonl\` | $jsonl/s ($(awk -v a="$jsonl" -v l="$limit" 'BEGIN { if (l + 0 > 0) printf "%.0f", 100 * a / l; else print "?" }')% of the crypto limit, $limit/s) | Python loop $python/s | $(ratio "$jsonl" "$python")× | ≥ 6×, ≥ 75% of the limit |"
echo "| CRL of $crl_n entries | $crl_s s, $crl_mb MB peak | \`openssl ca -gencrl\` $openssl_s s, $openssl_mb MB | $(ratio "$openssl_s" "$crl_s")× faster, $(ratio "$openssl_mb" "$crl_mb")× leaner | ≥ 4× faster, ≤ 250 MB |"
echo "| \`iotca serve\`, CSR issuances, 32 connections, recorded | $serve/s ($serve_cpu ms CPU each) | \`cfssl serve\`, same mutual TLS, no database: $cfssl/s ($cfssl_cpu ms) | $(ratio "$serve" "$cfssl")× | ≥ 1.0× |"
echo "| same | | \`cfssl serve\` recording in its SQLite certdb: $cfssl_db/s ($cfssl_db_cpu ms) | $(ratio "$serve" "$cfssl_db")× | - |"
echo "| OCSP, signed per request | $signed/s ($signed_cpu ms CPU each) | \`openssl ocsp -index\` $responder/s ($responder_cpu ms) | $(ratio "$signed" "$responder")× | ≥ 1.5× |"
echo "| OCSP, cached answers | $cached/s ($cached_cpu ms CPU each) | \`openssl ocsp -index\` $responder/s | $(ratio "$cached" "$responder")× | ≥ 2.5× |"

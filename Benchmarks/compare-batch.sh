#!/usr/bin/env bash
# Provision N device bundles (P-256 key, certificate, five files) three ways on this machine,
# in this run: `iotca batch`, a Python `cryptography` loop and an `openssl` CLI loop, and
# print bundles per second next to the crypto limit from `openssl speed`. Every tool's time
# includes getting its bundles to disk: iotca syncs after each chunk, the loops sync once at the end.
# The machine is shared, so iotca and the Python loop run ROUNDS times, taking turns, each into
# a fresh folder, and the table shows the median round (all rounds are printed below it).
#   Benchmarks/compare-batch.sh [N] [WORK-FOLDER]   (ROUNDS=3; OPENSSL_N=200 devices for the slow loop; IOTCA=binary)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-10000}"
work="${2:-$PWD/.build-bench}"
openssl_count="${OPENSSL_N:-200}"
rounds="${ROUNDS:-3}"

if ! python3 -c 'import cryptography' 2>/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-cryptography
fi
# IOTCA=/path/to/iotca measures another build (an A/B of two versions) instead of this tree's.
if [ -n "${IOTCA:-}" ]; then
  iotca="$IOTCA"
else
  swift build -c release --product iotca >/dev/null
  iotca="$(swift build -c release --show-bin-path)/iotca"
fi

run="$work/compare-$$"
rm -rf "$run" && mkdir -p "$run"
trap 'rm -rf "$run"' EXIT
export IOTCA_STORE="$run/store" IOTCA_PASSPHRASE=benchmark-passphrase
"$iotca" init >/dev/null
now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Each CA key has a file name of its own (keys/NAME.HEX.key.pem), recorded with the CA.
issuing_key="$("$iotca" ca show issuing --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key_file"])')"
openssl pkey -in "$IOTCA_STORE/$issuing_key" -passin env:IOTCA_PASSPHRASE -out "$run/issuing.key"
# On a VM, the first write to a never-used page of guest memory costs many times a normal one,
# and both tmpfs and the page cache grow into fresh memory round after round. Touching as much
# memory as all rounds will fill first keeps that out of the figures.
warm_mb=$((count * 32 * 2 * rounds / 1024 + 512))  # ~26 KiB of memory per bundle: 5 pages, inodes, dentries
dd if=/dev/zero of=/dev/shm/iotca-bench-warm bs=1M count="$warm_mb" status=none 2>/dev/null || true
rm -f /dev/shm/iotca-bench-warm
iotca_rounds=() jsonl_rounds=() python_rounds=()
for ((round = 1; round <= rounds; round++)); do
  { echo thing; for ((i = 0; i < count; i++)); do echo "r$round-dev-$i"; done; } > "$run/devices-$round.csv"
  start=$(now)
  "$iotca" batch "$run/devices-$round.csv" --out "$run/iotca-$round" >/dev/null
  iotca_rounds+=("$(awk -v a="$start" -v b="$(now)" 'BEGIN { print b - a }')")
  # The stream for factory databases: the same bundles as JSON lines in one synced file.
  { echo thing; for ((i = 0; i < count; i++)); do echo "r$round-line-$i"; done; } > "$run/lines-$round.csv"
  start=$(now)
  "$iotca" batch "$run/lines-$round.csv" --format jsonl --out "$run/iotca-$round.jsonl" >/dev/null
  jsonl_rounds+=("$(awk -v a="$start" -v b="$(now)" 'BEGIN { print b - a }')")
  python_rounds+=("$(python3 Benchmarks/python_loop.py "$run/issuing.key" "$IOTCA_STORE/public/issuing.crt" \
    "$IOTCA_STORE/public/root.crt" "$run/python-$round" "$count")")
done
iotca_seconds=$(median "${iotca_rounds[@]}")
jsonl_seconds=$(median "${jsonl_rounds[@]}")
python_seconds=$(median "${python_rounds[@]}")

cat > "$run/device.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
start=$(now)
for ((i = 0; i < openssl_count; i++)); do
  d="$run/openssl/dev-$i"; mkdir -p "$d"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/key.pem" -out "$d/req.csr" \
    -subj "/O=iotca/CN=dev-$i" 2>/dev/null
  openssl x509 -req -in "$d/req.csr" -CA "$IOTCA_STORE/public/issuing.crt" -CAkey "$run/issuing.key" -set_serial "0x$(openssl rand -hex 19)" \
    -days 365 -extfile "$run/device.ext" -out "$d/cert.pem" 2>/dev/null
  cp "$IOTCA_STORE/public/issuing.crt" "$d/chain.pem"; cp "$IOTCA_STORE/public/root.crt" "$d/root.pem"
  echo "{\"thing\":\"dev-$i\"}" > "$d/manifest.json"
done
sync
openssl_seconds=$(awk -v a="$start" -v b="$(now)" 'BEGIN { print b - a }')

speed=$(openssl speed -seconds 2 -multi "$(nproc)" ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ { print $(NF-1), $NF }' | tail -1)
sign_rate=${speed% *} verify_rate=${speed#* }
keygen_rate=$(python3 -c '
import time
from cryptography.hazmat.primitives.asymmetric import ec
n = 20000; s = time.perf_counter()
for _ in range(n): ec.generate_private_key(ec.SECP256R1())
print(int(n / (time.perf_counter() - s)))')
# What each bundle must cost on all cores: its key, the signature, and iotca's verification of
# its own signature before release.
limit=$(awk -v k="$keygen_rate" -v s="$sign_rate" -v v="$verify_rate" -v c="$(nproc)" 'BEGIN { printf "%.0f", 1 / (1 / (k * c) + 1 / s + 1 / v) }')

echo "Device bundles with P-256 key generation, $(nproc) cores, $(uname -m), $(date -u +%F):"
printf '| %-34s | %8s | %9s | %10s |\n' "tool" "bundles" "seconds" "bundles/s"
printf '|%s|%s|%s|%s|\n' "------------------------------------" "----------" "-----------" "------------"
printf '| %-34s | %8d | %9.2f | %10s |\n' "iotca batch (all cores)" "$count" "$iotca_seconds" "$(rate "$count" "$iotca_seconds")"
printf '| %-34s | %8d | %9.2f | %10s |\n' "iotca batch --format jsonl" "$count" "$jsonl_seconds" "$(rate "$count" "$jsonl_seconds")"
printf '| %-34s | %8d | %9.2f | %10s |\n' "Python cryptography loop" "$count" "$python_seconds" "$(rate "$count" "$python_seconds")"
printf '| %-34s | %8d | %9.2f | %10s |\n' "openssl CLI loop" "$openssl_count" "$openssl_seconds" "$(rate "$openssl_count" "$openssl_seconds")"
printf '| %-34s | %8s | %9s | %10s |\n' "crypto limit (keygen, sign, verify)" "-" "-" "$limit"
echo "(median of $rounds rounds; iotca seconds: ${iotca_rounds[*]}; Python seconds: ${python_rounds[*]}; ratio $(awk -v a="$iotca_seconds" -v b="$python_seconds" 'BEGIN { printf "%.2f", b / a }')x)"
echo "(jsonl: $(awk -v a="$jsonl_seconds" -v b="$python_seconds" 'BEGIN { printf "%.2f", b / a }')x the Python loop, $(awk -v n="$count" -v a="$jsonl_seconds" -v l="$limit" 'BEGIN { printf "%.0f", 100 * n / a / l }')% of the crypto limit; seconds: ${jsonl_rounds[*]})"
echo "(crypto limit: openssl speed ecdsap256 on all cores: $sign_rate signs/s, $verify_rate verifies/s; OpenSSL P-256 keygen/s on one core = $keygen_rate, times $(nproc) cores)"

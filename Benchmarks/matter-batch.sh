#!/usr/bin/env bash
# N Matter DACs (matter-dac, matter format: five DER files and a manifest per device) beside N
# plain device bundles (device, dir format), each by `iotca batch` on all cores into a store of
# its own, ROUNDS times taking turns, each round into a fresh folder; prints the median round.
#   Benchmarks/matter-batch.sh [N] [WORK-FOLDER]   (ROUNDS=3; IOTCA=binary)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-10000}"
work="${2:-$PWD/.build-bench}"
rounds="${ROUNDS:-3}"
if [ -n "${IOTCA:-}" ]; then
  iotca="$IOTCA"
else
  swift build -c release --product iotca >/dev/null
  iotca="$(swift build -c release --show-bin-path)/iotca"
fi
run="$work/matter-$$"
rm -rf "$run" && mkdir -p "$run"
trap 'rm -rf "$run"' EXIT
export IOTCA_PASSPHRASE=benchmark-passphrase
"$iotca" init --store "$run/devices" >/dev/null
"$iotca" init --store "$run/matter" --profile matter --vid FFF1 --pid 8000 >/dev/null
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
device_rounds=() dac_rounds=()
for ((round = 1; round <= rounds; round++)); do
  { echo thing; for ((i = 0; i < count; i++)); do echo "r$round-dev-$i"; done; } > "$run/devices-$round.csv"
  { echo thing,pid; for ((i = 0; i < count; i++)); do echo "r$round-dac-$i,8000"; done; } > "$run/dacs-$round.csv"
  start=$(now)
  "$iotca" batch "$run/devices-$round.csv" --store "$run/devices" --out "$run/device-bundles-$round" >/dev/null
  device_rounds+=("$(awk -v a="$start" -v b="$(now)" 'BEGIN { print b - a }')")
  start=$(now)
  "$iotca" batch "$run/dacs-$round.csv" --store "$run/matter" --template matter-dac --format matter --out "$run/dacs-$round" >/dev/null
  dac_rounds+=("$(awk -v a="$start" -v b="$(now)" 'BEGIN { print b - a }')")
done
device=$(median "${device_rounds[@]}")
dac=$(median "${dac_rounds[@]}")
printf '%-46s %9s %12s\n' "$count bundles, median of $rounds rounds" seconds bundles/s
printf '%-46s %9.2f %12.0f\n' "iotca batch, device (dir)" "$device" "$(awk -v n="$count" -v s="$device" 'BEGIN { print n / s }')"
printf '%-46s %9.2f %12.0f\n' "iotca batch, matter-dac (matter format)" "$dac" "$(awk -v n="$count" -v s="$dac" 'BEGIN { print n / s }')"
printf 'DACs at %.2f x the rate of device bundles\n' "$(awk -v a="$device" -v b="$dac" 'BEGIN { print a / b }')"
echo "rounds (device / DAC seconds): ${device_rounds[*]} / ${dac_rounds[*]}"

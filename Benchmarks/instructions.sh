#!/usr/bin/env bash
# Instructions per operation, counted by valgrind's callgrind: repeatable whatever else the
# machine does, so two builds compare change by change on a noisy machine.
#   Benchmarks/instructions.sh [N]   (N operations, default 200; each operation also run with
#                                     N/10 and the difference divided, so fixed costs cancel)
# IOTCA_INSTRUCTIONS=/path/to/iotca-instructions measures another build.
# Counts are of valgrind's virtual CPU (no SHA or AVX-512 extensions), not of this one.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-200}"
small=$((count / 10))
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
if [ -n "${IOTCA_INSTRUCTIONS:-}" ]; then
  binary="$IOTCA_INSTRUCTIONS"
else
  swift build -c release --product iotca-instructions >/dev/null
  binary="$(swift build -c release --show-bin-path)/iotca-instructions"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read the DWARF 5 that Swift's toolchain writes into this binary (it gives
# up); the symbol table is enough for counting.
strip --strip-debug -o "$work/iotca-instructions" "$binary"
instructions() {
  valgrind --tool=callgrind --callgrind-out-file="$work/out.$1.$2" "$work/iotca-instructions" "$1" "$2" 2>"$work/log"
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/log"
}
printf '| %-40s | %14s |\n' "operation (callgrind, $(date +%F))" "instructions"
printf '|%s|%s|\n' "------------------------------------------" "----------------"
for operation in issue csr batch standing; do
  low="$(instructions "$operation" "$small")"
  high="$(instructions "$operation" "$count")"
  unit=bundle; [ "$operation" = standing ] && unit=read
  printf '| %-40s | %14d |\n' "$operation, per $unit" "$(( (high - low) / (count - small) ))"
done

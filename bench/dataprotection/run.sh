#!/usr/bin/env bash
# Peer benchmark of the data-protection engine: custodia scan, gitleaks
# (with the equivalent PII rules in gitleaks-pii.toml) and the npm package
# redact-pii, side by side on the same generated contact-center corpus.
#
# Usage: bench/dataprotection/run.sh [SIZE_MB] [RUNS]
#   SIZE_MB  corpus size (default 8)     RUNS  runs per tool (default 3; the median is reported)
# Tools are installed outside the repository, in $BENCH_DIR (default /tmp/custodia-dpbench):
#   gitleaks v8.21.2 with `go install` into a temporary GOBIN, redact-pii 3.4.0 with npm.
# Every tool runs with one core (GOMAXPROCS=1 for the Go tools; node is single-threaded).
set -euo pipefail

SIZE_MB=${1:-8}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=${BENCH_DIR:-/tmp/custodia-dpbench}
mkdir -p "$W/bin" "$W/npm"

cd "$ROOT"
if go build -o "$W/custodia" ./cmd/custodia 2>/dev/null; then
  CUSTODIA=("$W/custodia" scan)
else
  # cmd/custodia does not build yet: dpeval scan runs the same code
  # (internal/dataprotection/cli.Scan) in-process.
  go build -o "$W/dpeval" ./internal/dataprotection/eval/dpeval
  CUSTODIA=("$W/dpeval" scan)
fi
[ -x "$W/dpeval" ] || go build -o "$W/dpeval" ./internal/dataprotection/eval/dpeval

if [ ! -x "$W/bin/gitleaks" ]; then
  (cd "$W" && GOBIN="$W/bin" GOFLAGS=-mod=mod go install github.com/zricethezav/gitleaks/v8@v8.21.2)
fi
if [ ! -d "$W/npm/node_modules/redact-pii" ]; then
  (cd "$W/npm" && npm init -y >/dev/null && npm install --no-audit --no-fund redact-pii@3.4.0 >/dev/null)
fi
cp bench/dataprotection/redact-pii.js "$W/npm/"

CORPUS="$W/corpus-${SIZE_MB}mb.txt"
[ -f "$CORPUS" ] || "$W/dpeval" gen -mb "$SIZE_MB" -out "$CORPUS"
BYTES=$(stat -c %s "$CORPUS")

# time_runs CMD... : runs CMD $RUNS times and prints the median wall-clock
# seconds and the median CPU seconds (user+sys), which stays meaningful
# when other work shares the machine.
time_runs() {
  local walls=() cpus=()
  for _ in $(seq "$RUNS"); do
    local out
    /usr/bin/time -o "$W/time.out" -f "%e %U %S" "$@" >/dev/null 2>&1 || true
    out=$(tail -1 "$W/time.out")
    walls+=("$(echo "$out" | awk '{print $1}')")
    cpus+=("$(echo "$out" | awk '{print $2 + $3}')")
  done
  local mid=$(( (RUNS + 1) / 2 ))
  echo "$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "${mid}p") $(printf '%s\n' "${cpus[@]}" | sort -g | sed -n "${mid}p")"
}

echo "corpus: $CORPUS ($BYTES bytes), $RUNS runs each, medians"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
c=$(GOMAXPROCS=1 time_runs "${CUSTODIA[@]}" "$CORPUS")
g=$(GOMAXPROCS=1 time_runs "$W/bin/gitleaks" detect --no-git --no-banner --source "$CORPUS" --config bench/dataprotection/gitleaks-pii.toml --report-path /dev/null --report-format json)
r=$(time_runs node "$W/npm/redact-pii.js" "$CORPUS")
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

cc=${c#* }
printf '\n| tool | wall s | CPU s | MB per CPU-second | custodia faster by (CPU) |\n|---|---:|---:|---:|---:|\n'
for row in "custodia scan|$c" "gitleaks v8.21.2 (PII rules)|$g" "redact-pii 3.4.0|$r"; do
  name=${row%%|*}; v=${row#*|}; wall=${v% *}; cpu=${v#* }
  printf '| %s | %.2f | %.2f | %.2f | %.1f× |\n' "$name" "$wall" "$cpu" "$(echo "$BYTES / $cpu / 1000000" | bc -l)" "$(echo "$cpu / $cc" | bc -l)"
done

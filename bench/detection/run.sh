#!/bin/sh
# Runs the detection benchmarks on one core (-cpu 1: GOMAXPROCS=1, so the
# garbage collector shares the core too and the figures are per core) and
# prints the median of N runs of each (default 5), with ns/op, the CPU
# time per event, which is the figure to trust on a shared machine.
# Run from the repository root: sh bench/detection/run.sh
set -eu
N=${N:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(go version) $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
go test ./internal/detect/difftest/ -run '^$' -bench 'BenchmarkWindows' -benchtime 3s -count "$N" -cpu 1 >"$out"
go test ./internal/detect/parse/ -run '^$' -bench . -benchtime 2s -count "$N" -cpu 1 >>"$out"
go test ./internal/detect/ -run '^$' -bench CorrelationMemory -benchtime 1x -count 1 -cpu 1 >>"$out"
go run ./bench/detection/median <"$out"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/bin/sh
# Runs the detection benchmarks and prints the median of N runs of each
# (default 5). Run from the repository root: sh bench/detection/run.sh
set -eu
N=${N:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(go version) $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
go test ./internal/detect/difftest/ -run '^$' -bench 'BenchmarkWindows' -benchtime 3s -count "$N" >"$out"
go test ./internal/detect/parse/ -run '^$' -bench . -benchtime 2s -count "$N" >>"$out"
go test ./internal/detect/ -run '^$' -bench CorrelationMemory -benchtime 1x -count 1 >>"$out"
go run ./bench/detection/median <"$out"

# Custodia — convenience targets. The two that matter:
#   make demo   runs the main job on the embedded default (SQLite in ./custodia-data)
#   make test   passes the tests exactly as CI does (bash .ci/run)
GO ?= go

.PHONY: demo test build agents vet eval bench bench-peers
demo:
	$(GO) run ./cmd/custodia serve --demo

test:
	bash .ci/run

build:
	$(GO) build -o bin/ ./cmd/...

agents:
	for t in windows/amd64 windows/arm64 darwin/arm64 darwin/amd64 linux/amd64 linux/arm64; do \
	  GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o bin/custodia-agent-$${t%/*}-$${t#*/}$$( [ $${t%/*} = windows ] && echo .exe ) ./cmd/custodia-agent || exit 1; \
	done

vet:
	gofmt -l . && $(GO) vet ./...

# The full data-protection evaluation (CI runs a sample as a normal go test).
eval:
	$(GO) run ./internal/dataprotection/eval/dpeval eval -n 5000

# Go benchmarks of every engine and the audit trail (see docs/benchmarks.md).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 5x ./internal/dataprotection
	$(GO) test -run '^$$' -bench 'BenchmarkAudit' -benchtime 3s ./internal/store
	$(GO) test -run '^$$' -bench . ./internal/audit
	$(GO) test -run '^$$' -bench . -benchtime 30x -benchmem ./internal/posture
	$(GO) build -o bin/ ./cmd/custodia-load && bin/custodia-load --runs 5 --duration 10s --concurrency 50

# Side-by-side runs with the peers (gitleaks and redact-pii; sigma-go).
bench-peers:
	bash bench/dataprotection/run.sh 8 3
	N=5 sh bench/detection/run.sh

# Custodia — convenience targets. The two that matter:
#   make demo   runs the main job on the embedded default (SQLite in ./custodia-data)
#   make test   passes the tests exactly as CI does (bash .ci/run)
GO ?= go

.PHONY: demo test build agents vet bench
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

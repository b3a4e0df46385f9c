# munit-eval: `make demo` runs the whole evaluation on the built-in synthetic
# world; `make test` installs what the tests need and runs them.
GO ?= go
BIN := bin/munit-eval

.PHONY: all setup build test test-go test-deps test-export demo bench fmt vet clean

all: build

# The onnxruntime shared library (from the npm package onnxruntime-node,
# SHA-256 pinned) into .cache/onnxruntime/; a no-op when it is there.
setup:
	@bash scripts/setup-ort.sh

build: setup
	$(GO) build -o $(BIN) ./cmd/munit-eval

# Debian packages the browser tests need (headless Chromium); a no-op when present.
test-deps:
	@bash scripts/test-deps.sh

vet:
	$(GO) vet ./...

test: setup test-deps vet
	$(GO) test ./...

demo: build
	./$(BIN) demo --out demo-out

bench: setup
	$(GO) test -run '^$$' -bench . -benchtime 2x ./...

test-export: build
	bash scripts/test-export.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin demo-out

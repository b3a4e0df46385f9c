# munit-eval: `make demo` runs the whole evaluation on the built-in synthetic
# world; `make test` installs what the tests need and runs them.
GO ?= go
BIN := bin/munit-eval

.PHONY: all setup build test test-deps test-export test-slurm gate gate-update demo screenshots bench bench-e2e bench-stargan coverage fmt vet clean

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

# go vet, and gofmt's verdict on every tracked Go file (names the files to format).
vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi

test: setup test-deps vet
	$(GO) test ./...
	$(MAKE) --no-print-directory gate

# munit-eval gates itself: the synthetic world evaluated through `run` on the
# committed ci/eval.yaml, checked against the committed ci/baseline/.
GATE := .cache/gate
gate: build
	./$(BIN) -q demo --setup-only --out $(GATE)
	./$(BIN) -q run --no-report ci/eval.yaml > /dev/null
	./$(BIN) check --baseline ci/baseline --results $(GATE)/out/results

# Accept the current results as the new baseline (after an intended change).
gate-update: build
	./$(BIN) -q demo --setup-only --out $(GATE)
	./$(BIN) -q run --no-report ci/eval.yaml > /dev/null
	rm -rf ci/baseline && mkdir -p ci/baseline && cp $(GATE)/out/results/*.json ci/baseline/

demo: build
	./$(BIN) demo --out demo-out

# Full-page screenshot of the demo's report, taken with headless Chromium
# (reports' TestScreenshot), to look at: demo-out/screenshots/report.png.
screenshots: demo test-deps
	SCREENSHOT_HTML=$(CURDIR)/demo-out/report/index.html SCREENSHOT_OUT=$(CURDIR)/demo-out/screenshots/report.png \
		$(GO) test ./reports -run '^TestScreenshot$$' -count=1 -v

bench: setup
	$(GO) test -run '^$$' -bench . -benchtime 2x ./...

# munit-eval against the official-style PyTorch pipeline on the paper's MUNIT
# configuration (random init), end to end; installs Debian's PyTorch packages.
bench-e2e: setup
	bash bench/e2e/run.sh

# The StarGAN v2 protocol against the official eval loop (about 30 minutes; needs
# $MUNIT_EVAL_REFS/stargan-v2): docs/performance.md. Not part of test or CI.
bench-stargan: setup
	bash bench/stargan/run.sh

# The coverage study of every interval (minutes): docs/coverage.md.
coverage:
	$(GO) test ./metrics -run '^TestCoverageStudy$$' -count=1 -timeout 90m -v -args -coverage.out $(CURDIR)/docs/coverage.md

test-export: build
	bash scripts/test-export.sh

# Sharded evaluation on a real Slurm: a single-node cluster on this machine
# (installs slurm-wlm and munge when missing, as root), the gate's evaluation
# as a 4-task array job plus the scoring job, results identical to the
# unsharded run's; skips, saying why, where the cluster cannot start.
test-slurm: build
	bash scripts/test-slurm.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin demo-out

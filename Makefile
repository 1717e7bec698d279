# The two commands a newcomer needs: `make demo` and `make test`.
GO       ?= go
PKGS     ?= ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE     ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
IMAGE    ?= ghcr.io/evidence-pack/evidence
DOCKER   ?= docker

.PHONY: all build test fuzz bench demo lint image clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/evidence ./cmd/evidence

## test: every test, with the race detector, plus a short run of each fuzz target.
# GORACE atexit_sleep_ms=0: the race runtime otherwise sleeps a second as each
# of the ~40 test binaries exits, for goroutines still running after main
# returns to report a race. Races during the tests are reported (and fail
# the test) when they happen.
# GORACE clear_shadow_mmap_threshold (a ThreadSanitizer flag, default 64 KiB):
# the race runtime zeroes the shadow memory of every allocation; for one
# larger than the threshold it remaps the shadow pages instead, and every
# later write to them faults a fresh page in. The tests allocate many such
# blocks (a zlib writer, ~0.7 MB, for each PDF page and font stream; buffers
# of the workbooks and spools), and on a small VM those faults were half of
# the run: `go test -race ./...` took 755 CPU-seconds, and 418 with the
# shadow of blocks up to 64 MiB zeroed in place. What is detected is the
# same: the shadow is zero either way.
# Your own GORACE settings come after these and win.
RACEOPTS := atexit_sleep_ms=0 clear_shadow_mmap_threshold=67108864
# TESTP: test binaries run at once, at least 4 (go test's default is one
# per CPU). Many packages spend much of their time waiting (on LibreOffice,
# versitygw, tmux, pdftotext, real Retry-After and rate-limit windows)
# rather than computing, and with two at a time on two CPUs the CPUs sat
# idle while they waited: make test took 342 s with two, 283 s with four.
TESTP ?= $(shell n=$$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1); [ "$$n" -gt 4 ] && echo "$$n" || echo 4)
test:
	$(GO) vet $(PKGS)
	GORACE="$(RACEOPTS) $$GORACE" $(GO) test -race -p $(TESTP) -count=1 -timeout 15m $(PKGS)
	$(MAKE) fuzz

## fuzz: each fuzz target for FUZZTIME (default 3s; longer: make fuzz FUZZTIME=1m).
FUZZTIME ?= 3s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

## bench: benchmarks with their figures (rows/s, requests, memory, and
## instructions executed, where valgrind is installed); the
## end-to-end, scale and rate-limit results go to docs/PERFORMANCE.md.
BENCHROWS ?= 500000
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x $$($(GO) list ./... | grep -v /internal/bench)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 60m ./internal/bench \
	  -rows $(BENCHROWS) -scales $(BENCHROWS),2000000 -perf-out $(CURDIR)/docs/PERFORMANCE.md

## demo: a full run against the built-in emulators of every platform, writing a pack per tenant to ./out.
demo:
	$(GO) run ./cmd/evidence demo --out ./out

## image: the container image (static binary on distroless, user 65532), where docker exists.
image:
	$(DOCKER) build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) -t $(IMAGE):$(VERSION) .

## lint: vet, gofmt, staticcheck and deadcode (pinned versions, fetched by go run).
lint:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)
	@out=$$($(GO) run golang.org/x/tools/cmd/deadcode@v0.53.0 -test $(PKGS)); test -z "$$out" || (echo "$$out"; exit 1)

clean:
	rm -rf bin out

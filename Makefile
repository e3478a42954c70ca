# Mosaic's two commands:
#   make run    run Mosaic with the embedded default (data in ./mosaic-data)
#   make test   install what the tests need, then run all checks and tests
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run build test test-env check unit fuzz bench clean

run:
	$(GO) run ./cmd/mosaic serve

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/mosaic ./cmd/mosaic
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/mosaic-load ./cmd/mosaic-load

# test is the whole suite, as CI runs it (.ci/run calls exactly this).
test: test-env check unit fuzz

test-env:
	./scripts/test-env.sh

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: run gofmt -w on the files above'; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) mod verify
	$(GO) mod tidy -diff

# The PostgreSQL store's tests run against this server (test-env starts it);
# they fail under CI, and skip elsewhere, if it cannot be reached.
unit bench: export MOSAIC_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

unit:
	$(GO) test -count=1 -timeout 30m ./...

# Short fuzz runs of every fuzz target; crashers land in testdata/fuzz.
fuzz:
	./scripts/fuzz.sh 10s

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./...

clean:
	rm -rf bin

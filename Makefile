# slipway — `make run` starts everything on embedded defaults; `make test` is what CI runs.
GO        ?= go
BIN       := bin/slipway
# Packages whose tests run under the race detector; the embedded Temporal server is left out
# because building it with -race costs minutes and it is not slipway's code.
RACE_PKGS := ./secretbox/... ./store/... ./server/... ./ociregistry/... ./workflows/... ./activities/... ./config/... ./baseimages/... ./gitcred/...

BUILDKITD := bin/buildkitd

.PHONY: run build test lint bench clean tools deps

run: build tools deps
	./$(BIN) dev

# deps installs Debian's runc (buildkitd's runtime) and busybox-static (the offline `busybox` base
# image) when missing, or says how to when not root.
deps:
	@scripts/deps.sh

build:
	$(GO) build -o $(BIN) ./cmd/slipway

# tools builds the programs slipway runs beside itself from the pinned tools module.
tools: $(BUILDKITD)

$(BUILDKITD): tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../$(BUILDKITD) github.com/moby/buildkit/cmd/buildkitd

# CI_REQUIRE_BUILDKIT makes the BuildKit adapter's tests fail, not skip, without bin/buildkitd.
test: lint tools
	CI_REQUIRE_BUILDKIT=1 $(GO) test -count=1 -race $(RACE_PKGS)
	$(GO) test -count=1 -timeout 20m ./cli/... ./worker/... ./stack/... ./localtemporal/... ./integration/...

lint:
	@out=$$(gofmt -l .); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin

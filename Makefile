# slipway — `make run` starts everything on embedded defaults; `make test` is what CI runs; `make unit`
# and `make lint` are the quick checks while working.
GO        ?= go
BIN       := bin/slipway
# Packages whose tests run under the race detector; the embedded Temporal server is left out
# because building it with -race costs minutes and it is not slipway's code.
RACE_PKGS := ./secretbox/... ./payloadcodec/... ./delivery/... ./api/... ./buildkit/... ./dataplane/... ./gitsource/... ./imagepush/... ./trivyscan/... ./store/... ./server/... ./ociregistry/... ./workflows/ ./activities/... ./config/... ./baseimages/... ./gitcred/... \
             ./scan/... ./descriptor/... ./trivydb/... ./entry/... ./webhooks/... ./projectfile/... ./sourcebuild/...
# What `make unit` tests: RACE_PKGS, the command line's tests (in-process, against fake APIs; none needs
# a tool) and worker (no tests, only compiled). It leaves out integration/, stack/, localtemporal/ and
# deploy/, which start slipway's processes, the embedded Temporal server or a Kubernetes control plane.
UNIT_PKGS := $(RACE_PKGS) ./cli/... ./worker/...

GOLANGCI_LINT := bin/golangci-lint

BUILDKITD := bin/buildkitd
TRIVY     := bin/trivy
TRIVYDB_FIXTURE := bin/trivydb-fixture
# The Kubernetes control plane of the data-plane tests (dataplane/kubernetes/kubetest);
# its etcd is Debian's etcd-server (scripts/deps.sh).
KUBE_BINS := bin/kube-apiserver bin/kube-controller-manager bin/kube-scheduler bin/kubectl
KWOK      := bin/kwok
# What only bench-e2e runs: the raw side's tools, from the tools module (their dependencies are buildkitd's).
BENCH_TOOLS := bin/buildctl bin/crane
TRIVY_VERSION   := $(shell sed -n 's|^require github.com/aquasecurity/trivy v||p; s|^	github.com/aquasecurity/trivy v||p' tools/trivy/go.mod | head -1)

.PHONY: run build test unit lint lint-rules bench bench-e2e clean tools testtools deps

run: build tools deps
	./$(BIN) dev

# deps installs Debian's runc (buildkitd's runtime) and busybox-static (the offline `busybox` base
# image) when missing, or says how to when not root, and makes sure a Docker Engine API answers
# (the data plane deploys go to), starting Debian's dockerd when none does.
deps:
	@scripts/deps.sh
	@scripts/dockerd.sh || echo "make: no Docker Engine: builds work, deploys will not" >&2

build:
	$(GO) build -o $(BIN) ./cmd/slipway

# tools builds the programs slipway runs beside itself from the pinned tools modules: buildkitd and
# Trivy (its own module: it needs GOEXPERIMENT=jsonv2 and takes ~7-9 min cold).
tools: $(BUILDKITD) $(TRIVY)

# testtools builds what only the tests run: the generator of the small vulnerability database the
# scan tests use, and the Kubernetes control plane with kwok (tools/kube; cold, kube-apiserver takes
# ~6 min, the others ~2 min each), so `make run` does not wait for them.
testtools: $(TRIVYDB_FIXTURE) $(KUBE_BINS) $(KWOK)

$(BUILDKITD): tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../$(BUILDKITD) github.com/moby/buildkit/cmd/buildkitd

$(TRIVY): tools/trivy/go.mod tools/trivy/go.sum
	cd tools/trivy && GOEXPERIMENT=jsonv2 $(GO) build -ldflags "-X github.com/aquasecurity/trivy/pkg/version/app.ver=$(TRIVY_VERSION)" \
	  -o ../../$(TRIVY) github.com/aquasecurity/trivy/cmd/trivy

$(TRIVYDB_FIXTURE): tools/trivy/go.mod tools/trivy/go.sum tools/trivy/dbfixture/main.go
	cd tools/trivy && $(GO) build -o ../../$(TRIVYDB_FIXTURE) ./dbfixture

bin/buildctl: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../bin/buildctl github.com/moby/buildkit/cmd/buildctl

bin/crane: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../bin/crane github.com/google/go-containerregistry/cmd/crane

$(KUBE_BINS): bin/%: tools/kube/go.mod tools/kube/go.sum
	cd tools/kube && $(GO) build -o ../../$@ k8s.io/kubernetes/cmd/$*

$(KWOK): tools/kube/go.mod tools/kube/go.sum
	cd tools/kube && $(GO) build -o ../../$(KWOK) sigs.k8s.io/kwok/cmd/kwok

$(GOLANGCI_LINT): tools/lint/go.mod tools/lint/go.sum
	cd tools/lint && $(GO) build -o ../../$(GOLANGCI_LINT) github.com/golangci/golangci-lint/v2/cmd/golangci-lint

# CI_REQUIRE_BUILDKIT, CI_REQUIRE_TRIVY and CI_REQUIRE_DOCKER make the BuildKit, Trivy and Docker
# tests fail, not skip, without bin/buildkitd, bin/trivy and a Docker Engine (scripts/dockerd.sh);
# CI_REQUIRE_KUBE does the same for the Kubernetes tests without the control plane's binaries and etcd,
# CI_REQUIRE_BROWSER for the console's browser test without Debian's chromium (.ci/run installs it).
test: lint tools testtools
	CI_REQUIRE_BUILDKIT=1 CI_REQUIRE_TRIVY=1 CI_REQUIRE_DOCKER=1 CI_REQUIRE_KUBE=1 $(GO) test -count=1 -race $(RACE_PKGS)
	CI_REQUIRE_TRIVY=1 CI_REQUIRE_DOCKER=1 CI_REQUIRE_KUBE=1 CI_REQUIRE_BROWSER=1 CI_REQUIRE_BASH_COMPLETION=1 $(GO) test -count=1 -timeout 20m ./cli/... ./worker/... ./workflows/recorder/ ./stack/... ./localtemporal/... ./deploy/... ./integration/...

# unit runs the fast tests (~75 s warm on two cores) and builds no tool: with -short, the tests that
# run buildkitd, Trivy, a Docker Engine or a Kubernetes control plane skip themselves, even when bin/
# has the tools. Not under the race detector (`make test` is); see UNIT_PKGS for what it leaves out.
unit:
	$(GO) test -short -count=1 $(UNIT_PKGS)

# lint checks formatting (every module, tools/ included), runs golangci-lint (.golangci.yml: go vet's
# analyzers, errcheck, staticcheck, revive, ineffassign, unused and the import rules, depguard), first
# checking that the import rules still refuse what they should (lint-rules, ~8 s). golangci-lint
# takes ~17 min and ~4.3 GB on two cores with nothing cached, ~2 min with Go's build cache warm,
# ~5 s once ~/.cache/golangci-lint is warm too.
lint: $(GOLANGCI_LINT)
	@out=$$(gofmt -l .); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	scripts/lint-rules.sh $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run --allow-parallel-runners ./...

# lint-rules adds, in a temporary copy of the tree, imports each depguard rule forbids (and some it
# allows) and checks that golangci-lint refuses exactly those (scripts/lint-rules.sh).
lint-rules: $(GOLANGCI_LINT)
	scripts/lint-rules.sh $(GOLANGCI_LINT)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# bench-e2e times commit → healthy in development through a `slipway dev` it starts and through the same
# tools scripted one after another on its buildkitd, registry and Docker Engine, over ROUNDS alternating
# rounds, and prints both, the stage breakdowns and the median ratio (integration/bench_e2e_test.go).
ROUNDS ?= 5
bench-e2e: tools $(TRIVYDB_FIXTURE) $(BENCH_TOOLS) deps
	CI_REQUIRE_TRIVY=1 CI_REQUIRE_DOCKER=1 SLIPWAY_BENCH_E2E_ROUNDS=$(ROUNDS) \
	  $(GO) test -count=1 -run '^$$' -bench '^BenchmarkCommitToHealthy$$' -benchtime 1x -timeout 60m ./integration/

clean:
	rm -rf bin

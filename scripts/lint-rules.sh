#!/usr/bin/env bash
# lint-rules.sh checks that the import rules in .golangci.yml (depguard) bite: in a temporary copy
# of the working tree it adds, to one package after another, a file importing what that package's
# rule forbids, and a few importing what it allows, then runs golangci-lint's depguard over the copy.
# Each forbidden import must be reported by the rule named below, no allowed import may be, and the
# findings in the rest of the tree must be the same as without the probe files. It leaves nothing
# behind (the copy is removed on exit) and never touches the working tree.
#
# Probe imports are chosen so that they can never form an import cycle (a cycle would make the
# package fail to load instead of failing depguard): leaves (webhooks, secretbox, descriptor),
# adapters (which may not import the packages probed) or, where only a cycle would do, an external
# test package (package x_test).
#
# Usage: scripts/lint-rules.sh [path/to/golangci-lint]   (default: bin/golangci-lint)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
lint=${1:-$root/bin/golangci-lint}
[[ $lint == /* ]] || lint=$root/$lint
mod=github.com/slipway-dev/slipway

work=$(mktemp -d "${TMPDIR:-/tmp}/slipway-lint-rules.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Its own golangci-lint cache, so that the runs over the copy leave no entries in the shared one.
export GOLANGCI_LINT_CACHE=$work/.cache
# The copy's path ends up in depguard's file globs (${config-path}); mktemp's is glob-safe.

# The working tree as it is, uncommitted and new files included, without bin/ (a symlink).
(cd "$root" && git ls-files -z -c -o --exclude-standard | grep -zv '^bin$' | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$work"

run_depguard() { # $1: output file; prints nothing, tolerates findings (exit 1)
	local rc=0
	(cd "$work" && "$lint" run --allow-parallel-runners --enable-only depguard --output.text.path stdout \
		--output.text.print-issued-lines=false --show-stats=false ./... >"$1" 2>&1) || rc=$?
	if ((rc > 1)); then
		echo "lint-rules: golangci-lint failed (exit $rc):" >&2
		cat "$1" >&2
		exit 1
	fi
}

run_depguard "$work/.baseline"

# probe DIR PACKAGE IMPORT RULE: DIR/zz_lintrules_N[_test].go, package PACKAGE, imports IMPORT;
# RULE is the depguard list that must report it, or "-" when it is allowed.
n=0
declare -a probes=()
probe() {
	local dir=$1 pkg=$2 imp=$3 rule=$4 file
	n=$((n + 1))
	file=$dir/zz_lintrules_$n.go
	[[ $pkg == *_test ]] && file=$dir/zz_lintrules_${n}_test.go
	mkdir -p "$work/$dir"
	printf 'package %s\n\nimport _ "%s"\n' "$pkg" "$imp" >"$work/$file"
	probes+=("$file|$imp|$rule")
}

# Adapters below the use cases.
probe buildkit buildkit "$mod/store" adapters
probe dataplane/kubernetes kubernetes "$mod/workflows" adapters
probe trivyscan/trivytest trivytest "$mod/server" adapters
probe entry entry_test "$mod/stack" adapters
probe gitsource gitsource go.temporal.io/sdk/client adapters-no-temporal
probe buildkit buildkit "$mod/descriptor" -
probe ociregistry ociregistry "$mod/baseimages" -
# api: standard library, descriptor and scan.
probe api api "$mod/secretbox" api
probe api api "$mod/scan" -
probe api api encoding/json -
# delivery: the use cases, no HTTP.
probe delivery delivery net/http delivery-no-http
probe delivery delivery github.com/labstack/echo/v4 delivery-no-http
probe delivery delivery "$mod/buildkit" delivery
probe delivery delivery go.temporal.io/sdk/worker delivery-no-http
probe delivery delivery_test "$mod/server" delivery
probe delivery delivery "$mod/dataplane/kubernetes" -
probe delivery delivery "$mod/gitsource" -
probe delivery delivery go.temporal.io/sdk/client -
# server: no adapter, nor their SDKs.
probe server server "$mod/buildkit" server
probe server server "$mod/dataplane/docker" server
probe server server k8s.io/client-go/kubernetes server-sdks
probe server server github.com/go-git/go-git/v5 server-sdks
probe server server_test "$mod/imagepush" server-tests
probe server server_test "$mod/stack" server-tests
probe server server "$mod/webhooks" -
probe server server_test "$mod/activities" -
# workflows: deterministic.
probe workflows workflows net/http workflows-deterministic
probe workflows workflows os workflows-deterministic
probe workflows workflows os/exec workflows-deterministic
probe workflows workflows database/sql workflows-deterministic
probe workflows workflows "$mod/store" workflows
probe workflows workflows "$mod/secretbox" workflows
probe workflows workflows "$mod/trivydb" workflows
probe workflows workflows_test "$mod/activities" workflows
probe workflows workflows "$mod/descriptor" -
probe workflows workflows os/signal -
probe workflows workflows go.temporal.io/sdk/workflow -
# activities, worker, gitcred, localtemporal.
probe activities activities_test "$mod/stack" activities
probe activities activities_test "$mod/server" activities
probe worker worker "$mod/server" worker
probe gitcred gitcred "$mod/workflows" gitcred
probe localtemporal localtemporal "$mod/store" localtemporal
# store and the leaves.
probe store store "$mod/webhooks" store
probe store/storetest storetest "$mod/webhooks" store
probe store store "$mod/scan" -
probe secretbox secretbox "$mod/webhooks" secretbox
probe secretbox secretbox github.com/google/uuid secretbox
probe scan scan "$mod/webhooks" scan
probe descriptor descriptor "$mod/webhooks" descriptor
probe descriptor descriptor github.com/google/uuid descriptor
probe config config "$mod/webhooks" config
probe secretbox secretbox os -
probe descriptor descriptor gopkg.in/yaml.v3 -
probe projectfile projectfile "$mod/store" projectfile
probe projectfile projectfile "$mod/api" -
probe sourcebuild sourcebuild "$mod/scan" sourcebuild
probe sourcebuild sourcebuild github.com/moby/buildkit/frontend/dockerfile/parser sourcebuild
probe sourcebuild sourcebuild_test "$mod/scan" sourcebuild-tests
probe sourcebuild sourcebuild_test github.com/moby/buildkit/frontend/dockerfile/parser -

run_depguard "$work/.probed"

fail=0
for p in "${probes[@]}"; do
	IFS='|' read -r file imp rule <<<"$p"
	got=$(grep -F "$file:" "$work/.probed" || true)
	if [[ $rule == - ]]; then
		if [[ -n $got ]]; then
			echo "lint-rules: $file: import \"$imp\" should be allowed, but:" >&2
			echo "$got" >&2
			fail=1
		fi
		continue
	fi
	want="import '$imp' is not allowed from list '$rule'"
	if ! grep -qF "$want" <<<"$got" || ! grep -qF '(depguard)' <<<"$got"; then
		echo "lint-rules: $file: import \"$imp\" should be refused by depguard rule $rule; got:" >&2
		echo "${got:-  (nothing)}" >&2
		fail=1
	elif (($(grep -c . <<<"$got") != 1)); then
		echo "lint-rules: $file: expected one finding, got:" >&2
		echo "$got" >&2
		fail=1
	fi
done
# The probes change nothing else.
if ! diff <(grep -v 'zz_lintrules_' "$work/.probed" | grep -v '^[0-9]* issues\?[.:]' | sort) \
	<(grep -v '^[0-9]* issues\?[.:]' "$work/.baseline" | sort) >&2; then
	echo "lint-rules: the probes changed findings outside their own files (diff above)" >&2
	fail=1
fi
if ((fail)); then
	exit 1
fi
echo "lint-rules: ${#probes[@]} probes: every forbidden import refused by its rule, every allowed one let through"

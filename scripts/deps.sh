#!/usr/bin/env bash
# deps.sh installs the Debian packages `slipway dev` and the tests run beside slipway, when missing:
#   runc            the OCI runtime buildkitd runs build steps with (required: no builds without it);
#   containernetworking-plugins, iptables
#                   the CNI plugins (in /usr/lib/cni) and firewall that give each build step a network
#                   namespace of its own, off the host's loopback (`--build-network isolated`, the
#                   default); without them `slipway dev` only starts with `--build-network host`;
#   busybox-static  a static /bin/busybox, from which `slipway dev` seeds the `busybox` base image
#                   (nothing can be pulled from the internet here); without it `FROM busybox` needs
#                   internet access, so its absence is only a warning;
#   etcd-server     /usr/bin/etcd, the store of the Kubernetes control plane the data-plane tests
#                   start (dataplane/kubernetes/kubetest); without it they skip, so its
#                   absence is only a warning too;
#   jq              what the README's quick start reads JSON answers with (and its test runs); only a
#                   warning when missing;
#   nodejs, python3 /usr/bin/node and /usr/bin/python3, from which the source-build tests make the
#                   node and python base images (baseimages.NodeRuntime, PythonRuntime); without them
#                   those tests skip, so only a warning.
# As root it installs them with apt-get. Otherwise, or without apt-get, it prints what to install;
# it then fails only when runc is missing.
#
# Usage: scripts/deps.sh        (used by `make run` and .ci/run)
set -euo pipefail

log() { echo "deps.sh: $*" >&2; }

have_runc() {
	command -v runc >/dev/null 2>&1 && return 0
	# Debian installs /usr/sbin/runc, which is not on every user's PATH; buildkit looks there too.
	local p
	for p in /usr/sbin/runc /usr/local/sbin/runc /sbin/runc /usr/bin/runc /usr/local/bin/runc; do
		[ -x "$p" ] && return 0
	done
	return 1
}

# A busybox that runs in an empty image must be statically linked (Debian's busybox package is not).
# (ldd exits 1 on a static binary: read its output, not its status, which pipefail would pass on.)
have_static_busybox() {
	[ -x /bin/busybox ] && /bin/busybox true 2>/dev/null || return 1
	local out
	out=$(ldd /bin/busybox 2>&1 || true)
	[[ $out == *"not a dynamic"* || $out == *"statically linked"* ]]
}

missing=()
have_runc || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
have_static_busybox || missing+=(busybox-static)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v jq >/dev/null 2>&1 || missing+=(jq)
# The source-build tests make node and python base images from Debian's interpreters (not a pyenv shim).
[ -x /usr/bin/node ] || missing+=(nodejs)
[ -x /usr/bin/python3 ] || missing+=(python3)
# What `slipway completion bash` needs, as every cobra tool's does (and its test, in make test).
[ -f /usr/share/bash-completion/bash_completion ] || missing+=(bash-completion)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
		{ apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
	exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
	how="sudo apt-get install -y ${missing[*]}"
else
	how="your distribution's packages for: ${missing[*]} (Debian names)"
fi
if have_runc; then
	[[ " ${missing[*]} " == *" busybox-static "* ]] &&
		log "warning: no static /bin/busybox, so \`slipway dev\` cannot seed the busybox base image and \`FROM busybox\` needs internet access"
	[[ " ${missing[*]} " == *" containernetworking-plugins "* || " ${missing[*]} " == *" iptables "* ]] &&
		log "warning: no CNI plugins or iptables, so \`slipway dev\` starts only with \`--build-network host\` (build steps on this host's network)"
	[[ " ${missing[*]} " == *" etcd-server "* ]] &&
		log "warning: no etcd, so the Kubernetes data-plane tests skip"
	[[ " ${missing[*]} " == *" jq "* ]] &&
		log "warning: no jq, which the README's quick start uses"
	[[ " ${missing[*]} " == *" nodejs "* || " ${missing[*]} " == *" python3 "* ]] &&
		log "warning: no /usr/bin/node or /usr/bin/python3, so the Node.js and Python source-build tests skip"
	log "install with: $how"
	exit 0
fi
log "slipway needs ${missing[*]} and cannot install them without root; install with: $how"
exit 1

#!/usr/bin/env bash
# dockerd.sh makes sure a Docker Engine API answers, the data plane `slipway dev` deploys to on one
# machine. When $DOCKER_HOST or /var/run/docker.sock already answers (Docker or Podman's compatible
# socket), it does nothing. Otherwise, as root on Debian, it installs docker.io when missing and
# starts dockerd in the background (log: /var/log/slipway-dockerd.log), waiting until it answers.
# Without root it says what to run and fails.
#
# Usage: scripts/dockerd.sh        (used by `make run` and .ci/run)
set -euo pipefail

log() { echo "dockerd.sh: $*" >&2; }

SOCKET=/var/run/docker.sock
WAIT_SECONDS=${WAIT_SECONDS:-60}

answers() {
	if [ -n "${DOCKER_HOST:-}" ]; then
		command -v docker >/dev/null 2>&1 && docker version >/dev/null 2>&1
		return
	fi
	[ -S "$SOCKET" ] && curl -fsS --max-time 2 --unix-socket "$SOCKET" http://localhost/_ping >/dev/null 2>&1
}

answers && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	log "no Docker Engine API answers at ${DOCKER_HOST:-unix://$SOCKET}; start Docker or Podman (podman system service), or as root: apt-get install docker.io && dockerd &"
	exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
	log "installing docker.io"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends docker.io curl >&2 ||
		{ apt-get update >&2 && apt-get install -y --no-install-recommends docker.io curl >&2; }
fi

log "starting dockerd"
setsid dockerd --host "unix://$SOCKET" >/var/log/slipway-dockerd.log 2>&1 < /dev/null &
for _ in $(seq "$WAIT_SECONDS"); do
	answers && { log "dockerd answers on $SOCKET"; exit 0; }
	sleep 1
done
log "dockerd did not answer within ${WAIT_SECONDS}s; its log:"
tail -n 30 /var/log/slipway-dockerd.log >&2
exit 1

#!/usr/bin/env bash
# postgres.sh starts a local PostgreSQL for the store tests and prints its DSN as the last line on stdout.
#
# Idempotent; runs as root on Debian 12. Installs Debian's postgresql package when pg_ctlcluster is missing,
# starts the first cluster (creating one when none exists), creates role slipway (password slipway) and
# database slipway_test owned by it, and waits until the server accepts connections. The database is created with
# a linguistic (ICU "en") collation when the server supports it, like most production databases, so that tests
# catch SQL that relies on byte-wise ordering of text.
# All progress goes to stderr so that `DSN=$(.ci/postgres.sh | tail -n1)` works.
#
# Usage: export SLIPWAY_TEST_POSTGRES="$(.ci/postgres.sh | tail -n1)"; go test ./store/
set -euo pipefail

ROLE=slipway
PASSWORD=slipway
DATABASE=slipway_test
WAIT_SECONDS=${WAIT_SECONDS:-60}

log() { echo "postgres.sh: $*" >&2; }

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres -tA "$@"; }

install_postgres() {
	if command -v pg_ctlcluster >/dev/null 2>&1; then
		return
	fi
	log "installing postgresql"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends postgresql >&2; then
		log "install failed; running apt-get update and retrying"
		apt-get update >&2
		apt-get install -y --no-install-recommends postgresql >&2
	fi
}

# pick_cluster sets VERSION, CLUSTER and PORT from the first cluster, creating one when none exists.
pick_cluster() {
	local line
	line=$(pg_lsclusters -h | head -n1 || true)
	if [[ -z "$line" ]]; then
		local version
		version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
		log "no cluster found; creating ${version}/main"
		pg_createcluster "$version" main >&2
		line=$(pg_lsclusters -h | head -n1)
	fi
	read -r VERSION CLUSTER PORT _ <<<"$line"
}

start_cluster() {
	if pg_ctlcluster "$VERSION" "$CLUSTER" status >/dev/null 2>&1; then
		log "cluster ${VERSION}/${CLUSTER} already running on port ${PORT}"
		return
	fi
	log "starting cluster ${VERSION}/${CLUSTER} on port ${PORT}"
	if ! pg_ctlcluster "$VERSION" "$CLUSTER" start >&2; then
		# Another caller may have started it in the meantime.
		pg_ctlcluster "$VERSION" "$CLUSTER" status >/dev/null 2>&1
	fi
}

wait_ready() {
	local deadline=$((SECONDS + WAIT_SECONDS))
	until pg_isready -q -h 127.0.0.1 -p "$PORT"; do
		if ((SECONDS >= deadline)); then
			log "PostgreSQL on 127.0.0.1:${PORT} not ready after ${WAIT_SECONDS}s"
			exit 1
		fi
		sleep 0.5
	done
}

create_role_and_database() {
	if [[ -z "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}'")" ]]; then
		log "creating role ${ROLE}"
		psql_admin -c "CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'"
	else
		psql_admin -c "ALTER ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'"
	fi
	if [[ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '${DATABASE}'")" ]]; then
		log "creating database ${DATABASE}"
		if ! as_postgres createdb -O "$ROLE" -T template0 --locale-provider=icu --icu-locale=en "$DATABASE" 2>/dev/null; then
			log "ICU collation not available; using the server's default"
			as_postgres createdb -O "$ROLE" "$DATABASE"
		fi
	fi
}

install_postgres
pick_cluster
start_cluster
wait_ready
create_role_and_database
echo "postgres://${ROLE}:${PASSWORD}@127.0.0.1:${PORT}/${DATABASE}?sslmode=disable"

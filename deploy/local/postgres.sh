#!/usr/bin/env bash
# Starts, stops or reports a PostgreSQL server for Vigil on loopback, with its
# data under $VIGIL_LOCAL_DIR/postgres. Installs Debian's postgresql if absent.
# Usage: postgres.sh up|down|status
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PGDIR=$VIGIL_LOCAL_DIR/postgres
DATA=$PGDIR/data
RUN=$PGDIR/run

pg_bin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[[ -n $d && -x $d/postgres ]] && echo "$d"
}

as_pg() {
	if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ready() { "$BIN/pg_isready" -q -h "$VIGIL_PG_HOST" -p "$VIGIL_PG_PORT"; }

up() {
	if [[ -z $(pg_bin) ]]; then
		apt_install postgresql
	fi
	BIN=$(pg_bin) || die "postgresql is installed but no server binary was found under /usr/lib/postgresql"
	if ready; then
		if as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
			log "postgres already running on $VIGIL_PG_HOST:$VIGIL_PG_PORT"
		else
			log "a PostgreSQL server not started by Vigil answers on $VIGIL_PG_HOST:$VIGIL_PG_PORT; using it"
		fi
		if as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1 && write_conf; then
			as_pg "$BIN/pg_ctl" -D "$DATA" reload >/dev/null || die "could not reload postgres's configuration"
		fi
		ensure_db
		return
	fi
	mkdir -p "$PGDIR"
	if [[ $(id -u) == 0 ]]; then
		# The server refuses to run as root and runs as the postgres user, which
		# must be able to reach the data directory inside the checkout.
		local d=$PGDIR
		while [[ $d != / ]]; do
			chmod o+x "$d" 2>/dev/null || true
			d=$(dirname "$d")
		done
		chown postgres:postgres "$PGDIR"
	fi
	if [[ -d $DATA && ! -f $DATA/PG_VERSION ]]; then
		log "removing a half-initialised data directory $DATA"
		rm -rf "$DATA"
	fi
	if [[ ! -d $DATA ]]; then
		log "initialising a new cluster in $DATA"
		local pw
		pw=$(mktemp)
		printf '%s\n' "$VIGIL_PG_PASSWORD" >"$pw"
		chmod 644 "$pw"
		as_pg "$BIN/initdb" -D "$DATA" -U "$VIGIL_PG_USER" --pwfile="$pw" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 ||
			{ rm -f "$pw"; die "initdb failed, see $PGDIR/initdb.log"; }
		rm -f "$pw"
		cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '$VIGIL_PG_HOST'
port = $VIGIL_PG_PORT
unix_socket_directories = '$RUN'
CONF
	fi
	write_conf || true
	# A stale postmaster.pid from a killed server blocks the start.
	if [[ -f $DATA/postmaster.pid ]] && ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
		log "removing a stale postmaster.pid"
		rm -f "$DATA/postmaster.pid"
	fi
	mkdir -p "$RUN"
	[[ $(id -u) == 0 ]] && chown postgres:postgres "$RUN"
	if port_open "$VIGIL_PG_HOST" "$VIGIL_PG_PORT"; then
		die "port $VIGIL_PG_HOST:$VIGIL_PG_PORT is taken by something that is not PostgreSQL; set VIGIL_PG_PORT"
	fi
	log "starting postgres on $VIGIL_PG_HOST:$VIGIL_PG_PORT"
	as_pg "$BIN/pg_ctl" -D "$DATA" -l "$PGDIR/server.log" -w -t 60 start >/dev/null ||
		die "postgres did not start, see $PGDIR/server.log"
	wait_for 60 postgres ready || die "postgres does not answer, see $PGDIR/server.log"
	ensure_db
}

# write_conf (re)writes vigil.conf, Vigil's server settings, and has
# postgresql.conf include it, so that they reach clusters initialised
# before they changed too (at the next start, or at once by a reload for all
# but max_connections and shared_buffers). Succeeds when the file changed.
# Keep docker-compose.yml's postgres command and docs/review.md in step.
write_conf() {
	local conf=$DATA/vigil.conf new
	new=$(cat <<'CONF'
# Written by deploy/local/postgres.sh at every start: edit it there.
max_connections = 300
shared_buffers = 256MB
# The review queue rewrites rows of a large table at random: after every
# checkpoint the first change to each page logs the whole page. With the
# default 1GB max_wal_size the benchmark checkpointed every 10-60 s, which
# multiplied the WAL; space them, and compress the page images.
max_wal_size = 4GB
min_wal_size = 1GB
checkpoint_timeout = 15min
checkpoint_completion_target = 0.9
wal_compression = lz4
# The queue's claims walk the claim-order index past the entries of items
# already claimed until a vacuum removes them; review_items asks to be
# vacuumed every 10,000 dead rows (migration 0006), which the launcher
# only notices once per naptime.
autovacuum_naptime = 10s
log_checkpoints = on
log_autovacuum_min_duration = 1s
# A session left idle inside a transaction holds back vacuum, and claims
# slow down while it does (docs/review.md): end such sessions.
idle_in_transaction_session_timeout = 5min
CONF
)
	if [[ -f $conf && $(<"$conf") == "$new" ]] && grep -qx "include_if_exists = 'vigil.conf'" "$DATA/postgresql.conf"; then
		return 1
	fi
	printf '%s\n' "$new" >"$conf"
	grep -qx "include_if_exists = 'vigil.conf'" "$DATA/postgresql.conf" ||
		printf "include_if_exists = 'vigil.conf'\n" >>"$DATA/postgresql.conf"
	[[ $(id -u) == 0 ]] && chown postgres:postgres "$conf"
	return 0
}

ensure_db() {
	local url="postgres://$VIGIL_PG_USER:$VIGIL_PG_PASSWORD@$VIGIL_PG_HOST:$VIGIL_PG_PORT"
	if ! psql "$url/$VIGIL_PG_DB" -qAtc 'select 1' >/dev/null 2>&1; then
		log "creating database $VIGIL_PG_DB"
		psql "$url/postgres" -qc "create database \"$VIGIL_PG_DB\"" >/dev/null ||
			die "cannot create database $VIGIL_PG_DB at $VIGIL_PG_HOST:$VIGIL_PG_PORT (is it a server with other credentials? set VIGIL_PG_USER/VIGIL_PG_PASSWORD)"
	fi
}

down() {
	BIN=$(pg_bin) || { log "postgres is not installed"; return 0; }
	if [[ -f $DATA/postmaster.pid ]]; then
		log "stopping postgres"
		as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || true
	else
		log "postgres is not running"
	fi
}

status() {
	BIN=$(pg_bin) || { echo "postgres: not installed"; return 1; }
	if ready; then echo "postgres: up on $VIGIL_PG_HOST:$VIGIL_PG_PORT"; else echo "postgres: down"; return 1; fi
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
*) die "usage: $0 up|down|status" ;;
esac

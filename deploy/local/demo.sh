#!/usr/bin/env bash
# Runs the whole pipeline on the local stack: migrates, then starts
# vigil-ingest, vigil-review and vigil-firehose in the background with the
# demo rules, waits until flagged posts reach the review API, and prints
# where to look. Usage: demo.sh start|stop. Expects `make up build` first.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEMO=$VIGIL_LOCAL_DIR/demo
BIN=$REPO_ROOT/bin
REVIEW_ADDR=${VIGIL_DEMO_REVIEW_ADDR:-127.0.0.1:8080}
INGEST_ADDR=${VIGIL_DEMO_INGEST_ADDR:-127.0.0.1:9101}
DEMO_LOGIN=${VIGIL_DEMO_LOGIN:-demo:vigil-demo-password}
export VIGIL_DATABASE_URL=${VIGIL_DATABASE_URL:-postgres://$VIGIL_PG_USER:$VIGIL_PG_PASSWORD@$VIGIL_PG_HOST:$VIGIL_PG_PORT/$VIGIL_PG_DB?sslmode=disable}
export VIGIL_KAFKA_BROKERS=${VIGIL_KAFKA_BROKERS:-$VIGIL_KAFKA_HOST:$VIGIL_KAFKA_PORT}

start_one() { # name, then the command
	local name=$1
	shift
	if [[ -f $DEMO/$name.pid ]] && kill -0 "$(cat "$DEMO/$name.pid")" 2>/dev/null; then
		log "$name already running"
		return
	fi
	nohup "$@" >"$DEMO/$name.log" 2>&1 </dev/null &
	echo $! >"$DEMO/$name.pid"
	log "$name started (log: $DEMO/$name.log)"
}

stop() {
	for name in vigil-firehose vigil-ingest vigil-review; do
		if [[ -f $DEMO/$name.pid ]]; then
			kill "$(cat "$DEMO/$name.pid")" 2>/dev/null && log "stopped $name" || true
			rm -f "$DEMO/$name.pid"
		fi
	done
}

start() {
	mkdir -p "$DEMO"
	for b in vigil-ingest vigil-review vigilctl vigil-firehose; do
		[[ -x $BIN/$b ]] || die "$BIN/$b is missing: run make build"
	done
	"$BIN/vigilctl" migrate >/dev/null || die "migrating the database failed"
	port_open "${REVIEW_ADDR%:*}" "${REVIEW_ADDR##*:}" && ! [[ -f $DEMO/vigil-review.pid ]] &&
		die "$REVIEW_ADDR is taken; set VIGIL_DEMO_REVIEW_ADDR"
	start_one vigil-review "$BIN/vigil-review" --http-addr "$REVIEW_ADDR" --bootstrap-admin "$DEMO_LOGIN"
	start_one vigil-ingest "$BIN/vigil-ingest" --http-addr "$INGEST_ADDR" --rules-dir "$REPO_ROOT/rules" --banks-dir "$REPO_ROOT/rules/banks"
	# Four copies of one banked picture first: a cluster to decide at once.
	start_one vigil-firehose "$BIN/vigil-firehose" --rate 20 --match-rate 0.03 --banked-burst 4
	log "waiting for flagged demo posts to reach the review queue"
	local n=0
	for _ in $(seq 120); do
		n=$(psql "$VIGIL_DATABASE_URL" -qAtc "select count(*) from review_items" 2>/dev/null || echo 0)
		((n > 0)) && break
		for name in vigil-review vigil-ingest vigil-firehose; do
			kill -0 "$(cat "$DEMO/$name.pid")" 2>/dev/null || { tail -n 20 "$DEMO/$name.log" >&2; die "$name exited, see $DEMO/$name.log"; }
		done
		sleep 0.5
	done
	((n > 0)) || die "no flagged post reached the queue within a minute; see the logs in $DEMO"
	cat <<MSG

  Vigil demo is running.
    Review UI:   http://$REVIEW_ADDR/
    Review API:  http://$REVIEW_ADDR/api/v1/queue   ($n flagged posts so far)
    Login:       user ${DEMO_LOGIN%%:*}, password ${DEMO_LOGIN#*:}
    Metrics:     http://$INGEST_ADDR/metrics, http://$REVIEW_ADDR/metrics, http://127.0.0.1:9102/metrics
    Logs:        $DEMO/*.log
  Stop it with: make demo-down   (and the stack with: make down)

MSG
}

case ${1:-} in
start) start ;;
stop) stop ;;
*) die "usage: $0 start|stop" ;;
esac

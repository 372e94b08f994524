#!/usr/bin/env bash
# Starts, stops or reports a single-node Apache Kafka broker in KRaft mode on
# loopback. The broker and its dependencies come from Maven Central (see
# kafka/pom.xml) and run on the machine's Java 17; data lives under
# $VIGIL_LOCAL_DIR/kafka. Usage: kafka.sh up|down|status
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KDIR=$VIGIL_LOCAL_DIR/kafka
LIBS=$KDIR/libs
CONF=$KDIR/server.properties
DATA=$KDIR/data
PIDFILE=$KDIR/kafka.pid
LOG=$KDIR/server.log

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

fetch() {
	command -v java >/dev/null || apt_install openjdk-17-jre-headless
	command -v mvn >/dev/null || apt_install maven
	if [[ -f $LIBS/.complete && $LIBS/.complete -nt $REPO_ROOT/deploy/local/kafka/pom.xml ]]; then
		return
	fi
	log "fetching Apache Kafka from Maven Central (mvn dependency:copy-dependencies)"
	rm -rf "$LIBS"
	mkdir -p "$LIBS"
	mvn -q -B -f "$REPO_ROOT/deploy/local/kafka/pom.xml" dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$LIBS" >"$KDIR/mvn.log" 2>&1 ||
		die "could not fetch Kafka with Maven, see $KDIR/mvn.log"
	ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1 || die "Maven did not deliver kafka_2.13, see $KDIR/mvn.log"
	touch "$LIBS/.complete"
}

configure() {
	cat >"$CONF" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$VIGIL_KAFKA_HOST:$VIGIL_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$VIGIL_KAFKA_HOST:$VIGIL_KAFKA_PORT,CONTROLLER://$VIGIL_KAFKA_HOST:$VIGIL_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$VIGIL_KAFKA_HOST:$VIGIL_KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
message.max.bytes=17825792
replica.fetch.max.bytes=17825792
CONF
}

java_run() {
	exec java -Xms256m -Xmx"$VIGIL_KAFKA_HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
		-Dorg.slf4j.simpleLogger.defaultLogLevel=info -cp "$LIBS/*" "$@"
}

up() {
	mkdir -p "$KDIR"
	if running && port_open "$VIGIL_KAFKA_HOST" "$VIGIL_KAFKA_PORT"; then
		log "kafka already running on $VIGIL_KAFKA_HOST:$VIGIL_KAFKA_PORT"
		return
	fi
	if running; then
		log "kafka process $(cat "$PIDFILE") is alive but not answering; restarting it"
		down
	fi
	rm -f "$PIDFILE"
	if port_open "$VIGIL_KAFKA_HOST" "$VIGIL_KAFKA_PORT"; then
		log "a broker not started by Vigil answers on $VIGIL_KAFKA_HOST:$VIGIL_KAFKA_PORT; using it"
		return
	fi
	fetch
	configure
	if [[ ! -f $DATA/meta.properties ]]; then
		log "formatting KRaft storage in $DATA"
		rm -rf "$DATA"
		(java_run kafka.tools.StorageTool format -t "$(cat /proc/sys/kernel/random/uuid | tr -d - | head -c 22)" \
			-c "$CONF") >"$KDIR/format.log" 2>&1 || die "formatting Kafka storage failed, see $KDIR/format.log"
	fi
	log "starting kafka on $VIGIL_KAFKA_HOST:$VIGIL_KAFKA_PORT"
	java_run kafka.Kafka "$CONF" >"$LOG" 2>&1 </dev/null &
	disown
	echo $! >"$PIDFILE"
	wait_for 120 kafka broker_ready || { tail -n 30 "$LOG" >&2; die "kafka did not start, see $LOG"; }
}

# broker_ready: the process lives and the broker logged that it started.
broker_ready() {
	running || { tail -n 30 "$LOG" >&2; die "kafka exited during start-up, see $LOG"; }
	port_open "$VIGIL_KAFKA_HOST" "$VIGIL_KAFKA_PORT" && grep -q "Kafka Server started\|KafkaRaftServer.*started\|Transitioning from RECOVERY to RUNNING" "$LOG"
}

down() {
	if running; then
		local pid
		pid=$(cat "$PIDFILE")
		log "stopping kafka (pid $pid)"
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
		kill -9 "$pid" 2>/dev/null || true
	else
		log "kafka is not running"
	fi
	rm -f "$PIDFILE"
}

status() {
	if running && port_open "$VIGIL_KAFKA_HOST" "$VIGIL_KAFKA_PORT"; then
		echo "kafka: up on $VIGIL_KAFKA_HOST:$VIGIL_KAFKA_PORT"
	else
		echo "kafka: down"
		return 1
	fi
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
*) die "usage: $0 up|down|status" ;;
esac

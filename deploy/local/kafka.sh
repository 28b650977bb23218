#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft, broker and controller in one process) on loopback.
#   kafka.sh start   resolve jars (once), format storage (once), start, wait until a client
#                    can produce and consume; a no-op when it is already running
#   kafka.sh check   exit 0 when the broker answers a produce/consume round trip
#   kafka.sh running exit 0 when the broker's process runs, or anything listens on its port
#                    (answering or not): then it is not for `start` to start
#   kafka.sh stop    stop the broker (storage is kept until `stack.sh clean`)
set -euo pipefail
source "$(dirname "$0")/env.sh"

pidfile="$LW_KAFKA_DIR/kafka.pid"
logdir="$LW_KAFKA_DIR/logs"
props="$LW_KAFKA_DIR/server.properties"

resolve_jars() {
  [ -f "$LW_KAFKA_LIBS/.complete" ] && return 0
  command -v mvn >/dev/null || lw_fail "Maven (mvn) is needed to fetch the Kafka jars from Maven Central"
  command -v java >/dev/null || lw_fail "Java 17 is needed to run Kafka"
  lw_log "resolving Kafka $LW_KAFKA_VERSION jars from Maven Central into $LW_KAFKA_LIBS"
  mkdir -p "$LW_KAFKA_LIBS" "$LW_CACHE_DIR"
  local mvnlog="$LW_CACHE_DIR/mvn-kafka-$LW_KAFKA_VERSION.log"
  mvn -B -q -f "$LW_ROOT/deploy/local/pom.xml" -Dkafka.version="$LW_KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LW_KAFKA_LIBS" \
    >"$mvnlog" 2>&1 || lw_fail "mvn could not resolve the Kafka jars" "$mvnlog"
  touch "$LW_KAFKA_LIBS/.complete"
}

java_cmd=(java -Xms"$LW_KAFKA_HEAP" -Xmx"$LW_KAFKA_HEAP" -XX:+UseG1GC
  -Dlog4j2.configurationFile="$LW_ROOT/deploy/local/log4j2.properties"
  -Dkafka.logs.dir="$logdir" -cp "$LW_KAFKA_LIBS/*")

write_config() {
  mkdir -p "$LW_KAFKA_DIR/data" "$logdir"
  local listeners="PLAINTEXT://127.0.0.1:$LW_KAFKA_PORT" protocols="PLAINTEXT:PLAINTEXT"
  if [ -n "$LW_KAFKA_SASL_PORT" ]; then
    sasl_user_check
    listeners+=",SASL_PLAINTEXT://127.0.0.1:$LW_KAFKA_SASL_PORT"
    protocols+=",SASL_PLAINTEXT:SASL_PLAINTEXT"
  fi
  cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$LW_KAFKA_CONTROLLER_PORT
listeners=$listeners,CONTROLLER://127.0.0.1:$LW_KAFKA_CONTROLLER_PORT
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$LW_KAFKA_DIR/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Topics are created explicitly with their partition counts (loanwatch topics create):
# an auto-created input topic would break co-partitioning by borrower_id.
auto.create.topics.enable=false
log.retention.hours=24
log.segment.bytes=67108864
PROPS
  if [ -n "$LW_KAFKA_SASL_PORT" ]; then
    chmod 600 "$props"  # it holds the PLAIN password
    cat >>"$props" <<PROPS
# SASL listener for clients; brokers and the controller talk PLAINTEXT.
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$LOANWATCH_KAFKA_SASL_USERNAME="$LOANWATCH_KAFKA_SASL_PASSWORD";
PROPS
  fi
}

sasl_user_check() {
  [ -n "${LOANWATCH_KAFKA_SASL_USERNAME:-}" ] && [ -n "${LOANWATCH_KAFKA_SASL_PASSWORD:-}" ] \
    || lw_fail "LOANWATCH_KAFKA_SASL_PORT needs LOANWATCH_KAFKA_SASL_USERNAME and LOANWATCH_KAFKA_SASL_PASSWORD"
  case "$LOANWATCH_KAFKA_SASL_USERNAME$LOANWATCH_KAFKA_SASL_PASSWORD" in
    *[\",=\[\]\ ]*) lw_fail "the SASL user name and password of the local broker may not contain quotes, commas, brackets, '=' or spaces" ;;
  esac
}

format_storage() {
  [ -f "$LW_KAFKA_DIR/data/meta.properties" ] && return 0
  local cluster_id
  cluster_id=$("${java_cmd[@]}" kafka.tools.StorageTool random-uuid 2>>"$logdir/format.log") \
    || lw_fail "could not generate a cluster id" "$logdir/format.log"
  local scram=()
  if [ -n "$LW_KAFKA_SASL_PORT" ]; then
    local credential="[name=$LOANWATCH_KAFKA_SASL_USERNAME,password=$LOANWATCH_KAFKA_SASL_PASSWORD]"
    scram=(--add-scram "SCRAM-SHA-256=$credential" --add-scram "SCRAM-SHA-512=$credential")
    lw_log "SCRAM user $LOANWATCH_KAFKA_SASL_USERNAME for the SASL listener on 127.0.0.1:$LW_KAFKA_SASL_PORT"
  fi
  lw_log "formatting Kafka storage in $LW_KAFKA_DIR/data (cluster $cluster_id)"
  "${java_cmd[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$props" "${scram[@]}" \
    >>"$logdir/format.log" 2>&1 || lw_fail "kafka storage format failed" "$logdir/format.log"
}

probe() {
  [ -x "$LW_PYTHON" ] || lw_fail "no Python at $LW_PYTHON for the health check (run 'make venv' first)"
  # The probe talks to the PLAINTEXT listener whatever security the caller's shell sets.
  LOANWATCH_KAFKA_SECURITY_PROTOCOL=PLAINTEXT "$LW_PYTHON" -m streams.health kafka "127.0.0.1:$LW_KAFKA_PORT" "$@"
}

start() {
  if lw_pid_alive "$pidfile"; then
    lw_log "Kafka already running (pid $(cat "$pidfile")) on 127.0.0.1:$LW_KAFKA_PORT"
    probe --timeout "$LW_START_TIMEOUT" || lw_fail "the running broker does not answer" "$logdir/server.log"
    return 0
  fi
  for port in "$LW_KAFKA_PORT" "$LW_KAFKA_CONTROLLER_PORT" $LW_KAFKA_SASL_PORT; do
    if lw_port_open "$port"; then
      lw_fail "port $port is taken by another process; set LOANWATCH_KAFKA_PORT / LOANWATCH_KAFKA_CONTROLLER_PORT"
    fi
  done
  resolve_jars
  write_config
  format_storage
  lw_log "starting Kafka $LW_KAFKA_VERSION on 127.0.0.1:$LW_KAFKA_PORT (heap $LW_KAFKA_HEAP, logs in $logdir)"
  nohup "${java_cmd[@]}" kafka.Kafka "$props" >"$logdir/stdout.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local deadline=$((SECONDS + LW_START_TIMEOUT))
  until lw_port_open "$LW_KAFKA_PORT"; do
    lw_pid_alive "$pidfile" || lw_fail "Kafka exited during start-up" "$logdir/server.log"
    [ $SECONDS -lt $deadline ] || lw_fail "Kafka did not open port $LW_KAFKA_PORT in ${LW_START_TIMEOUT}s" "$logdir/server.log"
    sleep 0.5
  done
  probe --timeout "$LW_START_TIMEOUT" || lw_fail "Kafka does not answer a produce/consume round trip" "$logdir/server.log"
  lw_log "Kafka is ready on 127.0.0.1:$LW_KAFKA_PORT"
}

stop() {
  if ! lw_pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  local pid
  pid=$(cat "$pidfile")
  lw_log "stopping Kafka (pid $pid)"
  kill "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.5
  done
  lw_log "Kafka did not stop in 30s; killing it"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  check) probe --timeout "${2:-10}" ;;
  running) lw_pid_alive "$pidfile" || lw_port_open "$LW_KAFKA_PORT" ;;
  stop) stop ;;
  *) echo "usage: $0 start|check|running|stop" >&2; exit 2 ;;
esac

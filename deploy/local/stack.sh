#!/usr/bin/env bash
# The whole local stack (Kafka and PostgreSQL) in one command.
#   stack.sh up        start whatever is not running; remember what this call started
#   stack.sh down      stop what `up` started (a stack that was already running is left alone)
#   stack.sh run CMD   start whatever is not running, run CMD, then stop only what this call
#                      started (make test and make bench: a stack you started stays up);
#                      exits with CMD's status
#   stack.sh stop      stop both, whoever started them
#   stack.sh status    say what runs
#   stack.sh clean     stop both and delete their data (jars stay cached)
set -euo pipefail
here=$(dirname "$0")
source "$here/env.sh"
mkdir -p "$LW_RUN_DIR"

# Starts a service that does not run; one that runs (whoever started it) is left as it is,
# but must answer within the start timeout.
start_unless_running() {
  if "$here/$1.sh" running; then
    "$here/$1.sh" check "$LW_START_TIMEOUT" >/dev/null 2>&1 \
      || lw_fail "$1 runs but does not answer (deploy/local/stack.sh status)"
    lw_log "$1 is already up"
  else
    "$here/$1.sh" start
  fi
}

up() {
  local service
  for service in kafka postgres; do
    # The marker first: one that fails half-way is still stopped by `down`.
    "$here/$service.sh" running || touch "$LW_RUN_DIR/$service.started-by-stack"
    start_unless_running "$service"
  done
}

down() {
  local service
  for service in kafka postgres; do
    if [ -f "$LW_RUN_DIR/$service.started-by-stack" ]; then
      "$here/$service.sh" stop
      rm -f "$LW_RUN_DIR/$service.started-by-stack"
    fi
  done
}

started=()  # by `run`: global, as its exit trap reads it after the function returned

run() {
  local service status=0
  # On any exit (a failed or interrupted start, the command's end, a signal), stop what this
  # call started, each whatever happens to the other, and exit with the status it had.
  trap 'status=$?; for service in "${started[@]}"; do "$here/$service.sh" stop || true; done
        exit "$status"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  for service in kafka postgres; do
    "$here/$service.sh" running || started+=("$service")  # before start: a failed one too
    start_unless_running "$service"
  done
  "$@" || status=$?
  return "$status"
}

case "${1:-}" in
  up) up ;;
  run) shift; [ $# -gt 0 ] || { echo "usage: $0 run COMMAND [ARG...]" >&2; exit 2; }; run "$@" ;;
  down) down ;;
  stop) "$here/kafka.sh" stop; "$here/postgres.sh" stop; rm -f "$LW_RUN_DIR"/*.started-by-stack ;;
  status)
    for service in kafka postgres; do
      if ! "$here/$service.sh" running; then echo "$service: down"
      elif "$here/$service.sh" check >/dev/null 2>&1; then echo "$service: up"
      else echo "$service: running, not answering"; fi
    done ;;
  clean) "$here/kafka.sh" stop; "$here/postgres.sh" stop; rm -rf "$LW_RUN_DIR" ;;
  *) echo "usage: $0 up|down|run COMMAND|stop|status|clean" >&2; exit 2 ;;
esac

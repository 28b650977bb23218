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

up() {
  local service
  for service in kafka postgres; do
    if "$here/$service.sh" check >/dev/null 2>&1; then
      lw_log "$service is already up"
    else
      "$here/$service.sh" start
      touch "$LW_RUN_DIR/$service.started-by-stack"
    fi
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
  # On any exit (a failed start, the command's end, Ctrl-C), stop what this call started.
  trap 'for service in "${started[@]}"; do "$here/$service.sh" stop; done' EXIT
  trap 'exit 130' INT TERM
  for service in kafka postgres; do
    if ! "$here/$service.sh" check >/dev/null 2>&1; then
      "$here/$service.sh" start
      started+=("$service")
    fi
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
      if "$here/$service.sh" check >/dev/null 2>&1; then echo "$service: up"; else echo "$service: down"; fi
    done ;;
  clean) "$here/kafka.sh" stop; "$here/postgres.sh" stop; rm -rf "$LW_RUN_DIR" ;;
  *) echo "usage: $0 up|down|run COMMAND|stop|status|clean" >&2; exit 2 ;;
esac

# Settings of the local stack, sourced by kafka.sh, postgres.sh and stack.sh.
# Every value can be overridden from the environment; the Python settings
# (streams/settings.py) use the same defaults, so nothing needs exporting for
# the default layout.
LW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Jars resolved from Maven Central live outside the repository so a second
# start, or a second clone, does not download them again.
LW_CACHE_DIR=${LOANWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/loanwatch}
# Throwaway data, logs and pid files of the running stack.
LW_RUN_DIR=${LOANWATCH_RUN_DIR:-${TMPDIR:-/tmp}/loanwatch-local}

LW_KAFKA_VERSION=${LOANWATCH_KAFKA_VERSION:-4.1.1}
LW_KAFKA_PORT=${LOANWATCH_KAFKA_PORT:-19092}
LW_KAFKA_CONTROLLER_PORT=${LOANWATCH_KAFKA_CONTROLLER_PORT:-19093}
LW_KAFKA_HEAP=${LOANWATCH_KAFKA_HEAP:-768m}
# Optional SASL_PLAINTEXT listener (SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN) beside the
# PLAINTEXT one: unset by default. Its user is LOANWATCH_KAFKA_SASL_USERNAME with
# LOANWATCH_KAFKA_SASL_PASSWORD (the same variables loanwatch's clients read); the SCRAM
# credentials are created when the storage is formatted, so they need a fresh data dir.
LW_KAFKA_SASL_PORT=${LOANWATCH_KAFKA_SASL_PORT:-}
LW_KAFKA_DIR="$LW_RUN_DIR/kafka"
LW_KAFKA_LIBS="$LW_CACHE_DIR/kafka-$LW_KAFKA_VERSION/libs"

LW_PG_PORT=${LOANWATCH_PG_PORT:-15432}
LW_PG_DIR="$LW_RUN_DIR/postgres"
LW_PG_USER=loanwatch
LW_PG_DB=loanwatch

LW_PYTHON=${LOANWATCH_PYTHON:-$LW_ROOT/.venv/bin/python}
LW_START_TIMEOUT=${LOANWATCH_START_TIMEOUT:-90}

lw_log() { printf '[local-stack] %s\n' "$*" >&2; }

# Fails with the tail of a log file, so the cause is on the terminal.
lw_fail() {
  local message=$1 log=${2:-}
  lw_log "ERROR: $message"
  if [ -n "$log" ] && [ -f "$log" ]; then
    lw_log "last lines of $log:"
    tail -n 30 "$log" >&2
  fi
  exit 1
}

# Installs Debian packages (through sudo unless root), apt's output kept in
# $LW_RUN_DIR/apt-NAME.log: a fresh machine gets what a step needs without a step by hand.
# RUNLEVEL=1 keeps a package's own service (PostgreSQL's, Prometheus's) from starting.
lw_apt_install() {
  local name=$1 log sudo=""
  shift
  log="$LW_RUN_DIR/apt-$name.log"
  mkdir -p "$LW_RUN_DIR"
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  lw_log "$name is not installed; installing Debian's $* (log $log)"
  { $sudo apt-get update -q \
      && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@"; } \
    >"$log" 2>&1 || lw_fail "apt-get install $* failed" "$log"
}

lw_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

lw_pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

#!/usr/bin/env bash
# PostgreSQL for loanwatch.
#   When LOANWATCH_DATABASE_URL is set, that server is used as it is: start only checks it.
#   Otherwise a throwaway cluster of Debian's postgresql (installed when missing) runs on
#   127.0.0.1:$LOANWATCH_PG_PORT with the database and role `loanwatch`.
#   postgres.sh start | check | running | stop | url
#   (running: exit 0 when LOANWATCH_DATABASE_URL names a server, or the cluster's server
#   runs, or anything listens on its port, answering or not: then it is not for `start` to start)
set -euo pipefail
source "$(dirname "$0")/env.sh"

datadir="$LW_PG_DIR/data"
logfile="$LW_PG_DIR/postgres.log"
local_url="postgresql://$LW_PG_USER@127.0.0.1:$LW_PG_PORT/$LW_PG_DB"

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

# PostgreSQL refuses to run as root: under root the cluster belongs to the postgres user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() { [ -f "$datadir/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$datadir" status >/dev/null 2>&1; }

check_url() {
  local url=$1 deadline=$((SECONDS + ${2:-10}))
  # connect_timeout: a port that accepts and never answers must not hang the check
  until PGCONNECT_TIMEOUT=2 psql "$url" -Atqc 'select 1' >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

start() {
  if [ -n "${LOANWATCH_DATABASE_URL:-}" ]; then
    check_url "$LOANWATCH_DATABASE_URL" "$LW_START_TIMEOUT" \
      || lw_fail "LOANWATCH_DATABASE_URL is set but that server does not answer"
    lw_log "using the PostgreSQL server named by LOANWATCH_DATABASE_URL"
    return 0
  fi
  mkdir -p "$LW_PG_DIR"
  bindir=$(pg_bindir) || { lw_apt_install postgresql postgresql; bindir=$(pg_bindir) || lw_fail "no pg_ctl after installing postgresql"; }
  if running; then
    lw_log "PostgreSQL already running on 127.0.0.1:$LW_PG_PORT"
    check_url "$local_url" "$LW_START_TIMEOUT" || lw_fail "the running PostgreSQL does not answer" "$logfile"
    return 0
  fi
  lw_port_open "$LW_PG_PORT" && lw_fail "port $LW_PG_PORT is taken by another process; set LOANWATCH_PG_PORT"
  [ "$(id -u)" -eq 0 ] && chown postgres "$LW_PG_DIR"
  if [ ! -f "$datadir/PG_VERSION" ]; then
    lw_log "creating a throwaway PostgreSQL cluster in $datadir"
    as_owner "$bindir/initdb" -D "$datadir" -U "$LW_PG_USER" --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$LW_PG_DIR/initdb.log" 2>&1 || lw_fail "initdb failed" "$LW_PG_DIR/initdb.log"
  fi
  lw_log "starting PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$LW_PG_PORT (log $logfile)"
  as_owner "$bindir/pg_ctl" -D "$datadir" -l "$logfile" -w -t "$LW_START_TIMEOUT" start \
    -o "-c listen_addresses=127.0.0.1 -p $LW_PG_PORT -k $LW_PG_DIR -c fsync=off -c max_connections=200" \
    >/dev/null || lw_fail "PostgreSQL did not start" "$logfile"
  check_url "postgresql://$LW_PG_USER@127.0.0.1:$LW_PG_PORT/postgres" "$LW_START_TIMEOUT" \
    || lw_fail "PostgreSQL started but does not answer" "$logfile"
  if [ -z "$(psql "postgresql://$LW_PG_USER@127.0.0.1:$LW_PG_PORT/postgres" -Atqc \
      "select 1 from pg_database where datname = '$LW_PG_DB'")" ]; then
    psql "postgresql://$LW_PG_USER@127.0.0.1:$LW_PG_PORT/postgres" -qc "create database $LW_PG_DB" \
      || lw_fail "could not create database $LW_PG_DB" "$logfile"
  fi
  lw_log "PostgreSQL is ready: $local_url"
}

stop() {
  [ -n "${LOANWATCH_DATABASE_URL:-}" ] && return 0
  bindir=$(pg_bindir) || return 0
  running || return 0
  lw_log "stopping PostgreSQL"
  as_owner "$bindir/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null
}

case "${1:-}" in
  start) start ;;
  check) check_url "${LOANWATCH_DATABASE_URL:-$local_url}" "${2:-5}" ;;
  running) [ -n "${LOANWATCH_DATABASE_URL:-}" ] || lw_port_open "$LW_PG_PORT" \
             || { bindir=$(pg_bindir) && running; } ;;
  stop) stop ;;
  url) echo "${LOANWATCH_DATABASE_URL:-$local_url}" ;;
  *) echo "usage: $0 start|check|running|stop|url" >&2; exit 2 ;;
esac

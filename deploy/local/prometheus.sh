#!/usr/bin/env bash
# Prometheus and promtool for the deployment tests (tests/e2e/test_prometheus.py and
# tests/unit/deploy): Debian's `prometheus` package, installed with apt when missing.
#   prometheus.sh install   make sure `prometheus` and `promtool` are on PATH
#   prometheus.sh check     exit 0 when both are there
# The Debian package also enables a system service on machines that run systemd; the tests
# never use it: they start their own server on a free loopback port with a temporary config.
set -euo pipefail
source "$(dirname "$0")/env.sh"

installed() { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; }

install() {
  installed && return 0
  lw_apt_install prometheus prometheus
  installed || lw_fail "prometheus or promtool missing after apt-get install" "$LW_RUN_DIR/apt-prometheus.log"
  lw_log "installed $(prometheus --version 2>&1 | head -n 1)"
}

case "${1:-}" in
  install) install ;;
  check) installed ;;
  *) echo "usage: $0 install|check" >&2; exit 2 ;;
esac

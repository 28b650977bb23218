#!/usr/bin/env bash
# Headless Chromium for the report tests (tests/e2e/test_backtest_report.py).
#   chromium.sh          install Debian's chromium package when it is missing; print its path
# A missing browser makes those tests fail, never skip: this script is a prerequisite of
# `make test`, so a fresh CI machine gets it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$LW_RUN_DIR"

find_chromium() { command -v chromium || command -v chromium-browser; }

if ! find_chromium >/dev/null 2>&1; then
  lw_log "chromium is not installed; installing Debian's chromium package"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core; } \
    >"$LW_RUN_DIR/apt-chromium.log" 2>&1 || lw_fail "apt-get install chromium failed" "$LW_RUN_DIR/apt-chromium.log"
fi
find_chromium || lw_fail "no chromium on PATH after installing it"

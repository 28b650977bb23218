#!/usr/bin/env bash
# Headless Chromium for the report tests (tests/e2e/test_backtest_report.py).
#   chromium.sh          install Debian's chromium package when it is missing; print its path
# A missing browser makes those tests fail, never skip: this script is a prerequisite of
# `make test`, so a fresh CI machine gets it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$LW_RUN_DIR"

find_chromium() { command -v chromium || command -v chromium-browser; }

find_chromium >/dev/null 2>&1 || lw_apt_install chromium chromium fonts-dejavu-core
find_chromium || lw_fail "no chromium on PATH after installing it"

#!/usr/bin/env bash
# jemalloc for `make bench`: Debian's libjemalloc2, installed with apt when missing; prints
# the library's path, for LD_PRELOAD.
#   jemalloc.sh
# A worker allocates and frees several kilobytes per event (state bytes, output JSON), and
# glibc's malloc took a tenth of its busy time on those sizes; under jemalloc a worker spends
# about 8% less CPU per event (bench/RESULTS.md, round 11). The image preloads it as well
# (deploy/Dockerfile); `make bench` runs the whole benchmark under it, the raw ceiling and
# the core included, so that the figures compare like with like.
set -euo pipefail
source "$(dirname "$0")/env.sh"

find_jemalloc() {
  local path
  for path in /usr/lib/*-linux-gnu/libjemalloc.so.2 /usr/lib/libjemalloc.so.2; do
    [ -e "$path" ] && { echo "$path"; return 0; }
  done
  return 1
}

find_jemalloc >/dev/null || lw_apt_install jemalloc libjemalloc2
find_jemalloc || lw_fail "no libjemalloc.so.2 after installing libjemalloc2"

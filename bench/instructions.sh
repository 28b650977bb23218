#!/usr/bin/env bash
# Instructions per event of the compiled core, as `loanwatch bench core` replays it (online-
# model scoring, model inputs encoded), counted by valgrind's cachegrind: the count for the
# first FROM+MORE of the pipeline benchmark's 200,000 simulated events (seed 42) less the
# count for the first FROM, over MORE. Unlike the wall clock, the count does not move with
# what else the machine runs, so it tells a change of a few percent apart; cache misses,
# which it does not see, still cost time.
#
#   bench/instructions.sh [FROM [MORE]]    (defaults 100000 and 20000; about 2 minutes)
#
# Needs `make compiled`; installs Debian's valgrind when it is missing. Counts vary by about
# 1,000 instructions per event between runs (string hashes are randomised per process).
set -euo pipefail
from=${1:-100000}
more=${2:-20000}
[ $((from + more)) -le 200000 ] || { echo "instructions.sh: FROM + MORE must be <= 200000" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
python=$root/.venv/bin/python
source "$root/deploy/local/env.sh"
command -v valgrind > /dev/null || lw_apt_install valgrind valgrind
[ -e "$root/build/compiled/.built" ] || { echo "instructions.sh: run make compiled first" >&2; exit 2; }
export PYTHONSAFEPATH=1 PYTHONPATH=$root/build/compiled:$root
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" -c 'import sys; from pathlib import Path; from streams.bench import write_events
write_events(Path(sys.argv[1]), 200_000, 42)' "$work/simulated.jsonl"
head -n "$from" "$work/simulated.jsonl" > "$work/first.jsonl"
head -n $((from + more)) "$work/simulated.jsonl" > "$work/events.jsonl"

replay='import sys; from pathlib import Path
from detectors.policy import load_policy; from streams.bench import worker_monitor
from streams.replay import replay_file
policy = load_policy()
replay_file(Path(sys.argv[1]), Path(sys.argv[2]), policy, progress=False,
            monitor=worker_monitor(policy))'
count() {
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
    "$python" -c "$replay" "$1" "$1.out" 2>&1 | awk '/I *refs/ { gsub(",", "", $NF); print $NF }'
}
echo "counting instructions under cachegrind (two replays side by side)..." >&2
count "$work/first.jsonl" > "$work/first.count" &
count "$work/events.jsonl" > "$work/all.count"
wait
first=$(cat "$work/first.count")
all=$(cat "$work/all.count")
echo "$(( (all - first) / more )) instructions per event (events $from to $((from + more)))"

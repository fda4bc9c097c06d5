#!/usr/bin/env bash
# TSDB figures for BENCHMARKS.md: both nodegen sizes end to end (release build, one run each).
# Usage: benches/tsdb.sh [hosts...]   (default: 100 1000), run from the workspace root or anywhere.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${LOOKOUT_SHARED:-$root/../shared}"
work="${TMPDIR:-/tmp}/lookout-tsdb-bench"
mkdir -p "$work"
cd "$root"
cargo build --release -p lookout-benches --bin tsdb_bench
for hosts in "${@:-100 1000}"; do
  for h in $hosts; do
    data="$work/nodegen-$h.om"
    # Fixed end (a multiple of 2 h) so the data is the same every run and fills exactly one block.
    [ -s "$data" ] || python3 "$shared/bench/nodegen.py" dataset --hosts "$h" --hours 2 --step 15 --end 1795608000 > "$data"
    echo "== $h hosts =="
    cargo run --release -q -p lookout-benches --bin tsdb_bench -- "$data" --workdir "$work"
  done
done

#!/usr/bin/env bash
# Two vendo binaries in one run, each through the same benchmarks, one after the other:
# /gettoken against nginx (run_bench.py) and v2 tokens next to 2012 ones (v2_bench.py).
# For a change's before and after: build the old tree elsewhere and pass both binaries.
#   bench/compare.sh OLD_VENDO NEW_VENDO [ROUNDS]
# Numbers are printed, never asserted; compare each benchmark's ratios, not raw rates (the
# machine's speed drifts between runs, the ratio against nginx in the same run much less).
set -euo pipefail
old=${1:?usage: bench/compare.sh OLD_VENDO NEW_VENDO [ROUNDS]}
new=${2:?usage: bench/compare.sh OLD_VENDO NEW_VENDO [ROUNDS]}
rounds=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
for round in $(seq 1 "$rounds"); do
  for which in old new; do
    binary=${!which}
    echo "=== round $round: $which ($binary)"
    python3 "$here/run_bench.py" --vendo "$binary" --rounds 1 --seconds 8 2>&1 |
      grep -E "vendo /gettoken|nginx static|ratio vendo/nginx|defaults"
    python3 "$here/v2_bench.py" --vendo "$binary" --seconds 5 2>&1 | grep -vE "^\s*$|chart:"
  done
done

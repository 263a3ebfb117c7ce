#!/usr/bin/env bash
# Two builds of the addon timed in alternation on the tokenizer's training step, for changes smaller than this VM's
# drift (±10–20 % over minutes): a one-off run of each a minute apart can come from two speed regimes, a pair of
# runs back to back rarely does. Build each version, copy its build/Release/torchmotion.node aside, then
#   bash scripts/bench/alternate-builds.sh [threads] [rounds] old.node new.node …
# Prints one line per run: the build, its median s / step (tokenizer-step.ts, 6 steps) and peak RSS. The addon in
# build/Release is put back afterwards with its own modification time: a copy with a fresh one would tell the build
# (ninja) that the addon is newer than its sources, and the next build after an edit could skip relinking it.
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:?threads}
rounds=${2:?rounds}
shift 2
[ $# -ge 2 ] || { echo "alternate-builds: name at least two addon builds (.node files)" >&2; exit 1; }
for build in "$@"; do [ -f "$build" ] || { echo "alternate-builds: no file $build" >&2; exit 1; }; done
addon=build/Release/torchmotion.node
saved=$(mktemp)
cp -p "$addon" "$saved"
trap 'cp -p "$saved" "$addon"; rm -f "$saved"' EXIT
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
for _ in $(seq "$rounds"); do
  for build in "$@"; do
    cp "$build" "$addon"
    node --import tsx scripts/bench/tokenizer-step.ts "$threads" 6 cpu none | tail -1 |
      node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
        console.log(process.argv[1], r.medianSeconds.toFixed(3), "s / step,", Math.round(r.peakRssMB), "MB")' "$build"
  done
done

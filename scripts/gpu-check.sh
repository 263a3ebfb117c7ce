#!/usr/bin/env bash
# One script for a lent CUDA machine (no registry there: carry node_modules from a machine that ran setup).
# Builds against the Python torch's LibTorch, runs the whole test suite with TORCHMOTION_DEVICE=cuda, records
# `info`, the overhead benchmark and the matmul/conv1d throughput; everything lands in $OUT (or ./gpu-results).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-results}"
mkdir -p "$out"
log() { printf '== %s\n' "$*" | tee -a "$out/summary.txt"; }

prefix=$(python3 -c 'import torch.utils; print(torch.utils.cmake_prefix_path)') || { log "no Python torch here"; exit 1; }
log "python torch: $(python3 -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")')"
[ -d node_modules ] || { log "node_modules missing: carry it (run scripts/setup.sh on the CPU machine first)"; exit 1; }

log "building against $prefix"
if ! CMAKE_PREFIX_PATH="$prefix" npx cmake-js compile --out build >"$out/build.log" 2>&1; then
  tail -30 "$out/build.log"; log "build failed"; exit 1
fi
grep -E 'torchmotion: LibTorch|warning' "$out/build.log" | tee -a "$out/summary.txt"
npx tsc -p tsconfig.json || { log "tsc failed"; exit 1; }

node bin/torchmotion.js info --json | tee "$out/info.json"
log "tests on cuda"
TORCHMOTION_DEVICE=cuda node scripts/run-tests.js >"$out/tests.txt" 2>&1
tail -1 "$out/tests.txt" | tee -a "$out/summary.txt"
grep -B2 -A12 'FAIL' "$out/tests.txt" | head -80

log "throughput on cuda (fp32)"
node --input-type=module -e "
import { measureThroughput } from './dist/ts/runtime.js';
for (const op of ['matmul', 'conv1d']) {
  const r = await measureThroughput({ op, size: 4096, seconds: 2, device: 'cuda' });
  console.log(op, r.gflops.toFixed(0), 'GFLOP/s');
}" | tee -a "$out/summary.txt"
log "tokenizer training step on cuda (MotionMillion config, batch 64 x 96): fp32, then bf16 autocast"
npx tsx scripts/bench/tokenizer-step.ts 1 10 cuda none | tee -a "$out/summary.txt"
npx tsx scripts/bench/tokenizer-step.ts 1 10 cuda bf16 | tee -a "$out/summary.txt"
log "call overhead"
npx tsx scripts/bench/overhead.ts --threads 1 | tee -a "$out/summary.txt"
cp -r bench-results "$out/" 2>/dev/null || true
log "done"

#!/usr/bin/env bash
# One script for a lent CUDA machine: builds the addon against the Python torch there, runs the tests that take a
# device with TORCHMOTION_DEVICE=cuda, then the CUDA benchmarks. Every result lands in $OUT (or ./gpu-results); the
# last lines printed are the summary.
#
# Such machines have no registry and may have no Node: run scripts/setup.sh on a CPU machine first, then
#   scripts/gpu-pack.sh   (packs node and node_modules into .gpu/, which this script unpacks)
# and carry .gpu and dist with the working tree. Exits with the tests' status.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-results}"
mkdir -p "$out"
log() { printf '== %s\n' "$*" | tee -a "$out/summary.txt"; }
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start )) s"; }

if ! command -v node >/dev/null && [ -f .gpu/node.xz ]; then
  mkdir -p /tmp/tm-node/bin && xz -dc .gpu/node.xz >/tmp/tm-node/bin/node && chmod +x /tmp/tm-node/bin/node
  export PATH="/tmp/tm-node/bin:$PATH"
fi
[ -d node_modules ] || { [ -f .gpu/nm.tar.xz ] && tar -xJf .gpu/nm.tar.xz; }
command -v node >/dev/null || { log "no node: carry .gpu (scripts/gpu-pack.sh)"; exit 1; }
[ -d node_modules ] || { log "node_modules missing: carry .gpu (scripts/gpu-pack.sh)"; exit 1; }
[ -f dist/ts/cli.js ] || { log "dist missing: run npm run build:ts here and carry dist"; exit 1; }
[ -d /usr/local/cuda/bin ] && export PATH="$PATH:/usr/local/cuda/bin"

log "node $(node --version); $(python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")')"
# The conv1d test runs the CPU kernels where the host has AVX-512 or AVX2 (else LibTorch's): say which host this was.
log "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader | tee -a "$out/summary.txt"

log "configure + build ($(elapsed))"
export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
# The Python torch's LibTorch, named explicitly: a LIBTORCH variable or a system LibTorch must not win here.
prefix=$(python3 -c 'import torch.utils; print(torch.utils.cmake_prefix_path)') || { log "python3 cannot import torch"; exit 1; }
if ! node node_modules/cmake-js/bin/cmake-js configure --out build --CDCMAKE_PREFIX_PATH="$prefix" >"$out/build.log" 2>&1; then
  tail -40 "$out/build.log"; log "configure failed"; exit 1
fi
# -k: one run shows every file that fails against this LibTorch, not only the first.
gen=$(grep -m1 '^CMAKE_GENERATOR:' build/CMakeCache.txt | cut -d= -f2)
keep=(-k); [ "$gen" = Ninja ] && keep=(-k 0)
if ! cmake --build build --parallel "$(nproc)" -- "${keep[@]}" >>"$out/build.log" 2>&1; then
  grep -E 'error|Error' "$out/build.log" | head -60; log "build failed ($(elapsed)); full log: $out/build.log"; exit 1
fi
grep -E 'torchmotion: LibTorch|warning:' "$out/build.log" | head -20 | tee -a "$out/summary.txt"
node bin/torchmotion.js info --json >"$out/info.json" 2>"$out/info.err"; head -c 600 "$out/info.json"; echo
log "built ($(elapsed))"

log "tokenizer benchmark on cuda ($(elapsed))"
BENCH_STEPS=20 timeout 150 node_modules/.bin/tsx scripts/bench/tokenizer-cuda.ts >"$out/bench-tokenizer.txt" 2>&1
tail -16 "$out/bench-tokenizer.txt"
cp docs/benchmarks.md bench-results/tokenizer-cuda.json "$out/" 2>/dev/null

# The fp32 golden tests compare with PyTorch on the CPU at 1e-5: keep TF32 out of cuBLAS/cuDNN for them.
log "tests on cuda ($(elapsed))"
NVIDIA_TF32_OVERRIDE=0 TORCHMOTION_DEVICE=cuda timeout "${TM_TEST_TIMEOUT:-180}" node scripts/run-tests.js \
  bridge errors async loader gradient-seam tokenizer channel-norm conv1d t2m-golden t2m-train >"$out/tests.txt" 2>&1
tests_rc=$?
tail -1 "$out/tests.txt" | tee -a "$out/summary.txt"
grep -B2 -A14 'FAIL' "$out/tests.txt" | head -60

log "c10d/NCCL: a 1-rank data-parallel tokenizer run on cuda ($(elapsed))"
printf 'preset: tiny\ntrain: { steps: 5, batch: 8, window: 64, checkpointEvery: 5, device: cuda }\n' >"$out/nccl.yaml"
rm -rf "$out/nccl-run"
timeout 90 node bin/torchmotion.js launch --nproc-per-node 1 -- tokenizer train --config "$out/nccl.yaml" --data data/demo \
  --out "$out/nccl-run" >"$out/nccl.txt" 2>&1; echo "exit $?" >>"$out/nccl.txt"
node bin/torchmotion.js info | grep distributed | tee -a "$out/summary.txt"; tail -2 "$out/nccl.txt" | tee -a "$out/summary.txt"

[ -n "${TM_SKIP_T2M:-}" ] && { log "done ($(elapsed))"; exit "$tests_rc"; }
log "text-to-motion on cuda: 343M bf16 training step 8 × 301, then generation ($(elapsed))"
for run in "train 5" "generate 1 150" "generate 8 150"; do  # $run unquoted below on purpose: mode and numbers
  BENCH_DEVICE=cuda BENCH_PRESET=343M BENCH_AUTOCAST=bf16 timeout 60 node_modules/.bin/tsx scripts/bench/t2m-run.ts $run 2>&1 | tail -1 | tee -a "$out/summary.txt"
done
log "done ($(elapsed))"
exit "$tests_rc"

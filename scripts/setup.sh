#!/usr/bin/env bash
# Idempotent set-up for a Debian/Ubuntu machine (other systems: it prints what to install or set).
#   1. LibTorch (+ OpenBLAS, Gloo headers, cmake, a C++ compiler): installed with apt when missing and run as root.
#   2. npm ci when node_modules is missing or older than package-lock.json.
#   3. The addon, rebuilt when native/ or CMakeLists.txt changed; the TypeScript, rebuilt when ts/ changed.
# Never downloads anything except through apt and npm.
#   --with-python-torch   also install python3-torch, python3-numpy and python3-scipy (reference scripts and golden tests)
#   --with-viewer         also install chromium (the viewer's browser test) and ffmpeg (MP4 renders)
#   --with-clang-format   also install clang-format (Debian 12's is 14, the version test/format.test.ts checks C++ with)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

want_python_torch=0
want_viewer=0
want_clang_format=0
for arg in "$@"; do
  case "$arg" in
    --with-python-torch) want_python_torch=1 ;;
    --with-viewer) want_viewer=1 ;;
    --with-clang-format) want_clang_format=1 ;;
    *) die "unknown option '$arg' (valid: --with-python-torch, --with-viewer, --with-clang-format)" ;;
  esac
done

# --- Node.js -----------------------------------------------------------------------------------------------
command -v node >/dev/null || die "Node.js >= 20.17 is required: install it from your distribution or nodejs.org"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=17)?0:1)' ||
  die "Node.js $(node --version) is too old: torchmotion needs >= 20.17 (cmake-js 8)"

# --- LibTorch and system packages --------------------------------------------------------------------------
torch_config_found() {
  [ -n "${CMAKE_PREFIX_PATH:-}" ] && return 0
  if [ -n "${LIBTORCH:-}" ]; then
    [ -f "$LIBTORCH/share/cmake/Torch/TorchConfig.cmake" ] && return 0
    die "LIBTORCH=$LIBTORCH has no share/cmake/Torch/TorchConfig.cmake: point it at an unpacked LibTorch folder"
  fi
  local f
  for f in /usr/lib/*/cmake/Torch/TorchConfig.cmake /usr/lib/cmake/Torch/TorchConfig.cmake /usr/local/share/cmake/Torch/TorchConfig.cmake; do
    [ -f "$f" ] && return 0
  done
  python3 -c 'import torch.utils,os,sys; sys.exit(0 if os.path.exists(os.path.join(torch.utils.cmake_prefix_path,"Torch","TorchConfig.cmake")) else 1)' \
    >/dev/null 2>&1
}

missing_debs=()
need_deb() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || missing_debs+=("$1"); }
if command -v dpkg-query >/dev/null; then
  if ! torch_config_found; then need_deb libtorch-dev; fi
  # Debian's LibTorch without OpenBLAS runs matrix products on the reference BLAS, about 14x slower.
  if dpkg-query -W libtorch-dev >/dev/null 2>&1 || [[ " ${missing_debs[*]-} " == *" libtorch-dev "* ]]; then
    need_deb libopenblas0-pthread
    need_deb libgloo-dev
  fi
  command -v cmake >/dev/null || need_deb cmake
  command -v c++ >/dev/null || need_deb g++
  command -v make >/dev/null || need_deb make
  if [ "$want_python_torch" = 1 ]; then need_deb python3-torch; need_deb python3-numpy; need_deb python3-scipy; fi
  # Captions in renders and plots are drawn with DejaVu Sans.
  need_deb fonts-dejavu-core
  if [ "$want_viewer" = 1 ]; then need_deb chromium; need_deb ffmpeg; fi
  if [ "$want_clang_format" = 1 ]; then need_deb clang-format; fi
fi

if [ "${#missing_debs[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${missing_debs[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${missing_debs[@]}" >/dev/null 2>&1 || {
      apt-get update -qq >/dev/null
      apt-get install -y -qq --no-install-recommends "${missing_debs[@]}" >/dev/null
    }
  else
    die "missing packages: ${missing_debs[*]}. Install them with
    sudo apt-get install ${missing_debs[*]}
  or, for a CUDA or non-Debian LibTorch, set LIBTORCH=/path/to/libtorch (or CMAKE_PREFIX_PATH) and rerun."
  fi
elif ! torch_config_found; then
  die "no LibTorch found. On Debian/Ubuntu: sudo apt-get install libtorch-dev libopenblas0-pthread libgloo-dev;
  elsewhere set LIBTORCH=/path/to/libtorch (unpacked LibTorch) or CMAKE_PREFIX_PATH, then rerun."
fi

# --- npm dependencies --------------------------------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- builds, only when their inputs changed ----------------------------------------------------------------
digest() { find "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16; }

native_key="$(digest native CMakeLists.txt package-lock.json)-${LIBTORCH:-}-${CMAKE_PREFIX_PATH:-}"
if [ ! -f build/Release/torchmotion.node ] || [ "$(cat build/.torchmotion-key 2>/dev/null)" != "$native_key" ]; then
  say "building the native addon (a clean build takes about 2 minutes on 2 cores)"
  npx cmake-js compile --out build --log-level error >.build-native.log 2>&1 || {
    tail -40 .build-native.log >&2; die "native build failed (full log: .build-native.log)"; }
  echo "$native_key" > build/.torchmotion-key
fi

ts_key="$(digest ts tsconfig.json package-lock.json)"
if [ ! -f dist/ts/cli.js ] || [ "$(cat dist/.torchmotion-key 2>/dev/null)" != "$ts_key" ]; then
  say "compiling TypeScript and bundling the viewer page"
  npx tsc -p tsconfig.json
  node scripts/build-viewer.js
  echo "$ts_key" > dist/.torchmotion-key
fi
# --- the bundled clips (unpacked from their archive) and the demo dataset made from them, never committed --------
node --input-type=module -e "import('./dist/ts/data/bundled.js').then((m) => m.bundledBandai())"
demo_key="$(digest data/bandai-namco-1/dataset-1.tar.gz ts/data/demo.ts)"
if [ "$(cat data/demo/.complete 2>/dev/null)" != "$demo_key" ]; then
  say "building the demo dataset in data/demo"
  rm -rf data/demo
  node bin/torchmotion.js data demo --out data/demo >/dev/null
  echo "$demo_key" > data/demo/.complete
fi
say "ready ($(node bin/torchmotion.js info --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const i=JSON.parse(s);console.log(`LibTorch ${i.torchVersion}, CUDA ${i.cuda.available}`)})'))"

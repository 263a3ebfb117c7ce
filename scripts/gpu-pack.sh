#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a machine without Node or a package registry into .gpu/ (git-ignored):
# this Node binary (xz) and node_modules without the packages only the browser viewer, the TypeScript compiler and
# editors use. Run after scripts/setup.sh; carry .gpu and dist.
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin=$(command -v node) || { echo "gpu-pack: node is not on PATH: run bash scripts/setup.sh first" >&2; exit 1; }
[ -d node_modules ] || { echo "gpu-pack: no node_modules here: run bash scripts/setup.sh first" >&2; exit 1; }
mkdir -p .gpu
xz -T0 -6 -c "$(readlink -f "$node_bin")" >.gpu/node.xz
tar -cf - --exclude=node_modules/typescript --exclude=node_modules/three --exclude=node_modules/playwright-core \
  --exclude='node_modules/@types' node_modules | xz -T0 -6 >.gpu/nm.tar.xz
du -sh .gpu/*

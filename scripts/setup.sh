#!/usr/bin/env bash
# pacer bootstrap: system packages (apt-get, when missing and permitted: libtorch, ffmpeg, …), npm dependencies, the
# native libtorch addon and the TypeScript build. Idempotent: each step is skipped when up to date.
# LIBTORCH=/path/to/libtorch builds against a pytorch.org libtorch (e.g. CUDA) instead of Debian's.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { [ -n "${PACER_QUIET:-}" ] || echo "[setup] $*" >&2; }

# 1. system packages ------------------------------------------------------------------------------
need_pkgs=()
if [ -z "${LIBTORCH:-}" ] && [ ! -f /usr/include/torch/csrc/api/include/torch/torch.h ]; then need_pkgs+=(libtorch-dev); fi
# Gloo's headers: data-parallel process groups (native/src/dist.cc) on Debian's libtorch, which links libgloo.
if [ -z "${LIBTORCH:-}" ] && [ ! -f /usr/include/gloo/algorithm.h ]; then need_pkgs+=(libgloo-dev); fi
command -v g++ >/dev/null 2>&1 || need_pkgs+=(g++)
command -v make >/dev/null 2>&1 || need_pkgs+=(make)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
# ffmpeg/ffprobe: video decoding, encoding and probing (src/video/), run as child processes.
{ command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; } || need_pkgs+=(ffmpeg)
# chromium: the preference studio's browser tests drive Debian's chromium headless through playwright-core
# (npm, which downloads no browser); PACER_NO_CHROMIUM=1 skips it (those tests then skip).
[ -n "${PACER_NO_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
# An optimised BLAS: libtorch calls sgemm through libblas.so.3, which is the slow reference BLAS
# unless OpenBLAS provides it (measured: ~3x faster GEMM here). See README "Engine".
if [ -z "${LIBTORCH:-}" ] && ! ls /usr/lib/*/openblas-pthread/libblas.so.3 >/dev/null 2>&1; then need_pkgs+=(libopenblas0-pthread); fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -z "${PACER_NO_APT:-}" ]; then
    say "installing system packages: ${need_pkgs[*]}"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >/tmp/pacer-apt.log 2>&1; then
      apt-get update -q >>/tmp/pacer-apt.log 2>&1
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >>/tmp/pacer-apt.log 2>&1 \
        || { echo "[setup] apt-get failed; see /tmp/pacer-apt.log" >&2; exit 1; }
    fi
  else
    echo "[setup] missing system packages: ${need_pkgs[*]}" >&2
    echo "[setup] install them (e.g. 'sudo apt-get install ${need_pkgs[*]}'), or set LIBTORCH=/path/to/libtorch" >&2
    echo "[setup] (a pytorch.org libtorch build) and make sure g++, make and python3 are on PATH." >&2
    exit 1
  fi
fi

# 2. npm dependencies ------------------------------------------------------------------------------
if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ] || \
   { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  say "installing npm dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  touch node_modules/.package-lock.json
fi

# 3. native addon (the package's install step, shared: it skips an up-to-date build) ----------------
node scripts/install.mjs

# 4. TypeScript ------------------------------------------------------------------------------------
node scripts/prune-dist.mjs
if [ ! -f dist/index.js ] || [ -n "$(find src tsconfig.json -newer dist/.tsbuildinfo 2>/dev/null | head -1)" ]; then
  say "compiling TypeScript"
  node_modules/.bin/tsc -p tsconfig.json
fi
say "ready"

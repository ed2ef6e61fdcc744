#!/usr/bin/env bash
# pacer's CUDA path on a GPU machine whose PyTorch has CUDA: builds the addon against that PyTorch's
# bundled libtorch and headers (LIBTORCH=<site-packages>/torch, its C++ ABI), checks the build sees
# the GPU, runs the CUDA tests (test/gpu.test.js: GPU against CPU steps, bf16/fp16 autocast with
# float32 master weights, GradScaler, fused AdamW, an NCCL group) and the data-parallel tests, then
# the benchmarks: a ~125M-parameter GPT-2 training step (d 768, 12 layers, 12 heads, seq 1024, vocab
# 50304) in bf16, fp16 and fp32 against PyTorch eager in the same run (tokens/s, MFU against the
# best GEMM of the step's dtype measured on the same GPU). Everything lands in
# bench/results/gpu-<UTC time>/ (commit it). Bring node (>= 20) along if the machine has none:
# NODE=/path/to/node scripts/gpu-check.sh. PYTHON picks the interpreter with the CUDA PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
NODE=${NODE:-$(command -v node || true)}
[ -n "$NODE" ] && [ -x "$NODE" ] || { echo "gpu-check: no node; set NODE=/path/to/node (>= 20)" >&2; exit 1; }
export PATH="$(dirname "$NODE"):$PATH" PACER_PYTHON="$PY"
"$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
  || { echo "gpu-check: $PY's PyTorch sees no CUDA device" >&2; exit 1; }
LIBTORCH="$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
LIBTORCH_CXX11_ABI="$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')"
export LIBTORCH LIBTORCH_CXX11_ABI

out="bench/results/gpu-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  "$NODE" --version
} >"$out/machine.txt" 2>&1

npm run setup 2>&1 | tee "$out/setup.log"
"$NODE" -e "import('./dist/engine/index.js').then((e) => console.log(JSON.stringify({ ...e.buildInfo(),
  dist: e.distBackends(), fusedAdamW: e.hasFusedAdamW() })))" | tee "$out/build.json"
grep -q '"cuda":true' "$out/build.json" || { echo "gpu-check: the addon was built without CUDA" >&2; exit 1; }

status=0
for t in gpu distributed amp; do
  "$NODE" --expose-gc --test --test-concurrency=1 "test/$t.test.js" >"$out/test-$t.tap" 2>&1 || status=1
  tail -8 "$out/test-$t.tap"
done

gpt=(--vocab 50304 --d-model 768 --layers 12 --heads 12 --seq 1024 --batch 8 --steps 20 --threads 1 --rounds 3)
for amp in bf16 fp16 none; do
  "$NODE" bin/pacer.js bench engine --device cuda --amp "$amp" "${gpt[@]}" --vs-pytorch --json \
    >"$out/bench-engine-$amp.json" 2>"$out/bench-engine-$amp.err" || status=1
  "$NODE" -e "const r = JSON.parse(require('fs').readFileSync('$out/bench-engine-$amp.json', 'utf8'));
    const x = r.runs[0]; console.log('$amp', x.tokens_per_s, 'tokens/s, MFU', x.mfu, 'of', x.sgemm_best_gflops,
    'GFLOP/s GEMM; vs PyTorch', x.ratio_vs_pytorch ?? r.pytorch_error)" || true
done
echo "gpu-check: results in $out (exit $status)"
exit $status

#!/usr/bin/env python3
"""PyTorch-eager peer for `pacer bench generate`: greedy decoding with a KV cache (torch.cat per
step, as transformers' DynamicCache does) for a Llama-architecture checkpoint folder written by
pacer. Prints one JSON line with tokens/s per batch size and the generated tokens of row 0.

usage: pytorch_generate.py DIR ARGS.json   with {"batches":[1,16],"prompt_len":32,"new_tokens":64,"threads":2,
                                             "repeats":3,"prompts":[[...], ...]}
"""
import json, os, sys, time
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_llama import Llama

d, a = sys.argv[1], json.load(open(sys.argv[2]))
# intra-op threads as pacer asks (PACER_INTRA_OP); OpenBLAS threads come from OPENBLAS_NUM_THREADS
torch.set_num_threads(int(os.environ.get("PACER_INTRA_OP", a["threads"])))
model = Llama(d)


def run(B):
    ids = torch.tensor(a["prompts"][:B], dtype=torch.long)
    with torch.no_grad():
        t0 = time.perf_counter()
        cache = [None] * model.cfg["num_hidden_layers"]
        nxt = model(ids, cache=cache)[:, -1].argmax(-1)
        out = [nxt]
        for s in range(a["new_tokens"] - 1):
            nxt = model(nxt[:, None], pos0=a["prompt_len"] + s, cache=cache)[:, -1].argmax(-1)
            out.append(nxt)
        dt = time.perf_counter() - t0
    return dt, torch.stack(out, 1)


res = {}
for B in a["batches"]:
    run(B)  # warm-up
    times, toks = [], None
    for _ in range(a["repeats"]):
        dt, toks = run(B)
        times.append(dt)
    times.sort()
    med = times[len(times) // 2]
    res[str(B)] = {"tokens_per_s": B * a["new_tokens"] / med, "seconds": med, "tokens_row0": toks[0].tolist()}
print(json.dumps({"torch": torch.__version__, "results": res}))

#!/usr/bin/env python3
"""PyTorch-eager peer for `pacer bench vlm`: the same Qwen2.5-VL checkpoint (hub layout, written by pacer)
in plain PyTorch (the model: bench/torch_qwen2_vl.py). Times the processor (uint8 frames -> antialiased
bicubic resize -> CLIP normalise -> patches), the vision tower, a training step (forward + backward of the
mean completion cross-entropy, vision tower included) and greedy generation with a KV cache (video encoded
once, rope deltas for decoding). Prints one JSON line.

usage: pytorch_qwen2_vl.py DIR ARGS.json FRAMES.u8
  ARGS: {"threads", "repeats", "new_tokens", "train_batch", "gen_batches", "frames_shape": [N, T, H, W, 3],
         "video_pixels": [min, max], "fps", "prompt": [ids with pads expanded], "completion": [ids]}
"""
import json, os, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_qwen2_vl import QwenVL

d, a = sys.argv[1], json.load(open(sys.argv[2]))
torch.set_num_threads(int(os.environ.get("PACER_INTRA_OP", a["threads"])))
M = QwenVL(d)
cfg, W, Tp = M.cfg, M.W, M.Tp
N, T, H, Wd, _ = a["frames_shape"]
raw = torch.frombuffer(bytearray(open(sys.argv[3], "rb").read()), dtype=torch.uint8).view(N, T, H, Wd, 3)
process = lambda v: M.process(v, a["video_pixels"])
vision, lm, embed = M.vision, M.lm, M.embed
rope_index = lambda ids, grids, spgt: M.rope_index(ids, grids, spgt)
spgt = Tp / a["fps"]
processed = [process(raw[i]) for i in range(N)]


def timed(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2]


def train_step():
    B = a["train_batch"]
    ids = torch.tensor([a["prompt"] + a["completion"]] * B)
    px = torch.cat([processed[i][0] for i in range(B)])
    grids = [processed[i][1] for i in range(B)]
    pos, _ = rope_index(ids, grids, spgt)
    logits = lm(embed(ids, vision(px, grids)), pos)
    n = len(a["completion"])
    loss = F.cross_entropy(logits[:, -n - 1:-1].reshape(-1, logits.shape[-1]), ids[:, -n:].reshape(-1))
    for w in W.values():
        w.grad = None
    loss.backward()


def generate(B):
    with torch.no_grad():
        ids = torch.tensor([a["prompt"]] * B)
        grids = [processed[i][1] for i in range(B)]
        vis = vision(torch.cat([processed[i][0] for i in range(B)]), grids)
        pos, deltas = rope_index(ids, grids, spgt)
        cache = [None] * cfg["num_hidden_layers"]
        nxt = lm(embed(ids, vis), pos, cache)[:, -1].argmax(-1)
        out = [nxt]
        L = ids.shape[1]
        for s in range(a["new_tokens"] - 1):
            p = (L + s + deltas).view(1, B, 1).expand(3, B, 1)
            nxt = lm(W["model.embed_tokens.weight"][nxt[:, None]], p, cache)[:, -1].argmax(-1)
            out.append(nxt)
        return torch.stack(out, 1)


reps = a["repeats"]
res = {"torch": torch.__version__, "processor_ms": 1000 * timed(lambda: process(raw[0]), reps)}
with torch.no_grad():
    px0, g0 = processed[0]
    res["vision_tower_ms"] = 1000 * timed(lambda: vision(px0, [g0]), reps)
    ids0 = torch.tensor([a["prompt"] + a["completion"]])
    pos0, _ = rope_index(ids0, [g0], spgt)
    vis0 = vision(px0, [g0])
    res["language_model_ms"] = 1000 * timed(lambda: lm(embed(ids0, vis0), pos0), reps)
res["train_step_ms"] = 1000 * timed(train_step, reps)
res["generate"] = {}
for B in a["gen_batches"]:
    toks = generate(B)
    s = timed(lambda: generate(B), reps)
    res["generate"][str(B)] = {"seconds": s, "tokens_per_s": B * a["new_tokens"] / s, "tokens_row0": toks[0].tolist()}
print(json.dumps(res))

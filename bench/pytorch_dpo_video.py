#!/usr/bin/env python3
"""PyTorch-eager peer for `pacer bench dpo --video`: one DPO (sigmoid) epoch over pairs whose chosen and
rejected answers share a video prompt, written straightforwardly on the Qwen2.5-VL of
bench/torch_qwen2_vl.py. Per batch: each pair's frames are read (.npz) and processed; the policy's vision
tower encodes the batch's videos in one call (with gradients) and its language model runs the chosen and
the rejected rows in one right-padded batch, each pair's video embeddings written into both of its rows;
the reference (a frozen copy) does the same without gradients; -log sigmoid(beta ((pc - rc) - (pr - rr)))
averaged over the pairs, backward, AdamW. The same work as pacer's trainer (one tower pass per video per
model), without reference caching. Same checkpoint, token ids and frame files as pacer's run.

usage: pytorch_dpo_video.py MODEL_DIR ARGS.json
  ARGS: {"pairs": [[prompt ids (pads expanded), chosen ids, rejected ids]], "videos": [.npz per pair],
         "video_pixels": [min, max], "fps", "batch", "beta", "lr", "threads", "pad"}
Prints one JSON line: seconds (and CPU seconds), steps, losses and [mean chosen, mean rejected] log-prob sums per step, and
the seconds spent processing frames, in the reference and in the policy's step (forward, backward, AdamW).
"""
import json, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_qwen2_vl import QwenVL, completion_logps, padded

d, a = sys.argv[1], json.load(open(sys.argv[2]))
# intra-op threads as pacer asks (PACER_INTRA_OP); OpenBLAS threads come from OPENBLAS_NUM_THREADS
torch.set_num_threads(int(os.environ.get("PACER_INTRA_OP", a["threads"])))
torch.manual_seed(0)
policy = QwenVL(d)
ref = policy.copy()
opt = torch.optim.AdamW(policy.parameters(), lr=a["lr"], weight_decay=0.0)
spgt = policy.Tp / a["fps"]
pairs, bs, beta = a["pairs"], a["batch"], a["beta"]


def video(path):
    with np.load(path) as z:
        return policy.process(torch.from_numpy(z["frames"]), a["video_pixels"])


def pair_logps(model, batch, px, grids):
    """Log-prob sums of the chosen and the rejected completions: rows chosen (pair order), then rejected."""
    prompts = [p for p, _, _ in batch] * 2
    seqs = [p + c for p, c, _ in batch] + [p + r for p, _, r in batch]
    ids, lengths = padded(seqs, a["pad"])
    vis = model.vision(px, grids)
    pos, _ = model.rope_index(ids, grids * 2, spgt, lengths)
    logits = model.lm(model.embed(ids, torch.cat([vis, vis])), pos)
    lp, _ = completion_logps(logits, prompts, seqs)
    s, n = lp.sum(1), len(batch)
    return s[:n], s[n:]


t0, c0 = time.perf_counter(), time.process_time()
losses, logps = [], []
split = {"process_s": 0.0, "policy_s": 0.0, "reference_s": 0.0}
for s in range(0, len(pairs), bs):
    b = pairs[s:s + bs]
    t1 = time.perf_counter()
    processed = [video(f) for f in a["videos"][s:s + bs]]
    px, grids = torch.cat([p for p, _ in processed]), [g for _, g in processed]
    t2 = time.perf_counter()
    with torch.no_grad():
        rc, rr = pair_logps(ref, b, px, grids)
    t3 = time.perf_counter()
    pc, pr = pair_logps(policy, b, px, grids)
    loss = -F.logsigmoid(beta * ((pc - rc) - (pr - rr))).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
    logps.append([pc.mean().item(), pr.mean().item()])
    t4 = time.perf_counter()
    split["process_s"] += t2 - t1
    split["reference_s"] += t3 - t2
    split["policy_s"] += t4 - t3
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": dt, "cpu_seconds": cpu, "steps": len(losses), "losses": losses, "logps": logps, "split": split,
                  "torch": torch.__version__}))

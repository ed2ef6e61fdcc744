#!/usr/bin/env python3
"""PyTorch-eager peer for `pacer bench grpo --video`: the same GRPO step on video prompts, written
straightforwardly on the Qwen2.5-VL of bench/torch_qwen2_vl.py, timed in the three parts pacer's trainer
logs (timing/{generation,scoring,training}_s). The frames of every video are read (.npz) and processed
once before the loop (pacer decodes and resizes them once when it prepares the data).

  generation  per step P prompts (equal length, one video each): the vision tower encodes each video
              once, the language model prefills each prompt once, and the KV cache, the last logits and
              the rope deltas are repeated for the group's G completions; then G completions per prompt
              sampled at temperature 1 (the vision pads never sampled, as pacer's trainer biases them),
              stopping at EOS or new_tokens, torch.cat per step as transformers' DynamicCache;
  scoring     decode each completion (the word-level vocabulary: tokens concatenated, special tokens
              left out) and an accuracy reward (the last number equals the answer);
  training    group advantages (r - mean) / (std + 1e-4); one forward with gradients over the
              right-padded prompt+completion batch — the tower encodes the P videos once, each video's
              embeddings written into its G rows — per-token log-probs, the clipped surrogate with DAPO
              normalisation (pi_old = pi_theta detached, as TRL with num_iterations 1), a reference
              forward and k3 KL when beta > 0, backward, gradient clipping at 1.0, AdamW.

With --check (before anything is timed), the per-token log-probs pacer's trainer computed for the
completions in ARGS.check are recomputed here by the training path (the batched forward above) and by
the sampling path (prefill once per prompt, then the completion's tokens fed one at a time through the
KV cache), and compared.

usage: pytorch_grpo_video.py MODEL_DIR ARGS.json [--check]
  ARGS: {"prompts": [[ids with the video pads expanded]], "videos": [.npz per prompt], "answers", "G", "P",
         "new_tokens", "steps", "beta", "lr", "eps_low", "eps_high", "threads", "pad", "eos", "vocab": [id ->
         token], "specials": n (ids below n are special), "never": [ids never sampled], "video_pixels",
         "fps", "check": {"rows": [{"prompt": index, "completion": [ids], "logps": [pacer's per token]}]}}
Prints one JSON line.
"""
import json, os, re, statistics, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_grpo import timed_steps
from torch_qwen2_vl import QwenVL, completion_logps, padded

d, a = sys.argv[1], json.load(open(sys.argv[2]))
# intra-op threads as pacer asks (PACER_INTRA_OP); OpenBLAS threads come from OPENBLAS_NUM_THREADS
torch.set_num_threads(int(os.environ.get("PACER_INTRA_OP", a["threads"])))
torch.manual_seed(0)
policy = QwenVL(d)
ref = policy.copy() if a["beta"] > 0 else None
opt = torch.optim.AdamW(policy.parameters(), lr=a["lr"], weight_decay=0.0)
G, P, pad, eos = a["G"], a["P"], a["pad"], a["eos"]
spgt = policy.Tp / a["fps"]
LAYERS = policy.cfg["num_hidden_layers"]


def video(path):
    with np.load(path) as z:
        return policy.process(torch.from_numpy(z["frames"]), a["video_pixels"])


processed = [video(f) for f in a["videos"]]


def media(sel):
    return torch.cat([processed[i][0] for i in sel]), [processed[i][1] for i in sel]


def rollout(sel, forced=None):
    """G completions of each prompt in sel (EOS included); forced: [P*G] token lists fed instead of
    sampling, returning the log-probs of those tokens under the raw distribution."""
    prompts = [a["prompts"][i] for i in sel]
    L = len(prompts[0])
    assert all(len(p) == L for p in prompts), "the benchmark's prompts have equal lengths"
    px, grids = media(sel)
    with torch.no_grad():
        ids = torch.tensor(prompts)
        vis = policy.vision(px, grids)
        pos, deltas = policy.rope_index(ids, grids, spgt)
        cache = [None] * LAYERS
        logits = policy.lm(policy.embed(ids, vis), pos, cache)[:, -1]
        cache = [(k.repeat_interleave(G, 0), v.repeat_interleave(G, 0)) for k, v in cache]
        logits, deltas = logits.repeat_interleave(G, 0), deltas.repeat_interleave(G)
        B = len(sel) * G
        out, lps, done = [[] for _ in range(B)], [[] for _ in range(B)], [False] * B
        for s in range(a["new_tokens"] if forced is None else max(map(len, forced))):
            if forced is None:
                logits[:, a["never"]] = float("-inf")
                nxt = torch.multinomial(logits.softmax(-1), 1).squeeze(1)
            else:
                nxt = torch.tensor([f[s] if s < len(f) else pad for f in forced])
                lp = logits.log_softmax(-1).gather(1, nxt[:, None]).squeeze(1)
            for b in range(B):
                if not done[b]:
                    out[b].append(int(nxt[b]))
                    if forced is not None:
                        lps[b].append(float(lp[b]))
                    done[b] = int(nxt[b]) == eos or (forced is not None and len(out[b]) == len(forced[b]))
            if all(done):
                break
            nxt = torch.where(torch.tensor(done), torch.full_like(nxt, pad), nxt)
            p = (L + s + deltas).view(1, B, 1).expand(3, B, 1)
            logits = policy.lm(policy.embed(nxt[:, None]), p, cache)[:, -1]
    return out if forced is None else lps


def decode(ids):
    return "".join(a["vocab"][i] for i in ids if i >= a["specials"])


def accuracy(text, answer):
    nums = re.findall(r"-?\d+", text)
    return 1.0 if nums and nums[-1] == answer else 0.0


def token_logps(model, sel, comps):
    """Per-token log-probs [P*G, T] of the completions (rows grouped by prompt) and their mask."""
    prompts = [a["prompts"][i] for i in sel for _ in range(G)]
    seqs = [p + (c if c else [pad]) for p, c in zip(prompts, comps)]
    ids, lengths = padded(seqs, pad)
    px, grids = media(sel)
    vis = model.vision(px, grids)
    n = vis.shape[0] // len(sel)
    vis = vis.view(len(sel), n, -1).repeat_interleave(G, 0).reshape(len(sel) * G * n, -1)
    pos, _ = model.rope_index(ids, [g for g in grids for _ in range(G)], spgt, lengths)
    return completion_logps(model.lm(model.embed(ids, vis), pos), prompts, seqs)


def check():
    rows = a["check"]["rows"]
    sel = sorted({r["prompt"] for r in rows})
    assert [r["prompt"] for r in rows] == [i for i in sel for _ in range(G)], "check rows: G per prompt, in order"
    comps = [r["completion"] for r in rows]
    with torch.no_grad():
        lp, _ = token_logps(policy, sel, comps)
    plen = len(a["prompts"][sel[0]])
    train = [lp[k, plen - 1:plen - 1 + len(c)].tolist() for k, c in enumerate(comps)]
    sample = rollout(sel, forced=comps)
    rel = lambda xs, ys: max(abs(x - y) / max(abs(y), 1.0) for x, y in zip(sum(xs, []), sum(ys, [])))
    want = [r["logps"] for r in rows]
    return {"tokens": sum(map(len, comps)), "training_path_max_rel_diff": rel(train, want),
            "sampling_path_max_rel_diff": rel(sample, want)}


result = {"torch": torch.__version__}
if "--check" in sys.argv[3:]:
    result["check"] = check()
times, lengths = timed_steps(
    a, G, P, lambda sel: sel, rollout, lambda c, ans: accuracy(decode(c), ans), token_logps, policy, ref, opt)
result.update({k + "_s": statistics.median(v) for k, v in times.items()})
result["completion_mean_length"] = sum(lengths) / len(lengths)
print(json.dumps(result))

#!/usr/bin/env python3
"""PyTorch-eager peer for `pacer bench grpo`: the same GRPO step written straightforwardly, timed
in the same three parts as pacer's trainer logs them.

  generation — sample G completions per prompt at temperature 1 with a KV cache (torch.cat per step,
               as transformers' DynamicCache), stopping at EOS or max_new_tokens;
  scoring    — decode each completion (the tokenizer's vocabulary, byte-level BPE as in the fixture)
               and score it with an accuracy reward (the last number equals the answer);
  training   — group advantages (r − mean)/(std + 1e-4), one forward with gradients over the
               right-padded prompt+completion batch, per-token log-probs, the clipped surrogate
               with DAPO normalisation (π_old = π_θ detached, one pass, as TRL with
               num_iterations 1), a reference forward and k3 KL when beta > 0, backward, gradient
               clipping at 1.0, AdamW.

usage: pytorch_grpo.py MODEL_DIR ARGS.json (ARGS: prompts [[ids]], answers, G, new_tokens, steps,
       beta, lr, eps_low, eps_high, threads, pad, eos, vocab [id -> token string]). Prints one JSON line.
"""
import json, os, re, sys
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_grpo import timed_steps
from torch_llama import Llama, load_safetensors

d, a = sys.argv[1], json.load(open(sys.argv[2]))
# intra-op threads as pacer asks (PACER_INTRA_OP); OpenBLAS threads come from OPENBLAS_NUM_THREADS
torch.set_num_threads(int(os.environ.get("PACER_INTRA_OP", a["threads"])))
torch.manual_seed(0)
W = load_safetensors(os.path.join(d, "model.safetensors"))
policy = Llama(d, W)
ref = Llama(d, {k: v.clone() for k, v in W.items()}) if a["beta"] > 0 else None
opt = torch.optim.AdamW(policy.parameters(), lr=a["lr"], weight_decay=0.0)
G, P, pad, eos = a["G"], a["P"], a["pad"], a["eos"]
vocab = a["vocab"]


def decode(ids):
    s = "".join(vocab[i] for i in ids if i != eos)
    return s.replace("\u0120", " ").replace("\u010a", "\n")


def rollout(prompts):
    """Left-padded batch, KV-cache sampling; returns completion id lists (EOS included)."""
    B, L = len(prompts), max(map(len, prompts))
    ids = torch.full((B, L), pad, dtype=torch.long)
    mask = torch.zeros(B, L, dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, L - len(p):] = torch.tensor(p)
        mask[i, L - len(p):] = 1
    out = [[] for _ in range(B)]
    done = [False] * B
    cache = [None] * policy.cfg["num_hidden_layers"]
    with torch.no_grad():
        # positions follow the mask (left padding), as pacer and transformers do
        pos = (mask.cumsum(1) - 1).clamp(min=0)
        x, m = ids, mask
        for s in range(a["new_tokens"]):
            logits = policy(x, m, cache=cache, pos=pos)[:, -1]
            nxt = torch.multinomial(logits.softmax(-1), 1).squeeze(1)
            for b in range(B):
                if not done[b]:
                    out[b].append(int(nxt[b]))
                    done[b] = int(nxt[b]) == eos
            if all(done):
                break
            nxt = torch.where(torch.tensor(done), torch.full_like(nxt, pad), nxt)
            m = torch.cat([m, torch.ones(B, 1, dtype=torch.long)], 1)
            pos = pos[:, -1:] + 1
            x = nxt[:, None]
    return out


def accuracy(text, answer):
    nums = re.findall(r"-?\d+", text)
    return 1.0 if nums and nums[-1] == answer else 0.0


def token_logps(model, prompts, comps):
    seqs = [p + c for p, c in zip(prompts, comps)]
    T = max(map(len, seqs))
    ids = torch.full((len(seqs), T), pad, dtype=torch.long)
    mask = torch.zeros(len(seqs), T, dtype=torch.long)
    lab = torch.full((len(seqs), T), -100, dtype=torch.long)
    for i, (p, s) in enumerate(zip(prompts, seqs)):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
        lab[i, len(p) - 1:len(s) - 1] = torch.tensor(s[len(p):])
    lp = model(ids, mask).log_softmax(-1)
    m = (lab != -100).float()
    return lp.gather(2, lab.clamp(min=0)[..., None]).squeeze(2) * m, m


times, lengths = timed_steps(
    a, G, P, lambda sel: [a["prompts"][i] for i in sel for _ in range(G)], rollout,
    lambda c, ans: accuracy(decode(c), ans), token_logps, policy, ref, opt)
med = lambda xs: sorted(xs)[len(xs) // 2]
print(json.dumps({"torch": torch.__version__, **{k + "_s": med(v) for k, v in times.items()},
                  "completion_mean_length": sum(lengths) / len(lengths)}))

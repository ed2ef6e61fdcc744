#!/usr/bin/env python3
"""PyTorch-eager peer for `pacer bench dpo`: one DPO (sigmoid) epoch written straightforwardly —
per batch, policy forwards of chosen and rejected (with gradients) and reference forwards of both
(no_grad, no caching), loss, backward, AdamW. Same Llama checkpoint and token ids as pacer's run.

usage: pytorch_dpo.py MODEL_DIR ARGS.json  (ARGS: pairs [[prompt, chosen, rejected] ids], batch,
       beta, lr, threads, pad). Prints one JSON line.
"""
import json, os, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_llama import Llama, load_safetensors

d, a = sys.argv[1], json.load(open(sys.argv[2]))
# intra-op threads as pacer asks (PACER_INTRA_OP); OpenBLAS threads come from OPENBLAS_NUM_THREADS
torch.set_num_threads(int(os.environ.get("PACER_INTRA_OP", a["threads"])))
torch.manual_seed(0)


def logps(model, prompts, comps):
    seqs = [p + c for p, c in zip(prompts, comps)]
    T = max(map(len, seqs))
    ids = torch.full((len(seqs), T), a["pad"], dtype=torch.long)
    mask = torch.zeros(len(seqs), T, dtype=torch.long)
    lab = torch.full((len(seqs), T), -100, dtype=torch.long)
    for i, (p, s) in enumerate(zip(prompts, seqs)):
        ids[i, :len(s)] = torch.tensor(s); mask[i, :len(s)] = 1
        lab[i, len(p) - 1:len(s) - 1] = torch.tensor(s[len(p):])
    lp = model(ids, mask).log_softmax(-1)
    m = lab != -100
    return (lp.gather(2, lab.clamp(min=0)[..., None]).squeeze(2) * m).sum(1)


W = load_safetensors(os.path.join(d, "model.safetensors"))
policy, ref = Llama(d, W), Llama(d, {k: v.clone() for k, v in W.items()})
opt = torch.optim.AdamW(policy.parameters(), lr=a["lr"], weight_decay=0.0)
pairs, bs, beta = a["pairs"], a["batch"], a["beta"]
t0 = time.perf_counter()
losses = []
for s in range(0, len(pairs), bs):
    b = pairs[s:s + bs]
    P_, C_, R_ = [x[0] for x in b], [x[1] for x in b], [x[2] for x in b]
    pc, pr = logps(policy, P_, C_), logps(policy, P_, R_)
    with torch.no_grad():
        rc, rr = logps(ref, P_, C_), logps(ref, P_, R_)
    loss = -F.logsigmoid(beta * ((pc - rc) - (pr - rr))).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "steps": len(losses), "first_loss": losses[0], "last_loss": losses[-1], "torch": torch.__version__}))

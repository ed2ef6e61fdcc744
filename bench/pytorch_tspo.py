#!/usr/bin/env python3
"""The TSPO training step of `pacer bench tspo --vs-pytorch` in plain PyTorch eager (float32), on the
same features, needle mask and initial agent weights (args.json from pacer): the temporal agent as in
the authors' MultiModal_Align (sinusoidal time encoding at t/T, q/k/v with a local window mask of 12,
masked_fill(-1e6), no output projection, MLP residual; scores (cos(h, q) + cos(f, q)) / tau), G subsets by
Gumbel-top-k (F.gumbel_softmax(scores, tau=1) then topk, as model/utils.py), the needle oracle's reward
(right iff >= k/4 chosen frames in the needle) + the needle fraction, A = (r - mean)/(std + 1e-4), the
scores again with gradients, log_softmax at the chosen frames, the ratio loss
-(1/G) sum_i mean_k exp(lp - lp.detach()) A_i, backward, clip_grad_norm_(1), AdamW. The two score passes
(without, then with gradients) are the structure pacer's trainer uses. Prints one JSON line: median
step and topk-selection seconds over the measured steps (the first warms up), and the initial scores
(pacer checks they equal its own).

usage: python3 bench/pytorch_tspo.py ARGS.json
"""
import json
import math
import os
import sys
import time
import torch
import torch.nn.functional as F

a = json.load(open(sys.argv[1]))
torch.set_num_threads(int(os.environ.get("PACER_INTRA_OP", a["threads"])))
torch.manual_seed(a["seed"])
T, D, H, W, G, K = a["frames"], a["dim"], a["heads"], a["window"], a["generations"], a["k"]
f = torch.tensor(a["f"], dtype=torch.float32).view(T, D)
q = torch.tensor(a["q"], dtype=torch.float32).view(1, D)
mask = torch.tensor(a["mask"], dtype=torch.bool)


class Agent(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.q = torch.nn.Linear(D, D)
        self.k = torch.nn.Linear(D, D)
        self.v = torch.nn.Linear(D, D)
        self.fc1 = torch.nn.Linear(D, D)
        self.fc2 = torch.nn.Linear(D, D)
        div = torch.exp(torch.arange(0, D, 2, dtype=torch.float32) * (-math.log(10000.0) / D))
        pos = torch.arange(T, dtype=torch.float32).unsqueeze(1) / T
        pe = torch.zeros(T, D)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe)
        m = torch.zeros(T, T)
        for j in range(T):
            for i in range(W):
                m[j, min(max(j - W // 2 + i, 0), T - 1)] = 1.0
        self.register_buffer("masked", m == 0)

    def forward(self, f, q, tau):
        hd = D // H
        x = f + self.pe
        split = lambda t: t.view(T, H, hd).permute(1, 0, 2)
        s = split(self.q(x)) @ split(self.k(x)).transpose(-2, -1) / hd ** 0.5
        s = s.masked_fill(self.masked, -1e6)
        att = (F.softmax(s, dim=-1) @ split(self.v(x))).permute(1, 0, 2).reshape(T, D)
        h = self.fc2(torch.relu(self.fc1(att))) + f
        cross = (h @ q.t() / (h.norm(dim=-1, keepdim=True) * q.norm(dim=-1).unsqueeze(0) + 1e-6)).mean(-1)
        clip = torch.nn.CosineSimilarity(dim=-1)(q[:1], f)
        return (cross + clip) / tau


agent = Agent()
names = {"temporal.Self_q": agent.q, "temporal.Self_k": agent.k, "temporal.Self_v": agent.v,
         "mlp.0": agent.fc1, "mlp.2": agent.fc2}
with torch.no_grad():
    for n, lin in names.items():
        lin.weight.copy_(torch.tensor(a["weights"][n + ".weight"]).view(D, D))
        lin.bias.copy_(torch.tensor(a["weights"][n + ".bias"]))
opt = torch.optim.AdamW(agent.parameters(), lr=a["lr"], weight_decay=0.0)
need = max(1, K // 4)
steps = a["steps"] + 1
with torch.no_grad():
    scores0 = agent(f, q, 0.025).tolist()


def step(s):
    tau = 0.025 - (0.025 - 0.01) / steps * s
    opt.zero_grad()
    with torch.no_grad():
        sc = agent(f, q, tau)
        sets = [torch.topk(F.gumbel_softmax(sc, tau=1), K).indices for _ in range(G)]
    r = []
    for c in sets:
        inside = int(mask[c].sum())
        r.append((1.0 if inside >= need else 0.0) + inside / K)
    r = torch.tensor(r)
    adv = (r - r.mean()) / (r.std() + 1e-4)
    lp = F.log_softmax(agent(f, q, tau), dim=-1)
    rho = torch.stack([torch.exp(lp[c] - lp[c].detach()).mean() for c in sets])
    loss = -(rho * adv).sum() / G
    loss.backward()
    torch.nn.utils.clip_grad_norm_(agent.parameters(), 1.0)
    opt.step()


times, sel = [], []
for s in range(steps):
    t0 = time.perf_counter()
    step(s)
    times.append(time.perf_counter() - t0)
for s in range(steps):
    t0 = time.perf_counter()
    with torch.no_grad():
        torch.topk(agent(f, q, 0.01), K).indices.sort()
    sel.append(time.perf_counter() - t0)
med = lambda v: sorted(v[1:])[len(v[1:]) // 2] if len(v) > 2 else v[-1]
print(json.dumps({"torch": torch.__version__, "step_s": med(times), "select_s": med(sel), "scores0": scores0}))

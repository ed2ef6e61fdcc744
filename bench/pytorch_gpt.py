#!/usr/bin/env python3
"""PyTorch-eager peer for `pacer bench engine`: the same GPT-2-architecture model, optimizer and
step, written as a user would (nanoGPT-style attention). Prints one JSON line.

usage: pytorch_gpt.py '{"vocab":512,"d_model":256,"layers":4,"heads":4,"seq":128,"batch":8,
                         "steps":10,"threads":1,"seed":0[,"device":"cuda","amp":"bf16"]}'
On CUDA: torch.autocast in bf16/fp16 (fp16 with a GradScaler), fused AdamW, synchronised timing.
"""
import json, math, os, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

a = json.loads(sys.argv[1])
# intra-op threads as pacer asks (PACER_INTRA_OP); OpenBLAS threads come from OPENBLAS_NUM_THREADS
torch.set_num_threads(int(os.environ.get("PACER_INTRA_OP", a["threads"])))
torch.manual_seed(a["seed"])
V, C, L, H, T, B = a["vocab"], a["d_model"], a["layers"], a["heads"], a["seq"], a["batch"]
DEV, AMP = a.get("device", "cpu"), a.get("amp", "none")
AMP_DTYPE = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(AMP)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C, eps=1e-5)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C, eps=1e-5)
        self.c_fc = nn.Linear(C, 4 * C)
        self.mlp_proj = nn.Linear(4 * C, C)
        self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)).view(1, 1, T, T))

    def attn(self, x):
        Bx, Tx, _ = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(Bx, Tx, H, C // H).transpose(1, 2)
        k = k.view(Bx, Tx, H, C // H).transpose(1, 2)
        v = v.view(Bx, Tx, H, C // H).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(~self.mask[:, :, :Tx, :Tx], float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(Bx, Tx, C)
        return self.c_proj(y)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = nn.LayerNorm(C, eps=1e-5)
        for n, p in self.named_parameters():
            if n.endswith("bias"):
                nn.init.zeros_(p)
            elif "ln_" in n:
                nn.init.ones_(p)
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx, targets):
        t = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))
        for b in self.h:
            x = b(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)
        return F.cross_entropy(logits.view(-1, V), targets.reshape(-1))


model = GPT().to(DEV)
fused = DEV != "cpu"
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1, **({"fused": True} if fused else {}))
scaler = torch.cuda.amp.GradScaler() if AMP == "fp16" else None
data = torch.randint(0, V, (B, T + 1)).to(DEV)
x, y = data[:, :T], data[:, 1:]
sync = torch.cuda.synchronize if DEV != "cpu" else (lambda: None)
times, losses = [], []
for i in range(2 + a["steps"]):
    sync()
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    with torch.autocast(DEV.split(":")[0], dtype=AMP_DTYPE, enabled=AMP_DTYPE is not None):
        loss = model(x, y)
    if scaler:
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    else:
        loss.backward()
        opt.step()
    sync()
    dt = time.perf_counter() - t0
    losses.append(loss.item())
    if i >= 2:
        times.append(dt)
times.sort()
med = times[len(times) // 2] if len(times) % 2 else 0.5 * (times[len(times) // 2 - 1] + times[len(times) // 2])
print(json.dumps({
    "step_ms": med * 1000,
    "tokens_per_s": B * T / med,
    "params": sum(p.numel() for p in model.parameters()),
    "threads": torch.get_num_threads(),
    "torch": torch.__version__,
    "first_loss": losses[0],
    "last_loss": losses[-1],
}))

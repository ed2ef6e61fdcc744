#!/usr/bin/env python3
"""PyTorch-eager peer for `pacer bench dpo`: one DPO (sigmoid) epoch written straightforwardly —
per batch, policy forwards of chosen and rejected (with gradients) and reference forwards of both
(no_grad, no caching), loss, backward, AdamW. Same Llama checkpoint and token ids as pacer's run.

usage: pytorch_dpo.py MODEL_DIR ARGS.json  (ARGS: pairs [[prompt, chosen, rejected] ids], batch,
       beta, lr, threads, pad). Prints one JSON line.
"""
import json, math, os, struct, sys, time
import torch
import torch.nn.functional as F

d, a = sys.argv[1], json.load(open(sys.argv[2]))
torch.set_num_threads(a["threads"])
torch.manual_seed(0)
cfg = json.load(open(os.path.join(d, "config.json")))


def load(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    return {k: torch.frombuffer(bytearray(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]), dtype=torch.float32).reshape(v["shape"]).clone()
            for k, v in hdr.items() if k != "__metadata__"}


class Llama(torch.nn.Module):
    def __init__(self, W):
        super().__init__()
        self.p = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v) for k, v in W.items()})
        self.H, self.Hkv, self.C = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["hidden_size"]
        self.hd = self.C // self.H
        self.inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, self.hd, 2).float() / self.hd))

    def w(self, k):
        return self.p[k.replace(".", "__")]

    def rms(self, x, k):
        return self.w(k) * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + cfg["rms_norm_eps"]))

    def forward(self, ids, mask):
        B, T = ids.shape
        H, Hkv, hd, C = self.H, self.Hkv, self.hd, self.C
        fr = torch.arange(T).float()[:, None] * self.inv
        emb = torch.cat([fr, fr], -1)
        cos, sin = emb.cos(), emb.sin()
        rot = lambda x: torch.cat([-x[..., hd // 2:], x[..., :hd // 2]], -1)
        allowed = torch.ones(T, T, dtype=torch.bool).tril()[None, None] & mask.bool()[:, None, None, :]
        x = self.w("model.embed_tokens.weight")[ids]
        for l in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{l}."
            h = self.rms(x, p + "input_layernorm.weight")
            q = F.linear(h, self.w(p + "self_attn.q_proj.weight")).view(B, T, H, hd).transpose(1, 2)
            k = F.linear(h, self.w(p + "self_attn.k_proj.weight")).view(B, T, Hkv, hd).transpose(1, 2)
            v = F.linear(h, self.w(p + "self_attn.v_proj.weight")).view(B, T, Hkv, hd).transpose(1, 2)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            k, v = k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
            s = s.masked_fill(~allowed, float("-inf"))
            y = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
            x = x + F.linear(y, self.w(p + "self_attn.o_proj.weight"))
            h = self.rms(x, p + "post_attention_layernorm.weight")
            x = x + F.linear(F.silu(F.linear(h, self.w(p + "mlp.gate_proj.weight"))) * F.linear(h, self.w(p + "mlp.up_proj.weight")), self.w(p + "mlp.down_proj.weight"))
        return F.linear(self.rms(x, "model.norm.weight"), self.w("lm_head.weight"))


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


W = load(os.path.join(d, "model.safetensors"))
policy, ref = Llama(W), Llama({k: v.clone() for k, v in W.items()})
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

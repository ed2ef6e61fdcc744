#!/usr/bin/env python3
"""PyTorch-eager peer for `pacer bench generate`: greedy decoding with a KV cache (torch.cat per
step, as transformers' DynamicCache does) for a Llama-architecture checkpoint folder written by
pacer. Prints one JSON line with tokens/s per batch size and the generated tokens of row 0.

usage: pytorch_generate.py DIR ARGS.json   with {"batches":[1,16],"prompt_len":32,"new_tokens":64,"threads":2,
                                             "repeats":3,"prompts":[[...], ...]}
"""
import json, math, os, struct, sys, time
import torch
import torch.nn.functional as F

d, a = sys.argv[1], json.load(open(sys.argv[2]))
torch.set_num_threads(a["threads"])
cfg = json.load(open(os.path.join(d, "config.json")))


def load_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    dt = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16, "I64": torch.int64}
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        out[k] = torch.frombuffer(bytearray(raw[8 + n + b:8 + n + e]), dtype=dt[v["dtype"]]).reshape(v["shape"]).float()
    return out


W = load_safetensors(os.path.join(d, "model.safetensors"))
H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
C = cfg["hidden_size"]
hd = C // H
eps = cfg["rms_norm_eps"]
L = cfg["num_hidden_layers"]
inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2).float() / hd))


def rms(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rot(x):
    return torch.cat([-x[..., hd // 2:], x[..., :hd // 2]], -1)


def forward(ids, pos0, cache):
    B, T = ids.shape
    pos = torch.arange(pos0, pos0 + T)
    fr = pos[:, None].float() * inv
    emb = torch.cat([fr, fr], -1)
    cos, sin = emb.cos(), emb.sin()
    x = W["model.embed_tokens.weight"][ids]
    for l in range(L):
        p = f"model.layers.{l}."
        h = rms(x, W[p + "input_layernorm.weight"])
        q = F.linear(h, W[p + "self_attn.q_proj.weight"]).view(B, T, H, hd).transpose(1, 2)
        k = F.linear(h, W[p + "self_attn.k_proj.weight"]).view(B, T, Hkv, hd).transpose(1, 2)
        v = F.linear(h, W[p + "self_attn.v_proj.weight"]).view(B, T, Hkv, hd).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        if cache[l] is not None:
            k = torch.cat([cache[l][0], k], 2)
            v = torch.cat([cache[l][1], v], 2)
        cache[l] = (k, v)
        kk, vv = k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1)
        s = (q @ kk.transpose(-1, -2)) / math.sqrt(hd)
        if T > 1:
            S = kk.shape[2]
            s = s.masked_fill(torch.ones(T, S, dtype=torch.bool).triu(S - T + 1), float("-inf"))
        y = (s.softmax(-1) @ vv).transpose(1, 2).reshape(B, T, C)
        x = x + F.linear(y, W[p + "self_attn.o_proj.weight"])
        h = rms(x, W[p + "post_attention_layernorm.weight"])
        x = x + F.linear(F.silu(F.linear(h, W[p + "mlp.gate_proj.weight"])) * F.linear(h, W[p + "mlp.up_proj.weight"]), W[p + "mlp.down_proj.weight"])
    x = rms(x, W["model.norm.weight"])
    return F.linear(x[:, -1], W.get("lm_head.weight", W["model.embed_tokens.weight"]))


def run(B):
    ids = torch.tensor(a["prompts"][:B], dtype=torch.long)
    with torch.no_grad():
        t0 = time.perf_counter()
        cache = [None] * L
        nxt = forward(ids, 0, cache).argmax(-1)
        out = [nxt]
        for s in range(a["new_tokens"] - 1):
            nxt = forward(nxt[:, None], a["prompt_len"] + s, cache).argmax(-1)
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

#!/usr/bin/env python3
"""PyTorch-eager peer for `pacer bench vlm`: the same Qwen2.5-VL checkpoint (hub layout, written by pacer)
in plain PyTorch. Times the processor (uint8 frames -> antialiased bicubic resize -> CLIP normalise ->
patches), the vision tower, a training step (forward + backward of the mean completion cross-entropy,
vision tower included) and greedy generation with a KV cache (video encoded once, rope deltas for decoding).
Attention in the vision tower is batched per group of equal-length segments (windows / frames), as pacer
does, rather than transformers' Python loop over segments. Prints one JSON line.

usage: pytorch_qwen2_vl.py DIR ARGS.json FRAMES.u8
  ARGS: {"threads", "repeats", "new_tokens", "train_batch", "gen_batches", "frames_shape": [N, T, H, W, 3],
         "video_pixels": [min, max], "fps", "prompt": [ids with pads expanded], "completion": [ids]}
"""
import json, math, os, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_llama import load_safetensors

d, a = sys.argv[1], json.load(open(sys.argv[2]))
torch.set_num_threads(int(os.environ.get("PACER_INTRA_OP", a["threads"])))
cfg = json.load(open(os.path.join(d, "config.json")))
vc = cfg["vision_config"]
W = {k: torch.nn.Parameter(v) for k, v in load_safetensors(os.path.join(d, "model.safetensors")).items()}
N, T, H, Wd, _ = a["frames_shape"]
raw = torch.frombuffer(bytearray(open(sys.argv[3], "rb").read()), dtype=torch.uint8).view(N, T, H, Wd, 3)
MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]) * 255
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]) * 255
P, Tp, m = vc["patch_size"], vc["temporal_patch_size"], vc["spatial_merge_size"]


def smart_resize(h, w, factor, lo, hi):
    hb, wb = round(h / factor) * factor, round(w / factor) * factor
    if hb * wb > hi:
        b = math.sqrt(h * w / hi)
        hb, wb = math.floor(h / b / factor) * factor, math.floor(w / b / factor) * factor
    elif hb * wb < lo:
        b = math.sqrt(lo / (h * w))
        hb, wb = math.ceil(h * b / factor) * factor, math.ceil(w * b / factor) * factor
    return hb, wb


def process(v):
    x = v.permute(0, 3, 1, 2)
    rh, rw = smart_resize(H, Wd, P * m, *a["video_pixels"])
    if (rh, rw) != (H, Wd):
        x = F.interpolate(x.float(), size=(rh, rw), mode="bicubic", align_corners=False, antialias=True)
        x = x.clamp_(0, 255).round_().to(torch.uint8)
    x = (x.float() - MEAN.view(1, 3, 1, 1)) / STD.view(1, 3, 1, 1)
    if x.shape[0] % Tp:
        x = torch.cat([x, x[-1:].repeat(Tp - x.shape[0] % Tp, 1, 1, 1)])
    gt, gh, gw = x.shape[0] // Tp, rh // P, rw // P
    x = x.view(gt, Tp, 3, gh // m, m, P, gw // m, m, P).permute(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return x.reshape(gt * gh * gw, -1), (gt, gh, gw)


def rot(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


def rms(x, w, eps=1e-6):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def lin(n, x):
    return F.linear(x, W[n + ".weight"], W.get(n + ".bias"))


def layout(grids):
    win = vc["window_size"] // m // P
    pos, windex, full, wlens, base = [], [], [], [], 0
    for t, h, w in grids:
        hp = torch.arange(h).view(-1, 1).expand(h, w).reshape(h // m, m, w // m, m).permute(0, 2, 1, 3).flatten()
        wp = torch.arange(w).view(1, -1).expand(h, w).reshape(h // m, m, w // m, m).permute(0, 2, 1, 3).flatten()
        pos.append(torch.stack([hp, wp], -1).repeat(t, 1))
        full += [h * w] * t
        lh, lw = h // m, w // m
        idx = torch.arange(t * lh * lw).view(t, lh, lw)
        for g in range(t):
            for i0 in range(0, lh, win):
                for j0 in range(0, lw, win):
                    blk = idx[g, i0:i0 + win, j0:j0 + win].flatten()
                    windex.append(blk + base)
                    wlens.append(blk.numel() * m * m)
        base += t * lh * lw
    return torch.cat(pos), torch.cat(windex), full, wlens


def groups(lengths):
    starts = [0]
    for l in lengths[:-1]:
        starts.append(starts[-1] + l)
    by = {}
    for s, l in zip(starts, lengths):
        by.setdefault(l, []).append(s)
    if len(by) == 1:
        (l, st), = by.items()
        return [(l, len(st), None)], None
    order, gs = [], []
    for l, st in by.items():
        rows = torch.cat([torch.arange(s, s + l) for s in st])
        order.append(rows)
        gs.append((l, len(st), rows))
    return gs, torch.argsort(torch.cat(order))


def vision(px, grids):
    V, heads = vc["hidden_size"], vc["num_heads"]
    hd = V // heads
    h = F.linear(px, W["visual.patch_embed.proj.weight"].view(V, -1))
    pos, widx, full, wlens = layout(grids)
    unit = m * m
    perm = (widx.view(-1, 1) * unit + torch.arange(unit)).flatten()
    h, pos = h[perm], pos[perm]
    inv = 1.0 / (10000 ** (torch.arange(0, hd // 2, 2).float() / (hd // 2)))
    rpe = (pos.float().unsqueeze(-1) * inv).flatten(1)
    emb = torch.cat([rpe, rpe], -1)[:, None]
    cos, sin = emb.cos(), emb.sin()
    plans = {"full": groups(full), "win": groups(wlens)}
    S = h.shape[0]
    for i in range(vc["depth"]):
        p = f"visual.blocks.{i}."
        gs, inverse = plans["full" if i in vc["fullatt_block_indexes"] else "win"]
        q, k, v = lin(p + "attn.qkv", rms(h, W[p + "norm1.weight"])).view(S, 3, heads, hd).unbind(1)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        outs = []
        for l, n, rows in gs:
            pick = lambda t: (t if rows is None else t[rows]).view(n, l, heads, hd).transpose(1, 2)
            qq, kk, vv = pick(q), pick(k), pick(v)
            att = (qq @ kk.transpose(-1, -2) * hd ** -0.5).softmax(-1)
            outs.append((att @ vv).transpose(1, 2).reshape(n * l, V))
        o = torch.cat(outs) if len(outs) > 1 else outs[0]
        h = h + lin(p + "attn.proj", o if inverse is None else o[inverse])
        x = rms(h, W[p + "norm2.weight"])
        h = h + lin(p + "mlp.down_proj", F.silu(lin(p + "mlp.gate_proj", x)) * lin(p + "mlp.up_proj", x))
    x = lin("visual.merger.mlp.2", F.gelu(lin("visual.merger.mlp.0", rms(h, W["visual.merger.ln_q.weight"]).view(-1, V * unit))))
    return x[torch.argsort(widx)]


def rope_index(ids, grids, spgt):
    """Rows with one video each, no padding (the benchmark's prompts)."""
    out = []
    for b, row in enumerate(ids.tolist()):
        s = row.index(cfg["video_token_id"])
        t, h, w = grids[b]
        lh, lw = h // m, w // m
        pos = [[i] * 3 for i in range(s)]
        ti = (torch.arange(t).view(-1, 1).expand(-1, lh * lw) * int(spgt) * vc["tokens_per_second"]).flatten()
        hi = torch.arange(lh).view(1, -1, 1).expand(t, -1, lw).flatten()
        wi = torch.arange(lw).view(1, 1, -1).expand(t, lh, -1).flatten()
        vis = torch.stack([ti, hi, wi], 1) + s
        nxt = int(vis.max()) + 1
        rest = len(row) - s - vis.shape[0]
        out.append(torch.cat([torch.tensor(pos).view(-1, 3), vis, torch.arange(rest).view(-1, 1).expand(-1, 3) + nxt]))
    pos = torch.stack(out).permute(2, 0, 1)
    return pos, (pos.amax((0, 2)) + 1 - ids.shape[1])


C, Hh = cfg["hidden_size"], cfg["num_attention_heads"]
Hkv, hd = cfg["num_key_value_heads"], cfg["hidden_size"] // cfg["num_attention_heads"]
INV = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
SEC = cfg["rope_scaling"]["mrope_section"] * 2


def lm(x, pos, cache=None):
    B, Tn = x.shape[:2]
    fr = pos.float()[..., None] * INV
    emb = torch.cat([fr, fr], -1)
    cos = torch.cat([c[i % 3] for i, c in enumerate(emb.cos().split(SEC, -1))], -1)[:, None]
    sin = torch.cat([s[i % 3] for i, s in enumerate(emb.sin().split(SEC, -1))], -1)[:, None]
    past = 0 if cache is None or cache[0] is None else cache[0][0].shape[2]
    causal = None
    if Tn > 1:
        causal = torch.full((Tn, Tn + past), float("-inf")).triu(1 + past)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms(x, W[p + "input_layernorm.weight"], cfg["rms_norm_eps"])
        q = lin(p + "self_attn.q_proj", h).view(B, Tn, Hh, hd).transpose(1, 2)
        k = lin(p + "self_attn.k_proj", h).view(B, Tn, Hkv, hd).transpose(1, 2)
        v = lin(p + "self_attn.v_proj", h).view(B, Tn, Hkv, hd).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        if cache is not None:
            if cache[l] is not None:
                k, v = torch.cat([cache[l][0], k], 2), torch.cat([cache[l][1], v], 2)
            cache[l] = (k, v)
        k, v = k.repeat_interleave(Hh // Hkv, 1), v.repeat_interleave(Hh // Hkv, 1)
        s = q @ k.transpose(-1, -2) * hd ** -0.5
        if causal is not None:
            s = s + causal
        x = x + lin(p + "self_attn.o_proj", (s.softmax(-1) @ v).transpose(1, 2).reshape(B, Tn, C))
        h = rms(x, W[p + "post_attention_layernorm.weight"], cfg["rms_norm_eps"])
        x = x + lin(p + "mlp.down_proj", F.silu(lin(p + "mlp.gate_proj", h)) * lin(p + "mlp.up_proj", h))
    x = rms(x, W["model.norm.weight"], cfg["rms_norm_eps"])
    return F.linear(x, W.get("lm_head.weight", W["model.embed_tokens.weight"]))


def embed(ids, vis):
    x = W["model.embed_tokens.weight"][ids]
    return x.masked_scatter((ids == cfg["video_token_id"]).unsqueeze(-1).expand_as(x), vis)


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

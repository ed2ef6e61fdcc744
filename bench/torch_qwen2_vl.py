"""The PyTorch-eager Qwen2.5-VL used by pacer's video benchmark peers (bench/pytorch_qwen2_vl.py,
bench/pytorch_dpo_video.py, bench/pytorch_grpo_video.py): a plain implementation over a checkpoint folder
pacer wrote (hub layout) — the video processor (uint8 frames -> antialiased bicubic resize -> CLIP
normalise -> patches), the vision tower (2-D rotary, window attention, the merger), M-RoPE positions
(get_rope_index for rows with one video each), the language model with an optional KV cache, and the
embedding of vision outputs at the video pads. Attention in the vision tower is batched per group of
equal-length segments (windows / frames), as pacer does, rather than transformers' Python loop over
segments. Only torch is needed.
"""
import json, math, os
import torch
import torch.nn.functional as F

from torch_llama import load_safetensors

MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]) * 255
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]) * 255


def smart_resize(h, w, factor, lo, hi):
    hb, wb = round(h / factor) * factor, round(w / factor) * factor
    if hb * wb > hi:
        b = math.sqrt(h * w / hi)
        hb, wb = math.floor(h / b / factor) * factor, math.floor(w / b / factor) * factor
    elif hb * wb < lo:
        b = math.sqrt(lo / (h * w))
        hb, wb = math.ceil(h * b / factor) * factor, math.ceil(w * b / factor) * factor
    return hb, wb


def rot(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


def rms(x, w, eps=1e-6):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def groups(lengths):
    """Segments of equal length batched together: [(length, count, rows or None)], and the inverse order."""
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


class QwenVL:
    """Weights (torch Parameters, by hub name) and the model's functions."""

    def __init__(self, model_dir, weights=None):
        self.cfg = cfg = json.load(open(os.path.join(model_dir, "config.json")))
        self.vc = cfg["vision_config"]
        W = weights if weights is not None else load_safetensors(os.path.join(model_dir, "model.safetensors"))
        self.W = {k: torch.nn.Parameter(v) for k, v in W.items()}
        self.C, self.Hh = cfg["hidden_size"], cfg["num_attention_heads"]
        self.Hkv, self.hd = cfg["num_key_value_heads"], cfg["hidden_size"] // cfg["num_attention_heads"]
        self.inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, self.hd, 2).float() / self.hd))
        self.sec = cfg["rope_scaling"]["mrope_section"] * 2
        self.P, self.Tp, self.m = self.vc["patch_size"], self.vc["temporal_patch_size"], self.vc["spatial_merge_size"]

    def parameters(self):
        return list(self.W.values())

    def copy(self):
        """A frozen copy (a DPO / KL reference)."""
        c = QwenVL.__new__(QwenVL)
        c.__dict__.update(self.__dict__)
        c.W = {k: torch.nn.Parameter(v.detach().clone(), requires_grad=False) for k, v in self.W.items()}
        return c

    def lin(self, n, x):
        return F.linear(x, self.W[n + ".weight"], self.W.get(n + ".bias"))

    def process(self, v, video_pixels):
        """uint8 frames [T, H, W, 3] -> (patch rows [t*h*w, 3*Tp*P*P], (t, h, w))."""
        P, Tp, m = self.P, self.Tp, self.m
        H, Wd = v.shape[1], v.shape[2]
        x = v.permute(0, 3, 1, 2)
        rh, rw = smart_resize(H, Wd, P * m, *video_pixels)
        if (rh, rw) != (H, Wd):
            x = F.interpolate(x.float(), size=(rh, rw), mode="bicubic", align_corners=False, antialias=True)
            x = x.clamp_(0, 255).round_().to(torch.uint8)
        x = (x.float() - MEAN.view(1, 3, 1, 1)) / STD.view(1, 3, 1, 1)
        if x.shape[0] % Tp:
            x = torch.cat([x, x[-1:].repeat(Tp - x.shape[0] % Tp, 1, 1, 1)])
        gt, gh, gw = x.shape[0] // Tp, rh // P, rw // P
        x = x.view(gt, Tp, 3, gh // m, m, P, gw // m, m, P).permute(0, 3, 6, 4, 7, 2, 1, 5, 8)
        return x.reshape(gt * gh * gw, -1), (gt, gh, gw)

    def layout(self, grids):
        m = self.m
        win = self.vc["window_size"] // m // self.P
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

    def vision(self, px, grids):
        """The vision tower and merger on the patch rows of one or more videos: [sum of tokens, hidden]."""
        vc, W, m = self.vc, self.W, self.m
        V, heads = vc["hidden_size"], vc["num_heads"]
        hd = V // heads
        h = F.linear(px, W["visual.patch_embed.proj.weight"].view(V, -1))
        pos, widx, full, wlens = self.layout(grids)
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
            q, k, v = self.lin(p + "attn.qkv", rms(h, W[p + "norm1.weight"])).view(S, 3, heads, hd).unbind(1)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            outs = []
            for l, n, rows in gs:
                pick = lambda t: (t if rows is None else t[rows]).view(n, l, heads, hd).transpose(1, 2)
                qq, kk, vv = pick(q), pick(k), pick(v)
                att = (qq @ kk.transpose(-1, -2) * hd ** -0.5).softmax(-1)
                outs.append((att @ vv).transpose(1, 2).reshape(n * l, V))
            o = torch.cat(outs) if len(outs) > 1 else outs[0]
            h = h + self.lin(p + "attn.proj", o if inverse is None else o[inverse])
            x = rms(h, W[p + "norm2.weight"])
            h = h + self.lin(p + "mlp.down_proj", F.silu(self.lin(p + "mlp.gate_proj", x)) * self.lin(p + "mlp.up_proj", x))
        merged = rms(h, W["visual.merger.ln_q.weight"]).view(-1, V * unit)
        x = self.lin("visual.merger.mlp.2", F.gelu(self.lin("visual.merger.mlp.0", merged)))
        return x[torch.argsort(widx)]

    def rope_index(self, ids, grids, spgt, lengths=None):
        """M-RoPE positions [3, B, T] of rows with one video each (right padding past `lengths`: position 1,
        as transformers fills it) and the rope deltas [B] for decoding."""
        m, vc = self.m, self.vc
        out, deltas = [], []
        T = ids.shape[1]
        for b, row in enumerate(ids.tolist()):
            n = T if lengths is None else lengths[b]
            row = row[:n]
            s = row.index(self.cfg["video_token_id"])
            t, h, w = grids[b]
            lh, lw = h // m, w // m
            ti = (torch.arange(t).view(-1, 1).expand(-1, lh * lw) * int(spgt) * vc["tokens_per_second"]).flatten()
            hi = torch.arange(lh).view(1, -1, 1).expand(t, -1, lw).flatten()
            wi = torch.arange(lw).view(1, 1, -1).expand(t, lh, -1).flatten()
            vis = torch.stack([ti, hi, wi], 1) + s
            nxt = int(vis.max()) + 1
            rest = n - s - vis.shape[0]
            pos = torch.cat([torch.arange(s).view(-1, 1).expand(-1, 3), vis, torch.arange(rest).view(-1, 1).expand(-1, 3) + nxt])
            deltas.append(int(pos.max()) + 1 - n)
            out.append(torch.cat([pos, torch.ones(T - n, 3, dtype=pos.dtype)]))
        return torch.stack(out).permute(2, 0, 1), torch.tensor(deltas)

    def lm(self, x, pos, cache=None):
        """Logits [B, T, vocab] of input embeddings x [B, T, C] at M-RoPE positions pos [3, B, T]; causal (right
        padding needs no mask); cache: one (k, v) per layer (None at first), extended in place."""
        cfg, W = self.cfg, self.W
        C, Hh, Hkv, hd = self.C, self.Hh, self.Hkv, self.hd
        B, Tn = x.shape[:2]
        fr = pos.float()[..., None] * self.inv
        emb = torch.cat([fr, fr], -1)
        cos = torch.cat([c[i % 3] for i, c in enumerate(emb.cos().split(self.sec, -1))], -1)[:, None]
        sin = torch.cat([s[i % 3] for i, s in enumerate(emb.sin().split(self.sec, -1))], -1)[:, None]
        past = 0 if cache is None or cache[0] is None else cache[0][0].shape[2]
        causal = None
        if Tn > 1:
            causal = torch.full((Tn, Tn + past), float("-inf")).triu(1 + past)
        for l in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{l}."
            h = rms(x, W[p + "input_layernorm.weight"], cfg["rms_norm_eps"])
            q = self.lin(p + "self_attn.q_proj", h).view(B, Tn, Hh, hd).transpose(1, 2)
            k = self.lin(p + "self_attn.k_proj", h).view(B, Tn, Hkv, hd).transpose(1, 2)
            v = self.lin(p + "self_attn.v_proj", h).view(B, Tn, Hkv, hd).transpose(1, 2)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            if cache is not None:
                if cache[l] is not None:
                    k, v = torch.cat([cache[l][0], k], 2), torch.cat([cache[l][1], v], 2)
                cache[l] = (k, v)
            k, v = k.repeat_interleave(Hh // Hkv, 1), v.repeat_interleave(Hh // Hkv, 1)
            s = q @ k.transpose(-1, -2) * hd ** -0.5
            if causal is not None:
                s = s + causal
            x = x + self.lin(p + "self_attn.o_proj", (s.softmax(-1) @ v).transpose(1, 2).reshape(B, Tn, C))
            h = rms(x, W[p + "post_attention_layernorm.weight"], cfg["rms_norm_eps"])
            x = x + self.lin(p + "mlp.down_proj", F.silu(self.lin(p + "mlp.gate_proj", h)) * self.lin(p + "mlp.up_proj", h))
        x = rms(x, W["model.norm.weight"], cfg["rms_norm_eps"])
        return F.linear(x, W.get("lm_head.weight", W["model.embed_tokens.weight"]))

    def embed(self, ids, vis=None):
        """Token embeddings with the vision outputs written at the video pads, in order."""
        x = self.W["model.embed_tokens.weight"][ids]
        if vis is None:
            return x
        return x.masked_scatter((ids == self.cfg["video_token_id"]).unsqueeze(-1).expand_as(x), vis)


def padded(seqs, pad):
    """Right-padded ids [B, T] and the lengths."""
    T = max(map(len, seqs))
    ids = torch.full((len(seqs), T), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
    return ids, [len(s) for s in seqs]


def completion_logps(logits, prompts, seqs):
    """Per-token log-probs [B, T] of each row's completion tokens (0 elsewhere) and their mask."""
    B, T = logits.shape[:2]
    lab = torch.full((B, T), -100, dtype=torch.long)
    for i, (p, s) in enumerate(zip(prompts, seqs)):
        lab[i, len(p) - 1:len(s) - 1] = torch.tensor(s[len(p):])
    m = lab != -100
    lp = logits.log_softmax(-1).gather(2, lab.clamp(min=0)[..., None]).squeeze(2)
    return lp * m, m.float()

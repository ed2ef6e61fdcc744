"""The PyTorch-eager Llama used by pacer's benchmark peers (bench/pytorch_generate.py,
bench/pytorch_dpo.py): a plain implementation of LlamaForCausalLM (RMSNorm, RoPE, grouped-query
attention, SwiGLU) over a checkpoint folder pacer wrote, with an optional KV cache, plus a minimal
safetensors reader (only torch is needed)."""
import json, math, os, struct
import torch
import torch.nn.functional as F


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


class Llama(torch.nn.Module):
    def __init__(self, model_dir, weights=None):
        super().__init__()
        self.cfg = cfg = json.load(open(os.path.join(model_dir, "config.json")))
        W = weights if weights is not None else load_safetensors(os.path.join(model_dir, "model.safetensors"))
        self.p = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v) for k, v in W.items()})
        self.H, self.C = cfg["num_attention_heads"], cfg["hidden_size"]
        self.Hkv = cfg.get("num_key_value_heads", self.H)
        self.hd = self.C // self.H
        self.inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, self.hd, 2).float() / self.hd))

    def w(self, k):
        return self.p[k.replace(".", "__")]

    def rms(self, x, k):
        return self.w(k) * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.cfg["rms_norm_eps"]))

    def forward(self, ids, mask=None, pos0=0, cache=None, pos=None):
        """Logits [B, T, V]. mask [B, S] marks real key tokens (S = cached + new; right or left
        padding); pos [B, T] gives per-row positions (left padding), else pos0, pos0+1, …; cache is
        a list with one (k, v) entry per layer (None at first), extended in place, as a KV-cache
        decoding loop uses."""
        B, T = ids.shape
        H, Hkv, hd, C = self.H, self.Hkv, self.hd, self.C
        if pos is None:
            pos = torch.arange(pos0, pos0 + T)[None]
        fr = pos.float()[..., None] * self.inv
        emb = torch.cat([fr, fr], -1)[:, None]
        cos, sin = emb.cos(), emb.sin()
        rot = lambda x: torch.cat([-x[..., hd // 2:], x[..., :hd // 2]], -1)
        x = self.w("model.embed_tokens.weight")[ids]
        for l in range(self.cfg["num_hidden_layers"]):
            p = f"model.layers.{l}."
            h = self.rms(x, p + "input_layernorm.weight")
            q = F.linear(h, self.w(p + "self_attn.q_proj.weight")).view(B, T, H, hd).transpose(1, 2)
            k = F.linear(h, self.w(p + "self_attn.k_proj.weight")).view(B, T, Hkv, hd).transpose(1, 2)
            v = F.linear(h, self.w(p + "self_attn.v_proj.weight")).view(B, T, Hkv, hd).transpose(1, 2)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            if cache is not None:
                if cache[l] is not None:
                    k, v = torch.cat([cache[l][0], k], 2), torch.cat([cache[l][1], v], 2)
                cache[l] = (k, v)
            k, v = k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1)
            S = k.shape[2]
            s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
            if T > 1 or mask is not None:
                causal = torch.ones(T, S, dtype=torch.bool).tril(S - T)[None, None]
                allowed = causal if mask is None else causal & mask.bool()[:, None, None, :]
                # a query at a padding position may see no real key: let it see itself (no NaN rows)
                allowed = allowed | causal.triu(S - T)
                s = s.masked_fill(~allowed, float("-inf"))
            y = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
            x = x + F.linear(y, self.w(p + "self_attn.o_proj.weight"))
            h = self.rms(x, p + "post_attention_layernorm.weight")
            x = x + F.linear(F.silu(F.linear(h, self.w(p + "mlp.gate_proj.weight"))) * F.linear(h, self.w(p + "mlp.up_proj.weight")), self.w(p + "mlp.down_proj.weight"))
        head = self.w("lm_head.weight") if "lm_head__weight" in self.p else self.w("model.embed_tokens.weight")
        return F.linear(self.rms(x, "model.norm.weight"), head)

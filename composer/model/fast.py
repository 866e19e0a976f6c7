"""A lean forward pass over the trained GPT-2 weights with a preallocated KV cache.

Sampling feeds one token per step, where the generic `transformers` forward spends most of its time
in Python dispatch; this is the same arithmetic (tested against it) in a few tensor ops per layer.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


LAYER_NORM_EPS = 1e-5  # GPT-2's


class FastGPT:
    """Built from a GPT-2 state dict and its ModelConfig (no `transformers` import needed)."""

    def __init__(self, state: dict, config):
        sd = {k: v.detach().float() for k, v in state.items()}
        cfg = config
        self.n_head, self.n_embd, self.eps = cfg.n_head, cfg.n_embd, LAYER_NORM_EPS
        self.n_positions = cfg.n_positions
        self.wte, self.wpe = sd["transformer.wte.weight"], sd["transformer.wpe.weight"]
        self.ln_f = (sd["transformer.ln_f.weight"], sd["transformer.ln_f.bias"])
        self.layers = []
        for i in range(cfg.n_layer):
            p = f"transformer.h.{i}."
            self.layers.append({name: sd[p + name] for name in (
                "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                "mlp.c_proj.weight", "mlp.c_proj.bias")})

    @classmethod
    def from_model(cls, model) -> "FastGPT":
        return cls(model.state_dict(), model.config)

    def new_cache(self, batch: int) -> dict:
        shape = (batch, self.n_head, self.n_positions, self.n_embd // self.n_head)
        return {"k": [torch.zeros(shape) for _ in self.layers], "v": [torch.zeros(shape) for _ in self.layers],
                "length": 0}

    @torch.inference_mode()
    def step(self, ids: torch.Tensor, cache: dict) -> torch.Tensor:
        """Logits at the last position after feeding `ids` (batch × k) on top of `cache`."""
        batch, k = ids.shape
        start = cache["length"]
        end = start + k
        hd = self.n_embd // self.n_head
        x = self.wte[ids] + self.wpe[start:end]
        causal = None
        if k > 1:  # the new tokens see the cache and each other, causally
            causal = torch.ones(k, end, dtype=torch.bool).tril(diagonal=start)
        for layer, kc, vc in zip(self.layers, cache["k"], cache["v"]):
            h = F.layer_norm(x, (self.n_embd,), layer["ln_1.weight"], layer["ln_1.bias"], self.eps)
            qkv = torch.addmm(layer["attn.c_attn.bias"], h.reshape(-1, self.n_embd), layer["attn.c_attn.weight"])
            q, kk, v = qkv.view(batch, k, 3, self.n_head, hd).permute(2, 0, 3, 1, 4)
            kc[:, :, start:end] = kk
            vc[:, :, start:end] = v
            att = F.scaled_dot_product_attention(q, kc[:, :, :end], vc[:, :, :end], attn_mask=causal,
                                                 scale=1 / math.sqrt(hd))
            att = att.transpose(1, 2).reshape(-1, self.n_embd)
            x = x + torch.addmm(layer["attn.c_proj.bias"], att, layer["attn.c_proj.weight"]).view(batch, k, -1)
            h = F.layer_norm(x, (self.n_embd,), layer["ln_2.weight"], layer["ln_2.bias"], self.eps)
            h = F.gelu(torch.addmm(layer["mlp.c_fc.bias"], h.reshape(-1, self.n_embd), layer["mlp.c_fc.weight"]),
                       approximate="tanh")
            x = x + torch.addmm(layer["mlp.c_proj.bias"], h, layer["mlp.c_proj.weight"]).view(batch, k, -1)
        cache["length"] = end
        last = F.layer_norm(x[:, -1], (self.n_embd,), self.ln_f[0], self.ln_f[1], self.eps)
        return last @ self.wte.T

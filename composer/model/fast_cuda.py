"""The forward pass of `fast.FastGPT` in torch, for a GPU replica of the composer tier: the weights
and the KV cache live on the GPU, the logits come back to the CPU as NumPy for the sampler. Only
imported when the model runs on a GPU (`fast.fast_model`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


LAYER_NORM_EPS = 1e-5  # GPT-2's


class CudaGPT:
    """Built from a GPT-2 state dict (NumPy arrays or torch tensors) and its ModelConfig."""

    def __init__(self, state: dict, config, device: str | torch.device = "cuda"):
        self.device = torch.device(device)
        sd = {k: torch.as_tensor(v).detach().float().to(self.device) for k, v in state.items()}
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
    def from_model(cls, model, device: str = "cuda") -> "CudaGPT":
        return cls(model.state_dict(), model.config, device)

    def new_cache(self, batch: int) -> dict:
        shape = (batch, self.n_head, self.n_positions, self.n_embd // self.n_head)
        dev = self.device
        return {"k": [torch.zeros(shape, device=dev) for _ in self.layers],
                "v": [torch.zeros(shape, device=dev) for _ in self.layers],
                "length": 0, "lengths": None}

    @torch.inference_mode()
    def step(self, ids, cache: dict, counts: list[int] | None = None):
        """Logits after feeding `ids` (batch × k) on top of `cache`, at each row's last new token.

        With `counts`, row b feeds only its first counts[b] tokens (the rest is padding): rows of a
        batch move through their sequences at their own pace, each in its own cache slots, so a
        row's tokens are fed in the same runs as when it is sampled alone.
        """
        ids = torch.as_tensor(ids).to(self.device)
        if counts is None and cache["lengths"] is None:
            logits = self._step_even(ids, cache)
        else:
            logits = self._step_ragged(ids, cache, counts if counts is not None else [ids.shape[1]] * ids.shape[0])
        return logits.float().cpu().numpy()  # the sampler's masks and draws stay on the CPU

    def _block(self, x: torch.Tensor, layer: dict, attend) -> torch.Tensor:
        """One transformer block over tokens laid flat (tokens × n_embd). `attend(q, k, v)`, each
        tokens × heads × head size, stores the keys and values and returns the attention output
        (tokens × n_embd): the one thing the even and the ragged step do differently."""
        hd = self.n_embd // self.n_head
        h = F.layer_norm(x, (self.n_embd,), layer["ln_1.weight"], layer["ln_1.bias"], self.eps)
        q, kk, v = torch.addmm(layer["attn.c_attn.bias"], h, layer["attn.c_attn.weight"]).view(
            -1, 3, self.n_head, hd).unbind(1)
        x = x + torch.addmm(layer["attn.c_proj.bias"], attend(q, kk, v), layer["attn.c_proj.weight"])
        h = F.layer_norm(x, (self.n_embd,), layer["ln_2.weight"], layer["ln_2.bias"], self.eps)
        h = F.gelu(torch.addmm(layer["mlp.c_fc.bias"], h, layer["mlp.c_fc.weight"]), approximate="tanh")
        return x + torch.addmm(layer["mlp.c_proj.bias"], h, layer["mlp.c_proj.weight"])

    def _step_even(self, ids: torch.Tensor, cache: dict) -> torch.Tensor:
        """Every row feeds all of its k tokens: one shared slot range and a causal mask."""
        batch, k = ids.shape
        start = cache["length"]
        end = start + k
        hd = self.n_embd // self.n_head
        causal = None
        if k > 1:  # the new tokens see the cache and each other, causally
            causal = torch.ones(k, end, dtype=torch.bool, device=self.device).tril(diagonal=start)
        x = (self.wte[ids] + self.wpe[start:end]).reshape(-1, self.n_embd)
        for layer, kc, vc in zip(self.layers, cache["k"], cache["v"]):
            def attend(q, kk, v, kc=kc, vc=vc):
                kc[:, :, start:end] = kk.view(batch, k, self.n_head, hd).transpose(1, 2)
                vc[:, :, start:end] = v.view(batch, k, self.n_head, hd).transpose(1, 2)
                att = F.scaled_dot_product_attention(q.view(batch, k, self.n_head, hd).transpose(1, 2),
                                                     kc[:, :, :end], vc[:, :, :end], attn_mask=causal,
                                                     scale=1 / math.sqrt(hd))
                return att.transpose(1, 2).reshape(-1, self.n_embd)

            x = self._block(x, layer, attend)
        cache["length"] = end
        return self._logits(x.view(batch, k, -1)[:, -1])

    def _step_ragged(self, ids: torch.Tensor, cache: dict, counts: list[int]) -> torch.Tensor:
        """Row b feeds counts[b] tokens into its own next slots; each query sees its row's slots up to
        itself. Only the real tokens go through the dense layers (packed, row by row); the queries are
        laid out per row for attention alone."""
        batch, k = ids.shape
        if cache["lengths"] is None:  # the rows were even so far
            cache["lengths"] = torch.full((batch,), cache["length"], dtype=torch.long, device=self.device)
        lengths = cache["lengths"]
        count = torch.tensor(counts, dtype=torch.long, device=self.device)
        if int((lengths + count).max()) > self.n_positions:
            raise ValueError("a row would run past the model's context")
        positions = lengths[:, None] + torch.arange(k, device=self.device)  # (batch, k); padding lands beyond the row's length
        rows, cols = (torch.arange(k, device=self.device)[None, :] < count[:, None]).nonzero(as_tuple=True)  # row-major
        slots = positions[rows, cols]
        end = int((lengths + count).max())
        mask = (torch.arange(end, device=self.device)[None, None, :] <= positions[:, :, None])[:, None]  # (batch, 1, k, end)
        hd = self.n_embd // self.n_head
        x = self.wte[ids[rows, cols]] + self.wpe[slots]  # (real tokens, n_embd)
        for layer, kc, vc in zip(self.layers, cache["k"], cache["v"]):
            def attend(q, kk, v, kc=kc, vc=vc):
                kc[rows, :, slots] = kk
                vc[rows, :, slots] = v
                laid = q.new_zeros(batch, k, self.n_head, hd)
                laid[rows, cols] = q
                att = F.scaled_dot_product_attention(laid.transpose(1, 2), kc[:, :, :end], vc[:, :, :end],
                                                     attn_mask=mask, scale=1 / math.sqrt(hd))
                return att.transpose(1, 2)[rows, cols].reshape(-1, self.n_embd)

            x = self._block(x, layer, attend)
        cache["lengths"] = lengths + count
        cache["length"] = end
        last = (torch.cumsum(count, 0) - 1).clamp(min=0)  # each row's last token in the packed order
        return self._logits(x[last])

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        last = F.layer_norm(x, (self.n_embd,), self.ln_f[0], self.ln_f[1], self.eps)
        return last @ self.wte.T

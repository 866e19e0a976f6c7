"""Muse against two peer architectures for a 30-second piece, timed on this machine in one run.

Why: a speed claim against other systems only means something when both sides run on the same CPU
at the same time. What: Muse's warm 30-second piece (lone, per piece in a batch of 8, and sung);
the text2midi architecture (a FLAN-T5-base encoder and an 18-layer decoder whose generate() has no
KV cache, so every token re-runs the whole prefix); MusicGen-small (T5-base text encoder, a 24-layer
decoder with a KV cache, classifier-free guidance, EnCodec decode to audio). Both peers are built
from their published configurations with random weights: speed does not depend on the weights,
and nothing is downloaded. A 30-second peer piece takes minutes to an hour here, so each peer
generates short pieces, a fitted curve extrapolates to 30 s, and one longer generation checks the
fit; where the check misses by more than 10 % the figure is measured another way (see the notes).
"""

from __future__ import annotations

import gc
import math
import os
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from bench.common import Stat, header, quick, table

PIECE_S = 30
PROMPT = "happy birthday"
BATCH = 8
TOLERANCE = 0.10  # a fit whose check misses by more than this is not trusted for the headline
TARGETS = {"text2midi": 3000.0, "MusicGen-small": 300.0}  # peer seconds / Muse seconds, at least
PEER_PROMPT_TOKENS = 16  # a short text description, random ids (the tokens' values cost nothing)

# text2midi: about 2,000 REMI tokens for a 30-second piece
T2M_TOKENS = 2000
T2M_VOCAB = 524  # its REMI vocabulary (no BPE)
T2M_BOS = 1
# MusicGen: 50 frames a second; the 4-codebook delay pattern adds 3 decoder steps
MG_FRAME_RATE = 50
MG_DELAY_STEPS = 3


@dataclass(frozen=True)
class Sizes:
    """How much each part measures: FULL for the docs, QUICK for development (same code paths)."""

    runs: int  # Muse lone pieces per voice
    batch_runs: int  # Muse batches of 8
    t2m_lengths: tuple[int, ...]  # text2midi generations the fit is made from (tokens)
    t2m_check: int  # the longer generation that checks it
    t2m_probes: tuple[int, ...]  # prefix lengths whose single step is timed (must include T2M_TOKENS)
    mg_seconds: tuple[float, ...]  # MusicGen clips the fit is made from (seconds of audio)
    mg_check: float  # the longer clip that checks it


FULL = Sizes(5, 3, (32, 64, 128, 256), 384, (1, 500, 1000, 1500, 2000), (1.0, 2.0, 4.0), 8.0)
QUICK = Sizes(3, 2, (16, 32, 64), 128, (1, 1000, 2000), (0.5, 1.0, 2.0), 3.0)


# -- fits and checks (pure; tests/test_bench_peers.py) -------------------------------------------------------------

@dataclass(frozen=True)
class Fit:
    """A least-squares polynomial, coefficients from the constant term up."""

    coefficients: tuple[float, ...]

    def __call__(self, x: float) -> float:
        return float(sum(c * x ** i for i, c in enumerate(self.coefficients)))

    def formula(self, var: str = "n") -> str:
        powers = ["", f"·{var}", f"·{var}²", f"·{var}³"]
        terms = [f"{c:.4g}{powers[i]}" for i, c in enumerate(self.coefficients)]
        return " + ".join(terms).replace("+ -", "− ")


def fit(xs: Sequence[float], ys: Sequence[float], degree: int) -> Fit:
    """Least squares of ys on 1, x, …, x^degree (needs more than `degree` points)."""
    if len(xs) != len(ys) or len(xs) <= degree:
        raise ValueError(f"a degree-{degree} fit needs more than {degree} points, got {len(xs)}")
    matrix = np.vander(np.asarray(xs, dtype=float), degree + 1, increasing=True)
    coefficients, *_ = np.linalg.lstsq(matrix, np.asarray(ys, dtype=float), rcond=None)
    return Fit(tuple(float(c) for c in coefficients))


def summed_steps(step: Fit, n: int) -> float:
    """Total of n generation steps whose k-th step (prefix k, k = 1..n) costs step(k)."""
    return float(sum(step(k) for k in range(1, n + 1)))


@dataclass(frozen=True)
class Check:
    """A prediction against a measurement; error is signed, (predicted − measured) / measured."""

    predicted: float
    measured: float

    @property
    def error(self) -> float:
        return (self.predicted - self.measured) / self.measured

    @property
    def ok(self) -> bool:
        return abs(self.error) <= TOLERANCE

    def percent(self) -> str:
        return f"{self.error * 100:+.1f} %"


def musicgen_steps(seconds: float) -> int:
    """Decoder steps for `seconds` of MusicGen audio: 50 frames a second plus the codebook delay."""
    return round(seconds * MG_FRAME_RATE) + MG_DELAY_STEPS


def verdict(ratio: float, target: float) -> str:
    return f"{ratio:,.0f}× ({'met' if ratio >= target else 'not met'})"


# -- Muse ------------------------------------------------------------------------------------------------------------

def muse(runs: int, batch_runs: int) -> dict[str, Stat]:
    """Seconds for a 30-second piece: lone warm (piano, sung) and per piece in a batch of 8."""
    from composer.pipeline import Composer
    from composer.understanding.understand import understand

    composer = Composer()
    composer.warm_up("model")

    def lone(voice: str, seed: int) -> float:
        started = time.perf_counter()
        request = understand(PROMPT, {"voice": voice, "length": PIECE_S, "seed": seed}, composer.catalog)
        (piece,) = composer.compose(request)
        elapsed = time.perf_counter() - started
        assert piece.engine.get("name") == "model", piece.engine
        return elapsed

    def batch(run: int) -> float:
        started = time.perf_counter()
        requests = [understand(PROMPT, {"voice": "piano", "length": PIECE_S, "seed": 1000 * (run + 1) + i},
                               composer.catalog) for i in range(BATCH)]
        for draft in composer.compose_scores(requests):
            composer.finish(draft)
        return (time.perf_counter() - started) / BATCH

    figures = {}
    for voice in ("piano", "male"):
        lone(voice, 0)  # warm-up: the first sung piece loads the voice
        figures[voice] = Stat.of(lone(voice, seed) for seed in range(1, runs + 1))
    figures["batch"] = Stat.of(batch(run) for run in range(batch_runs))
    return figures


# -- the text2midi architecture --------------------------------------------------------------------------------------

def _text2midi():
    """FLAN-T5-base encoder; decoder of 18 post-norm layers, 768 wide, 8 heads, ReLU feed-forward 1,024,
    sinusoidal positions, a 524-token REMI head; fp32, random weights."""
    import torch
    from torch import nn
    from transformers import T5Config, T5EncoderModel

    class Text2MidiArchitecture(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = T5EncoderModel(T5Config(d_model=768, num_layers=12, num_heads=12, d_kv=64, d_ff=2048,
                                                   feed_forward_proj="gated-gelu", vocab_size=32128))
            self.width = 768
            self.embed = nn.Embedding(T2M_VOCAB, self.width)
            position = torch.arange(2048, dtype=torch.float32).unsqueeze(1)
            rate = torch.exp(torch.arange(0, self.width, 2, dtype=torch.float32) * (-math.log(10000.0) / self.width))
            table_ = torch.zeros(2048, self.width)
            table_[:, 0::2], table_[:, 1::2] = torch.sin(position * rate), torch.cos(position * rate)
            self.register_buffer("positions", table_)
            layer = nn.TransformerDecoderLayer(self.width, 8, 1024, dropout=0.1, activation="relu", batch_first=True)
            self.decoder = nn.TransformerDecoder(layer, 18, norm=nn.LayerNorm(self.width))
            self.head = nn.Linear(self.width, T2M_VOCAB)

        def step(self, text, text_mask, tokens):
            """One generation step as its generate() takes it: the encoder and the decoder over the whole prefix."""
            memory = self.encoder(input_ids=text, attention_mask=text_mask).last_hidden_state
            n = tokens.shape[1]
            x = self.embed(tokens) * math.sqrt(self.width) + self.positions[:n]
            causal = nn.Transformer.generate_square_subsequent_mask(n)
            return self.head(self.decoder(x, memory, tgt_mask=causal, tgt_is_causal=True))

        def generate(self, text, text_mask, n: int):
            tokens = torch.full((text.shape[0], 1), T2M_BOS, dtype=torch.long)
            for _ in range(n):
                logits = self.step(text, text_mask, tokens)
                probs = torch.softmax(logits[:, -1], dim=-1)  # temperature 1
                tokens = torch.cat([tokens, torch.multinomial(probs, 1)], dim=1)
            return tokens[:, 1:]

    torch.manual_seed(0)
    return Text2MidiArchitecture().eval()


class Text2Midi:
    """The built model, timed a generation or a single step at a time; close() frees it."""

    def __init__(self) -> None:
        import torch

        self.model = _text2midi()
        self.text = torch.randint(0, 32128, (1, PEER_PROMPT_TOKENS), generator=torch.Generator().manual_seed(1))
        self.mask = torch.ones_like(self.text)
        self.generation(4)  # warm-up

    def generation(self, n: int) -> float:
        """Seconds to generate n tokens."""
        import torch

        torch.manual_seed(n)
        with torch.inference_mode():
            started = time.perf_counter()
            self.model.generate(self.text, self.mask, n)
            return time.perf_counter() - started

    def step(self, k: int) -> float:
        """Seconds for the step that writes token k: one forward over a prefix of k tokens."""
        import torch

        tokens = torch.randint(0, T2M_VOCAB, (1, k), generator=torch.Generator().manual_seed(k))
        with torch.inference_mode():
            started = time.perf_counter()
            self.model.step(self.text, self.mask, tokens)
            return time.perf_counter() - started

    def close(self) -> None:
        del self.model
        gc.collect()


# -- MusicGen-small --------------------------------------------------------------------------------------------------

def _musicgen_small():
    """MusicgenForConditionalGeneration from facebook/musicgen-small's configuration, random weights."""
    import torch
    from transformers import (EncodecConfig, MusicgenConfig, MusicgenDecoderConfig,
                              MusicgenForConditionalGeneration, T5Config)
    from transformers.utils import logging

    text_encoder = T5Config(d_model=768, num_layers=12, num_heads=12, d_kv=64, d_ff=3072, vocab_size=32128,
                            feed_forward_proj="relu")
    audio_encoder = EncodecConfig(sampling_rate=32000, audio_channels=1, num_filters=64, upsampling_ratios=[8, 5, 4, 4],
                                  codebook_size=2048, codebook_dim=128, hidden_size=128, num_lstm_layers=2,
                                  num_residual_layers=1, target_bandwidths=[2.2], norm_type="weight_norm",
                                  normalize=False, use_causal_conv=False, use_conv_shortcut=False, compress=2,
                                  kernel_size=7, last_kernel_size=7, residual_kernel_size=3, dilation_growth_rate=2,
                                  pad_mode="reflect", trim_right_ratio=1.0, chunk_length_s=None, overlap=None)
    decoder = MusicgenDecoderConfig(vocab_size=2048, max_position_embeddings=2048, num_hidden_layers=24, ffn_dim=4096,
                                    num_attention_heads=16, hidden_size=1024, num_codebooks=4,
                                    activation_function="gelu", pad_token_id=2048, bos_token_id=2048)
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # its special tokens sit one past the vocabulary by design; the config says so
    try:
        config = MusicgenConfig(text_encoder=text_encoder, audio_encoder=audio_encoder, decoder=decoder)
        torch.manual_seed(0)
        model = MusicgenForConditionalGeneration(config).eval()
    finally:
        logging.set_verbosity(verbosity)
    assert config.audio_encoder.frame_rate == MG_FRAME_RATE, config.audio_encoder.frame_rate
    return model


class MusicgenSmall:
    """The built model, timed a generation at a time (text encoding, decoder, EnCodec decode); close() frees it."""

    def __init__(self) -> None:
        import torch

        self.model = _musicgen_small()
        self.text = torch.randint(0, 32128, (1, PEER_PROMPT_TOKENS), generator=torch.Generator().manual_seed(1))
        self.mask = torch.ones_like(self.text)
        self.rate = self.model.config.audio_encoder.sampling_rate
        self.generation(0.1)  # warm-up

    def generation(self, audio_s: float) -> float:
        """Seconds to generate `audio_s` seconds of audio."""
        import torch

        torch.manual_seed(musicgen_steps(audio_s))
        with torch.inference_mode():
            started = time.perf_counter()
            audio = self.model.generate(input_ids=self.text, attention_mask=self.mask, do_sample=True, top_k=250,
                                        guidance_scale=3.0, max_new_tokens=musicgen_steps(audio_s))
            elapsed = time.perf_counter() - started
        assert abs(audio.shape[-1] / self.rate - audio_s) < 0.05, audio.shape
        return elapsed

    def close(self) -> None:
        del self.model
        gc.collect()


# -- the section -----------------------------------------------------------------------------------------------------

def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


class _Phases:
    """Wall time, cores busy (this process's CPU time ÷ wall time) and the machine's load, phase by phase."""

    def __init__(self) -> None:
        self.rows: list[list[object]] = []
        self._mark()

    def _mark(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def done(self, name: str) -> None:
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        self.rows.append([name, f"{wall / 60:.1f}", f"{cpu / wall:.2f}", _load()])
        self._mark()


@dataclass(frozen=True)
class PeerFigure:
    """A peer's seconds for a 30-second piece, how they were had, and its detail section."""

    name: str
    seconds: float
    how: str
    detail: Callable[[], None]


def text2midi_figure(size: Sizes) -> PeerFigure:
    """Fit total(n) = a + b·n + c·n² to short generations and check it on a longer one. A step's attention also
    grows with its prefix, so single steps are timed across the whole 2,000 tokens too: when the fit misses its
    check or the measured cost of the last token, the summed step costs are the figure."""
    peer = Text2Midi()
    gens = {n: peer.generation(n) for n in (*size.t2m_lengths, size.t2m_check)}
    steps = {k: min(peer.step(k) for _ in range(2)) for k in size.t2m_probes}
    peer.close()
    total = fit(list(size.t2m_lengths), [gens[n] for n in size.t2m_lengths], 2)
    step = fit(list(size.t2m_probes), [steps[k] for k in size.t2m_probes], 2)
    check = Check(total(size.t2m_check), gens[size.t2m_check])
    check_steps = Check(summed_steps(step, size.t2m_check), gens[size.t2m_check])
    last = Check(total(T2M_TOKENS) - total(T2M_TOKENS - 1), steps[T2M_TOKENS])
    lengths = f"{size.t2m_lengths[0]}–{size.t2m_lengths[-1]}"
    if check.ok and last.ok:
        seconds, how = total(T2M_TOKENS), f"extrapolated: quadratic fit to generations of {lengths} tokens"
    else:
        seconds, how = summed_steps(step, T2M_TOKENS), (f"extrapolated: step costs timed at prefixes up to "
                                                         f"{T2M_TOKENS:,}, summed (the fit missed a check)")

    def detail() -> None:
        print(f"\n**text2midi architecture** (FLAN-T5-base encoder; 18-layer decoder, 768 wide, 8 heads, "
              f"feed-forward 1,024, REMI vocabulary {T2M_VOCAB}; no KV cache: each token re-runs the encoder and the "
              f"decoder over the whole prefix, as its generate() does). A {PIECE_S} s piece is about "
              f"{T2M_TOKENS:,} tokens. One run per length, given the cost.\n")
        rows = [[n, gens[n], total(n), summed_steps(step, n), ""] for n in size.t2m_lengths]
        rows.append([f"{size.t2m_check} (check)", gens[size.t2m_check], check.predicted, check_steps.predicted,
                     f"fit {check.percent()}, steps {check_steps.percent()}"])
        rows.append([f"{T2M_TOKENS:,}", "—", total(T2M_TOKENS), summed_steps(step, T2M_TOKENS), ""])
        table(["tokens", "measured s", "fit s", "sum of steps s", "error"], rows)
        print(f"\nFit to the generations: total(n) ≈ {total.formula('n')} s. Single steps (one forward over a "
              f"prefix of k tokens, best of 2): " + ", ".join(f"k = {k:,}: {steps[k]:.3f} s" for k in size.t2m_probes)
              + f"; fitted, step(k) ≈ {step.formula('k')} s, summed over k = 1…n. The generation fit puts token "
              f"{T2M_TOKENS:,} at {last.predicted:.2f} s against {last.measured:.2f} s measured ({last.percent()}). "
              f"The headline takes the generation fit when it is within ±{TOLERANCE:.0%} of both the check and the "
              f"last token, else the summed step costs.")

    return PeerFigure("text2midi", seconds, how, detail)


def musicgen_figure(size: Sizes, fast: bool) -> PeerFigure:
    """Fit a line to short clips and check it on a longer one; in full mode a miss of more than 10 % means the
    whole 30 s is generated (its per-step cost does not grow smoothly with the cache)."""
    peer = MusicgenSmall()
    clips = {s: peer.generation(s) for s in (*size.mg_seconds, size.mg_check)}
    line = fit([musicgen_steps(s) for s in size.mg_seconds], [clips[s] for s in size.mg_seconds], 1)
    check = Check(line(musicgen_steps(size.mg_check)), clips[size.mg_check])
    estimate = line(musicgen_steps(PIECE_S))
    clip_range = f"{size.mg_seconds[0]:g}–{size.mg_seconds[-1]:g} s"
    if check.ok:
        seconds, how = estimate, f"extrapolated: line fit to clips of {clip_range}"
    elif fast:
        seconds, how = estimate, f"extrapolated: line fit, its check missed by {check.percent()} (quick mode)"
    else:
        clips[PIECE_S] = peer.generation(PIECE_S)
        seconds, how = clips[PIECE_S], f"measured: the whole {PIECE_S} s generated (the fit missed its check)"
    peer.close()

    def detail() -> None:
        print(f"\n**MusicGen-small** (T5-base text encoder, 24-layer decoder 1,024 wide, 16 heads, feed-forward "
              f"4,096, 4 codebooks of 2,048; KV cache; guidance scale 3, so the batch is 2; top-k 250; EnCodec 32 kHz "
              f"decode included). {MG_FRAME_RATE} frames a second: {musicgen_steps(PIECE_S):,} decoder steps for "
              f"{PIECE_S} s. One run per length, given the cost.\n")
        rows = [[f"{s:g}", f"{musicgen_steps(s):,}", clips[s], line(musicgen_steps(s)), ""] for s in size.mg_seconds]
        rows.append([f"{size.mg_check:g} (check)", f"{musicgen_steps(size.mg_check):,}", clips[size.mg_check],
                     check.predicted, check.percent()])
        full = clips.get(PIECE_S)
        rows.append([PIECE_S, f"{musicgen_steps(PIECE_S):,}", "—" if full is None else full, estimate,
                     "" if full is None else Check(estimate, full).percent()])
        table(["audio s", "decoder steps", "measured s", "fit s", "error"], rows)
        print(f"\nFit: total(steps) ≈ {line.formula('steps')} s. A check that misses by more than "
              f"{TOLERANCE:.0%} means the whole {PIECE_S} s is generated and measured"
              + (" in full mode; this quick run keeps the fit." if fast else "."))

    return PeerFigure("MusicGen-small", seconds, how, detail)


def main() -> None:
    import torch

    fast = quick()
    size = QUICK if fast else FULL
    started, load_before, phases = time.perf_counter(), _load(), _Phases()
    header(f"Against peers: a {PIECE_S}-second piece, Muse and two peer architectures in one run")

    ours = muse(size.runs, size.batch_runs)  # first, before the peers' models take memory
    lone, batched, sung = ours["piano"], ours["batch"], ours["male"]
    phases.done("Muse")
    peers = [text2midi_figure(size)]
    phases.done("text2midi architecture")
    peers.append(musicgen_figure(size, fast))
    phases.done("MusicGen-small")

    table(["30-second piece", "seconds", "how"], [
        ["Muse, lone, warm (piano)", str(lone), f"median of {lone.runs}: understand to MP3 and every file"],
        [f"Muse, per piece in a batch of {BATCH}", str(batched),
         f"median of {batched.runs} batches: understand, compose_scores, finish each; ÷ {BATCH}"],
        ["Muse, lone, warm, sung (male)", str(sung), f"median of {sung.runs}"],
        *[[f"{peer.name} architecture" if peer.name == "text2midi" else peer.name, peer.seconds, peer.how]
          for peer in peers],
    ])
    print()
    table(["peer", "peer s", "÷ Muse lone", f"÷ Muse per piece in a batch of {BATCH}", "target"], [
        [peer.name, peer.seconds, verdict(peer.seconds / lone.median, TARGETS[peer.name]),
         verdict(peer.seconds / batched.median, TARGETS[peer.name]), f"≥ {TARGETS[peer.name]:,.0f}×"]
        for peer in peers
    ])
    for peer in peers:
        peer.detail()

    print(f"\nAll fp32 on CPU, `torch.inference_mode()`, {torch.get_num_threads()} torch threads for the peers "
          f"(Muse's melody model samples in NumPy on one BLAS thread). Peer prompts are {PEER_PROMPT_TOKENS} random text tokens. Load "
          f"average (1 min) at the start: {load_before}. The section took {(time.perf_counter() - started) / 60:.1f} "
          f"min" + (" (quick mode: fewer runs, shorter generations)" if fast else "") + ". Run conditions:\n")
    table(["phase", "minutes", "cores busy (CPU ÷ wall)", "load average (1 min) at its end"], phases.rows)
    print(f"\nCores busy is this process's CPU time over its wall time ({os.cpu_count()} at most here); the load "
          f"average counts the machine's runnable processes, this one included. Other work on the machine during a "
          f"phase inflates that phase's seconds.")

if __name__ == "__main__":
    main()

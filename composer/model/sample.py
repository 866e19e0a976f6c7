"""Constrained, batched sampling: the grammar and the plan decide which tokens are possible at each
step, the model picks among them. Impossible tokens are masked, never rejected after the fact, so
every sample has exactly the planned bars, stays in the key and register, and ends on the tonic.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from composer.model.fast import FastGPT
from composer.model.tokenizer import DURATIONS, POSITIONS, PITCH_HIGH, PITCH_LOW, TICKS_PER_QUARTER, Tokenizer


@dataclass
class BarSpec:
    """What the plan fixes for one bar."""

    prefix: list[int]  # BAR REM CHORD CHORD, forced
    strong_pcs: dict[int, frozenset[int]]  # pulse tick → tonic-relative chord pitch classes on it
    final: bool = False  # the closing bar: one held tonic


@dataclass
class MelodySpec:
    """One melody to write."""

    header: list[int]
    bars: list[BarSpec]
    bar_ticks: int
    pitches: list[int]  # allowed tonic-relative pitches (key's scale ∩ register)
    tonic_pitches: list[int]  # allowed pitches for the final note
    temperature: float = 1.0
    top_p: float = 0.95
    seed: int = 0
    max_rest_ticks: int | None = None  # longest silence allowed inside a bar (None: any)


class _Cursor:
    """Where one sequence is in the grammar, and what it may emit next."""

    def __init__(self, spec: MelodySpec, tok: Tokenizer):
        self.spec, self.tok = spec, tok
        self.forced: list[int] = list(spec.header)
        self.bar = -1
        self.stage = "start"  # start → pos → pitch → dur → pos … ; "done" after EOS
        self.next_free = 0  # first tick in this bar where a note may start
        self.onset = 0
        self.pitch_of = {p: tok.ids[f"PITCH_{p}"] for p in range(PITCH_LOW, PITCH_HIGH)}
        self.tokens: list[int] = []
        self.limit = 10 ** 9

    @property
    def done(self) -> bool:
        return self.stage == "done"

    def _open_bar(self) -> None:
        self.bar += 1
        self.next_free = 0
        bar = self.spec.bars[self.bar]
        self.forced += bar.prefix
        if bar.final:
            dur = max(d for d in DURATIONS if d <= self.spec.bar_ticks)
            self.forced += [self.tok.ids["POS_0"]]
            self.onset = 0
            self.final_dur = self.tok.ids[f"DUR_{dur}"]
        self.stage = "pos"

    def allowed(self) -> list[int] | None:
        """Token ids the model may choose from, or None when the next token is forced."""
        if self.forced:
            return None
        bar = self.spec.bars[self.bar] if self.bar >= 0 else None
        if self.stage == "start":
            return None
        if self.stage == "pos":
            if self.budget_left() < self.tokens_to_finish() + 4:
                return [self.tok.bar]  # out of room: close bars until the end
            last = self.spec.bar_ticks - 1
            gap = self.spec.max_rest_ticks
            if gap is not None:
                last = min(last, self.next_free + gap)
            ids = [self.tok.ids[f"POS_{k}"] for k in POSITIONS if self.next_free <= k <= last]
            if gap is None or self.spec.bar_ticks - self.next_free <= gap or not ids:
                ids.append(self.tok.bar)
            return ids
        if self.stage == "pitch":
            if bar.final:
                return [self.pitch_of[p] for p in self.spec.tonic_pitches]
            chord = bar.strong_pcs.get(self.onset)
            pitches = self.spec.pitches
            if chord:
                on_chord = [p for p in pitches if p % 12 in chord]
                pitches = on_chord or pitches
            return [self.pitch_of[p] for p in pitches]
        if self.stage == "dur":
            if bar.final:
                return [self.final_dur]
            room = self.spec.bar_ticks - self.onset
            fits = [self.tok.ids[f"DUR_{d}"] for d in DURATIONS if d <= room]
            return fits or [self.tok.ids[f"DUR_{DURATIONS[0]}"]]
        raise AssertionError(self.stage)

    def budget_left(self) -> int:
        return self.limit - len(self.tokens)

    def tokens_to_finish(self) -> int:
        """Tokens the remaining bars need at least: each prefix, the final note and EOS."""
        return 4 * (len(self.spec.bars) - 1 - self.bar) + 4

    def next_forced(self) -> int:
        if not self.forced and self.stage == "start":
            self._open_bar()
        return self.forced.pop(0)

    def push(self, token: int) -> None:
        """Advance the grammar past `token` (forced or sampled)."""
        self.tokens.append(token)
        name = self.tok.tokens[token]
        if name == "EOS":
            self.stage = "done"
        elif self.stage in ("start", "done") or name.startswith(("BOS", "STYLE", "MODE", "METER", "DENSITY",
                                                                   "REM", "CHORD")):
            return
        elif name == "BAR":
            return
        elif name.startswith("POS_"):
            self.onset = int(name[4:])
            self.stage = "pitch"
        elif name.startswith("PITCH_"):
            self.stage = "dur"
        elif name.startswith("DUR_"):
            self.next_free = self.onset + int(name[4:])
            self.stage = "pos"
            if self.spec.bars[self.bar].final:
                self.forced.append(self.tok.eos)
            elif self.next_free >= self.spec.bar_ticks:
                self._end_bar_forced()

    def _end_bar_forced(self) -> None:
        """No note fits in this bar any more: the next bar opens."""
        self._open_bar()

    def choose_bar(self) -> None:
        """The model chose BAR: this bar is over; queue the next bar's forced prefix (its BAR included)."""
        self._open_bar()


def _filter(logits: torch.Tensor, allowed: list[int], temperature: float, top_p: float) -> torch.Tensor:
    masked = torch.full_like(logits, float("-inf"))
    index = torch.tensor(allowed, dtype=torch.long)
    masked[index] = logits[index] / max(temperature, 1e-3)
    probs = torch.softmax(masked, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(descending=True)
        keep = sorted_probs.cumsum(0) - sorted_probs < top_p
        keep[0] = True
        trimmed = torch.zeros_like(probs)
        trimmed[order[keep]] = sorted_probs[keep]
        probs = trimmed / trimmed.sum()
    return probs


def _advance(c: _Cursor, token: int | None = None) -> list[int]:
    """Push `token` (sampled; None for none) and then every token the grammar forces after it."""
    run: list[int] = []
    while True:
        if token is None:
            allowed = c.allowed() if not c.done else []
            if allowed is None:
                token = c.next_forced()
            elif len(allowed) == 1:
                token = allowed[0]
            else:
                return run  # the model must choose
        if token == c.tok.bar and c.stage == "pos" and not c.forced:
            c.choose_bar()
            token = c.forced.pop(0)  # the BAR itself, then the bar's forced prefix
        c.push(token)
        run.append(token)
        token = None
        if c.done:
            return run


@torch.inference_mode()
def generate(model, tok: Tokenizer, specs: list[MelodySpec]) -> list[list[int]]:
    """Token sequences for a batch of specs, sampled together with one KV cache.

    Runs of forced tokens (the header, each bar's prefix) are fed in one forward pass where the
    whole batch has them; only the notes cost a step each.
    """
    fast = model if isinstance(model, FastGPT) else FastGPT.from_model(model)
    cursors = [_Cursor(s, tok) for s in specs]
    generators = [torch.Generator().manual_seed(int(s.seed) % (2 ** 63)) for s in specs]
    for c in cursors:
        c.limit = fast.n_positions
    pending = [_advance(c) for c in cursors]
    cache = fast.new_cache(len(specs))
    while not all(c.done and not p for c, p in zip(cursors, pending)):
        k = min(len(p) for c, p in zip(cursors, pending) if p)
        rows = [p[:k] if p else [tok.pad] * k for p in pending]
        pending = [p[k:] for p in pending]
        logits = fast.step(torch.tensor(rows), cache)
        for row, (c, g) in enumerate(zip(cursors, generators)):
            if pending[row] or c.done:
                continue
            probs = _filter(logits[row], c.allowed(), c.spec.temperature, c.spec.top_p)
            pending[row] = _advance(c, int(torch.multinomial(probs, 1, generator=g)))
    return [c.tokens for c in cursors]


def ticks(quarters: float) -> int:
    return round(quarters * TICKS_PER_QUARTER)

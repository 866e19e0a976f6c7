"""Constrained, batched sampling: the grammar and the request decide which tokens are possible at
each step, the model picks among them. Only what the request fixes is masked (the bar count and
length, the voice's register, a singer's syllables per bar, the key's tonic as the closing note);
pitch choice, rests, chord tones and the way the cadence gets home are the model's. Impossible
tokens are masked, never rejected after the fact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.model.fast import FastGPT
from composer.model.tokenizer import DURATIONS, POSITIONS, PITCH_HIGH, PITCH_LOW, Tokenizer


_POSITION_SET = frozenset(POSITIONS)


class _LastPosition(dict):
    """bar length in ticks → the latest onset a note may have in such a bar."""

    def __missing__(self, bar_ticks: int) -> int:
        self[bar_ticks] = max((k for k in POSITIONS if k < bar_ticks), default=0)
        return self[bar_ticks]


_LAST_POSITION = _LastPosition()


@dataclass
class BarSpec:
    """What the plan fixes for one bar."""

    prefix: list[int]  # BAR REM CHORD CHORD, forced
    final: bool = False  # the closing bar: EOS follows it
    # Sung bars: exactly one note per entry, each starting where the beat is at least this strong
    # (0 anywhere, 1 on a pulse, 2 the bar's middle pulse or downbeat, 3 the downbeat). None: free.
    notes: tuple[int, ...] | None = None


@dataclass
class MelodySpec:
    """One melody to write."""

    header: list[int]
    bars: list[BarSpec]
    bar_ticks: int
    pitches: list[int]  # allowed tonic-relative pitches (the voice's register)
    temperature: float = 1.0
    top_p: float = 0.95
    seed: int = 0
    max_rest_ticks: int | None = None  # longest silence allowed inside a bar (None: any)
    pulse_ticks: int | None = None  # the felt beat, for bars with planned `notes`
    step_ticks: int = 3  # in bars with planned `notes`: the grid their onsets and lengths keep to
    # pitches the tune's closing note may take (the requested key's tonic); None: any
    final_pitches: frozenset[int] | None = None


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
        self.placed = 0  # notes begun in this bar
        # planned notes in bars after each bar, for the token budget
        counts = [len(b.notes) if b.notes is not None else 0 for b in spec.bars]
        self.planned_total = sum(counts)
        self.planned_after = [sum(counts[i + 1:]) for i in range(len(counts))]
        self._next_on: list[list[int]] | None = None  # [strength][tick] → first position there or later
        self.pitch = -1  # of the note being written, or of the last one
        # the bar the closing note is in: the last bar, or for a sung tune the last bar with a syllable
        self.closing_bar = next((i for i in range(len(counts) - 1, -1, -1) if counts[i]), len(counts) - 1) \
            if self.planned_total else len(counts) - 1

    @property
    def done(self) -> bool:
        return self.stage == "done"

    def _open_bar(self) -> None:
        self.bar += 1
        self.next_free = 0
        self.placed = 0
        bar = self.spec.bars[self.bar]
        self.forced += bar.prefix
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
                return [self._bar_end()]  # out of room: close bars until the end
            if bar.notes is not None:
                return self._planned_positions(bar.notes)
            last = self.spec.bar_ticks - 1
            gap = self.spec.max_rest_ticks
            if gap is not None:
                last = min(last, self.next_free + gap)
            ids = [self.tok.ids[f"POS_{k}"] for k in POSITIONS if self.next_free <= k <= last]
            if gap is None or self.spec.bar_ticks - self.next_free <= gap or not ids:
                if not (ids and self._must_go_on()):
                    ids.append(self._bar_end())
            return ids
        if self.stage == "pitch":
            if self._closing_note():
                closing = [self.pitch_of[p] for p in self.spec.pitches if p in self.spec.final_pitches]
                if closing:
                    return closing
            return [self.pitch_of[p] for p in self.spec.pitches]
        if self.stage == "dur":
            if bar.notes is not None:
                return self._planned_durations(bar.notes)
            room = self.spec.bar_ticks - self.onset
            fits = [d for d in DURATIONS if d <= room]
            if self._must_go_on():  # leave room for the note that closes the tune
                fits = [d for d in fits if self.onset + d <= _LAST_POSITION[self.spec.bar_ticks]] or fits
            return [self.tok.ids[f"DUR_{d}"] for d in fits] or [self.tok.ids[f"DUR_{DURATIONS[0]}"]]
        raise AssertionError(self.stage)

    # -- the closing note: the request's key is the tune's tonic, so the tune ends on it ---------------
    def _must_go_on(self) -> bool:
        """In the closing bar of a free tune, with no note yet or the last one off the tonic: the tune
        may not end here."""
        return (self.spec.final_pitches is not None and self.bar == self.closing_bar
                and self.spec.bars[self.bar].notes is None
                and (self.placed == 0 or self.pitch not in self.spec.final_pitches))

    def _closing_note(self) -> bool:
        """Whether the note being written must be the closing one: the last syllable of a sung tune,
        or in a free tune's closing bar a note after which no other fits."""
        if self.spec.final_pitches is None or self.bar != self.closing_bar:
            return False
        notes = self.spec.bars[self.bar].notes
        if notes is not None:
            return self.placed >= len(notes)
        return self.onset + DURATIONS[0] > _LAST_POSITION[self.spec.bar_ticks]

    def _bar_end(self) -> int:
        """The token that closes this bar: BAR, or EOS after the last bar (as in training tunes)."""
        return self.tok.eos if self.spec.bars[self.bar].final else self.tok.bar

    def budget_left(self) -> int:
        return self.limit - len(self.tokens)

    def tokens_to_finish(self) -> int:
        """Tokens the remaining bars need at least: each prefix, the planned notes and EOS."""
        if not self.planned_total:
            return 4 * (len(self.spec.bars) - 1 - self.bar) + 4
        if self.bar < 0:
            planned = self.planned_total
        else:
            bar = self.spec.bars[self.bar]
            here = len(bar.notes) - self.placed if bar.notes is not None else 0
            planned = self.planned_after[self.bar] + max(0, here)
        return 4 * (len(self.spec.bars) - 1 - self.bar) + 4 + 3 * planned

    # -- sung bars: a planned number of notes, stressed ones on strong beats -------------------------
    def _strength(self, tick: int) -> int:
        pulse = self.spec.pulse_ticks or self.spec.bar_ticks
        if tick == 0:
            return 3
        if tick % pulse:
            return 0
        pulses = self.spec.bar_ticks // pulse
        return 2 if pulses % 2 == 0 and tick == pulse * (pulses // 2) else 1

    def _fits(self, tick: int, notes: tuple[int, ...], first: int) -> bool:
        """Whether notes[first:] can still start at or after `tick` in this bar, each on its beat."""
        if self._next_on is None:
            size = self.spec.bar_ticks
            self._next_on = []
            for strength in range(4):
                table, following = [-1] * (size + 1), -1
                for k in range(size - 1, -1, -1):
                    if k in _POSITION_SET and k % self.spec.step_ticks == 0 and self._strength(k) >= strength:
                        following = k
                    table[k] = following
                self._next_on.append(table)
        for strength in notes[first:]:
            if tick >= self.spec.bar_ticks:
                return False
            tick = self._next_on[min(3, strength)][tick]
            if tick < 0:
                return False
            tick += self.spec.step_ticks
        return True

    def _planned_positions(self, notes: tuple[int, ...]) -> list[int]:
        if self.placed >= len(notes):
            return [self._bar_end()]  # every planned note is in: rest to the bar line
        want = notes[self.placed]
        gap = self.spec.max_rest_ticks
        for limit, strength in ((gap, want), (None, want), (None, 0)):  # relax the rest limit, then the beat
            last = self.spec.bar_ticks - 1 if limit is None else min(self.spec.bar_ticks - 1, self.next_free + limit)
            ids = [self.tok.ids[f"POS_{k}"] for k in POSITIONS
                   if self.next_free <= k <= last and k % self.spec.step_ticks == 0 and self._strength(k) >= strength
                   and self._fits(k + self.spec.step_ticks, notes, self.placed + 1)]
            if ids:
                return ids
        return [self._bar_end()]  # no room left in this bar (cannot happen for a feasible plan)

    def _planned_durations(self, notes: tuple[int, ...]) -> list[int]:
        room = self.spec.bar_ticks - self.onset
        step = self.spec.step_ticks
        fits = [d for d in DURATIONS if d <= room and (d % step == 0 or d == room)
                and self._fits(self.onset + d, notes, self.placed)]
        if self.placed >= len(notes) and self.spec.max_rest_ticks is not None:  # the bar's last note
            held = [d for d in fits if room - d <= self.spec.max_rest_ticks]
            fits = held or fits
        return [self.tok.ids[f"DUR_{d}"] for d in (fits or DURATIONS[:1])]

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
            self.placed += 1
            self.stage = "pitch"
        elif name.startswith("PITCH_"):
            self.pitch = int(name[6:])
            self.stage = "dur"
        elif name.startswith("DUR_"):
            self.next_free = self.onset + int(name[4:])
            self.stage = "pos"
            if self.next_free >= self.spec.bar_ticks:
                self._close_bar()

    def _close_bar(self) -> None:
        """This bar is over: the next one opens, or after the last bar the tune ends."""
        if self.spec.bars[self.bar].final:
            self.forced.append(self.tok.eos)
            self.stage = "end"
        else:
            self._open_bar()

    def choose_bar(self) -> None:
        """The model chose BAR: this bar is over; queue the next bar's forced prefix (its BAR included)."""
        self._close_bar()


def _draw(logits: np.ndarray, allowed: list[int], temperature: float, top_p: float,
          rng: np.random.Generator) -> int:
    """One token among `allowed`: softmax at `temperature`, nucleus `top_p`, one uniform draw."""
    index = np.asarray(allowed, dtype=np.int64)
    scaled = logits[index].astype(np.float64) / max(temperature, 1e-3)
    probs = np.exp(scaled - scaled.max())
    probs /= probs.sum()
    if top_p < 1.0:
        order = np.argsort(-probs, kind="stable")
        ranked = probs[order]
        keep = np.cumsum(ranked) - ranked < top_p  # the most likely always stays
        index, probs = index[order[keep]], ranked[keep]
    cumulative = np.cumsum(probs)
    return int(index[min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")),
                         len(index) - 1)])


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
            token = c.forced.pop(0)  # the next BAR and its forced prefix, or EOS after the last bar
        c.push(token)
        run.append(token)
        token = None
        if c.done:
            return run


def generate(model, tok: Tokenizer, specs: list[MelodySpec]) -> list[list[int]]:
    """Token sequences for a batch of specs, sampled together with one KV cache.

    Each step feeds every row its whole pending run (the token it sampled and what the grammar then
    forces: the header, a bar's prefix) in one forward pass, shorter runs padded. So a batch takes
    about as many steps as its longest request alone, and each row is fed exactly as it would be
    alone: a piece's notes do not depend on what it was batched with.
    """
    fast = FastGPT.from_model(model) if hasattr(model, "state_dict") else model  # or anything that steps
    cursors = [_Cursor(s, tok) for s in specs]
    generators = [np.random.default_rng(int(s.seed) % (2 ** 63)) for s in specs]
    for c in cursors:
        c.limit = fast.n_positions
    pending = [_advance(c) for c in cursors]
    cache = fast.new_cache(len(specs))
    even = True  # every row fed the same count at every step so far
    while any(pending):
        k = max(len(p) for p in pending)
        counts = [len(p) for p in pending]
        rows = np.array([p + [tok.pad] * (k - len(p)) for p in pending], dtype=np.int64)
        even = even and all(n == k for n in counts)
        logits = fast.step(rows, cache) if even else fast.step(rows, cache, counts)
        pending = [[] for _ in pending]
        for row, (c, g) in enumerate(zip(cursors, generators)):
            if c.done or not counts[row]:
                continue
            pending[row] = _advance(c, _draw(logits[row], c.allowed(), c.spec.temperature, c.spec.top_p, g))
    return [c.tokens for c in cursors]

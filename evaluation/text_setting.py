"""How well the words fit the tune, at the symbolic level (no audio): the figures the syllable plan
is judged by.

    python -m evaluation.text_setting                 # 20 prompts × both singers × both engines
    python -m evaluation.text_setting --prompts 5 --engine rules
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from composer.sing.setting import SungLine, beat_strength
from composer.music.theory import Meter


@dataclass
class Fit:
    syllables: int = 0  # sung syllables
    one_note: int = 0  # ... that have exactly one note of their own
    melismas: int = 0  # ... that hold over several notes
    stressed: int = 0  # sung syllables with primary stress
    stressed_on_beat: int = 0  # ... starting on a pulse (beat strength ≥ 1)
    stressed_strong: int = 0  # ... starting on the downbeat or the bar's middle pulse (strength ≥ 2)
    lines: int = 0  # lyric lines begun (each pass of the lyrics, or each text line)
    lines_at_phrase_start: int = 0  # ... whose first syllable is the first of a sung phrase
    notes: int = 0  # notes in the sung line
    notes_sung: int = 0  # ... that carry a syllable (its own or a melisma's)

    def __add__(self, other: Fit) -> Fit:
        return Fit(*(a + b for a, b in zip(vars(self).values(), vars(other).values())))

    def figures(self) -> dict[str, float]:
        return {
            "one_note": self.one_note / max(1, self.syllables),
            "stressed_on_beat": self.stressed_on_beat / max(1, self.stressed),
            "stressed_strong": self.stressed_strong / max(1, self.stressed),
            "lines_at_phrase_start": self.lines_at_phrase_start / max(1, self.lines),
            "melisma": self.melismas / max(1, self.syllables),
            "notes_sung": self.notes_sung / max(1, self.notes),
        }


def measure(line: SungLine, meter: Meter, vocal_notes: int | None = None) -> Fit:
    """Fit figures of one sung line (`vocal_notes`: notes on the vocals track, for `notes_sung`)."""
    fit = Fit()
    phrase_start = True
    shared = set()
    for sung in line.syllables:
        starts = {round(n.start, 4) for n in sung.notes}
        fit.syllables += 1
        own = not (starts & shared)
        shared |= starts
        fit.one_note += len(sung.notes) == 1 and own
        fit.melismas += len(sung.notes) > 1
        fit.notes_sung += len(sung.notes)
        syl = sung.syllable
        if syl.stress == 2:
            strength = beat_strength(sung.start, meter)
            fit.stressed += 1
            fit.stressed_on_beat += strength >= 1
            fit.stressed_strong += strength >= 2
        if getattr(syl, "line_start", syl.word_index == 0 and syl.word_start):
            fit.lines += 1
            fit.lines_at_phrase_start += phrase_start
        phrase_start = sung.phrase_end
    fit.notes = vocal_notes if vocal_notes is not None else fit.notes_sung
    return fit


def measure_composition(composition) -> Fit:
    score = composition.score
    vocals = score.track("vocals")
    return measure(composition.sung, composition.plan.meter, len(vocals.notes) if vocals else None)


PROMPTS = [
    "happy birthday dear friend", "a sad song about rain", "dancing all night long", "sunny morning by the sea",
    "we will march together", "lullaby for my little star", "epic battle in the mountains",
    "jazz cafe at midnight", "romantic walk in paris", "holiday lights and snow", "rock and roll tonight",
    "space travel to the moon", "chill summer afternoon", "retro arcade adventure", "horror in the old house",
    "nature walk through the forest", "relax and breathe slowly", "happy 90th birthday grandma",
    "the quick brown fox jumps over the lazy dog", "thank you for the music",
]


def compose_sung(prompts: list[str], voice: str, engine: str, composer=None, length_s: float = 30.0,
                 first_seed: int = 100):
    """Compose one sung piece per prompt (seed `first_seed` + index), symbolic only."""
    from composer.pipeline import Composer
    from composer.understanding.understand import understand

    composer = composer or Composer()
    requests = [understand(p, {"voice": voice, "seed": first_seed + i, "length": length_s, "engine": engine},
                           composer.catalog) for i, p in enumerate(prompts)]
    return composer.compose_scores(requests)


def main(argv: list[str] | None = None) -> None:
    from composer.pipeline import Composer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=len(PROMPTS))
    parser.add_argument("--length", type=float, default=30.0)
    parser.add_argument("--engine", choices=("rules", "model"), action="append", help="default: both")
    parser.add_argument("--voice", choices=("male", "female"), action="append", help="default: both")
    args = parser.parse_args(argv)
    composer = Composer()
    print("| engine | voice | syllables | one note each | stressed on a beat | stressed on a strong beat "
          "| lines at a phrase start | melismas | notes sung |")
    print("|---|---|---|---|---|---|---|---|---|")
    for engine in args.engine or ("rules", "model"):
        for voice in args.voice or ("male", "female"):
            pieces = compose_sung(PROMPTS[: args.prompts], voice, engine, composer, args.length)
            total = sum((measure_composition(c) for c in pieces), Fit())
            f = total.figures()
            print(f"| {engine} | {voice} | {total.syllables} | {f['one_note']:.1%} | {f['stressed_on_beat']:.1%} "
                  f"| {f['stressed_strong']:.1%} | {f['lines_at_phrase_start']:.1%} | {f['melisma']:.1%} "
                  f"| {f['notes_sung']:.1%} |", flush=True)


if __name__ == "__main__":
    main()

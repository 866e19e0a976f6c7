"""Can a listener make out the sung words, and are they in tune and on the beat? Judged from the
outside (evaluation/judges.py): a speech recogniser for the words, SwiftF0 for the pitch.

    python -m evaluation.singing                    # 32 lines × both voices + the flagship, Markdown
    python -m evaluation.singing --lines 4 --seeds 1 --report /tmp/sung.md
    python -m evaluation.singing --lines-file evaluation/data/sung_lines_holdout.jsonl --seeds 0 --line-seeds 3 --spoken
    python -m evaluation.singing --line-seeds 5 --seeds 0 --pieces /tmp/after.jsonl   # for evaluation.singing_pairs

Lines come from evaluation/data/sung_lines.jsonl: half written out (`--lyrics`), half taken from a
prompt (what Muse cleans out of the prompt is what gets sung). That set was used while the voice
was tuned. sung_lines_holdout.jsonl holds 32 more: 16 written after the tuning, 16 written later
before any of them was sung; no design choice was made on them. Each line is a 20 s piece, sung
once per seed set (`--line-seeds`: one tune per set, so the spread between sets shows how much
of a figure is the tunes' luck); the flagship `happy birthday` is a default 30 s piece per seed.
Figures per voice:
- words recognised: sung words (repeats included) matched in order by the recogniser's text,
  on the dry vocal and on the full mix;
- pitch: voiced frames (by SwiftF0) within 50 cents of the sung note, skipping each note's first
  60 ms (the glide) and its last 30 ms;
- onsets: for syllables with primary stress, |heard onset − beat|, the heard onset being the
  strongest spectral-flux peak from 120 ms before the beat to 80 ms after, on the dry vocal;
- median F0 and vowel formants F1–F3 (LPC on held vowels) for the male/female comparison.
With `--spoken`, the lines are also spoken once, plainly (the ceiling) and with the vowels held as
the singer's voice holds them, which splits what singing costs between the voice and the vocoder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter, resample_poly, stft

from composer.audio.render import SAMPLE_RATE
from evaluation.judges import Alignment, align, normalise, pitch_tracker, recogniser

LINES_FILE = Path(__file__).parent / "data" / "sung_lines.jsonl"
LINE_SECONDS = 20.0
FLAGSHIP = "happy birthday"
CENTS = 50.0
ONSET_TOLERANCE_S = 0.04
SKIP_HEAD_S, SKIP_TAIL_S = 0.06, 0.03
ONSET_HOP_S = 0.005
FORMANT_RATE = 11025
F0_RANGE_HZ = {"male": (60.0, 500.0), "female": (120.0, 1100.0)}


@dataclass
class SungPiece:
    label: str  # the lyrics or prompt
    voice: str
    seed: int
    lyric: str  # the words Muse sang
    dry: Alignment
    mix: Alignment
    dry_text: str
    mix_text: str
    voiced_frames: int
    in_tune_frames: int
    onset_errors_s: list[float]
    median_f0_hz: float
    formants_hz: list[list[float]] = field(default_factory=list)  # per held vowel: F1, F2, F3
    sing_s: float = 0.0
    word_shapes: list[str] = field(default_factory=list)  # per sung word (`WORD_SHAPES`), same order


def load_lines(path: Path = LINES_FILE) -> list[dict]:
    """The lines, each with its place in the file (`index`), which fixes its seed in any subset."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{**row, "index": k} for k, row in enumerate(rows)]


def sung_words(line) -> list[str]:
    """The words in the order they are sung, repeats included, normalised as heard text is."""
    words = line.text.split()
    return normalise(" ".join(words[s.syllable.word_index] for s in line.syllables if s.syllable.word_start))


WORD_SHAPES = ("one syllable, first in its phrase", "one syllable, inside a phrase",
               "several syllables, first in its phrase", "several syllables, inside a phrase")


def word_shapes(line) -> list[str]:
    """Per sung word (in `sung_words` order): its syllable count and whether a phrase starts on it,
    so the report shows where the words are lost."""
    words = line.text.split()
    out: list[str] = []
    first_in_phrase = True
    for sung in line.syllables:
        syllable = sung.syllable
        if syllable.word_start:
            several = not syllable.word_end
            shape = WORD_SHAPES[2 * several + (not first_in_phrase)]
            out += [shape] * len(normalise(words[syllable.word_index]))
        first_in_phrase = sung.phrase_end
    return out


def onset_strength(audio: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(times s, spectral flux): the summed rise of log magnitude, 150 Hz-6 kHz, 30 ms windows
    every 5 ms; it peaks where a new sound begins, a vowel after its consonant included."""
    hop, size = int(ONSET_HOP_S * rate), int(0.03 * rate)
    freqs, times, z = stft(audio, rate, nperseg=size, noverlap=size - hop, boundary=None, padded=False)
    band = (freqs >= 150) & (freqs <= 6000)
    magnitude = np.log1p(1000 * np.abs(z[band]))
    return times, np.concatenate([[0.0], np.maximum(0.0, np.diff(magnitude, axis=1)).sum(axis=0)])


def onset_errors(dry: np.ndarray, rate: int, events, stressed: list[bool]) -> list[float]:
    """|heard onset − beat| per stressed syllable: the strongest onset from 120 ms before its beat
    to 80 ms after (a generic onset detector, blind to how the voice was made)."""
    times, flux = onset_strength(dry, rate)
    errors = []
    for event, strong in zip(events, stressed):
        window = (times >= event.start_s - 0.12) & (times <= event.start_s + 0.08)
        if strong and window.any():
            errors.append(abs(float(times[np.argmax(np.where(window, flux, -1.0))]) - event.start_s))
    return errors


def pitch_frames(dry: np.ndarray, rate: int, events, voice: str) -> tuple[int, int, float]:
    """(voiced frames judged, of which within 50 cents, median F0) by SwiftF0."""
    times, f0 = pitch_tracker().track(dry, rate, *F0_RANGE_HZ[voice])
    target = np.zeros(len(times))
    for event in events:
        for n_start, n_end, pitch in event.notes:
            mask = (times >= max(n_start, event.start_s) + SKIP_HEAD_S) & (times < min(n_end, event.end_s) - SKIP_TAIL_S)
            target[mask] = 440.0 * 2 ** ((pitch - 69) / 12)
    judged = (target > 0) & (f0 > 0)
    cents = np.abs(1200 * np.log2(f0[judged] / target[judged]))
    sounding = f0[f0 > 0]
    return int(judged.sum()), int((cents <= CENTS).sum()), float(np.median(sounding)) if sounding.size else 0.0


def formants(dry: np.ndarray, rate: int, events, order: int = 12) -> list[list[float]]:
    """F1–F3 (Hz) by LPC in the middle 40 ms of each vowel held ≥ 0.25 s: roots of the
    predictor polynomial above 200 Hz with bandwidth under 500 Hz."""
    x = resample_poly(dry.astype(np.float64), FORMANT_RATE, rate)
    x = lfilter([1.0, -0.97], [1.0], x)
    out = []
    for event in events:
        if event.end_s - event.start_s < 0.25:
            continue
        centre = int((event.start_s + event.end_s) / 2 * FORMANT_RATE)
        half = int(0.02 * FORMANT_RATE)
        frame = x[centre - half:centre + half] * np.hamming(2 * half)
        if len(frame) < 2 * half or np.abs(frame).max() < 1e-4:
            continue
        r = np.correlate(frame, frame, "full")[len(frame) - 1:len(frame) + order]
        a = solve_toeplitz((r[:-1], r[:-1]), r[1:])
        roots = np.roots(np.concatenate([[1.0], -a]))
        roots = roots[np.imag(roots) > 0]
        freqs = np.angle(roots) * FORMANT_RATE / (2 * np.pi)
        bandwidths = -np.log(np.abs(roots)) * FORMANT_RATE / np.pi
        found = sorted(f for f, b in zip(freqs, bandwidths) if f > 200 and b < 500)
        if len(found) >= 3:
            out.append(found[:3])
    return out


def sing_one(composer, label: str, options: dict, voice: str, seed: int, length_s: float) -> SungPiece:
    """One piece composed and sung by `composer` (one for the whole run: it holds the loaded
    melody model), then judged."""
    from composer.pipeline import mix_settings
    from composer.sing.mixdown import render_song

    draft = _draft(composer, label, options, voice, seed, length_s)
    started = time.perf_counter()
    song = render_song(draft.score, draft.sung, voice, mix_settings(draft.plan))
    sing_s = time.perf_counter() - started
    words = sung_words(draft.sung)
    dry_text = recogniser().transcribe(song.vocal.audio, SAMPLE_RATE)
    mix_text = recogniser().transcribe(song.master, SAMPLE_RATE)
    events = song.vocal.events
    stressed = [s.syllable.stress == 2 for s in draft.sung.syllables]
    voiced, in_tune, median_f0 = pitch_frames(song.vocal.audio, SAMPLE_RATE, events, voice)
    return SungPiece(label, voice, seed, draft.sung.text, align(words, normalise(dry_text)),
                     align(words, normalise(mix_text)), dry_text, mix_text, voiced, in_tune,
                     onset_errors(song.vocal.audio, SAMPLE_RATE, events, stressed), median_f0,
                     formants(song.vocal.audio, SAMPLE_RATE, events), sing_s, word_shapes(draft.sung))


def _draft(composer, label: str, options: dict, voice: str, seed: int, length_s: float):
    """The line's request understood and composed (scores only), as a member's would be."""
    from composer.understanding.understand import understand

    request = understand(options.get("prompt", label), {**options.get("options", {}), "voice": voice, "seed": seed,
                                                         "length": length_s}, composer.catalog)
    (draft,) = composer.compose_scores([request])
    return draft


def spoken_line(composer, label: str, options: dict, seed: int) -> tuple[Alignment, Alignment]:
    """The line's words spoken once by the Joe voice, no singing, judged like the singing: at its
    own pace (what the voice and the recogniser manage before any note is sung, the ceiling), and
    held the way the vocalist has the voice speak it for the male singer, vowels held and codas
    drawn out, before the vocoder sets any note. The gap between the two is the voice's part of
    what singing costs; the gap from the held speech to the sung figure, the vocoder's and the
    melody's."""
    from composer.sing.speech import get_speaker
    from composer.sing.vocalist import voice_holds
    from composer.sing.vocoder import layout

    draft = _draft(composer, label, options, "male", seed, LINE_SECONDS)
    once = draft.sung.spoken_syllables()
    holds = voice_holds(once, layout(draft.sung, draft.score.seconds_per_quarter))
    words = draft.sung.text.split()
    said = normalise(" ".join(words[s.word_index] for s in once if s.word_start))
    judged = []
    for vowel_s in (None, holds):
        speech = get_speaker().speak(once, vowel_s)
        judged.append(align(said, normalise(recogniser().transcribe(speech.audio, speech.sample_rate))))
    return judged[0], judged[1]


def seed_sets(count: int) -> list[int]:
    """Base seeds for singing every line `count` times over: each set gives every line another tune,
    so the spread between sets shows how much of a figure is the tunes' luck."""
    return [300 + 100 * k for k in range(max(1, count))]


def line_requests(lines: list[dict], seed: int) -> list[tuple[str, dict, int]]:
    out = []
    for k, line in enumerate(lines):
        at = seed + line.get("index", k)
        if "lyrics" in line:
            out.append((line["lyrics"], {"prompt": "a song", "options": {"lyrics": line["lyrics"]}}, at))
        else:
            out.append((line["prompt"], {"prompt": line["prompt"]}, at))
    return out


def _share(pieces: list[SungPiece], which: str) -> float:
    return sum(getattr(p, which).recognised for p in pieces) / max(1, sum(len(getattr(p, which).sung) for p in pieces))


def summary_rows(pieces: list[SungPiece]) -> list[str]:
    rows = []
    for voice in ("male", "female"):
        mine = [p for p in pieces if p.voice == voice]
        if not mine:
            continue
        errors = np.array([e for p in mine for e in p.onset_errors_s]) if any(p.onset_errors_s for p in mine) else np.zeros(1)
        voiced = sum(p.voiced_frames for p in mine)
        rows.append(f"| {voice} | {len(mine)} | {_share(mine, 'dry'):.1%} | {_share(mine, 'mix'):.1%} "
                    f"| {sum(p.in_tune_frames for p in mine) / max(1, voiced):.1%} "
                    f"| {np.mean(errors <= ONSET_TOLERANCE_S):.1%} | {np.median(errors) * 1000:.0f} ms "
                    f"| {statistics.median(p.median_f0_hz for p in mine):.0f} Hz |")
    return rows


def spread_rows(pieces: list[SungPiece], lines: int) -> list[str]:
    """Words recognised per seed set (each line sung once per set), per voice."""
    rows = []
    for voice in ("male", "female"):
        mine = [p for p in pieces if p.voice == voice]
        sets = [mine[k:k + lines] for k in range(0, len(mine), lines)]
        if len(sets) > 1:
            dry = [_share(s, "dry") for s in sets]
            mix = [_share(s, "mix") for s in sets]
            rows.append(f"| {voice} | {' / '.join(f'{d:.1%}' for d in dry)} | {min(dry):.1%}–{max(dry):.1%} "
                        f"| {' / '.join(f'{m:.1%}' for m in mix)} | {min(mix):.1%}–{max(mix):.1%} |")
    return rows


def _heard(alignments: list[Alignment]) -> tuple[float, int]:
    """(share of the words recognised, words said) over lines spoken once."""
    said = sum(len(a.sung) for a in alignments)
    return sum(a.recognised for a in alignments) / max(1, said), said


def shape_rows(pieces: list[SungPiece]) -> list[str]:
    """Words recognised on the dry vocal per word shape and voice ("x% of n" sung words); a piece
    whose shapes do not line up with its sung words is left out of this table only."""
    counts: dict[tuple[str, str], list[int]] = {}
    for p in pieces:
        if len(p.word_shapes) != len(p.dry.sung):
            continue
        recognised = {i for i, _ in p.dry.pairs}
        for i, shape in enumerate(p.word_shapes):
            tally = counts.setdefault((shape, p.voice), [0, 0])
            tally[0] += i in recognised
            tally[1] += 1
    rows = []
    for shape in WORD_SHAPES:
        cells = []
        for voice in ("male", "female"):
            got, total = counts.get((shape, voice), (0, 0))
            cells.append(f"{got / total:.1%} of {total}" if total else "—")
        rows.append(f"| {shape} | {' | '.join(cells)} |")
    return rows


def formant_row(pieces: list[SungPiece]) -> str:
    medians = {}
    for voice in ("male", "female"):
        found = np.array([f for p in pieces if p.voice == voice for f in p.formants_hz])
        medians[voice] = np.median(found, axis=0) if len(found) else np.zeros(3)
    ratios = [f / m if m else 0.0 for f, m in zip(medians["female"], medians["male"])]
    return ("| " + " | ".join(f"{m:.0f} / {f:.0f} Hz (×{r:.2f})" for m, f, r in zip(medians["male"], medians["female"], ratios))
            + " |")


def report(pieces: list[SungPiece], flagship: list[SungPiece], lines_per_set: int | None = None,
           spoken: list[Alignment] | None = None, held: list[Alignment] | None = None) -> str:
    head = ("| voice | pieces | words recognised, dry vocal | words recognised, full mix | pitch within 50 cents "
            "(SwiftF0) | stressed onsets within 40 ms | median onset error | median F0 |\n|---|---|---|---|---|---|---|---|")
    lines = ["## Lyric lines", "", head, *summary_rows(pieces), ""]
    spread = spread_rows(pieces, lines_per_set) if lines_per_set else []
    if spread:
        lines += ["Each line was sung once per seed set, to a different tune each time. Words recognised per set:", "",
                  "| voice | dry vocal, per set | range | full mix, per set | range |", "|---|---|---|---|---|",
                  *spread, ""]
    if spoken:
        heard, said = _heard(spoken)
        lines += [f"The same lines spoken once by the voice, not sung (its own pace and pitch): {heard:.1%} of "
                  f"{said} words recognised. That is the ceiling the voice and the "
                  "recogniser set; the gap to the sung figures is what the singing costs.", ""]
    if held:
        heard, said = _heard(held)
        lines += [f"Spoken once with the vowels held and the codas drawn out as the voice speaks them for the male "
                  f"singer, before any note is set: {heard:.1%} of {said} words recognised. Between the ceiling and "
                  "this lies what the held voice costs; between this and the sung figure, what the vocoder and the "
                  "melody cost.", ""]
    lines += ["Words recognised on the dry vocal by the word's shape (repeats counted each time sung):", "",
              "| word | male | female |", "|---|---|---|", *shape_rows(pieces), ""]
    lines += ["## The flagship: `happy birthday`", "", head, *summary_rows(flagship), ""]
    whole = [p for p in flagship if p.dry.share == 1.0]
    lines.append(f"Flagship sung with every word recognised on the dry vocal: {len(whole)} of {len(flagship)} pieces.")
    lines += ["", "## Vowel formants (LPC, median over held vowels): male / female", "",
              "| F1 | F2 | F3 |", "|---|---|---|", formant_row(pieces + flagship), "",
              "## What the recogniser heard (dry vocal; ~~struck~~ words were not recognised)", "",
              "| voice | asked | sung | heard | dry | mix |", "|---|---|---|---|---|---|"]
    for p in pieces + flagship:
        heard = p.dry_text.replace("|", "/")
        lines.append(f"| {p.voice} | {p.label} | {p.dry.marked()} | {heard} | {p.dry.share:.0%} | {p.mix.share:.0%} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=None, help="how many lines (default: all)")
    parser.add_argument("--lines-file", type=Path, default=LINES_FILE)
    parser.add_argument("--seeds", type=int, default=5, help="flagship seeds per voice")
    parser.add_argument("--line-seeds", type=int, default=1,
                        help="sing every line this many times, each time a different tune (seed sets 300, 400, …)")
    parser.add_argument("--voice", choices=("male", "female"), action="append", help="default: both")
    parser.add_argument("--report", type=Path, help="also write the Markdown report (with every line) here")
    parser.add_argument("--spoken", action="store_true",
                        help="also judge every line spoken once, not sung: plainly, and with its vowels held")
    parser.add_argument("--pieces", type=Path,
                        help="also write each judged piece here (JSON lines) for `python -m evaluation.singing_pairs`")
    args = parser.parse_args(argv)
    lines = load_lines(args.lines_file)
    if args.lines is not None:
        lines = lines[:: max(1, len(lines) // args.lines)][: args.lines]
    from composer.pipeline import Composer

    composer = Composer()
    pieces, flagship = [], []
    for voice in args.voice or ("male", "female"):
        for base in seed_sets(args.line_seeds):
            for label, options, seed in line_requests(lines, seed=base):
                pieces.append(sing_one(composer, label, options, voice, seed, LINE_SECONDS))
                print(f"{voice}: {pieces[-1].dry.share:.0%} dry, {pieces[-1].mix.share:.0%} mix | {label}", flush=True)
        for seed in range(1, args.seeds + 1):
            flagship.append(sing_one(composer, FLAGSHIP, {"prompt": FLAGSHIP}, voice, seed, 30.0))
            print(f"{voice}: {flagship[-1].dry.share:.0%} dry | flagship seed {seed}: {flagship[-1].dry_text}", flush=True)
    first_set = seed_sets(1)[0]
    judged = [spoken_line(composer, label, options, seed) for label, options, seed in line_requests(lines, first_set)] \
        if args.spoken else []
    spoken, held = [plain for plain, _ in judged], [held for _, held in judged]
    command = " ".join(["python -m evaluation.singing", *(argv if argv is not None else sys.argv[1:])])
    text = (f"# Singing judged from outside\n\nWritten by `{command}` on {time.strftime('%Y-%m-%d')}, "
            f"{platform.machine()} with {os.cpu_count()} cores. Method: evaluation/singing.py.\n\n"
            + report(pieces, flagship, len(lines), spoken, held))
    print(text)
    if args.report:
        args.report.write_text(text, encoding="utf-8")
    if args.pieces:
        from evaluation.singing_pairs import write_pieces

        write_pieces(pieces + flagship, args.pieces)


if __name__ == "__main__":
    main()

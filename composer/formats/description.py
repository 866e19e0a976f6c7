"""A short description a person reads under the audio, and the longer text file beside it."""

from __future__ import annotations

from composer.plan import Plan
from composer.music.score import Score

_METER_WORDS = {"3/4": "waltz", "6/8": "lilting 6/8 tune", "9/8": "slip-jig-like 9/8 tune",
                "12/8": "rolling 12/8 groove", "2/4": "brisk 2/4 tune", "5/4": "restless 5/4 piece",
                "7/8": "asymmetric 7/8 piece", "2/2": "cut-time piece", "3/8": "quick 3/8 dance"}


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _form_words(plan: Plan) -> str:
    names = [s.name for s in plan.sections]
    body = _join(names[:-1])
    return f"{body}, then an ending that closes on the tonic" if names[-1] == "ending" else body


def describe(plan: Plan, score: Score) -> str:
    request = plan.request
    mood = plan.theme.spec["mood"]
    kind = _METER_WORDS.get(str(plan.meter), "piece")
    article = "An" if mood[:1].lower() in "aeiou" else "A"
    theme_word = "" if plan.theme.name in mood or plan.theme.name in kind else f" {plan.theme.name}"
    seconds = round(score.duration_s)
    lead = score.melody
    others: list[str] = []
    for track in score.tracks:
        if track is lead or not track.instrument:
            continue
        name = f"{track.instrument} chords" if track.instrument == lead.instrument else track.instrument
        if name not in others:
            others.append(name)
    if plan.voice.sings:
        lead_words = f"A {plan.voice.name} voice carries the tune ({lead.instrument})"
    else:
        lead_words = f"The {lead.instrument} leads"
    text = (
        f"{article} {mood}{theme_word} {kind} in {score.key_name} at {plan.tempo} BPM "
        f"({plan.meter}), about {seconds} seconds long. {lead_words} over {_join(others)}. "
        f"Form: {_form_words(plan)}."
    )
    if request.pitch:
        direction = "up" if request.pitch > 0 else "down"
        text += f" Transposed {direction} {abs(request.pitch)} semitone{'s' if abs(request.pitch) != 1 else ''} from {plan.key.name}."
    for note in request.notes:
        text += f" Note: {note}."
    return text


def text_file(plan: Plan, score: Score, description: str, engine: dict, seed: int) -> str:
    """The .txt beside the audio: description, request, chords per section, engine."""
    lines = [score.title, "=" * len(score.title), "", description, "", "Request"]
    for key, value in plan.request.to_manifest().items():
        lines.append(f"  {key}: {value}")
    lines += ["", "Sections"]
    for section in plan.sections:
        chords = " ".join(c.name(plan.key) for c in section.chords)
        lines.append(f"  bars {section.start_bar + 1:>3}-{section.end_bar:<3} {section.name:<8} {chords}")
    lines += ["", "Tracks"]
    for track in score.tracks:
        lines.append(f"  {track.name:<8} {track.instrument} ({len(track.notes)} notes)")
    lines += ["", f"Engine: {engine['name']} {engine.get('version', '')} {engine.get('checkpoint') or ''}".rstrip(),
              f"Seed: {seed}", "", "Composed by Muse."]
    return "\n".join(lines) + "\n"

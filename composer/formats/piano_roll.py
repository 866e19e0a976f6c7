"""A piano-roll picture of the score: one colour per track, bar lines, section names, a title."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from composer.music.score import Score

WIDTH, HEIGHT = 1600, 720
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 70, 30, 90, 40
DRUM_LANE = 90
BACKGROUND = (18, 20, 30)
GRID = (48, 52, 70)
TEXT = (235, 236, 245)
MUTED = (150, 155, 175)
COLOURS = {
    "vocals": (255, 99, 132), "lead": (255, 178, 56), "harmony": (80, 170, 255),
    "bass": (120, 220, 140), "pad": (170, 130, 255), "drums": (200, 200, 210),
}


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


@dataclass(frozen=True)
class _Frame:
    """Where quarter notes and pitches land on the canvas."""

    low: int
    high: int
    total: float
    roll_bottom: float = HEIGHT - MARGIN_B - DRUM_LANE - 10

    def x(self, q: float) -> float:
        return MARGIN_L + (WIDTH - MARGIN_L - MARGIN_R) * q / self.total

    def y(self, pitch: int) -> float:
        return self.roll_bottom - (pitch - self.low) * (self.roll_bottom - MARGIN_T) / max(1, self.high - self.low)


def draw_piano_roll(score: Score, subtitle: str = "", sections: list[tuple[str, float]] | None = None) -> bytes:
    """The piece as a PNG: one colour per track, drums in their own lane, sections marked."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image, "RGBA")
    small = _font(15)
    draw.text((MARGIN_L, 18), score.title, fill=TEXT, font=_font(30))
    draw.text((MARGIN_L, 56), subtitle, fill=MUTED, font=small)
    pitched = [n for t in score.tracks if not t.is_drums for n in t.notes]
    frame = _Frame(low=min((n.pitch for n in pitched), default=48) - 2,
                   high=max((n.pitch for n in pitched), default=84) + 2, total=max(score.total_quarters, 1e-6))
    _grid(draw, frame, score, sections or [], small)
    _pitched_notes(draw, frame, score)
    _drum_lane(draw, frame, score, small)
    _legend(draw, score, small)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _grid(draw: ImageDraw.ImageDraw, f: _Frame, score: Score, sections: list[tuple[str, float]],
          font: ImageFont.ImageFont) -> None:
    """Octave lines with their C, bar lines (every fourth brighter) and the section names."""
    for octave_c in range((f.low // 12 + 1) * 12, f.high + 1, 12):
        draw.line([(MARGIN_L, f.y(octave_c)), (WIDTH - MARGIN_R, f.y(octave_c))], fill=(32, 35, 48))
        draw.text((12, f.y(octave_c) - 8), f"C{octave_c // 12 - 1}", fill=MUTED, font=font)
    bar_q = score.numerator * 4 / score.denominator
    for b in range(int(round(f.total / bar_q)) + 1):
        colour = GRID if b % 4 else (70, 76, 100)
        draw.line([(f.x(b * bar_q), MARGIN_T), (f.x(b * bar_q), HEIGHT - MARGIN_B)], fill=colour, width=1)
    for name, start_q in sections:
        draw.text((f.x(start_q) + 4, MARGIN_T - 20), name, fill=MUTED, font=font)


def _pitched_notes(draw: ImageDraw.ImageDraw, f: _Frame, score: Score) -> None:
    """Every pitched note as a bar, the tune drawn last so it stays on top."""
    row_h = max(3.0, (f.roll_bottom - MARGIN_T) / max(1, f.high - f.low) * 0.9)
    order = ["pad", "harmony", "bass", "lead", "vocals"]
    for track in sorted((t for t in score.tracks if not t.is_drums),
                        key=lambda t: order.index(t.name) if t.name in order else 0):
        r, g, b = COLOURS.get(track.name, (220, 220, 220))
        alpha = 255 if track.name in ("lead", "vocals") else 170
        for n in track.notes:
            top = f.y(n.pitch) - row_h / 2
            draw.rounded_rectangle([f.x(n.start), top, max(f.x(n.start) + 2, f.x(n.end) - 1), top + row_h],
                                   radius=2, fill=(r, g, b, alpha))


def _drum_lane(draw: ImageDraw.ImageDraw, f: _Frame, score: Score, font: ImageFont.ImageFont) -> None:
    """One row per drum sound under the roll, each hit a tick as strong as its velocity."""
    lane_top = HEIGHT - MARGIN_B - DRUM_LANE
    draw.text((12, lane_top + DRUM_LANE / 2 - 8), "drums", fill=MUTED, font=font)
    drums = score.track("drums")
    if not drums:
        return
    kinds = sorted({n.pitch for n in drums.notes})
    lane_h = DRUM_LANE / max(1, len(kinds))
    for n in drums.notes:
        top = lane_top + kinds.index(n.pitch) * lane_h
        draw.rectangle([f.x(n.start), top + 1, f.x(n.start) + 2, top + max(2, lane_h - 1)],
                       fill=(*COLOURS["drums"], 90 + n.velocity))


def _legend(draw: ImageDraw.ImageDraw, score: Score, font: ImageFont.ImageFont) -> None:
    legend_x = WIDTH - MARGIN_R
    for track in reversed(score.tracks):
        label = f"{track.name}: {track.instrument}" if track.instrument else track.name
        legend_x -= draw.textlength(label, font=font) + 30
        draw.rectangle([legend_x, 62, legend_x + 12, 74], fill=COLOURS.get(track.name, (220, 220, 220)))
        draw.text((legend_x + 18, 58), label, fill=TEXT, font=font)

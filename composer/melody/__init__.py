"""Melody engines: each writes the lead line for a plan. The neural model and the rules share this
interface, so the pipeline and the arranger never know which one wrote the tune."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from composer.errors import InvalidRequest
from composer.plan import Plan
from composer.music.score import Note


@dataclass(frozen=True)
class EngineInfo:
    name: str
    version: str
    checkpoint: str | None = None

    def to_manifest(self) -> dict[str, str | None]:
        return {"name": self.name, "checkpoint": self.checkpoint, "version": self.version}


class MelodyEngine(Protocol):
    info: EngineInfo

    def write(self, plans: list[Plan], seeds: list[int]) -> list[list[Note]]:
        """One melody per plan; batched so a model can serve several requests in one pass."""
        ...


ENGINES = ("model", "rules")


def default_engine() -> str:
    """The trained model when its checkpoint ships with the package, else the rules."""
    from composer.model.paths import CHECKPOINT_DIR

    return "model" if (CHECKPOINT_DIR / "melody" / "model.safetensors").exists() else "rules"


def get_engine(name: str) -> MelodyEngine:
    if name == "rules":
        from composer.melody.rules import RulesEngine

        return RulesEngine()
    if name == "model":
        from composer.melody.model import ModelEngine

        return ModelEngine()
    raise InvalidRequest(f"unknown engine {name!r}; engines: {', '.join(ENGINES)}")

"""One instance per process of something expensive to load (synth, voice, vocalist)."""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class ProcessSingleton(Generic[T]):
    """Builds the instance on first use, under a lock, so two threads never load it twice."""

    def __init__(self, factory: Callable[[], T]):
        self._factory = factory
        self._instance: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._instance is None:
                self._instance = self._factory()
            return self._instance

"""The one error the composer tier raises to its callers, whatever Ray or Serve raised underneath."""

from __future__ import annotations

from composer import MuseError


class ComposerTierError(MuseError):
    """The tier could not answer a call. `retriable`: the call may succeed if made again (a replica
    died or is being replaced, the tier is busy or starting); otherwise it will fail the same way."""

    def __init__(self, message: str, *, retriable: bool):
        super().__init__(message)
        self.retriable = retriable

    def __reduce__(self):  # keeps `retriable` through pickling (Ray, multiprocessing)
        return _rebuild, (str(self), self.retriable)


def _rebuild(message: str, retriable: bool) -> ComposerTierError:
    return ComposerTierError(message, retriable=retriable)

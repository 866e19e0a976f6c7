"""Typed errors raised inside the composer; callers turn them into one friendly line."""


class MuseError(Exception):
    """Base for every error Muse reports to a person (CLI `error:` line, bot reply)."""


class InvalidRequest(MuseError):
    """A request field is missing, malformed or out of range."""


class UnknownName(InvalidRequest):
    """A theme, voice or other name that does not exist; the message lists what does."""


class SchemaError(MuseError):
    """A theme or voice spec breaks the schema; the message names the file and field."""


class RenderError(MuseError):
    """Audio could not be rendered or encoded (missing FluidSynth, soundfont, codec)."""


class ScoreDataError(MuseError):
    """A stored score (JSON) cannot be read: not JSON, another format version, or a field is wrong."""

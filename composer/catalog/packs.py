"""Operator packs: more themes and voices from a folder (`MUSE_PACKS_DIR`), checked file by file.

    packs/                     MUSE_PACKS_DIR
      example/                 one pack
        pack.json              {"name", "version", "author", "licence", "description"?, "credits"?}
        themes/lofi-tape.json  the theme schema (composer/catalog/schema.py), named like its file
        voices/music-box.json  the voice schema, plus an optional
                               "soundfont": {"file": ..., "bank": N, "preset": N}
        soundfonts/…           SF2/SF3 files a voice names relative to its pack (or an absolute path)

Each file is read and validated on its own: a broken one is left out with one line that names
it, the field and what is wrong, and every other file is still served. A voice's soundfont is
checked twice: its headers here (a RIFF 'sfbk' file under the size cap that has the named bank and
preset), then a throwaway FluidSynth loads it and selects the preset. A pack theme or voice
never replaces one that Muse ships, nor one an earlier pack (in name order) already serves.
Pack themes are served like the shipped ones (`builtin=True`: a member's theme cannot shadow them).
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from composer.catalog import Catalog, Theme, Voice
from composer.catalog.schema import NAME_RE, validate_theme, validate_voice
from composer.errors import SchemaError

MAX_SOUNDFONT_BYTES = 200 * 1024 * 1024
MAX_SPEC_BYTES = 1024 * 1024
SOUNDFONT_SUFFIXES = (".sf2", ".sf3")
PACK_FIELDS = {"name": (True, 32), "version": (True, 40), "author": (True, 200), "licence": (True, 200),
               "description": (False, 300), "credits": (False, 300)}


class PackProblem(Exception):
    """One rejected file: the message is the whole line (file, field, what is wrong)."""


@dataclass
class Pack:
    path: Path
    shown: str  # how lines name the pack folder, e.g. "packs/example"
    meta: dict[str, Any] = field(default_factory=dict)
    themes: list[Theme] = field(default_factory=list)
    voices: list[Voice] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    presets: dict[str, str] = field(default_factory=dict)  # voice name → its soundfont preset's name

    @property
    def name(self) -> str:
        return self.meta.get("name", self.path.name)


@dataclass
class PacksReport:
    packs: list[Pack]
    problems: list[str]  # lines not about one pack's files (the folder itself, a pack without pack.json)

    @property
    def themes(self) -> list[Theme]:
        return [t for pack in self.packs for t in pack.themes]

    @property
    def voices(self) -> list[Voice]:
        return [v for pack in self.packs for v in pack.voices]

    @property
    def all_problems(self) -> list[str]:
        return [*self.problems, *(p for pack in self.packs for p in pack.problems)]


def load_packs(packs_dir: Path, builtin: Catalog | None = None) -> tuple[list[Theme], list[Voice], list[str]]:
    """The good themes and voices of every pack under `packs_dir`, and one line per rejected file."""
    report = scan_packs(packs_dir, builtin)
    return report.themes, report.voices, report.all_problems


def scan_packs(packs_dir: Path, builtin: Catalog | None = None) -> PacksReport:
    """Every pack under `packs_dir` (or `packs_dir` itself when it holds a pack.json), file by file."""
    packs_dir = Path(packs_dir)
    base = packs_dir.name or packs_dir.resolve().name
    if not packs_dir.is_dir():
        return PacksReport([], [f"{packs_dir}: the packs folder does not exist or is not a folder"])
    if (packs_dir / "pack.json").exists():
        folders = [(packs_dir, base)]
    else:
        folders = [(p, f"{base}/{p.name}") for p in sorted(packs_dir.iterdir())
                   if p.is_dir() and not p.name.startswith((".", "_"))]
    builtin = builtin or Catalog.from_dir()
    report = PacksReport([], [])
    served = {"theme": set(builtin.themes), "voice": set(builtin.voices)}
    shipped = {"theme": set(builtin.themes), "voice": set(builtin.voices)}
    for folder, shown in folders:
        pack = Pack(folder, shown)
        try:
            pack.meta = _read_meta(folder / "pack.json", f"{shown}/pack.json")
        except PackProblem as exc:
            report.problems.append(f"{exc}; none of the pack's files are served")
            continue
        _load_voices(pack, served, shipped)
        _load_themes(pack, served, shipped)
        report.packs.append(pack)
    _check_default_voices(report, served["voice"])
    return report


def _read_json(path: Path, shown: str) -> Any:
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise PackProblem(f"{shown}: larger than {MAX_SPEC_BYTES // 1024} KB; a spec is a small JSON file")
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PackProblem(f"{shown}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    except UnicodeDecodeError:
        raise PackProblem(f"{shown}: not UTF-8 text") from None
    except OSError as exc:
        raise PackProblem(f"{shown}: cannot be read ({exc.strerror or type(exc).__name__})") from None


def _read_meta(path: Path, shown: str) -> dict[str, Any]:
    if not path.is_file():
        raise PackProblem(f"{shown}: missing; a pack folder needs a pack.json with name, version, author "
                          f"and licence")
    meta = _read_json(path, shown)
    if not isinstance(meta, dict):
        raise PackProblem(f"{shown}: must be a JSON object with name, version, author and licence")
    for key, value in meta.items():
        if key not in PACK_FIELDS:
            raise PackProblem(f"{shown}: field '{key}' is not a known field; allowed: {', '.join(PACK_FIELDS)}")
        limit = PACK_FIELDS[key][1]
        texts = value if key == "credits" and isinstance(value, list) else [value]
        if not texts or any(not isinstance(t, str) or not t.strip() or len(t) > limit for t in texts):
            what = "a list of texts" if key == "credits" else "non-empty text"
            raise PackProblem(f"{shown}: field '{key}' must be {what} of at most {limit} characters")
    for key, (required, _) in PACK_FIELDS.items():
        if required and key not in meta:
            raise PackProblem(f"{shown}: field '{key}' is required")
    if not NAME_RE.match(meta["name"]):
        raise PackProblem(f"{shown}: field 'name' must be lower-case letters, digits and dashes, starting "
                          f"with a letter, got {meta['name']!r}")
    return meta


def _spec_files(pack: Pack, kind: str) -> Iterable[tuple[Path, str]]:
    folder = pack.path / f"{kind}s"
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            yield path, f"{pack.shown}/{kind}s/{path.name}"


def _checked(kind: str, path: Path, shown: str, served: dict[str, set[str]],
             shipped: dict[str, set[str]]) -> dict[str, Any]:
    """A theme or voice spec that passes the schema and may be served under its name."""
    validate = validate_theme if kind == "theme" else validate_voice
    try:
        spec = validate(_read_json(path, shown), source=shown)
    except SchemaError as exc:
        raise PackProblem(str(exc)) from None
    name = spec["name"]
    if name != path.stem:
        raise PackProblem(f"{shown}: field 'name' must match the file name ({path.stem!r}), got {name!r}")
    if name in shipped[kind]:
        raise PackProblem(f"{shown}: {kind} {name!r} has the name of a {kind} Muse ships; a pack cannot "
                          f"replace it, so rename it")
    if name in served[kind]:
        raise PackProblem(f"{shown}: {kind} {name!r} is already served by an earlier pack; rename it")
    return spec


def _load_themes(pack: Pack, served: dict[str, set[str]], shipped: dict[str, set[str]]) -> None:
    for path, shown in _spec_files(pack, "theme"):
        try:
            spec = _checked("theme", path, shown, served, shipped)
        except PackProblem as exc:
            pack.problems.append(str(exc))
            continue
        served["theme"].add(spec["name"])
        pack.themes.append(Theme(spec))


def _load_voices(pack: Pack, served: dict[str, set[str]], shipped: dict[str, set[str]]) -> None:
    for path, shown in _spec_files(pack, "voice"):
        try:
            spec = _checked("voice", path, shown, served, shipped)
            if "soundfont" in spec:
                spec, preset_name = _with_soundfont(pack, spec, shown)
                pack.presets[spec["name"]] = preset_name
        except PackProblem as exc:
            pack.problems.append(str(exc))
            continue
        served["voice"].add(spec["name"])
        pack.voices.append(Voice(spec))


def _check_default_voices(report: PacksReport, voices: set[str]) -> None:
    """A pack theme's default voice must be one that is served (Muse's or a pack's)."""
    for pack in report.packs:
        for theme in list(pack.themes):
            wanted = theme.spec.get("default_voice")
            if wanted is not None and wanted not in voices:
                pack.themes.remove(theme)
                pack.problems.append(f"{pack.shown}/themes/{theme.name}.json: field 'default_voice' names "
                                     f"{wanted!r}, which is not served; voices: {', '.join(sorted(voices))}")


def _with_soundfont(pack: Pack, spec: dict[str, Any], shown: str) -> tuple[dict[str, Any], str]:
    """The voice spec with its soundfont file resolved to an absolute path, after checking that the
    file is a readable SoundFont that has the named bank and preset; and that preset's name."""
    own = spec["soundfont"]
    if spec["sings"]:
        raise PackProblem(f"{shown}: field 'soundfont' is for a played lead; a voice that sings "
                          f"(sings: true) cannot have one")
    given = Path(own["file"])
    path = given if given.is_absolute() else pack.path / given
    where = f"{shown}: field 'soundfont.file'"
    if not given.is_absolute() and not _inside(path, pack.path):
        raise PackProblem(f"{where} must stay inside the pack (or be an absolute path), got {own['file']!r}")
    if path.suffix.lower() not in SOUNDFONT_SUFFIXES:
        raise PackProblem(f"{where} must name an .sf2 or .sf3 file, got {own['file']!r}")
    try:
        presets = soundfont_presets(path)
    except PackProblem as exc:
        raise PackProblem(f"{where} {exc}") from None
    key = (own["bank"], own["preset"])
    if key not in presets:
        sample = ", ".join(f"{b}:{p} {n}" for (b, p), n in sorted(presets.items())[:6])
        raise PackProblem(f"{shown}: field 'soundfont.preset' names bank {key[0]}, preset {key[1]}, which "
                          f"{path.name} does not have; it has {len(presets)} presets ({sample}, …)")
    from composer.audio.render import probe_soundfont

    failure = probe_soundfont(path, *key)  # the headers can be right and the samples still unplayable
    if failure:
        raise PackProblem(f"{where} names {path.name}, which {failure}")
    resolved = {**own, "file": str(path.resolve())}
    return {**spec, "soundfont": resolved}, presets[key]


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def soundfont_presets(path: Path) -> dict[tuple[int, int], str]:
    """(bank, preset) → preset name of an SF2/SF3 file, reading only its headers; PackProblem (a
    phrase that follows the field name) when it is missing, unreadable, too large or no SoundFont."""
    path = Path(path)
    if not path.is_file():
        raise PackProblem(f"names {path}, which does not exist")
    size = path.stat().st_size
    if size > MAX_SOUNDFONT_BYTES:
        raise PackProblem(f"names {path.name}, of {size / 2**20:.0f} MB; the limit is "
                          f"{MAX_SOUNDFONT_BYTES // 2**20} MB")
    if not os.access(path, os.R_OK):
        raise PackProblem(f"names {path.name}, which cannot be read (permissions)")
    try:
        with path.open("rb") as f:
            return _read_phdr(f, size, path.name)
    except OSError as exc:
        raise PackProblem(f"names {path.name}, which cannot be read ({exc.strerror or type(exc).__name__})") from None


def _chunks(f: Any, start: int, end: int) -> Iterable[tuple[bytes, int, int]]:
    """(id, data offset, size) of the RIFF chunks between `start` and `end`."""
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            return
        chunk_id, size = head[:4], struct.unpack("<I", head[4:])[0]
        yield chunk_id, pos + 8, size
        pos += 8 + size + (size & 1)


def _read_phdr(f: Any, size: int, name: str) -> dict[tuple[int, int], str]:
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise PackProblem(f"names {name}, which is not a SoundFont (no RIFF 'sfbk' header)")
    end = struct.unpack("<I", head[4:8])[0] + 8
    if end > size:
        raise PackProblem(f"names {name}, a SoundFont cut short ({size} of {end} bytes)")
    for chunk_id, offset, length in _chunks(f, 12, end):
        f.seek(offset)
        if chunk_id != b"LIST" or f.read(4) != b"pdta":
            continue
        for sub_id, sub_offset, sub_length in _chunks(f, offset + 4, offset + length):
            if sub_id == b"phdr" and sub_length % 38 == 0 and 38 <= sub_length <= 38 * 65536:
                f.seek(sub_offset)
                data = f.read(sub_length)
                presets = {}
                for i in range(0, len(data) - 38, 38):  # the last record is the terminal "EOP"
                    raw_name, preset, bank = struct.unpack("<20sHH", data[i:i + 24])
                    presets[(bank, preset)] = raw_name.split(b"\0")[0].decode("latin-1").strip()
                if presets:
                    return presets
    raise PackProblem(f"names {name}, a SoundFont without presets (no readable 'phdr' list)")

"""`make bench`: run the suites, print each one's Markdown section and write it into docs/benchmarks.md.

`python -m bench` runs every suite; `python -m bench pipeline bot` runs the suites named. Each suite's section replaces its own block in the page (between
`<!-- bench:NAME -->` markers), so a partial run keeps the other figures; the page's preamble and
the hand-run evaluation sections after the last block stay as they are. `--quick` (also
MUSE_BENCH_QUICK=1; `make bench-quick`) uses fewer runs and sizes; `--no-docs` only prints.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"

# In page order: the headline against peers first.
SUITES = ["bench.bench_peers", "bench.bench_pipeline", "bench.bench_profile", "bench.bench_model", "bench.bench_sing", "bench.bench_parse",
          "bench.bench_themes", "bench.bench_storage", "bench.bench_bot", "bench.bench_model_quality",
          "bench.bench_jam", "bench.bench_scaleout"]

PREAMBLE = """# Muse benchmarks

Written by `make bench` (`python -m bench`; `python -m bench NAME` reruns one section, `make bench-quick`
uses fewer runs). Every figure below comes from the scripts in `bench/`; each section names its machine
and date. Timings are medians with the smallest and largest run in brackets.
"""


class _Tee(io.TextIOBase):
    """Print as usual and keep a copy of what was printed."""

    def __init__(self, out):
        self.out, self.kept = out, io.StringIO()

    def write(self, text: str) -> int:
        self.out.write(text)
        self.out.flush()
        return self.kept.write(text)


def short_name(module: str) -> str:
    return module.rsplit(".", 1)[-1].removeprefix("bench_")


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def write_sections(page: str, sections: dict[str, str]) -> str:
    """The page with each named section replaced (or placed by SUITES order when it is new)."""
    blocks: dict[str, str] = {}
    last_end = -1
    for module in SUITES:
        start, end = markers(short_name(module))
        i, j = page.find(start), page.find(end)
        if i >= 0 and j > i:
            blocks[short_name(module)] = page[i + len(start):j].strip("\n")
            last_end = max(last_end, j + len(end))
    blocks.update({name: text.strip("\n") for name, text in sections.items()})
    tail = "\n" + page[last_end:].lstrip("\n") if last_end >= 0 and page[last_end:].strip() else ""
    body = [PREAMBLE]
    for module in SUITES:
        name = short_name(module)
        if name in blocks:
            start, end = markers(name)
            body.append(f"{start}\n{blocks[name]}\n{end}\n")
    return "\n".join(body) + tail


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--quick" in args:
        args.remove("--quick")
        os.environ["MUSE_BENCH_QUICK"] = "1"
    write_docs = "--no-docs" not in args
    wanted = [a for a in args if a != "--no-docs"]
    unknown = [w for w in wanted if w not in {short_name(m) for m in SUITES} | {m.rsplit(".", 1)[-1] for m in SUITES}]
    if unknown:
        print(f"no such suite: {', '.join(unknown)}; suites: {', '.join(short_name(m) for m in SUITES)}")
        return 2
    sections: dict[str, str] = {}
    for module_name in SUITES:
        if wanted and short_name(module_name) not in wanted and module_name.rsplit(".", 1)[-1] not in wanted:
            continue
        module = importlib.import_module(module_name)
        tee = _Tee(sys.stdout)
        with contextlib.redirect_stdout(tee):
            module.main()
        sections[short_name(module_name)] = tee.kept.getvalue()
        if write_docs:  # after each suite, so a long run that stops keeps what it measured
            DOCS.write_text(write_sections(DOCS.read_text() if DOCS.exists() else "", sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())

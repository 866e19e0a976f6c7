"""Architecture checks: the package dependency rule and the size of product functions.

The rule (bot, cli -> composer, storage; training, evaluation -> composer; nothing points
back) is written as import-linter contracts in pyproject.toml; this test runs them so a
stray import fails `make test`, not a review.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("composer", "storage", "bot", "cli", "training", "evaluation")
MAX_LINES = 60
LONG_MARK = re.compile(r"#\s*long:\s*\S")


def test_import_contracts_are_kept():
    """Runs .venv's lint-imports (pinned in requirements.lock) on the contracts in pyproject.toml."""
    exe = Path(sys.executable).parent / "lint-imports"
    assert exe.exists(), f"{exe} is missing: run `make setup` (import-linter is in requirements.lock)"
    done = subprocess.run(
        [str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"an import contract is broken:\n{done.stdout}\n{done.stderr}"


def long_functions(source: str, name: str) -> list[str]:
    """Functions over MAX_LINES lines (def to end, decorators excluded) without a `# long:` reason.

    The reason may sit on the line just above the def (or above its first decorator),
    or on the def line itself after the code.
    """
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        length = node.end_lineno - node.lineno + 1
        if length <= MAX_LINES:
            continue
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        marks = [lines[node.lineno - 1], lines[node.lineno - 2] if node.lineno > 1 else ""]
        marks.append(lines[first - 2] if first > 1 else "")
        if not any(LONG_MARK.search(line) for line in marks):
            found.append(f"{name}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_long_function_detector():
    """Guards the detector itself, so the check below cannot pass by finding nothing."""
    body = "".join(f"    x = {i}\n" for i in range(MAX_LINES))
    assert long_functions(f"def f():\n{body}", "m.py") == [f"m.py:1 f ({MAX_LINES + 1} lines)"]
    assert long_functions(f"# long: one table\ndef f():\n{body}", "m.py") == []
    assert long_functions(f"@d\ndef f():  # long: one table\n{body}", "m.py") == []
    assert long_functions(f"# long:\ndef f():\n{body}", "m.py") != []
    exactly = "".join(body.splitlines(keepends=True)[1:])
    assert long_functions(f"def f():\n{exactly}", "m.py") == []


def test_product_functions_are_short():
    """Long functions hide several jobs; a deliberate one says why with `# long: <reason>`."""
    found = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            found += long_functions(path.read_text(encoding="utf-8"), name)
    assert not found, f"functions over {MAX_LINES} lines without `# long: <reason>`:\n" + "\n".join(found)

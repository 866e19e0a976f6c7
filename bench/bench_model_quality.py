"""Melody quality against checks that can fail: `python -m evaluation.model` on fewer requests (the
full 200-request run, with the model card, is `python -m evaluation.model --card …`)."""

from __future__ import annotations

PIECES = 60


def main() -> None:
    from bench.common import header
    from evaluation.model import main as evaluate
    from storage.paths import data_dir_path

    tokens = data_dir_path() / "tokens"
    header(f"Melody model quality: trained vs random weights vs n-gram vs rules ({PIECES} requests)")
    if not (tokens / "test.pieces.json").exists():  # the held-out tunes come from `muse data`
        import subprocess
        import sys

        print(f"No token arrays in {tokens}: running `muse data` (about a minute and a half).", flush=True)
        subprocess.run([sys.executable, "-m", "cli", "data"], check=True, stdout=subprocess.DEVNULL)
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        evaluate(["--pieces", str(PIECES), "--data", str(tokens)])
    # the tables; the raw figures (one JSON line per engine) are for --out files, not this page
    print("\n".join(line for line in printed.getvalue().splitlines() if not line.startswith("{")))


if __name__ == "__main__":
    main()

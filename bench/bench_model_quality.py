"""Melody quality against checks that can fail: `python -m evaluation.model` on fewer requests (the
full 200-request run, with the model card, is `python -m evaluation.model --card …`)."""

from __future__ import annotations

PIECES = 60


def main() -> None:
    from bench.common import header
    from evaluation.model import main as evaluate

    header(f"Melody model quality: trained vs random weights vs n-gram vs rules ({PIECES} requests)")
    evaluate(["--pieces", str(PIECES)])


if __name__ == "__main__":
    main()

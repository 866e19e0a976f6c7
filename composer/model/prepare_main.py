"""`python -m composer.model.prepare_main [OUT_DIR]`: parse the corpus in the background."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from composer.model.corpus import prepare
from composer.model.paths import corpus_dir

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else corpus_dir()
    print(prepare(out), flush=True)

"""The diagnostic that writes melodies over real tunes' own headers and chords keeps exactly those."""

import numpy as np

from composer.model.tokenizer import Tokenizer, Tune
from evaluation.model_over_real import _specs


def test_specs_take_each_whole_tunes_header_and_bar_prefixes():
    tok = Tokenizer()
    notes = [(float(q), 1.0, 60 + (0, 4, 7, 4)[q % 4]) for q in range(12)]
    tune = Tune("folk", "major", "3/4", 3.0, notes, [(0, "maj"), (7, "maj")] * 4)
    long = Tune("folk", "major", "3/4", 3.0, notes, [(0, "maj")] * 8)
    long.notes = [(on + 12.0 * k, d, p) for k in range(20) for on, d, p in notes]  # 80 bars: two windows
    long.bars, long.chords = 80, [(0, "maj")] * 160
    piece = {"style": "folk", "mode": "major", "meter": "3/4", "bar_quarters": 3.0}
    pieces = [{**piece, "notes": long.notes}, {**piece, "notes": notes}]
    windows = [np.array(w) for w in tok.encode(long, 1024) + tok.encode(tune, 1024)]
    assert len(windows) == 3
    specs, chosen = _specs(tok, windows, pieces, 5, 0)
    assert len(specs) == 1 and chosen == pieces[1:]
    window = windows[2]
    names = [tok.tokens[t] for t in window]
    prefixes = [[int(t) for t in window[i:i + 4]] for i, n in enumerate(names) if n == "BAR"]
    assert specs[0].header == list(window[:5])
    assert [b.prefix for b in specs[0].bars] == prefixes and specs[0].bars[-1].final
    assert specs[0].bar_ticks == 36


def test_the_cycle_replaces_only_the_chords_one_chord_a_bar():
    tok = Tokenizer()
    notes = [(float(q), 1.0, 60 + (0, 4, 7, 4)[q % 4]) for q in range(15)]
    tune = Tune("folk", "minor", "3/4", 3.0, notes, [(0, "min"), (7, "maj")] * 5)
    piece = {"style": "folk", "mode": "minor", "meter": "3/4", "bar_quarters": 3.0, "notes": notes}
    windows = [np.array(w) for w in tok.encode(tune, 1024)]
    (real,), _ = _specs(tok, windows, [piece], 1, 0)
    (cycled,), _ = _specs(tok, windows, [piece], 1, 0, chords="cycle", temperature=1.1, top_p=1.0)
    assert cycled.header == real.header and (cycled.temperature, cycled.top_p) == (1.1, 1.0)
    chords = [[tok.tokens[t] for t in bar.prefix[2:]] for bar in cycled.bars]
    assert chords == [["CHORD_0_min"] * 2, ["CHORD_7_maj"] * 2, ["CHORD_8_maj"] * 2, ["CHORD_5_min"] * 2,
                      ["CHORD_0_min"] * 2]
    assert [bar.prefix[:2] for bar in cycled.bars] == [bar.prefix[:2] for bar in real.bars]

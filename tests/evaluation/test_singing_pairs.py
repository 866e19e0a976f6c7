"""Two runs of the singing evaluation compared piece by piece: the counts per voice, the words
gained and lost, the sign test, and a clear refusal when the runs did not sing the same pieces."""

import pytest

from evaluation.judges import align
from evaluation.singing import SungPiece
from evaluation.singing_pairs import NotPaired, compare, main, read_pieces, write_pieces

SUNG = "one two three four".split()


def _piece(voice: str, seed: int, heard: str, sung: list[str] = SUNG) -> SungPiece:
    dry = align(sung, heard.split())
    return SungPiece("line", voice, seed, " ".join(sung), dry, dry, heard, heard, 0, 0, [], 0.0)


def _run(tmp_path, name: str, heard: list[str], voice: str = "male"):
    path = tmp_path / f"{name}.jsonl"
    write_pieces([_piece(voice, seed, text) for seed, text in enumerate(heard)], path)
    return path


def test_paired_pieces_show_which_way_each_went_and_the_words_gained_and_lost(tmp_path):
    before = _run(tmp_path, "before", ["one two", "one two three four", "one", "one two three"])
    after = _run(tmp_path, "after", ["one two three four", "one two three four", "two", "one two"])
    rows = compare(read_pieces(before), read_pieces(after))
    # 10 of 16 words before, 11 after. Piece 1 is better (three, four gained), piece 4 worse (three
    # lost), piece 3 the same count with another word (two gained, one lost), piece 2 unchanged.
    assert rows[2] == "| male | 4 | 62.5% | 68.8% | 1 / 1 / 2 | 3 / 2 | 1.000 |"


def test_a_clear_majority_of_better_pieces_passes_the_sign_test(tmp_path):
    before = _run(tmp_path, "before", ["one"] * 12)
    after = _run(tmp_path, "after", ["one two"] * 11 + ["one"])
    (row,) = compare(read_pieces(before), read_pieces(after))[2:]
    assert row == "| male | 12 | 25.0% | 47.9% | 11 / 0 / 1 | 11 / 0 | 0.001 |"


def test_runs_over_other_pieces_are_refused_with_the_reason(tmp_path):
    before = _run(tmp_path, "before", ["one", "two"])
    with pytest.raises(NotPaired, match="1 pieces are in one run only"):
        compare(read_pieces(before), read_pieces(_run(tmp_path, "short", ["one"])))
    other = tmp_path / "other.jsonl"
    write_pieces([_piece("male", 0, "one", sung="five six".split()), _piece("male", 1, "two")], other)
    with pytest.raises(SystemExit, match="cannot compare: male, 'line', seed 0: the runs sang different words"):
        main([str(before), str(other)])
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"voice": "male"\n', encoding="utf-8")
    with pytest.raises(SystemExit, match="cannot read .*broken.jsonl: not a file written by"):
        main([str(before), str(broken)])
    broken.write_text('["male", "line", 0]\n', encoding="utf-8")  # JSON, but not a piece
    with pytest.raises(SystemExit, match="cannot read .*broken.jsonl"):
        main([str(before), str(broken)])
    with pytest.raises(SystemExit, match="cannot read .*missing.jsonl"):
        main([str(tmp_path / "missing.jsonl"), str(before)])

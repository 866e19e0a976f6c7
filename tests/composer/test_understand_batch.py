"""`muse parse --batch` in process: order, per-line errors, the understanding block, one model for all lines."""

import io
import json

from cli import parse_cmd
from composer.understanding import semantic
from composer.understanding.understand import theme_text


def run(lines: list[str]) -> list[dict]:
    out = io.StringIO()
    parse_cmd.run_batch(io.StringIO("\n".join(lines) + "\n"), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_rows_come_back_in_order_with_errors_in_place():
    rows = run([
        json.dumps({"prompt": "a lullaby for my daughter", "options": {"voice": "female"}}),
        json.dumps({"prompt": "   "}),
        "{broken",
        json.dumps({"prompt": "x", "options": ["not", "a", "dict"]}),
        json.dumps({"prompt": "sad", "options": {"tempo": 5000}}),
        "",
        json.dumps({"prompt": "a jig in 6/8 in D major, about 40 seconds"}),
    ])
    assert len(rows) == 6  # the blank line is skipped
    assert rows[0]["request"]["theme"] == "lullaby" and rows[0]["request"]["voice"] == "female"
    assert rows[0]["request"]["lyrics"] == "my daughter"  # "a lullaby for" is the request, not the words
    assert "prompt is empty" in rows[1]["error"]
    assert "not a JSON object" in rows[2]["error"]
    assert "'options' must be a JSON object" in rows[3]["error"]
    assert "tempo must be between 30 and 300" in rows[4]["error"]
    jig = rows[5]["request"]
    assert (jig["meter"], jig["key"], jig["length_s"]) == ("6/8", "D major", 40.0)


def test_understanding_block_reports_confidence_and_notes():
    (row,) = run([json.dumps({"prompt": "zombies in the basement, tempo 5000"})])
    understanding = row["understanding"]
    assert row["request"]["theme"] == "horror" and row["request"]["tempo"] == 300
    assert understanding["theme"]["source"] == "text" and understanding["theme"]["confidence"] > 0.3
    assert next(iter(understanding["theme"]["candidates"])) == "horror"
    assert any("tempo 5000" in note for note in understanding["notes"])
    (forced,) = run([json.dumps({"prompt": "zombies", "options": {"theme": "happy"}})])
    assert forced["understanding"]["theme"] == {"source": "option", "confidence": 1.0, "candidates": {}}


def test_one_model_embeds_the_whole_block_ahead():
    model = semantic.get_semantics()
    prompts = [f"a quiet song about lighthouse number {i}" for i in range(5)]
    run([json.dumps({"prompt": p}) for p in prompts])
    assert semantic.get_semantics() is model
    cached = model._prompts  # the block was embedded before the lines were resolved
    assert all(theme_text(p) in cached for p in prompts)

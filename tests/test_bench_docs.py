"""`make bench` rewrites only the sections it measured and keeps the rest of docs/benchmarks.md."""

from bench.__main__ import markers, write_sections
from bench.common import Stat


def test_a_partial_run_replaces_its_own_section_and_keeps_the_others():
    page = write_sections("", {"pipeline": "## Pipeline\nold", "bot": "## Bot\nkept"})
    page += "\n## Melody quality (its own script)\nhand-run tail\n"
    updated = write_sections(page, {"pipeline": "## Pipeline\nnew"})
    assert "new" in updated and "old" not in updated
    assert "## Bot\nkept" in updated and updated.endswith("hand-run tail\n")
    start, end = markers("pipeline")
    assert updated.count(start) == 1 and updated.count(end) == 1


def test_sections_follow_the_suite_order_whatever_order_they_ran_in():
    page = write_sections("", {"jam": "## Jam", "peers": "## Peers", "pipeline": "## Pipeline"})
    assert page.index("## Peers") < page.index("## Pipeline") < page.index("## Jam")


def test_a_stat_prints_its_median_and_range():
    assert str(Stat.of([1.0, 3.0, 2.0])) == "2.000 (1.000–3.000)"
    assert str(Stat.of([0.5])) == "0.500"
    assert str(Stat.of([4000.0, 3000.0])) == "3,500 (3,000–4,000)"

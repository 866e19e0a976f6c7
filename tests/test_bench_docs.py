"""`make bench` rewrites only the sections it measured and keeps the rest of docs/benchmarks.md."""

import pytest

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
    again = write_sections(updated, {"pipeline": "## Pipeline\nnew"})
    assert again == updated  # a rerun leaves the page as it was: no blank lines pile up


def test_sections_follow_the_suite_order_whatever_order_they_ran_in():
    page = write_sections("", {"jam": "## Jam", "peers": "## Peers", "pipeline": "## Pipeline"})
    assert page.index("## Peers") < page.index("## Pipeline") < page.index("## Jam")


def test_a_stat_prints_its_median_and_range():
    assert str(Stat.of([1.0, 3.0, 2.0])) == "2.000 (1.000–3.000)"
    assert str(Stat.of([0.5])) == "0.500"
    assert str(Stat.of([4000.0, 3000.0])) == "3,500 (3,000–4,000)"


def test_the_length_fit_recovers_a_line():
    from bench.bench_pipeline import linear_fit

    slope, intercept, r2 = linear_fit([10, 30, 60, 120], [0.1 + 0.03 * x for x in (10, 30, 60, 120)])
    assert slope == pytest.approx(0.03) and intercept == pytest.approx(0.1) and r2 == pytest.approx(1.0)


def test_the_concurrency_plot_is_drawn(tmp_path):
    from bench.bench_bot import plot_concurrency

    path = tmp_path / "concurrency.png"
    plot_concurrency({"batch 8": {1: 0.6, 8: 0.9, 50: 1.1}, "batch 1": {1: 0.7, 8: 1.0, 50: 1.1}}, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

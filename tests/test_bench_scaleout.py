"""The scale-out bench's pure parts: the capacity derivation and the docs it writes (no Ray started)."""

import math

import pytest

from bench.bench_scaleout import (DELIVERY_P95_S, MEASURED, PEAK_FACTOR, RHO_MAX, CapacityInputs, best_gpu_row,
                                  capacity_doc, capacity_rows, erlang_c, model_device_env, peak_rate, percentile,
                                  replace_section, shards_needed, size_pool, stats_delta, wait_p95_s)
from bench.common import Stat

INPUTS = CapacityInputs(replica_pieces_per_s=0.9, service_p50_s=1.2, service_p95_s=1.6, finish_s_per_piece=0.7)


def test_erlang_c_matches_known_values():
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = ρ
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # the textbook M/M/2 at ρ = 0.5
    assert erlang_c(3, 3.0) == 1.0 and erlang_c(4, 0.0) == 0.0
    assert 0 < erlang_c(500, 400.0) < 1  # hundreds of servers: no overflow


def test_wait_p95_follows_the_erlang_c_tail():
    # M/M/1 at ρ = 0.5, μ = 1: P(W > t) = 0.5 e^(−0.5 t) → p95 = ln(10) / 0.5
    assert wait_p95_s(1, 0.5, 1.0) == pytest.approx(math.log(10) / 0.5)
    assert wait_p95_s(10, 1.0, 1.0) == 0.0  # hardly anyone waits
    assert wait_p95_s(2, 2.0, 1.0) == math.inf


def test_a_pool_keeps_utilisation_under_the_ceiling_and_meets_the_target():
    sizing = size_pool(10.0, 0.9, 1.6)
    assert sizing.servers == math.ceil(10.0 / (RHO_MAX * 0.9))
    assert sizing.rho <= RHO_MAX and sizing.met
    slow = size_pool(0.07, 0.1, 12.0)  # 10 s a piece: one replica at ρ 0.7 waits ~88 s at p95
    assert slow.servers == 2 and slow.rho < RHO_MAX and slow.delivery_p95_s <= DELIVERY_P95_S and slow.bound.startswith("p95")


def test_capacity_grows_with_volume_and_gpu_counts_need_a_gpu_figure():
    rows = capacity_rows(INPUTS)
    assert [r.requests_per_day for r in rows] == [10_000, 100_000, 1_000_000]
    assert rows[1].peak_per_s == pytest.approx(100_000 / 86_400 * PEAK_FACTOR)
    assert rows[0].cpu.servers <= rows[1].cpu.servers <= rows[2].cpu.servers
    assert all(r.gpu is None and r.cpu.met for r in rows)
    assert [r.shards for r in rows] == [shards_needed(r.servers) for r in rows] == [1, 8, 80]
    with_gpu = capacity_rows(CapacityInputs(**{**INPUTS.__dict__, "gpu_pieces_per_s": 40.0, "gpu_service_s": 2.0,
                                               "gpu_note": "measured"}))
    assert all(r.gpu is not None and r.gpu.servers < r.cpu.servers for r in with_gpu[1:])


def test_shards_follow_discords_2500_servers_rule():
    assert [shards_needed(n) for n in (1, 2_500, 2_501, 200_000)] == [1, 1, 2, 80]


def test_peak_factor_is_stated_and_applied():
    assert PEAK_FACTOR > 1
    assert peak_rate(86_400, 3.0) == pytest.approx(3.0)


def test_the_capacity_doc_says_what_was_not_measured():
    doc = capacity_doc(INPUTS, capacity_rows(INPUTS), "2 cores, test", "2026-01-01")
    assert doc.startswith("# Capacity") and "needs a GPU run" in doc and "Erlang-C" in doc
    assert f"{PEAK_FACTOR:.1f}" in doc and "2,500" in doc and "1,000,000" in doc


def test_a_measured_gpu_figure_fills_the_gpu_column():
    inputs = CapacityInputs(**{**INPUTS.__dict__, "gpu_pieces_per_s": 40.0, "gpu_service_s": 2.0,
                               "gpu_note": "measured: H100, batch 32"})
    doc = capacity_doc(inputs, capacity_rows(inputs), "16 cores, GPU", "2026-01-01")
    assert "needs a GPU run" not in doc and "μ_gpu = 40.00" in doc


def test_the_gpu_batch_is_the_fastest_that_still_fits_the_target():
    rows = [(batch, Stat.of([rate]), Stat.of([seconds]), []) for batch, rate, seconds in
            ((1, 2.0, 0.5), (32, 30.0, 1.1), (128, 40.0, 29.5))]
    assert best_gpu_row(rows, finish_s=0.8)[0] == 32  # batch 128's pass + finishing runs past 30 s
    assert best_gpu_row(rows, finish_s=0.0)[0] == 128


def test_replicas_are_told_their_model_device_and_the_setting_is_restored(monkeypatch):
    import os

    monkeypatch.delenv("MUSE_MODEL_DEVICE", raising=False)
    with model_device_env("cpu"):
        assert os.environ["MUSE_MODEL_DEVICE"] == "cpu"
    assert "MUSE_MODEL_DEVICE" not in os.environ


def test_the_measured_section_is_replaced_and_the_rest_kept():
    page = "# Scale-out\n\n## Running it\n\nkept\n\n## Measured\n\nFilled by `python -m bench scaleout`.\n"
    once = replace_section(page, MEASURED, "figures 1")
    assert once == "# Scale-out\n\n## Running it\n\nkept\n\n## Measured\n\nfigures 1\n"
    assert replace_section(once, MEASURED, "figures 1") == once  # a rerun changes nothing
    later = replace_section(page + "\n## Later\n\nalso kept\n", MEASURED, "figures 2")
    assert later.endswith("## Measured\n\nfigures 2\n\n## Later\n\nalso kept\n")
    assert "### sub" in replace_section(page, MEASURED, "a\n\n### sub\n\nb")  # subheadings belong to it
    assert replace_section("# Page\n", MEASURED, "new").endswith("## Measured\n\nnew\n")


def test_replica_stats_deltas_and_percentiles():
    before = {"a": {"batches": 1, "pieces": 2, "compose_s": 1.0, "finished": 2, "finish_s": 1.0, "batch_sizes": [2]}}
    after = {"a": {"batches": 3, "pieces": 8, "compose_s": 4.0, "finished": 8, "finish_s": 7.0,
                   "batch_sizes": [2, 4, 2]},
             "b": {"batches": 1, "pieces": 1, "compose_s": 0.5, "finished": 1, "finish_s": 0.5, "batch_sizes": [1]}}
    sizes, compose_s, finish_s = stats_delta(before, after)
    assert sorted(sizes) == [1, 2, 4] and compose_s == pytest.approx(3.5 / 7) and finish_s == pytest.approx(6.5 / 7)
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5 and percentile([5.0], 95) == 5.0

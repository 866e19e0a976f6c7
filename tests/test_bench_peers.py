"""The peer benchmark's arithmetic: fits recover known curves, step costs sum as they should, and a
check flags a prediction that misses its measurement by more than 10 %."""

import pytest

from bench.bench_peers import Check, Fit, fit, musicgen_steps, summed_steps, verdict


def test_a_quadratic_fit_recovers_the_coefficients_of_exact_totals():
    lengths = [32, 64, 128, 256]
    totals = [1.5 + 0.17 * n + 6e-4 * n * n for n in lengths]
    a, b, c = fit(lengths, totals, 2).coefficients
    assert (a, b, c) == pytest.approx((1.5, 0.17, 6e-4), rel=1e-6)
    assert fit(lengths, totals, 2)(2000) == pytest.approx(1.5 + 0.17 * 2000 + 6e-4 * 2000 ** 2)


def test_a_line_fit_extrapolates_decoder_steps():
    steps = [musicgen_steps(s) for s in (1, 2, 4)]
    line = fit(steps, [2.0 + 0.25 * n for n in steps], 1)
    assert line(musicgen_steps(30)) == pytest.approx(2.0 + 0.25 * 1503)


def test_a_fit_needs_more_points_than_its_degree():
    with pytest.raises(ValueError):
        fit([64, 128], [1.0, 2.0], 2)


def test_step_costs_sum_to_the_closed_form_total():
    step = Fit((0.2, 1e-3, 3e-7))
    n = 2000
    closed = 0.2 * n + 1e-3 * n * (n + 1) / 2 + 3e-7 * n * (n + 1) * (2 * n + 1) / 6
    assert summed_steps(step, n) == pytest.approx(closed)


def test_a_check_flags_a_miss_of_more_than_ten_percent_either_way():
    assert Check(predicted=95.0, measured=100.0).ok
    assert Check(predicted=110.0, measured=100.0).ok
    low = Check(predicted=85.0, measured=100.0)
    assert not low.ok and low.error == pytest.approx(-0.15) and low.percent() == "-15.0 %"
    assert not Check(predicted=111.0, measured=100.0).ok


def test_musicgen_steps_count_fifty_frames_a_second_and_the_codebook_delay():
    assert musicgen_steps(30) == 1503
    assert musicgen_steps(0.5) == 28


def test_a_fit_prints_as_a_formula_and_a_ratio_says_whether_it_meets_its_target():
    assert Fit((1.0, 2.0, -3.0)).formula("n") == "1 + 2·n − 3·n²"
    assert verdict(3500.0, 3000.0) == "3,500× (met)"
    assert verdict(250.0, 300.0) == "250× (not met)"

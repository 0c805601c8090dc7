"""Statistics over seeds on known numbers: Student-t quantiles against tables, intervals computed by hand."""

from __future__ import annotations

import math

import pytest

from bgbias.stats import summarize, t_quantile


@pytest.mark.parametrize(  # two-sided 95 % critical values, from any t table
    ("df", "expected"), [(1, 12.7062), (2, 4.3027), (3, 3.1824), (4, 2.7764), (9, 2.2622), (29, 2.0452), (1000, 1.9623)]
)
def test_t_quantile_matches_the_table(df: int, expected: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=5e-4)


def test_interval_of_three_seeds_by_hand() -> None:
    """0.70, 0.72, 0.74: mean 0.72, std 0.02, half width 4.3027 x 0.02 / sqrt(3) = 0.04968."""
    summary = summarize([0.70, 0.72, 0.74])
    assert (summary.n, summary.mean, summary.std) == (3, pytest.approx(0.72), pytest.approx(0.02))
    assert (summary.low, summary.high) == (pytest.approx(0.72 - 0.049683, abs=1e-6), pytest.approx(0.72 + 0.049683, abs=1e-6))
    assert summary.text() == "0.720 ± 0.020 (n 3, 95 % CI 0.670–0.770)"


def test_one_seed_is_an_observation_and_missing_values_are_left_out() -> None:
    one = summarize([0.5, None, math.nan])
    assert (one.n, one.mean, one.low, one.high) == (1, 0.5, 0.5, 0.5) and math.isnan(one.std)
    assert one.text() == "0.500 (n 1)"
    none = summarize([])
    assert none.n == 0 and math.isnan(none.mean) and none.text() == "–"


def test_paired_differences_are_summarised_per_seed() -> None:
    """A claim comparing two models uses the per-seed differences: their spread, not the spread of each model."""
    pool, noise = [0.98, 0.97, 0.99], [0.84, 0.82, 0.86]
    difference = summarize([a - b for a, b in zip(pool, noise)])
    assert difference.mean == pytest.approx(0.14) and difference.std == pytest.approx(0.01)
    assert difference.low == pytest.approx(0.14 - 4.3027 * 0.01 / math.sqrt(3), abs=1e-4)

"""Statistics over seeds on known numbers: Student-t quantiles against tables, intervals computed by hand."""

from __future__ import annotations

import math

import pytest

from bgbias.stats import Band, Summary, about, binomial_interval, seeds_to_decide, summarize, t_quantile


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


def test_verdicts_decide_on_the_whole_interval() -> None:
    band = about(0.85, 0.02)  # [0.83, 0.87]
    assert band.verdict(summarize([0.845, 0.85, 0.855])) == "reproduced"  # [0.838, 0.862] inside
    assert band.verdict(summarize([0.93, 0.94, 0.95])) == "not reproduced"  # entirely above
    # the initial setup's strips-paired model: 0.919 [0.864, 0.975] overlaps the band, its mean 0.07 above the claim;
    # the old rule (any overlap) called it reproduced
    strips = Summary(0.919, 0.022, 3, 0.864, 0.975)
    assert band.verdict(strips) == "undecided (about 4 seeds would decide)"
    assert band.verdict(summarize([0.8])) == "undecided (one seed: no interval)"
    assert band.verdict(summarize([])) == "not run"


def test_seeds_to_decide_by_hand() -> None:
    """s 0.022, distance 0.049: n 3 gives 4.3027 x 0.022 / sqrt(3) = 0.0547, n 4 gives 3.1824 x 0.022 / 2 = 0.0350."""
    assert seeds_to_decide(Summary(0.919, 0.022, 3, 0.864, 0.975), 0.049) == 4
    assert seeds_to_decide(Summary(0.919, 0.022, 3, 0.864, 0.975), 0.0) is None  # a mean on the edge never decides
    assert seeds_to_decide(Summary(0.5, math.nan, 1, 0.5, 0.5), 0.1) is None  # no spread to go by


def test_comparisons_hold_reverse_or_stay_undecided() -> None:
    above = Band(0.0, math.inf, inside="holds", outside="reversed")
    assert above.verdict(summarize([0.10, 0.12, 0.14])) == "holds"
    assert above.verdict(summarize([-0.10, -0.12, -0.14])) == "reversed"
    assert above.verdict(summarize([0.023 - 0.027, 0.023, 0.023 + 0.027])).startswith("undecided (about")


def test_wilson_interval_by_hand() -> None:
    """8 of 10: centre (0.8 + 1.96^2/20) / (1 + 1.96^2/10) = 0.7236, half width 0.2333 -> [0.490, 0.943]."""
    low, high = binomial_interval(8, 10)
    assert (low, high) == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))
    assert binomial_interval(0, 10)[0] == 0.0 and binomial_interval(10, 10)[1] == pytest.approx(1.0)
    assert all(math.isnan(v) for v in binomial_interval(0, 0))

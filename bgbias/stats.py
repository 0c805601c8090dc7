"""Statistics over seeds: mean, standard deviation, n and the 95 % Student-t confidence interval.

No SciPy: the t quantile comes from the regularised incomplete beta function (Lentz's continued
fraction, as in Numerical Recipes' `betacf`) inverted by bisection; it matches tabulated values to
six digits (e.g. 12.7062 for 1 degree of freedom, 4.3027 for 2, 2.0452 for 29).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

CONFIDENCE = 0.95


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1) / (a + b + 2):
        return 1.0 - incomplete_beta(b, a, 1.0 - x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return front * fraction / a


def t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


@cache
def t_quantile(probability: float, df: int) -> float:
    """The `probability` quantile (> 0.5) of Student's t with `df` degrees of freedom."""
    low, high = 0.0, 1e6
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if t_cdf(middle, df) < probability else (low, middle)
    return (low + high) / 2


@dataclass(frozen=True)
class Summary:
    """A quantity over seeds: mean, sample standard deviation, n and the 95 % t interval of the mean."""

    mean: float
    std: float
    n: int
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def text(self, digits: int = 3) -> str:
        """`0.712 ± 0.015 (n 3, 95 % CI 0.675-0.749)`; one seed: `0.712 (n 1)`."""
        if self.n == 0:
            return "–"
        if self.n == 1:
            return f"{self.mean:.{digits}f} (n 1)"
        return (
            f"{self.mean:.{digits}f} ± {self.std:.{digits}f} "
            f"(n {self.n}, 95 % CI {self.low:.{digits}f}–{self.high:.{digits}f})"
        )


def summarize(values) -> Summary:
    """Mean, std (ddof 1), n and the 95 % Student-t interval of the finite `values` (the interval is the mean
    itself for one value, NaN for none)."""
    finite = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    n = len(finite)
    if n == 0:
        return Summary(math.nan, math.nan, 0, math.nan, math.nan)
    mean = float(finite.mean())
    if n == 1:
        return Summary(mean, math.nan, 1, mean, mean)
    std = float(finite.std(ddof=1))
    half = t_quantile(0.5 + CONFIDENCE / 2, n - 1) * std / math.sqrt(n)
    return Summary(mean, std, n, mean - half, mean + half)


MOST_SEEDS = 10_000  # seeds_to_decide gives up beyond this


def seeds_to_decide(summary: Summary, distance: float) -> int | None:
    """The fewest seeds n whose 95 % interval, at the observed standard deviation s, is narrower on each side than
    `distance` (the gap from the observed mean to the nearest edge of a band): t(0.975, n - 1) * s / sqrt(n) <
    distance. None when no n up to MOST_SEEDS does (a mean on the edge) or there is no spread to go by."""
    if summary.n < 2 or not math.isfinite(summary.std) or distance <= 0:
        return None
    if summary.std == 0:
        return 2
    n = 2
    while t_quantile(0.5 + CONFIDENCE / 2, n - 1) * summary.std / math.sqrt(n) >= distance:
        n = n + 1 if n < 100 else int(n * 1.1)
        if n > MOST_SEEDS:
            return None
    return n


@dataclass(frozen=True)
class Band:
    """The values a claim allows, low to high (either edge may be infinite), and the words of its three verdicts: the
    95 % interval inside the band, entirely outside it, or across an edge (undecided)."""

    low: float
    high: float
    inside: str = "reproduced"
    outside: str = "not reproduced"

    def verdict(self, summary: Summary) -> str:
        """`inside`, `outside`, or `undecided (about N seeds would decide)`; one seed gives no interval."""
        if summary.n == 0:
            return "not run"
        if summary.n == 1:
            return "undecided (one seed: no interval)"
        if self.low <= summary.low and summary.high <= self.high:
            return self.inside
        if summary.high < self.low or summary.low > self.high:
            return self.outside
        mean = summary.mean
        if self.low <= mean <= self.high:
            distance = min(mean - self.low, self.high - mean)
        else:
            distance = max(self.low - mean, mean - self.high)
        needed = seeds_to_decide(summary, distance)
        return f"undecided ({'about ' + str(needed) if needed else 'no number of'} seeds would decide)"


def about(value: float, tolerance: float) -> Band:
    """The band of a claimed value "about v": v ± tolerance."""
    return Band(value - tolerance, value + tolerance)


Z95 = 1.959963984540054  # the 0.975 quantile of the standard normal


def binomial_interval(successes: int, n: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion `successes` / `n` (NaN for n = 0)."""
    if n == 0:
        return math.nan, math.nan
    share = successes / n
    centre = (share + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(share * (1 - share) / n + Z95**2 / (4 * n**2)) / (1 + Z95**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)

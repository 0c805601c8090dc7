"""Published results that bgbias's tables stand beside (data only)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedVanilla:
    """A published vanilla (ERM) model's unbiased accuracy (%) by correlation rho, and where it comes from."""

    title: str
    source: str
    accuracy: dict[float, float]


# ReBias (Bahng et al., ICML 2020, clovaai/rebias resources/Table1.png): unbiased accuracy (%) on Biased-MNIST, mean of
# 3 runs, by method and rho
REBIAS_TABLE1 = {
    "Vanilla": {0.999: 10.4, 0.997: 33.4, 0.995: 72.1, 0.990: 89.1},
    "LearnedMixin": {0.999: 12.1, 0.997: 50.2, 0.995: 78.2, 0.990: 88.3},
    "RUBi": {0.999: 13.7, 0.997: 43.0, 0.995: 90.4, 0.990: 93.6},
    "ReBias": {0.999: 22.7, 0.997: 64.2, 0.995: 76.0, 0.990: 88.1},
}
# The published vanilla rows an experiment's base models can stand beside (its `claims: {published: <name>}`)
PUBLISHED_VANILLA = {
    "rebias": PublishedVanilla(
        "ReBias's Biased-MNIST protocol, vanilla models", "ReBias's published vanilla model (Table 1; mean of 3 runs)",
        REBIAS_TABLE1["Vanilla"],
    ),
}
# The original code's single run of its later setup on this kind of machine (shared/DESIGN.md): accuracy on a pool
# test set, by role; the claims columns marked `original_run: true` stand beside it
ORIGINAL_CODE_RUN = {"base": 0.487, "pool-paired": 0.985, "noise-paired": 0.957}

"""Every valid config finishes: a run without biased digits, and paired sets that mark no image, give tables and
figures that say why they are empty instead of failing jobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgbias.colour.datasets import build_biased
from bgbias.colour.pairs import build_paired
from bgbias.colour.plots import SamplePanel, pairs_panel, plot_samples, sample_grid_figure
from bgbias.config import dataset_slice
from conftest import MINI, run_snakemake
from workflow_helpers import prepare


def test_a_panel_without_images_says_why(tmp_path: Path, mini_mnist: Path) -> None:
    data = dataset_slice(MINI)
    build_biased(tmp_path / "b.h5", raw_dir=mini_mnist, dataset_config=data, bias_config=MINI["bias"], seed=0)
    build_paired(
        tmp_path / "p.h5", biased=tmp_path / "b.h5", raw_dir=mini_mnist, dataset_config=data, mode="pool",
        fraction=1e-9, copies=2, selection="random", unbiased_pairs="self", ranking=None, seed=0,
    )
    panel = pairs_panel(tmp_path / "p.h5", versions=2)
    assert panel.images == [] and panel.empty.startswith("no image has versions")
    figure = sample_grid_figure([panel, SamplePanel("other", [], [], [])], "title")
    texts = [text.get_text().replace("\n", " ") for axes in figure.axes for text in axes.texts]
    assert texts == [panel.empty, "no images"]
    plot_samples(tmp_path / "p.h5", tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000


@pytest.mark.workflow
def test_a_run_without_biased_digits_finishes_and_says_why_its_cells_are_empty(workflow_dir: Path) -> None:
    prepare(workflow_dir, {
        "bias": {"mode": "none"}, "paired": {"selections": ["bias_score"], "augment_fractions": [0.5]},
        "adversarial": {"fgsm_epsilons": [], "cw_c": []},
    })
    run_snakemake(workflow_dir, "results/all", "--cores", "2")
    fractions = (workflow_dir / "results/initial/tables/fractions.md").read_text()
    assert "Rows with 0 marked images mark no image: the run has no biased digit" in fractions
    assert "n 0: no `random` model at the same augment mode and fraction" in fractions
    for figure in ("figures/fractions.png", "s0/figures/selection/bias_score.png",
                   "s0/figures/samples/paired/pool-f0.5-bias_score.png"):
        assert (workflow_dir / "results/initial" / figure).stat().st_size > 1000, figure

"""`bgbias plan`: every output of the grid with an estimated size that scales with the grid."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgbias.cli import main
from bgbias.config import deep_merge, validate_config
from bgbias.colour.datasets import make_biased_dataset, make_test_dataset
from bgbias.models import LeNet, save_checkpoint
from bgbias.plan import format_plan, human, lenet_bytes, plan
from conftest import REPO, TINY_CONFIG, bias_spec, colour_spec

GRID = {
    "seeds": [0, 1],
    "test_modes": ["pool", "noise", "strips"],
    "colour_tests": ["solid:black", "solid:1"],
    "paired": {"augment_modes": ["pool", "noise"], "augment_fractions": [0.5, 1.0], "copies": 10},
    "adversarial": {"fgsm_epsilons": [0, 0.1, 0.3], "cw_c": [1.0]},
}


def planned(override: dict) -> list:
    return plan(validate_config(override))


def by_name(items: list, seed: int | None = 0) -> dict:
    return {item.name: item for item in items if item.seed == seed}


def test_every_output_of_the_grid_is_listed() -> None:
    items = planned(GRID)
    kinds = [(item.kind, item.seed) for item in items]
    assert kinds.count(("mnist", None)) == 1
    for seed in (0, 1):
        names = list(by_name(items, seed))
        assert sum(name.startswith("test/") for name in names) == 5
        assert sum(name.startswith("paired/") for name in names) == 4
        assert sum(name.startswith("adversarial/") for name in names) == 4
        assert sum(name.startswith("model ") for name in names) == (1 + 4) + (1 + 4)
        assert "biased" in names and "model base" in names and "model adversarial/grey" in names
    assert len(items) == 1 + 2 * (1 + 5 + 4 + 4 + 10 + 1)


def test_total_is_the_sum_and_printed() -> None:
    items = planned(GRID)
    total = sum(item.bytes for item in items)
    table = format_plan(items)
    assert table.splitlines()[-1].split()[:3] == ["total", f"{len(items)}", "outputs"]
    assert table.splitlines()[-1].endswith(human(total))
    assert len(table.splitlines()) == len(items) + 3


def test_sizes_scale_with_the_grid() -> None:
    one, three = planned({**GRID, "seeds": [0]}), planned({**GRID, "seeds": [0, 1, 2]})
    mnist = one[0].bytes
    assert sum(i.bytes for i in three) - mnist == 3 * (sum(i.bytes for i in one) - mnist)
    more_tests = planned({**GRID, "seeds": [0], "test_modes": [*GRID["test_modes"], "random_pure"]})
    assert len(more_tests) == len(one) + 1
    assert sum(i.bytes for i in more_tests) > sum(i.bytes for i in one)
    twice = planned(deep_merge(GRID, {"seeds": [0], "paired": {"copies": 20}}))
    base = by_name(one)["biased"].bytes
    for name in ("noise", "pool"):
        ten = by_name(one)[f"paired/{name}-f1"].bytes - base
        twenty = by_name(twice)[f"paired/{name}-f1"].bytes - base
        assert twenty == pytest.approx(2 * ten, rel=1e-4)
        half = by_name(one)[f"paired/{name}-f0.5"].bytes - base
        assert half == pytest.approx(ten / 2, rel=1e-3)


def test_noise_costs_far_more_than_one_colour() -> None:
    items = by_name(planned(GRID))
    assert items["paired/noise-f1"].bytes > 10 * items["paired/pool-f1"].bytes
    assert items["test/noise"].bytes > 10 * items["test/pool"].bytes
    assert items["test/solid-1"].bytes == pytest.approx(items["test/pool"].bytes, rel=0.1)
    assert items["paired/noise-f1"].images == 60000 + 29404 * 10  # digits 5-9: 29,404 of 60,000
    assert 500e6 < items["paired/noise-f1"].bytes < 700e6


def test_sizes_follow_the_split_sizes() -> None:
    items = by_name(planned({"mnist": {"train_size": 1000, "dev_size": 100, "test_size": 200}}))
    assert items["biased"].images == 1000
    assert items["test/pool"].images == 200
    assert items["adversarial/fgsm-0.1"].images == 1200


def test_no_attacks_no_adversarial_outputs() -> None:
    names = by_name(planned({"adversarial": {"fgsm_epsilons": [], "cw_c": []}}))
    assert not [name for name in names if "adversarial" in name or "grey" in name or "forgetting" in name]


def test_model_estimate_matches_a_saved_checkpoint(tmp_path: Path) -> None:
    for channels in (1, 3):
        path = tmp_path / f"{channels}.pt"
        save_checkpoint(path, LeNet(in_channels=channels), {"config": {"train": {"epochs": 100}}, "seed": 0})
        assert lenet_bytes(channels) == pytest.approx(path.stat().st_size, rel=0.02)


def test_dataset_estimates_match_real_files(tmp_path: Path, mnist_spec) -> None:
    """The one-colour model against files written from the 600 + 300 mini MNIST images."""
    make_biased_dataset(
        tmp_path / "biased.h5", mnist=mnist_spec, bias=bias_spec(), colors=colour_spec(), seed=0, config_slice={"a": 1},
        threads=1,
    )
    make_test_dataset(
        tmp_path / "pool.h5", mnist=mnist_spec, mode="pool", colors=colour_spec(), seed=0, config_slice={"a": 1},
        threads=1,
    )
    items = by_name(planned({"mnist": {"train_size": 600, "dev_size": 100, "test_size": 300}}))
    for name, file in (("biased", "biased.h5"), ("test/pool", "pool.h5")):
        assert 0.7 < items[name].bytes / (tmp_path / file).stat().st_size < 1.4, name


def test_cli_prints_the_plan(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(REPO)
    assert main(["plan", "--configfile", str(TINY_CONFIG), "--config", "seeds=[0, 1]", "paired={copies: 3}"]) == 0
    output = capsys.readouterr().out
    assert "paired/pool-f1 " in output and output.count("model base") == 2
    assert output.splitlines()[-1].startswith("total")


def test_cli_refuses_bad_config(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(REPO)
    assert main(["plan", "--config", "paired={copies: 0}"]) == 2
    assert capsys.readouterr().err == (
        "bgbias plan: config key paired.copies: 0 is not allowed; allowed: an integer >= 1\n"
    )

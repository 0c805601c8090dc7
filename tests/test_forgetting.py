"""The catastrophic-forgetting experiment: tables from hand-made evaluations, a real run on mini MNIST,
and the workflow's rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bgbias.attacks import Attack
from bgbias.adversarial.forgetting import evaluate_on_sets, fine_tune_on_set
from bgbias.adversarial.grey import make_grey_dataset, read_grey_split
from bgbias.adversarial.plots import forgetting_figure
from bgbias.adversarial.sets import make_adversarial_set
from bgbias.adversarial.tables import (
    attack_markdown,
    attack_summary,
    attack_table,
    forgetting_markdown,
    forgetting_table,
)
from bgbias.mnist import MnistSpec
from bgbias.stats import binomial_interval
from bgbias.models import LeNet, predict
from bgbias.training import train_classifier
from conftest import run_snakemake, train_spec

CPU = torch.device("cpu")


def evaluation(seed: int, model: str, clean: float, fgsm: float, cw: float) -> dict:
    return {"seed": seed, "model": model, "accuracy": {"clean": clean, "cw-0.5": cw, "fgsm-0.1": fgsm}}


def test_forgetting_table_rows_columns_and_changes() -> None:
    evaluations = [
        evaluation(1, "cw-0.5", 0.90, 0.70, 0.95),
        evaluation(0, "fgsm-0.1", 0.95, 0.90, 0.20),
        evaluation(0, "grey", 0.99, 0.30, 0.10),
        evaluation(1, "grey", 0.97, 0.20, 0.00),
        evaluation(0, "cw-0.5", 0.93, 0.60, 0.85),
        evaluation(1, "fgsm-0.1", 0.91, 0.80, 0.10),
    ]
    table = forgetting_table(evaluations)
    assert list(table.columns) == [
        "seed", "model", "attack", "strength", "clean", "clean_change", "own", "fgsm-0.1", "cw-0.5"
    ]
    assert list(zip(table["seed"], table["model"])) == [
        (0, "grey"), (0, "fgsm-0.1"), (0, "cw-0.5"), (1, "grey"), (1, "fgsm-0.1"), (1, "cw-0.5")
    ]
    assert table["clean_change"].round(6).tolist() == [0.0, -0.04, -0.06, 0.0, -0.06, -0.07]
    assert table["own"].tolist()[1:3] == [0.90, 0.85] and np.isnan(table["own"][0])
    assert table["attack"].tolist()[:3] == ["none", "fgsm", "cw"] and table["strength"].tolist()[1:3] == [0.1, 0.5]

    markdown = forgetting_markdown(table)
    assert "Seeds: 0, 1." in markdown
    grey_line = next(line for line in markdown.splitlines() if line.startswith("| grey"))
    assert "0.980 ± 0.014" in grey_line
    assert [line.split("|")[1].strip() for line in markdown.splitlines()[4:]] == ["grey", "fgsm-0.1", "cw-0.5"]


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory, mnist_spec: MnistSpec) -> dict:
    """The whole experiment on mini MNIST: grey data, a grey LeNet, two attacks, fine-tuning, evaluation."""
    folder = tmp_path_factory.mktemp("forgetting")
    grey = folder / "grey.h5"
    make_grey_dataset(grey, mnist=mnist_spec, seed=0, config_slice={})
    train, dev = read_grey_split(grey, "train"), read_grey_split(grey, "dev")
    spec = train_spec(epochs=6, patience=6, batch_size=32, lr=0.05, momentum=0.9, dropout=False)
    model, _ = train_classifier(train, dev, spec=spec, seed=0, device=CPU)
    attack_config = {
        "train_size": 200, "dev_size": 50, "test_size": 100, "batch_size": 100,
        "fgsm_loss": "ce", "cw_steps": 20, "cw_lr": 0.1, "cw_kappa": 0.0, "cw_abort_early": True,
    }
    sets = {}
    for attack in map(Attack.parse, ("fgsm-0.3", "cw-5")):
        sets[attack.name] = folder / f"{attack.name}.h5"
        make_adversarial_set(
            sets[attack.name], model, grey_dataset=grey, attack=attack, attack_config=attack_config, seed=0, device=CPU,
            inputs=[],
        )
    evaluations = [{"seed": 0, "model": "grey", "accuracy": evaluate_on_sets(model, grey, sets, CPU)}]
    tune = train_spec(epochs=3, patience=3, batch_size=20, lr=0.02, momentum=0.9, dropout=False)
    histories = {}
    for name, path in sets.items():
        tuned = LeNet(in_channels=1, dropout=False)
        tuned.load_state_dict(model.state_dict())
        histories[name] = fine_tune_on_set(tuned, path, spec=tune, seed=0, device=CPU)
        evaluations.append({"seed": 0, "model": name, "accuracy": evaluate_on_sets(tuned, grey, sets, CPU)})
    return {"sets": sets, "evaluations": evaluations, "histories": histories, "grey": grey, "model": model}


def test_fine_tuning_on_a_set_learns_its_attack(experiment: dict) -> None:
    table = forgetting_table(experiment["evaluations"]).set_index("model")
    assert list(table.index) == ["grey", "fgsm-0.3", "cw-5"]
    assert table.loc["grey", "clean"] > 0.6
    assert table.loc["grey", "clean"] == pytest.approx(table.loc["grey", "clean"] - table.loc["grey", "clean_change"])
    for name in ("fgsm-0.3", "cw-5"):
        assert table.loc[name, "own"] == table.loc[name, name]
        assert table.loc[name, name] > table.loc["grey", name] + 0.1
        assert len(experiment["histories"][name]) == 3
    values = table[["clean", "fgsm-0.3", "cw-5"]].to_numpy()
    assert ((values >= 0) & (values <= 1)).all()


def test_grey_model_scores_match_the_test_split_and_the_attack_success(experiment: dict) -> None:
    clean = read_grey_split(experiment["grey"], "test")
    predictions = predict(experiment["model"], clean.images, CPU)
    scores = experiment["evaluations"][0]["accuracy"]
    assert scores["clean"] == pytest.approx((predictions == clean.labels).mean())
    position = {source: row for row, source in enumerate(clean.source_index)}
    for name, path in experiment["sets"].items():
        attacked = read_grey_split(path, "test")
        before = predictions[[position[source] for source in attacked.source_index]] == attacked.labels
        after = predict(experiment["model"], attacked.images, CPU) == attacked.labels
        assert scores[name] == pytest.approx(after.mean())
        test = attack_summary(path).set_index("split").loc["test"]
        # success counts only the images right before the attack: an image already wrong is no success of it
        assert test["success_rate"] == pytest.approx((before & ~after).sum() / before.sum())
        assert test["correct"] == before.sum() and test["successes"] == (before & ~after).sum()


def test_attack_table_and_figure(experiment: dict) -> None:
    table = attack_table([attack_summary(path) for path in experiment["sets"].values()])
    assert list(zip(table["name"], table["split"])) == [
        (name, split) for name in ("fgsm-0.3", "cw-5") for split in ("train", "dev", "test")
    ]
    assert table["n"].tolist() == [200, 50, 100] * 2
    fgsm = table[table["attack"] == "fgsm"]
    assert np.allclose(fgsm["mean_linf"], 0.3, atol=1e-6)
    markdown = attack_markdown(table)
    assert "success (of the images right before the attack)" in markdown and "| fgsm " in markdown
    row = table[(table["name"] == "cw-5") & (table["split"] == "test")].iloc[0]
    low, high = binomial_interval(int(row["successes"]), int(row["correct"]))
    assert f"{row['successes']}/{row['correct']} = {row['success_rate']:.3f} [{low:.3f}, {high:.3f}]" in markdown

    figure = forgetting_figure(forgetting_table(experiment["evaluations"]))
    assert [axis.get_xlabel() for axis in figure.axes] == ["FGSM epsilon", "CW-L2 constant c"]
    assert all(len(axis.get_lines()) >= 2 for axis in figure.axes)


@pytest.mark.workflow
def test_workflow_lists_the_adversarial_rules_and_outputs(workflow_dir: Path) -> None:
    result = run_snakemake(workflow_dir, "results/all", "-n", "--quiet", "rules")
    counts = {
        line.split()[0]: int(line.split()[1]) for line in result.stdout.splitlines() if len(line.split()) == 2
        and line.split()[1].isdigit()
    }
    # tiny.yaml: 2 FGSM epsilons and 2 CW constants
    assert counts["attack"] == 4 and counts["adversarial_finetune"] == 4 and counts["evaluate_adversarial"] == 5
    for rule in ("grey_dataset", "train_grey", "forgetting_table", "attack_table", "forgetting_figure"):
        assert counts[rule] == 1
    bad = run_snakemake(workflow_dir, "-n", "--config", "adversarial={cw_c: [0]}", check=False)
    assert bad.returncode != 0 and "config key adversarial.cw_c[0]: 0 is not allowed" in bad.stdout + bad.stderr

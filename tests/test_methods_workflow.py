"""The method axis in the workflow: every method trains through one rule per (run, seed, method), tables name each
model by its method, an experiment's methods table says what each knows, and a new method touches only its module and
the schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import file_digests, run_snakemake
from workflow_helpers import prepare

EXPERIMENT = """
description: methods on the tiny data
methods: [erm, groupdro, lff, jtt, rubi, learned_mixin, paired]
test_modes: [pool]
colour_tests: []
adversarial: {fgsm_epsilons: [], cw_c: []}
methods_table: true
setups:
  rho0.9: {bias: {mode: all, correlation: 0.9}}
  initial: {}
"""


@pytest.mark.workflow
def test_every_method_trains_and_the_methods_table_says_what_each_knows(workflow_dir: Path) -> None:
    prepare(workflow_dir, {"jtt": {"identification_epochs": 1, "upweight": 5}, "learned_mixin": {"bias_epochs": 1}})
    (workflow_dir / "experiments/mtest.yaml").write_text(EXPERIMENT)
    planned = run_snakemake(workflow_dir, "results/mtest/all", "-n").stdout
    assert planned.count("train_method:") == 5 * 2  # groupdro, lff, jtt, rubi and learned_mixin in each run
    run_snakemake(workflow_dir, "results/mtest/all", "--cores", "2")
    run = workflow_dir / "results/mtest/rho0.9"
    accuracy = (run / "tables/accuracy.md").read_text()
    assert all(f"| {model} " in accuracy for model in ("base", "groupdro", "lff", "jtt", "rubi", "learned_mixin",
                                                        "paired-pool-f1"))
    table = (workflow_dir / "results/mtest/tables/methods.md").read_text()
    assert "## mtest/rho0.9 (rho 0.9)" in table and "## mtest/initial (rho 1)" in table
    for method, knows in [("erm", "none"), ("groupdro", "group labels"), ("lff", "none"), ("jtt", "none"),
                          ("rubi", "none"), ("learned_mixin", "none")]:
        assert f"| {method} " in table and knows in table.split(f"| {method} ")[1].split("\n")[0]
    assert "paired (pool, 1 marked) | marked images (" in table
    assert "## ReBias's published results" in table
    assert (workflow_dir / "results/mtest/figures/methods.png").stat().st_size > 5000
    history = (run / "s0/models/jtt.csv").read_text().splitlines()
    assert history[0] == "epoch,train_loss,train_accuracy,dev_loss,dev_accuracy,best" and len(history) == 3


TOY = '''"""A toy method: plain cross-entropy, to show that a method needs only its module and the schema."""

from __future__ import annotations

from bgbias.methods import MethodInfo
from bgbias.methods.stage import cross_entropy_step, dev_loss
from bgbias.training import fit, fresh_model

INFO = MethodInfo(name="toy", description="plain cross-entropy", supervision="none",
                  implementation="bgbias.methods.erm:cross_entropy")


def train(train, dev, *, spec, settings, model_name, seed, device):
    model = fresh_model(model_name, spec, in_channels=3, seed=seed, device=device)
    history = fit(model, cross_entropy_step(model, train), len(train), dev_loss(model, dev), spec=spec, seed=seed,
                  device=device)
    return model, history, {"toy": settings["flavour"]}
'''


@pytest.mark.workflow
def test_a_new_method_touches_only_its_module_and_the_schema(workflow_dir: Path) -> None:
    prepare(workflow_dir)
    before = file_digests(workflow_dir)
    (workflow_dir / "bgbias/methods/toy.py").write_text(TOY)
    schema_path = workflow_dir / "bgbias/config.schema.yaml"
    schema = schema_path.read_text()
    schema = schema.replace("items: {enum: [erm, paired, groupdro, lff, jtt, rubi, learned_mixin]}",
                            "items: {enum: [erm, paired, groupdro, lff, jtt, rubi, learned_mixin, toy]}")
    schema = schema.replace("  train:\n    description: >\n      training on the biased dataset", (
        "  toy:\n    type: object\n    additionalProperties: false\n    default: {}\n    properties:\n"
        "      flavour: {type: string, default: plain}\n      train: {$ref: \"#/$defs/train\", default: {}}\n"
        "  train:\n    description: >\n      training on the biased dataset"), 1)
    schema_path.write_text(schema)
    after = file_digests(workflow_dir)
    changed = {path for path in after if after[path] != before.get(path) and not (workflow_dir / path).is_symlink()}
    assert changed == {"bgbias/methods/toy.py", "bgbias/config.schema.yaml"}  # schemas/ links to the schema
    target = "results/initial/s0/eval/toy/pool.json"
    run_snakemake(workflow_dir, target, "--cores", "2", "--config", "methods=[erm, toy]")
    import torch

    checkpoint = torch.load(workflow_dir / "results/initial/s0/models/toy.pt", weights_only=True)
    assert checkpoint["toy"] == "plain" and checkpoint["config"]["method"] == "toy"
    assert yaml.safe_load((workflow_dir / target).read_text())["model_name"] == "toy"

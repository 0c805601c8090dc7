"""Debiasing methods: each objective on hand-built tensors against values computed by hand, and the registry."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bgbias.methods import METHODS, SUPERVISIONS, MethodInfo
from bgbias.methods.bias_only import BiasOnlyCNN
from bgbias.methods.erm import cross_entropy
from bgbias.methods.groupdro import GroupDRO, group_index
from bgbias.methods.jtt import JTT, error_set
from bgbias.methods.learned_mixin import LearnedMixin
from bgbias.methods.lff import LfF, generalized_cross_entropy
from bgbias.methods.rubi import RUBi

LOGITS = torch.tensor([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]], dtype=torch.float64)
LABELS = torch.tensor([0, 2])


def hand_ce(row: list[float], label: int) -> float:
    return math.log(sum(math.exp(v) for v in row)) - row[label]


def hand_softmax(row: list[float]) -> list[float]:
    total = sum(math.exp(v) for v in row)
    return [math.exp(v) / total for v in row]


def test_erm_is_the_mean_cross_entropy() -> None:
    expected = (hand_ce([2.0, 0.0, -1.0], 0) + hand_ce([0.5, 1.5, 0.0], 2)) / 2
    assert cross_entropy(LOGITS, LABELS).item() == pytest.approx(expected, rel=1e-12)


def test_group_index_is_digit_times_ten_plus_colour_and_refuses_non_pool_backgrounds() -> None:
    assert group_index(torch.tensor([0, 7, 9]), torch.tensor([3, 7, 0])).tolist() == [3, 77, 90]
    with pytest.raises(ValueError, match="1 image"):
        group_index(torch.tensor([0, 7]), torch.tensor([3, -1]))


def test_groupdro_loss_of_one_step_by_hand() -> None:
    dro = GroupDRO(groups=100, step_size=0.01)
    losses = torch.tensor([1.0, 3.0, 4.0], dtype=torch.float64)
    groups = torch.tensor([7, 42, 42])
    loss = dro(losses, groups)
    # group means 1 (group 7) and 3.5 (group 42); the 98 absent groups have loss 0 and keep exp(0) = 1
    z = 98 + math.exp(0.01 * 1.0) + math.exp(0.01 * 3.5)
    expected = math.exp(0.01) / z * 1.0 + math.exp(0.035) / z * 3.5
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    assert dro.q.sum().item() == pytest.approx(1.0)


def test_groupdro_weights_move_to_the_worst_group() -> None:
    dro = GroupDRO(groups=100, step_size=0.01)
    batches = [
        (torch.tensor([0.5, 2.0, 2.5]), torch.tensor([3, 58, 58])),
        (torch.tensor([0.4, 0.6, 3.0]), torch.tensor([3, 12, 58])),
        (torch.tensor([1.0, 2.0]), torch.tensor([12, 58])),
    ]
    for losses, groups in batches:
        dro(losses, groups)
    assert int(dro.q.argmax()) == 58
    cumulative = {3: 0.5 + 0.4, 12: 0.6 + 1.0, 58: 2.25 + 3.0 + 2.0}  # sums of the group means per batch
    z = 97 + sum(math.exp(0.01 * value) for value in cumulative.values())
    expected = [math.exp(0.01 * cumulative.get(g, 0.0)) / z for g in range(100)]
    assert dro.q.tolist() == pytest.approx(expected, rel=1e-6)


def test_groupdro_gradient_flows_through_the_losses_not_the_weights() -> None:
    dro = GroupDRO(groups=4, step_size=0.5)
    losses = torch.tensor([1.0, 2.0], requires_grad=True)
    dro(losses, torch.tensor([0, 1])).backward()
    assert losses.grad.tolist() == pytest.approx(dro.q[:2].tolist())


def test_gce_is_the_official_scaled_cross_entropy() -> None:
    p = hand_softmax([2.0, 0.0, -1.0])[0], hand_softmax([0.5, 1.5, 0.0])[2]
    expected = [hand_ce([2.0, 0.0, -1.0], 0) * 0.7 * p[0] ** 0.7, hand_ce([0.5, 1.5, 0.0], 2) * 0.7 * p[1] ** 0.7]
    assert generalized_cross_entropy(LOGITS, LABELS).tolist() == pytest.approx(expected, rel=1e-12)


def test_gce_gradient_is_q_times_that_of_the_papers_gce() -> None:
    logits = LOGITS.clone().requires_grad_(True)
    generalized_cross_entropy(logits, LABELS).sum().backward()
    paper = LOGITS.clone().requires_grad_(True)
    p_label = paper.softmax(1).gather(1, LABELS[:, None]).squeeze(1)
    ((1 - p_label.pow(0.7)) / 0.7).sum().backward()
    assert logits.grad.flatten().tolist() == pytest.approx((0.7 * paper.grad).flatten().tolist(), rel=1e-10)


# a training set of 4 images, classes 0 and 1: images 0 and 2 bias-aligned, 1 and 3 bias-conflicting
LFF_LABELS = torch.tensor([0, 0, 1, 1])
# the biased model fits the aligned images and fails the conflicting ones; the debiased model is unsure of all
LOGITS_B = torch.tensor([[3.0, -3.0], [-2.0, 2.0], [-3.0, 3.0], [2.0, -2.0]])
LOGITS_D = torch.tensor([[0.5, 0.0], [0.5, 0.0], [0.0, 0.5], [0.0, 0.5]])


def test_lff_weighs_conflicting_samples_above_aligned_ones() -> None:
    lff = LfF(LFF_LABELS, classes=2)
    losses = lff(LOGITS_B, LOGITS_D, torch.arange(4))
    aligned, conflicting = losses.weights[[0, 2]], losses.weights[[1, 3]]
    assert aligned.max() < 0.05 and conflicting.min() > 0.45  # b's worst, and d's, are the conflicting ones
    # by hand: one step, the EMA is the CE; each class's largest CE is a conflicting image's
    ce_b = [hand_ce(row, label) for row, label in zip(LOGITS_B.tolist(), LFF_LABELS.tolist())]
    ce_d = [hand_ce(row, label) for row, label in zip(LOGITS_D.tolist(), LFF_LABELS.tolist())]
    max_b = [max(ce_b[0], ce_b[1]), max(ce_b[2], ce_b[3])]
    max_d = [max(ce_d[0], ce_d[1]), max(ce_d[2], ce_d[3])]
    norm_b = [ce_b[i] / max_b[LFF_LABELS[i]] for i in range(4)]
    norm_d = [ce_d[i] / max_d[LFF_LABELS[i]] for i in range(4)]
    weights = [b / (b + d + 1e-8) for b, d in zip(norm_b, norm_d)]
    assert losses.weights.tolist() == pytest.approx(weights, rel=1e-5, abs=1e-7)
    assert losses.debiased.item() == pytest.approx(sum(c * w for c, w in zip(ce_d, weights)) / 4, rel=1e-6)
    p_b = [hand_softmax(row)[label] for row, label in zip(LOGITS_B.tolist(), LFF_LABELS.tolist())]
    gce = [c * 0.7 * p ** 0.7 for c, p in zip(ce_b, p_b)]
    assert losses.biased.item() == pytest.approx(sum(gce) / 4, rel=1e-6)
    assert losses.total.item() == pytest.approx(sum(gce) / 4 + sum(c * w for c, w in zip(ce_d, weights)) / 4, rel=1e-6)


def test_lff_averages_each_samples_losses_with_alpha_and_normalises_over_the_whole_class() -> None:
    lff = LfF(LFF_LABELS, classes=2)
    lff(LOGITS_B, LOGITS_D, torch.tensor([0, 1, 2, 3]))
    first_b = lff.ema_b.clone()
    later_b = torch.tensor([[1.0, 0.0], [0.0, 0.0]])  # images 0 and 2 again
    later_d = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    losses = lff(later_b, later_d, torch.tensor([0, 2]))
    new_b = [hand_ce([1.0, 0.0], 0), hand_ce([0.0, 0.0], 1)]
    averaged = [0.7 * first_b[i].item() + 0.3 * new for i, new in zip((0, 2), new_b)]
    assert lff.ema_b[[0, 2]].tolist() == pytest.approx(averaged, rel=1e-6)
    assert lff.ema_b[[1, 3]].tolist() == first_b[[1, 3]].tolist()  # images not in the batch keep theirs
    # the class maximum runs over the whole training set: images 1 and 3, not in the batch, hold it
    norm_b = [lff.ema_b[i].item() / max(lff.ema_b[i].item(), lff.ema_b[i + 1].item()) for i in (0, 2)]
    norm_d = [lff.ema_d[i].item() / max(lff.ema_d[i].item(), lff.ema_d[i + 1].item()) for i in (0, 2)]
    assert losses.weights.tolist() == pytest.approx([b / (b + d + 1e-8) for b, d in zip(norm_b, norm_d)], rel=1e-6)


def test_lff_weights_carry_no_gradient() -> None:
    logits_b, logits_d = LOGITS_B.clone().requires_grad_(True), LOGITS_D.clone().requires_grad_(True)
    losses = LfF(LFF_LABELS, classes=2)(logits_b, logits_d, torch.arange(4))
    assert not losses.weights.requires_grad
    losses.debiased.backward()
    assert logits_b.grad is None  # the debiased loss does not train the biased model


def test_jtt_upweights_exactly_the_erm_models_error_set() -> None:
    erm = nn.Linear(2, 2, bias=False)  # the identification model: predicts class 1 when x1 > x0
    with torch.no_grad():
        erm.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    x = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 3.0], [0.0, 2.0], [5.0, 1.0], [1.0, 0.0]])
    y = torch.tensor([0, 0, 1, 0, 1, 0])
    errors = error_set(erm(x).argmax(1), y)
    assert errors.tolist() == [1, 3, 4]
    jtt = JTT(identification_epochs=1, lambda_up=5)
    order = jtt.upsampled_indices(len(y), errors)
    counts = torch.bincount(order, minlength=len(y))
    assert counts.tolist() == [1, 5, 1, 5, 5, 1]
    assert torch.nonzero(counts > 1).flatten().tolist() == errors.tolist()
    assert order[: len(y)].tolist() == list(range(len(y)))  # the training set once, then the extra copies
    assert jtt.weights(len(y), errors).tolist() == counts.float().tolist()
    assert JTT(identification_epochs=1, lambda_up=1).upsampled_indices(len(y), errors).tolist() == list(range(6))
    with pytest.raises(ValueError, match="lambda_up"):
        JTT(identification_epochs=1, lambda_up=0)


def test_rubi_loss_by_hand_and_no_gradient_into_the_bias_network() -> None:
    rubi = RUBi(feature_dim=3, classes=3).double()
    with torch.no_grad():
        rubi.fc.weight.copy_(torch.eye(3, dtype=torch.float64))
        rubi.fc.bias.zero_()
    bias_features = torch.tensor([[1.0, -1.0, 0.0], [0.0, 2.0, -2.0]], dtype=torch.float64, requires_grad=True)
    loss = rubi(LOGITS, bias_features, LABELS)
    sigmoid = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    expected = 0.0
    for f, b, label in zip(LOGITS.tolist(), bias_features.tolist(), LABELS.tolist()):
        expected += hand_ce([fv * sigmoid(bv) for fv, bv in zip(f, b)], label) / 2 + hand_ce(b, label) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()
    assert bias_features.grad is None
    assert rubi.fc.weight.grad.abs().sum() > 0


def test_learned_mixin_loss_by_hand_equals_clarks_log_softmax_form() -> None:
    mixin = LearnedMixin(feature_dim=2).double()
    with torch.no_grad():
        mixin.fc.weight.copy_(torch.tensor([[1.0, 0.0]], dtype=torch.float64))
        mixin.fc.bias.zero_()
    features = torch.tensor([[0.5, 9.0], [-1.0, 9.0]], dtype=torch.float64)
    bias_logits = torch.tensor([[0.0, 3.0, 1.0], [1.0, 0.0, 2.0]], dtype=torch.float64, requires_grad=True)
    loss = mixin(LOGITS, features, bias_logits, labels=LABELS)
    expected = 0.0
    for f, b, h, label in zip(LOGITS.tolist(), bias_logits.tolist(), features.tolist(), LABELS.tolist()):
        gate = math.log(1 + math.exp(h[0]))  # softplus(fc(h)), fc reading h's first feature
        scaled = [gate * bv for bv in b]
        p = hand_softmax(scaled)
        entropy = -sum(pv * math.log(pv) for pv in p)
        expected += hand_ce([fv + sv for fv, sv in zip(f, scaled)], label) / 2 + 0.36 * entropy / 2
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    # Clark et al.'s form: log_softmax(f) + g(x) * log_softmax(b), the same loss
    gate = F.softplus(mixin.fc(features))
    mixed = F.log_softmax(LOGITS, 1) + gate * F.log_softmax(bias_logits, 1)
    log_p = F.log_softmax(gate * F.log_softmax(bias_logits, 1), 1)
    clark = F.cross_entropy(mixed, LABELS) - 0.36 * (log_p.exp() * log_p).sum(1).mean()
    assert loss.item() == pytest.approx(clark.item(), rel=1e-12)
    loss.backward()
    assert bias_logits.grad is None  # the bias-only network stays fixed


def test_bias_only_cnn_sees_colour_not_shape() -> None:
    torch.manual_seed(0)
    model = BiasOnlyCNN().eval()
    images = torch.rand(2, 3, 28, 28)
    shuffled = images.flatten(2)[:, :, torch.randperm(28 * 28)].reshape(2, 3, 28, 28)
    logits, features = model.forward_with_features(images)
    assert logits.shape == (2, 10) and features.shape == (2, 128)
    assert torch.allclose(model(shuffled), logits, atol=1e-5)


def test_every_method_names_an_allowed_supervision_and_loads() -> None:
    assert set(METHODS) == {"erm", "groupdro", "lff", "jtt", "rubi", "learned_mixin", "paired"}
    assert SUPERVISIONS == ("none", "bias labels", "group labels", "marked images")
    for name, info in METHODS.items():
        assert info.name == name and info.description
        assert info.supervision in SUPERVISIONS
        assert callable(info.load())
    assert METHODS["groupdro"].supervision == "group labels" and METHODS["paired"].supervision == "marked images"
    with pytest.raises(ValueError, match="allowed: none, bias labels"):
        MethodInfo(name="x", description="y", supervision="labels", implementation="bgbias.methods.erm:cross_entropy")


def test_the_registry_imports_without_torch() -> None:
    code = "import sys, bgbias.methods; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_methods_table_ranks_by_unbiased_accuracy_and_compares_paired_per_seed() -> None:
    import pandas as pd

    from bgbias.methods.table import method_rows, methods_markdown, paired_differences

    unbiased = {"erm": [0.50, 0.52, 0.54], "groupdro": [0.80, 0.82, 0.84], "lff": [0.60, 0.70, 0.65],
                "paired (pool, 0.01 marked)": [0.70, 0.72, 0.74], "paired (pool, 1 marked)": [0.95, 0.96, 0.97]}
    seeds = pd.DataFrame([
        {"run": "m/rho0.99", "method": method, "supervision": "none", "seed": seed,
         "marked_share": float(method.split(", ")[1].split()[0]) if method.startswith("paired") else math.nan,
         "unbiased_accuracy": value, "bias_conflicting_accuracy": value, "worst_cell_accuracy": value / 2}
        for method, values in unbiased.items() for seed, value in enumerate(values)
    ])
    table = method_rows(seeds, {"m/rho0.99": 0.99})
    assert list(table["method"]) == ["paired (pool, 1 marked)", "groupdro", "paired (pool, 0.01 marked)", "lff", "erm"]
    assert list(table["rank"]) == [1, 2, 3, 4, 5]
    differences = paired_differences(seeds).set_index("method")
    assert set(differences["paired"]) == {"paired (pool, 0.01 marked)"}  # the smallest marked share is the reference
    # per seed: paired 0.01 minus erm is 0.20 on every seed (no spread): higher; minus groupdro -0.10: lower
    assert differences.loc["erm", "difference"] == pytest.approx(0.20)
    assert differences.loc["erm", "verdict"] == "paired higher"
    assert differences.loc["groupdro", "verdict"] == "paired lower"
    # minus lff: 0.10, 0.02, 0.09 -> mean 0.07, t(0.975, 2) * s / sqrt(3) = 0.1078 -> the interval crosses 0
    assert differences.loc["lff", "difference"] == pytest.approx(0.07)
    assert differences.loc["lff", "difference_low"] < 0 < differences.loc["lff", "difference_high"]
    assert differences.loc["lff", "verdict"].startswith("undecided")
    text = methods_markdown(table, paired_differences(seeds), title="t", description="d")
    assert "| paired (pool, 0.01 marked) | lff " in text and "paired higher" in text


def test_groupdro_balanced_batches_draw_each_group_as_often() -> None:
    from bgbias.methods.groupdro import balanced_order

    groups = torch.tensor([0] * 900 + [7] * 100)  # a 9:1 set, as an aligned and a conflicting group
    drawn = balanced_order(groups)(torch.Generator().manual_seed(0))
    assert len(drawn) == 1000 and int(drawn.max()) < 1000  # one epoch of the training set's size, with replacement
    share = float((groups[drawn] == 7).double().mean())
    assert 0.45 < share < 0.55  # the shuffle gives 0.10
    again = balanced_order(groups)(torch.Generator().manual_seed(0))
    assert torch.equal(drawn, again)  # seeded: the same draw


def test_lff_trains_its_codes_fixed_budget_and_keeps_the_last_weights() -> None:
    from bgbias.methods import lff
    from bgbias.methods.stage import MethodData
    from bgbias.training import TrainSpec

    generator = torch.Generator().manual_seed(0)

    def noise(n: int) -> MethodData:  # random images with random labels
        return MethodData(torch.randint(0, 256, (n, 3, 28, 28), dtype=torch.uint8, generator=generator),
                          torch.randint(0, 10, (n,), generator=generator), torch.zeros(n, dtype=torch.long))

    train, dev = noise(64), noise(64)
    recipe = TrainSpec.of({"epochs": 100, "patience": 1, "batch_size": 32, "lr": 0.2})
    settings = {"q": 0.7, "ema": 0.7, "epochs": 6, "optimizer": "recipe", "early_stopping": False}
    model, history, _ = lff.train(train, dev, spec=recipe, settings=settings, model_name="lenet", seed=0,
                                  device=torch.device("cpu"))
    # fitting noise, the dev loss rises for two epochs in a row (patience 1 would stop), yet all 6 epochs run
    rises = history["dev_loss"].diff().gt(0)
    assert list(history["epoch"]) == [1, 2, 3, 4, 5, 6] and (rises & rises.shift(fill_value=False)).any()
    last = torch.nn.functional.cross_entropy(model.eval()(dev.images.float() / 255), dev.labels).item()
    assert last == pytest.approx(history["dev_loss"].iloc[-1], rel=1e-5)  # the last epoch's weights, not the best
    assert last > history["dev_loss"].min()
    assert lff.lff_recipe(recipe, {**settings, "epochs": None}).epochs == 100  # null: the recipe's epochs
    assert lff.lff_recipe(recipe, {**settings, "early_stopping": True}) == recipe  # the recipe's early stopping
    code = lff.lff_recipe(recipe, {**settings, "optimizer": "adam"})  # the default: its code's optimiser
    assert (code.optimizer, code.lr, code.weight_decay, code.epochs, code.patience) == ("adam", 0.001, 0.0, 6, None)
    rebias = TrainSpec.of({"optimizer": "adam", "weight_decay": 1e-4, "lr_step": 20, "patience": None})
    assert lff.lff_recipe(rebias, {**settings, "optimizer": "adam"}).lr_step is None  # its code: a constant rate

"""Adversarial attacks: FGSM exactness and bound, CW's margin term, range and strength, the HDF5 sets,
and a cross-check against the Adversarial Robustness Toolbox when it is installed."""

from __future__ import annotations

import copy
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bgbias.attacks import Attack, attack_names
from bgbias.attacks.cw import CWSettings, cw_l2, cw_margin
from bgbias.attacks.fgsm import LOSSES, FGSMSettings, fgsm
from bgbias.adversarial.grey import make_grey_dataset, read_grey_split
from bgbias.adversarial.sets import attack_images, attacked_subset, make_adversarial_set
from bgbias.adversarial.tables import attack_summary
from bgbias.mnist import MnistSpec
from bgbias.models import LeNet
from bgbias.training import train_classifier
from conftest import train_spec

CPU = torch.device("cpu")
QUICK = train_spec(epochs=8, patience=8, batch_size=32, lr=0.05, momentum=0.9, dropout=False)
FGSM = FGSMSettings(loss="ce")


def cw_settings(steps: int = 100, lr: float = 0.1, abort_early: bool = True) -> CWSettings:
    return CWSettings(steps=steps, lr=lr, kappa=0.0, abort_early=abort_early)


@pytest.fixture(scope="module")
def grey_file(tmp_path_factory: pytest.TempPathFactory, mnist_spec: MnistSpec) -> Path:
    path = tmp_path_factory.mktemp("grey") / "grey.h5"
    make_grey_dataset(path, mnist=mnist_spec, seed=0, config_slice={"mnist": {"dev_size": 100}})
    return path


@pytest.fixture(scope="module")
def trained(grey_file: Path) -> LeNet:
    """A grey LeNet trained on the mini MNIST for a few epochs (about 0.7 test accuracy)."""
    train, dev = read_grey_split(grey_file, "train"), read_grey_split(grey_file, "dev")
    model, _ = train_classifier(train, dev, spec=QUICK, seed=0, device=CPU)
    return model.eval().requires_grad_(False)


@pytest.fixture(scope="module")
def test_batch(grey_file: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The first 50 mini MNIST test digits as a float (N, 1, 28, 28) batch in [0, 1] and their labels."""
    test = read_grey_split(grey_file, "test")
    return torch.from_numpy(test.images[:50, None]).float() / 255, torch.from_numpy(test.labels[:50])


def test_grey_dataset_follows_the_contract(grey_file: Path, mnist_spec: MnistSpec) -> None:
    train_digits, dev_digits = mnist_spec.train_dev(seed=0)
    with h5py.File(grey_file, "r") as handle:
        assert set(handle) == {"train", "dev", "test"}
        assert handle["train/images"].shape == (500, 28, 28) and handle["train/images"].dtype == np.uint8
        assert handle["test/images"].shape == (300, 28, 28)
        assert np.array_equal(handle["train/source_index"][()], train_digits.source_index)
        assert np.array_equal(handle["dev/images"][()], dev_digits.images)
        assert (handle["test/bg_color"][()] == 0).all() and set(handle["test/bg_mode"][()]) == {b"grey"}
        assert handle.attrs["seed"] == 0


def test_trained_model_learned_the_digits(trained: LeNet, test_batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, y = test_batch
    assert (trained(x).argmax(1) == y).float().mean() > 0.6


class Scaled(torch.nn.Module):
    """A model whose logits are multiplied by `factor`: the same predictions, far more confident."""

    def __init__(self, model: torch.nn.Module, factor: float) -> None:
        super().__init__()
        self.model, self.factor = model, factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) * self.factor


def input_gradient(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, loss) -> torch.Tensor:
    probe = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(model(probe), y), probe)
    return grad


def float64_reference(model: LeNet, factor: float, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The cross-entropy gradient in float64 (model and images), and the images where float64 computes it exactly:
    1 - p_true above 1e-9, so that the true class's term is not rounded away."""
    double = Scaled(copy.deepcopy(model).double(), factor)
    grad = input_gradient(double, x.double(), y, lambda z, t: F.cross_entropy(z, t, reduction="sum"))
    with torch.no_grad():
        exact = 1 - double(x.double()).softmax(1).gather(1, y[:, None])[:, 0] > 1e-9
    return grad, exact


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.3])
def test_fgsm_is_clipped_sign_step_of_the_loss_gradient(
    trained: LeNet, test_batch: tuple[torch.Tensor, torch.Tensor], epsilon: float
) -> None:
    x, y = test_batch
    reference, exact = float64_reference(trained, 1.0, x, y)
    expected = torch.clamp(x + epsilon * reference.sign().float(), 0, 1)
    adversarial = fgsm(trained, x, y, epsilon, FGSM)
    assert exact.float().mean() > 0.9 and torch.equal(adversarial[exact], expected[exact])
    assert (adversarial - x).abs().max() <= epsilon + 1e-7
    assert adversarial.min() >= 0 and adversarial.max() <= 1
    if epsilon:
        assert ((adversarial - x).abs() > epsilon / 2).float().mean() > 0.1


def test_fgsm_gradient_stays_exact_on_an_over_confident_model(trained: LeNet, grey_file: Path) -> None:
    """Logits x 8: float32's softmax rounds p_true to 1 on many images, float64's is still exact on most."""
    test = read_grey_split(grey_file, "test")
    x, y = torch.from_numpy(test.images[:, None]).float() / 255, torch.from_numpy(test.labels)
    confident = Scaled(trained, 8.0)
    reference, exact = float64_reference(trained, 8.0, x, y)
    with torch.no_grad():
        saturated = confident(x).softmax(1).gather(1, y[:, None])[:, 0] == 1
    assert (exact & saturated).sum() >= 10, "the case under test: float32 saturated, float64 exact"
    ours = input_gradient(confident, x, y, lambda z, t: LOSSES["ce"](z, t).sum())
    float32 = input_gradient(confident, x, y, lambda z, t: F.cross_entropy(z, t, reduction="sum"))
    agree = (ours.sign() == reference.sign().float())[exact].float().mean()
    assert agree >= 0.999
    # what the fix is for: autograd's float32 cross-entropy loses the true class's term on saturated images
    assert (float32.sign() == reference.sign().float())[exact & saturated].float().mean() < 0.95

    def success(adversarial: torch.Tensor) -> float:
        with torch.no_grad():
            return (confident(adversarial).argmax(1) != y)[exact].float().mean().item()

    ours_success = success(fgsm(confident, x, y, 0.2, FGSM))
    assert abs(ours_success - success((x + 0.2 * reference.sign().float()).clamp(0, 1))) <= 0.01


def test_fgsm_on_logits_scaled_by_100_succeeds_like_the_margin_loss(trained: LeNet, grey_file: Path) -> None:
    """Float32 and float64 cross-entropy both saturate at logits x 100; the direction loss and the margin do not."""
    test = read_grey_split(grey_file, "test")
    x, y = torch.from_numpy(test.images[:, None]).float() / 255, torch.from_numpy(test.labels)
    confident = Scaled(trained, 100.0)

    def success(loss: str) -> float:
        with torch.no_grad():
            return (confident(fgsm(confident, x, y, 0.2, FGSMSettings(loss))).argmax(1) != y).float().mean().item()

    saturated = (x + 0.2 * input_gradient(confident, x, y, lambda z, t: F.cross_entropy(z, t, reduction="sum")).sign())
    with torch.no_grad():
        saturated_success = (confident(saturated.clamp(0, 1)).argmax(1) != y).float().mean().item()
    assert success("ce") >= success("margin") - 0.02
    assert success("ce") >= saturated_success + 0.2


def test_cw_margin_masks_the_true_class_on_negative_logits() -> None:
    logits = torch.tensor([[-5.0, -1.0, -3.0], [-5.0, -1.0, -3.0], [-0.5, -4.0, -2.0]])
    labels = torch.tensor([1, 0, 0])
    # best other class: -3 (not 0, the masked-out true class times 0), -1, -2
    assert torch.equal(cw_margin(logits, labels, kappa=0.0), torch.tensor([2.0, 0.0, 1.5]))
    assert torch.equal(cw_margin(logits, labels, kappa=10.0), torch.tensor([2.0, -4.0, 1.5]))


def test_cw_stays_in_the_unit_box_and_succeeds_more_often_as_c_grows(
    trained: LeNet, test_batch: tuple[torch.Tensor, torch.Tensor]
) -> None:
    x, y = test_batch
    spec = cw_settings(steps=30)
    rates, sizes = [], []
    for c in (0.05, 0.5, 5.0):
        adversarial = cw_l2(trained, x, y, c, spec)
        assert adversarial.min() >= 0 and adversarial.max() <= 1
        success = trained(adversarial).argmax(1) != y
        rates.append(success.float().mean().item())
        sizes.append((adversarial - x).flatten(1).norm(dim=1))
        unchanged = ~success & (sizes[-1] > 0)
        assert not unchanged.any(), "a failed image must be returned clean"
    assert rates == sorted(rates) and rates[-1] > rates[0] + 0.3 and rates[-1] > 0.85


def test_cw_early_abort_stops_when_the_loss_stalls(
    trained: LeNet, test_batch: tuple[torch.Tensor, torch.Tensor], caplog: pytest.LogCaptureFixture
) -> None:
    x, y = test_batch
    # with a tiny c the clean image is the optimum: no window after the first lowers the loss
    with caplog.at_level("INFO", logger="bgbias"):
        cw_l2(trained, x[:10], y[:10], 0.001, cw_settings(abort_early=False))
        assert "abort" not in caplog.text
        cw_l2(trained, x[:10], y[:10], 0.001, cw_settings())
    assert "CW: loss stopped improving, abort after 20 of 100 steps" in caplog.text


def test_attack_images_reports_sizes_success_and_predictions(
    trained: LeNet, grey_file: Path
) -> None:
    test = read_grey_split(grey_file, "test")
    result = attack_images(
        trained, test.images[:70], test.labels[:70], attack=Attack.parse("fgsm-0.2"), settings=FGSM, batch_size=32,
        device=CPU,
    )
    clean = test.images[:70].astype(np.float32) / 255
    delta = (result["images"] - clean).reshape(70, -1)
    assert result["images"].dtype == np.float32 and result["images"].shape == (70, 28, 28)
    assert np.allclose(result["l2"], np.linalg.norm(delta, axis=1), atol=1e-5)
    assert np.allclose(result["linf"], np.abs(delta).max(1)) and result["linf"].max() <= 0.2 + 1e-6
    assert np.array_equal(result["success"], result["adversarial_prediction"] != test.labels[:70])
    assert (result["clean_prediction"] == test.labels[:70]).mean() > 0.6


def test_attack_names_and_their_errors() -> None:
    names = attack_names({"fgsm_epsilons": [0, 0.1, 0.5], "cw_c": [0.1, 1.0, 5]})
    assert names == ["fgsm-0", "fgsm-0.1", "fgsm-0.5", "cw-0.1", "cw-1", "cw-5"]
    assert Attack.parse("cw-0.5") == Attack.of("cw", 0.5) and Attack.parse("cw-0.5").kind.strengths_key == "cw_c"
    allowed = "allowed: fgsm-<one of fgsm_epsilons> or cw-<one of cw_c>"
    with pytest.raises(ValueError, match=rf"attack name 'pgd-0.1' is not allowed; {allowed}"):
        Attack.parse("pgd-0.1")
    with pytest.raises(ValueError, match=rf"attack name 'fgsm-x' is not allowed; {allowed}"):
        Attack.parse("fgsm-x")
    with pytest.raises(ValueError, match=r"attack 'pgd' is unknown; allowed: fgsm, cw"):
        Attack.of("pgd", 0.1)


def test_attacked_subset_is_seeded_and_capped() -> None:
    first = attacked_subset(500, 40, seed=0, split="train")
    assert len(first) == 40 and len(set(first)) == 40 and np.all(np.diff(first) > 0)
    assert np.array_equal(first, attacked_subset(500, 40, seed=0, split="train"))
    assert not np.array_equal(first, attacked_subset(500, 40, seed=1, split="train"))
    assert np.array_equal(attacked_subset(30, 40, seed=0, split="train"), np.arange(30))
    assert np.array_equal(attacked_subset(30, None, seed=0, split="train"), np.arange(30))


def test_adversarial_set_file(tmp_path: Path, trained: LeNet, grey_file: Path) -> None:
    attack_config = {
        "train_size": 40, "dev_size": 20, "test_size": 30, "batch_size": 25,
        "fgsm_loss": "ce", "cw_steps": 20, "cw_lr": 0.1, "cw_kappa": 0.0, "cw_abort_early": True,
    }
    paths = {}
    for attack in map(Attack.parse, ("fgsm-0", "fgsm-0.3", "cw-5")):
        paths[attack.name] = tmp_path / f"{attack.name}.h5"
        make_adversarial_set(
            paths[attack.name], trained, grey_dataset=grey_file, attack=attack, attack_config=attack_config, seed=0,
            device=CPU, inputs=[],
        )
    grey_test = read_grey_split(grey_file, "test")
    with h5py.File(paths["fgsm-0.3"], "r") as handle:
        assert set(handle) == {"train", "dev", "test"} and handle.attrs["attack"] == "fgsm"
        assert handle.attrs["strength"] == 0.3 and handle.attrs["seed"] == 0
        test = {key: handle["test"][key][()] for key in handle["test"]}
    assert {len(values) for values in test.values()} == {30}
    assert test["images"].dtype == np.float32 and test["images"].shape == (30, 28, 28)
    index = test["grey_index"]
    assert np.array_equal(index, attacked_subset(300, 30, 0, "test"))
    assert np.array_equal(test["labels"], grey_test.labels[index])
    assert np.array_equal(test["source_index"], grey_test.source_index[index])
    assert np.allclose(test["linf"], 0.3, atol=1e-6) and (test["bg_color"] == -1).all()
    assert set(test["bg_mode"]) == {b"fgsm-0.3"}

    with h5py.File(paths["fgsm-0"], "r") as handle:
        clean = handle["train/images"][()]
        assert (handle["train/l2"][()] == 0).all() and (handle["train/bg_color"][()] == 0).all()
    grey_train = read_grey_split(grey_file, "train")
    assert np.array_equal(clean, grey_train.images[attacked_subset(500, 40, 0, "train")] / np.float32(255))

    summary = attack_summary(paths["cw-5"]).set_index("split")
    assert list(summary.index) == ["train", "dev", "test"] and list(summary["n"]) == [40, 20, 30]
    read = read_grey_split(paths["cw-5"], "test")
    assert summary.loc["test", "success_rate"] > 0.5
    with h5py.File(paths["cw-5"], "r") as handle:
        assert summary.loc["test", "mean_l2"] == pytest.approx(handle["test/l2"][()].mean())
    assert read.images.min() >= 0 and read.images.max() <= 1


def test_matches_the_adversarial_robustness_toolbox(
    trained: LeNet, test_batch: tuple[torch.Tensor, torch.Tensor]
) -> None:
    art_evasion = pytest.importorskip("art.attacks.evasion")
    from art.estimators.classification import PyTorchClassifier

    x, y = test_batch
    classifier = PyTorchClassifier(
        trained, loss=torch.nn.CrossEntropyLoss(), input_shape=(1, 28, 28), nb_classes=10, clip_values=(0.0, 1.0)
    )
    with torch.no_grad():  # ART's float32 cross-entropy is exact where p_true is clearly below 1
        unsaturated = (trained(x).softmax(1).gather(1, y[:, None])[:, 0] < 1 - 1e-4).numpy()
    assert unsaturated.mean() > 0.8
    for epsilon in (0.1, 0.3):
        theirs = art_evasion.FastGradientMethod(classifier, eps=epsilon, batch_size=100).generate(x.numpy(), y=y.numpy())
        ours = fgsm(trained, x, y, epsilon, FGSM).numpy()
        assert (ours[unsaturated] == theirs[unsaturated]).mean() >= 0.999

    # ART's CW (gradient descent with a line search) is slow: 20 images, 30 steps, one constant
    x, y, c, steps, lr = x[:20], y[:20], 1.0, 30, 0.1
    theirs = torch.from_numpy(
        art_evasion.CarliniL2Method(
            classifier, confidence=0.0, learning_rate=lr, binary_search_steps=1, max_iter=steps,
            initial_const=c, batch_size=20, verbose=False,
        ).generate(x.numpy(), y=y.numpy())
    )
    ours = cw_l2(trained, x, y, c, cw_settings(steps=steps, lr=lr))
    success = {name: trained(a).argmax(1) != y for name, a in (("ours", ours), ("art", theirs))}
    sizes = {name: (a - x).flatten(1).norm(dim=1) for name, a in (("ours", ours), ("art", theirs))}
    both = success["ours"] & success["art"]
    assert success["art"].float().mean() > 0.3 and both.sum() >= 5
    assert success["ours"].float().mean() >= success["art"].float().mean() - 0.1
    # Adam converges faster than ART's line search: on the images both fooled, our L2 is at most as large
    ratio = sizes["ours"][both].mean() / sizes["art"][both].mean()
    assert 0.4 < ratio < 1.2, (success, sizes)

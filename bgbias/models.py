"""LeNet-5 style classifier, its inputs, predictions and checkpoints."""

from __future__ import annotations

import io
import pickle
import re
import warnings
from pathlib import Path
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

from bgbias import __version__
from bgbias.errors import UserError
from bgbias.provenance import SUFFIX, verify
from bgbias.storage import KINDS, WrongKindError, atomic_path, file_kind


EVAL_BATCH = 1000  # images per forward pass when evaluating


class CheckpointError(UserError, RuntimeError):
    """A checkpoint that cannot be read or does not fit the expected model."""


class Classifier(nn.Module):
    """A 10-class image classifier on inputs in [0, 1] (normalised inside): `conv` layers, then `hidden` ending in
    the optional dropout (its output: the penultimate activations), then the linear `head`."""

    name = ""  # the model's name in MODELS and in checkpoints

    def __init__(self, in_channels: int, dropout: bool, dropout_p: float) -> None:
        super().__init__()
        self.arch = {"name": self.name, "in_channels": in_channels, "dropout": dropout, "dropout_p": dropout_p}
        self.register_buffer("mean", torch.full((1, in_channels, 1, 1), 0.5))
        self.register_buffer("std", torch.full((1, in_channels, 1, 1), 0.5))

    def dropout_layer(self, enabled: bool) -> nn.Module:
        return nn.Dropout(self.arch["dropout_p"]) if enabled else nn.Identity()

    def set_dropout(self, enabled: bool) -> None:
        """Switch the dropout before the last layer on or off (e.g. for paired fine-tuning)."""
        self.arch = {**self.arch, "dropout": enabled}
        self.hidden[-1] = self.dropout_layer(enabled)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations of images `x` (N, C, 28, 28) in [0, 1]."""
        return self.hidden(self.conv((x - self.mean) / self.std))

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(x)
        return self.head(features), features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class LeNet(Classifier):
    """conv6-5x5-pad2, pool, conv16-5x5, pool, fc120, fc84 (+dropout), fc10."""

    name = "lenet"

    def __init__(self, in_channels: int = 3, dropout: bool = True, dropout_p: float = 0.5) -> None:
        super().__init__(in_channels, dropout, dropout_p)
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.hidden = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            self.dropout_layer(dropout),
        )
        self.head = nn.Linear(84, 10)


class RebiasCNN(Classifier):
    """ReBias's vanilla network for Biased-MNIST (clovaai/rebias `SimpleConvNet`, kernel 7): four
    conv7x7-batchnorm-ReLU blocks of 16, 32, 64 and 128 channels at 28 x 28, global average pooling,
    fc10; convolutions initialised with Kaiming normal (fan out), batch norms with weight 1 and bias 0.
    About 0.83 GFLOP per image forward, 2.5 with the backward pass."""

    name = "rebias_cnn"
    kernel = 7

    def __init__(self, in_channels: int = 3, dropout: bool = False, dropout_p: float = 0.5) -> None:
        super().__init__(in_channels, dropout, dropout_p)
        widths = [in_channels, 16, 32, 64, 128]
        blocks = []
        for width_in, width_out in zip(widths, widths[1:]):
            conv = nn.Conv2d(width_in, width_out, self.kernel, padding=self.kernel // 2)
            blocks += [conv, nn.BatchNorm2d(width_out), nn.ReLU(inplace=True)]
        self.conv = nn.Sequential(*blocks)
        self.hidden = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), self.dropout_layer(dropout))
        self.head = nn.Linear(128, 10)
        for module in self.conv:
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)


MODELS: dict[str, type[Classifier]] = {model.name: model for model in (LeNet, RebiasCNN)}


def build_model(name: str, *, in_channels: int, dropout: bool) -> Classifier:
    """A fresh model of the registered kind `name`."""
    return MODELS[name](in_channels=in_channels, dropout=dropout)


def image_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """Images (N, 28, 28) or (N, 28, 28, 3), uint8 or float in [0, 1], as an (N, C, 28, 28) tensor on `device`."""
    tensor = torch.from_numpy(np.ascontiguousarray(images))
    tensor = tensor[:, None] if tensor.ndim == 3 else tensor.permute(0, 3, 1, 2)
    return tensor.contiguous().to(device)


def to_unit(batch: torch.Tensor) -> torch.Tensor:
    """uint8 pixels to float in [0, 1]; float pixels (adversarial images) are already in [0, 1]."""
    return batch.float().div_(255.0) if batch.dtype == torch.uint8 else batch.float()


def predict(model: Classifier, images: np.ndarray, device: torch.device) -> np.ndarray:
    """Predicted digits for images (uint8, or float in [0, 1])."""
    model.eval().to(device)
    tensor = image_tensor(images, device)
    with torch.no_grad():
        return torch.cat(
            [model(to_unit(tensor[s : s + EVAL_BATCH])).argmax(1).cpu() for s in range(0, len(tensor), EVAL_BATCH)]
        ).numpy()


def model_name(payload: dict) -> str:
    return payload["arch"].get("name", LeNet.name)


def one_line(error: Exception) -> str:
    """An exception's message with its line breaks and tabs folded into single spaces."""
    return " ".join(str(error).split())


def read_payload(source) -> dict:
    """A checkpoint's payload, read with `weights_only` (tensors and plain data: a pickle's code never runs); torch's
    notes on the pickle protocol are silenced, its errors raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.load(source, map_location="cpu", weights_only=True)


def not_plain(error: pickle.UnpicklingError) -> str:
    """What a `weights_only` load refused, as its error names it (`posix.system`), or ''."""
    found = re.search(r"GLOBAL (\S+)", str(error))
    return f" ({found.group(1)})" if found else ""


def save_checkpoint(path: Path, model: Classifier, metadata: dict, inputs: Iterable[Path] = ()) -> None:
    """Save weights, architecture and metadata (config slice, seed, version) atomically, with the checksum record
    (made from `inputs`). Serialised in memory and read back first, so that a payload `load_checkpoint` would refuse
    (anything but tensors and plain data) is an error here, and a full disk is reported by the file write."""
    payload = {"state_dict": model.state_dict(), "arch": model.arch, "bgbias_version": __version__, **metadata}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    try:
        read_payload(io.BytesIO(buffer.getvalue()))
    except pickle.UnpicklingError as error:
        raise TypeError(
            f"checkpoint {path} would hold objects other than tensors and plain data{not_plain(error)}"
        ) from None
    with atomic_path(path, inputs) as partial:
        partial.write_bytes(buffer.getvalue())


def load_checkpoint(path: Path, in_channels: int | None = None) -> tuple[Classifier, dict]:
    """Load a model; raise CheckpointError naming `path` when it is unreadable, holds more than tensors and plain data
    (a pickle's code is never run) or is of another architecture, WrongKindError when it is another kind of file."""
    verify(path)
    try:
        payload = read_payload(path)
    except Exception as error:  # torch raises many types for truncated or foreign files
        kind = file_kind(path)
        if kind not in ("checkpoint", "unknown"):
            raise WrongKindError(
                f"{path}: wrong kind of file: expected a model checkpoint, got {KINDS[kind]}"
            ) from None
        if isinstance(error, pickle.UnpicklingError) and "Weights only load failed" in str(error):
            raise CheckpointError(
                f"checkpoint {path} holds objects other than tensors and plain data{not_plain(error)}: bgbias "
                "never writes such a checkpoint, and did not load it (nothing in it ran); delete it and its "
                f"{SUFFIX} and rerun"
            ) from None
        raise CheckpointError(f"cannot read checkpoint {path}: {one_line(error)}") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("arch"), dict) or "state_dict" not in payload:
        raise CheckpointError(f"{path} is not a bgbias checkpoint (no 'arch'/'state_dict' entries)")
    arch = {"name": LeNet.name, **payload["arch"]}
    if arch["name"] not in MODELS:
        raise CheckpointError(f"checkpoint {path} holds a model {arch['name']!r}; known models: {', '.join(MODELS)}")
    if in_channels is not None and arch.get("in_channels") != in_channels:
        raise CheckpointError(
            f"checkpoint {path} is a {arch['name']} with {arch.get('in_channels')} input channel(s), "
            f"expected {in_channels}"
        )
    try:
        model = MODELS[arch.pop("name")](**arch)
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, TypeError, ValueError) as error:
        raise CheckpointError(
            f"checkpoint {path} does not match the {model_name(payload)} architecture {payload['arch']}: "
            f"{one_line(error)}"
        ) from error
    return model, {k: v for k, v in payload.items() if k != "state_dict"}

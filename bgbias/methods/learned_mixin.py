"""LearnedMixin + H (Clark et al. 2019) as ReBias runs it on Biased-MNIST: clovaai/rebias at commit
6a4f6abdd68e080a08737d93a3c4b43e0f0ce055, `criterions/comparison_methods.py` (`LearnedMixin`, entropy weight
w = 0.36), with `trainer.py` at 79d1d1d892412a5e3b07fbea8b776461bed0e096 and the README's recipe (the bias-only
network pretrained, `n_g_pretrain_epochs 5`, then fixed: `n_g_update 0`).

With g(x) = softplus(fc(h(x))), h the main model's penultimate features and b the fixed bias-only network's logits:
loss = CE(f(x) + g(x) * b(x), y) + w * H(softmax(g(x) * b(x))), which replaces the main model's plain CE. ReBias
adds the raw bias logits; Clark et al. add g(x) * log_softmax(b(x)) to log_softmax(f(x)): both differ only by a
constant per row, which neither the softmax nor the entropy sees, so the two losses are equal. The bias logits are
detached here (ReBias never steps the bias-only network after pretraining). At test time f(x) alone classifies.

One difference: here the gate `fc` trains with the main model, as Clark et al. intend. ReBias's
`Trainer._set_optimizer` means to add it (`if 'fc' in self.outer_criterion.__dict__`) but an nn.Module keeps its
submodules out of `__dict__`, so its gate's own weights keep their random initialisation (the gate still moves with
the features h); `mixin.fc.requires_grad_(False)` reproduces that.
"""

from __future__ import annotations


import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from bgbias.methods import MethodInfo
from bgbias.methods.bias_only import BiasOnlyCNN
from bgbias.methods.stage import MethodData, cross_entropy_step, dev_loss
from bgbias.models import Classifier, to_unit
from bgbias.training import TrainSpec, fit, fresh_model, seeded_torch

INFO = MethodInfo(
    name="learned_mixin", description="CE of a gated product of experts with a fixed colour-only network, plus an entropy penalty",
    supervision="none", implementation="bgbias.methods.learned_mixin:LearnedMixin",
)

ENTROPY_WEIGHT = 0.36


class LearnedMixin(nn.Module):
    """The LearnedMixin + H loss with its gate `fc` from the main model's penultimate features (`feature_dim`: 84 for
    LeNet, 128 for rebias_cnn); `fc` trains with the main model."""

    def __init__(self, feature_dim: int, entropy_weight: float = ENTROPY_WEIGHT) -> None:
        super().__init__()
        self.entropy_weight = entropy_weight
        self.fc = nn.Linear(feature_dim, 1)

    def forward(
        self, main_logits: torch.Tensor, main_features: torch.Tensor, bias_logits: torch.Tensor, *, labels: torch.Tensor
    ) -> torch.Tensor:
        scaled_bias = F.softplus(self.fc(main_features.flatten(1))) * bias_logits.detach()
        bias_log_p = F.log_softmax(scaled_bias, 1)
        entropy = -(bias_log_p.exp() * bias_log_p).sum(1).mean()
        return F.cross_entropy(main_logits + scaled_bias, labels) + self.entropy_weight * entropy


def train(train: MethodData, dev: MethodData, *, spec: TrainSpec, settings: dict, model_name: str, seed: int,
          device: torch.device) -> tuple[Classifier, pd.DataFrame, dict]:
    """The colour-only network trained first with cross-entropy for `bias_epochs` epochs and frozen (as ReBias does),
    then the main model with the LearnedMixin + H loss, its gate training with it. Early stopping on the main model's
    plain cross-entropy on the biased dev split."""
    with seeded_torch(seed + 1, device):
        bias = BiasOnlyCNN(in_channels=3).to(device)
    first = spec.fixed_budget(settings["bias_epochs"])
    fit(bias, cross_entropy_step(bias, train), len(train), dev_loss(bias, dev), spec=first, seed=seed, device=device)
    bias.eval()
    model = fresh_model(model_name, spec, in_channels=3, seed=seed, device=device)
    loss = LearnedMixin(model.head.in_features, entropy_weight=settings["entropy_weight"]).to(device)

    def step(index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, labels = to_unit(train.images[index]), train.labels[index]
        logits, features = model.forward_with_features(x)
        with torch.no_grad():
            bias_logits = bias(x)
        return loss(logits, features, bias_logits, labels=labels), (logits.argmax(1) == labels).sum()

    history = fit(model, step, len(train), dev_loss(model, dev), spec=spec, seed=seed, device=device,
                  extra_parameters=loss.parameters())
    return model, history, {}

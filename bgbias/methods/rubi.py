"""RUBi (Cadene et al. 2019) as ReBias runs it on Biased-MNIST: clovaai/rebias at commit
6a4f6abdd68e080a08737d93a3c4b43e0f0ce055, `criterions/comparison_methods.py` (`RUBi`), with `trainer.py`
(`outer_criterion='RUBi'`, `g_lambda_inner=0`) at 79d1d1d892412a5e3b07fbea8b776461bed0e096.

The bias-only logits come from RUBi's own linear head on the bias-only network's penultimate features, with no
gradient into that network (`grad_mul_const(g_feat, 0.0)`); the main model's loss is
CE(f(x) * sigmoid(b(x)), y) + question_loss_weight * CE(b(x), y), question_loss_weight 1, and replaces its plain CE
(ReBias does not add it). The bias-only network (`BiasOnlyCNN`) is trained at the same time with its own plain CE and
its own optimiser. At test time the main model's logits f(x) alone classify.

One difference: here the head `fc` trains with the main model, as RUBi intends. ReBias's `Trainer._set_optimizer`
means to add it (`if 'fc' in self.outer_criterion.__dict__`) but an nn.Module keeps its submodules out of
`__dict__`, so its head keeps its random initialisation; `rubi.fc.requires_grad_(False)` reproduces that.
"""

from __future__ import annotations

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from bgbias.methods import MethodInfo
from bgbias.methods.bias_only import BiasOnlyCNN
from bgbias.methods.stage import MethodData, dev_loss
from bgbias.models import Classifier, to_unit
from bgbias.training import OPTIMIZERS, TrainSpec, fit, fresh_model, seeded_torch

INFO = MethodInfo(
    name="rubi", description="CE of the logits masked by sigmoid of a colour-only network's logits, plus that network's CE",
    supervision="none", implementation="bgbias.methods.rubi:RUBi",
)


class RUBi(nn.Module):
    """The RUBi loss with its head `fc` from the bias-only features (`feature_dim`) to the bias-only logits; `fc`
    trains with the main model."""

    def __init__(self, feature_dim: int = 128, classes: int = 10, question_loss_weight: float = 1.0) -> None:
        super().__init__()
        self.question_loss_weight = question_loss_weight
        self.fc = nn.Linear(feature_dim, classes)

    def forward(self, main_logits: torch.Tensor, bias_features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        bias_logits = self.fc(bias_features.flatten(1).detach())
        fusion_loss = F.cross_entropy(main_logits * torch.sigmoid(bias_logits), labels)
        return fusion_loss + self.question_loss_weight * F.cross_entropy(bias_logits, labels)


def train(train: MethodData, dev: MethodData, *, spec: TrainSpec, settings: dict, model_name: str, seed: int,
          device: torch.device) -> tuple[Classifier, pd.DataFrame, dict]:
    """The main model with the RUBi loss, beside the colour-only network trained on the same batches with its own
    cross-entropy and optimiser (the same settings); RUBi's head trains with the main model. Early stopping on the
    main model's plain cross-entropy on the biased dev split (its logits alone, as at test time)."""
    model = fresh_model(model_name, spec, in_channels=3, seed=seed, device=device)
    with seeded_torch(seed + 1, device):
        bias = BiasOnlyCNN(in_channels=3).to(device)
        loss = RUBi(question_loss_weight=settings["question_loss_weight"]).to(device)
    bias_optimiser = OPTIMIZERS[spec.optimizer](bias.parameters(), spec)

    def step(index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, labels = to_unit(train.images[index]), train.labels[index]
        bias.train()
        bias_logits, bias_features = bias.forward_with_features(x)
        bias_optimiser.zero_grad(set_to_none=True)
        F.cross_entropy(bias_logits, labels).backward()
        bias_optimiser.step()
        logits = model(x)
        return loss(logits, bias_features.detach(), labels), (logits.argmax(1) == labels).sum()

    history = fit(model, step, len(train), dev_loss(model, dev), spec=spec, seed=seed, device=device,
                  extra_parameters=loss.parameters())
    return model, history, {}

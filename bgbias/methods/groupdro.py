"""Group DRO (Sagawa et al. 2020), the online algorithm of the official code: kohpangwei/group_DRO, loss.py,
`LossComputer.compute_group_avg` and `LossComputer.compute_robust_loss` (commit
e80fe2091895247d6a5c13697b4280e730575c5b; step size `--robust_step_size` 0.01 in run_expt.py at commit
547d2934a9b4b89f83a1b079e86ca2df8f478ae6).

Per batch, with loss_g the mean loss of group g's images in the batch (0 for a group not in the batch):
q_g <- q_g * exp(eta * loss_g) (loss detached), q <- q / sum(q), and the loss is sum_g q_g * loss_g with the updated
q; q starts uniform. Not carried over from the official code: its generalisation adjustment (`adj`, 0 by default),
loss normalisation and the greedy `btl` variant (both off by default). The official recipe also samples batches with
group-balanced weights (`--reweight_groups`, `data/dro_dataset.py` `get_loader` at e80fe20): `balanced_batches`
(default true). Without it, a group absent from a batch keeps its weight while the groups in every batch gain, so on a
biased set the weights drift to the aligned groups.
"""

from __future__ import annotations

import pandas as pd
import torch
import torch.nn.functional as F

from bgbias.methods import MethodInfo
from bgbias.methods.stage import MethodData, dev_loss
from bgbias.models import Classifier, to_unit
from bgbias.training import SampleOrder, TrainSpec, fit, fresh_model

INFO = MethodInfo(
    name="groupdro", description="online group DRO: exponentiated-gradient weights on the (digit, colour) groups' losses",
    supervision="group labels", implementation="bgbias.methods.groupdro:GroupDRO",
)

DIGITS = COLOURS = 10
GROUPS = DIGITS * COLOURS  # (digit, background colour index)


def group_index(labels: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
    """The group digit * 10 + colour of each image, `colours` its background's index in the colour pool (0..9);
    a ValueError when a background is not a pool colour (index -1, as `pool_index` gives)."""
    if (colours < 0).any() or (colours >= COLOURS).any():
        raise ValueError(
            f"{int(((colours < 0) | (colours >= COLOURS)).sum())} image(s) have no pool-colour background: "
            "their (digit, colour) group is undefined"
        )
    return labels * COLOURS + colours


class GroupDRO:
    """The robust loss with its group weights `q`, held across batches."""

    def __init__(self, groups: int = GROUPS, step_size: float = 0.01) -> None:
        self.step_size = step_size
        self.q = torch.full((groups,), 1.0 / groups)

    def group_losses(self, losses: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
        """The mean of the per-image `losses` over each group's images (0 for a group not in the batch)."""
        count = len(self.q)
        sums = losses.new_zeros(count).index_add(0, groups, losses)
        counts = torch.bincount(groups, minlength=count).to(losses.dtype)
        return sums / counts.clamp(min=1)

    def __call__(self, losses: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
        """Update q with the batch's per-image `losses` (N,) of `groups` (N,) and return sum_g q_g * loss_g."""
        group_loss = self.group_losses(losses, groups)
        weights = self.q.to(device=losses.device, dtype=losses.dtype) * torch.exp(self.step_size * group_loss.detach())
        self.q = weights / weights.sum()
        return group_loss @ self.q


def balanced_order(groups: torch.Tensor) -> SampleOrder:
    """The official recipe's group-balanced batches (`--reweight_groups`: a WeightedRandomSampler over the training set
    with weight 1 / (its group's size), with replacement): an epoch of len(groups) indices, each group as likely."""
    weights = 1.0 / torch.bincount(groups)[groups].double()
    return lambda generator: torch.multinomial(weights, len(groups), replacement=True, generator=generator)


def train(train: MethodData, dev: MethodData, *, spec: TrainSpec, settings: dict, model_name: str, seed: int,
          device: torch.device) -> tuple[Classifier, pd.DataFrame, dict]:
    """A fresh model trained with the robust loss over the (digit, background colour) groups of the training split,
    on group-balanced batches when `balanced_batches` (the official recipe), early stopping on the biased dev split's
    mean cross-entropy; the metadata holds the final group weights."""
    model = fresh_model(model_name, spec, in_channels=3, seed=seed, device=device)
    groups = group_index(train.labels, train.colours)
    robust = GroupDRO(step_size=settings["step_size"])

    def step(index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = model(to_unit(train.images[index]))
        losses = F.cross_entropy(logits, train.labels[index], reduction="none")
        return robust(losses, groups[index]), (logits.argmax(1) == train.labels[index]).sum()

    order = balanced_order(groups.cpu()) if settings["balanced_batches"] else None
    history = fit(model, step, len(train), dev_loss(model, dev), spec=spec, seed=seed, device=device, sample_order=order)
    return model, history, {"group_weights": robust.q.tolist()}

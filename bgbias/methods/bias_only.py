"""The bias-only network of RUBi and LearnedMixin: ReBias's "biased" Biased-MNIST model, its `SimpleConvNet` with
kernel size 1 (clovaai/rebias at commit f9e5639a7557ff5ef1792303ed45480749f2a020, `models/mnist_models.py`; the
kernel size from `main_biased_mnist.py`, `g_kernel_size=1`). With 1 x 1 convolutions and global average pooling it
sees each pixel's colour and not the digit's shape: its output does not change when the pixels are shuffled.
"""

from __future__ import annotations

from torch import nn

from bgbias.models import Classifier


class BiasOnlyCNN(Classifier):
    """Four conv1x1-batchnorm-ReLU blocks of 16, 32, 64 and 128 channels, global average pooling (the 128
    penultimate features), fc10; initialised as ReBias's (Kaiming normal fan-out, batch norms 1 and 0)."""

    name = "bias_only_cnn"

    def __init__(self, in_channels: int = 3, dropout: bool = False, dropout_p: float = 0.5) -> None:
        super().__init__(in_channels, dropout, dropout_p)
        widths = [in_channels, 16, 32, 64, 128]
        blocks = []
        for width_in, width_out in zip(widths, widths[1:]):
            blocks += [nn.Conv2d(width_in, width_out, 1), nn.BatchNorm2d(width_out), nn.ReLU(inplace=True)]
        self.conv = nn.Sequential(*blocks)
        self.hidden = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), self.dropout_layer(dropout))
        self.head = nn.Linear(128, 10)
        for module in self.conv:
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)

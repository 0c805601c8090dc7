"""The bias-only network of RUBi and LearnedMixin: ReBias's "biased" Biased-MNIST model, its `SimpleConvNet` with
kernel size 1 (clovaai/rebias at commit f9e5639a7557ff5ef1792303ed45480749f2a020, `models/mnist_models.py`; the
kernel size from `main_biased_mnist.py`, `g_kernel_size=1`). With 1 x 1 convolutions and global average pooling it
sees each pixel's colour and not the digit's shape: its output does not change when the pixels are shuffled.
"""

from __future__ import annotations

from bgbias.models import RebiasCNN


class BiasOnlyCNN(RebiasCNN):
    """ReBias's net with 1 x 1 convolutions: four conv1x1-batchnorm-ReLU blocks of 16, 32, 64 and 128 channels,
    global average pooling (the 128 penultimate features), fc10; initialised as ReBias's."""

    name = "bias_only_cnn"
    kernel = 1

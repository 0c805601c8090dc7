"""bgbias: background-bias experiments on coloured MNIST."""

__version__ = "0.1.0"

"""zeroforge: train AlphaZero-style networks (Leela Zero first) with PyTorch."""

__version__ = "0.1.0"

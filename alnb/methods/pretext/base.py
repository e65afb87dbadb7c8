"""What every pretext model shares: pixel scaling, the encoder, a convolutional decoder and its interface.

A pretext model works on images scaled to [0, 1] (``float``, ``[b, C, H, W]``). Its encoder sees them
standardised with the pool's per-channel mean and std, which the model keeps as buffers so its
``state_dict`` is self-contained.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn

from alnb.models.networks import build_backbone


class PretextModel(nn.Module, ABC):
    """Base of the pretext models: an encoder from :func:`alnb.models.networks.build_backbone` on standardised pixels.

    Subclasses implement ``training_loss`` (train mode, may draw from ``generator``) and ``evaluate``
    (eval mode, deterministic): per-sample loss, embedding, and per-sample quantities whose pool mean
    becomes a metric.
    """

    def __init__(self, arch: str, in_channels: int, image_size: int, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.encoder = build_backbone(arch, in_channels, image_size)
        self.register_buffer("pixel_mean", mean.reshape(1, -1, 1, 1).float().clone())
        self.register_buffer("pixel_std", std.reshape(1, -1, 1, 1).float().clone())

    @property
    def feature_dim(self) -> int:
        return self.encoder.feature_dim

    def standardize(self, x01: torch.Tensor) -> torch.Tensor:
        return (x01 - self.pixel_mean) / self.pixel_std

    def features(self, x01: torch.Tensor) -> torch.Tensor:
        """Encoder features of images in [0, 1]."""
        return self.encoder(self.standardize(x01))

    @abstractmethod
    def training_loss(self, x01: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Per-sample training losses ``[b]``."""

    @abstractmethod
    def evaluate(self, x01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """``(losses [b], embeddings [b, d], {metric: per-sample values [b]})`` in eval mode."""


def upsampling_plan(size: int) -> tuple[int, int]:
    """``(start, steps)``: halve ``size`` while it is even and above 4, so ``start · 2**steps == size``.

    8 → (4, 1), 14 → (7, 1), 16 → (4, 2), 28 → (7, 2), 32 → (4, 3), 64 → (4, 4).
    """
    start, steps = size, 0
    while start % 2 == 0 and start > 4:
        start //= 2
        steps += 1
    return start, steps


class ConvDecoder(nn.Module):
    """A vector ``[b, d]`` to an image ``[b, C, size, size]`` in (0, 1) (DCGAN-style transposed convolutions).

    A linear layer makes a ``width``-channel map of side ``start``; each 4×4 stride-2 transposed
    convolution doubles the side and halves the channels (at least 16); a 3×3 convolution and a
    sigmoid give the pixels. Returns logits with ``logits=True``.
    """

    def __init__(self, in_dim: int, out_channels: int, size: int, width: int):
        super().__init__()
        start, steps = upsampling_plan(size)
        self.start, self.width = start, width
        self.project = nn.Sequential(nn.Linear(in_dim, width * start * start), nn.ReLU(inplace=True))
        layers: list[nn.Module] = []
        channels = width
        for _ in range(steps):
            out = max(channels // 2, 16)
            layers += [
                nn.ConvTranspose2d(channels, out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
            ]
            channels = out
        layers.append(nn.Conv2d(channels, out_channels, 3, padding=1))
        self.layers = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, logits: bool = False) -> torch.Tensor:
        out = self.layers(self.project(z).reshape(-1, self.width, self.start, self.start))
        return out if logits else torch.sigmoid(out)

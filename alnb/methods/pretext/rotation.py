"""Rotation prediction (Gidaris, Singh, Komodakis, "Unsupervised representation learning by predicting
image rotations", ICLR 2018).

Every image is shown at 0°, 90°, 180° and 270° and a linear head on the encoder classifies the
rotation. A sample's loss is the mean cross-entropy over its four rotations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from alnb.methods.pretext.base import PretextModel
from alnb.methods.pretext.training import pretext_task

N_ROTATIONS = 4


def rotated_batch(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``[4b, C, H, W]`` images (rotation-major: all 0°, then all 90° …) and their rotation labels ``[4b]``."""
    views = torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in range(N_ROTATIONS)])
    labels = torch.arange(N_ROTATIONS, device=x.device).repeat_interleave(x.shape[0])
    return views, labels


class RotationModel(PretextModel):
    """Encoder + linear 4-way rotation classifier."""

    def __init__(self, arch: str, in_channels: int, image_size: int, mean: torch.Tensor, std: torch.Tensor):
        super().__init__(arch, in_channels, image_size, mean, std)
        self.head = nn.Linear(self.feature_dim, N_ROTATIONS)

    def _forward(self, x01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-sample mean cross-entropy ``[b]``, per-sample accuracy over the 4 rotations ``[b]``, 0° features."""
        views, labels = rotated_batch(x01)
        features = self.features(views)
        logits = self.head(features)
        losses = F.cross_entropy(logits, labels, reduction="none").reshape(N_ROTATIONS, -1).mean(dim=0)
        correct = (logits.argmax(dim=1) == labels).float().reshape(N_ROTATIONS, -1).mean(dim=0)
        return losses, correct, features[: x01.shape[0]]

    def training_loss(self, x01: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self._forward(x01)[0]

    def evaluate(self, x01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        losses, correct, features = self._forward(x01)
        return losses, features, {"rotation_accuracy": correct}


def build(arch: str, in_channels: int, image_size: int, mean: torch.Tensor, std: torch.Tensor) -> RotationModel:
    return RotationModel(arch, in_channels, image_size, mean, std)


pretext_task("rotation", "Gidaris, Singh, Komodakis, ICLR 2018", build, epochs=10, batch_size=128)

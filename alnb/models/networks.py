"""Classifiers of the study: a ResNet18 adapted to small images and a small CNN for 8×8 / 28×28.

Every classifier is ``head(dropout(backbone(x)))``: ``embed(x)`` returns the penultimate features
(Coreset, BADGE, TypiClust, maps), and the single ``nn.Dropout`` before the head is what MC dropout
switches on (DBAL, BALD).
"""

from __future__ import annotations

import torch
from torch import nn

ARCHITECTURES = ("smallcnn", "resnet18")


class SmallCNN(nn.Module):
    """Two 3×3 conv blocks (32, 64 channels; BatchNorm, ReLU, 2×2 max-pool), a spatial map of at most 4×4
    cells, then a 128-unit dense layer: the LeNet-5 layout (LeCun et al., 1998) with BatchNorm.

    Keeping the spatial map (instead of global average pooling) keeps where strokes are, which digits need;
    the same network fits 8×8 digits (a 2×2 map), 28×28 MNIST (7×7 pooled to 4×4) and 32×32 CIFAR (8×8 pooled
    to 4×4; ``model.arch: smallcnn``, params/cifar10_cpu.yaml) and trains in seconds on a CPU.
    """

    feature_dim = 128

    def __init__(self, in_channels: int, image_size: int):
        super().__init__()

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]

        pooled = image_size // 2 // 2
        grid = max(1, min(4, pooled))
        # Where the map already has the grid's size the pool would be an identity with a costly backward
        # (about 6% of a step on 8×8 digits); nn.Identity keeps the layer indices of the state dict.
        to_grid = nn.Identity() if pooled == grid else nn.AdaptiveAvgPool2d(grid)
        self.layers = nn.Sequential(
            *block(in_channels, 32),
            *block(32, 64),
            to_grid,
            nn.Flatten(),
            nn.Linear(64 * grid * grid, self.feature_dim),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def resnet18_backbone(in_channels: int, image_size: int) -> nn.Module:
    """ResNet18 (He et al., CVPR 2016) without its classifier: 512 features.

    Below 64×64 pixels the stem is the CIFAR one (3×3 conv, stride 1, no max-pool); from 64×64 up the
    standard ImageNet stem (7×7 stride 2, max-pool) is kept.
    """
    from torchvision.models import resnet18  # importing torchvision costs ~1.7 s (it loads torch._dynamo)

    net = resnet18(weights=None)
    if image_size < 64:
        net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
    elif in_channels != 3:
        net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    net.fc = nn.Identity()
    net.feature_dim = 512
    return net


def resolve_arch(arch: str, image_size: int) -> str:
    """``auto`` means the small CNN up to 28×28 pixels and ResNet18 above."""
    if arch == "auto":
        return "smallcnn" if image_size <= 28 else "resnet18"
    if arch not in ARCHITECTURES:
        raise ValueError(f"model.arch: unknown architecture {arch!r}; valid: auto, {', '.join(ARCHITECTURES)}")
    return arch


def resolve_pretext_arch(pretext_arch: str, model_arch: str, image_size: int) -> str:
    """The self-supervised encoders' architecture: ``auto`` follows ``model.arch`` (itself resolved by the image
    size), so a study that picks the small CNN for speed also trains small-CNN encoders."""
    return resolve_arch(model_arch if pretext_arch == "auto" else pretext_arch, image_size)


def build_backbone(arch: str, in_channels: int, image_size: int) -> nn.Module:
    """A feature extractor with attribute ``feature_dim``; shared by classifiers and pretext models."""
    arch = resolve_arch(arch, image_size)
    if arch == "smallcnn":
        return SmallCNN(in_channels, image_size)
    return resnet18_backbone(in_channels, image_size)


class Classifier(nn.Module):
    """``head(dropout(backbone(x)))`` with ``embed`` exposing the penultimate features."""

    def __init__(self, backbone: nn.Module, n_classes: int, dropout: float):
        super().__init__()
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(backbone.feature_dim, n_classes)

    @property
    def feature_dim(self) -> int:
        return self.backbone.feature_dim

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.embed(x)))


def build_classifier(
    arch: str, in_channels: int, image_size: int, n_classes: int, dropout: float = 0.3, seed: int | None = None
) -> Classifier:
    """A freshly initialised classifier; with ``seed`` its weights depend on that seed only."""
    if seed is None:
        return Classifier(build_backbone(arch, in_channels, image_size), n_classes, dropout)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Classifier(build_backbone(arch, in_channels, image_size), n_classes, dropout)


def resolve_device(device: str = "auto") -> torch.device:
    """``auto``: CUDA when present, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)

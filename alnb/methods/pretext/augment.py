"""SimCLR's augmentations as batch tensor operations on images in [0, 1] (Chen et al., ICML 2020, App. A).

Every function takes ``[b, C, H, W]`` and, for the random ones, a ``torch.Generator`` on the images'
device; each sample draws its own parameters. Colour operations apply to 3-channel images only.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from alnb.models.training import random_resized_crop

# ITU-R BT.601 luma weights (as torchvision's rgb_to_grayscale) and the RGB ↔ YIQ matrices for hue rotation.
_LUMA = (0.299, 0.587, 0.114)
_RGB_TO_YIQ = ((0.299, 0.587, 0.114), (0.596, -0.274, -0.322), (0.211, -0.523, 0.312))


def _uniform(b: int, low: float, high: float, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return low + (high - low) * torch.rand(b, generator=generator, device=device)


def _per_sample(values: torch.Tensor) -> torch.Tensor:
    return values.reshape(-1, 1, 1, 1)


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma of RGB images, repeated over the 3 channels."""
    luma = torch.tensor(_LUMA, device=x.device, dtype=x.dtype).reshape(1, 3, 1, 1)
    return (x * luma).sum(dim=1, keepdim=True).expand_as(x)


def adjust_colour(
    x: torch.Tensor, brightness: torch.Tensor, contrast: torch.Tensor, saturation: torch.Tensor, hue: torch.Tensor
) -> torch.Tensor:
    """Per-sample brightness, contrast and saturation factors and hue shift (fraction of a turn), in that order."""
    x = (x * _per_sample(brightness)).clamp(0.0, 1.0)
    grey_mean = grayscale(x).mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - grey_mean) * _per_sample(contrast) + grey_mean).clamp(0.0, 1.0)
    grey = grayscale(x)
    x = ((x - grey) * _per_sample(saturation) + grey).clamp(0.0, 1.0)
    to_yiq = torch.tensor(_RGB_TO_YIQ, device=x.device, dtype=x.dtype)
    angle = 2.0 * math.pi * hue
    cos, sin = torch.cos(angle), torch.sin(angle)
    rotation = torch.zeros(x.shape[0], 3, 3, device=x.device, dtype=x.dtype)
    rotation[:, 0, 0] = 1.0
    rotation[:, 1, 1], rotation[:, 1, 2], rotation[:, 2, 1], rotation[:, 2, 2] = cos, -sin, sin, cos
    transform = torch.linalg.inv(to_yiq) @ rotation @ to_yiq  # [b, 3, 3] acting on RGB
    return torch.einsum("bij,bjhw->bihw", transform, x).clamp(0.0, 1.0)


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur with a per-sample ``sigma``; kernel side: the odd number near 10% of the image, ≥ 3."""
    b, c, h, w = x.shape
    size = max(3, int(0.1 * h) // 2 * 2 + 1)
    offsets = torch.arange(size, device=x.device, dtype=x.dtype) - size // 2
    kernel = torch.exp(-offsets.square() / (2.0 * sigma.reshape(-1, 1).square()))
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(c, dim=0)  # [b·c, size]
    flat = F.pad(x.reshape(1, b * c, h, w), (size // 2,) * 4, mode="reflect")
    flat = F.conv2d(flat, kernel.reshape(b * c, 1, size, 1), groups=b * c)
    flat = F.conv2d(flat, kernel.reshape(b * c, 1, 1, size), groups=b * c)
    return flat.reshape(b, c, h, w)


def simclr_view(
    x: torch.Tensor,
    generator: torch.Generator,
    crop_scale: tuple[float, float] = (0.2, 1.0),
    jitter_strength: float = 0.5,
) -> torch.Tensor:
    """One random view: resized crop, horizontal flip (p 0.5), colour jitter (p 0.8: brightness, contrast,
    saturation 0.8·s, hue 0.2·s), greyscale (p 0.2), Gaussian blur (p 0.5, σ ∈ [0.1, 2])."""
    b, device = x.shape[0], x.device

    def chosen(p: float) -> torch.Tensor:
        return _per_sample(torch.rand(b, generator=generator, device=device) < p)

    x = random_resized_crop(x, x.shape[-1], generator, crop_scale)
    x = torch.where(chosen(0.5), x.flip(3), x)
    if x.shape[1] == 3:
        s = jitter_strength
        factors = [_uniform(b, max(0.0, 1 - 0.8 * s), 1 + 0.8 * s, generator, device) for _ in range(3)]
        jittered = adjust_colour(x, *factors, _uniform(b, -0.2 * s, 0.2 * s, generator, device))
        x = torch.where(chosen(0.8), jittered, x)
        x = torch.where(chosen(0.2), grayscale(x), x)
    blurred = gaussian_blur(x, _uniform(b, 0.1, 2.0, generator, device))
    return torch.where(chosen(0.5), blurred, x)


def fixed_views(x: torch.Tensor) -> list[torch.Tensor]:
    """The deterministic augmentations used to score: horizontal flip, blur (σ = 1), and for RGB images a
    colour jitter with fixed factors (brightness 1.2, contrast 0.8, saturation 0.8, hue +0.05) and greyscale."""
    b = x.shape[0]

    def constant(value: float) -> torch.Tensor:
        return torch.full((b,), value, device=x.device, dtype=x.dtype)

    views = [x.flip(3), gaussian_blur(x, constant(1.0))]
    if x.shape[1] == 3:
        views += [adjust_colour(x, constant(1.2), constant(0.8), constant(0.8), constant(0.05)), grayscale(x)]
    return views

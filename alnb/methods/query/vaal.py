"""VAAL: variational adversarial active learning (Sinha, Ebrahimi, Darrell, ICCV 2019).

A β-VAE is trained on L ∪ U to reconstruct images and, adversarially, to make a discriminator on its
latent means call unlabeled samples "labeled"; the discriminator learns labeled vs unlabeled. The
unlabeled samples the discriminator finds least likely to be labeled are queried.

As in the original: latent size 32, Adam with learning rate 5e-4, batches of 64 labeled and 64
unlabeled images, two VAE steps then one discriminator step per iteration, adversarial weight 1, a
three-layer MLP discriminator with 512 hidden units. The original's encoder and decoder are four
strided convolutions (128 to 1024 channels) for 32×32 images; here the number of strided convolutions
follows the image size (8×8 to 64×64, padded to a power of two) and the width is an option. The loss
per batch is the mean squared reconstruction error per pixel plus β times the KL divergence summed over
latent dimensions and averaged over the batch. Unlike the original, each labeled and unlabeled batch
pass through the VAE together, so BatchNorm cannot give the discriminator a batch-statistics cue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from alnb.core.threads import one_cpu_thread


@dataclass(frozen=True)
class VaalConfig:
    """Training settings; ``epochs`` counts passes over L ∪ U in batches of ``batch_size``."""

    epochs: float = 5.0
    latent_dim: int = 32
    lr: float = 5e-4
    batch_size: int = 64
    beta: float = 1.0
    adversary_weight: float = 1.0
    vae_steps: int = 2
    discriminator_steps: int = 1
    width: int = 32


def padded_size(image_size: int) -> int:
    """The power of two (at least 8) the images are zero-padded to: 8→8, 28→32, 32→32, 64→64."""
    return max(8, 1 << math.ceil(math.log2(image_size)))


class VaalVAE(nn.Module):
    """Convolutional β-VAE: strided convolutions down to 4×4, a Gaussian latent, transposed convolutions back."""

    def __init__(self, in_channels: int, image_size: int, latent_dim: int, width: int):
        super().__init__()
        self.image_size = image_size
        self.pad = padded_size(image_size) - image_size
        n_down = int(math.log2(padded_size(image_size))) - 2
        channels = [in_channels] + [width * 2 ** min(i, 3) for i in range(n_down)]
        down: list[nn.Module] = []
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            down += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        self.encoder = nn.Sequential(*down, nn.Flatten())
        self.bottleneck_shape = (channels[-1], 4, 4)
        flat = channels[-1] * 16
        self.to_mu = nn.Linear(flat, latent_dim)
        self.to_logvar = nn.Linear(flat, latent_dim)
        self.from_latent = nn.Linear(latent_dim, flat)
        up: list[nn.Module] = []
        for c_in, c_out in zip(channels[:1:-1], channels[-2:0:-1]):
            up += [
                nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(True),
            ]
        up += [nn.ConvTranspose2d(channels[1], in_channels, 4, stride=2, padding=1)]
        self.decoder = nn.Sequential(*up)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent mean and log-variance of images scaled to [−1, 1]."""
        h = self.encoder(F.pad(x, (0, self.pad, 0, self.pad)))
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = self.decoder(self.from_latent(z).view(-1, *self.bottleneck_shape))
        return out[:, :, : self.image_size, : self.image_size]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar


class LatentDiscriminator(nn.Module):
    """MLP on latent means: probability that a sample is labeled."""

    def __init__(self, latent_dim: int, hidden: int = 512):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(True), nn.Linear(hidden, hidden), nn.ReLU(True), nn.Linear(hidden, 1)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Logit of "labeled" ``[n]``."""
        return self.net(z).squeeze(1)


def _vae_losses(
    vae: VaalVAE, x_l: torch.Tensor, x_u: torch.Tensor, beta: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sum of the labeled and the unlabeled batch's β-VAE losses, and the latent means of each.

    Both batches go through the VAE together, so BatchNorm normalises them with the same statistics
    (separate passes would let the discriminator tell them apart by their batch statistics alone).
    """
    x = torch.cat([x_l, x_u])
    recon, mu, logvar = vae(x)
    per_sample = F.mse_loss(recon, x, reduction="none").flatten(1).mean(dim=1) - 0.5 * beta * (
        1 + logvar - mu.pow(2) - logvar.exp()
    ).sum(dim=1)
    n = len(x_l)
    return per_sample[:n].mean() + per_sample[n:].mean(), mu[:n], mu[n:]


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def _scaled(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    return images.to(device).float().div_(127.5).sub_(1.0)


def vaal_labeled_probability(
    labeled_images: torch.Tensor,
    unlabeled_images: torch.Tensor,
    seed: int,
    device: str | torch.device = "cpu",
    config: VaalConfig = VaalConfig(),
) -> np.ndarray:
    """Train VAAL on uint8 images ``[n, C, H, W]`` of L and U; the discriminator's P(labeled) for each of U.

    Weight initialisation, batch order and latent noise come from ``seed`` inside a forked torch RNG, so
    the global RNG is untouched and the result is deterministic on CPU (where it runs on one thread:
    its batches of 64 are too small to gain from more).
    """
    device = torch.device(device)
    _, in_channels, height, width = labeled_images.shape
    if height != width:
        raise ValueError(f"VAAL expects square images, got {height}×{width}")
    n_labeled, n_unlabeled = len(labeled_images), len(unlabeled_images)
    if n_labeled == 0 or n_unlabeled == 0:
        raise ValueError("VAAL needs labeled and unlabeled images")
    iterations = max(1, math.ceil(config.epochs * (n_labeled + n_unlabeled) / config.batch_size))
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), one_cpu_thread(device):
        torch.manual_seed(seed)
        vae = VaalVAE(in_channels, height, config.latent_dim, config.width).to(device)
        discriminator = LatentDiscriminator(config.latent_dim).to(device)
        vae_opt = torch.optim.Adam(vae.parameters(), lr=config.lr)
        disc_opt = torch.optim.Adam(discriminator.parameters(), lr=config.lr)
        vae.train()
        discriminator.train()

        def batch(images: torch.Tensor) -> torch.Tensor:
            picks = torch.randint(len(images), (min(config.batch_size, len(images)),))
            return _scaled(images[picks], device)

        for _ in range(iterations):
            for _ in range(config.vae_steps):
                x_l, x_u = batch(labeled_images), batch(unlabeled_images)
                vae_loss, mu_l, mu_u = _vae_losses(vae, x_l, x_u, config.beta)
                fool = _bce(discriminator(mu_l), 1.0) + _bce(discriminator(mu_u), 1.0)
                vae_opt.zero_grad()
                (vae_loss + config.adversary_weight * fool).backward()
                vae_opt.step()
            for _ in range(config.discriminator_steps):
                x_l, x_u = batch(labeled_images), batch(unlabeled_images)
                with torch.no_grad():
                    mu = vae.encode(torch.cat([x_l, x_u]))[0]
                mu_l, mu_u = mu[: len(x_l)], mu[len(x_l) :]
                disc_opt.zero_grad()
                (_bce(discriminator(mu_l), 1.0) + _bce(discriminator(mu_u), 0.0)).backward()
                disc_opt.step()

        vae.eval()
        discriminator.eval()
        probability = []
        with torch.no_grad():
            for start in range(0, n_unlabeled, 1024):
                mu = vae.encode(_scaled(unlabeled_images[start : start + 1024], device))[0]
                probability.append(torch.sigmoid(discriminator(mu)).cpu())
    return torch.cat(probability).double().numpy()

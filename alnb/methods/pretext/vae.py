"""Variational auto-encoder (Kingma & Welling, "Auto-encoding variational Bayes", ICLR 2014).

Gaussian posterior ``q(z|x) = N(μ(x), diag σ²(x))`` from a linear layer on the encoder, standard
normal prior, Bernoulli decoder on [0, 1] pixels (the paper's choice for MNIST). Training uses one
reparameterised draw per sample. A sample's score is the negative ELBO, reconstruction (summed binary
cross-entropy over pixels) + KL(q(z|x) ‖ N(0, I)), with the decoder fed the posterior mean so the score
is deterministic. Embeddings are the posterior means μ(x).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from alnb.methods.pretext.base import ConvDecoder, PretextModel
from alnb.methods.pretext.inpainting import DECODER_WIDTH
from alnb.methods.pretext.training import pretext_task
from alnb.methods.registry import Option


class VAEModel(PretextModel):
    """Encoder → (μ, log σ²) → decoder."""

    def __init__(
        self,
        arch: str,
        in_channels: int,
        image_size: int,
        mean: torch.Tensor,
        std: torch.Tensor,
        latent_dim: int = 32,
        decoder_width: int = 64,
    ):
        super().__init__(arch, in_channels, image_size, mean, std)
        self.posterior = nn.Linear(self.feature_dim, 2 * latent_dim)
        self.decoder = ConvDecoder(latent_dim, in_channels, image_size, decoder_width)

    def _posterior(self, x01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_var = self.posterior(self.features(x01)).chunk(2, dim=1)
        return mu, log_var.clamp(-20.0, 20.0)

    def _terms(
        self, x01: torch.Tensor, z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.decoder(z, logits=True)
        reconstruction = F.binary_cross_entropy_with_logits(logits, x01, reduction="none").sum(dim=(1, 2, 3))
        kl = 0.5 * (mu.square() + log_var.exp() - 1.0 - log_var).sum(dim=1)
        return reconstruction, kl

    def training_loss(self, x01: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        mu, log_var = self._posterior(x01)
        noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        reconstruction, kl = self._terms(x01, mu + noise * (0.5 * log_var).exp(), mu, log_var)
        return reconstruction + kl

    def evaluate(self, x01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        mu, log_var = self._posterior(x01)
        reconstruction, kl = self._terms(x01, mu, mu, log_var)
        return reconstruction + kl, mu, {"reconstruction": reconstruction, "kl": kl}


def build(
    arch: str,
    in_channels: int,
    image_size: int,
    mean: torch.Tensor,
    std: torch.Tensor,
    *,
    latent_dim: int,
    decoder_width: int,
) -> VAEModel:
    return VAEModel(arch, in_channels, image_size, mean, std, latent_dim, decoder_width)


pretext_task(
    "vae",
    "Kingma & Welling, ICLR 2014",
    build,
    epochs=20,
    batch_size=64,
    model=(Option("latent_dim", int, 32, "size of the latent code z", low=1), DECODER_WIDTH),
)

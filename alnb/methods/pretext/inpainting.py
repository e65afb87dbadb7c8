"""Inpainting with a context encoder (Pathak, Krähenbühl, Donahue, Darrell, Efros, "Context encoders:
feature learning by inpainting", CVPR 2016).

The central region (rows and columns ``[H/4, H/4 + H/2)``: a quarter of the area, as the original's
central 64×64 of 128×128) is replaced by the pool's mean pixel; the encoder reads the masked image
and a convolutional decoder predicts the missing region. A sample's loss is the mean squared error
over the masked pixels (on the [0, 1] scale). The original's adversarial term is not used.
Embeddings are the encoder's features of the unmasked image, as when the paper transfers its encoder.
"""

from __future__ import annotations

import torch

from alnb.methods.pretext.base import ConvDecoder, PretextModel
from alnb.methods.pretext.training import pretext_task
from alnb.methods.registry import Option


def central_region(image_size: int) -> slice:
    """Rows (and columns) of the masked centre: ``H/2`` pixels starting at ``H/4``."""
    start = image_size // 4
    return slice(start, start + image_size // 2)


class InpaintingModel(PretextModel):
    """Encoder of the masked image + decoder of its central region."""

    def __init__(
        self,
        arch: str,
        in_channels: int,
        image_size: int,
        mean: torch.Tensor,
        std: torch.Tensor,
        decoder_width: int = 64,
    ):
        super().__init__(arch, in_channels, image_size, mean, std)
        self.region = central_region(image_size)
        self.decoder = ConvDecoder(self.feature_dim, in_channels, image_size // 2, decoder_width)

    def inpaint(self, x01: torch.Tensor) -> torch.Tensor:
        """The predicted central region ``[b, C, H/2, W/2]`` in (0, 1), from the image with its centre masked."""
        masked = self.standardize(x01).clone()
        masked[:, :, self.region, self.region] = 0.0  # the standardised pool mean
        return self.decoder(self.encoder(masked))

    def _masked_errors(self, x01: torch.Tensor) -> torch.Tensor:
        target = x01[:, :, self.region, self.region]
        return (self.inpaint(x01) - target).square().mean(dim=(1, 2, 3))

    def training_loss(self, x01: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self._masked_errors(x01)

    def evaluate(self, x01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        return self._masked_errors(x01), self.features(x01), {}


def build(
    arch: str, in_channels: int, image_size: int, mean: torch.Tensor, std: torch.Tensor, *, decoder_width: int
) -> InpaintingModel:
    return InpaintingModel(arch, in_channels, image_size, mean, std, decoder_width)


DECODER_WIDTH = Option("decoder_width", int, 64, "channels of the decoder's first map", low=1)
pretext_task("inpainting", "Pathak et al., CVPR 2016", build, epochs=20, batch_size=64, model=(DECODER_WIDTH,))

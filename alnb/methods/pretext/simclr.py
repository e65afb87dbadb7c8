"""SimCLR (Chen, Kornblith, Norouzi, Hinton, "A simple framework for contrastive learning of visual
representations", ICML 2020).

Training: two random views of every image (:func:`alnb.methods.pretext.augment.simclr_view`), encoder +
two-layer projection head, NT-Xent loss with temperature τ over the 2b views of the batch.

Score: the mean NT-Xent loss between each image and each of a fixed set of its augmentations
(:func:`alnb.methods.pretext.augment.fixed_views`: flip, blur, and for RGB colour jitter and greyscale, as the
study's authors used, τ = 0.1). For one augmentation, the batch of b originals and their b augmented
copies forms 2b views; each image's loss is the mean of its two directed NT-Xent terms (original →
augmented, augmented → original), and its score the mean over the augmentations. The negatives of an
image are the other 2(b − 1) views of its evaluation batch; :func:`alnb.methods.pretext.training.train_pretext`
forms these batches as fixed consecutive blocks of the pool in index order, of near-equal size
(``np.array_split`` into ``ceil(N / batch_size)`` blocks), so the score is deterministic.
Embeddings are the encoder's features (before the projection head) of the original image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from alnb.methods.pretext.augment import fixed_views, simclr_view
from alnb.methods.pretext.base import PretextModel
from alnb.methods.pretext.training import pretext_task
from alnb.methods.registry import Option


def nt_xent(first: torch.Tensor, second: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pair NT-Xent ``[b]`` (mean of both directions) and whether each anchor's nearest other view is its
    positive ``[b]`` (mean of both directions), for projections ``first[i]`` ↔ ``second[i]``."""
    b = first.shape[0]
    z = F.normalize(torch.cat([first, second]), dim=1)
    similarity = (z @ z.T) / temperature
    similarity.fill_diagonal_(float("-inf"))
    positives = torch.cat([torch.arange(b, 2 * b), torch.arange(b)]).to(z.device)
    losses = F.cross_entropy(similarity, positives, reduction="none")
    hits = (similarity.argmax(dim=1) == positives).float()
    return losses.reshape(2, b).mean(dim=0), hits.reshape(2, b).mean(dim=0)


class SimCLRModel(PretextModel):
    """Encoder + projection head ``Linear → ReLU → Linear``."""

    def __init__(
        self,
        arch: str,
        in_channels: int,
        image_size: int,
        mean: torch.Tensor,
        std: torch.Tensor,
        temperature: float = 0.1,
        projection_dim: int = 128,
        crop_scale: tuple[float, float] = (0.2, 1.0),
        jitter_strength: float = 0.5,
    ):
        super().__init__(arch, in_channels, image_size, mean, std)
        self.temperature = temperature
        self.crop_scale = tuple(crop_scale)
        self.jitter_strength = jitter_strength
        d = self.feature_dim
        self.projection = nn.Sequential(nn.Linear(d, d), nn.ReLU(inplace=True), nn.Linear(d, projection_dim))

    def training_loss(self, x01: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        views = torch.cat([simclr_view(x01, generator, self.crop_scale, self.jitter_strength) for _ in range(2)])
        projections = self.projection(self.features(views))
        b = x01.shape[0]
        return nt_xent(projections[:b], projections[b:], self.temperature)[0]

    def evaluate(self, x01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        features = self.features(x01)
        anchors = self.projection(features)
        losses, hits = [], []
        for view in fixed_views(x01):
            loss, hit = nt_xent(anchors, self.projection(self.features(view)), self.temperature)
            losses.append(loss)
            hits.append(hit)
        return torch.stack(losses).mean(dim=0), features, {"augmentation_top1": torch.stack(hits).mean(dim=0)}


def build(
    arch: str,
    in_channels: int,
    image_size: int,
    mean: torch.Tensor,
    std: torch.Tensor,
    *,
    temperature: float,
    projection_dim: int,
    crop_scale: tuple[float, float],
    jitter_strength: float,
) -> SimCLRModel:
    return SimCLRModel(
        arch, in_channels, image_size, mean, std, temperature, projection_dim, crop_scale, jitter_strength
    )


pretext_task(
    "simclr",
    "Chen, Kornblith, Norouzi, Hinton, ICML 2020",
    build,
    epochs=25,
    batch_size=128,
    model=(
        Option("temperature", float, 0.1, "temperature τ of the NT-Xent loss", low=0, low_open=True),
        Option("projection_dim", int, 128, "output size of the projection head", low=1),
        Option("crop_scale", tuple, (0.2, 1.0), "area range of the random resized crop", low=0, low_open=True, high=1),
        Option("jitter_strength", float, 0.5, "strength of the colour jitter", low=0, low_open=True),
    ),
)

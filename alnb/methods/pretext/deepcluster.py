"""DeepCluster (Caron, Bojanowski, Joulin, Douze, "Deep Clustering for Unsupervised Learning of Visual
Features", ECCV 2018).

Every epoch: compute the convnet's features of all images (eval mode, no augmentation), reduce them
by PCA with whitening and L2-normalise them, k-means them into K clusters (an empty cluster is
re-seeded by splitting the largest one in two), then train the convnet for one epoch, under a freshly
initialised linear head, to predict those assignments, drawing images uniformly over the clusters.
The last assignment is the clustering.

Differences from the reference, for small images: the backbone is :func:`alnb.models.networks.build_backbone`
(no Sobel filter); training augmentation is random translation (pad and crop) only, since flips change
digits; k-means is scikit-learn's (one k-means++ initialisation, ``kmeans_iters`` Lloyd iterations).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score
from threadpoolctl import threadpool_limits
from torch import nn
from torch.nn import functional as F

from alnb.core import seeding
from alnb.core.durable import is_verified, save_verified, save_verified_npz, write_atomically
from alnb.methods.pretext.training import channel_stats
from alnb.models.networks import build_backbone, resolve_device


@dataclass
class DeepClusterResult:
    """``assignments [N]`` (the last clustering), ``embeddings [N, d]`` (the backbone features that
    clustering was computed from), per-epoch ``history`` and the trained backbone's ``state_dict``."""

    assignments: np.ndarray
    embeddings: np.ndarray
    history: list[dict] = field(default_factory=list)
    state_dict: dict = field(default_factory=dict)


def save_deepcluster(result: DeepClusterResult, folder: str | Path) -> Path:
    """Write ``result`` into ``folder``: ``arrays.npz``, ``model.pt``, then ``history.json`` last (the completion mark)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "history.json").unlink(missing_ok=True)

    save_verified_npz(folder / "arrays.npz", assignments=result.assignments, embeddings=result.embeddings)
    save_verified(folder / "model.pt", lambda path: torch.save(result.state_dict, path))
    write_atomically(folder / "history.json", lambda path: path.write_text(json.dumps(result.history)))
    return folder


def has_deepcluster(folder: str | Path) -> bool:
    """Whether ``folder`` holds a complete result (its ``history.json``, written last) whose files match their
    manifests (a damaged one is reported and counts as absent)."""
    folder = Path(folder)
    return (folder / "history.json").is_file() and all(
        is_verified(folder / name, "DeepCluster is trained again") for name in ("arrays.npz", "model.pt")
    )


def load_deepcluster(folder: str | Path) -> DeepClusterResult | None:
    """The result saved in ``folder``, or None when there is no complete one."""
    folder = Path(folder)
    if not has_deepcluster(folder):
        return None
    with np.load(folder / "arrays.npz") as arrays:
        assignments, embeddings = arrays["assignments"], arrays["embeddings"]
    state = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
    return DeepClusterResult(assignments, embeddings, json.loads((folder / "history.json").read_text()), state)


def clustering_nmi(assignments: np.ndarray, labels: np.ndarray) -> float:
    """Normalised mutual information between a clustering and the true labels (for insight only)."""
    return float(normalized_mutual_info_score(np.asarray(labels), np.asarray(assignments)))


def train_deepcluster(
    images: torch.Tensor,
    n_clusters: int,
    seed: int,
    device: str | torch.device = "cpu",
    *,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 0.05,
    momentum: float = 0.9,
    weight_decay: float = 1e-5,
    arch: str = "auto",
    pca_dim: int = 256,
    kmeans_iters: int = 20,
    augment: bool = True,
) -> DeepClusterResult:
    """Train DeepCluster on uint8 ``images [N, C, H, W]``; seeded by ``seed`` only, deterministic on CPU.

    The reference's settings: SGD with momentum 0.9, learning rate 0.05, weight decay 1e-5, PCA to
    256 dimensions (here at most the feature dimension), the head initialised N(0, 0.01).
    ``history`` holds, per epoch, the training ``loss`` and ``nmi_previous``, the NMI between this
    epoch's and the previous epoch's assignments (NaN at the first epoch).
    """
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(
            f"images must be a uint8 tensor [N, C, H, W], got {images.dtype} of shape {tuple(images.shape)}"
        )
    n_images = len(images)
    if not 2 <= n_clusters <= n_images:
        raise ValueError(f"n_clusters must lie in [2, {n_images}], got {n_clusters}")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    device = resolve_device(str(device))
    images = images.to(device)
    mean, std = (t.to(device) for t in channel_stats(images))

    def normalize(batch: torch.Tensor) -> torch.Tensor:
        return (batch.float().div(255.0) - mean[None, :, None, None]) / std[None, :, None, None]

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeding.stream_seed(seed, "deepcluster", "init"))
        backbone = build_backbone(arch, images.shape[1], images.shape[-1]).to(device)
    optimizer = torch.optim.SGD(backbone.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    generator = seeding.torch_generator(seed, "deepcluster", "train")
    cluster_rng = seeding.rng(seed, "deepcluster", "kmeans")

    history, previous = [], None
    for epoch in range(epochs):
        embeddings = _features(backbone, images, normalize, batch_size=max(256, batch_size))
        assignments = _cluster(_pca_whiten_normalize(embeddings, pca_dim), n_clusters, cluster_rng, kmeans_iters)
        nmi = float("nan") if previous is None else float(normalized_mutual_info_score(previous, assignments))
        previous = assignments
        head = _new_head(backbone.feature_dim, n_clusters, generator).to(device)
        head_optimizer = torch.optim.SGD(head.parameters(), lr=lr, weight_decay=weight_decay)
        order = _uniform_over_clusters(assignments, generator)
        targets = torch.as_tensor(assignments, device=device)
        backbone.train()
        total, seen = 0.0, 0
        for start in range(0, n_images, batch_size):
            batch = torch.as_tensor(order[start : start + batch_size], device=device)
            inputs = images[batch]
            if augment:
                inputs = _random_translation(inputs, generator)
            loss = F.cross_entropy(head(backbone(normalize(inputs))), targets[batch])
            optimizer.zero_grad(set_to_none=True)
            head_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            head_optimizer.step()
            total += float(loss.detach()) * len(batch)
            seen += len(batch)
        history.append({"epoch": epoch, "loss": total / seen, "nmi_previous": nmi})
    state = {name: value.detach().cpu().clone() for name, value in backbone.state_dict().items()}
    return DeepClusterResult(previous, embeddings, history, state)


@torch.no_grad()
def _new_head(in_features: int, n_clusters: int, generator: torch.Generator) -> nn.Linear:
    """A linear head with weights N(0, 0.01²) and zero bias, drawn from ``generator`` only."""
    with torch.random.fork_rng(devices=[]):  # nn.Linear's own initialisation would draw from the global RNG
        head = nn.Linear(in_features, n_clusters)
    head.weight.copy_(torch.randn(head.weight.shape, generator=generator) * 0.01)
    head.bias.zero_()
    return head


@torch.no_grad()
def _features(backbone: nn.Module, images: torch.Tensor, normalize, batch_size: int) -> np.ndarray:
    backbone.eval()
    parts = [backbone(normalize(images[i : i + batch_size])).float().cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(parts).numpy().astype(np.float32)


def _pca_whiten_normalize(features: np.ndarray, pca_dim: int) -> np.ndarray:
    """Project on the top principal components, divide each by its standard deviation, L2-normalise rows."""
    x = features.astype(np.float64)
    x -= x.mean(0)
    n_components = max(1, min(pca_dim, x.shape[1], len(x) - 1))
    eigenvalues, eigenvectors = np.linalg.eigh(x.T @ x / max(1, len(x) - 1))
    top = np.argsort(eigenvalues)[::-1][:n_components]
    reduced = (x @ eigenvectors[:, top]) / np.sqrt(np.maximum(eigenvalues[top], 0.0) + 1e-8)
    reduced /= np.maximum(np.linalg.norm(reduced, axis=1, keepdims=True), 1e-12)
    return reduced.astype(np.float32)


def _cluster(features: np.ndarray, n_clusters: int, rng: np.random.Generator, iterations: int) -> np.ndarray:
    """k-means into ``n_clusters``; every empty cluster takes half of the largest one (2-means split)."""
    with threadpool_limits(limits=1, user_api="blas"):
        assignments = KMeans(
            n_clusters, n_init=1, max_iter=iterations, random_state=int(rng.integers(2**31 - 1))
        ).fit_predict(features)
        sizes = np.bincount(assignments, minlength=n_clusters)
        for empty in np.flatnonzero(sizes == 0):
            largest = int(np.argmax(sizes))
            members = np.flatnonzero(assignments == largest)
            halves = KMeans(2, n_init=1, random_state=int(rng.integers(2**31 - 1))).fit_predict(features[members])
            if halves.min() == halves.max():  # identical points: split them by position
                halves = np.arange(len(members)) % 2
            assignments[members[halves == 1]] = empty
            sizes = np.bincount(assignments, minlength=n_clusters)
    return assignments.astype(np.int64)


def _uniform_over_clusters(assignments: np.ndarray, generator: torch.Generator) -> np.ndarray:
    """N image positions drawn uniformly over the non-empty clusters (the reference's UnifLabelSampler):
    N/K' + 1 per cluster, with replacement only where a cluster is smaller, shuffled and cut to N."""
    n = len(assignments)
    clusters = [np.flatnonzero(assignments == c) for c in np.unique(assignments)]
    per_cluster = n // len(clusters) + 1
    drawn = []
    for members in clusters:
        if len(members) >= per_cluster:
            picks = torch.randperm(len(members), generator=generator)[:per_cluster]
        else:
            picks = torch.randint(len(members), (per_cluster,), generator=generator)
        drawn.append(members[picks.numpy()])
    drawn = np.concatenate(drawn)
    return drawn[torch.randperm(len(drawn), generator=generator).numpy()[:n]]


def _random_translation(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image shifted by up to 1/8 of its size (zero padding, then a random crop)."""
    n, _, height, width = images.shape
    pad = max(1, height // 8)
    padded = F.pad(images, (pad, pad, pad, pad))
    offsets = torch.randint(0, 2 * pad + 1, (2, n), generator=generator).to(images.device)
    rows = (offsets[0][:, None] + torch.arange(height, device=images.device))[:, None, :, None]
    cols = (offsets[1][:, None] + torch.arange(width, device=images.device))[:, None, None, :]
    index = torch.arange(n, device=images.device)[:, None, None, None]
    channels = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
    return padded[index, channels, rows, cols]

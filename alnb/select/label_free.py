"""A label-free image representation that needs no pretrained weights and no long training: single-layer k-means
features (Coates, Lee and Ng, "An analysis of single-layer networks in unsupervised feature learning", AISTATS
2011; Coates and Ng, "Learning feature representations with k-means", Neural Networks: Tricks of the Trade, 2012).

1. Random ``patch_size``² patches of the images, each brightness- and contrast-normalised
   (``(x − mean) / sqrt(var + 10)`` on 0–255 pixels), then ZCA-whitened (``P = V (D + ε)^-½ Vᵀ``, ε = 0.1).
2. A dictionary of ``n_centroids`` centroids by k-means (Lloyd, scikit-learn) on the whitened patches.
3. Every patch of every image (stride 1) is encoded with the "k-means triangle" activation
   ``f_k(x) = max(0, μ(z) − z_k)``, ``z_k = ‖x − c_k‖``, ``μ(z)`` the mean of the ``z_k``: the patches are an
   unfold of the image batch and the distances one matrix product with the centroids (a convolution).
4. Each map is sum-pooled over the four quadrants of the image: ``4 × n_centroids`` features per image.
5. Each feature is standardised over the folder (as Coates et al. do before their linear classifier), so that
   cosine similarity weighs every centroid alike.

:func:`label_free_embeddings` is the whole recipe with the settings chosen on the shared CIFAR-10 subset
(``docs/select_encoder_evidence.md``): 400 centroids of 6×6 patches, 100,000 patches for the dictionary.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from alnb.core import seeding
from alnb.core.threads import torch_threads

PATCH_SIZE = 6
N_CENTROIDS = 400
N_PATCHES = 100_000
CONTRAST_EPS = 10.0  # Coates et al.'s constant, on 0–255 pixels
WHITEN_EPS = 0.1
KMEANS_ITERATIONS = 10


def normalize_patches(patches: torch.Tensor) -> torch.Tensor:
    """Each row of ``patches`` ``[n, d]`` (0–255 pixels) minus its mean, divided by ``sqrt(var + 10)``."""
    mean = patches.mean(dim=1, keepdim=True)
    var = patches.var(dim=1, keepdim=True)
    return (patches - mean) / torch.sqrt(var + CONTRAST_EPS)


def zca_whitening(patches: torch.Tensor, eps: float = WHITEN_EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean ``[d]`` and ZCA matrix ``P`` ``[d, d]`` of ``patches`` ``[n, d]``: ``(x − mean) @ P`` has the
    covariance ``V D (D + eps)^-1 Vᵀ`` (the identity where the variance is far above ``eps``)."""
    patches = patches.double()
    mean = patches.mean(dim=0)
    centred = patches - mean
    covariance = centred.T @ centred / (len(patches) - 1)
    values, vectors = torch.linalg.eigh(covariance)
    zca = vectors @ torch.diag(1.0 / torch.sqrt(values.clamp(min=0) + eps)) @ vectors.T
    return mean.float(), zca.float()


def triangle_activation(distances: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Coates et al.'s "k-means triangle": ``max(0, mean(z) − z_k)`` along ``dim`` of the distances ``z``."""
    return (distances.mean(dim=dim, keepdim=True) - distances).clamp_(min=0)


def random_patches(images: torch.Tensor, n: int, patch_size: int, rng: np.random.Generator) -> torch.Tensor:
    """``n`` patches ``[n, C·p·p]`` of ``images`` ``[N, C, H, W]`` (float), at random images and positions."""
    count, _, height, width = images.shape
    which = torch.from_numpy(rng.integers(count, size=n))
    rows = torch.from_numpy(rng.integers(height - patch_size + 1, size=n))
    cols = torch.from_numpy(rng.integers(width - patch_size + 1, size=n))
    offsets = torch.arange(patch_size)
    row_index = (rows[:, None] + offsets)[:, :, None]  # [n, p, 1]
    col_index = (cols[:, None] + offsets)[:, None, :]  # [n, 1, p]
    picked = images[which[:, None, None], :, row_index, col_index]  # [n, p, p, C]
    return picked.permute(0, 3, 1, 2).reshape(n, -1)


def kmeans_dictionary(patches: torch.Tensor, n_centroids: int, seed: int) -> torch.Tensor:
    """``n_centroids`` k-means centroids ``[K, d]`` of the whitened ``patches`` (Lloyd from random points,
    ``KMEANS_ITERATIONS`` iterations, as Coates et al.)."""
    from sklearn.cluster import KMeans

    kmeans = KMeans(n_centroids, init="random", n_init=1, max_iter=KMEANS_ITERATIONS, tol=0.0, random_state=seed)
    return torch.from_numpy(kmeans.fit(patches.numpy()).cluster_centers_.astype(np.float32))


def encode(
    images: torch.Tensor,
    mean: torch.Tensor,
    zca: torch.Tensor,
    centroids: torch.Tensor,
    patch_size: int,
    batch_size: int = 32,
) -> torch.Tensor:
    """Quadrant-pooled triangle activations ``[N, 4K]`` of ``images`` ``[N, C, H, W]`` (0–255 floats)."""
    _, _, height, width = images.shape
    rows, cols = height - patch_size + 1, width - patch_size + 1
    half_r, half_c = (rows + 1) // 2, (cols + 1) // 2
    centroid_norms = centroids.square().sum(dim=1)
    out = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        patches = F.unfold(batch, patch_size).transpose(1, 2)  # [b, L, d]
        normalized = normalize_patches(patches.reshape(-1, patches.shape[-1]))
        whitened = (normalized - mean) @ zca
        squared = whitened.square().sum(dim=1, keepdim=True) + centroid_norms - 2 * whitened @ centroids.T
        activations = triangle_activation(squared.clamp_(min=0).sqrt_())
        maps = activations.reshape(len(batch), rows, cols, -1)
        quadrants = [
            maps[:, :half_r, :half_c],
            maps[:, :half_r, half_c:],
            maps[:, half_r:, :half_c],
            maps[:, half_r:, half_c:],
        ]
        out.append(torch.cat([q.sum(dim=(1, 2)) for q in quadrants], dim=1))
    return torch.cat(out)


def standardize(features: np.ndarray) -> np.ndarray:
    """Each column of ``features`` ``[N, d]`` minus its mean, divided by its standard deviation (constant
    columns become zero)."""
    std = features.std(axis=0)
    return ((features - features.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype(np.float32)


def kmeans_features(
    images: np.ndarray,
    seed: int,
    *,
    n_centroids: int = N_CENTROIDS,
    patch_size: int = PATCH_SIZE,
    n_patches: int = N_PATCHES,
    threads: int = 2,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """The pooled triangle features ``[N, 4·n_centroids]`` float32 of ``images`` uint8 ``[N, C, H, W]``; the
    dictionary is learned on the CPU, the encoding runs on ``device``."""
    with torch_threads(threads):
        pixels = torch.from_numpy(np.ascontiguousarray(images)).float()
        sample = normalize_patches(random_patches(pixels, n_patches, patch_size, seeding.rng(seed, "kmeans-patches")))
        mean, zca = zca_whitening(sample)
        centroids = kmeans_dictionary((sample - mean) @ zca, n_centroids, seeding.stream_seed(seed, "kmeans") % 2**31)
        device = torch.device(device)
        on_device = [t.to(device) for t in (pixels, mean, zca, centroids)]
        return encode(*on_device, patch_size).cpu().numpy()


def label_free_embeddings(images: np.ndarray, seed: int, device: str | torch.device = "cpu") -> np.ndarray:
    """Embeddings ``[N, 4·N_CENTROIDS]`` float32 of ``images`` uint8 ``[N, C, H, W]`` (``C`` = 1 or 3, as
    :class:`alnb.select.folder.Images` holds them) for cosine geometry: the standardised single-layer k-means
    features of Coates, Lee and Ng (AISTATS 2011). Needs no weights and no labels; the same seed gives the same
    embeddings (on one device)."""
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 [N, C, H, W], got {images.dtype} {images.shape}")
    if min(images.shape[2:]) < PATCH_SIZE or len(images) < 2:
        raise ValueError(f"need at least 2 images of at least {PATCH_SIZE}×{PATCH_SIZE} pixels, got {images.shape}")
    return standardize(
        kmeans_features(
            images, seed, n_centroids=N_CENTROIDS, patch_size=PATCH_SIZE, n_patches=N_PATCHES, device=device
        )
    )

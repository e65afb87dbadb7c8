"""Geometry shared by pools, query methods and pool measures: L2 normalisation, squared distances a block of
rows at a time, and TypiClust's k-NN typicality.

Distances are computed a block of rows at a time (about ``block_elements`` distances per block), so no N×N
matrix is ever held: memory is O(block + output) whatever N. Every caller gets the same arithmetic
(``‖a‖² + ‖b‖² − 2 a·b`` in float32, clamped at 0), so two methods measuring the same distance agree.
"""

from __future__ import annotations

import numpy as np
import torch

BLOCK_ELEMENTS = 2**24


def rows_per_block(n_columns: int, block_elements: int = BLOCK_ELEMENTS) -> int:
    """Rows of a block whose distances to ``n_columns`` points hold about ``block_elements`` numbers."""
    return max(1, block_elements // max(1, n_columns))


def float_tensor(features: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """``features`` as a contiguous float32 tensor on ``device``."""
    return torch.as_tensor(np.ascontiguousarray(features, dtype=np.float32), device=device)


def l2_normalize(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit Euclidean norm (float32 numpy); all-zero rows stay zero."""
    features = np.asarray(features, dtype=np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, np.finfo(np.float32).tiny)


def normalized_tensor(features: np.ndarray, device: str | torch.device = "cpu", normalize: bool = True) -> torch.Tensor:
    """``features`` as float32 on ``device``, rows scaled to unit norm when ``normalize`` (zero rows stay zero)."""
    x = float_tensor(features, device)
    if x.ndim != 2:
        raise ValueError(f"features must be a 2-D array [N, d], got shape {tuple(x.shape)}")
    return x / x.norm(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float32).tiny) if normalize else x


def squared_distances(
    rows: torch.Tensor,
    columns: torch.Tensor,
    row_norms: torch.Tensor | None = None,
    column_norms: torch.Tensor | None = None,
) -> torch.Tensor:
    """``‖a − b‖²`` for every pair of a block of rows and the columns, clamped at 0; ``row_norms`` /
    ``column_norms`` are the squared norms, when already known."""
    column_norms = (columns * columns).sum(1) if column_norms is None else column_norms
    row_norms = (rows * rows).sum(1) if row_norms is None else row_norms
    d2 = torch.addmm(column_norms[None, :], rows, columns.T, alpha=-2.0)
    return d2.add_(row_norms[:, None]).clamp_min_(0.0)


def knn_mean_distances(features: np.ndarray, k: int, *, device: str | torch.device = "cpu") -> np.ndarray:
    """Mean Euclidean distance from every point to its ``k`` nearest other points.

    The smallest of the ``k + 1`` nearest distances (the point itself, or an exact duplicate at
    distance 0) is dropped, as the reference implementation of TypiClust does.
    """
    n = len(features)
    if not 1 <= k < n:
        raise ValueError(f"k must lie in [1, {n - 1}] for {n} points, got {k}")
    x = float_tensor(features, device)
    norms = (x * x).sum(1)
    means = torch.empty(n, dtype=torch.float64, device=x.device)
    step = rows_per_block(n)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        d2 = squared_distances(x[lo:hi], x, norms[lo:hi], norms)
        nearest = torch.topk(d2, k + 1, dim=1, largest=False).values
        means[lo:hi] = nearest.sqrt().to(torch.float64)[:, 1:].mean(1)
    return means.cpu().numpy()


def typicality(features: np.ndarray, k: int, *, device: str | torch.device = "cpu") -> np.ndarray:
    """TypiClust's typicality (Hacohen, Dekel, Weinshall, ICML 2022): 1 / (mean Euclidean distance to the ``k``
    nearest other points), with 1e-5 added to the distance as in the reference so exact duplicates stay finite."""
    return 1.0 / (knn_mean_distances(features, k, device=device) + 1e-5)


def nearest_distances(points: np.ndarray, reference: np.ndarray, *, device: str | torch.device = "cpu") -> np.ndarray:
    """Euclidean distance from every point to its nearest point of ``reference``."""
    x, ref = float_tensor(points, device), float_tensor(reference, device)
    ref_norms = (ref * ref).sum(1)
    step = rows_per_block(len(ref))
    return (
        torch.cat(
            [
                squared_distances(x[lo : lo + step], ref, column_norms=ref_norms).min(1).values
                for lo in range(0, len(x), step)
            ]
        )
        .sqrt()
        .cpu()
        .numpy()
        .astype(np.float64)
    )

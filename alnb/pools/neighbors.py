"""Blocked Euclidean neighbour computations for the clustering pools, in torch on CPU or CUDA.

Distances are computed a block of rows at a time (about 2**24 distances per block), so no N×N
matrix is ever held: memory is O(block + output) whatever N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

BLOCK_ELEMENTS = 2 ** 24


def rows_per_block(n_columns: int, block_elements: int = BLOCK_ELEMENTS) -> int:
    """Rows of a block whose distances to ``n_columns`` points hold about ``block_elements`` numbers."""
    return max(1, block_elements // max(1, n_columns))


def _tensor(features: np.ndarray, device: str | torch.device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(features, dtype=np.float32), device=device)


def _squared_distances(rows: torch.Tensor, row_norms: torch.Tensor, columns: torch.Tensor,
                       column_norms: torch.Tensor) -> torch.Tensor:
    """``‖a − b‖²`` for every pair of a block of rows and the columns, clamped at 0."""
    d2 = torch.addmm(column_norms[None, :], rows, columns.T, alpha=-2.0)
    return d2.add_(row_norms[:, None]).clamp_min_(0.0)


def nearest_foreign_distances(features: np.ndarray, labels: np.ndarray, *,
                              device: str | torch.device = "cpu") -> np.ndarray:
    """For every point, the distance to the nearest point with another label (``inf`` if none).

    Points are grouped by label, so each block is compared only with the other labels' points.
    """
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    x = _tensor(np.asarray(features)[order], device)
    norms = (x * x).sum(1)
    sorted_labels = labels[order]
    bounds = np.flatnonzero(np.diff(sorted_labels)) + 1
    starts, stops = np.r_[0, bounds], np.r_[bounds, len(labels)]
    nearest = torch.full((len(labels),), float("inf"), device=x.device)
    for start, stop in zip(starts, stops):
        foreign = [(x[:start], norms[:start]), (x[stop:], norms[stop:])]
        step = rows_per_block(len(labels) - (stop - start))
        for lo in range(start, stop, step):
            hi = min(stop, lo + step)
            for columns, column_norms in foreign:
                if len(columns):
                    d2 = _squared_distances(x[lo:hi], norms[lo:hi], columns, column_norms)
                    nearest[lo:hi] = torch.minimum(nearest[lo:hi], d2.min(1).values)
    result = np.empty(len(labels), dtype=np.float64)
    result[order] = nearest.sqrt().cpu().numpy()
    return result


def knn_mean_distances(features: np.ndarray, k: int, *, device: str | torch.device = "cpu") -> np.ndarray:
    """Mean Euclidean distance from every point to its ``k`` nearest other points.

    The smallest of the ``k + 1`` nearest distances (the point itself, or an exact duplicate at
    distance 0) is dropped, as the reference implementation of TypiClust does.
    """
    n = len(features)
    if not 1 <= k < n:
        raise ValueError(f"k must lie in [1, {n - 1}] for {n} points, got {k}")
    x = _tensor(features, device)
    norms = (x * x).sum(1)
    means = torch.empty(n, dtype=torch.float64, device=x.device)
    step = rows_per_block(n)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        d2 = _squared_distances(x[lo:hi], norms[lo:hi], x, norms)
        nearest = torch.topk(d2, k + 1, dim=1, largest=False).values
        means[lo:hi] = nearest.sqrt().to(torch.float64)[:, 1:].mean(1)
    return means.cpu().numpy()


@dataclass(frozen=True)
class RadiusGraph:
    """Directed edges x → y for ‖f_x − f_y‖ < radius, stored as one CSR block per block of rows.

    Keeping the blocks apart (instead of concatenating them) halves the peak memory of building it.
    """

    n_points: int
    rows_per_block: int
    indptrs: tuple[np.ndarray, ...]
    indices: tuple[np.ndarray, ...]

    def neighbours(self, point: int) -> np.ndarray:
        """Positions within the radius of ``point`` (itself included), ascending."""
        block, row = divmod(int(point), self.rows_per_block)
        indptr = self.indptrs[block]
        return self.indices[block][indptr[row]:indptr[row + 1]]

    def degrees(self) -> np.ndarray:
        """Out-degree of every point."""
        return np.concatenate([np.diff(indptr) for indptr in self.indptrs]) if self.indptrs else np.zeros(0, int)

    @property
    def n_edges(self) -> int:
        return int(sum(len(block) for block in self.indices))


def radius_graph(features: np.ndarray, radius: float, *, device: str | torch.device = "cpu") -> RadiusGraph:
    """The sparse graph of pairs closer than ``radius`` (strictly), built block by block."""
    n = len(features)
    x = _tensor(features, device)
    norms = (x * x).sum(1)
    threshold = float(radius) ** 2
    step = rows_per_block(n)
    indptrs, indices = [], []
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        within = _squared_distances(x[lo:hi], norms[lo:hi], x, norms) < threshold
        counts = within.sum(1).cpu().numpy()
        indptrs.append(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
        indices.append(within.nonzero()[:, 1].to(torch.int32).cpu().numpy())
    return RadiusGraph(n, step, tuple(indptrs), tuple(indices))

"""Blocked Euclidean neighbour computations for the clustering pools, in torch on CPU or CUDA.

Distances are computed a block of rows at a time (about 2**24 distances per block), so no N×N
matrix is ever held: memory is O(block + output) whatever N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from alnb.methods.registry import Option

BLOCK_ELEMENTS = 2 ** 24
DEVICE_OPTION = Option("device", str, "auto", "where the neighbour distances are computed", pattern=r"auto|cpu|cuda(:\d+)?|mps")


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


def squared_distance_rounding(features: np.ndarray) -> float:
    """A bound on how far two float32 evaluations of the same squared distance between rows of ``features``
    can differ (any summation order, the threshold's own rounding included).

    Each evaluation of ``‖a‖² + ‖b‖² − 2 a·b`` in float32 errs by at most about ``(d + 2) u (‖a‖² + ‖b‖²)``
    with ``u = 2⁻²⁴`` (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1); twice that, with
    slack for the square root and the cast of the threshold, bounds the difference.
    """
    features = np.asarray(features, dtype=np.float32)
    if features.size == 0:
        return 0.0
    max_squared_norm = float(np.max(np.einsum("ij,ij->i", features, features, dtype=np.float64)))
    return 4.0 * (features.shape[1] + 4) * 2.0 ** -24 * 2.0 * max_squared_norm


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

    Block ``b`` holds the rows of the points ``points[b]``; ``block_of`` and ``row_of`` locate each
    point's row. Keeping the blocks apart (instead of concatenating them) halves the peak memory.
    """

    n_points: int
    points: tuple[np.ndarray, ...]
    indptrs: tuple[np.ndarray, ...]
    indices: tuple[np.ndarray, ...]
    block_of: np.ndarray
    row_of: np.ndarray

    def neighbours(self, point: int) -> np.ndarray:
        """Positions within the radius of ``point`` (itself included)."""
        indptr = self.indptrs[self.block_of[point]]
        row = self.row_of[point]
        return self.indices[self.block_of[point]][indptr[row]:indptr[row + 1]]

    def degrees(self) -> np.ndarray:
        """Out-degree of every point."""
        degrees = np.zeros(self.n_points, dtype=np.int64)
        for points, indptr in zip(self.points, self.indptrs):
            degrees[points] = np.diff(indptr)
        return degrees

    @property
    def n_edges(self) -> int:
        return int(sum(len(block) for block in self.indices))


def radius_graph(features: np.ndarray, radius: float, *, pseudo_labels: np.ndarray | None = None,
                 foreign_distances: np.ndarray | None = None, device: str | torch.device = "cpu") -> RadiusGraph:
    """The sparse graph of pairs closer than ``radius`` (strictly), built block by block.

    Given ``pseudo_labels`` and their :func:`nearest_foreign_distances`, only pairs of the same label
    and pairs of two "impure" points (foreign distance below the radius) are compared. This is exact:
    two points of different labels closer than the radius are each other's witness of impurity. With
    a radius chosen for 95% purity it skips about (1 − 1/K) of the N² distances.
    """
    n = len(features)
    x = _tensor(features, device)
    norms = (x * x).sum(1)
    threshold = float(radius) ** 2
    if pseudo_labels is None:
        groups, labels, impure = [np.arange(n)], np.zeros(n, dtype=np.int64), np.zeros(0, dtype=np.int64)
    else:
        labels = np.asarray(pseudo_labels)
        order = np.argsort(labels, kind="stable")
        groups = np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)
        # a relative margin keeps every pair that rounding could place on either side of the radius
        impure = np.flatnonzero(np.asarray(foreign_distances) < float(radius) * (1 + 1e-5))
    is_impure = np.zeros(n, dtype=bool)
    is_impure[impure] = True
    points, indptrs, indices = [], [], []
    for group in groups:
        whole = len(group) == n
        group_x = x if whole else x[torch.as_tensor(group, device=x.device)]
        group_norms = norms if whole else norms[torch.as_tensor(group, device=x.device)]
        others = impure[labels[impure] != labels[group[0]]]
        others_t = torch.as_tensor(others, device=x.device)
        others_x, others_norms = x[others_t], norms[others_t]
        step = rows_per_block(len(group) + len(others))
        for lo in range(0, len(group), step):
            rows = slice(lo, min(len(group), lo + step))
            counts, columns = _close_pairs(group_x[rows], group_norms[rows], group_x, group_norms, threshold)
            columns = columns if whole else group[columns].astype(np.int32)
            impure_rows = np.flatnonzero(is_impure[group[rows]])
            if len(impure_rows) and len(others):
                picked = torch.as_tensor(impure_rows + lo, device=x.device)
                cross_counts, cross_columns = _close_pairs(group_x[picked], group_norms[picked], others_x,
                                                           others_norms, threshold)
                local = np.concatenate([np.repeat(np.arange(len(counts)), counts),
                                        np.repeat(impure_rows, cross_counts)])
                columns = np.concatenate([columns, others[cross_columns].astype(np.int32)])
                columns = columns[np.argsort(local, kind="stable")]
                counts[impure_rows] += cross_counts
            points.append(group[rows])
            indptrs.append(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
            indices.append(columns)
    block_of, row_of = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32)
    for block, block_points in enumerate(points):
        block_of[block_points] = block
        row_of[block_points] = np.arange(len(block_points))
    return RadiusGraph(n, tuple(points), tuple(indptrs), tuple(indices), block_of, row_of)


def _close_pairs(rows: torch.Tensor, row_norms: torch.Tensor, columns: torch.Tensor, column_norms: torch.Tensor,
                 threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the number of columns with squared distance below ``threshold``, and those columns
    (int32, row after row, ascending)."""
    within = _squared_distances(rows, row_norms, columns, column_norms) < threshold
    counts = within.sum(1).cpu().numpy()
    flat = within.view(-1).nonzero().squeeze(1)
    return counts, (flat % within.shape[1]).to(torch.int32).cpu().numpy()

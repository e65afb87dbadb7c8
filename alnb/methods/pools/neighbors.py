"""ProbCover's neighbourhoods, in torch on CPU or CUDA: the nearest point of another pseudo-label, and the
sparse graph of pairs closer than δ, both built a block of rows at a time (``alnb.methods.geometry``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from alnb.methods.geometry import float_tensor, rows_per_block, squared_distances
from alnb.methods.registry import Option

DEVICE_OPTION = Option(
    "device", str, "auto", "where the neighbour distances are computed", pattern=r"auto|cpu|cuda(:\d+)?|mps"
)


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
    return 4.0 * (features.shape[1] + 4) * 2.0**-24 * 2.0 * max_squared_norm


def nearest_foreign_distances(
    features: np.ndarray, labels: np.ndarray, *, device: str | torch.device = "cpu"
) -> np.ndarray:
    """For every point, the distance to the nearest point with another label (``inf`` if none).

    Points are grouped by label, so each block is compared only with the other labels' points.
    """
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    x = float_tensor(np.asarray(features)[order], device)
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
                    d2 = squared_distances(x[lo:hi], columns, norms[lo:hi], column_norms)
                    nearest[lo:hi] = torch.minimum(nearest[lo:hi], d2.min(1).values)
    result = np.empty(len(labels), dtype=np.float64)
    result[order] = nearest.sqrt().cpu().numpy()
    return result


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
        return self.indices[self.block_of[point]][indptr[row] : indptr[row + 1]]

    def degrees(self) -> np.ndarray:
        """Out-degree of every point."""
        degrees = np.zeros(self.n_points, dtype=np.int64)
        for points, indptr in zip(self.points, self.indptrs):
            degrees[points] = np.diff(indptr)
        return degrees

    @property
    def n_edges(self) -> int:
        return int(sum(len(block) for block in self.indices))


def radius_graph(
    features: np.ndarray,
    radius: float,
    *,
    pseudo_labels: np.ndarray | None = None,
    foreign_distances: np.ndarray | None = None,
    device: str | torch.device = "cpu",
) -> RadiusGraph:
    """The sparse graph of pairs closer than ``radius`` (strictly), built block by block.

    Given ``pseudo_labels`` and their :func:`nearest_foreign_distances`, only pairs of the same label
    and pairs of two "impure" points (foreign distance below the radius) are compared. This is exact:
    two points of different labels closer than the radius are each other's witness of impurity. With
    a radius chosen for 95% purity it skips about (1 − 1/K) of the N² distances.
    """
    n = len(features)
    x = float_tensor(features, device)
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
                cross_counts, cross_columns = _close_pairs(
                    group_x[picked], group_norms[picked], others_x, others_norms, threshold
                )
                local = np.concatenate(
                    [np.repeat(np.arange(len(counts)), counts), np.repeat(impure_rows, cross_counts)]
                )
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


def _close_pairs(
    rows: torch.Tensor, row_norms: torch.Tensor, columns: torch.Tensor, column_norms: torch.Tensor, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the number of columns with squared distance below ``threshold``, and those columns
    (int32, row after row, ascending)."""
    within = squared_distances(rows, columns, row_norms, column_norms) < threshold
    counts = within.sum(1).cpu().numpy()
    flat = within.view(-1).nonzero().squeeze(1)
    return counts, (flat % within.shape[1]).to(torch.int32).cpu().numpy()

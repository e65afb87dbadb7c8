"""ProbCover (Yehuda, Dekel, Hacohen, Weinshall, "Active Learning Through a Covering Lens", NeurIPS 2022).

On L2-normalised self-supervised embeddings, connect x → y when ‖f_x − f_y‖ < δ, and greedily label
the point whose δ-ball covers the most points not yet covered. δ is the largest radius at which at
least 95% of the balls are pure with respect to k-means pseudo-labels (K = number of classes).
"""

from __future__ import annotations

import heapq

import numpy as np
import torch

from alnb.methods.geometry import l2_normalize
from alnb.methods.pools.clustering import kmeans_clusters
from alnb.methods.pools.neighbors import (
    DEVICE_OPTION,
    RadiusGraph,
    nearest_foreign_distances,
    radius_graph,
    squared_distance_rounding,
)
from alnb.methods.pools.on_embeddings import register_embedding_pool
from alnb.methods.registry import Option
from alnb.models.networks import resolve_device


def purity_delta(foreign_distances: np.ndarray, purity_threshold: float = 0.95) -> float:
    """The largest δ whose purity is at least ``purity_threshold``.

    A point is pure at δ exactly when δ ≤ its distance to the nearest point of another pseudo-label
    (its ball is open), so purity(δ) = mean(foreign_distances ≥ δ), and the answer is the order
    statistic that leaves at most ⌊(1 − threshold)·N⌋ points impure. When that statistic is infinite
    (too few points have a neighbour of another pseudo-label, e.g. collapsed features), purity holds for
    every δ; the largest finite foreign distance is taken instead (0 when there is none, so the greedy
    coverage reduces to the seeded tie-break order).
    """
    if not 0 < purity_threshold <= 1:
        raise ValueError(f"purity_threshold must lie in (0, 1], got {purity_threshold}")
    distances = np.sort(np.asarray(foreign_distances, dtype=np.float64))
    most_impure = int(np.floor((1.0 - purity_threshold) * len(distances) + 1e-9))
    delta = float(distances[min(most_impure, len(distances) - 1)])
    if not np.isfinite(delta):
        finite = distances[np.isfinite(distances)]
        delta = float(finite.max()) if len(finite) else 0.0
    return delta


def below_rounding(delta: float, features: np.ndarray) -> float:
    """δ lowered by the float32 rounding of squared distances (:func:`squared_distance_rounding`).

    :func:`purity_delta` puts δ exactly on the foreign distance of a point it counts as pure; the graph,
    which evaluates that distance again (in another block, another summation order), may find it a hair
    below δ and make the point impure, dropping purity under the threshold. Just below that boundary
    every point counted pure stays pure in the graph, and a smaller δ can only raise purity.
    """
    return float(np.sqrt(max(float(delta) ** 2 - squared_distance_rounding(features), 0.0)))


def pseudo_label_foreign_distances(
    features: np.ndarray, n_classes: int, rng: np.random.Generator, *, device: str | torch.device = "cpu"
) -> tuple[np.ndarray, np.ndarray]:
    """k-means pseudo-labels (K = ``n_classes``) and each point's distance to the nearest other-label point."""
    if n_classes < 2:
        raise ValueError(f"ProbCover needs at least 2 pseudo-labels to measure purity, got n_classes={n_classes}")
    pseudo_labels, _ = kmeans_clusters(features, min(n_classes, len(features)), rng)
    return pseudo_labels, nearest_foreign_distances(features, pseudo_labels, device=device)


def probcover_delta(
    features: np.ndarray,
    n_classes: int,
    rng: np.random.Generator,
    purity_threshold: float = 0.95,
    *,
    normalize: bool = True,
    device: str | torch.device = "cpu",
) -> float:
    """δ of ProbCover: k-means pseudo-labels with K = ``n_classes``, then :func:`purity_delta`, just below the
    boundary (:func:`below_rounding`)."""
    features = l2_normalize(features) if normalize else np.asarray(features, dtype=np.float32)
    return _purity_radius(features, n_classes, rng, purity_threshold, device)[2]


def _purity_radius(
    features: np.ndarray, n_classes: int, rng: np.random.Generator, purity_threshold: float, device: str | torch.device
) -> tuple[np.ndarray, np.ndarray, float]:
    """(pseudo-labels, foreign distances, δ) of already normalised ``features``."""
    pseudo_labels, foreign = pseudo_label_foreign_distances(features, n_classes, rng, device=device)
    return pseudo_labels, foreign, below_rounding(purity_delta(foreign, purity_threshold), features)


def max_coverage(graph: RadiusGraph, budget: int, rng: np.random.Generator, labeled_positions=()) -> np.ndarray:
    """Greedy max coverage: ``budget`` times pick the point covering the most uncovered points.

    Points within δ of a labeled point start covered. Ties go to a seeded random order. The greedy is
    lazy (degrees only shrink, so a stale degree is an upper bound; a point is picked once its fresh
    degree still tops the queue), which needs only each point's out-edges. When every point is
    covered, the rest of the budget is drawn uniformly at random from the points not yet chosen.
    """
    n = graph.n_points
    labeled = np.unique(np.asarray(labeled_positions, dtype=np.int64))
    if budget < 0 or budget > n - len(labeled):
        raise ValueError(f"budget {budget} is outside [0, {n - len(labeled)}] (unlabeled points)")
    covered = np.zeros(n, dtype=bool)
    for point in labeled:
        covered[graph.neighbours(point)] = True
    chosen = np.zeros(n, dtype=bool)
    chosen[labeled] = True
    tie_rank = rng.permutation(n)
    fresh_at = np.full(n, -1)
    queue = [(-int(d), int(tie_rank[p]), p) for p, d in enumerate(graph.degrees()) if d > 0]
    heapq.heapify(queue)
    selected = []
    while len(selected) < budget and queue:
        _, rank, point = heapq.heappop(queue)
        if fresh_at[point] == len(selected):
            selected.append(point)
            chosen[point] = True
            covered[graph.neighbours(point)] = True
            continue
        degree = int(np.count_nonzero(~covered[graph.neighbours(point)]))
        fresh_at[point] = len(selected)
        if degree > 0:
            heapq.heappush(queue, (-degree, rank, point))
    if len(selected) < budget:
        rest = rng.choice(np.flatnonzero(~chosen), size=budget - len(selected), replace=False)
        selected.extend(int(p) for p in rest)
    return np.asarray(selected, dtype=np.int64)


def probcover(
    features: np.ndarray,
    budget: int,
    n_classes: int,
    rng: np.random.Generator,
    labeled_positions=(),
    purity_threshold: float = 0.95,
    delta: float | None = None,
    *,
    normalize: bool = True,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Positions of ``budget`` unlabeled points chosen by ProbCover.

    ``features`` covers L ∪ U; ``labeled_positions`` are the rows already labeled. ``delta=None``
    takes δ from :func:`probcover_delta`, and the graph then reuses its pseudo-labels to skip the
    pairs that cannot be closer than δ. The graph is built block by block (never a dense N×N matrix);
    it holds about N × (mean points per ball) int32 entries.
    """
    features = l2_normalize(features) if normalize else np.asarray(features, dtype=np.float32)
    if delta is None:
        pseudo_labels, foreign, delta = _purity_radius(features, n_classes, rng, purity_threshold, device)
        graph = radius_graph(features, delta, pseudo_labels=pseudo_labels, foreign_distances=foreign, device=device)
    else:
        graph = radius_graph(features, delta, device=device)
    return max_coverage(graph, budget, rng, labeled_positions)


PROBCOVER_OPTIONS = (
    Option(
        "purity_threshold",
        float,
        0.95,
        "δ is the largest radius at which this share of the balls is pure",
        low=0,
        high=1,
        low_open=True,
    ),
    Option(
        "delta",
        float,
        None,
        "a fixed radius δ instead of the purity rule (null: from purity_threshold)",
        low=0,
        low_open=True,
        nullable=True,
    ),
    DEVICE_OPTION,
)


register_embedding_pool(
    "probcover",
    PROBCOVER_OPTIONS,
    lambda x, ctx, options: probcover(
        x,
        ctx.budget,
        ctx.n_classes,
        ctx.rng,
        purity_threshold=options["purity_threshold"],
        delta=options["delta"],
        device=resolve_device(options["device"]),
    ),
    "ProbCover",
)

"""Initial pools from a clustering of U: k-means (K = number of classes) and DeepCluster assignments.

Each cluster receives an equal (B/K) or a proportional (|C_j|·B/N) share of the budget (see
:mod:`alnb.methods.pools.allocation`), drawn at random within the cluster (default) or nearest to its centre
(option ``within: nearest``). k-means runs on the representation as given (no L2 normalisation):
PCA of pixels by default, or a pretext task's embedding (``kmeans_simclr_equal`` …).
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans
from threadpoolctl import threadpool_limits

from alnb.methods.pools.allocation import equal_allocation, proportional_allocation
from alnb.methods.pools.base import PoolContext, PoolStrategy, register_pool_family
from alnb.methods.pretext import PRETEXT_TASKS
from alnb.methods.registry import Option

__all__ = [
    "equal_allocation",
    "proportional_allocation",
    "kmeans_clusters",
    "cluster_pool",
    "REPRESENTATIONS",
    "PRETEXT_REPRESENTATIONS",
]

PRETEXT_REPRESENTATIONS = PRETEXT_TASKS  # their embeddings
REPRESENTATIONS = ("pixels", "pca", *PRETEXT_REPRESENTATIONS)
ALLOCATIONS = {"equal": equal_allocation, "prop": proportional_allocation}
MINIBATCH_ABOVE_N = 100_000
WITHIN_OPTION = Option(
    "within",
    str,
    "random",
    "which points of each cluster: a seeded random draw, or the nearest to its centre",
    choices=("random", "nearest"),
)


def kmeans_clusters(
    features: np.ndarray,
    n_clusters: int,
    rng: np.random.Generator,
    *,
    minibatch: bool | None = None,
    batch_size: int = 5000,
) -> tuple[np.ndarray, np.ndarray]:
    """k-means (k-means++ seeding, one initialisation, seeded from ``rng``): ``(labels [N], centers [K, d])``.

    ``minibatch=None`` uses Lloyd's :class:`~sklearn.cluster.KMeans` up to 100,000 points and
    :class:`~sklearn.cluster.MiniBatchKMeans` (batches of ``batch_size``) above. BLAS is held to one
    thread during the fit: sklearn already parallelises k-means with OpenMP, and a multi-threaded BLAS
    inside its k-means++ seeding slows it several-fold on a busy machine.
    """
    features = np.ascontiguousarray(features, dtype=np.float32)
    if not 1 <= n_clusters <= len(features):
        raise ValueError(f"n_clusters must lie in [1, {len(features)}], got {n_clusters}")
    if minibatch is None:
        minibatch = len(features) > MINIBATCH_ABOVE_N
    seed = int(rng.integers(2**31 - 1))
    if minibatch:
        model = MiniBatchKMeans(n_clusters=n_clusters, batch_size=batch_size, n_init=1, random_state=seed)
    else:
        model = KMeans(n_clusters=n_clusters, n_init=1, random_state=seed)
    with threadpool_limits(limits=1, user_api="blas"):
        labels = model.fit_predict(features)
    return labels.astype(np.int64), model.cluster_centers_.astype(np.float32)


def cluster_pool(
    labels: np.ndarray,
    counts: np.ndarray,
    rng: np.random.Generator,
    *,
    features: np.ndarray | None = None,
    centers: np.ndarray | None = None,
    within: str = "random",
) -> np.ndarray:
    """Positions of ``counts[j]`` points of each cluster ``j`` (labels in ``[0, K)``), cluster by cluster.

    ``within="random"``: a seeded uniform draw without replacement inside each cluster.
    ``within="nearest"``: the points nearest to the cluster's centre (``centers``, or the mean of
    its ``features`` when no centres are given); ties go to the lower position.
    """
    labels = np.asarray(labels)
    counts = np.asarray(counts, dtype=np.int64)
    sizes = np.bincount(labels, minlength=len(counts))
    if len(sizes) != len(counts):
        raise ValueError(f"labels name {len(sizes)} clusters but {len(counts)} counts were given")
    if np.any(counts < 0) or np.any(counts > sizes):
        raise ValueError("every count must lie between 0 and its cluster's size")
    if within not in ("random", "nearest"):
        raise ValueError(f"within must be 'random' or 'nearest', got {within!r}")
    if within == "nearest" and features is None:
        raise ValueError("within='nearest' needs the features")
    members_by_cluster = np.split(np.argsort(labels, kind="stable"), np.cumsum(sizes)[:-1])
    chosen = []
    for cluster, (members, count) in enumerate(zip(members_by_cluster, counts)):
        if count == 0:
            continue
        if within == "random":
            chosen.append(rng.choice(members, size=count, replace=False))
        else:
            points = np.asarray(features[members], dtype=np.float64)
            center = points.mean(0) if centers is None else np.asarray(centers[cluster], dtype=np.float64)
            distances = np.linalg.norm(points - center, axis=1)
            chosen.append(members[np.argsort(distances, kind="stable")[:count]])
    return np.concatenate(chosen).astype(np.int64) if chosen else np.zeros(0, dtype=np.int64)


def representation_needs(representation: str) -> dict:
    """The PoolStrategy fields naming what must be computed before a strategy on ``representation`` runs."""
    tasks = (representation,) if representation in PRETEXT_REPRESENTATIONS else ()
    return {"pretext_tasks": tasks, "representations": (representation,)}


REPRESENTATION_PATTERN = "|".join(REPRESENTATIONS)


@register_pool_family(
    rf"kmeans(?:_(?P<representation>{REPRESENTATION_PATTERN}))?_(?P<allocation>equal|prop)",
    examples=("kmeans_equal", "kmeans_prop", "kmeans_simclr_equal", "kmeans_simclr_prop"),
    options=(WITHIN_OPTION,),
)
def _kmeans_strategy(name: str, allocation: str, representation: str = "pca") -> PoolStrategy:
    """k-means with K = number of classes on a representation (default: PCA of pixels)."""

    def build(ctx: PoolContext) -> np.ndarray:
        features = ctx.features(representation)
        labels, centers = kmeans_clusters(features, min(ctx.n_classes, len(ctx.candidates)), ctx.rng)
        counts = ALLOCATIONS[allocation](np.bincount(labels, minlength=len(centers)), ctx.budget)
        positions = cluster_pool(
            labels, counts, ctx.rng, features=features, centers=centers, within=WITHIN_OPTION.read(ctx.options)
        )
        return ctx.candidates[positions]

    return PoolStrategy(name, build, **representation_needs(representation))


@register_pool_family(
    r"deepcluster_(?P<allocation>equal|prop)",
    examples=("deepcluster_equal", "deepcluster_prop"),
    options=(WITHIN_OPTION,),
)
def _deepcluster_strategy(name: str, allocation: str) -> PoolStrategy:
    """The final DeepCluster assignment (Caron et al., ECCV 2018) of U, allocated equally or proportionally."""

    def build(ctx: PoolContext) -> np.ndarray:
        if ctx.clusters is None:
            raise ValueError(f"al.inits: {name} needs the DeepCluster assignment, but the context has no clusters")
        _, labels = np.unique(np.asarray(ctx.clusters("deepcluster")), return_inverse=True)
        labels = labels.reshape(-1)
        within = WITHIN_OPTION.read(ctx.options)
        features = ctx.features("deepcluster") if within == "nearest" else None
        counts = ALLOCATIONS[allocation](np.bincount(labels), ctx.budget)
        return ctx.candidates[cluster_pool(labels, counts, ctx.rng, features=features, within=within)]

    return PoolStrategy(name, build, representations=("deepcluster",))

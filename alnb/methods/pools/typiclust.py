"""TypiClust (Hacohen, Dekel, Weinshall, "Active Learning on a Budget", ICML 2022).

Cluster the (L2-normalised, self-supervised) embeddings into min(|L| + B, 500) clusters, drop the
clusters of at most 5 points, then B times take the cluster with the fewest labeled points (ties:
the largest) and label its unlabeled point of highest typicality,
typicality(x) = 1 / mean distance from x to its k = min(20, |C| // 2) nearest neighbours in the cluster.
"""

from __future__ import annotations

import heapq

import numpy as np
import torch

from alnb.methods.geometry import l2_normalize, typicality
from alnb.methods.pools.clustering import kmeans_clusters
from alnb.methods.pools.neighbors import DEVICE_OPTION
from alnb.methods.pools.on_embeddings import register_embedding_pool
from alnb.methods.registry import Option
from alnb.models.networks import resolve_device

MINIBATCH_ABOVE_CLUSTERS = 50


def typiclust(
    features: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    labeled_positions=(),
    max_clusters: int = 500,
    min_cluster_size: int = 5,
    k_neighbors: int = 20,
    *,
    normalize: bool = True,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Positions of ``budget`` unlabeled points chosen by TypiClust.

    ``features`` covers L ∪ U; ``labeled_positions`` are the rows already labeled. k-means is
    Lloyd's up to 50 clusters and mini-batch (batches of 5,000) above, as in the reference.

    Differences from the reference, both following the paper's definitions: distances are Euclidean
    (the reference's faiss index yields squared ones), and typicality is computed once over all of a
    cluster's points (the reference recomputes it over the cluster's still-unlabeled points after each
    pick). The next cluster is chosen from the running counts of labeled points (ties: the larger
    cluster, then the lower cluster id).

    Fallback: when every cluster is dropped or has no unlabeled point left, the rest of the budget is
    drawn uniformly at random (with ``rng``) from the remaining unlabeled points.
    """
    features = l2_normalize(features) if normalize else np.asarray(features, dtype=np.float32)
    n = len(features)
    labeled = np.unique(np.asarray(labeled_positions, dtype=np.int64))
    if budget < 0 or budget > n - len(labeled):
        raise ValueError(f"budget {budget} is outside [0, {n - len(labeled)}] (unlabeled points)")
    if budget == 0:
        return np.zeros(0, dtype=np.int64)
    n_clusters = min(len(labeled) + budget, max_clusters, n)
    labels, _ = kmeans_clusters(features, n_clusters, rng, minibatch=n_clusters > MINIBATCH_ABOVE_CLUSTERS)
    is_labeled = np.zeros(n, dtype=bool)
    is_labeled[labeled] = True
    sizes = np.bincount(labels, minlength=n_clusters)
    labeled_counts = np.bincount(labels[labeled], minlength=n_clusters)
    members_by_cluster = np.split(np.argsort(labels, kind="stable"), np.cumsum(sizes)[:-1])

    # each kept cluster's members, most typical first; a cursor walks past the labeled ones
    ranked, cursor = {}, {}
    for cluster in np.flatnonzero(sizes > min_cluster_size):
        members = members_by_cluster[cluster]
        k = min(k_neighbors, len(members) // 2)
        order = np.argsort(-typicality(features[members], k, device=device), kind="stable")
        ranked[cluster], cursor[cluster] = members[order], 0
    queue = [(int(labeled_counts[c]), -int(sizes[c]), int(c)) for c in ranked]
    heapq.heapify(queue)

    selected = []
    while len(selected) < budget and queue:
        count, negative_size, cluster = heapq.heappop(queue)
        members, position = ranked[cluster], cursor[cluster]
        while position < len(members) and is_labeled[members[position]]:
            position += 1
        if position == len(members):
            continue  # exhausted: the cluster leaves the rotation
        pick = int(members[position])
        selected.append(pick)
        is_labeled[pick] = True
        cursor[cluster] = position + 1
        heapq.heappush(queue, (count + 1, negative_size, cluster))
    if len(selected) < budget:
        rest = rng.choice(np.flatnonzero(~is_labeled), size=budget - len(selected), replace=False)
        selected.extend(int(p) for p in rest)
    return np.asarray(selected, dtype=np.int64)


TYPICLUST_OPTIONS = (
    Option(
        "max_clusters", int, 500, "at most this many k-means clusters (K = min(labeled + budget, max_clusters))", low=1
    ),
    Option("min_cluster_size", int, 5, "clusters of at most this many points are dropped", low=0),
    Option("k_neighbors", int, 20, "neighbours of the typicality (k = min(k_neighbors, cluster size // 2))", low=1),
    DEVICE_OPTION,
)


register_embedding_pool(
    "typiclust",
    TYPICLUST_OPTIONS,
    lambda x, ctx, options: typiclust(
        x,
        ctx.budget,
        ctx.rng,
        max_clusters=options["max_clusters"],
        min_cluster_size=options["min_cluster_size"],
        k_neighbors=options["k_neighbors"],
        device=resolve_device(options["device"]),
    ),
    "TypiClust",
)

"""Near-duplicate images: embeddings whose cosine similarity reaches a threshold are ranked once.

SemDeDup's rule (Abbas, Tirumala, Simig, Ganguli, Morcos, "SemDeDup: Data-efficient learning at web-scale
through semantic deduplication", 2023): on L2-normalised embeddings, k-means partitions the points (one
partition up to ``PARTITION_SIZE`` points, else about that many points per partition), and within a partition
a point whose cosine similarity to an earlier point (listing order) is at least the threshold is a near-duplicate;
it is ranked through the first kept image of its chain, as exact copies are. Similarities are computed a block of
rows at a time (no N×N matrix). ``NEAR_DUPLICATE_COSINE`` was chosen on data (``docs/select.md``).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from alnb.methods.geometry import normalized_tensor, rows_per_block

NEAR_DUPLICATE_COSINE = 0.994
PARTITION_SIZE = 20_000


def _partitions(x: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Row groups to compare within: all rows, or SemDeDup's k-means partitions when there are many."""
    if len(x) <= PARTITION_SIZE:
        return [np.arange(len(x))]
    from alnb.methods.pools.clustering import kmeans_clusters

    labels, _ = kmeans_clusters(x, math.ceil(len(x) / PARTITION_SIZE), rng)
    return [np.flatnonzero(labels == k) for k in range(labels.max() + 1)]


def _first_match(x: torch.Tensor, members: np.ndarray, threshold: float) -> np.ndarray:
    """For each member (in order), the position of the first earlier member at cosine ≥ ``threshold`` (−1: none)."""
    rows = x[torch.as_tensor(members)]
    first = np.full(len(members), -1, dtype=np.int64)
    step = rows_per_block(len(members))
    positions = torch.arange(len(members))
    for lo in range(0, len(members), step):
        similar = (rows[lo : lo + step] @ rows.T) >= threshold
        similar &= positions[None, :] < positions[lo : lo + step, None]  # earlier members only
        found = similar.any(1)
        first[lo : lo + step] = torch.where(found, similar.to(torch.int8).argmax(1), -1).numpy()
    return first


def near_duplicate_groups(
    features: np.ndarray, rng: np.random.Generator, threshold: float = NEAR_DUPLICATE_COSINE
) -> dict[int, list[int]]:
    """Kept row → the rows that are its near-duplicates (each ranked through it), for rows of ``features``
    ``[N, d]`` in listing order."""
    x = normalized_tensor(np.asarray(features, dtype=np.float32))
    stand_in = np.arange(len(features))
    for members in _partitions(x.numpy(), rng):
        first = _first_match(x, members, threshold)
        for position in np.flatnonzero(first >= 0):  # increasing, so an earlier member is resolved first
            stand_in[members[position]] = stand_in[members[first[position]]]
    groups: dict[int, list[int]] = {}
    for row in np.flatnonzero(stand_in != np.arange(len(features))):
        groups.setdefault(int(stand_in[row]), []).append(int(row))
    return groups

"""MaxHerding's candidates at scale, stratified so that every region of the folder can be picked.

The reference code (and the study) takes a uniform subsample of at most 10,000 unlabeled points as the candidates
(which are also the points whose coverage counts); at 1,000,000 points a cluster of 0.01% then gets about one
candidate. ``select`` keeps every unlabeled point a candidate up to ``MAX_CANDIDATES``; above that it stratifies:
k-means (fitted on a seeded sample of at most ``FIT_POINTS`` points, then every point assigned to its nearest
centre) splits the unlabeled points into ``STRATA`` strata, each stratum gets candidates in proportion to its size
but at least ``MIN_PER_STRATUM`` (all of its points when it is smaller), drawn at random within it.
"""

from __future__ import annotations

import numpy as np
import torch

from alnb.methods.geometry import float_tensor, rows_per_block, squared_distances
from alnb.methods.kernel_herding import DEFAULT_MAX_CANDIDATES

MAX_CANDIDATES = DEFAULT_MAX_CANDIDATES
STRATA = 100
MIN_PER_STRATUM = 20
FIT_POINTS = 50_000


def nearest_centre(features: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The index of each row's nearest centre, a block of rows at a time."""
    c = float_tensor(centres)
    norms = (c * c).sum(1)
    step = rows_per_block(len(c))
    return np.concatenate(
        [
            squared_distances(float_tensor(features[lo : lo + step]), c, column_norms=norms).argmin(1).numpy()
            for lo in range(0, len(features), step)
        ]
    )


def herding_candidates(
    features: np.ndarray, unlabeled: np.ndarray, rng: np.random.Generator, budget: int
) -> tuple[np.ndarray, str]:
    """(the candidate rows, sorted; how they were chosen) for MaxHerding on L2-normalised ``features``."""
    from alnb.methods.pools.clustering import kmeans_clusters

    limit = max(MAX_CANDIDATES, budget)
    if len(unlabeled) <= limit:
        return unlabeled, f"all {len(unlabeled):,} unlabeled points"
    fit = unlabeled if len(unlabeled) <= FIT_POINTS else np.sort(rng.choice(unlabeled, FIT_POINTS, replace=False))
    _, centres = kmeans_clusters(features[fit], STRATA, rng)
    with torch.inference_mode():
        strata = nearest_centre(features, centres)[unlabeled]  # blocks of rows: no copy of the N×d features
    sizes = np.bincount(strata, minlength=STRATA)
    quota = np.minimum(sizes, np.maximum(MIN_PER_STRATUM, np.floor(limit * sizes / len(unlabeled)).astype(int)))
    chosen = [
        rng.choice(unlabeled[strata == s], quota[s], replace=False) for s in np.flatnonzero(quota) if quota[s] > 0
    ]
    candidates = np.sort(np.concatenate(chosen))
    return candidates, (
        f"{len(candidates):,} of {len(unlabeled):,} unlabeled points, stratified by a k-means of all points into "
        f"{STRATA} strata (each in proportion to its size, at least {MIN_PER_STRATUM} or all of it)"
    )

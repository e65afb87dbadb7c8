"""What makes an initial pool good: measurable properties of a pool, computed without its AL results.

For a pool P ⊂ U (positions into U) and an embedding of U:
- its class statistics (``alnb.analysis.class_stats``: class coverage, normalised class entropy and the largest
  class share, all in [0, 1]; labels are read for the analysis only, never to pick a pool);
- relative density: the mean TypiClust typicality of P's points divided by the mean over U, where
  typicality(x) = 1 / (mean distance from x to its k = 20 nearest neighbours in U) is TypiClust's own
  (Hacohen et al. 2022, ``alnb.methods.pools.typiclust.typicality``); above 1, the pool sits in denser regions
  than an average point of U;
- U-to-pool distance: the mean distance from each point of U to its nearest pool point (the k-center
  objective's average, Sener & Savarese 2018): small when the pool covers U.
Both use L2-normalised embeddings and blocks of rows (``alnb.methods.geometry``), never an N×N matrix.
"""

from __future__ import annotations

import numpy as np

from alnb.analysis.class_stats import CLASS_COLUMNS, class_statistics
from alnb.methods.geometry import l2_normalize, nearest_distances, typicality

TYPICALITY_NEIGHBOURS = 20


def typicality_of_u(features: np.ndarray, k: int = TYPICALITY_NEIGHBOURS) -> np.ndarray:
    """TypiClust's typicality of every point of U (L2-normalised ``features``), k nearest neighbours in U."""
    return typicality(l2_normalize(features), min(k, len(features) - 1))


def pool_properties(
    positions: np.ndarray,
    labels: np.ndarray,
    features: np.ndarray,
    n_classes: int,
    typicalities: np.ndarray | None = None,
) -> dict[str, float]:
    """The properties above for one pool (``positions`` into U, ``labels`` and ``features`` of U);
    ``typicalities``: :func:`typicality_of_u` of ``features`` when the caller has it already."""
    typicalities = typicality_of_u(features) if typicalities is None else typicalities
    counts = np.bincount(labels[positions], minlength=n_classes)
    classes = class_statistics(counts[None, :]).iloc[0]
    x = l2_normalize(features)
    spread = nearest_distances(x, x[positions]).mean()
    return {
        **{c: float(classes[c]) for c in CLASS_COLUMNS},
        "relative_density": float(typicalities[positions].mean() / typicalities.mean()),
        "u_to_pool_distance": float(spread),
    }


PROPERTY_LABELS = {
    "class_coverage": "class coverage (share of classes)",
    "class_entropy": "class-distribution entropy (normalised)",
    "max_class_share": "largest class share",
    "relative_density": "relative density (TypiClust typicality vs U)",
    "u_to_pool_distance": "mean distance from U to the pool",
}
CONSEQUENCE_LABELS = {"cycle0_acc": "cycle-0 test accuracy (a consequence: part of the AUBC, not a cause)"}

"""Class statistics of a labeled set, on one scale: every value lies in [0, 1].

- ``class_coverage``: the share of the K classes with at least one labeled sample (1: every class);
- ``class_entropy``: the entropy of the class histogram divided by log K (1: perfectly balanced over K
  classes, 0: a single class);
- ``max_class_share``: the share of the largest class (1/K when balanced, 1 when collapsed).

Labels are read for the analysis only, never to pick a pool.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CLASS_COLUMNS = ("class_coverage", "class_entropy", "max_class_share")


def class_statistics(counts: np.ndarray) -> pd.DataFrame:
    """``CLASS_COLUMNS`` of each row of ``counts`` ``[sets, K]`` (class histograms; K ≥ 2), and ``size``."""
    counts = np.atleast_2d(np.asarray(counts, dtype=float))
    n_classes = counts.shape[1]
    if n_classes < 2:
        raise ValueError(f"class statistics need at least 2 classes, got {n_classes}")
    totals = counts.sum(axis=1)
    shares = counts / np.maximum(totals, 1.0)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(shares > 0, shares * np.log(shares), 0.0).sum(axis=1)
    return pd.DataFrame(
        {
            "size": totals.astype(int),
            "class_coverage": (counts > 0).sum(axis=1) / n_classes,
            "class_entropy": entropy / np.log(n_classes),
            "max_class_share": shares.max(axis=1),
        }
    )

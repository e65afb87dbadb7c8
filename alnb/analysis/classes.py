"""Class balance of the growing labeled set, cycle by cycle: how many classes it covers and how evenly.

Read from ``labeled.csv`` (the labels acquired at each cycle, cycle 0 = the initial pool): at cycle t the
labeled set is everything acquired up to t. Its class statistics are ``alnb.analysis.class_stats``'s, on one scale
([0, 1]: coverage as a share of the K classes, entropy divided by log K).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def labeled_class_balance(labeled: pd.DataFrame, labels: np.ndarray, n_classes: int) -> pd.DataFrame:
    """Per trial (every column of ``labeled`` but ``cycle`` and ``index``) and cycle: ``n_labeled`` and the
    class statistics (``class_coverage``, ``class_entropy``, ``max_class_share``) of the cumulative labeled
    set (true ``labels`` by global index)."""
    from alnb.analysis.class_stats import CLASS_COLUMNS, class_statistics

    keys = [c for c in labeled.columns if c not in ("cycle", "index")]
    classes = pd.Series(np.asarray(labels)[labeled["index"].to_numpy()], index=labeled.index, name="label")
    counts = (
        labeled[[*keys, "cycle"]]
        .assign(label=classes)
        .groupby([*keys, "cycle", "label"], sort=True, dropna=False)
        .size()
        .unstack("label", fill_value=0)
        .reindex(columns=range(n_classes), fill_value=0)
    )
    cumulative = counts.groupby(level=keys, sort=False, dropna=False).cumsum()
    table = class_statistics(cumulative.to_numpy()).rename(columns={"size": "n_labeled"})
    table.index = cumulative.index
    return table[["n_labeled", *CLASS_COLUMNS]].reset_index()

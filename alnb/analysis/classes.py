"""Class balance of the growing labeled set, cycle by cycle: how many classes it covers and how evenly.

Read from ``labeled.csv`` (the labels acquired at each cycle, cycle 0 = the initial pool): at cycle t the
labeled set is everything acquired up to t. The class-distribution entropy is in nats; it is log K for a
perfectly balanced set of K classes and 0 for a single class.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def labeled_class_balance(labeled: pd.DataFrame, labels: np.ndarray, n_classes: int) -> pd.DataFrame:
    """Per trial (every column of ``labeled`` but ``cycle`` and ``index``) and cycle: ``n_labeled``,
    ``classes_covered`` and ``class_entropy`` of the cumulative labeled set (true ``labels`` by global index)."""
    keys = [c for c in labeled.columns if c not in ("cycle", "index")]
    classes = pd.Series(np.asarray(labels)[labeled["index"].to_numpy()], index=labeled.index, name="label")
    counts = (labeled[[*keys, "cycle"]].assign(label=classes)
              .groupby([*keys, "cycle", "label"], sort=True, dropna=False).size()
              .unstack("label", fill_value=0).reindex(columns=range(n_classes), fill_value=0))
    cumulative = counts.groupby(level=keys, sort=False, dropna=False).cumsum()
    totals = cumulative.sum(axis=1)
    shares = cumulative.div(totals, axis=0).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(shares > 0, shares * np.log(shares), 0.0).sum(axis=1)
    out = pd.DataFrame({"n_labeled": totals.to_numpy(), "classes_covered": (cumulative > 0).sum(axis=1).to_numpy(),
                        "class_entropy": entropy}, index=cumulative.index)
    return out.reset_index()

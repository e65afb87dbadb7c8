"""Sub-studies of a study: the same grid re-run with one factor changed, each in its own run directory.

Each sub-study's trials are keyed by the factor it changes (``store.FACTOR_KEYS``), and its rows carry
that factor as a column, so every summary keeps the sub-studies apart.
"""

from __future__ import annotations

import pandas as pd

from alnb.study import Study


def initial_size_ablation(study: Study, progress: bool = True) -> pd.DataFrame:
    """Re-run ``ablations.inits × ablations.queries`` for each of ``ablations.initial_sizes``.

    Each size is a sub-study in ``<run_dir>/ablation_initial_<size>``; rows carry ``initial_size``.
    """
    ab = study.params.ablations
    frames = []
    for size in ab.initial_sizes:
        variant = study.variant(f"ablation_initial_{size:g}", {"initial_size": size}, al={"initial_size": size})
        frames.append(variant.run(ab.inits, ab.queries, ab.seeds, progress=progress))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def imbalance_study(study: Study, progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run ``imbalance.inits × imbalance.queries`` on long-tailed versions of the dataset (Cui et al. 2019).

    Returns (results, initial pools with their labels), both with ``imbalance_factor``; each factor is a
    sub-study in ``<run_dir>/imbalance_<factor>``.
    """
    im = study.params.imbalance
    results, pools = [], []
    for factor in im.imbalance_factors:
        variant = study.variant(f"imbalance_{factor:g}", {"imbalance_factor": factor},
                                data={"imbalance_factor": factor})
        results.append(variant.run(im.inits, im.queries, im.seeds, progress=progress))
        built = variant.build_initial_pools(im.inits, im.seeds or study.params.al.seeds)
        labels = variant.dataset.train_labels.numpy()
        pools.append(built.assign(imbalance_factor=factor, label=labels[built["index"].to_numpy()]))
    empty = pd.DataFrame()
    return (pd.concat(results, ignore_index=True) if results else empty,
            pd.concat(pools, ignore_index=True) if pools else empty)

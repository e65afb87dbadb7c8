"""Analysis of a study's tidy tables: learning curves, AUBC, paired ALG-vs-ALR statistics, pool overlap.

Definitions (docs/statistics.md): AUBC is the trapezoid area under test accuracy against the
number of labels divided by the range of that axis; paired comparisons take per-seed differences
against ``random`` with the same query method, a 95% t-interval, the paired t-test and the Wilcoxon
signed-rank test, and Holm's step-down correction over the family of comparisons (``alnb.analysis.stats``).
Every summary keys a trial by all its factors (``core.trial_keys.trial_columns``): the main four and any
sub-study factor (initial size, imbalance factor, model initialisation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alnb.analysis.stats import holm, paired_test
from alnb.core.trial_keys import trial_columns


def curve_columns(results: pd.DataFrame) -> list[str]:
    """The columns of one learning curve: every trial factor except the seed."""
    return [k for k in trial_columns(results) if k != "seed"]


def learning_curves(results: pd.DataFrame, metric: str = "test_acc") -> pd.DataFrame:
    """Mean and std over seeds of ``metric`` per curve (every trial factor but the seed) and cycle."""
    grouped = results.groupby([*curve_columns(results), "cycle"], sort=True, dropna=False)
    out = grouped.agg(
        n_labeled=("n_labeled", "mean"), mean=(metric, "mean"), std=(metric, "std"), seeds=("seed", "nunique")
    ).reset_index()
    out["std"] = out["std"].fillna(0.0)
    return out


def aubc(results: pd.DataFrame, metric: str = "test_acc") -> pd.DataFrame:
    """Area under the budget curve per trial, normalised by the labeled range (reads as a mean accuracy)."""

    def area(trial: pd.DataFrame) -> float:
        trial = trial.sort_values("n_labeled")
        x, y = trial["n_labeled"].to_numpy(float), trial[metric].to_numpy(float)
        if len(x) < 2 or x[-1] == x[0]:
            return float(y.mean())
        return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / (x[-1] - x[0]))

    keys = trial_columns(results)
    rows = [
        {**dict(zip(keys, key)), "aubc": area(trial)} for key, trial in results.groupby(keys, sort=True, dropna=False)
    ]
    return pd.DataFrame(rows, columns=[*keys, "aubc"])


def trial_metric(results: pd.DataFrame, metric: str = "aubc", column: str = "test_acc") -> pd.DataFrame:
    """One value per trial: ``aubc``, ``al_phase`` (the AUBC over cycles ≥ 1 only: from the labeled size
    after the first query to the last, divided by that range; docs/statistics.md, cold start vs AL
    phase), ``final`` (last cycle) or ``initial`` (cycle 0) of ``column``."""
    if metric == "aubc":
        return aubc(results, column).rename(columns={"aubc": "value"})
    if metric == "al_phase":
        return aubc(results[results["cycle"] >= 1], column).rename(columns={"aubc": "value"})
    if metric not in ("final", "initial"):
        raise ValueError(f"metric: unknown {metric!r}; valid: aubc, al_phase, final, initial")
    keys = trial_columns(results)
    cycles = results.groupby(keys, dropna=False)["cycle"]
    idx = cycles.idxmax() if metric == "final" else cycles.idxmin()
    return results.loc[idx, [*keys, column]].rename(columns={column: "value"}).reset_index(drop=True)


def context_columns(results: pd.DataFrame) -> list[str]:
    """What a comparison of initial pools holds fixed: every curve factor but the init (query, sub-study ...)."""
    return [k for k in curve_columns(results) if k != "init"]


def beside_baseline(values: pd.DataFrame, baseline: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of every other init with a ``baseline`` column: the ``value`` of ``baseline`` in the same
    context (every factor but the init), ``extra`` columns (e.g. the cycle) and seed."""
    on = [*context_columns(values), *extra, "seed"]
    base = values.loc[values["init"] == baseline, [*on, "value"]].rename(columns={"value": "baseline"})
    return values[values["init"] != baseline].merge(base, on=on)


def _paired(values: pd.DataFrame, baseline: str, extra: list[str]) -> pd.DataFrame:
    """Per (context, ``extra``, guided init): ``paired_test`` of value − baseline over the shared seeds."""
    context = [*context_columns(values), *extra]
    guided = beside_baseline(values, baseline, tuple(extra))
    rows = []
    for key, grp in guided.groupby([*context, "init"], sort=True, dropna=False):
        d = (grp["value"] - grp["baseline"]).to_numpy(float)
        rows.append({**dict(zip([*context, "init"], key)), **paired_test(d), "guided_wins": int((d > 0).sum())})
    columns = [
        *context,
        "init",
        "n_seeds",
        "mean_diff",
        "sd_diff",
        "ci_low",
        "ci_high",
        "t_p",
        "wilcoxon_p",
        "guided_wins",
    ]
    return pd.DataFrame(rows, columns=columns)


def paired_comparison(
    results: pd.DataFrame, metric: str = "aubc", baseline: str = "random", column: str = "test_acc"
) -> pd.DataFrame:
    """Per comparison (every factor but init and seed held fixed, guided init): the mean paired difference
    to ``baseline`` over shared seeds, its 95% t-interval, the paired t-test, Wilcoxon signed-rank test
    (n ≥ 6) and Holm-adjusted t-test p-values over the whole family (``alnb.analysis.stats``)."""
    out = _paired(trial_metric(results, metric, column), baseline, [])
    out["t_p_holm"] = holm(out["t_p"].to_numpy()) if len(out) else []
    return out


def summary_table(results: pd.DataFrame, baseline: str = "random") -> pd.DataFrame:
    """The full table: per curve AUBC and final accuracy (mean ± std over seeds) and the paired AUBC
    difference to ``baseline`` with its 95% interval and Holm-adjusted p-value."""
    keys = trial_columns(results)
    per_trial = aubc(results).merge(trial_metric(results, "final").rename(columns={"value": "final"}), on=keys)
    curve = curve_columns(results)
    table = (
        per_trial.groupby(curve, dropna=False)
        .agg(
            seeds=("seed", "nunique"),
            aubc_mean=("aubc", "mean"),
            aubc_std=("aubc", "std"),
            final_mean=("final", "mean"),
            final_std=("final", "std"),
        )
        .reset_index()
    )
    paired = paired_comparison(results, "aubc", baseline)[[*curve, "mean_diff", "ci_low", "ci_high", "t_p_holm"]]
    table = table.merge(paired, on=curve, how="left")
    return table.rename(columns={"mean_diff": f"aubc_vs_{baseline}"})


def pool_overlap(labeled: pd.DataFrame) -> pd.DataFrame:
    """Jaccard overlap of the cumulative labeled sets of every pair of inits, per (query, seed, cycle),
    averaged over seeds: does a guided start still make a difference to what gets labeled later?"""
    rows = []
    for (dataset, query, seed), grp in labeled.groupby(["dataset", "query", "seed"], sort=True):
        inits = sorted(grp["init"].unique())
        for cycle in sorted(grp["cycle"].unique()):
            sets = {i: set(grp.loc[(grp["init"] == i) & (grp["cycle"] <= cycle), "index"]) for i in inits}
            for a_pos, a in enumerate(inits):
                for b in inits[a_pos + 1 :]:
                    union = len(sets[a] | sets[b])
                    rows.append(
                        {
                            "dataset": dataset,
                            "query": query,
                            "seed": seed,
                            "cycle": cycle,
                            "init_a": a,
                            "init_b": b,
                            "jaccard": len(sets[a] & sets[b]) / union if union else 1.0,
                        }
                    )
    df = pd.DataFrame(rows, columns=["dataset", "query", "seed", "cycle", "init_a", "init_b", "jaccard"])
    return df.groupby(["dataset", "query", "cycle", "init_a", "init_b"], as_index=False)["jaccard"].mean()


def class_coverage(
    pools: pd.DataFrame, labels: np.ndarray | None, n_classes: int, by: tuple[str, ...] = ("init", "seed")
) -> pd.DataFrame:
    """Per ``by`` group of ``pools`` (one labeled set each): its size and class statistics
    (``alnb.analysis.class_stats``: coverage, normalised entropy, largest class share, all in [0, 1]). A sample's
    class is ``labels[index]``, or the table's own ``label`` column when ``labels`` is None."""
    from alnb.analysis.class_stats import class_statistics

    by = [c for c in by if c in pools]
    classes = pools["label"].to_numpy() if labels is None else np.asarray(labels)[pools["index"].to_numpy()]
    counts = (
        pools[by]
        .assign(label=classes)
        .groupby([*by, "label"], sort=True)
        .size()
        .unstack("label", fill_value=0)
        .reindex(columns=range(n_classes), fill_value=0)
    )
    stats_table = class_statistics(counts.to_numpy())
    return pd.concat([counts.index.to_frame(index=False), stats_table], axis=1)


def class_histograms(pools: pd.DataFrame, labels: np.ndarray, n_classes: int) -> pd.DataFrame:
    """Mean count per class of each init's pool over seeds (long format: init, class, count)."""
    rows = []
    for init, grp in pools.groupby("init", sort=True):
        seeds = grp["seed"].nunique()
        counts = np.bincount(labels[grp["index"].to_numpy()], minlength=n_classes) / seeds
        rows += [{"init": init, "class": c, "count": float(counts[c])} for c in range(n_classes)]
    return pd.DataFrame(rows)


def embed_2d(features: np.ndarray, method: str = "tsne", seed: int = 0) -> np.ndarray:
    """A 2-D map of ``features`` (first reduced to 50 PCA components) by t-SNE (van der Maaten & Hinton 2008),
    UMAP (McInnes et al. 2018; seeded, so single-threaded) or PCA."""
    from sklearn.decomposition import PCA

    features = np.asarray(features, dtype=np.float32)
    if method == "pca":
        return PCA(2, random_state=seed).fit_transform(features)
    reduced = PCA(min(50, *features.shape), random_state=seed).fit_transform(features)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(5, (len(features) - 1) // 3)))
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(reduced)
    if method == "umap":
        import warnings

        with warnings.catch_warnings():  # tqdm.auto, imported by umap, warns in a kernel without ipywidgets
            warnings.filterwarnings("ignore", message="IProgress not found")
            import umap

        return umap.UMAP(random_state=seed, n_jobs=1).fit_transform(reduced)
    raise ValueError(f"visualization.method: unknown {method!r}; valid: tsne, umap, pca")

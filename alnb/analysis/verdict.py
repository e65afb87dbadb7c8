"""The study's answers, computed from its results: verdicts per initial pool, the penalty matrix,
gain curves, the power of the design, and the three questions of the plan answered in words.

Every number comes from ``results.csv`` (and ``pool_quality.csv`` for question 3); every sentence is
generated from those numbers, never written by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alnb.analysis import curves
from alnb.analysis.stats import ALPHA, min_detectable_difference, paired_test, spearman_with_bootstrap
from alnb.run.store import trial_columns

BASELINE = "random"


def pool_kind(init: str) -> str:
    """``oracle`` (reads labels: a reference, never a verdict), ``self-supervised`` (built from models
    trained on U without labels), ``baseline`` (random) or ``guided``."""
    from alnb.methods.pools import resolve_pool
    from alnb.methods.pretext import SELF_SUPERVISED_METHODS

    if init == BASELINE:
        return "baseline"
    strategy = resolve_pool(init)
    if getattr(strategy, "oracle", False):
        return "oracle"
    needs = {*strategy.pretext_tasks, *strategy.representations}
    return "self-supervised" if needs & set(SELF_SUPERVISED_METHODS) else "guided"


def seed_gains(results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Per (init, seed): the AUBC gain over ``baseline`` averaged over every comparison (query method and
    any sub-study factor), the per-seed quantity whose spread over seeds gives the verdict's interval."""
    merged = curves.beside_baseline(curves.trial_metric(results, "aubc"), baseline)
    merged["gain"] = merged["value"] - merged["baseline"]
    return merged.groupby(["init", "seed"], as_index=False)["gain"].mean()


def verdict_table(results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """One row per initial pool: mean paired AUBC gain over ``baseline`` across comparisons with its 95%
    t-interval over seeds; in how many comparisons it is significantly better, not different or worse
    (Holm-corrected over the whole family); its rank among the non-oracle pools (1 = best)."""
    comparisons = curves.paired_comparison(results, "aubc", baseline)
    significant = comparisons["t_p_holm"] < ALPHA
    comparisons["outcome"] = np.where(significant & (comparisons["mean_diff"] > 0), "better",
                                      np.where(significant & (comparisons["mean_diff"] < 0), "worse", "same"))
    counts = comparisons.groupby("init")["outcome"].value_counts().unstack(fill_value=0)
    rows = []
    for init, grp in seed_gains(results, baseline).groupby("init"):
        test = paired_test(grp["gain"].to_numpy())
        rows.append({"init": init, "kind": pool_kind(init), "seeds": test["n_seeds"],
                     "mean_gain": test["mean_diff"], "ci_low": test["ci_low"], "ci_high": test["ci_high"],
                     **{k: int(counts.loc[init].get(k, 0)) if init in counts.index else 0
                        for k in ("better", "same", "worse")}})
    table = pd.DataFrame(rows, columns=["init", "kind", "seeds", "mean_gain", "ci_low", "ci_high", "better", "same",
                                        "worse"])
    table = pd.concat([table, pd.DataFrame([{"init": baseline, "kind": "baseline", "mean_gain": 0.0}])],
                      ignore_index=True)
    table[["seeds", "better", "same", "worse"]] = table[["seeds", "better", "same", "worse"]].astype("Int64")
    ranked = table["kind"] != "oracle"
    table.loc[ranked, "rank"] = table.loc[ranked, "mean_gain"].rank(ascending=False, method="min")
    table["rank"] = table["rank"].astype("Int64")
    return table.sort_values(["rank", "init"], na_position="last").reset_index(drop=True)


def gain_curves(results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Per (init, cycle): the test-accuracy gain over ``baseline`` averaged over comparisons per seed,
    then its mean and 95% t-interval over seeds."""
    values = results[[*trial_columns(results), "cycle", "n_labeled", "test_acc"]].rename(columns={"test_acc": "value"})
    merged = curves.beside_baseline(values, baseline, ("cycle",))
    merged["gain"] = merged["value"] - merged["baseline"]
    per_seed = merged.groupby(["init", "cycle", "seed"], as_index=False).agg(gain=("gain", "mean"),
                                                                              n_labeled=("n_labeled", "mean"))
    rows = []
    for (init, cycle), grp in per_seed.groupby(["init", "cycle"]):
        test = paired_test(grp["gain"].to_numpy())
        rows.append({"init": init, "kind": pool_kind(init), "cycle": cycle, "n_labeled": grp["n_labeled"].mean(),
                     "mean_gain": test["mean_diff"], "ci_low": test["ci_low"], "ci_high": test["ci_high"]})
    return pd.DataFrame(rows)


def penalty_matrix(results: pd.DataFrame) -> pd.DataFrame:
    """Pairwise penalty matrix (Lüth et al., NeurIPS 2023, after Ash et al. 2020) over initial pools.

    At every (comparison, cycle) point, pools a and b are compared by a seed-paired t-test (α = 0.05);
    entry (a, b) is the share of points where a is significantly better than b. Column sums rank pools
    (a small column sum: rarely beaten)."""
    keys = trial_columns(results)
    context = curves.context_columns(results)
    values = results[[*keys, "cycle", "test_acc"]]
    inits = sorted(values["init"].unique())
    wins = pd.DataFrame(0.0, index=pd.Index(inits, name="better"), columns=pd.Index(inits, name="than"))
    points = 0
    for _, grp in values.groupby([*context, "cycle"], dropna=False):
        table = grp.pivot_table(index="seed", columns="init", values="test_acc")
        points += 1
        for a in table.columns:
            for b in table.columns:
                if a == b:
                    continue
                d = (table[a] - table[b]).dropna().to_numpy()
                test = paired_test(d)
                if test["t_p"] < ALPHA and test["mean_diff"] > 0:
                    wins.loc[a, b] += 1
    return wins / max(points, 1)


def design_power(results: pd.DataFrame, baseline: str = BASELINE) -> dict[str, float]:
    """Seeds, the observed paired standard deviation of AUBC differences (root mean square over every
    comparison) and the smallest difference the design detects at 80% power (α = 0.05, two-sided)."""
    comparisons = curves.paired_comparison(results, "aubc", baseline)
    sd = float(np.sqrt(np.nanmean(comparisons["sd_diff"] ** 2))) if len(comparisons) else float("nan")
    n = int(comparisons["n_seeds"].min()) if len(comparisons) else 0
    return {"seeds": n, "paired_sd": sd, "min_detectable": min_detectable_difference(sd, n)}


def quality_with_gain(quality: pd.DataFrame, results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Pool properties per (init, seed) beside cycle-0 accuracy and the AUBC gain over ``baseline`` (the
    baseline's own pools count too, with gain 0); oracle pools are left out."""
    cycle0 = results[results["cycle"] == 0].groupby(["init", "seed"], as_index=False)["test_acc"].mean()
    base = results.loc[results["init"] == baseline, ["seed"]].drop_duplicates().assign(init=baseline, gain=0.0)
    gains = pd.concat([seed_gains(results, baseline), base], ignore_index=True)
    table = (quality.merge(cycle0.rename(columns={"test_acc": "cycle0_acc"}), on=["init", "seed"])
             .merge(gains, on=["init", "seed"]))
    return table[table["init"].map(pool_kind) != "oracle"].reset_index(drop=True)


def quality_correlations(quality: pd.DataFrame, results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Spearman's ρ between each pool property (per init and seed, cycle-0 accuracy included) and the
    pool's AUBC gain over ``baseline``, with 95% bootstrap intervals over seeds."""
    from alnb.analysis.quality import PROPERTY_LABELS

    table = quality_with_gain(quality, results, baseline)
    rows = []
    for prop, label in PROPERTY_LABELS.items():
        if prop in table:
            rho, low, high = spearman_with_bootstrap(table[prop], table["gain"], table["seed"])
            rows.append({"property": prop, "label": label, "spearman": rho, "ci_low": low, "ci_high": high,
                         "pools": len(table)})
    return pd.DataFrame(rows, columns=["property", "label", "spearman", "ci_low", "ci_high", "pools"])


def _power_clause(power: dict) -> str:
    return (f"({power['seeds']} seeds; observed paired SD of AUBC differences {power['paired_sd']:.3f}; "
            f"the smallest AUBC difference this design detects at 80% power is about "
            f"{power['min_detectable']:.3f})")


def _interval(row: pd.Series) -> str:
    return f"{row['mean_gain']:+.3f} AUBC (95% CI {row['ci_low']:+.3f} to {row['ci_high']:+.3f})"


def _pool_verdict(pools: pd.DataFrame, what: str, n_comparisons: int) -> str:
    """One sentence on a set of pools: which beat random on average over query methods (95% interval above
    zero), which do worse (below zero), the best one, and the single-method comparisons after Holm."""
    best = pools.sort_values("mean_gain", ascending=False).iloc[0]
    above, below = pools[pools["ci_low"] > 0], pools[pools["ci_high"] < 0]
    listed = lambda t: ", ".join(f"{r['init']} {r['mean_gain']:+.3f}" for _, r in t.iterrows())  # noqa: E731
    better, worse = int(pools["better"].sum()), int(pools["worse"].sum())
    single = (f"within single query methods, after Holm, {better} of {len(pools) * n_comparisons} comparisons are "
              f"significantly better and {worse} significantly worse")
    tail = f"{len(below)} do significantly worse ({listed(below)})" if len(below) else "none does significantly worse"
    if len(above):
        word = "Yes" if better else "Partly (on average, not within any single query method)"
        return (f"{word}: averaged over query methods, {len(above)} of {len(pools)} {what} beat random with a 95% "
                f"interval above zero ({listed(above)}), {tail}; the best, {best['init']}, gains {_interval(best)}; "
                f"{single}")
    return (f"Not shown: none of {len(pools)} {what} has a 95% interval above zero; {tail}; the best, "
            f"{best['init']}, gains {_interval(best)}; {single}")


def answers(results: pd.DataFrame, correlations: pd.DataFrame | None = None,
            baseline: str = BASELINE, verdicts: pd.DataFrame | None = None) -> dict[str, str]:
    """The plan's three questions answered in one sentence each, generated from the numbers;
    ``verdicts``: :func:`verdict_table` of ``results``, when the caller has it already."""
    verdicts = verdict_table(results, baseline) if verdicts is None else verdicts
    power = design_power(results, baseline)
    n_comparisons = results[results["init"] == baseline].groupby(curves.context_columns(results)).ngroups
    candidates = verdicts[verdicts["kind"].isin(["guided", "self-supervised"])]
    out = {}
    if not len(candidates):
        out["q1"] = "No guided initial pool was run against the random one, so the question is not answered here."
    else:
        out["q1"] = f"{_pool_verdict(candidates, 'guided pools', n_comparisons)} {_power_clause(power)}."
    ssl = verdicts[verdicts["kind"] == "self-supervised"]
    if not len(ssl):
        out["q2"] = "No pool built from a self-supervised model was run, so the question is not answered here."
    else:
        out["q2"] = (f"{_pool_verdict(ssl, 'pools built from self-supervised models trained on U without labels', n_comparisons)}"
                     f" {_power_clause(power)}.")
    if correlations is None or not len(correlations) or correlations["spearman"].isna().all():
        out["q3"] = "Pool properties were not measured (notebook 06 computes them), so the question is not answered here."
    else:
        ranked = correlations.dropna(subset=["spearman"]).assign(strength=lambda t: t["spearman"].abs())
        ranked = ranked.sort_values("strength", ascending=False)
        top = ranked.iloc[0]
        others = "; ".join(f"{r['label']} ρ = {r['spearman']:+.2f}" for _, r in ranked.iloc[1:].iterrows())
        holds = "its interval excludes 0" if top["ci_low"] > 0 or top["ci_high"] < 0 else "its interval includes 0"
        out["q3"] = (f"Across {int(top['pools'])} pools (init × seed), the AUBC gain over random follows "
                     f"{top['label']} most closely (Spearman ρ = {top['spearman']:+.2f}, 95% bootstrap CI over seeds "
                     f"{top['ci_low']:+.2f} to {top['ci_high']:+.2f}; {holds}); {others}.")
    return out


CLUSTERING_PREFIXES = ("kmeans", "deepcluster")


def relative_gains(results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Per (init, seed): the AUBC gain over ``baseline`` relative to the baseline's AUBC, averaged over
    comparisons (query methods): a scale-free gain that can be compared across datasets."""
    merged = curves.beside_baseline(curves.trial_metric(results, "aubc"), baseline)
    merged["relative_gain"] = (merged["value"] - merged["baseline"]) / merged["baseline"]
    return merged.groupby(["init", "seed"], as_index=False)["relative_gain"].mean()


def compare_runs(results_a: pd.DataFrame, results_b: pd.DataFrame, names: tuple[str, str],
                 inits: list[str] | None = None) -> pd.DataFrame:
    """The relative AUBC gain of the clustering pools (``kmeans*``, ``deepcluster*``; or ``inits``) in two
    studies (e.g. MNIST and TinyImageNet): per pool, each study's mean with its 95% t-interval over seeds,
    and Welch's t-test of the difference (the seeds of two datasets are independent, not paired)."""
    from scipy import stats

    gains = [relative_gains(results_a), relative_gains(results_b)]
    shared = sorted(set(gains[0]["init"]) & set(gains[1]["init"]))
    inits = inits or [i for i in shared if i.startswith(CLUSTERING_PREFIXES)]
    rows = []
    for init in inits:
        row = {"init": init}
        samples = []
        for name, table in zip(names, gains):
            values = table.loc[table["init"] == init, "relative_gain"].to_numpy()
            test = paired_test(values)
            row.update({f"{name}_gain": test["mean_diff"], f"{name}_ci_low": test["ci_low"],
                        f"{name}_ci_high": test["ci_high"], f"{name}_seeds": test["n_seeds"]})
            samples.append(values)
        row["difference"] = row[f"{names[0]}_gain"] - row[f"{names[1]}_gain"]
        enough = all(len(v) > 1 for v in samples) and any(np.ptp(v) > 0 for v in samples)
        row["welch_p"] = float(stats.ttest_ind(*samples, equal_var=False).pvalue) if enough else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)

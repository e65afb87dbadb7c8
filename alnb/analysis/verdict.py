"""The study's verdict, computed once from its results: the pre-specified primary family and its power, the
secondary per-query tests, the cold-start and AL-phase gains, the penalty matrix, gain curves, the best pool
against its runner-up, where the oracle stands, why pools collapse, and question 3 over pool types
(docs/statistics.md). :func:`compute_verdict` returns them as one :class:`Verdict`; the words are
:mod:`alnb.analysis.answers`, the front page ``alnb.report.frontpage``.

- **Primary family** (declared in advance): one test per guided pool of its pool-level gain, the per-seed
  AUBC gain over random averaged over the query methods, Holm over the guided pools only (oracle and
  random are not in it). Its power is stated at each test's Holm level.
- **Secondary family**: one test per (guided pool, query method), Holm over those; reported as secondary.
- "Better" and "worse" are outcomes of corrected tests only; otherwise "could not tell", with the
  difference the test could have detected at 80% power.

Every number comes from ``results.csv`` (and ``pool_quality.csv`` for question 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alnb.analysis import curves
from alnb.analysis.stats import ALPHA, correlation_over_groups, detectable_difference, holm, holm_levels, paired_test
from alnb.core.trial_keys import trial_columns

BASELINE = "random"
GUIDED_KINDS = ("guided", "self-supervised")
POWER = 0.8


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


def seed_gains(results: pd.DataFrame, baseline: str = BASELINE, metric: str = "aubc") -> pd.DataFrame:
    """Per (init, seed): the gain in ``metric`` (``aubc``, ``al_phase`` or ``initial``: cycle 0) over
    ``baseline`` averaged over every comparison (query method and any sub-study factor): the pool-level
    per-seed quantity of the primary family."""
    merged = curves.beside_baseline(curves.trial_metric(results, metric), baseline)
    merged["gain"] = merged["value"] - merged["baseline"]
    return merged.groupby(["init", "seed"], as_index=False)["gain"].mean()


def _outcome(adjusted_p: float, mean: float) -> str:
    if adjusted_p < ALPHA:
        return "better" if mean > 0 else "worse"
    return "could not tell"


def with_holm(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (one paired test per row) with Holm-adjusted p, each test's Holm level, the difference
    it detects at 80% power at that level, the interval at that level, and its outcome."""
    table = table.copy()
    if not len(table):
        return table.assign(p_holm=[], level=[], detectable=[], corrected_low=[], corrected_high=[], outcome=[])
    from scipy import stats

    table["p_holm"] = holm(table["t_p"].to_numpy())
    table["level"] = holm_levels(table["t_p"].to_numpy())
    table["detectable"] = [
        detectable_difference(sd, n, level, POWER)
        for sd, n, level in zip(table["sd_diff"], table["n_seeds"], table["level"])
    ]
    half = [
        stats.t.ppf(1 - level / 2, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
        for sd, n, level in zip(table["sd_diff"], table["n_seeds"], table["level"])
    ]
    table["corrected_low"] = table["mean_diff"] - np.asarray(half, float)
    table["corrected_high"] = table["mean_diff"] + np.asarray(half, float)
    table["outcome"] = [_outcome(p, m) for p, m in zip(table["p_holm"], table["mean_diff"])]
    return table


def primary_family(results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """The primary family: per guided pool, the paired test of its per-seed pool-level AUBC gain over
    ``baseline`` (mean over query methods), Holm over the guided pools only; each test's Holm level, the
    difference it detects at 80% power there (noncentral t), the interval at that level and its outcome."""
    gains = seed_gains(results, baseline)
    rows = [
        {"init": init, "kind": pool_kind(init), **paired_test(grp["gain"].to_numpy())}
        for init, grp in gains.groupby("init", sort=True)
    ]
    table = pd.DataFrame(
        rows, columns=["init", "kind", "n_seeds", "mean_diff", "sd_diff", "ci_low", "ci_high", "t_p", "wilcoxon_p"]
    )
    return with_holm(table[table["kind"].isin(GUIDED_KINDS)].reset_index(drop=True))


def secondary_family(results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """The secondary family: per (guided pool, comparison: query method and any sub-study factor), the
    paired AUBC test against ``baseline``, Holm over these tests only (oracle pools are not in it)."""
    comparisons = curves.paired_comparison(results, "aubc", baseline).drop(columns="t_p_holm")
    guided = comparisons[comparisons["init"].map(pool_kind).isin(GUIDED_KINDS)].reset_index(drop=True)
    return with_holm(guided)


def family_against(results: pd.DataFrame, baseline: str = BASELINE, column: str = "test_acc") -> pd.DataFrame:
    """A sub-study's family: per pool and comparison, the paired AUBC test of ``column`` against ``baseline``,
    Holm over the table (:func:`with_holm`)."""
    return with_holm(curves.paired_comparison(results, "aubc", baseline, column).drop(columns="t_p_holm"))


def design_power(primary: pd.DataFrame, secondary: pd.DataFrame) -> dict[str, float]:
    """The power of the primary family as designed: seeds, guided pools m, the pooled paired SD of the
    pool-level AUBC gains (root mean square over pools), and the smallest gain it detects at 80% power
    at the first Holm step α/m (the strictest level any of its tests is run at); the same for the
    secondary family (``secondary_*``)."""
    out = {}
    for prefix, family in (("", primary), ("secondary_", secondary)):
        m = len(family)
        sd = float(np.sqrt(np.nanmean(family["sd_diff"] ** 2))) if m else float("nan")
        n = int(family["n_seeds"].min()) if m else 0
        level = ALPHA / m if m else float("nan")
        out.update(
            {
                f"{prefix}tests": m,
                f"{prefix}seeds": n,
                f"{prefix}paired_sd": sd,
                f"{prefix}level": level,
                f"{prefix}detectable": detectable_difference(sd, n, level, POWER) if m else float("nan"),
            }
        )
    return out


def gain_curves(results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Per (init, cycle): the test-accuracy gain over ``baseline`` averaged over comparisons per seed,
    then its mean and 95% t-interval over seeds."""
    values = results[[*trial_columns(results), "cycle", "n_labeled", "test_acc"]].rename(columns={"test_acc": "value"})
    merged = curves.beside_baseline(values, baseline, ("cycle",))
    merged["gain"] = merged["value"] - merged["baseline"]
    per_seed = merged.groupby(["init", "cycle", "seed"], as_index=False).agg(
        gain=("gain", "mean"), n_labeled=("n_labeled", "mean")
    )
    rows = []
    for (init, cycle), grp in per_seed.groupby(["init", "cycle"]):
        test = paired_test(grp["gain"].to_numpy())
        rows.append(
            {
                "init": init,
                "kind": pool_kind(init),
                "cycle": cycle,
                "n_labeled": grp["n_labeled"].mean(),
                "mean_gain": test["mean_diff"],
                "ci_low": test["ci_low"],
                "ci_high": test["ci_high"],
            }
        )
    return pd.DataFrame(rows, columns=["init", "kind", "cycle", "n_labeled", "mean_gain", "ci_low", "ci_high"])


def advantage_ends(by_cycle: pd.DataFrame) -> pd.Series:
    """Per init: the first labeled-set size at which the gain's uncorrected per-cycle 95% interval includes 0
    (NaN: never). A marker for the eye, not a test that the advantage has ended."""
    includes = by_cycle[(by_cycle["ci_low"] <= 0) & (by_cycle["ci_high"] >= 0)]
    first = includes.sort_values("cycle").groupby("init")["n_labeled"].first()
    return first.reindex(sorted(by_cycle["init"].unique()))


def phase_table(results: pd.DataFrame, baseline: str = BASELINE, by_cycle: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per pool (every init but ``baseline``): the cold-start gain (test accuracy at cycle 0) and the
    AL-phase gain (AUBC over cycles ≥ 1 only), each a per-seed mean over query methods with its 95%
    t-interval, its t-test p and that p after Holm over the guided pools (``*_p_holm``, NaN for the others);
    the full AUBC gain split exactly into what its first trapezoid (cycle 0 to 1) holds (``aubc_from_cycle0``)
    and the rest; and the first labeled size at which the gain's uncorrected per-cycle 95% interval includes 0
    (``by_cycle``: :func:`gain_curves`, computed here when not given)."""
    sizes = results.groupby("cycle")["n_labeled"].mean().sort_index()
    span = sizes.iloc[-1] - sizes.iloc[0] if len(sizes) > 1 else np.nan
    first_segment = (sizes.iloc[1] - sizes.iloc[0]) / span if len(sizes) > 1 else np.nan
    gains = {
        metric: seed_gains(results, baseline, metric).set_index(["init", "seed"])["gain"]
        for metric in ("initial", "al_phase", "aubc")
    }
    by_cycle = gain_curves(results, baseline) if by_cycle is None else by_cycle
    ends = advantage_ends(by_cycle)
    start = by_cycle[by_cycle["cycle"] == by_cycle["cycle"].min()].set_index("init")["mean_gain"]
    rows = []
    for init in sorted(gains["aubc"].index.get_level_values("init").unique()):
        row = {"init": init, "kind": pool_kind(init)}
        for metric, name in (("initial", "cycle0"), ("al_phase", "al_phase"), ("aubc", "aubc")):
            test = paired_test(gains[metric].loc[init].to_numpy()) if init in gains[metric].index else {}
            row.update(
                {
                    f"{name}_gain": test.get("mean_diff", np.nan),
                    f"{name}_low": test.get("ci_low", np.nan),
                    f"{name}_high": test.get("ci_high", np.nan),
                    f"{name}_p": test.get("t_p", np.nan),
                }
            )
        # the full AUBC's first trapezoid, (g0 + g1)/2 · Δ1 / range, holds half of it from cycle 0
        row["aubc_from_cycle0"] = start.get(init, np.nan) * first_segment / 2
        row["aubc_after_cycle0"] = row["aubc_gain"] - row["aubc_from_cycle0"]
        row["advantage_ends_at"] = ends.get(init, np.nan)
        rows.append(row)
    table = pd.DataFrame(rows)
    guided = table["kind"].isin(GUIDED_KINDS) if len(table) else pd.Series(dtype=bool)
    for name in ("cycle0", "al_phase"):
        table[f"{name}_p_holm"] = np.nan
        if guided.any():
            table.loc[guided, f"{name}_p_holm"] = holm(table.loc[guided, f"{name}_p"].to_numpy())
    return table


def penalty_matrix(results: pd.DataFrame) -> pd.DataFrame:
    """Pairwise penalty matrix (Lüth et al., NeurIPS 2023, after Ash et al. 2020) over initial pools.

    At every (comparison, cycle) point, pools a and b are compared by a seed-paired t-test (α = 0.05);
    entry (a, b) is the share of points where a is significantly better than b. Column sums rank pools
    (a small column sum: rarely beaten). Cycle 0 comes before any query, so it is one point per context
    without the query method (its accuracies averaged over query methods per seed), not one per method."""
    keys = trial_columns(results)
    context = curves.context_columns(results)
    values = results[[*keys, "cycle", "test_acc"]]
    inits = sorted(values["init"].unique())
    wins = pd.DataFrame(0.0, index=pd.Index(inits, name="better"), columns=pd.Index(inits, name="than"))
    without_query = [c for c in context if c != "query"]
    groups = [grp for _, grp in values[values["cycle"] > 0].groupby([*context, "cycle"], dropna=False)]
    groups += [grp for _, grp in values[values["cycle"] == 0].groupby([*without_query, "cycle"], dropna=False)]
    for grp in groups:
        table = grp.pivot_table(index="seed", columns="init", values="test_acc", aggfunc="mean")
        for a in table.columns:
            for b in table.columns:
                if a == b:
                    continue
                test = paired_test((table[a] - table[b]).dropna().to_numpy())
                if test["t_p"] < ALPHA and test["mean_diff"] > 0:
                    wins.loc[a, b] += 1
    return wins / max(len(groups), 1)


def quality_with_gain(quality: pd.DataFrame, results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Pool properties per (init, seed) beside cycle-0 accuracy, the AUBC gain and the AL-phase gain over
    ``baseline`` (the baseline's own pools count too, with gain 0); oracle pools and pools without AL
    results are left out."""
    cycle0 = results[results["cycle"] == 0].groupby(["init", "seed"], as_index=False)["test_acc"].mean()
    base = results.loc[results["init"] == baseline, ["seed"]].drop_duplicates().assign(init=baseline, gain=0.0)
    gains = pd.concat([seed_gains(results, baseline), base], ignore_index=True)
    phase = pd.concat([seed_gains(results, baseline, "al_phase"), base], ignore_index=True)
    table = (
        quality.merge(cycle0.rename(columns={"test_acc": "cycle0_acc"}), on=["init", "seed"])
        .merge(gains, on=["init", "seed"])
        .merge(phase.rename(columns={"gain": "al_phase_gain"}), on=["init", "seed"])
    )
    return table[table["init"].map(pool_kind) != "oracle"].reset_index(drop=True)


CORRELATION_COLUMNS = [
    "property",
    "label",
    "role",
    "pool_types",
    "rho_over_types",
    "ci_low",
    "ci_high",
    "permutation_p",
    "permutation_p_holm",
    "rho_within_type",
    "within_p",
    "within_p_holm",
    "pools",
    "within_pools",
]


def quality_correlations(quality: pd.DataFrame, results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Question 3 over the right units. Pools of one type across seeds are not independent, so per pool
    property: Spearman's ρ between the pool-type means of the property and of the AL-phase gain over
    ``baseline``, with a 95% bootstrap interval over pool types and its permutation p-value, and the
    within-type ρ across seeds (deviations from each type's means) with its p-value; both p-values also
    after Holm over the properties tested (``*_p_holm``). ``pools``: the pools measured; ``within_pools``:
    those in the within-type ρ (types whose gain varies over seeds; the baseline's own gain is 0 on every
    seed). Cycle-0 accuracy is part of the AUBC, a consequence of the pool rather than a cause: it is shown
    apart (``role`` = consequence) and is not in the Holm family."""
    from alnb.analysis.quality import CONSEQUENCE_LABELS, PROPERTY_LABELS

    table = quality_with_gain(quality, results, baseline)
    rows = []
    for role, labels in (("property", PROPERTY_LABELS), ("consequence", CONSEQUENCE_LABELS)):
        for prop, label in labels.items():
            if prop in table:
                r = correlation_over_groups(table[prop], table["al_phase_gain"], table["init"])
                rows.append(
                    {
                        "property": prop,
                        "label": label,
                        "role": role,
                        "pool_types": r["groups"],
                        "rho_over_types": r["between"],
                        "ci_low": r["between_low"],
                        "ci_high": r["between_high"],
                        "permutation_p": r["between_p"],
                        "rho_within_type": r["within"],
                        "within_p": r["within_p"],
                        "pools": len(table),
                        "within_pools": r["within_points"],
                    }
                )
    out = pd.DataFrame(rows, columns=CORRELATION_COLUMNS)
    for column in ("permutation_p", "within_p"):
        tested = (out["role"] == "property") & out[column].notna()
        if tested.any():
            out.loc[tested, f"{column}_holm"] = holm(out.loc[tested, column].to_numpy())
    return out


def verdict_table(
    primary: pd.DataFrame, secondary: pd.DataFrame, phases: pd.DataFrame, gains: pd.DataFrame, baseline: str = BASELINE
) -> pd.DataFrame:
    """One row per initial pool: the primary test (pool-level AUBC gain over ``baseline`` with its 95%
    t-interval over seeds, Holm p over the guided pools, outcome, the gain it could detect), the
    secondary counts (query methods where the per-query test, Holm over every guided pool × query, says
    better / could not tell / worse), and the cold-start and AL-phase gains. Oracle pools get their
    numbers beside, never a verdict; the baseline a row of zeros. From :func:`primary_family`,
    :func:`secondary_family`, :func:`phase_table` and :func:`seed_gains`."""
    primary = primary.set_index("init")
    counts = secondary.groupby("init")["outcome"].value_counts().unstack(fill_value=0)
    phases = phases.set_index("init")
    rows = []
    for init, phase in phases.iterrows():
        test = paired_test(gains.loc[gains["init"] == init, "gain"].to_numpy())
        row = {
            "init": init,
            "kind": phase["kind"],
            "seeds": test["n_seeds"],
            "mean_gain": test["mean_diff"],
            "ci_low": test["ci_low"],
            "ci_high": test["ci_high"],
        }
        if init in primary.index:
            p = primary.loc[init]
            row.update(
                {
                    "p_holm": p["p_holm"],
                    "outcome": p["outcome"],
                    "detectable": p["detectable"],
                    **{
                        k: int(counts.loc[init].get(k, 0)) if init in counts.index else 0
                        for k in ("better", "could not tell", "worse")
                    },
                }
            )
        else:
            row["outcome"] = "reference (oracle)" if phase["kind"] == "oracle" else "—"
        row.update(
            {
                "cycle0_gain": phase["cycle0_gain"],
                "al_phase_gain": phase["al_phase_gain"],
                "al_phase_low": phase["al_phase_low"],
                "al_phase_high": phase["al_phase_high"],
                "advantage_ends_at": phase["advantage_ends_at"],
            }
        )
        rows.append(row)
    columns = [
        "init",
        "kind",
        "seeds",
        "mean_gain",
        "ci_low",
        "ci_high",
        "p_holm",
        "outcome",
        "detectable",
        "better",
        "could not tell",
        "worse",
        "cycle0_gain",
        "al_phase_gain",
        "al_phase_low",
        "al_phase_high",
        "advantage_ends_at",
    ]
    table = pd.DataFrame(rows, columns=columns)
    table = pd.concat(
        [table, pd.DataFrame([{"init": baseline, "kind": "baseline", "mean_gain": 0.0, "outcome": "baseline"}])],
        ignore_index=True,
    )
    for column in ("seeds", "better", "could not tell", "worse"):
        table[column] = table[column].astype("Int64")
    order = table["kind"].map({"guided": 0, "self-supervised": 0, "baseline": 1, "oracle": 2})
    return (
        table.assign(_order=order)
        .sort_values(["_order", "mean_gain"], ascending=[True, False])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def best_against_runner_up(primary: pd.DataFrame, gains: pd.DataFrame) -> dict | None:
    """The pool better than random with the highest lower end of its interval at its Holm level, against the
    runner-up (the next guided pool by that lower end): the seed-paired t-test of their per-seed pool-level
    AUBC gains (level α). A best pool is named only where it ``beats`` the runner-up here (None: no pool is
    better than random)."""
    better = primary[primary["outcome"] == "better"]
    if not len(better):
        return None
    ranked = primary.sort_values("corrected_low", ascending=False, kind="stable")
    best = better.loc[better["corrected_low"].idxmax()]
    others = ranked[ranked["init"] != best["init"]]
    out = {"best": best["init"], "runner_up": None, "beats": True}
    if len(others):
        runner = others.iloc[0]["init"]
        per_seed = gains.pivot_table(index="seed", columns="init", values="gain")
        test = paired_test((per_seed[best["init"]] - per_seed[runner]).dropna().to_numpy())
        beats = bool(test["t_p"] < ALPHA and test["mean_diff"] > 0)
        out.update({"runner_up": runner, "beats": beats, **{f"difference_{k}": v for k, v in test.items()}})
    return out


def oracle_comparison(results: pd.DataFrame, gains: pd.DataFrame, baseline: str = BASELINE) -> dict | None:
    """Where the class-balanced oracle stands: its own paired test against ``baseline`` (``own``), and each
    guided pool against it at cycle 0 (``initial``) and over the AUBC (``aubc``): per-seed pool-level
    differences, Holm over the guided pools (None without an oracle pool)."""
    oracles = [i for i in results["init"].unique() if pool_kind(i) == "oracle"]
    if not oracles:
        return None
    oracle = oracles[0]
    out = {"init": oracle, "own": paired_test(gains.loc[gains["init"] == oracle, "gain"].to_numpy())}
    for metric in ("initial", "aubc"):
        rows = [
            {"init": i, **paired_test(g["gain"].to_numpy())}
            for i, g in seed_gains(results, oracle, metric).groupby("init")
            if pool_kind(i) in GUIDED_KINDS
        ]
        out[metric] = with_holm(pd.DataFrame(rows)) if rows else None
    return out


def collapse_table(quality: pd.DataFrame | None, gains: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame | None:
    """Why a pool collapses: the (up to 3) pools whose class coverage falls furthest below the ``baseline``
    pool's on average, then the baseline itself (``is_baseline``): per pool the range over seeds of its
    size, of the images it takes from its largest class and of the classes it covers, its mean largest
    class share and its mean AUBC gain (None without the pool-quality columns)."""
    if quality is None or not {"class_coverage", "max_class_share", "size", "n_classes"} <= set(quality.columns):
        return None
    q = quality[quality["init"].map(pool_kind) != "oracle"].assign(
        covered=lambda t: (t["class_coverage"] * t["n_classes"]).round().astype(int),
        largest=lambda t: (t["max_class_share"] * t["size"]).round().astype(int),
    )
    mean_coverage = q.groupby("init")["class_coverage"].mean().sort_values()
    reference = mean_coverage.get(baseline, np.nan)
    low = [i for i in mean_coverage.index if i != baseline and np.isfinite(reference) and mean_coverage[i] < reference]
    mean_gain = gains.groupby("init")["gain"].mean()
    rows = []
    for init in [*low[:3], baseline]:
        pools = q[q["init"] == init]
        rows.append(
            {
                "init": init,
                "is_baseline": init == baseline,
                "n_classes": int(q["n_classes"].iloc[0]),
                **{f"{c}_{end}": pools[c].agg(end) for c in ("size", "largest", "covered") for end in ("min", "max")},
                "max_class_share": pools["max_class_share"].mean(),
                "gain": mean_gain.get(init, np.nan),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Verdict:
    """Everything the study's answers say, computed once from ``results.csv`` and ``pool_quality.csv``
    (:func:`compute_verdict`); the words (:mod:`alnb.analysis.answers`), the front page's tables and
    its figures are rendered from it.

    ``primary``/``secondary``: the two families (:func:`with_holm` rows); ``power``: :func:`design_power`;
    ``gains``: per-seed pool-level AUBC gains; ``phases``: :func:`phase_table`; ``by_cycle`` and ``ends``:
    the gain curves and where their intervals first include 0; ``table``: :func:`verdict_table`; ``best``:
    :func:`best_against_runner_up` among all guided pools (``guided``) and among the self-supervised ones; ``oracle``: :func:`oracle_comparison`; ``collapse``:
    :func:`collapse_table`; ``correlations``: :func:`quality_correlations` (question 3); ``penalty``:
    :func:`penalty_matrix`; ``full``: per (pool, query) AUBC and final accuracy with the secondary family's
    Holm p and outcome; ``dataset``, ``train_images``: what the study ran on (for the seed-study paragraph)."""

    baseline: str
    primary: pd.DataFrame
    secondary: pd.DataFrame
    power: dict
    gains: pd.DataFrame
    phases: pd.DataFrame
    by_cycle: pd.DataFrame
    ends: pd.Series
    table: pd.DataFrame
    best: dict[str, dict | None]
    oracle: dict | None
    collapse: pd.DataFrame | None
    correlations: pd.DataFrame | None
    penalty: pd.DataFrame
    full: pd.DataFrame
    dataset: str
    train_images: int | None


def compute_verdict(
    results: pd.DataFrame,
    quality: pd.DataFrame | None = None,
    dataset: str | None = None,
    train_images: int | None = None,
    baseline: str = BASELINE,
    pool_types: pd.DataFrame | None = None,
) -> Verdict:
    """The study's :class:`Verdict` from its ``results`` (and ``quality``: its ``pool_quality.csv``). Question 3
    correlates the pools' properties with the AL-phase gains of ``pool_types`` (the random query's trials from every
    pool the study builds: :func:`alnb.run.substudies.pool_type_results`) when given, else of ``results``."""
    primary = primary_family(results, baseline)
    secondary = secondary_family(results, baseline)
    gains = seed_gains(results, baseline)
    by_cycle = gain_curves(results, baseline)
    phases = phase_table(results, baseline, by_cycle)
    curve = curves.curve_columns(results)
    full = (
        curves.summary_table(results, baseline)
        .drop(columns="t_p_holm")
        .merge(secondary[[*curve, "p_holm", "outcome"]], on=curve, how="left")
    )
    return Verdict(
        baseline=baseline,
        primary=primary,
        secondary=secondary,
        power=design_power(primary, secondary),
        gains=gains,
        phases=phases,
        by_cycle=by_cycle,
        ends=advantage_ends(by_cycle),
        table=verdict_table(primary, secondary, phases, gains, baseline),
        best={
            "guided": best_against_runner_up(primary, gains),
            "self-supervised": best_against_runner_up(primary[primary["kind"] == "self-supervised"], gains),
        },
        oracle=oracle_comparison(results, gains, baseline),
        collapse=collapse_table(quality, gains, baseline),
        correlations=(
            quality_correlations(
                quality, pool_types if pool_types is not None and len(pool_types) else results, baseline
            )
            if quality is not None
            else None
        ),
        penalty=penalty_matrix(results),
        full=full,
        dataset=dataset if dataset is not None else str(results["dataset"].iloc[0]),
        train_images=train_images,
    )


CLUSTERING_PREFIXES = ("kmeans", "deepcluster")


def relative_gains(results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Per (init, seed): the AUBC gain over ``baseline`` relative to the baseline's AUBC, averaged over
    comparisons (query methods): a scale-free gain that can be compared across datasets."""
    merged = curves.beside_baseline(curves.trial_metric(results, "aubc"), baseline)
    merged["relative_gain"] = (merged["value"] - merged["baseline"]) / merged["baseline"]
    return merged.groupby(["init", "seed"], as_index=False)["relative_gain"].mean()


def compare_runs(
    results_a: pd.DataFrame, results_b: pd.DataFrame, names: tuple[str, str], inits: list[str] | None = None
) -> pd.DataFrame:
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
            row.update(
                {
                    f"{name}_gain": test["mean_diff"],
                    f"{name}_ci_low": test["ci_low"],
                    f"{name}_ci_high": test["ci_high"],
                    f"{name}_seeds": test["n_seeds"],
                }
            )
            samples.append(values)
        row["difference"] = row[f"{names[0]}_gain"] - row[f"{names[1]}_gain"]
        enough = all(len(v) > 1 for v in samples) and any(np.ptp(v) > 0 for v in samples)
        row["welch_p"] = float(stats.ttest_ind(*samples, equal_var=False).pvalue) if enough else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)

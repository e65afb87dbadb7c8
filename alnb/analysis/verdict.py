"""The study's answers, computed from its results: the pre-specified primary family and its power, the
secondary per-query tests, the cold-start and AL-phase gains, the penalty matrix, gain curves, question 3
over pool types, and the three questions of the plan answered in words (README, "The statistics").

- **Primary family** (declared in advance): one test per guided pool of its pool-level gain, the per-seed
  AUBC gain over random averaged over the query methods, Holm over the guided pools only (oracle and
  random are not in it). Its power is stated at each test's Holm level.
- **Secondary family**: one test per (guided pool, query method), Holm over those; reported as secondary.
- "Better" and "worse" are words for corrected results only; otherwise "could not tell", with the
  difference the test could have detected at 80% power.

Every number comes from ``results.csv`` (and ``pool_quality.csv`` for question 3); every sentence is
generated from those numbers, never written by hand.
"""

from __future__ import annotations

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


def design_power(results: pd.DataFrame, baseline: str = BASELINE) -> dict[str, float]:
    """The power of the primary family as designed: seeds, guided pools m, the pooled paired SD of the
    pool-level AUBC gains (root mean square over pools), and the smallest gain it detects at 80% power
    at the first Holm step α/m (the strictest level any of its tests is run at); the same for the
    secondary family (``secondary_*``)."""
    out = {}
    families = (("", primary_family(results, baseline)), ("secondary_", secondary_family(results, baseline)))
    for prefix, family in families:
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
    """Per init: the first labeled-set size at which the gain's 95% interval includes 0 (NaN: never)."""
    includes = by_cycle[(by_cycle["ci_low"] <= 0) & (by_cycle["ci_high"] >= 0)]
    first = includes.sort_values("cycle").groupby("init")["n_labeled"].first()
    return first.reindex(sorted(by_cycle["init"].unique()))


def phase_table(results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Per pool (every init but ``baseline``): the cold-start gain (test accuracy at cycle 0) and the
    AL-phase gain (AUBC over cycles ≥ 1 only), each a per-seed mean over query methods with its 95%
    t-interval; the full AUBC gain split exactly into what its first trapezoid (cycle 0 to 1) holds
    (``aubc_from_cycle0``) and the rest; and the first labeled size at which the gain's interval includes 0."""
    sizes = results.groupby("cycle")["n_labeled"].mean().sort_index()
    span = sizes.iloc[-1] - sizes.iloc[0] if len(sizes) > 1 else np.nan
    first_segment = (sizes.iloc[1] - sizes.iloc[0]) / span if len(sizes) > 1 else np.nan
    gains = {
        metric: seed_gains(results, baseline, metric).set_index(["init", "seed"])["gain"]
        for metric in ("initial", "al_phase", "aubc")
    }
    by_cycle = gain_curves(results, baseline)
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
    return pd.DataFrame(rows)


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


def quality_correlations(quality: pd.DataFrame, results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Question 3 over the right units. Pools of one type across seeds are not independent, so per pool
    property: Spearman's ρ between the pool-type means of the property and of the AL-phase gain over
    ``baseline``, with a 95% bootstrap interval over pool types, and the within-type ρ across seeds
    (deviations from each type's means) with its p-value. Cycle-0 accuracy is part of the AUBC, a
    consequence of the pool rather than a cause: it is shown apart (``role`` = consequence)."""
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
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "property",
            "label",
            "role",
            "pool_types",
            "rho_over_types",
            "ci_low",
            "ci_high",
            "permutation_p",
            "rho_within_type",
            "within_p",
            "pools",
        ],
    )


def verdict_table(results: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """One row per initial pool: the primary test (pool-level AUBC gain over ``baseline`` with its 95%
    t-interval over seeds, Holm p over the guided pools, outcome, the gain it could detect), the
    secondary counts (query methods where the per-query test, Holm over every guided pool × query, says
    better / could not tell / worse), and the cold-start and AL-phase gains. Oracle pools get their
    numbers beside, never a verdict; the baseline a row of zeros."""
    primary = primary_family(results, baseline).set_index("init")
    secondary = secondary_family(results, baseline)
    counts = secondary.groupby("init")["outcome"].value_counts().unstack(fill_value=0)
    phases = phase_table(results, baseline).set_index("init")
    gains = seed_gains(results, baseline)
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


def p_text(value: float) -> str:
    if not np.isfinite(value):
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _named(table: pd.DataFrame) -> str:
    return ", ".join(f"{r['init']} {r['mean_diff']:+.3f} (Holm p {p_text(r['p_holm'])})" for _, r in table.iterrows())


def interval(low: float, high: float, what: str = "95% CI", digits: int = 3, missing: str = "too few seeds") -> str:
    """``what low to high``, or a dash and why (``missing``) where there is no interval."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{what} — ({missing})"
    return f"{what} {low:+.{digits}f} to {high:+.{digits}f}"


def value_range(values: pd.Series, digits: int = 3) -> str:
    """``low–high`` of ``values`` (one number when they agree; a dash when none is defined)."""
    values = pd.Series(values, dtype=float).dropna()
    if not len(values):
        return "— (too few seeds)"
    low, high = float(values.min()), float(values.max())
    return f"{low:.{digits}f}" if round(low, digits) == round(high, digits) else f"{low:.{digits}f}–{high:.{digits}f}"


def _family_sentence(family: pd.DataFrame, phases: pd.DataFrame, scope: str) -> str:
    """The primary family's verdicts on ``family`` (rows of :func:`primary_family`) in words; ``scope``
    says which pools the Holm correction ran over."""
    m, n = len(family), int(family["n_seeds"].min())
    better = family[family["outcome"] == "better"]
    worse = family[family["outcome"] == "worse"]
    unclear = family[family["outcome"] == "could not tell"]
    word = "Yes" if len(better) else ("No" if len(worse) == m else "Not shown")
    parts = [
        f"{word}. Primary test (the pool-level AUBC gain over random, averaged over query methods per seed; "
        f"{n} seeds; Holm over {scope})"
    ]
    clauses = []
    if len(better):
        clauses.append(f"{len(better)} of {m} are better than random ({_named(better)})")
    if len(worse):
        clauses.append(f"{len(worse)} of {m} are worse ({_named(worse)})")
    if len(unclear):
        clauses.append(
            f"for {len(unclear)} of {m} this study could not tell ({_named(unclear)}); at their Holm levels "
            f"it could have detected gains of {value_range(unclear['detectable'])} AUBC with 80% power"
        )
    parts.append(": " + "; ".join(clauses) + ".")
    if len(better):
        best = better.loc[better["corrected_low"].idxmax()]
        level = f"{100 * (1 - best['level']):.1f}% interval"
        parts.append(
            f" The best, by the lower end of its interval at its Holm level, is {best['init']}: "
            f"{best['mean_diff']:+.3f} AUBC "
            f"({interval(best['corrected_low'], best['corrected_high'], level)})."
        )
    else:
        parts.append(" No pool is named the best: none is significantly better than random.")
    shown = better if len(better) else family.sort_values("mean_diff", ascending=False).head(2)
    split = []
    for _, r in shown.iterrows():
        ph = phases.loc[r["init"]]
        ends = ph["advantage_ends_at"]
        if np.isfinite(ends):
            end = f"its gain's interval first includes 0 at {ends:.0f} labels"
        elif np.isfinite(ph["cycle0_low"]):
            end = "its gain's interval excludes 0 at every cycle"
        else:
            end = "too few seeds for an interval"
        split.append(
            f"{r['init']} gains {ph['cycle0_gain']:+.3f} at cycle 0 "
            f"({interval(ph['cycle0_low'], ph['cycle0_high'])}) "
            f"and {ph['al_phase_gain']:+.3f} over the AL phase (cycles ≥ 1: "
            f"{interval(ph['al_phase_low'], ph['al_phase_high'])}); {end}"
        )
    parts.append(" Cold start against AL phase: " + "; ".join(split) + ".")
    return "".join(parts)


def _secondary_sentence(secondary: pd.DataFrame) -> str:
    if not len(secondary):
        return ""
    counts = secondary["outcome"].value_counts()
    return (
        f" Secondary (per query method, Holm over the {len(secondary)} pool × query tests): "
        f"{int(counts.get('better', 0))} better, {int(counts.get('worse', 0))} worse, could not tell for "
        f"{int(counts.get('could not tell', 0))}; these tests could have detected gains of "
        f"{value_range(secondary['detectable'])} AUBC with 80% power."
    )


def power_clause(power: dict) -> str:
    """The design's power in words (:func:`design_power`)."""
    return (
        f"Design: {power['seeds']} seeds, {power['tests']} guided pools in the primary family; pooled paired SD "
        f"of the pool-level AUBC gains {power['paired_sd']:.3f}; at the first Holm step (α/{power['tests']} = "
        f"{power['level']:.4f}) the primary test detects a gain of {power['detectable']:.3f} AUBC with 80% "
        f"power (noncentral t)."
    )


def _q3_sentence(correlations: pd.DataFrame) -> str:
    properties = correlations[(correlations["role"] == "property")].dropna(subset=["rho_over_types"])
    if not len(properties):
        return "Pool properties vary too little across pool types to correlate, so the question is not answered here."
    ranked = properties.assign(strength=properties["rho_over_types"].abs()).sort_values("strength", ascending=False)
    top = ranked.iloc[0]
    if not (np.isfinite(top["ci_low"]) and np.isfinite(top["ci_high"])):
        holds = "no interval"
    else:
        holds = "its interval excludes 0" if top["ci_low"] > 0 or top["ci_high"] < 0 else "its interval includes 0"
    within = (
        f"within a pool type, across seeds, ρ = {top['rho_within_type']:+.2f} (p = {p_text(top['within_p'])})"
        if np.isfinite(top["rho_within_type"])
        else "within a pool type the correlation is undefined"
    )
    others = "; ".join(f"{r['label']} ρ = {r['rho_over_types']:+.2f}" for _, r in ranked.iloc[1:].iterrows())
    text = (
        f"Over {int(top['pool_types'])} pool types (each the mean over its seeds), the AL-phase gain over random "
        f"(AUBC over cycles ≥ 1) goes with {top['label']} most closely "
        f"(Spearman ρ = {top['rho_over_types']:+.2f}, "
        f"{interval(top['ci_low'], top['ci_high'], '95% bootstrap CI over pool types', 2, 'too few pool types')}; "
        f"{holds}; permutation p over the {int(top['pool_types'])} types {p_text(top['permutation_p'])}); {within}"
        + (f"; {others}" if others else "")
        + ". These are correlations between pool types, not causes."
    )
    consequence = correlations[(correlations["role"] == "consequence")].dropna(subset=["rho_over_types"])
    for _, r in consequence.iterrows():
        text += (
            f" Cycle-0 accuracy (ρ over types {r['rho_over_types']:+.2f}) is a consequence of the pool and part "
            f"of the AUBC, so it is shown apart, not offered as an explanation."
        )
    return text


def answers(
    results: pd.DataFrame, correlations: pd.DataFrame | None = None, baseline: str = BASELINE
) -> dict[str, str]:
    """The plan's three questions answered in words, generated from the numbers: questions 1 and 2 on the
    primary family (question 2 on its self-supervised pools), question 3 on ``correlations``
    (:func:`quality_correlations`)."""
    family = primary_family(results, baseline)
    secondary = secondary_family(results, baseline)
    phases = phase_table(results, baseline).set_index("init")
    out = {}
    if not len(family):
        out["q1"] = "No guided initial pool was run against the random one, so the question is not answered here."
    else:
        out["q1"] = (
            _family_sentence(family, phases, f"the {len(family)} guided pools")
            + _secondary_sentence(secondary)
            + " "
            + power_clause(design_power(results, baseline))
        )
    ssl = family[family["kind"] == "self-supervised"]
    if not len(ssl):
        out["q2"] = "No pool built from a self-supervised model was run, so the question is not answered here."
    else:
        # the same corrected tests (Holm over every guided pool), restricted to the self-supervised pools
        scope = (
            f"all {len(family)} guided pools, of which {len(ssl)} built from self-supervised models trained "
            f"on U without labels"
        )
        out["q2"] = _family_sentence(ssl, phases, scope) + _secondary_sentence(
            secondary[secondary["init"].isin(ssl["init"])]
        )
    if correlations is None or not len(correlations):
        out["q3"] = (
            "Pool properties were not measured (notebook 03 writes pool_quality.csv), so the question is not "
            "answered here."
        )
    else:
        out["q3"] = _q3_sentence(correlations)
    return out


def oracle_sentence(results: pd.DataFrame, baseline: str = BASELINE) -> str | None:
    """Where the class-balanced oracle stands: its own gain over random, and each guided pool against it
    at cycle 0 and over the AUBC (per-seed pool-level differences, Holm over the guided pools)."""
    oracles = [i for i in results["init"].unique() if pool_kind(i) == "oracle"]
    if not oracles:
        return None
    oracle = oracles[0]
    own = paired_test(seed_gains(results, baseline).query("init == @oracle")["gain"].to_numpy())
    text = (
        f"Where the oracle stands: {oracle} (a random draw with equal counts per class; it reads the labels) "
        f"gains {own['mean_diff']:+.3f} AUBC over random ({interval(own['ci_low'], own['ci_high'])})."
    )
    for metric, what in (("initial", "at cycle 0"), ("aubc", "over the whole AUBC")):
        gains = seed_gains(results, oracle, metric)
        rows = [
            {"init": i, **paired_test(g["gain"].to_numpy())}
            for i, g in gains.groupby("init")
            if pool_kind(i) in GUIDED_KINDS
        ]
        if not rows:
            return text
        family = with_holm(pd.DataFrame(rows))
        above, below = family[family["outcome"] == "better"], family[family["outcome"] == "worse"]
        said = []
        if len(above):
            said.append(f"{_named(above)} beat{'s' if len(above) == 1 else ''} it")
        if len(below):
            said.append(f"{_named(below)} fall{'s' if len(below) == 1 else ''} below it")
        rest = len(family) - len(above) - len(below)
        if rest:
            said.append(f"for {rest} of {len(family)} guided pools this study could not tell")
        text += f" {what[0].upper()}{what[1:]}, after Holm over the guided pools: " + "; ".join(said) + "."
    return text


def collapse_sentence(quality: pd.DataFrame | None, results: pd.DataFrame, baseline: str = BASELINE) -> str | None:
    """Why a pool collapses: the (up to 3) pools whose class coverage falls furthest below the random pool's on
    average, with how many of their images come from one class and how many classes they cover (range over
    seeds); "collapses" when the worst takes half of its pool or more from one class."""
    if quality is None or not {"class_coverage", "max_class_share", "size", "n_classes"} <= set(quality.columns):
        return None
    q = quality[quality["init"].map(pool_kind) != "oracle"].assign(
        covered=lambda t: (t["class_coverage"] * t["n_classes"]).round().astype(int),
        largest=lambda t: (t["max_class_share"] * t["size"]).round().astype(int),
    )
    mean_coverage = q.groupby("init")["class_coverage"].mean().sort_values()
    reference = mean_coverage.get(baseline, np.nan)
    low = [i for i in mean_coverage.index if i != baseline and np.isfinite(reference) and mean_coverage[i] < reference][
        :3
    ]
    k = int(q["n_classes"].iloc[0])
    gains = seed_gains(results, baseline).groupby("init")["gain"].mean()

    def span(values: pd.Series) -> str:
        return f"{values.min()}" if values.min() == values.max() else f"{values.min()}–{values.max()}"

    if not low:
        return (
            f"No pool covers fewer classes than a random one: every pool covers on average as many of the {k} classes."
        )
    said = []
    for init in low:
        rows = q[q["init"] == init]
        gain = f", AUBC gain {gains[init]:+.3f}" if init in gains.index else ""
        said.append(
            f"{init} takes {span(rows['largest'])} of its {span(rows['size'])} images from one class and "
            f"covers {span(rows['covered'])} of {k} classes{gain}"
        )
    base = q[q["init"] == baseline]
    worst = q[q["init"] == low[0]]["max_class_share"].mean()
    lead = (
        "Why a pool collapses: it concentrates on few classes."
        if worst >= 0.5
        else "The pools that cover fewer classes than a random one:"
    )
    return f"{lead} {'; '.join(said)}; a random pool covers {span(base['covered'])} of {k} (range over seeds)."


SEED_STUDY = (
    "The seed study's authors concluded that a guided initial pool could not conclusively beat a random "
    "one, and that pools chosen by VAE loss did help on CIFAR-100."
)


def seed_study_paragraph(results: pd.DataFrame, dataset: str, baseline: str = BASELINE) -> str:
    """Where this study agrees with the seed study's stated conclusion and where it differs, from the primary
    family, and why the comparison is limited."""
    family = primary_family(results, baseline)
    if not len(family):
        return SEED_STUDY + " This study ran no guided pool, so it cannot be compared."
    better = family[family["outcome"] == "better"]
    if len(better):
        first = (
            f"Here, on {dataset}, {len(better)} of {len(family)} guided pools are better than random after Holm "
            f"({_named(better)}): this differs from their first conclusion"
        )
    else:
        first = (
            f"Here, on {dataset}, none of {len(family)} guided pools is better than random after Holm: this "
            f"agrees with their first conclusion"
        )
    vae = family[family["init"] == "vae"]
    if len(vae):
        r = vae.iloc[0]
        verb = {
            "better": "helps here too",
            "worse": "is worse than random here",
            "could not tell": "could not be told apart from random here",
        }[r["outcome"]]
        second = f"; top-B VAE ({r['mean_diff']:+.3f} AUBC, Holm p {p_text(r['p_holm'])}) {verb}"
    else:
        second = "; top-B VAE was not in this study's grid"
    limit = (
        " The comparison is limited: digits (8×8 greyscale images, 10 classes, about 1,300 training images, a "
        "small CNN, tens to hundreds of labels) is not CIFAR-100 (32×32 colour images, 100 classes, 50,000 "
        "training images, a ResNet, thousands of labels)."
        if dataset == "digits"
        else f" The comparison is limited to what {dataset} shares with CIFAR-100: the dataset, model and budgets "
        f"differ."
    )
    return f"{SEED_STUDY} {first}{second}.{limit}"


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

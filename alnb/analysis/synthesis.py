"""A replication's synthesis: the pool-level gains of several studies pooled by a random-effects meta-analysis.

- **Inputs** (:func:`study_gains`): per study, pool and phase (``cycle0``: test accuracy before any query;
  ``al_phase``: AUBC over cycles ≥ 1; ``aubc``: the whole curve), the mean over seeds of the per-seed pool-level
  gain over random, the front page's own quantity (:func:`alnb.analysis.verdict.seed_gains`: the paired difference
  to random averaged over the query methods), its standard error and the seeds.
- **Pooling** (:func:`pool_gains`): per regime, pool and phase, DerSimonian and Laird's (1986) random-effects
  estimate by statsmodels' ``combine_effects`` (``method_re="chi2"``), with τ² = max(0, ·) as the method defines
  it (statsmodels 0.15 does not truncate: below Q = k − 1 it returns a negative τ², a negative I², a shifted
  estimate and NaN intervals; with τ² = 0 the random-effects estimate is the fixed-effect one), I² (Higgins and
  Thompson 2002) in [0, 1], Cochran's Q with its χ² p-value (does the gain depend on the dataset?), a two-sided
  z-test of the pooled gain, Holm over the guided pools within each regime and phase, and the gain that test
  detects at 80% power at its Holm level.
- **The plan's hypothesis** (:func:`hypothesis_verdicts`), "ALG beats ALR across cycles, with the margin
  shrinking", judged per regime in words generated from those numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from alnb.analysis.stats import ALPHA, holm, holm_levels
from alnb.analysis.verdict import BASELINE, GUIDED_KINDS, pool_kind, seed_gains

PHASES = {"cycle0": "initial", "al_phase": "al_phase", "aubc": "aubc"}  # synthesis phase → seed_gains metric
PHASE_LABELS = {"cycle0": "cycle-0 gain", "al_phase": "AL-phase gain", "aubc": "AUBC gain"}
INPUT_COLUMNS = ["study", "dataset", "regime", "pool", "phase", "gain", "se", "n_seeds"]
SYNTHESIS_COLUMNS = [
    "regime",
    "pool",
    "phase",
    "k",
    "estimate",
    "ci_low",
    "ci_high",
    "tau2",
    "i2",
    "q",
    "q_p",
    "holm_p",
    "verdict",
    "kind",
    "se",
    "p",
    "detectable",
]
POWER = 0.8


def study_gains(results: pd.DataFrame, study: str, dataset: str, regime: str) -> pd.DataFrame:
    """The synthesis inputs of one study's ``results.csv``: per pool (every init but random) and phase, the mean
    over seeds of the per-seed pool-level gain over random, its standard error (SD / √n; NaN below 2 seeds) and
    the seeds."""
    rows = []
    for phase, metric in PHASES.items():
        gains = seed_gains(results, BASELINE, metric)
        for pool, group in gains.groupby("init", sort=True):
            values = group["gain"].to_numpy(float)
            n = len(values)
            rows.append(
                {
                    "study": study,
                    "dataset": dataset,
                    "regime": regime,
                    "pool": pool,
                    "phase": phase,
                    "gain": float(values.mean()),
                    "se": float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan,
                    "n_seeds": n,
                }
            )
    return pd.DataFrame(rows, columns=INPUT_COLUMNS)


def random_effects(gains: np.ndarray, se: np.ndarray) -> dict[str, float]:
    """DerSimonian–Laird random-effects pooling of ``gains`` with standard errors ``se`` (statsmodels'
    ``combine_effects``, ``method_re="chi2"``), τ² truncated at 0: where statsmodels returns τ² < 0 (Q < k − 1)
    the estimate and its interval are the fixed-effect ones, which is what τ² = 0 gives, and I² is 0.

    Returns k, estimate, its standard error, 95% normal interval, τ², I² (a fraction), Q and its χ²(k − 1)
    p-value (NaN for one study: no heterogeneity to measure). Needs at least one study with se > 0."""
    from statsmodels.stats.meta_analysis import combine_effects

    gains, se = np.asarray(gains, float), np.asarray(se, float)
    k = len(gains)
    if k == 0 or not (np.isfinite(se).all() and (se > 0).all()):
        raise ValueError("random_effects: needs at least one study, each with a positive, finite standard error")
    z = stats.norm.ppf(1 - ALPHA / 2)
    if k == 1:
        estimate, error = float(gains[0]), float(se[0])
        heterogeneity = {"tau2": np.nan, "i2": np.nan, "q": np.nan, "q_p": np.nan}
    else:
        with np.errstate(invalid="ignore"):  # statsmodels takes the square root of a negative τ² below Q = k − 1
            result = combine_effects(gains, se**2, method_re="chi2", use_t=False)
        q, tau2 = float(result.q), float(result.tau2)
        if tau2 > 0:
            estimate, error = float(result.mean_effect_re), float(result.sd_eff_w_re)
        else:  # truncated: DerSimonian–Laird's τ² is max(0, ·), and then the pooled estimate is the fixed-effect one
            tau2, estimate, error = 0.0, float(result.mean_effect_fe), float(result.sd_eff_w_fe)
        heterogeneity = {
            "tau2": tau2,
            "i2": max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0,
            "q": q,
            "q_p": float(stats.chi2.sf(q, k - 1)),
        }
    return {
        "k": k,
        "estimate": estimate,
        "se": error,
        "ci_low": estimate - z * error,
        "ci_high": estimate + z * error,
        **heterogeneity,
        "p": float(2 * stats.norm.sf(abs(estimate) / error)),
    }


def detectable_pooled(se: float, level: float, power: float = POWER) -> float:
    """The smallest pooled gain a two-sided z-test at ``level`` detects with ``power``, given its standard error."""
    return float((stats.norm.ppf(1 - level / 2) + stats.norm.ppf(power)) * se)


def pool_gains(inputs: pd.DataFrame) -> pd.DataFrame:
    """Per regime, pool and phase: the random-effects synthesis of the studies' gains (:func:`random_effects`),
    Holm over the guided pools within each regime and phase, the gain detectable at 80% power at each test's Holm
    level, and the verdict: ``better`` / ``worse`` where the corrected test says so, else ``could not tell``;
    ``reference`` for oracle pools (they read the labels: outside the family). Studies whose gain has no standard
    error (one seed, or a spread of 0) are not pooled."""
    rows = []
    usable = inputs[np.isfinite(inputs["se"]) & (inputs["se"] > 0)]
    for (regime, pool, phase), group in usable.groupby(["regime", "pool", "phase"], sort=True):
        rows.append(
            {
                "regime": regime,
                "pool": pool,
                "phase": phase,
                "kind": pool_kind(pool),
                **random_effects(group["gain"], group["se"]),
            }
        )
    table = pd.DataFrame(rows, columns=[c for c in SYNTHESIS_COLUMNS if c not in ("holm_p", "verdict", "detectable")])
    table["holm_p"] = np.nan
    table["detectable"] = np.nan
    table["verdict"] = "reference"
    guided = table["kind"].isin(GUIDED_KINDS)
    for _, family in table[guided].groupby(["regime", "phase"]):
        index = family.index
        table.loc[index, "holm_p"] = holm(family["p"].to_numpy())
        levels = holm_levels(family["p"].to_numpy())
        table.loc[index, "detectable"] = [detectable_pooled(s, lv) for s, lv in zip(family["se"], levels)]
    table.loc[guided, "verdict"] = [
        ("better" if e > 0 else "worse") if p < ALPHA else "could not tell"
        for e, p in zip(table.loc[guided, "estimate"], table.loc[guided, "holm_p"])
    ]
    table["phase"] = pd.Categorical(table["phase"], list(PHASES))
    return table.sort_values(["regime", "phase", "pool"], ignore_index=True)[SYNTHESIS_COLUMNS].assign(
        phase=lambda t: t["phase"].astype(str)
    )


def hypothesis_verdicts(synthesis: pd.DataFrame) -> pd.DataFrame:
    """The plan's hypothesis, "ALG beats ALR across cycles, with the margin shrinking", per regime.

    ALG beats ALR: some guided pool's pooled AUBC gain is better than random after Holm. Its margin shrinks: for
    that pool the pooled cycle-0 gain exceeds the pooled AL-phase gain, the difference's 95% interval above 0
    (its standard error combines the two as if independent; the two are positively correlated over seeds, so
    the interval is conservative). **Confirmed**: both hold for some pool. **Refuted**: every guided pool is
    worse than random in AUBC after Holm, or a pool that beats random has an AL-phase gain above its cycle-0
    gain (the margin grows). **Could not tell**: otherwise. Returns regime, verdict, pool (the pool that
    decided it, "" where none did) and the sentence."""
    z = stats.norm.ppf(1 - ALPHA / 2)
    rows = []
    for regime, table in synthesis[synthesis["kind"].isin(GUIDED_KINDS)].groupby("regime", sort=True):
        by = table.set_index(["phase", "pool"])
        aubc = table[table["phase"] == "aubc"]
        winners = aubc[aubc["verdict"] == "better"].sort_values("holm_p")["pool"].tolist()
        shrink = {}
        for pool in winners:
            if ("cycle0", pool) in by.index and ("al_phase", pool) in by.index:
                first, later = by.loc[("cycle0", pool)], by.loc[("al_phase", pool)]
                difference = first["estimate"] - later["estimate"]
                half = z * np.hypot(first["se"], later["se"])
                shrink[pool] = (difference, difference - half, difference + half)
        shrinking = [p for p in winners if p in shrink and shrink[p][1] > 0]
        growing = [p for p in winners if p in shrink and shrink[p][2] < 0]
        all_worse = len(aubc) > 0 and (aubc["verdict"] == "worse").all()
        if shrinking:
            pool = shrinking[0]
            d, low, high = shrink[pool]
            verdict = "confirmed"
            sentence = (
                f"Confirmed in the {regime} regime: {pool} beats random over the whole curve (pooled AUBC gain "
                f"{by.loc[('aubc', pool), 'estimate']:+.3f}, Holm p {by.loc[('aubc', pool), 'holm_p']:.3g}), and "
                f"its margin shrinks: the cycle-0 gain exceeds the AL-phase gain by {d:+.3f} (95% {low:+.3f} to "
                f"{high:+.3f})."
            )
        elif all_worse or growing:
            pool = growing[0] if growing else ""
            verdict = "refuted"
            sentence = f"Refuted in the {regime} regime: " + (
                f"{pool} beats random, but its margin grows: its AL-phase gain exceeds its cycle-0 gain by "
                f"{-shrink[pool][0]:+.3f} (95% {-shrink[pool][2]:+.3f} to {-shrink[pool][1]:+.3f})."
                if growing
                else f"every guided pool is worse than random over the whole curve after Holm ({len(aubc)} pools)."
            )
        else:
            pool = winners[0] if winners else ""
            verdict = "could not tell"
            best = aubc.sort_values("estimate", ascending=False).iloc[0] if len(aubc) else None
            if winners:
                d, low, high = shrink.get(pool, (np.nan, np.nan, np.nan))
                sentence = (
                    f"Could not tell in the {regime} regime: {pool} beats random over the whole curve, but whether "
                    f"its margin shrinks could not be told (cycle-0 minus AL-phase gain {d:+.3f}, 95% {low:+.3f} "
                    f"to {high:+.3f})."
                    if np.isfinite(d)
                    else f"Could not tell in the {regime} regime: {pool} beats random, but its phases were not "
                    f"both measured."
                )
            elif best is not None:
                sentence = (
                    f"Could not tell in the {regime} regime: no guided pool beats random over the whole curve after "
                    f"Holm over {len(aubc)} pool{'s' if len(aubc) > 1 else ''} (largest pooled AUBC gain {best['estimate']:+.3f}, {best['pool']}, "
                    f"Holm p {best['holm_p']:.3g}; the tests detect {_span(aubc['detectable'])} at 80% power)."
                )
            else:
                sentence = f"Could not tell in the {regime} regime: no guided pool's AUBC gain could be pooled."
        rows.append({"regime": regime, "verdict": verdict, "pool": pool, "sentence": sentence})
    return pd.DataFrame(rows, columns=["regime", "verdict", "pool", "sentence"])


def interval_half_width(se: pd.Series, n_seeds: pd.Series) -> np.ndarray:
    """Half the 95% t-interval of a study's mean gain (df = seeds − 1, as on its front page; NaN below 2 seeds)."""
    n = np.asarray(n_seeds, float)
    df = np.where(n > 1, n - 1, np.nan)
    return stats.t.ppf(1 - ALPHA / 2, df) * np.asarray(se, float)


def power_sentences(synthesis: pd.DataFrame) -> pd.DataFrame:
    """Per regime and phase, the power of the pooled tests in words: the family Holm runs over, and the pooled
    gain each test detects at 80% power at its Holm level (a z-test on the random-effects standard error)."""
    rows = []
    guided = synthesis[synthesis["kind"].isin(GUIDED_KINDS)]
    for (regime, phase), family in guided.groupby(["regime", "phase"], sort=True):
        verdicts = family["verdict"].value_counts()
        counts = ", ".join(f"{verdicts[v]} {v}" for v in ("better", "worse", "could not tell") if v in verdicts)
        k_low, k_high = int(family["k"].min()), int(family["k"].max())
        pools = f"{len(family)} guided pool{'s' if len(family) > 1 else ''}"
        rows.append(
            {
                "regime": regime,
                "phase": phase,
                "sentence": (
                    f"{PHASE_LABELS[phase]}, {regime} regime: Holm over {pools} ({counts}); at "
                    f"{'their Holm levels the pooled tests detect' if len(family) > 1 else 'its level the pooled test detects'} "
                    f"{_span(family['detectable'])} at 80% power, over "
                    f"{k_low if k_low == k_high else f'{k_low} to {k_high}'} dataset{'s' if k_high > 1 else ''}."
                ),
            }
        )
    order = {phase: i for i, phase in enumerate(PHASES)}
    rows.sort(key=lambda r: (r["regime"], order[r["phase"]]))
    return pd.DataFrame(rows, columns=["regime", "phase", "sentence"])


def _span(values: pd.Series) -> str:
    low, high = float(values.min()), float(values.max())
    return f"{low:.3f}" if np.isclose(low, high) else f"{low:.3f} to {high:.3f}"

"""The study's verdict in words: the plan's three questions answered, the power of the design, where the oracle
stands, why pools collapse, and the seed study beside this one. Every sentence is generated from the numbers of
one :class:`alnb.analysis.verdict.Verdict` and claims no more than its corrected tests allow; nothing here
computes a statistic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alnb.analysis.stats import ALPHA
from alnb.analysis.verdict import Verdict

MOSTLY = 0.5  # a gain is "mostly the cold start" when more than this share of it is the cycle-0 segment


def p_text(value: float) -> str:
    if not np.isfinite(value):
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def named(table: pd.DataFrame) -> str:
    """``init +gain (Holm p ...)`` for every row of a family."""
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


def _cold_start(verdict: Verdict, family: pd.DataFrame, noun: str = "guided pool") -> str | None:
    """The headline's qualifier when every pool of ``family`` (rows of ``verdict.primary``) that beats random has a
    gain that is mostly its cycle-0 segment and no pool of ``family`` is better over the AL phase after Holm over
    the guided pools (one significantly worse there does not count); None otherwise. The Holm p-values quoted are
    those of the pools with a positive AL-phase gain. ``noun`` names a pool of the family."""
    better = family[family["outcome"] == "better"]
    phases = verdict.phases.set_index("init").loc[better["init"]]
    share = phases["aubc_from_cycle0"] / phases["aubc_gain"]
    members = verdict.phases.set_index("init").loc[family["init"]]
    al_p = members["al_phase_p_holm"]
    al_better = (al_p < ALPHA) & (members["al_phase_gain"] > 0)  # a pool significantly worse keeps nothing
    if not (len(better) and (share > MOSTLY).all() and not al_better.any()):
        return None
    al_p = al_p[members["al_phase_gain"] > 0]
    return (
        f"Yes, but as a cold-start effect: {len(better)} of {len(family)} {noun}s "
        f"{'beats' if len(better) == 1 else 'beat'} random over "
        f"the AUBC, yet {value_range(100 * share, 0)}% of each of their gains is the cycle-0 segment (the pool "
        f"itself, before any query), and over the AL phase (cycles ≥ 1) no {noun} is better after Holm "
        f"over the {len(verdict.primary)} guided pools (Holm p of those ahead there: {value_range(al_p)})."
    )


def _are(rows: pd.DataFrame) -> str:
    return "is" if len(rows) == 1 else "are"


def _best_sentence(best: dict | None) -> str:
    if best is None:
        return " No pool is named the best: none is significantly better than random."
    if best["runner_up"] is None:
        return f" {best['best']} is the only pool here, so no best is named among several."
    difference = (
        f"paired difference {best['difference_mean_diff']:+.3f} AUBC "
        f"({interval(best['difference_ci_low'], best['difference_ci_high'])}), paired t-test p "
        f"{p_text(best['difference_t_p'])}"
    )
    if not best["beats"]:
        return (
            f" No pool is named the best: {best['best']}, first by the lower end of its interval at its Holm "
            f"level, cannot be told apart from the runner-up {best['runner_up']} ({difference})."
        )
    return (
        f" The best, by the lower end of its interval at its Holm level, is {best['best']}: it beats the "
        f"runner-up {best['runner_up']} ({difference})."
    )


def _family_sentence(
    verdict: Verdict, family: pd.DataFrame, scope: str, kind: str = "guided", headline: str | None = None
) -> str:
    """The primary family's verdicts on ``family`` (rows of ``verdict.primary``, its ``kind`` of pools) in words;
    ``scope`` says which pools the Holm correction ran over; ``headline`` replaces the one-word answer."""
    phases = verdict.phases.set_index("init")
    m, n = len(family), int(family["n_seeds"].min())
    better = family[family["outcome"] == "better"]
    worse = family[family["outcome"] == "worse"]
    unclear = family[family["outcome"] == "could not tell"]
    word = "Yes" if len(better) else ("No" if len(worse) == m else "Not shown")
    parts = [
        f"{headline or word + '.'} Primary test (the pool-level AUBC gain over random, averaged over query "
        f"methods per seed; {n} seeds; Holm over {scope})"
    ]
    clauses = []
    if len(better):
        clauses.append(f"{len(better)} of {m} {_are(better)} better than random ({named(better)})")
    if len(worse):
        clauses.append(f"{len(worse)} of {m} {_are(worse)} worse ({named(worse)})")
    if len(unclear):
        clauses.append(
            f"for {len(unclear)} of {m} this study could not tell ({named(unclear)}); at their Holm levels "
            f"it could have detected gains of {value_range(unclear['detectable'])} AUBC with 80% power"
        )
    parts.append(": " + "; ".join(clauses) + ".")
    parts.append(_best_sentence(verdict.best[kind]))
    shown = better if len(better) else family.sort_values("mean_diff", ascending=False).head(2)
    split = []
    for _, r in shown.iterrows():
        ph = phases.loc[r["init"]]
        ends = ph["advantage_ends_at"]
        if np.isfinite(ends):
            end = f"its uncorrected per-cycle 95% interval first includes 0 at {ends:.0f} labels"
        elif np.isfinite(ph["cycle0_low"]):
            end = "its uncorrected per-cycle 95% interval excludes 0 at every cycle"
        else:
            end = "too few seeds for an interval"
        split.append(
            f"{r['init']} gains {ph['cycle0_gain']:+.3f} at cycle 0 "
            f"({interval(ph['cycle0_low'], ph['cycle0_high'])}) "
            f"and {ph['al_phase_gain']:+.3f} over the AL phase (cycles ≥ 1: "
            f"{interval(ph['al_phase_low'], ph['al_phase_high'])}; Holm p {p_text(ph['al_phase_p_holm'])}); {end}"
        )
    parts.append(" Cold start against AL phase: " + "; ".join(split) + ".")
    return "".join(parts)


def _secondary_sentence(secondary: pd.DataFrame, of: int) -> str:
    """The secondary family's outcomes on ``secondary``, a part of the ``of`` tests Holm ran over."""
    if not len(secondary):
        return ""
    counts = secondary["outcome"].value_counts()
    family = (
        f"Holm over the {of} guided pool × query tests"
        if len(secondary) == of
        else f"Holm over all {of} guided pool × query tests, of which these are {len(secondary)}"
    )
    return (
        f" Secondary (per query method, {family}): "
        f"{int(counts.get('better', 0))} better, {int(counts.get('worse', 0))} worse, could not tell for "
        f"{int(counts.get('could not tell', 0))}; these tests could have detected gains of "
        f"{value_range(secondary['detectable'])} AUBC with 80% power."
    )


def power_clause(power: dict) -> str:
    """The design's power in words (``Verdict.power``)."""
    return (
        f"Design: {power['seeds']} seeds, {power['tests']} guided pools in the primary family; pooled paired SD "
        f"of the pool-level AUBC gains {power['paired_sd']:.3f}; at the first Holm step (α/{power['tests']} = "
        f"{power['level']:.4f}) the primary test detects a gain of {power['detectable']:.3g} AUBC with 80% "
        f"power (noncentral t)."
    )


SELF_SUPERVISED_SCOPE = (
    " What this comparison isolates: each self-supervised pool as a whole strategy (a representation learned "
    "on U without labels and a rule that selects on it) against a random draw. It does not isolate "
    "self-supervision: the selection rule changes together with the representation, so a gain or loss may "
    "come from either; only the same rule run on other features (e.g. a clustering pool on pixels and on a "
    "self-supervised representation) would separate them."
)


def _q3_sentence(correlations: pd.DataFrame) -> str:
    properties = correlations[(correlations["role"] == "property")].dropna(subset=["rho_over_types"])
    if not len(properties):
        return "Pool properties vary too little across pool types to correlate, so the question is not answered here."
    ranked = properties.assign(strength=properties["rho_over_types"].abs()).sort_values(
        "strength", ascending=False, kind="stable"
    )
    top = ranked.iloc[0]
    tied = ranked[np.isclose(ranked["strength"], top["strength"], rtol=0, atol=1e-9)]
    types = int(top["pool_types"])
    tested = len(properties)
    if not (np.isfinite(top["ci_low"]) and np.isfinite(top["ci_high"])):
        holds = "no interval"
    elif top["ci_low"] == top["ci_high"]:
        holds = (
            f"the bootstrap interval has collapsed onto ρ (every resample of {types} types that has a ρ gives "
            f"the same one), so it shows no uncertainty; the permutation test does"
        )
    else:
        holds = "its interval excludes 0" if top["ci_low"] > 0 or top["ci_high"] < 0 else "its interval includes 0"
    within = (
        f"within a pool type, across seeds, ρ = {top['rho_within_type']:+.2f} (p = {p_text(top['within_p'])}, "
        f"{p_text(top['within_p_holm'])} after Holm over the {tested} properties)"
        if np.isfinite(top["rho_within_type"])
        else "within a pool type the correlation is undefined"
    )
    if len(tied) > 1:
        labels = ", ".join(tied["label"].iloc[:-1]) + f" and {tied['label'].iloc[-1]}"
        lead = (
            f"goes equally closely with {len(tied)} properties, a tie at |ρ| = {top['strength']:.2f} that singles "
            f"none out: {labels}; for the first of them"
        )
    else:
        lead = f"goes with {top['label']} most closely"
    others = "; ".join(f"{r['label']} ρ = {r['rho_over_types']:+.2f}" for _, r in ranked.iloc[1:].iterrows())
    text = (
        f"Over {types} pool types (each the mean over its seeds), the AL-phase gain over random "
        f"(AUBC over cycles ≥ 1) {lead} "
        f"(Spearman ρ = {top['rho_over_types']:+.2f}, "
        f"{interval(top['ci_low'], top['ci_high'], '95% bootstrap CI over pool types', 2, 'too few pool types')}; "
        f"{holds}; permutation p over the {types} types {p_text(top['permutation_p'])}, "
        f"{p_text(top['permutation_p_holm'])} after Holm over the {tested} properties tested); {within}"
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


def answers(verdict: Verdict) -> dict[str, str]:
    """The plan's three questions answered in words: questions 1 and 2 on the primary family (question 2 on
    its self-supervised pools), question 3 on the correlations over pool types."""
    family, secondary = verdict.primary, verdict.secondary
    out = {}
    if not len(family):
        out["q1"] = "No guided initial pool was run against the random one, so the question is not answered here."
    else:
        out["q1"] = (
            _family_sentence(verdict, family, f"the {len(family)} guided pools", headline=_cold_start(verdict, family))
            + _secondary_sentence(secondary, len(secondary))
            + " "
            + power_clause(verdict.power)
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
        out["q2"] = (
            _family_sentence(
                verdict, ssl, scope, "self-supervised", headline=_cold_start(verdict, ssl, "self-supervised pool")
            )
            + _secondary_sentence(secondary[secondary["init"].isin(ssl["init"])], len(secondary))
            + SELF_SUPERVISED_SCOPE
        )
    if verdict.correlations is None or not len(verdict.correlations):
        out["q3"] = (
            "Pool properties were not measured (notebook 03 writes pool_quality.csv), so the question is not "
            "answered here."
        )
    else:
        out["q3"] = _q3_sentence(verdict.correlations)
    return out


def oracle_sentence(verdict: Verdict) -> str | None:
    """Where the class-balanced oracle stands: its own gain over random, and each guided pool against it
    at cycle 0 and over the AUBC (Holm over the guided pools)."""
    oracle = verdict.oracle
    if oracle is None:
        return None
    own = oracle["own"]
    text = (
        f"Where the oracle stands: {oracle['init']} (a random draw with equal counts per class; it reads the labels) "
        f"gains {own['mean_diff']:+.3f} AUBC over random ({interval(own['ci_low'], own['ci_high'])}; "
        f"{own['n_seeds']} seeds)."
    )
    for metric, what in (("initial", "at cycle 0"), ("aubc", "over the whole AUBC")):
        family = oracle[metric]
        if family is None:
            return text
        above, below = family[family["outcome"] == "better"], family[family["outcome"] == "worse"]
        said = []
        if len(above):
            said.append(f"{named(above)} beat{'s' if len(above) == 1 else ''} it")
        if len(below):
            said.append(f"{named(below)} fall{'s' if len(below) == 1 else ''} below it")
        rest = len(family) - len(above) - len(below)
        if rest:
            said.append(f"for {rest} of {len(family)} guided pools this study could not tell")
        text += f" {what[0].upper()}{what[1:]}, after Holm over the guided pools: " + "; ".join(said) + "."
    return text


def _span(row: pd.Series, column: str) -> str:
    low, high = row[f"{column}_min"], row[f"{column}_max"]
    return f"{low}" if low == high else f"{low}–{high}"


def collapse_sentence(verdict: Verdict) -> str | None:
    """Why a pool collapses: the (up to 3) pools whose class coverage falls furthest below the random pool's,
    with how many of their images come from one class and how many classes they cover (range over seeds);
    "collapses" when the worst takes half of its pool or more from one class."""
    table = verdict.collapse
    if table is None:
        return None
    low, base = table[~table["is_baseline"]], table[table["is_baseline"]].iloc[0]
    k = int(base["n_classes"])
    if not len(low):
        return (
            f"No pool covers fewer classes than a random one: every pool covers on average as many of the {k} classes."
        )
    said = []
    for _, row in low.iterrows():
        gain = f", AUBC gain {row['gain']:+.3f}" if np.isfinite(row["gain"]) else ""
        said.append(
            f"{row['init']} takes {_span(row, 'largest')} of its {_span(row, 'size')} images from one class and "
            f"covers {_span(row, 'covered')} of {k} classes{gain}"
        )
    lead = (
        "Why a pool collapses: it concentrates on few classes."
        if low.iloc[0]["max_class_share"] >= 0.5
        else "The pools that cover fewer classes than a random one:"
    )
    return f"{lead} {'; '.join(said)}; a random pool covers {_span(base, 'covered')} of {k} (range over seeds)."


SEED_STUDY = (
    "The seed study's authors concluded that a guided initial pool could not conclusively beat a random "
    "one, and that pools chosen by VAE loss did help on CIFAR-100."
)


def seed_study_paragraph(verdict: Verdict) -> str:
    """Where this study agrees with the seed study's stated conclusion and where it differs, from the primary
    family, and why the comparison is limited."""
    family, dataset = verdict.primary, verdict.dataset
    if not len(family):
        return SEED_STUDY + " This study ran no guided pool, so it cannot be compared."
    better = family[family["outcome"] == "better"]
    if len(better):
        first = (
            f"Here, on {dataset}, {len(better)} of {len(family)} guided pools are better than random after Holm "
            f"({named(better)}): this differs from their first conclusion"
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
    size = f"{verdict.train_images:,} training images, " if verdict.train_images else ""
    limit = (
        f" The comparison is limited: digits (8×8 greyscale images, 10 classes, {size}a small CNN, tens to "
        f"hundreds of labels) is not CIFAR-100 (32×32 colour images, 100 classes, 50,000 training images, a "
        f"ResNet, thousands of labels)."
        if dataset == "digits"
        else f" The comparison is limited to what {dataset} shares with CIFAR-100: the dataset, model and budgets "
        f"differ."
    )
    return f"{SEED_STUDY} {first}{second}.{limit}"

"""The power of a study's design before it runs: what each family of tests can detect, from a pilot SD.

The primary family (docs/statistics.md) is one paired t-test per guided pool of ``al.inits``
(random and oracle pools excluded) on the pool-level AUBC gain, Holm over those m pools; its strictest
level is α/m. The secondary family is one test per (guided pool, query method), Holm over m × queries.
The sub-studies are families of their own. The smallest difference each detects at 80% power is the
noncentral-t figure of ``alnb.analysis.stats.detectable_difference`` for the family's seeds, at its first Holm step.
A pilot SD comes from an earlier run's ``results.csv`` (:func:`pilot_sd`) or is given by hand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alnb.analysis.stats import ALPHA, detectable_difference, seeds_needed
from alnb.core.config import StudyParams

TARGET = 0.02  # the pool-level AUBC gain the default study must detect (issue 17)


def guided_pools(inits: list[str]) -> list[str]:
    from alnb.analysis.verdict import GUIDED_KINDS, pool_kind

    return [i for i in inits if pool_kind(i) in GUIDED_KINDS]


def pilot_sd(results_path: str | Path) -> float:
    """The pooled paired SD of the pool-level AUBC gains in an earlier run's ``results.csv``."""
    from alnb.analysis.verdict import design_power, primary_family, secondary_family

    path = Path(results_path)
    if not path.is_file():
        raise FileNotFoundError(f"--pilot-results: {results_path} is not a file; give a run's results.csv")
    results = pd.read_csv(path)
    return float(design_power(primary_family(results), secondary_family(results))["paired_sd"])


def family_rows(params: StudyParams) -> list[tuple[str, int, int]]:
    """(family, tests, seeds) of every family of tests the study makes against random."""
    al, ab, im = params.al, params.ablations, params.imbalance
    m = len(guided_pools(al.inits))
    rows = [
        ("primary: guided pools, pool-level", m, len(al.seeds)),
        ("secondary: guided pool × query", m * len(al.queries), len(al.seeds)),
    ]
    ab_seeds = len(ab.seeds or al.seeds)
    ab_pools = len(guided_pools(ab.inits))
    if ab.initial_sizes:
        rows.append(("ablation: initial sizes", ab_pools * len(ab.queries) * len(ab.initial_sizes), ab_seeds))
    if ab.binned_tasks:
        rows.append(("ablation: binned and top-B", len(ab.binned_pools()) * len(ab.queries), ab_seeds))
    if ab.allocations:
        rows.append(("ablation: allocations", len(ab.allocation_pools()) * len(ab.queries), ab_seeds))
    if ab.low_budget:
        rows.append(("ablation: low budget", ab_pools * len(ab.queries), ab_seeds))
    if ab.model_inits:
        rows.append(("ablation: backbone initialisation", ab_pools * len(ab.queries) * len(ab.model_inits), ab_seeds))
    if im.imbalance_factors:
        rows.append(
            (
                "imbalance",
                len(guided_pools(im.inits)) * len(im.queries) * len(im.imbalance_factors),
                len(im.seeds or al.seeds),
            )
        )
    return [r for r in rows if r[1] > 0]


def power_report(params: StudyParams, sd: float) -> str:
    """What each family detects at 80% power at its first Holm step, given the paired SD ``sd``, as text."""
    lines = [
        f"power at a paired SD of {sd:.4f} (80% power, two-sided paired t-test at the first Holm step α/m, "
        f"noncentral t; the per-query families' SD is usually larger than the pool-level one)",
        f"{'family':<38} {'tests':>6} {'seeds':>6} {'level':>9} {'detectable':>11}",
    ]
    for name, m, n in family_rows(params):
        lines.append(f"{name:<38} {m:>6} {n:>6} {ALPHA / m:>9.4f} {detectable_difference(sd, n, ALPHA / m):>11.4f}")
    name, m, n = family_rows(params)[0]
    if m:
        need = seeds_needed(TARGET, sd, ALPHA / m)
        verdict = "meets" if detectable_difference(sd, n, ALPHA / m) <= TARGET else "misses"
        lines.append(
            f"the primary family {verdict} the target: a gain of {TARGET} needs {need} seeds at this SD "
            f"(the design has {n})"
        )
    return "\n".join(lines)

"""Written conclusions of the sub-study notebooks (04 ablations, 05 imbalance), generated from their numbers.

Each sub-study's table is one family: its paired AUBC tests against a reference pool, Holm-corrected over
the table. A conclusion says "better" or "worse" only where the corrected test does, and otherwise "could
not tell", with the difference each test could have detected at 80% power at its Holm level.
"""

from __future__ import annotations

import pandas as pd

from alnb.analysis import curves
from alnb.analysis.answers import p_text, value_range
from alnb.analysis.verdict import family_against


def _where(row: pd.Series, context: list[str]) -> str:
    shown = [f"{k} {row[k]:g}" if isinstance(row[k], float) else f"{k} {row[k]}" for k in context]
    return f"{row['init']} ({', '.join(shown)})" if shown else str(row["init"])


def family_conclusion(
    results: pd.DataFrame,
    what: str,
    baseline: str = "random",
    column: str = "test_acc",
    inits: list[str] | None = None,
) -> str:
    """One paragraph on ``results``: every pool (of ``inits``, named exactly, when given) against ``baseline``
    by the paired AUBC of ``column``, Holm over those comparisons, in words with the power of each test."""
    if inits is not None and len(results):
        results = results[results["init"].isin([*inits, baseline])]
    if not len(results) or baseline not in set(results["init"]):
        return f"{what}: not run in this study."
    family = family_against(results, baseline, column)
    if not len(family):
        return f"{what}: nothing to compare with {baseline}."
    context = [c for c in curves.context_columns(results) if c != "dataset"]
    n, m = int(family["n_seeds"].min()), len(family)
    said = []
    for outcome in ("better", "worse"):
        rows = family[family["outcome"] == outcome]
        if len(rows):
            listed = ", ".join(
                f"{_where(r, context)} {r['mean_diff']:+.3f} (Holm p {p_text(r['p_holm'])})" for _, r in rows.iterrows()
            )
            said.append(f"{len(rows)} {outcome} than {baseline} ({listed})")
    unclear = family[family["outcome"] == "could not tell"]
    if len(unclear) and unclear["detectable"].notna().any():
        said.append(
            f"could not tell for {len(unclear)} (largest observed difference "
            f"{unclear['mean_diff'].abs().max():.3f}); at their Holm levels these tests could have detected "
            f"differences of {value_range(unclear['detectable'])} AUBC with 80% power"
        )
    elif len(unclear):
        said.append(
            f"could not tell for {len(unclear)}: one seed allows no test (largest observed difference "
            f"{unclear['mean_diff'].abs().max():.3f})"
        )
    seeds = f"{n} seed" + ("s" if n != 1 else "")
    return f"{what} ({seeds}; Holm over the {m} comparisons with {baseline}): " + "; ".join(said) + "."

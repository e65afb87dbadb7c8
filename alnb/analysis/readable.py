"""Tables as a reader sees them: columns under readable headings (:data:`HEADINGS`, the same in the front page
and the notebooks), numbers rounded, a value that does not apply shown as "—" (never NaN), a column that is
empty for the whole table left out, and no index that only numbers the rows. Reports (the front page and the
rendered notebooks) show every table through :func:`readable` (notebooks: :func:`show`); their captions say
why a cell is "—". A p-value below the rounding shows as "< 0.0001", never as 0, and a column of whole
numbers that is float only because of its gaps (labels, cycles) shows no ".0"."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

HEADINGS = {  # a column's heading in every report (front page and notebooks), wherever it appears
    "init": "initial pool",
    "label": "property",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "mean_gain": "AUBC gain",
    "aubc_gain": "AUBC gain",
    "detectable": "detectable at 80% power",
    "better": "better in",
    "could not tell": "could not tell in",
    "worse": "worse in",
    "cycle0_gain": "cycle-0 gain",
    "cycle0_low": "cycle-0 95% low",
    "cycle0_high": "cycle-0 95% high",
    "al_phase_gain": "AL-phase gain",
    "al_phase_low": "AL-phase 95% low",
    "al_phase_high": "AL-phase 95% high",
    "aubc_from_cycle0": "of it, cycle 0",
    "aubc_after_cycle0": "of it, the rest",
    "advantage_ends_at": "interval first includes 0 at (labels)",
    "pool_types": "pool types",
    "rho_over_types": "ρ over types",
    "permutation_p": "permutation p",
    "rho_within_type": "ρ within type",
    "within_p": "within-type p",
    "aubc_mean": "AUBC mean",
    "aubc_std": "AUBC std",
    "final_mean": "final accuracy mean",
    "final_std": "final accuracy std",
    "aubc_vs_random": "AUBC − random",
    "query": "query method",
    "seeds": "seeds",
    "n_seeds": "seeds",
    "mean_diff": "mean difference",
    "sd_diff": "SD of the differences",
    "t_p": "t-test p",
    "wilcoxon_p": "Wilcoxon p",
    "t_p_holm": "Holm p",
    "p_holm": "Holm p",
    "guided_wins": "seeds where the pool wins",
    "outcome": "outcome",
    "aubc": "AUBC",
    "n_labeled": "labels",
    "test_acc": "test accuracy",
    "test_balanced_acc": "balanced test accuracy",
    "class_coverage": "class coverage",
    "class_entropy": "class entropy (normalised)",
    "max_class_share": "largest class share",
    "imbalance_factor": "imbalance factor",
    "initial_size": "initial pool size",
    "model_init": "backbone start",
    "train_seconds": "training seconds",
    "query_seconds": "query seconds",
    "score_seconds": "scoring seconds",
    "rotation_accuracy": "rotation accuracy",
    "permutation_p_holm": "permutation Holm p",
    "within_p_holm": "within-type Holm p",
    "pools": "pools measured",
    "within_pools": "pools in the within-type ρ",
}

MISSING = "—"
P_VALUE_COLUMN = re.compile(r"(^|[\s_(])p($|[\s_)])")  # "p", "p_holm", "t_p_holm", "Holm p (primary)"


def with_headings(table: pd.DataFrame, **headings: str) -> pd.DataFrame:
    """``table`` with its columns and index levels under :data:`HEADINGS` (``headings``: this table's own)."""
    names = {**HEADINGS, **headings}
    shown = table.rename(columns=names)
    rename = [names.get(n, n) if isinstance(n, str) else n for n in shown.index.names]
    columns = [names.get(n, n) if isinstance(n, str) else n for n in shown.columns.names]
    return shown.rename_axis(index=rename).rename_axis(columns=columns)


def readable(table: pd.DataFrame, digits: int = 4, **headings: str) -> pd.DataFrame:
    """``table`` under its readable headings (:func:`with_headings`), rounded to ``digits``, without its
    all-missing columns, missing cells as "—" (the index, row or column, is kept)."""
    table = with_headings(table, **headings)
    kept = table.loc[:, table.notna().any(axis=0)] if len(table) else table
    shown = kept.round(digits).astype(object)
    for column in kept.columns:
        values = kept[column]
        if not pd.api.types.is_float_dtype(values.dtype):
            continue
        present = values.notna()
        if P_VALUE_COLUMN.search(str(column)):
            below = present & (values < 10.0**-digits)
            shown.loc[below, column] = f"< {10.0**-digits:.{digits}f}"
        elif present.any() and np.all(values[present] == np.round(values[present])):
            shown.loc[present, column] = values[present].astype(np.int64).tolist()
    return shown.where(shown.notna(), MISSING)


def has_row_numbers(table: pd.DataFrame) -> bool:
    """Whether the index only numbers the rows (unnamed integers): it means nothing to a reader."""
    index = table.index
    return not isinstance(index, pd.MultiIndex) and index.name is None and pd.api.types.is_integer_dtype(index.dtype)


def show(table: pd.DataFrame, digits: int = 4) -> None:
    """Display ``table`` in a notebook as :func:`readable` makes it, without an index that only numbers rows."""
    from IPython.display import display

    styler = readable(table, digits).style.format(precision=digits)
    display(styler.hide(axis="index") if has_row_numbers(table) else styler)


def mark_oracles(table: pd.DataFrame, column: str = "init") -> pd.DataFrame:
    """``table`` with every oracle reference pool in ``column`` named "<name> (oracle)": it reads labels, so
    readers must never take it for a strategy they could use."""
    from alnb.methods.pools import pool_label

    return table.assign(**{column: table[column].map(pool_label)}) if len(table) else table

"""Tables as a reader sees them: numbers rounded, a value that does not apply shown as "—" (never NaN),
a column that is empty for the whole table left out, and no index that only numbers the rows. Reports (the
front page and the rendered notebooks) show every table through :func:`readable` (notebooks: :func:`show`);
their captions say why a cell is "—". A p-value below the rounding shows as "< 0.0001", never as 0, and
a column of whole numbers that is float only because of its gaps (labels, cycles) shows no ".0"."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

MISSING = "—"
P_VALUE_COLUMN = re.compile(r"(^|[\s_(])p($|[\s_)])")  # "p", "p_holm", "t_p_holm", "Holm p (primary)"


def readable(table: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """``table`` rounded to ``digits``, without its all-missing columns, missing cells as "—" (the index,
    row or column, is kept)."""
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

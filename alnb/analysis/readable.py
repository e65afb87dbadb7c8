"""Tables as a reader sees them: numbers rounded, a value that does not apply shown as "—" (never NaN),
and a column that is empty for the whole table left out. Reports (the front page and the rendered
notebooks) show every table through :func:`readable`; their captions say why a cell is "—"."""

from __future__ import annotations

import pandas as pd

MISSING = "—"


def readable(table: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """``table`` rounded to ``digits``, without its all-missing columns, missing cells as "—" (the index,
    row or column, is kept)."""
    kept = table.loc[:, table.notna().any(axis=0)] if len(table) else table
    shown = kept.round(digits).astype(object)
    return shown.where(shown.notna(), MISSING)

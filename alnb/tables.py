"""Tables as a notebook shows them to readers: no row numbers, and "—" where a value does not apply."""

from __future__ import annotations

import pandas as pd


def has_row_numbers(table: pd.DataFrame) -> bool:
    """Whether the index only numbers the rows (unnamed integers): it means nothing to a reader."""
    index = table.index
    return (not isinstance(index, pd.MultiIndex) and index.name is None
            and pd.api.types.is_integer_dtype(index.dtype))


def show(table: pd.DataFrame, digits: int | None = None) -> None:
    """Display ``table`` in a notebook: without an index that only numbers rows, missing values as "—",
    floats to ``digits`` decimals (default: pandas' ``display.precision``)."""
    from IPython.display import display

    styler = table.style.format(precision=pd.get_option("display.precision") if digits is None else digits,
                                na_rep="—")
    display(styler.hide(axis="index") if has_row_numbers(table) else styler)

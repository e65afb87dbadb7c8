"""The columns that key a trial in every tidy table (results, labeled sets, pools): the store writes them and
the analysis groups by them."""

from __future__ import annotations

import pandas as pd

RESULT_KEYS = ["dataset", "init", "query", "seed"]
# Factors of sub-studies and grids beyond the main four; a results row carries those its trial has.
FACTOR_KEYS = ["model_init", "initial_size", "imbalance_factor"]


def trial_columns(table: pd.DataFrame) -> list[str]:
    """The columns of ``table`` that key a trial: the main four and every sub-study factor it carries."""
    return [*RESULT_KEYS, *(k for k in FACTOR_KEYS if k in table.columns)]

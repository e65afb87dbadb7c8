"""The run directory: tidy tables written atomically, one folder per trial, finished trials never recomputed.

Layout of ``runs/<study>/``::

    initial_pools.csv          init, seed, index            (global indices into the train split)
    results.csv                dataset, init, query, seed, cycle, n_labeled, test_acc, ...
    labeled.csv                dataset, init, query, seed, cycle, index   (labels acquired per cycle)
    trials/<key>/rows.csv      one trial's rows         ┐ written first,
    trials/<key>/labeled.csv   one trial's acquisitions ┘
    trials/<key>/status.json   {"status": "done"|"failed", ...}   written last: the completion mark
    protocol.json              the settings that decide the numbers; another protocol is refused
    pretext/<dataset>/seed<k>/<task>/   cached pretext models, losses, embeddings
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

RESULT_KEYS = ["dataset", "init", "query", "seed"]
# Factors of sub-studies and grids beyond the main four; a results row carries those its trial has.
FACTOR_KEYS = ["model_init", "initial_size", "imbalance_factor"]


def trial_columns(table: pd.DataFrame) -> list[str]:
    """The columns of ``table`` that key a trial: the main four and every sub-study factor it carries."""
    return [*RESULT_KEYS, *(k for k in FACTOR_KEYS if k in table.columns)]


class ProtocolChanged(RuntimeError):
    """The run directory holds trials of another protocol (training, budgets, data …)."""


def _file_mode() -> int:
    """The mode of a new file under the current umask (0644 by default): what ``open`` would create."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``.

    The file gets the mode the umask gives any new file (``mkstemp`` alone would leave it 0600, so a
    shared report would be unreadable to others).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_csv(df: pd.DataFrame, path: Path) -> None:
    atomic_write_text(path, df.to_csv(index=False))


@dataclass(frozen=True)
class TrialKey:
    """Every factor that defines a trial: the main four plus sub-study factors (``FACTOR_KEYS``), e.g.
    ``TrialKey("digits", "random", "lc", 0, (("initial_size", 10),))``; two trials differ in some factor."""

    dataset: str
    init: str
    query: str
    seed: int
    factors: tuple[tuple[str, object], ...] = ()

    def __post_init__(self):
        unknown = [name for name, _ in self.factors if name not in FACTOR_KEYS]
        if unknown:
            raise ValueError(f"trial factor {unknown[0]!r} is unknown; valid: {', '.join(FACTOR_KEYS)}")

    @property
    def folder_name(self) -> str:
        extra = "".join(f"__{name}-{value:g}" if isinstance(value, float) else f"__{name}-{value}"
                        for name, value in self.factors)
        return f"{self.dataset}__{self.init}__{self.query}__s{self.seed}{extra}"

    def as_dict(self) -> dict:
        return {"dataset": self.dataset, "init": self.init, "query": self.query, "seed": self.seed,
                **dict(self.factors)}


def _differences(recorded: dict, current: dict, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested mappings."""
    out = []
    for key in sorted(set(recorded) | set(current)):
        a, b = recorded.get(key), current.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}")
    return out


class RunStore:
    """Reads and writes one run directory."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # -- protocol
    def check_protocol(self, protocol: dict) -> None:
        """Record ``protocol`` in ``protocol.json``, or refuse one that differs from the recorded one."""
        path = self.root / "protocol.json"
        text = json.dumps(protocol, indent=1, sort_keys=True, default=str)
        if not path.is_file():
            atomic_write_text(path, text)
            return
        changed = _differences(json.loads(path.read_text()), json.loads(text))
        if changed:
            raise ProtocolChanged(
                f"{self.root} holds trials run with other settings ({', '.join(changed)}); give the study a new "
                f"name, or delete that run directory to start over")

    # -- trials
    def trial_dir(self, key: TrialKey) -> Path:
        return self.root / "trials" / key.folder_name

    def status(self, key: TrialKey) -> dict | None:
        path = self.trial_dir(key) / "status.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def is_done(self, key: TrialKey) -> bool:
        status = self.status(key)
        return bool(status) and status.get("status") == "done"

    def write_trial(self, key: TrialKey, rows: list[dict], labeled: list[tuple[int, int]], info: dict) -> None:
        folder = self.trial_dir(key)
        atomic_write_csv(pd.DataFrame(rows), folder / "rows.csv")
        atomic_write_csv(pd.DataFrame(labeled, columns=["cycle", "index"]), folder / "labeled.csv")
        atomic_write_text(folder / "status.json", json.dumps({"status": "done", **key.as_dict(), **info}, indent=1))

    def write_failure(self, key: TrialKey, error: str) -> None:
        atomic_write_text(self.trial_dir(key) / "status.json",
                          json.dumps({"status": "failed", **key.as_dict(), "error": error}, indent=1))

    def trial_statuses(self) -> pd.DataFrame:
        rows = [json.loads(p.read_text()) for p in sorted(self.root.glob("trials/*/status.json"))]
        return pd.DataFrame(rows, columns=None if rows else [*RESULT_KEYS, "status"])

    def _done_dirs(self) -> list[Path]:
        return [p.parent for p in sorted(self.root.glob("trials/*/status.json"))
                if json.loads(p.read_text()).get("status") == "done"]

    def collect(self) -> pd.DataFrame:
        """Concatenate the rows of every finished trial into ``results.csv`` and ``labeled.csv``."""
        done = self._done_dirs()
        results = [pd.read_csv(d / "rows.csv") for d in done]
        results_df = pd.concat(results, ignore_index=True) if results else pd.DataFrame(columns=RESULT_KEYS)
        keys = trial_columns(results_df)
        results_df = results_df.sort_values([*keys, "cycle"], ignore_index=True) if results else results_df
        labeled = []
        for d in done:
            status = json.loads((d / "status.json").read_text())
            df = pd.read_csv(d / "labeled.csv")
            for position, k in enumerate(k for k in keys if k in status):
                df.insert(position, k, status[k])
            labeled.append(df)
        labeled_df = pd.concat(labeled, ignore_index=True) if labeled else pd.DataFrame(
            columns=[*RESULT_KEYS, "cycle", "index"])
        atomic_write_csv(results_df, self.root / "results.csv")
        atomic_write_csv(labeled_df, self.root / "labeled.csv")
        return results_df

    def results(self) -> pd.DataFrame:
        path = self.root / "results.csv"
        return pd.read_csv(path) if path.is_file() else self.collect()

    def labeled(self) -> pd.DataFrame:
        path = self.root / "labeled.csv"
        if not path.is_file():
            self.collect()
        return pd.read_csv(path)

    # -- derived tables (pool properties, ...)
    def write_table(self, name: str, table: pd.DataFrame) -> Path:
        path = self.root / f"{name}.csv"
        atomic_write_csv(table, path)
        return path

    def read_table(self, name: str) -> pd.DataFrame | None:
        path = self.root / f"{name}.csv"
        return pd.read_csv(path) if path.is_file() else None

    # -- initial pools
    @property
    def pools_path(self) -> Path:
        return self.root / "initial_pools.csv"

    def initial_pools(self) -> pd.DataFrame:
        if self.pools_path.is_file():
            return pd.read_csv(self.pools_path)
        return pd.DataFrame({"init": pd.Series(dtype=str), "seed": pd.Series(dtype=int),
                             "index": pd.Series(dtype=int)})

    def write_initial_pools(self, new: pd.DataFrame) -> pd.DataFrame:
        """Merge ``new`` (init, seed, index) into ``initial_pools.csv``, replacing the same (init, seed)."""
        old = self.initial_pools()
        replaced = old.set_index(["init", "seed"]).index.isin(new.set_index(["init", "seed"]).index.unique())
        merged = pd.concat([old[~replaced], new], ignore_index=True).sort_values(["init", "seed"], kind="stable")
        atomic_write_csv(merged, self.pools_path)
        return merged

    # -- pretext cache
    def pretext_dir(self, dataset: str, seed: int, task: str) -> Path:
        return self.root / "pretext" / dataset / f"seed{seed}" / task

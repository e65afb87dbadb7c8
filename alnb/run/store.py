"""The run directory: tidy tables written atomically, one folder per trial, finished trials never recomputed.

Layout of ``runs/<study>/``::

    initial_pools.csv          init, seed, index            (global indices into the train split)
    results.csv                dataset, init, query, seed, cycle, n_labeled, test_acc, ...
    labeled.csv                dataset, init, query, seed, cycle, index   (labels acquired per cycle)
    trials/<key>/rows.csv      one trial's rows         ┐ written first,
    trials/<key>/labeled.csv   one trial's acquisitions ┘
    trials/<key>/status.json   {"status": "done"|"failed", ...}   written last: the completion mark,
                               with the sha256 of the two tables it completes
    protocol.json              the settings that decide the numbers; another protocol is refused. Its
                               ``provenance`` list: commit, versions, platform, device of each run
    pretext/<dataset>/seed<k>/<task>/   cached pretext models, losses, embeddings

Every file is written atomically and flushed to the disk before it is renamed into place
(:mod:`alnb.core.durable`). A damaged file left by a crash of an older version (a truncated table, a status
that is not JSON, a table that does not match its status) is reported in one warning line and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alnb.core.durable import (
    atomic_write_text,
    csv_problem,
    is_verified,
    read_json,
    save_verified,
    warn_damaged,
)
from alnb.core.trial_keys import FACTOR_KEYS, RESULT_KEYS, trial_columns


class ProtocolChanged(RuntimeError):
    """The run directory holds trials of another protocol (training, budgets, data …)."""


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
        extra = "".join(
            f"__{name}-{value:g}" if isinstance(value, float) else f"__{name}-{value}" for name, value in self.factors
        )
        return f"{self.dataset}__{self.init}__{self.query}__s{self.seed}{extra}"

    def as_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "init": self.init,
            "query": self.query,
            "seed": self.seed,
            **dict(self.factors),
        }


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

    def __init__(self, root: str | Path, pretext_root: str | Path | None = None):
        self.root = Path(root)
        self.pretext_root = Path(pretext_root) if pretext_root else self.root / "pretext"  # sub-studies share one

    # -- protocol
    def check_protocol(self, protocol: dict, provenance: dict | None = None) -> None:
        """Record ``protocol`` in ``protocol.json``, or refuse one that differs from the recorded one.

        ``provenance`` (:mod:`alnb.run.provenance`) is not part of the protocol: each distinct record is kept, in
        order, under the file's ``provenance`` key, so a run continued with other code or libraries says so."""
        current = _as_json(protocol)
        recorded = self._recorded_protocol()
        history = list((recorded or {}).get(PROVENANCE_KEY, []))
        if recorded is not None:
            changed = _protocol_differences(recorded, current)
            if changed:
                raise ProtocolChanged(
                    f"{self.root} holds trials run with other settings ({', '.join(changed)}); give the study a "
                    f"new name, or delete that run directory to start over"
                )
        if provenance is not None and (not history or history[-1] != provenance):
            history.append(provenance)
        if recorded is None or history != recorded.get(PROVENANCE_KEY, []):
            record = {**current, PROVENANCE_KEY: history} if history else current
            atomic_write_text(self.root / "protocol.json", json.dumps(record, indent=1, sort_keys=True))

    def has_protocol(self, protocol: dict) -> bool:
        """Whether this run directory's trials were run with ``protocol`` (False before any trial ran)."""
        recorded = self._recorded_protocol()
        return recorded is not None and not _protocol_differences(recorded, _as_json(protocol))

    def provenance(self) -> list[dict]:
        """The provenance records of this run directory, oldest first (empty before any trial ran)."""
        return list((self._recorded_protocol() or {}).get(PROVENANCE_KEY, []))

    def _recorded_protocol(self) -> dict | None:
        return read_json(self.root / "protocol.json", "recording the current protocol in its place")

    # -- trials
    def trial_dir(self, key: TrialKey) -> Path:
        return self.root / "trials" / key.folder_name

    def status(self, key: TrialKey) -> dict | None:
        """The trial's recorded status; None when it has none, or a damaged one (reported; the trial reruns)."""
        return _read_status(self.trial_dir(key) / "status.json")

    def is_done(self, key: TrialKey) -> bool:
        return _is_done(self.trial_dir(key))

    def write_trial(self, key: TrialKey, rows: list[dict], labeled: list[tuple[int, int]], info: dict) -> None:
        folder = self.trial_dir(key)
        tables = {
            "rows.csv": pd.DataFrame(rows).to_csv(index=False),
            "labeled.csv": pd.DataFrame(labeled, columns=["cycle", "index"]).to_csv(index=False),
        }
        for name, text in tables.items():
            atomic_write_text(folder / name, text)
        digests = {_DIGEST_KEYS[name]: _sha256(text) for name, text in tables.items()}
        atomic_write_text(
            folder / "status.json", json.dumps({"status": "done", **key.as_dict(), **info, **digests}, indent=1)
        )

    def copy_trial(self, key: TrialKey, source: RunStore) -> bool:
        """Copy ``source``'s finished trial ``key`` here: its tables, then its status (a copy cut short is not
        done). False when ``source`` has not finished it. The caller checks that both ran the same protocol."""
        if not source.is_done(key):
            return False
        origin, folder = source.trial_dir(key), self.trial_dir(key)
        for name in _DIGEST_KEYS:
            atomic_write_text(folder / name, (origin / name).read_text())
        status = {**json.loads((origin / "status.json").read_text()), "copied_from": os.path.relpath(origin, folder)}
        atomic_write_text(folder / "status.json", json.dumps(status, indent=1))
        return True

    def write_failure(self, key: TrialKey, error: str) -> None:
        atomic_write_text(
            self.trial_dir(key) / "status.json",
            json.dumps({"status": "failed", **key.as_dict(), "error": error}, indent=1),
        )

    def trial_statuses(self) -> pd.DataFrame:
        statuses = (_read_status(p) for p in sorted(self.root.glob("trials/*/status.json")))
        rows = [s for s in statuses if s is not None]
        return pd.DataFrame(rows, columns=None if rows else [*RESULT_KEYS, "status"])

    def _done_dirs(self) -> list[Path]:
        return [p.parent for p in sorted(self.root.glob("trials/*/status.json")) if _is_done(p.parent)]

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
        labeled_df = (
            pd.concat(labeled, ignore_index=True) if labeled else pd.DataFrame(columns=[*RESULT_KEYS, "cycle", "index"])
        )
        atomic_write_csv(results_df, self.root / "results.csv")
        atomic_write_csv(labeled_df, self.root / "labeled.csv")
        return results_df

    def results(self) -> pd.DataFrame:
        path = self.root / "results.csv"
        return pd.read_csv(path) if self._intact_table(path, RESULT_KEYS) else self.collect()

    def labeled(self) -> pd.DataFrame:
        path = self.root / "labeled.csv"
        if not self._intact_table(path, [*RESULT_KEYS, "cycle", "index"]):
            self.collect()
        return pd.read_csv(path)

    @staticmethod
    def _intact_table(path: Path, required: list[str], action: str = "collected again from the trials") -> bool:
        """Whether ``path`` exists and is a complete table; a damaged one is reported."""
        if not path.is_file():
            return False
        problem = csv_problem(path, required)
        if problem:
            warn_damaged(path, problem, action)
        return problem is None

    # -- derived tables (pool properties, ...)
    def write_table(self, name: str, table: pd.DataFrame) -> Path:
        path = self.root / f"{name}.csv"
        atomic_write_csv(table, path)
        return path

    def read_table(self, name: str) -> pd.DataFrame | None:
        """The table written by :meth:`write_table`; None when absent or damaged (then computed again)."""
        path = self.root / f"{name}.csv"
        return pd.read_csv(path) if self._intact_table(path, [], "computed again") else None

    # -- initial pools
    @property
    def pools_path(self) -> Path:
        return self.root / "initial_pools.csv"

    def initial_pools(self) -> pd.DataFrame:
        if self._intact_table(self.pools_path, ["init", "seed", "index"], "its pools are built again"):
            return pd.read_csv(self.pools_path)
        return pd.DataFrame({"init": pd.Series(dtype=str), "seed": pd.Series(dtype=int), "index": pd.Series(dtype=int)})

    def write_initial_pools(self, new: pd.DataFrame) -> pd.DataFrame:
        """Merge ``new`` (init, seed, index) into ``initial_pools.csv``, replacing the same (init, seed)."""
        old = self.initial_pools()
        replaced = old.set_index(["init", "seed"]).index.isin(new.set_index(["init", "seed"]).index.unique())
        merged = pd.concat([old[~replaced], new], ignore_index=True).sort_values(["init", "seed"], kind="stable")
        atomic_write_csv(merged, self.pools_path)
        return merged

    # -- caches of self-supervised models and 2-D maps
    def self_supervised_folder(self, dataset: str, seed: int, method: str, digest: str) -> Path:
        """Folder of one self-supervised model; ``digest`` keys its settings and the pool it was trained on."""
        return self.pretext_root / dataset / f"seed{seed}" / f"{method}-{digest}"

    def _map_path(self, seed: int, representation: str, method: str, digest: str) -> Path:
        return self.root / "maps" / f"seed{seed}_{representation}_{method}_{digest}.npy"

    def map_coords(self, seed: int, representation: str, method: str, digest: str) -> np.ndarray | None:
        """The cached 2-D map of these points (``digest``) by ``method``, or None."""
        path = self._map_path(seed, representation, method, digest)
        return np.load(path) if is_verified(path, "the map is computed again") else None

    def write_map_coords(self, seed: int, representation: str, method: str, digest: str, coords: np.ndarray) -> None:
        save_verified(self._map_path(seed, representation, method, digest), lambda tmp: _save_npy(tmp, coords))


PROVENANCE_KEY = "provenance"
_DIGEST_KEYS = {"rows.csv": "rows_sha256", "labeled.csv": "labeled_sha256"}


def _as_json(protocol: dict) -> dict:
    return json.loads(json.dumps(protocol, default=str))


def _protocol_differences(recorded: dict, current: dict) -> list[str]:
    """What differs between a recorded protocol (its provenance records aside) and ``current``."""
    return _differences({k: v for k, v in recorded.items() if k != PROVENANCE_KEY}, current)


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.save(fh, array)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _read_status(path: Path) -> dict | None:
    return read_json(path, "the trial is run again")


def _is_done(folder: Path) -> bool:
    """Whether the trial in ``folder`` finished and its tables are the ones its status completes.

    Statuses written before the digests were recorded are checked for complete tables instead.
    """
    status = _read_status(folder / "status.json")
    if not status or status.get("status") != "done":
        return False
    for name, digest_key in _DIGEST_KEYS.items():
        path = folder / name
        if digest_key in status:
            try:
                intact = _sha256(path.read_text()) == status[digest_key]
            except (OSError, UnicodeDecodeError):
                intact = False
            problem = None if intact else "missing, or not the table whose sha256 status.json records"
        else:
            problem = csv_problem(path, ["cycle"])
        if problem:
            warn_damaged(path, problem, "the trial is run again")
            return False
    return True

"""The study: what the notebooks call. A study's parameters and run directory, composed of three parts with
one job each; notebooks and ``select`` call the parts:

- ``study.representations`` (:mod:`alnb.run.representations`): the dataset, its splits, and the representations
  of the unlabeled pool U (pixels, PCA, the self-supervised models trained on U);
- ``study.pools`` (:mod:`alnb.run.initial_pools`): the initial pools, their 2-D maps and measured properties;
- ``study.grid`` (:mod:`alnb.run.grid`): the trials (init × query × seed), run through the executor, and their
  results.

Every file of the run directory goes through ``study.store`` (:mod:`alnb.run.store`); the protocol recorded
there is :func:`alnb.run.protocol.protocol`. Sub-study drivers (ablations, imbalance) are in
:mod:`alnb.run.substudies`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from alnb.core.config import StudyParams
from alnb.run.grid import Grid
from alnb.run.initial_pools import InitialPools
from alnb.run.representations import Representations
from alnb.run.store import RunStore
from alnb.run.validation import load_params


class Study:
    """A study's parameters and run directory, with its parts: ``representations``, ``pools`` and ``grid``."""

    def __init__(
        self,
        params: StudyParams,
        pretext_root: Path | None = None,
        factors: dict | None = None,
        parent: RunStore | None = None,
    ):
        self.params = params
        self.store = RunStore(params.run_path, pretext_root)
        self.representations = Representations(params, self.store)
        self.pools = InitialPools(params, self.store, self.representations)
        self.grid = Grid(params, self.store, self.representations, self.pools, factors, parent)

    @classmethod
    def load(cls, params_path: str | Path) -> Study:
        return cls(load_params(params_path))

    def variant(self, name: str, factors: dict, **sections: dict) -> Study:
        """A sub-study in ``<run_dir>/<name>`` with some parameters overridden; it shares the pretext cache.

        ``factors`` (e.g. ``{"initial_size": 10}``) key its trials and become columns of its rows, so the
        rows of several sub-studies never merge into one curve. Where it runs this study's protocol, it copies
        the trials this study has finished instead of running them again.
        """
        params = self.params.replace(**sections)
        params = dataclasses.replace(params, run_dir=str(self.store.root / name))
        return Study(
            params, pretext_root=self.store.pretext_root, factors={**self.grid.factors, **factors}, parent=self.store
        )

    def other_results(self, run_dir: str) -> pd.DataFrame:
        """``results.csv`` of another study's run directory (relative paths: to the project root)."""
        path = Path(run_dir) if Path(run_dir).is_absolute() else Path(self.params.project_root) / run_dir
        if not (path / "results.csv").is_file():
            raise FileNotFoundError(
                f"visualization.compare_run_dir: {run_dir!r} holds no results.csv; run that "
                f"study first (make study PARAMS=...)"
            )
        return RunStore(path).results()

    def display_path(self, path: Path) -> str:
        """``path`` relative to the project root, as reports show it (never an absolute path of the machine)."""
        path = Path(path).resolve()
        root = Path(self.params.project_root).resolve()
        return str(path.relative_to(root)) if path.is_relative_to(root) else path.name

"""The facade the notebooks call: a study's workspace plus the grid of its trials.

``Study(params)`` loads data, splits, cached representations and initial pools lazily
(``alnb.run.workspace``); :meth:`Study.run` and :meth:`Study.prepare_self_supervised` schedule the missing
trials and self-supervised models through the grid runner (``alnb.run.grid``). The sub-study drivers are
in ``alnb.run.substudies``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alnb.run.grid import run_trials, train_self_supervised
from alnb.run.provenance import provenance
from alnb.run.validation import load_params
from alnb.run.workspace import Workspace


class TrialsFailed(RuntimeError):
    """Some trials failed; their errors are in ``trials/<key>/status.json`` and the rest were kept."""


class Study(Workspace):
    """A study's parameters and run directory, with lazily loaded data and cached artifacts, and its grid."""

    @classmethod
    def load(cls, params_path: str | Path) -> Study:
        return cls(load_params(params_path))

    def prepare_self_supervised(self, seeds: list[int] | None = None, progress: bool = True) -> None:
        """Train every missing model of ``pretext.tasks`` for ``seeds`` (default ``al.seeds``) through the
        executor: different (task, seed) pairs train in parallel jobs, or a lone one on every core."""
        missing = [
            (method, seed)
            for method in self.params.pretext.tasks
            for seed in (seeds or self.params.al.seeds)
            if not self._self_supervised_cached(seed, method)
        ]
        if missing:
            train_self_supervised(self, missing, progress)

    def run(self, inits=None, queries=None, seeds=None, progress: bool = True) -> pd.DataFrame:
        """Run every missing trial of the grid, collect ``results.csv`` and return the grid's rows.

        The run directory records the protocol it was run with; running a different protocol into it is
        refused, so finished trials are never mixed with trials of other settings.
        """
        self.store.check_protocol(self.protocol(), provenance(self.device))
        keys = self.trial_keys(inits, queries, seeds)
        self.build_initial_pools(sorted({k.init for k in keys}), sorted({k.seed for k in keys}))
        todo = [k for k in keys if not self.store.is_done(k)]
        for seed in sorted({k.seed for k in todo}):
            self.backbone_state(seed)  # the encoders of model.init are trained here once, not in every worker
        run_trials(self, todo, progress)
        results = self.store.collect()
        failed = [k for k in todo if not self.store.is_done(k)]
        if failed:
            first = self.store.status(failed[0]) or {}
            raise TrialsFailed(
                f"{len(failed)} of {len(keys)} trials failed; first: {failed[0].folder_name}\n{first.get('error', '')}"
            )
        wanted = pd.DataFrame([k.as_dict() for k in keys])
        return results.merge(wanted, on=list(wanted.columns)) if len(results) else results

"""The grid of a study's trials (init × query × seed, keyed by every factor that defines a trial) and how it runs:
picklable jobs handed to a generic executor (``alnb.run.executors.run_jobs``).

A job finds the grid of its study from the parameters: in the process that runs the study, the study's own
(so a serial run reuses the data, splits and features it has loaded); in a worker, the one it built for its
previous job of the same study, else a new one. It runs the trials of one initial pool and seed (one per query
method: they share cycle 0) or trains one self-supervised model. Failures come back from the executor and are
recorded here, in the run directory.
"""

from __future__ import annotations

import json
import traceback
import weakref
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd

from alnb.core.config import StudyParams
from alnb.core.durable import DiskFull
from alnb.core.run_lock import FolderLock
from alnb.methods.pools import is_oracle
from alnb.methods.query import get_query_method
from alnb.run.executors import Resources, run_jobs, threads_per_job
from alnb.run.initial_pools import InitialPools
from alnb.run.loop import SharedFirstCycle, run_trial
from alnb.run.protocol import protocol
from alnb.run.provenance import provenance
from alnb.run.representations import Representations
from alnb.run.store import RunStore, TrialKey


def seeds_of(params: StudyParams, init: str, seeds: list[int]) -> list[int]:
    """The seeds of ``seeds`` that the initial pool ``init`` runs on: ``pools.oracle_seeds`` limits an oracle
    reference's."""
    limit = params.pools.oracle_seeds
    return [s for s in seeds if s in limit] if limit is not None and is_oracle(init) else list(seeds)


class TrialsFailed(RuntimeError):
    """Some trials failed; their errors are in ``trials/<key>/status.json`` and the rest were kept."""


class Grid:
    """The trials of a study: their keys, running the missing ones (and the self-supervised models they need)
    through the executor, and their results."""

    def __init__(
        self,
        params: StudyParams,
        store: RunStore,
        representations: Representations,
        pools: InitialPools,
        factors: dict | None = None,
        parent: RunStore | None = None,
    ):
        self.params = params
        self.store = store
        self.parent = parent  # a sub-study's parent study: its finished trials of the same protocol are copied
        self.representations = representations
        self.pools = pools
        self.factors = dict(factors or {})  # sub-study factors (core.trial_keys.FACTOR_KEYS) that key every trial
        if params.model.init != "scratch":
            self.factors.setdefault("model_init", params.model.init)

    def keys(self, inits=None, queries=None, seeds=None) -> list[TrialKey]:
        al = self.params.al
        factors = tuple(self.factors.items())
        dataset = self.representations.dataset.name
        return [
            TrialKey(dataset, init, query, seed, factors)
            for init in (inits or al.inits)
            for query in (queries or al.queries)
            for seed in seeds_of(self.params, init, seeds or al.seeds)
        ]

    def run_group(self, keys: list[TrialKey]) -> None:
        """Run the trials ``keys``, which differ only in their query method, training their cycle 0 once."""
        first_cycle = SharedFirstCycle()
        for key in keys:
            self.run_one(key, first_cycle)

    def run_one(self, key: TrialKey, first_cycle: SharedFirstCycle | None = None) -> None:
        """Run one trial and record it (done, or failed with its error); a finished trial is skipped.
        ``first_cycle`` shares cycle 0 with the other trials of its initial pool and seed."""
        if self.store.is_done(key):
            return
        rep = self.representations
        try:
            result = run_trial(
                rep.tensors,
                rep.splits(key.seed),
                self.pools.indices(key.init, key.seed),
                get_query_method(key.query),
                self.params,
                key.seed,
                rep.dataset.n_classes,
                rep.hflip,
                key.as_dict(),
                backbone_state=rep.backbone_state(key.seed),
                first_cycle=first_cycle,
            )
        except DiskFull:  # stops the grid: every other trial would fail the same way
            raise
        except Exception:  # recorded per trial so the rest of the grid goes on; re-raised as TrialsFailed
            self.store.write_failure(key, traceback.format_exc())
            return
        self.store.write_trial(key, result.rows, result.labeled, {"device": str(rep.device)})

    def prepare_self_supervised(self, seeds: list[int] | None = None, progress: bool = True) -> None:
        """Train every missing model of ``pretext.tasks`` for ``seeds`` (default ``al.seeds``) through the
        executor: different (task, seed) pairs train in parallel jobs, or a lone one on every core."""
        missing = [
            (method, seed)
            for method in self.params.pretext.tasks
            for seed in (seeds or self.params.al.seeds)
            if not self.representations.self_supervised_cached(seed, method)
        ]
        if missing:
            _train_self_supervised(self, missing, progress)

    def run(self, inits=None, queries=None, seeds=None, progress: bool = True) -> pd.DataFrame:
        """Run every missing trial of the grid, collect ``results.csv`` and return the grid's rows.

        The run directory records the protocol it was run with; running a different protocol into it is
        refused, so finished trials are never mixed with trials of other settings. It is locked while the grid
        runs (:mod:`alnb.core.run_lock`), so a notebook run by hand and ``alnb study`` never share it; under
        ``alnb study`` the lock is the command's own.
        """
        with FolderLock(self.store.root, "run directory"):
            return self._run_locked(inits, queries, seeds, progress)

    def _run_locked(self, inits, queries, seeds, progress: bool) -> pd.DataFrame:
        run_protocol = protocol(self.params)
        self.store.check_protocol(run_protocol, provenance(self.representations.device))
        keys = self.keys(inits, queries, seeds)
        self.pools.build(sorted({k.init for k in keys}), sorted({k.seed for k in keys}))
        todo = self._copy_from_parent([k for k in keys if not self.store.is_done(k)], run_protocol)
        for seed in sorted({k.seed for k in todo}):
            self.representations.backbone_state(seed)  # model.init's encoders train here once, not in every worker
        _run_trials(self, todo, progress)
        results = self.store.collect()
        failed = [k for k in todo if not self.store.is_done(k)]
        if failed:
            first = self.store.status(failed[0]) or {}
            raise TrialsFailed(
                f"{len(failed)} of {len(keys)} trials failed; first: {failed[0].folder_name}\n{first.get('error', '')}"
            )
        wanted = pd.DataFrame([k.as_dict() for k in keys])
        return results.merge(wanted, on=list(wanted.columns)) if len(results) else results

    def _copy_from_parent(self, todo: list[TrialKey], run_protocol: dict) -> list[TrialKey]:
        """The trials of ``todo`` still to run: a sub-study that changes no factor of the protocol (the binned
        or allocation ablation) holds some of its parent's trials, and a finished trial is never run again."""
        if self.parent is None or not self.parent.has_protocol(run_protocol):
            return todo
        return [key for key in todo if not self.store.copy_trial(key, self.parent)]

    def results(self) -> pd.DataFrame:
        return self.store.results()


# ---------------------------------------------------------------------- jobs

_ADOPTED: weakref.WeakValueDictionary[str, Grid] = weakref.WeakValueDictionary()  # studies run from here
_LAST_BUILT: dict[str, Grid] = {}  # a worker's grid of the study it last served


def _identity(params: StudyParams, pretext_root: Path, factors: dict) -> str:
    return json.dumps([asdict(params), str(pretext_root), factors], sort_keys=True, default=str)


def grid_for(params: StudyParams, pretext_root: Path, factors: dict) -> Grid:
    """This process's grid of the study these arguments describe (built once)."""
    key = _identity(params, pretext_root, factors)
    grid = _ADOPTED.get(key) or _LAST_BUILT.get(key)
    if grid is None:
        _LAST_BUILT.clear()
        store = RunStore(params.run_path, pretext_root)
        representations = Representations(params, store)
        grid = _LAST_BUILT[key] = Grid(
            params, store, representations, InitialPools(params, store, representations), factors
        )
    return grid


def _adopt(grid: Grid) -> tuple:
    """Register ``grid`` as this process's grid of its study; returns the arguments that name it."""
    args = (grid.params, grid.store.pretext_root, grid.factors)
    _ADOPTED[_identity(*args)] = grid
    return args


def trials_job(params: StudyParams, pretext_root: Path, factors: dict, keys: tuple[TrialKey, ...]) -> None:
    grid_for(params, pretext_root, factors).run_group(list(keys))


def self_supervised_job(params: StudyParams, pretext_root: Path, factors: dict, method: str, seed: int) -> None:
    grid_for(params, pretext_root, factors).representations.self_supervised(seed, method)


def _resources(params: StudyParams, threads: int | None = None) -> Resources:
    ex = params.executor
    return Resources(ex.kind, ex.n_jobs, threads or threads_per_job(ex), ex.num_cpus, ex.num_gpus, ex.address)


def query_groups(keys: list[TrialKey]) -> list[tuple[TrialKey, ...]]:
    """``keys`` grouped by every factor but the query method (the trials that share cycle 0), in order."""
    groups: dict[TrialKey, list[TrialKey]] = {}
    for key in keys:
        groups.setdefault(replace(key, query=""), []).append(key)
    return [tuple(group) for group in groups.values()]


def _run_trials(grid: Grid, todo: list[TrialKey], progress: bool = True) -> None:
    """Run the trials of ``todo``, one job per initial pool and seed; a trial whose job failed outside the trial
    (its worker died) is recorded failed here, and the rest of the grid goes on."""
    args = _adopt(grid)
    groups = query_groups(todo)
    calls = [(*args, group) for group in groups]
    failures = run_jobs(trials_job, calls, _resources(grid.params), "trials", progress, [len(g) for g in groups])
    for call, error in failures:
        for key in call[-1]:
            if not grid.store.is_done(key):
                grid.store.write_failure(key, error)


def _train_self_supervised(grid: Grid, jobs: list[tuple[str, int]], progress: bool = True) -> None:
    """Train the self-supervised models ``jobs`` (method, seed) into the study's cache.

    Different (method, seed) pairs run in parallel jobs of ``threads_per_job`` threads; a lone job gets the
    executor's whole core budget (``n_jobs × threads``), so no core sits idle either way.
    """
    ex = grid.params.executor
    alone = len(jobs) == 1 and ex.kind != "ray"
    threads = threads_per_job(ex) * (ex.n_jobs if alone else 1)
    args = _adopt(grid)
    failures = run_jobs(
        self_supervised_job,
        [(*args, method, seed) for method, seed in jobs],
        _resources(grid.params, threads),
        "self-supervised models",
        progress,
    )
    if failures:
        (method, seed), error = failures[0][0][-2:], failures[0][1]
        raise RuntimeError(
            f"{len(failures)} of {len(jobs)} self-supervised models failed; first: {method} seed {seed}\n{error}"
        )

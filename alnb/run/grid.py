"""The trial grid: picklable jobs handed to a generic executor (``alnb.run.executors.run_jobs``).

A job finds the workspace of its study from the parameters: in the process that runs the study, the
study's own (so a serial run reuses the data, splits and features it has loaded); in a worker, the one it
built for its previous job of the same study, else a new one. It runs one trial or trains one
self-supervised model. Failures come back from the executor and are recorded here, in the run directory.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import asdict
from pathlib import Path

from alnb.core.config import StudyParams
from alnb.run.executors import Resources, run_jobs
from alnb.run.store import TrialKey
from alnb.run.workspace import Workspace

_ADOPTED: weakref.WeakValueDictionary[str, Workspace] = weakref.WeakValueDictionary()  # studies run from here
_LAST_BUILT: dict[str, Workspace] = {}  # a worker's workspace of the study it last served


def _identity(params: StudyParams, pretext_root: Path, factors: dict) -> str:
    return json.dumps([asdict(params), str(pretext_root), factors], sort_keys=True, default=str)


def workspace_for(params: StudyParams, pretext_root: Path, factors: dict) -> Workspace:
    """This process's workspace of the study these arguments describe (built once)."""
    key = _identity(params, pretext_root, factors)
    workspace = _ADOPTED.get(key) or _LAST_BUILT.get(key)
    if workspace is None:
        _LAST_BUILT.clear()
        workspace = _LAST_BUILT[key] = Workspace(params, pretext_root, factors)
    return workspace


def adopt(workspace: Workspace) -> tuple:
    """Register ``workspace`` as this process's workspace of its study; returns the arguments that name it."""
    args = (workspace.params, workspace.store.pretext_root, workspace.factors)
    _ADOPTED[_identity(*args)] = workspace
    return args


def trial_job(params: StudyParams, pretext_root: Path, factors: dict, key: TrialKey) -> None:
    workspace_for(params, pretext_root, factors).run_one(key)


def self_supervised_job(params: StudyParams, pretext_root: Path, factors: dict, method: str, seed: int) -> None:
    workspace_for(params, pretext_root, factors).self_supervised(seed, method)


def resources(workspace: Workspace, threads: int | None = None) -> Resources:
    ex = workspace.params.executor
    return Resources(ex.kind, ex.n_jobs, threads or workspace.threads, ex.num_cpus, ex.num_gpus, ex.address)


def run_trials(workspace: Workspace, todo: list[TrialKey], progress: bool = True) -> None:
    """Run the trials of ``todo``; a trial whose job failed outside the trial (its worker died) is recorded
    failed here, and the rest of the grid goes on."""
    args = adopt(workspace)
    failures = run_jobs(trial_job, [(*args, key) for key in todo], resources(workspace), "trials", progress)
    for call, error in failures:
        workspace.store.write_failure(call[-1], error)


def train_self_supervised(workspace: Workspace, jobs: list[tuple[str, int]], progress: bool = True) -> None:
    """Train the self-supervised models ``jobs`` (method, seed) into the study's cache.

    Different (method, seed) pairs run in parallel jobs of ``workspace.threads`` threads; a lone job gets the
    executor's whole core budget (``n_jobs × threads``), so no core sits idle either way.
    """
    ex = workspace.params.executor
    alone = len(jobs) == 1 and ex.kind != "ray"
    threads = workspace.threads * (ex.n_jobs if alone else 1)
    args = adopt(workspace)
    failures = run_jobs(
        self_supervised_job,
        [(*args, method, seed) for method, seed in jobs],
        resources(workspace, threads),
        "self-supervised models",
        progress,
    )
    if failures:
        (method, seed), error = failures[0][0][-2:], failures[0][1]
        raise RuntimeError(
            f"{len(failures)} of {len(jobs)} self-supervised models failed; first: {method} seed {seed}\n{error}"
        )

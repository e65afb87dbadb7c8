"""How a study's trials are scheduled: serially, in spawned processes, or as Ray tasks.

Every executor runs ``Study.run_one`` for each key of a to-do list and reports progress after each
finished trial (``alnb.core.progress``). A trial records its own outcome in the run directory, so an
executor only schedules; the trial's failure never stops the others. Self-supervised models are
scheduled the same way (``run_self_supervised``): one job per (method, seed), each writing its cache.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from alnb.core.config import StudyParams
from alnb.core.lifetime import die_with_parent
from alnb.core.progress import progress_bar
from alnb.run.store import TrialKey
from alnb.core.threads import torch_threads

if TYPE_CHECKING:
    from alnb.run.study import Study


def run_trials(study: "Study", todo: list[TrialKey], progress: bool = True) -> None:
    """Run the trials of ``todo`` with the study's executor (``executor.kind``)."""
    executor = study.params.executor
    with progress_bar(len(todo), "trials", enabled=progress) as bar:
        if executor.kind == "ray":
            _run_with_ray(study, todo, bar)
        elif executor.kind == "serial" or executor.n_jobs == 1 or len(todo) <= 1:
            with torch_threads(study.threads):
                for key in todo:
                    study.run_one(key)
                    bar.update()
        else:
            calls = [(study.params, study.pretext_root, study.factors, key) for key in todo]
            _in_spawned_processes(executor.n_jobs, _worker_run, calls, bar)


def _worker_run(params: StudyParams, pretext_root: Path, factors: dict, key: TrialKey) -> str:
    from alnb.run.study import Study  # a worker builds its own Study from the parameters

    study = Study(params, pretext_root, factors)
    with torch_threads(study.threads):
        study.run_one(key)
    return key.folder_name


def _in_spawned_processes(n_jobs: int, worker, calls: list[tuple], bar) -> None:
    """``worker(*call)`` for every call in ``n_jobs`` spawned processes (trials and self-supervised models alike).

    Workers end with this process, even when it is killed (:func:`alnb.core.lifetime.die_with_parent`). An
    interrupt ends the running calls at once and cancels the others; finished ones are already recorded.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    pool = ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=die_with_parent, initargs=(os.getpid(),))
    try:
        for future in as_completed([pool.submit(worker, *call) for call in calls]):
            future.result()
            bar.update()
    except BaseException:
        for process in list((pool._processes or {}).values()):  # the executor keeps no public handle on them
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ray_remote(study: "Study", worker):
    """``worker`` as a Ray task holding ``executor.num_cpus`` CPUs (default: its torch threads) and
    ``executor.num_gpus`` GPUs, never retried."""
    executor = study.params.executor
    ray = connect_ray(executor.address)
    return ray, ray.remote(num_cpus=executor.num_cpus or study.threads, num_gpus=executor.num_gpus,
                           max_retries=0)(worker)


def run_self_supervised(study: "Study", jobs: list[tuple[str, int]], progress: bool = True) -> None:
    """Train the self-supervised models ``jobs`` (method, seed) into the study's cache.

    With ``n_jobs`` > 1 and several jobs, the jobs run in ``n_jobs`` processes (or Ray tasks) of
    ``study.threads`` threads each; otherwise they run here, and a lone job gets the executor's whole
    core budget (``n_jobs × study.threads`` threads), so no core sits idle either way.
    """
    executor = study.params.executor
    with progress_bar(len(jobs), "self-supervised models", enabled=progress) as bar:
        if executor.kind == "serial" or executor.n_jobs == 1 or len(jobs) <= 1:
            threads = study.threads * (executor.n_jobs if len(jobs) == 1 else 1)
            with torch_threads(threads):
                for method, seed in jobs:
                    study.self_supervised(seed, method)
                    bar.update()
            return
        calls = [(study.params, study.pretext_root, study.factors, method, seed) for method, seed in jobs]
        if executor.kind == "processes":
            _in_spawned_processes(executor.n_jobs, _worker_self_supervised, calls, bar)
        else:
            ray, remote = _ray_remote(study, _worker_self_supervised)
            for ref in [remote.remote(*call) for call in calls]:
                ray.get(ref)
                bar.update()


def _worker_self_supervised(params: StudyParams, pretext_root: Path, factors: dict, method: str, seed: int) -> None:
    from alnb.run.study import Study

    study = Study(params, pretext_root, factors)
    with torch_threads(study.threads):
        study.self_supervised(seed, method)


def connect_ray(address: str | None = None):
    """The ``ray`` module, connected: to ``address`` (else ``RAY_ADDRESS``) when given, else to a local Ray on
    this machine's cores. A Ray already initialised in this process (e.g. by the caller) is used as it is."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("executor.kind: 'ray' needs the optional dependency: pip install 'alnb[ray]'") from None
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return ray


def _run_with_ray(study: "Study", todo: list[TrialKey], bar) -> None:
    """One Ray task per trial, each holding ``executor.num_cpus`` CPUs (default: its torch threads) and
    ``executor.num_gpus`` GPUs. Tasks read the shared artifacts (pretext models, initial pools) that
    ``Study.run`` built before scheduling them, and write their rows to the run directory, so on a cluster
    the run directory must be on storage every node sees. A task whose worker dies is recorded as failed."""
    ray, remote = _ray_remote(study, _worker_run)
    pending = {remote.remote(study.params, study.pretext_root, study.factors, key): key for key in todo}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            key = pending.pop(done[0])
            try:
                ray.get(done[0])
            except Exception:  # the worker itself failed (killed, out of memory): the trial could not record it
                study.store.write_failure(key, traceback.format_exc())
            bar.update()
    finally:  # an interrupt cancels the trials not yet finished; finished ones are already recorded
        for ref in pending:
            ray.cancel(ref)

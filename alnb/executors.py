"""How a study's trials are scheduled: serially, in spawned processes, or as Ray tasks.

Every executor runs ``Study.run_one`` for each key of a to-do list and reports progress after each
finished trial (``alnb.progress``). A trial records its own outcome in the run directory, so an
executor only schedules; the trial's failure never stops the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alnb.config import StudyParams
from alnb.progress import progress_bar
from alnb.store import TrialKey
from alnb.threads import torch_threads

if TYPE_CHECKING:
    from alnb.study import Study


def run_trials(study: "Study", todo: list[TrialKey], progress: bool = True) -> None:
    """Run the trials of ``todo`` with the study's executor (``executor.kind``)."""
    executor = study.params.executor
    with progress_bar(len(todo), "trials", enabled=progress) as bar:
        if executor.kind == "serial" or executor.n_jobs == 1 or len(todo) <= 1:
            with torch_threads(study.threads):
                for key in todo:
                    study.run_one(key)
                    bar.update()
        elif executor.kind == "processes":
            _run_in_processes(study, todo, executor.n_jobs, bar)
        else:
            _run_with_ray(study, todo, bar)


def _worker_run(params: StudyParams, pretext_root: Path, factors: dict, key: TrialKey) -> str:
    from alnb.study import Study  # a worker builds its own Study from the parameters

    study = Study(params, pretext_root, factors)
    with torch_threads(study.threads):
        study.run_one(key)
    return key.folder_name


def _run_in_processes(study: "Study", todo: list[TrialKey], n_jobs: int, bar) -> None:
    """Trials in ``n_jobs`` spawned processes, each with its share of the CPU threads."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    pool = ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = [pool.submit(_worker_run, study.params, study.pretext_root, study.factors, key) for key in todo]
        for future in as_completed(futures):
            future.result()
            bar.update()
    finally:  # an interrupt cancels the trials not yet started; finished ones are already recorded
        pool.shutdown(wait=True, cancel_futures=True)


def _run_with_ray(study: "Study", todo: list[TrialKey], bar) -> None:
    """Trials as ray tasks (``pip install alnb[ray]``); a ray cluster may span several machines."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("executor.kind: 'ray' needs the optional dependency: pip install 'alnb[ray]'") from None
    ray.init(ignore_reinit_error=True)
    remote = ray.remote(num_cpus=study.threads)(_worker_run)
    refs = [remote.remote(study.params, study.pretext_root, study.factors, key) for key in todo]
    for ref in refs:
        ray.get(ref)
        bar.update()

"""Generic executors: ``fn(*call)`` for every call of a list, serially, in spawned processes, or as Ray tasks.

An executor knows nothing of studies: it schedules picklable module-level calls, reports progress after
each one (``alnb.core.progress``) and returns the calls that raised, with their tracebacks, so that one
failure never stops the others. Recording a failure is the caller's job. A full disk
(:class:`~alnb.core.durable.DiskFull`) is no call's failure: it stops every executor and is raised.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from alnb.core.config import NOTEBOOK_ENV, ExecutorParams
from alnb.core.durable import DiskFull
from alnb.core.lifetime import die_with_parent
from alnb.core.progress import progress_bar
from alnb.core.run_lock import HOLDER_ENV
from alnb.core.threads import available_cpus, torch_threads

KINDS = ("serial", "processes", "ray")


@dataclass(frozen=True)
class Resources:
    """Where calls run: ``kind`` (serial | processes | ray), ``n_jobs`` parallel processes, ``threads`` torch
    threads per call, and for Ray each task's ``num_cpus`` (default ``threads``), ``num_gpus`` and the cluster
    ``address`` (default: ``RAY_ADDRESS``, else a local Ray)."""

    kind: str = "serial"
    n_jobs: int = 1
    threads: int = 1
    num_cpus: float | None = None
    num_gpus: float = 0.0
    address: str | None = None


def threads_per_job(executor: ExecutorParams) -> int:
    """torch CPU threads for one job: ``executor.threads``, else a Ray task's ``num_cpus``, else the cores divided
    by ``n_jobs``."""
    if executor.threads:
        return executor.threads
    if executor.kind == "ray" and executor.num_cpus:
        return max(1, int(executor.num_cpus))
    return max(1, available_cpus() // executor.n_jobs)


Failure = tuple[tuple, str]  # (the call's arguments, its traceback)


def run_jobs(
    fn: Callable,
    calls: list[tuple],
    resources: Resources,
    label: str = "jobs",
    progress: bool = True,
    sizes: list[int] | None = None,
) -> list[Failure]:
    """Run ``fn(*call)`` for every call; return ``(call, traceback)`` for each call that raised.

    ``kind: serial``, one job, or a lone call runs in this process. An interrupt ends the running calls and cancels
    the others; it is re-raised. ``sizes`` (default 1 each) is what each call adds to the progress bar's count.
    """
    sizes = [1] * len(calls) if sizes is None else list(sizes)
    with progress_bar(sum(sizes), label, enabled=progress) as bar:
        if resources.kind == "ray":
            return _as_ray_tasks(fn, calls, sizes, resources, bar)
        if resources.kind == "processes" and resources.n_jobs > 1 and len(calls) > 1:
            return _in_spawned_processes(fn, calls, sizes, resources, bar)
        return _in_this_process(fn, calls, sizes, resources.threads, bar)


def _call_with_threads(fn: Callable, threads: int, *call):
    with torch_threads(threads):
        return fn(*call)


def _in_this_process(fn: Callable, calls: list[tuple], sizes: list[int], threads: int, bar) -> list[Failure]:
    failures = []
    for call, size in zip(calls, sizes, strict=True):
        try:
            _call_with_threads(fn, threads, *call)
        except DiskFull:
            raise
        except Exception:
            failures.append((call, traceback.format_exc()))
        bar.update(size)
    return failures


def _in_spawned_processes(
    fn: Callable, calls: list[tuple], sizes: list[int], resources: Resources, bar
) -> list[Failure]:
    """Run the calls in :func:`worker_pool`'s processes; an interrupt or a full disk ends them."""
    pool = worker_pool(resources.n_jobs)
    failures = []
    try:
        futures = {
            pool.submit(_call_with_threads, fn, resources.threads, *call): (call, size)
            for call, size in zip(calls, sizes, strict=True)
        }
        for future in as_completed(futures):
            call, size = futures[future]
            try:
                future.result()
            except DiskFull:
                raise
            except Exception:  # the call raised, or its process died (BrokenProcessPool)
                failures.append((call, traceback.format_exc()))
            bar.update(size)
    except BaseException:
        shut_down_worker_pool(terminate=True)
        raise
    if pool._broken:  # a worker died: this pool takes no more calls
        shut_down_worker_pool(terminate=True)
    return failures


_kept_pool: tuple[tuple, ProcessPoolExecutor] | None = None  # (what it was spawned with, the pool)


def worker_pool(n_jobs: int) -> ProcessPoolExecutor:
    """``n_jobs`` spawned processes that end with this one, even when it is killed
    (:func:`alnb.core.lifetime.die_with_parent`).

    The pool is kept for this process's next grid (a notebook runs several, and spawning a process that imports
    torch costs seconds). It is reused only with the same size, working directory and environment (the run lock's
    token and the notebook's name aside: workers never take the lock nor draw figures), and replaced otherwise or
    once a worker has died. Idle, its workers keep their memory (the last study's tensors) until this process ends
    or :func:`shut_down_worker_pool` is called.
    """
    global _kept_pool
    environment = tuple(sorted((k, v) for k, v in os.environ.items() if k not in (HOLDER_ENV, NOTEBOOK_ENV)))
    spawned_with = (n_jobs, os.getcwd(), environment)
    if _kept_pool is not None and _kept_pool[0] == spawned_with and not _kept_pool[1]._broken:
        return _kept_pool[1]
    shut_down_worker_pool(terminate=True)
    pool = ProcessPoolExecutor(
        n_jobs, mp_context=multiprocessing.get_context("spawn"), initializer=die_with_parent, initargs=(os.getpid(),)
    )
    _kept_pool = (spawned_with, pool)
    return pool


def shut_down_worker_pool(terminate: bool = False) -> None:
    """End the kept pool, if any: its processes at once with ``terminate``, else once their calls are done."""
    global _kept_pool
    if _kept_pool is None:
        return
    pool, _kept_pool = _kept_pool[1], None
    if terminate:
        for process in list((pool._processes or {}).values()):  # the executor keeps no public handle on them
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


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


def _as_ray_tasks(fn: Callable, calls: list[tuple], sizes: list[int], resources: Resources, bar) -> list[Failure]:
    """One Ray task per call, holding ``num_cpus`` CPUs (default: its torch threads) and ``num_gpus`` GPUs,
    never retried. A task whose worker dies is returned as failed."""
    ray = connect_ray(resources.address)
    remote = ray.remote(num_cpus=resources.num_cpus or resources.threads, num_gpus=resources.num_gpus, max_retries=0)(
        _call_with_threads
    )
    pending = {
        remote.remote(fn, resources.threads, *call): (call, size) for call, size in zip(calls, sizes, strict=True)
    }
    failures = []
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            call, size = pending.pop(done[0])
            try:
                ray.get(done[0])
            except Exception as err:
                cause = getattr(err, "cause", err)
                if isinstance(cause, DiskFull):
                    raise DiskFull(str(cause)) from None
                failures.append((call, traceback.format_exc()))
            bar.update(size)
    finally:  # an interrupt cancels the calls not yet finished
        for ref in pending:
            ray.cancel(ref)
    return failures

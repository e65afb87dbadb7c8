import os
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import make_study

from alnb.run.executors import Resources, run_jobs, shut_down_worker_pool, worker_pool

pytestmark = pytest.mark.slow  # starts processes, Ray or multi-trial studies


PROCESSES = {"kind": "processes", "n_jobs": 2, "threads": 1}
PRETEXT = {"tasks": ["rotation"], "settings": {"rotation": {"epochs": 1}}}


def test_self_supervised_models_train_in_parallel_jobs_like_serially(tmp_path):
    parallel = make_study(tmp_path, "parallel", pretext=PRETEXT, executor=PROCESSES, seeds=[0, 1], cycles=1)
    parallel.grid.prepare_self_supervised(progress=False)
    assert all(parallel.representations.self_supervised_cached(seed, "rotation") for seed in (0, 1))
    serial = make_study(tmp_path, "serial", pretext=PRETEXT, seeds=[0, 1], cycles=1)
    for seed in (0, 1):
        assert np.allclose(
            parallel.representations.self_supervised(seed, "rotation").losses,
            serial.representations.self_supervised(seed, "rotation").losses,
            atol=1e-5,
        )


def test_a_lone_self_supervised_job_gets_the_whole_core_budget(tmp_path, monkeypatch):
    study = make_study(tmp_path, "lone", pretext=PRETEXT, executor=PROCESSES, cycles=1)
    threads = []
    monkeypatch.setattr(
        study.representations, "self_supervised", lambda seed, method: threads.append(torch.get_num_threads())
    )
    study.grid.prepare_self_supervised(progress=False)
    assert threads == [2]


def _record_pid(folder: str, i: int, die: bool = False) -> None:
    if die:
        os._exit(1)  # the worker is lost, as when the OOM killer takes it
    (Path(folder) / f"{i}.{os.getpid()}").touch()


def _pids(folder: Path) -> set[int]:
    return {int(path.suffix[1:]) for path in folder.iterdir()}


def test_the_worker_processes_serve_the_next_grid_and_are_replaced_once_one_dies(tmp_path, monkeypatch):
    resources = Resources("processes", n_jobs=2, threads=1)
    first, second, third = (tmp_path / name for name in ("first", "second", "third"))
    for folder in (first, second, third):
        folder.mkdir()
    try:
        assert run_jobs(_record_pid, [(str(first), i) for i in range(4)], resources, progress=False) == []
        assert run_jobs(_record_pid, [(str(second), i) for i in range(4)], resources, progress=False) == []
        assert _pids(second) <= _pids(first) and os.getpid() not in _pids(first)  # none spawned again

        failures = run_jobs(_record_pid, [(str(third), 0, True), (str(third), 1, True)], resources, progress=False)
        assert len(failures) == 2 and "BrokenProcessPool" in failures[0][1]
        assert run_jobs(_record_pid, [(str(third), i) for i in range(2, 4)], resources, progress=False) == []
        assert not _pids(third) & _pids(first)  # after a worker died: new processes

        pool = worker_pool(2)
        assert worker_pool(2) is pool
        monkeypatch.setenv("ALNB_TEST_SETTING", "changed")  # a worker keeps the environment it was spawned with
        assert worker_pool(2) is not pool
    finally:
        shut_down_worker_pool()

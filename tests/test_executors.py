import numpy as np
import pytest
import torch
from helpers import make_study

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

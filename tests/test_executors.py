import numpy as np
import pytest
import torch

from alnb.run.study import Study
from alnb.run.validation import params_from_dict

pytestmark = pytest.mark.slow  # starts processes, Ray or multi-trial studies


def make_study(tmp_path, name, executor, seeds=(0, 1)):
    return Study(
        params_from_dict(
            {
                "run_dir": str(tmp_path / name),
                "executor": executor,
                "al": {"initial_size": 20, "budget": 10, "cycles": 1, "seeds": list(seeds)},
                "pretext": {"tasks": ["rotation"], "settings": {"rotation": {"epochs": 1}}},
            }
        )
    )


def test_self_supervised_models_train_in_parallel_jobs_like_serially(tmp_path):
    parallel = make_study(tmp_path, "parallel", {"kind": "processes", "n_jobs": 2, "threads": 1})
    parallel.prepare_self_supervised(progress=False)
    assert all(parallel._self_supervised_cached(seed, "rotation") for seed in (0, 1))
    serial = make_study(tmp_path, "serial", {"kind": "serial", "threads": 1})
    for seed in (0, 1):
        assert np.allclose(
            parallel.pretext(seed, "rotation").losses, serial.pretext(seed, "rotation").losses, atol=1e-5
        )


def test_a_lone_self_supervised_job_gets_the_whole_core_budget(tmp_path, monkeypatch):
    study = make_study(tmp_path, "lone", {"kind": "processes", "n_jobs": 2, "threads": 1}, seeds=(0,))
    threads = []
    monkeypatch.setattr(study, "self_supervised", lambda seed, method: threads.append(torch.get_num_threads()))
    study.prepare_self_supervised(progress=False)
    assert threads == [2]

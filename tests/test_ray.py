"""The Ray executor: one Ray task per trial on a local Ray of 2 CPUs (started once for this module)."""

import pandas as pd
import pytest

from alnb.run.executors import threads_per_job
from alnb.run.grid import TrialsFailed
from alnb.run.study import Study
from alnb.run.validation import params_from_dict

pytestmark = pytest.mark.slow  # starts processes, Ray or multi-trial studies

ray = pytest.importorskip("ray")

TIMES = ["train_seconds", "query_seconds"]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def tiny_params(run_dir, executor: dict):
    return params_from_dict(
        {
            "study": "tiny",
            "run_dir": str(run_dir),
            "data": {"dataset": "digits", "val_size": 50},
            "training": {"lr": 1.0e-3, "max_epochs": 3, "patience": 2, "min_samples_per_epoch": 128},
            "al": {
                "initial_size": 10,
                "budget": 10,
                "cycles": 1,
                "seeds": [0, 1],
                "inits": ["random", "kmeans_equal"],
                "queries": ["random", "entropy"],
            },
            "executor": executor,
        }
    )


def test_ray_gives_exactly_the_rows_of_the_processes_executor(tmp_path):
    by_ray = Study(tiny_params(tmp_path / "ray", {"kind": "ray", "threads": 1})).grid.run(progress=False)
    by_processes = Study(tiny_params(tmp_path / "proc", {"kind": "processes", "n_jobs": 2, "threads": 1})).grid.run(
        progress=False
    )
    assert len(by_ray) == 2 * 2 * 2 * 2
    order = ["init", "query", "seed", "cycle"]
    pd.testing.assert_frame_equal(
        by_ray.drop(columns=TIMES).sort_values(order).reset_index(drop=True),
        by_processes.drop(columns=TIMES).sort_values(order).reset_index(drop=True),
    )


def test_a_trial_that_raises_on_a_worker_is_recorded_failed_and_the_others_finish(tmp_path):
    study = Study(tiny_params(tmp_path / "run", {"kind": "ray", "threads": 1, "num_cpus": 1}))
    pools = study.pools.build()
    broken = (pools["init"] == "kmeans_equal") & (pools["seed"] == 1)
    pools.loc[broken, "index"] = pools.loc[broken, "index"].iloc[0]  # a pool of one index repeated: invalid
    study.store.pools_path.write_text(pools.to_csv(index=False))
    with pytest.raises(TrialsFailed, match="2 of 8 trials failed"):
        study.grid.run(progress=False)
    statuses = study.store.trial_statuses()
    failed = statuses[statuses["status"] == "failed"]
    assert set(zip(failed["init"], failed["seed"])) == {("kmeans_equal", 1)} and len(failed) == 2
    assert "initial pool kmeans_equal" in failed["error"].iloc[0]
    assert (statuses["status"] == "done").sum() == 6


def test_ray_resources_are_checked_and_set_the_trial_threads(tmp_path):
    from alnb.core.config import ParamsError

    with pytest.raises(ParamsError, match="executor.num_gpus: applies to executor.kind 'ray' only"):
        tiny_params(tmp_path, {"kind": "serial", "num_gpus": 1})
    with pytest.raises(ParamsError, match="executor.num_cpus: must be positive"):
        tiny_params(tmp_path, {"kind": "ray", "num_cpus": 0})
    assert threads_per_job(tiny_params(tmp_path, {"kind": "ray", "num_cpus": 3}).executor) == 3
    assert threads_per_job(tiny_params(tmp_path, {"kind": "ray", "num_cpus": 3, "threads": 1}).executor) == 1

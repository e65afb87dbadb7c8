"""Same params and seed → same pools, same labeled sets, same accuracies (CPU); the grid never shifts a trial."""

import numpy as np
import pandas as pd
import pytest

from alnb.run.study import Study
from alnb.run.validation import params_from_dict

pytestmark = pytest.mark.slow  # starts processes, Ray or multi-trial studies

TIMINGS = ["train_seconds", "query_seconds"]


def tiny_params(run_dir, inits=("random",), queries=("random", "entropy"), seeds=(0,)):
    return params_from_dict(
        {
            "run_dir": str(run_dir),
            "device": "cpu",
            "data": {"dataset": "digits", "val_size": 100},
            "training": {"batch_size": 32, "min_samples_per_epoch": 64, "max_epochs": 3, "patience": 2},
            "al": {
                "initial_size": 20,
                "budget": 10,
                "cycles": 2,
                "seeds": list(seeds),
                "inits": list(inits),
                "queries": list(queries),
            },
            "pretext": {"tasks": ["rotation"], "settings": {"rotation": {"epochs": 1}}},
            "executor": {"kind": "serial", "threads": 1},
        }
    )


def run_tables(params) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    study = Study(params)
    study.grid.run(progress=False)
    return (
        pd.read_csv(study.store.root / "results.csv").drop(columns=TIMINGS),
        pd.read_csv(study.store.root / "labeled.csv"),
        pd.read_csv(study.store.pools_path),
    )


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    return run_tables(tiny_params(tmp_path_factory.mktemp("base")))


def test_same_params_and_seed_give_identical_tables(tmp_path, base_run):
    results, labeled, pools = base_run
    again = run_tables(tiny_params(tmp_path / "again"))
    assert len(results) == 2 * 3 and len(labeled) == 2 * (20 + 2 * 10)
    assert results["test_acc"].between(0, 1).all() and results["test_acc"].nunique() > 1
    pd.testing.assert_frame_equal(results, again[0], check_exact=True)
    pd.testing.assert_frame_equal(labeled, again[1])
    pd.testing.assert_frame_equal(pools, again[2])


def test_a_bigger_grid_leaves_the_other_trials_unchanged(tmp_path, base_run):
    """Adding an initial pool (with its pretext task) and a query method changes no row of the base trials."""
    results, labeled, pools = base_run
    big_results, big_labeled, big_pools = run_tables(
        tiny_params(tmp_path / "big", inits=("random", "rotation"), queries=("random", "margin", "entropy"))
    )
    keys = ["dataset", "init", "query", "seed", "cycle"]
    shared = big_results.merge(results[keys], on=keys).sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(
        shared[results.columns], results.sort_values(keys, ignore_index=True), check_exact=True
    )
    shared_labeled = big_labeled.merge(results[keys[:4]].drop_duplicates(), on=keys[:4])
    pd.testing.assert_frame_equal(
        shared_labeled.sort_values([*keys, "index"], ignore_index=True),
        labeled.sort_values([*keys, "index"], ignore_index=True),
    )
    pd.testing.assert_frame_equal(big_pools[big_pools["init"] == "random"].reset_index(drop=True), pools)
    assert set(big_results["query"]) == {"random", "margin", "entropy"} and len(big_results) == 6 * 3


def test_cycle_zero_depends_only_on_the_initial_pool_and_seed(base_run):
    """Model init and data order are streams of the seed: every query method trains the same cycle-0 model."""
    results, labeled, _ = base_run
    cycle0 = results[results["cycle"] == 0].drop(columns=["query"])
    assert len(cycle0) == 2 and cycle0.drop_duplicates().shape[0] == 1
    later = labeled[labeled["cycle"] > 0].groupby("query")["index"].apply(frozenset)
    assert later["random"] != later["entropy"]  # the methods did differ afterwards


def test_initial_pools_depend_on_seed_and_init_but_not_on_the_query(tmp_path):
    seeds = (0, 1, 2)
    study = Study(tiny_params(tmp_path / "a", queries=("random",), seeds=seeds))
    other = Study(tiny_params(tmp_path / "b", queries=("entropy", "margin"), seeds=seeds))
    pools = {s: study.pools.build_one("random", s) for s in seeds}
    for s in seeds:
        assert np.array_equal(pools[s], other.pools.build_one("random", s))
        assert np.array_equal(pools[s], study.pools.build_one("random", s))
    assert len({frozenset(p) for p in pools.values()}) == len(seeds)
    assert not np.array_equal(study.representations.splits(0).val, study.representations.splits(1).val)
    assert np.array_equal(study.pools.build_one("rotation", 0), other.pools.build_one("rotation", 0))

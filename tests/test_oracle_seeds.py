"""``pools.oracle_seeds``: an oracle reference (it reads the labels, no family tests it) runs on fewer seeds."""

import pytest

from alnb.core.config import ParamsError
from alnb.run.study import Study
from alnb.run.validation import params_from_dict


def _raw(tmp_path, **pools):
    return {
        "run_dir": str(tmp_path / "run"),
        "device": "cpu",
        "al": {"initial_size": 20, "budget": 10, "cycles": 1, "seeds": [0, 1, 2], "queries": ["random", "entropy"]},
        "pools": pools,
    }


def test_the_oracle_runs_on_its_seeds_and_every_other_pool_on_all(tmp_path):
    raw = _raw(tmp_path, oracle_seeds=[2, 0])
    raw["al"]["inits"] = ["random", "kmeans_equal", "balanced_random"]
    grid = Study(params_from_dict(raw)).grid
    seeds = {}
    for key in grid.keys():
        seeds.setdefault(key.init, set()).add(key.seed)
    assert seeds == {"random": {0, 1, 2}, "kmeans_equal": {0, 1, 2}, "balanced_random": {0, 2}}
    assert {k.seed for k in grid.keys(inits=["balanced_random"], seeds=[1, 2])} == {2}  # a sub-study's seeds


def test_oracle_seeds_outside_al_seeds_are_refused_by_name(tmp_path):
    with pytest.raises(ParamsError, match=r"pools.oracle_seeds: seed 5 is not in al.seeds"):
        params_from_dict(_raw(tmp_path, oracle_seeds=[0, 5]))


def test_the_oracle_comparison_pairs_on_the_oracles_seeds():
    import numpy as np
    import pandas as pd

    from alnb.analysis import answers, verdict

    rng = np.random.default_rng(0)
    accuracy = {"random": 0.6, "typiclust": 0.7, "balanced_random": 0.65}
    rows = [
        {
            "dataset": "digits",
            "init": init,
            "query": "random",
            "seed": seed,
            "cycle": cycle,
            "n_labeled": 20 + 10 * cycle,
            "test_acc": accuracy[init] + 0.1 * cycle + rng.normal(0, 0.01),
        }
        for init in accuracy
        for seed in (range(3) if init == "balanced_random" else range(8))
        for cycle in (0, 1)
    ]
    results = pd.DataFrame(rows)
    gains = verdict.seed_gains(results)
    oracle = verdict.oracle_comparison(results, gains)
    assert oracle["own"]["n_seeds"] == 3
    assert oracle["aubc"].set_index("init").loc["typiclust", "n_seeds"] == 3
    found = verdict.compute_verdict(results, None, dataset="digits", train_images=1347)
    assert "3 seeds" in answers.oracle_sentence(found)


def test_the_front_page_says_on_which_seeds_the_oracle_ran(tmp_path):
    from alnb.report.frontpage import _oracle_seeds_note

    raw = _raw(tmp_path, oracle_seeds=[0, 2])
    raw["al"]["inits"] = ["random", "balanced_random"]
    assert (
        _oracle_seeds_note(params_from_dict(raw)) == " (balanced_random, an oracle reference: on seeds [0, 2], 2 of 3)"
    )
    raw["pools"] = {}
    assert _oracle_seeds_note(params_from_dict(raw)) == ""

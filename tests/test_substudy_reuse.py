"""A sub-study that runs its parent's protocol copies the parent's finished trials instead of running them again."""

import json

import pytest
from helpers import one_cycle_study

from alnb.run import substudies

pytestmark = pytest.mark.slow  # a multi-trial study


def test_the_allocation_ablation_copies_the_main_grids_trials_and_runs_only_the_new_pool(tmp_path, monkeypatch):
    al = {"seeds": [0], "inits": ["random", "kmeans_equal"], "queries": ["entropy"]}
    study = one_cycle_study(tmp_path, al, ablations={"allocations": ["kmeans"], "queries": ["entropy"], "seeds": [0]})
    main = study.grid.run(progress=False)

    ran = []
    real_run_one = type(study.grid).run_one
    monkeypatch.setattr(
        type(study.grid), "run_one", lambda grid, key, *shared: (ran.append(key.init), real_run_one(grid, key, *shared))
    )
    rows = substudies.pool_ablation(study, "allocation", substudies.allocation_inits(study), progress=False)

    assert ran == ["kmeans_prop"]  # random and kmeans_equal with entropy on seed 0 are the main grid's trials
    assert set(rows["init"]) == {"random", "kmeans_equal", "kmeans_prop"}
    copied = rows[rows["init"] != "kmeans_prop"].reset_index(drop=True)
    assert copied.equals(main[copied.columns].reset_index(drop=True))
    trial = study.params.run_path / "ablation_allocation/trials/digits__random__entropy__s0"
    status = json.loads((trial / "status.json").read_text())
    assert status["copied_from"] == "../../../trials/digits__random__entropy__s0"


def test_a_sub_study_of_another_protocol_copies_nothing(tmp_path, monkeypatch):
    study = one_cycle_study(tmp_path, {"seeds": [0], "inits": ["random"], "queries": ["random"]})
    study.grid.run(progress=False)
    variant = study.variant("ablation_low_budget", {}, al={"initial_size": 10, "budget": 10, "cycles": 1})
    variant.grid.run(progress=False)
    status = json.loads((variant.params.run_path / "trials/digits__random__random__s0/status.json").read_text())
    assert "copied_from" not in status  # the same key, but another initial size: run, not copied


def test_the_initial_size_plot_holds_the_studys_own_size_from_the_main_grid(tmp_path):
    al = {"seeds": [0, 1], "inits": ["random"], "queries": ["random"]}
    study = one_cycle_study(tmp_path, al, ablations={"initial_sizes": [10], "queries": ["random"], "seeds": [1]})
    study.grid.run(progress=False)
    table = substudies.aubc_by_initial_size(study, substudies.initial_size_ablation(study, progress=False))
    assert table[["initial_size", "init", "query", "seeds"]].values.tolist() == [
        [10, "random", "random", 1],
        [20, "random", "random", 1],  # the main grid's trial on the ablation's seed 1 only
    ]

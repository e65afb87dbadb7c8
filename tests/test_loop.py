import numpy as np
import pandas as pd
import pytest
from helpers import FAST_TRAINING, make_study

from alnb.methods.query.base import QueryMethod
from alnb.run.loop import SelectionError, check_selection
from alnb.run.study import Study
from alnb.run.validation import params_from_dict


def test_check_selection_rejects_every_broken_invariant():
    mask = np.zeros(10, dtype=bool)
    mask[[1, 2, 3, 4, 5]] = True
    assert check_selection(np.array([1, 2]), mask, 2, "x").dtype == np.int64
    for bad, match in [
        ([1, 2, 3], "budget is 2"),
        ([1, 1], "duplicate"),
        ([1, 7], "outside"),
        ([1, 12], "outside"),
        ([-1, 2], "outside"),
        ([1.0, 2.0], "integer"),
    ]:
        with pytest.raises(SelectionError, match=match):
            check_selection(np.array(bad), mask, 2, "x")


def test_trial_rows_and_labeled_sets(tmp_path):
    study = make_study(tmp_path, queries=["entropy"])
    results = study.grid.run(progress=False)
    assert results["cycle"].tolist() == [0, 1, 2] and results["n_labeled"].tolist() == [20, 30, 40]
    labeled = study.store.labeled()
    splits = study.representations.splits(0)
    assert labeled["index"].is_unique and len(labeled) == 40
    assert np.isin(labeled["index"], splits.pool).all() and not np.isin(labeled["index"], splits.val).any()
    pool = study.store.initial_pools()
    assert set(labeled.loc[labeled["cycle"] == 0, "index"]) == set(pool["index"])
    assert {"test_acc", "val_acc", "train_seconds", "query_seconds", "test_balanced_acc"} <= set(results.columns)


def test_loop_rejects_a_query_method_that_breaks_invariants(tmp_path):
    study = make_study(tmp_path)

    def greedy_cheat(ctx):
        return np.concatenate([ctx.labeled[:1], ctx.unlabeled[: ctx.budget - 1]])

    from alnb.run.loop import run_trial

    with pytest.raises(SelectionError, match="outside the unlabeled pool"):
        run_trial(
            study.representations.tensors,
            study.representations.splits(0),
            study.pools.indices("random", 0),
            QueryMethod("cheat", greedy_cheat),
            study.params,
            0,
            10,
            False,
            {},
        )

    def peek_at_val(ctx):
        return study.representations.splits(0).val[: ctx.budget]

    with pytest.raises(SelectionError, match="outside the unlabeled pool"):
        run_trial(
            study.representations.tensors,
            study.representations.splits(0),
            study.pools.indices("random", 0),
            QueryMethod("val", peek_at_val),
            study.params,
            0,
            10,
            False,
            {},
        )


def test_initial_pool_does_not_depend_on_query_method(tmp_path):
    a = make_study(tmp_path / "a", queries=["random"])
    b = make_study(tmp_path / "b", queries=["lc", "margin"], inits=["random"])
    assert np.array_equal(a.pools.indices("random", 0), b.pools.indices("random", 0))


def test_finished_trials_are_not_recomputed(tmp_path, monkeypatch):
    study = make_study(tmp_path)
    first = study.grid.run(progress=False)

    def boom(*args, **kwargs):
        raise AssertionError("a finished trial was recomputed")

    monkeypatch.setattr("alnb.run.grid.run_trial", boom)
    again = make_study(tmp_path).grid.run(progress=False)
    pd.testing.assert_frame_equal(first, again)


def test_failed_trial_is_recorded_and_others_kept(tmp_path, monkeypatch):
    from alnb.run import grid

    real = grid.run_trial

    def fail_for_lc(*args, **kwargs):
        if args[3].name == "lc":
            raise RuntimeError("simulated failure")
        return real(*args, **kwargs)

    monkeypatch.setattr("alnb.run.grid.run_trial", fail_for_lc)
    study = make_study(tmp_path, queries=["random", "lc"])
    with pytest.raises(grid.TrialsFailed, match="1 of 2 trials failed"):
        study.grid.run(progress=False)
    statuses = study.store.trial_statuses().set_index("query")
    assert statuses.loc["lc", "status"] == "failed" and "simulated failure" in statuses.loc["lc", "error"]
    assert statuses.loc["random", "status"] == "done"
    assert set(pd.read_csv(study.store.root / "results.csv")["query"]) == {"random"}


def test_changed_protocol_is_refused_but_a_wider_grid_is_not(tmp_path):
    from alnb.run.store import ProtocolChanged

    make_study(tmp_path).grid.run(progress=False)
    make_study(tmp_path, queries=["random", "lc"]).grid.run(progress=False)  # more trials, same protocol
    changed = Study(
        params_from_dict(
            {
                "run_dir": str(tmp_path / "run"),
                "device": "cpu",
                "al": {"initial_size": 20, "budget": 10, "cycles": 2, "seeds": [0], "queries": ["random"]},
                "training": {**FAST_TRAINING, "max_epochs": 4},
            }
        )
    )
    with pytest.raises(ProtocolChanged, match=r"training.max_epochs"):
        changed.grid.run(progress=False)


def test_committee_trials_report_the_same_target_model_as_single_model_trials(tmp_path):
    study = make_study(tmp_path, queries=["entropy", "ens_entropy"], cycles=1)
    results = study.grid.run(progress=False).set_index(["query", "cycle"])
    # cycle 0: same L0, same seed, so member 0 of the committee is the single model
    assert results.loc[("ens_entropy", 0), "test_acc"] == results.loc[("entropy", 0), "test_acc"]
    assert np.isfinite(results.loc[("ens_entropy", 0), "ensemble_test_acc"])
    members = [float(v) for v in results.loc[("ens_entropy", 0), "member_test_acc"].split(";")]
    assert members[0] == pytest.approx(results.loc[("ens_entropy", 0), "test_acc"], abs=1e-6)


def test_trials_that_differ_only_in_the_query_train_cycle_0_once_and_match_trials_run_alone(tmp_path, monkeypatch):
    from alnb.run import loop

    queries = ["random", "entropy", "ens_entropy"]
    trainings = []
    real_train = loop.train_classifier
    monkeypatch.setattr(
        loop, "train_classifier", lambda *a, **k: (trainings.append(k["order_seed"]), real_train(*a, **k))[1]
    )
    grouped = make_study(tmp_path / "grouped", queries=queries).grid.run(progress=False)
    # alone: 3 cycles of random and entropy (1 model) and ens_entropy (3 members) = 15 trainings; shared, cycle 0
    # trains member 0 once for the three trials and members 1 and 2 once
    assert len(trainings) == 13

    alone_study = make_study(tmp_path / "alone", queries=queries)
    for key in alone_study.grid.keys():
        alone_study.grid.run_one(key)  # no shared cycle 0
    alone = alone_study.store.collect()
    order = ["query", "cycle"]
    timings = ["train_seconds", "query_seconds"]
    pd.testing.assert_frame_equal(
        grouped.drop(columns=timings).sort_values(order).reset_index(drop=True),
        alone.drop(columns=timings).sort_values(order).reset_index(drop=True)[grouped.drop(columns=timings).columns],
    )
    first = grouped[grouped["cycle"] == 0].set_index("query")["train_seconds"]
    assert first["random"] == first["entropy"]  # one training, counted in each trial that uses it

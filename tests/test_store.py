import os

import pandas as pd
import pytest

from alnb.store import RunStore, TrialKey, atomic_write_text


def test_atomic_write_leaves_nothing_half_written(tmp_path, monkeypatch):
    target = tmp_path / "a.csv"
    atomic_write_text(target, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_trial_roundtrip_and_collect(tmp_path):
    store = RunStore(tmp_path)
    key = TrialKey("digits", "random", "lc", 3)
    assert not store.is_done(key)
    rows = [{**key.as_dict(), "cycle": c, "n_labeled": 10 * (c + 1), "test_acc": 0.5 + c / 10} for c in range(3)]
    store.write_trial(key, rows, [(0, 5), (0, 9), (1, 2)], {"device": "cpu"})
    assert store.is_done(key)
    results = store.collect()
    assert len(results) == 3 and (tmp_path / "results.csv").is_file()
    labeled = store.labeled()
    assert labeled.columns.tolist() == ["dataset", "init", "query", "seed", "cycle", "index"]
    assert labeled["seed"].tolist() == [3, 3, 3]


def test_initial_pools_merge_replaces_same_init_and_seed(tmp_path):
    store = RunStore(tmp_path)
    store.write_initial_pools(pd.DataFrame({"init": "random", "seed": 0, "index": [1, 2]}))
    store.write_initial_pools(pd.DataFrame({"init": "random", "seed": 1, "index": [3, 4]}))
    store.write_initial_pools(pd.DataFrame({"init": "random", "seed": 0, "index": [7, 8]}))
    pools = store.initial_pools()
    assert sorted(pools.loc[pools["seed"] == 0, "index"]) == [7, 8] and len(pools) == 4


def test_written_files_respect_the_umask(tmp_path):
    import os
    import stat

    previous = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "report.html", "<html></html>")
        assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == 0o644
        os.umask(0o077)
        atomic_write_text(tmp_path / "private.html", "x")
        assert stat.S_IMODE((tmp_path / "private.html").stat().st_mode) == 0o600
    finally:
        os.umask(previous)

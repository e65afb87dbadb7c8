import json
import os
from pathlib import Path

import pandas as pd
import pytest

from alnb.core import durable
from alnb.core.durable import DamagedFileWarning
from alnb.run.store import ProtocolChanged, RunStore, TrialKey, atomic_write_text


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


# ----------------------------------------------------------------------------- durability and damaged files

KEY = TrialKey("digits", "random", "lc", 3)
ROWS = [{**KEY.as_dict(), "cycle": c, "n_labeled": 10 * (c + 1), "test_acc": 0.5 + c / 10} for c in range(3)]


def test_writes_are_flushed_to_disk_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(
        os, "fsync", lambda fd: (events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"))), real_fsync(fd))
    )
    monkeypatch.setattr(os, "replace", lambda src, dst: (events.append(("replace", str(src))), real_replace(src, dst)))
    atomic_write_text(tmp_path / "status.json", "{}")
    (fsync_tmp, tmp), (replace, replaced), (fsync_dir, folder) = events
    assert (fsync_tmp, replace, fsync_dir) == ("fsync", "replace", "fsync")
    assert tmp == replaced and Path(tmp).name.startswith(".status.json.") and folder == str(tmp_path)


def test_a_crash_mid_write_never_leaves_a_finished_trial(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    real = durable.write_atomically

    def crash_on_labeled(path, write):
        if Path(path).parent == store.trial_dir(KEY) and Path(path).name == "labeled.csv":
            raise OSError("power lost")  # the process dies between the two tables
        real(path, write)

    monkeypatch.setattr(durable, "write_atomically", crash_on_labeled)
    with pytest.raises(OSError, match="power lost"):
        store.write_trial(KEY, ROWS, [(0, 5)], {})
    assert not store.is_done(KEY) and store.collect().empty
    assert not [p for p in store.trial_dir(KEY).iterdir() if p.name.endswith(".tmp")]


def _done_trial(tmp_path):
    store = RunStore(tmp_path)
    store.write_trial(KEY, ROWS, [(0, 5), (1, 2)], {"device": "cpu"})
    return store, store.trial_dir(KEY)


def test_damaged_status_is_reported_and_the_trial_reruns(tmp_path):
    store, folder = _done_trial(tmp_path)
    (folder / "status.json").write_text('{"status": "done", "dataset": "dig')
    with pytest.warns(DamagedFileWarning, match=r"status\.json: not valid JSON .*; the trial is run again$"):
        assert not store.is_done(KEY)
    with pytest.warns(DamagedFileWarning):
        assert store.trial_statuses().empty


@pytest.mark.parametrize("table", ["rows.csv", "labeled.csv"])
def test_truncated_table_of_a_finished_trial_is_not_trusted(tmp_path, table):
    store, folder = _done_trial(tmp_path)
    text = (folder / table).read_text()
    (folder / table).write_text(text[:-3])  # cut inside the last line: it may still parse
    with pytest.warns(
        DamagedFileWarning, match=rf"{table}: missing, or not the table whose sha256 status\.json records"
    ):
        assert not store.is_done(KEY)
    with pytest.warns(DamagedFileWarning):
        assert store.collect().empty


def test_tables_of_statuses_without_digests_are_checked_for_completeness(tmp_path):
    """Statuses written by older versions carry no sha256: a table cut inside a line is still caught."""
    store, folder = _done_trial(tmp_path)
    status = json.loads((folder / "status.json").read_text())
    del status["rows_sha256"], status["labeled_sha256"]
    (folder / "status.json").write_text(json.dumps(status))
    assert store.is_done(KEY)
    (folder / "rows.csv").write_text((folder / "rows.csv").read_text()[:-2])
    with pytest.warns(DamagedFileWarning, match=r"rows\.csv: truncated \(it does not end with a complete line\)"):
        assert not store.is_done(KEY)


def test_truncated_results_pools_and_protocol_are_recomputed(tmp_path):
    store, _ = _done_trial(tmp_path)
    full = store.collect()
    results = tmp_path / "results.csv"
    results.write_text(results.read_text()[:-10])
    with pytest.warns(DamagedFileWarning, match=r"results\.csv: truncated .*; collected again from the trials$"):
        assert store.results().equals(full)
    assert store.results().equals(full)  # rewritten whole
    store.write_initial_pools(pd.DataFrame({"init": "random", "seed": 0, "index": [1, 2, 3]}))
    store.pools_path.write_text("init,seed,index\nrandom,0,1\nrandom,0,")
    with pytest.warns(DamagedFileWarning, match=r"initial_pools\.csv: truncated .*; its pools are built again$"):
        assert store.initial_pools().empty
    store.pools_path.write_text("init,seed,index\nrandom,0,1\nrandom,0,\n")
    with pytest.warns(DamagedFileWarning, match=r"initial_pools\.csv: truncated \(some rows have empty required"):
        assert store.initial_pools().empty
    store.check_protocol({"a": 1})
    (tmp_path / "protocol.json").write_text('{"a": ')
    with pytest.warns(DamagedFileWarning, match=r"protocol\.json: not valid JSON"):
        store.check_protocol({"a": 1})
    assert json.loads((tmp_path / "protocol.json").read_text()) == {"a": 1}


def test_provenance_is_kept_beside_the_protocol_and_never_refuses_a_run(tmp_path):
    from alnb.run.provenance import PACKAGES, provenance, provenance_line

    store = RunStore(tmp_path)
    record = provenance("cpu")
    assert record["git_commit"] == provenance("cpu", Path(__file__).parent)["git_commit"]  # alnb's own checkout
    assert {"git_commit", "git_dirty", "alnb", "python", "platform", "device", *PACKAGES} <= set(record)
    assert all(record[p] for p in ("alnb", "python", *PACKAGES)) and record["device"] == "cpu"
    store.check_protocol({"a": 1}, record)
    store.check_protocol({"a": 1}, record)  # the same code and libraries: recorded once
    later = {**record, "git_commit": "0" * 40, "git_dirty": True}
    store.check_protocol({"a": 1}, later)  # continued with other code: both kept, in order, the run not refused
    assert store.provenance() == [record, later]
    assert json.loads((tmp_path / "protocol.json").read_text())["a"] == 1
    with pytest.raises(ProtocolChanged):
        store.check_protocol({"a": 2}, later)
    assert provenance_line(later).startswith("commit 000000000000 (uncommitted changes); alnb ")
    assert provenance_line({}).startswith("—; alnb —")

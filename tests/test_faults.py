"""Faults that real users and shared machines bring (docs/reliability.md): two commands on one run directory, a
full disk, a lost Ray worker, data files that try to run code or leave their folder, damaged caches, and a params
file kept outside the project."""

from __future__ import annotations

import errno
import json
import os
import pickle
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from alnb.core import durable
from alnb.core.durable import DamagedFileWarning, DiskFull
from alnb.core.run_lock import HOLDER_ENV, LOCK_NAME, FolderBusy, FolderLock

REPO = Path(__file__).resolve().parents[1]
SHARED_CIFAR = REPO.parent / "shared" / "data" / "cifar10_subset" / "cifar-10-batches-py"


# ----------------------------------------------------------------------------- 1. one process per run directory

HOLD = """
import sys, time
from alnb.core.run_lock import FolderLock
with FolderLock(sys.argv[1], heartbeat=0.2):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(folder: Path, seconds: float = 60) -> subprocess.Popen:
    """A process holding ``folder``'s lock for ``seconds`` (returned once it holds it)."""
    env = {k: v for k, v in os.environ.items() if k != HOLDER_ENV}
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), str(seconds)], stdout=subprocess.PIPE, env=env)
    assert proc.stdout.readline().strip() == b"held"
    return proc


def test_a_second_process_is_refused_in_one_line_naming_the_holder_and_how_to_wait(tmp_path):
    holder = _holder(tmp_path)
    try:
        with pytest.raises(FolderBusy) as refused, FolderLock(tmp_path):
            pass
        message = str(refused.value)
        assert "\n" not in message and f"pid {holder.pid} on host {socket.gethostname()}, started " in message
        assert "--wait" in message and str(tmp_path / LOCK_NAME) in message
    finally:
        holder.kill()
        holder.wait()


def test_a_grid_run_by_hand_is_refused_while_a_study_holds_its_run_directory(tmp_path, monkeypatch):
    # a notebook run in JupyterLab calls study.grid.run with no lock of an ancestor: it takes the lock itself
    from alnb.run.study import Study
    from alnb.run.validation import params_from_dict

    monkeypatch.delenv(HOLDER_ENV, raising=False)
    raw = {"study": "by_hand", "run_dir": str(tmp_path / "run"), "al": {"seeds": [0], "inits": ["random"]}}
    study = Study(params_from_dict(raw, tmp_path))
    holder = _holder(tmp_path / "run")
    try:
        with pytest.raises(FolderBusy, match=f"pid {holder.pid}"):
            study.grid.run(progress=False)
    finally:
        holder.kill()
        holder.wait()
    assert not (tmp_path / "run" / "trials").exists()  # refused before any trial ran


def test_wait_waits_for_the_holder_then_holds_the_lock(tmp_path):
    holder = _holder(tmp_path, seconds=1.5)
    lines = []
    with FolderLock(tmp_path, wait=True, poll=0.1, log=lines.append) as lock:
        assert holder.wait(timeout=30) == 0  # the holder had finished and released it
        assert lock.current() == lock.holder
    assert lines == [f"[alnb] waiting for the run directory {tmp_path}, in use by {lock_holder_text(lines)} ..."]
    assert not (tmp_path / LOCK_NAME).exists()


def lock_holder_text(lines: list[str]) -> str:
    return lines[0].split("in use by ", 1)[1].removesuffix(" ...")


def test_a_lock_whose_holder_was_killed_is_taken_over_with_a_line(tmp_path):
    holder = _holder(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lines = []
    with FolderLock(tmp_path, log=lines.append):
        pass
    assert len(lines) == 1 and lines[0].startswith(f"[alnb] took over the stale lock of the run directory {tmp_path}")
    assert lines[0].endswith(f"pid {holder.pid} no longer runs on this host")


def test_a_lock_of_another_host_is_stale_only_when_its_heartbeat_stopped(tmp_path):
    record = {"pid": 1, "host": "elsewhere", "process_start": None, "started": "then", "token": "theirs"}
    (tmp_path / LOCK_NAME).write_text(json.dumps(record))
    with pytest.raises(FolderBusy, match="pid 1 on host elsewhere"), FolderLock(tmp_path, stale_after=60):
        pass
    old = time.time() - 120
    os.utime(tmp_path / LOCK_NAME, (old, old))
    lines = []
    with FolderLock(tmp_path, stale_after=60, log=lines.append):
        pass
    assert "its last heartbeat is 120 s old (more than 60 s)" in lines[0]


def test_the_heartbeat_keeps_a_live_lock_fresh(tmp_path):
    with FolderLock(tmp_path, heartbeat=0.1) as lock:
        old = time.time() - 1000
        os.utime(lock.path, (old, old))
        time.sleep(0.5)
        assert time.time() - lock.path.stat().st_mtime < 5


def test_processes_started_by_the_holder_are_its_own_not_intruders(tmp_path):
    """A kernel or worker (it inherits ALNB_RUN_LOCK) takes the same lock as its holder's, and leaves it held."""
    code = "import sys; from alnb.core.run_lock import FolderLock\nwith FolderLock(sys.argv[1]): print('in')"
    with FolderLock(tmp_path) as lock:
        child = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
        assert child.returncode == 0 and child.stdout == "in\n", child.stderr
        assert lock.current() == lock.holder
    assert HOLDER_ENV not in os.environ


def test_study_and_select_refuse_a_locked_folder_with_exit_75(tmp_path, capsys):
    from alnb.__main__ import EXIT_BUSY, main

    params = tmp_path / "p.yaml"
    params.write_text(f"study: locked\nrun_dir: {tmp_path / 'run'}\nal:\n  initial_size: 20\n  budget: 10\n")
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / "a.png")
    Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(folder / "b.png")
    np.save(tmp_path / "v.npy", np.eye(2, 4, dtype=np.float32))
    (tmp_path / "v.txt").write_text("a.png\nb.png\n")
    for argv, locked in [
        (["study", str(params)], tmp_path / "run"),
        (
            [
                "select",
                str(folder),
                "--budget",
                "1",
                "--out",
                str(tmp_path / "sel"),
                "--embeddings",
                str(tmp_path / "v.npy"),
            ],
            tmp_path / "sel",
        ),
    ]:
        holder = _holder(locked)
        try:
            assert main(argv) == EXIT_BUSY
        finally:
            holder.kill()
            holder.wait()
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"is in use by pid {holder.pid}" in err and "--wait" in err


# ----------------------------------------------------------------------------- 2. a full disk


@pytest.fixture()
def full_disk(monkeypatch):
    """``full_disk(part)``: every later atomic write of a file whose name holds ``part`` fails with ENOSPC when
    flushed (where a full disk or an NFS quota shows); ``full_disk(None)`` frees the space."""
    flush = durable.fsync_file
    state = {"part": None}

    def failing_flush(path: Path) -> None:
        if state["part"] is not None and state["part"] in Path(path).name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        flush(path)

    monkeypatch.setattr(durable, "fsync_file", failing_flush)
    return lambda part: state.update(part=part)


def _only_line(err: DiskFull, path_part: str) -> str:
    message = str(err)
    assert "\n" not in message and message.startswith("no space left on the disk mounted at ")
    assert " free) while writing " in message and path_part in message and "rerun the same command" in message
    return message


def test_a_full_disk_names_the_disk_and_keeps_the_previous_file(tmp_path, full_disk):
    report = tmp_path / "reports" / "01_pretext_training.html"
    durable.atomic_write_text(report, "<p>the last good report</p>")
    full_disk("01_pretext_training.html")
    with pytest.raises(DiskFull) as stopped:
        durable.atomic_write_text(report, "<p>new</p>" * 1000)
    message = _only_line(stopped.value, str(report))
    assert "needs at least 9.8 KiB more" in message and f"mounted at {durable.mount_point(tmp_path)} (" in message
    assert report.read_text() == "<p>the last good report</p>" and os.listdir(report.parent) == [report.name]
    full_disk(None)
    durable.atomic_write_text(report, "<p>new</p>")
    assert report.read_text() == "<p>new</p>"


def test_a_full_disk_while_saving_a_figure_stops_in_one_line_and_keeps_the_last_figure(tmp_path, full_disk):
    import matplotlib.pyplot as plt

    from alnb.analysis.plots import save_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    save_figure(fig, tmp_path / "figures" / "curve")
    before = (tmp_path / "figures" / "curve.svg").read_bytes()
    ax.plot([0, 1], [0, 1])
    full_disk("curve.svg")
    with pytest.raises(DiskFull) as stopped:
        save_figure(fig, tmp_path / "figures" / "curve")
    _only_line(stopped.value, "curve.svg")
    assert (tmp_path / "figures" / "curve.svg").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["curve.png", "curve.svg"]
    plt.close(fig)


def test_quota_exceeded_is_named_as_such(tmp_path, monkeypatch):
    def over_quota(tmp: Path) -> None:
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    with pytest.raises(DiskFull, match="^disk quota exceeded on the disk mounted at "):
        durable.write_atomically(tmp_path / "x", over_quota)


def tiny_study_params(run_dir: Path, **al):
    from alnb.run.validation import params_from_dict

    return params_from_dict(
        {
            "study": "tiny",
            "run_dir": str(run_dir),
            "data": {"dataset": "digits", "val_size": 50},
            "training": {"lr": 1.0e-3, "max_epochs": 2, "patience": 1, "min_samples_per_epoch": 64},
            "al": {
                "initial_size": 10,
                "budget": 10,
                "cycles": 1,
                "seeds": [0],
                "inits": ["random"],
                "queries": ["random", "entropy"],
                **al,
            },
            "executor": {"kind": "serial", "threads": 1},
        }
    )


def test_a_full_disk_at_trial_rows_and_pools_stops_the_grid_and_the_rerun_completes(tmp_path, full_disk):
    from alnb.run.study import Study

    expected = Study(tiny_study_params(tmp_path / "lone")).grid.run(progress=False)
    params = tiny_study_params(tmp_path / "run")
    full_disk("initial_pools.csv")
    with pytest.raises(DiskFull) as stopped:
        Study(params).grid.run(progress=False)
    _only_line(stopped.value, "initial_pools.csv")
    assert not (tmp_path / "run" / "initial_pools.csv").exists() and not (tmp_path / "run" / "trials").exists()

    full_disk("rows.csv")  # the first trial fails to record its rows: the grid stops, nothing is recorded failed
    with pytest.raises(DiskFull) as stopped:
        Study(params).grid.run(progress=False)
    _only_line(stopped.value, "rows.csv")
    assert list((tmp_path / "run").glob("trials/*/status.json")) == []
    pools = (tmp_path / "run" / "initial_pools.csv").read_text()

    full_disk(None)
    rerun = Study(params).grid.run(progress=False)
    assert (tmp_path / "run" / "initial_pools.csv").read_text() == pools
    times = ["train_seconds", "query_seconds"]
    pd.testing.assert_frame_equal(rerun.drop(columns=times), expected.drop(columns=times))


def _pretext_result():
    import torch

    from alnb.methods.pretext.training import PretextResult

    state = {"encoder.weight": torch.arange(12, dtype=torch.float32).reshape(3, 4)}
    return PretextResult("rotation", np.arange(5.0), np.ones((5, 2), np.float32), [1.0], {"acc": 0.5}, state, {})


def test_a_full_disk_at_a_model_or_a_cache_leaves_no_half_result(tmp_path, full_disk):
    from alnb.data.imagefolder import load_imagefolder
    from alnb.methods.pretext.storage import has_result, load_result, save_result

    full_disk("model.pt")
    with pytest.raises(DiskFull) as stopped:
        save_result(_pretext_result(), tmp_path / "model")
    _only_line(stopped.value, "model.pt")
    assert not has_result(tmp_path / "model")
    full_disk(None)
    save_result(_pretext_result(), tmp_path / "model")
    assert load_result(tmp_path / "model").losses.tolist() == [0, 1, 2, 3, 4]

    root = _image_folder(tmp_path / "images")
    full_disk(".npz")
    with pytest.raises(DiskFull):
        load_imagefolder(root, 8, 0.25, tmp_path / "cache")
    assert list((tmp_path / "cache").rglob("*.npz*")) == []
    full_disk(None)
    assert len(load_imagefolder(root, 8, 0.25, tmp_path / "cache")[0]) > 0


def test_a_full_disk_in_a_worker_stops_the_executor_instead_of_failing_every_call():
    from alnb.run.executors import Resources, run_jobs

    with pytest.raises(DiskFull, match="no space"):
        run_jobs(_fill_disk, [(i,) for i in range(3)], Resources(), progress=False)


def _fill_disk(i: int) -> None:
    raise DiskFull("no space left on the disk mounted at /x")


# ----------------------------------------------------------------------------- 4. data that is not what it claims


class _RunsCode:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_cifar_batch_that_would_run_code_is_refused_by_name_and_nothing_runs(tmp_path):
    from alnb.data.checks import DatasetError, read_pickle
    from alnb.data.datasets import load_dataset
    from tests.dataset_files import write_cifar10

    marker = tmp_path / "marker"
    x = np.zeros((20, 3, 32, 32), np.uint8)
    folder = write_cifar10(tmp_path, x, np.arange(20) % 10, x[:10], np.arange(10))
    batch = {"data": x.reshape(20, -1)[:4], "labels": [0, 1, 2, 3], "payload": _RunsCode(marker)}
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch))
    with pytest.raises(
        DatasetError, match=r"data_batch_1: refused: it would call posix\.system, which a data batch never needs"
    ):
        read_pickle(folder / "data_batch_1")
    with pytest.raises(DatasetError, match="posix.system"):
        load_dataset("cifar10", root=str(tmp_path))
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [3, 4, 5])
def test_batches_of_dicts_lists_bytes_and_arrays_are_read(tmp_path, protocol):
    from alnb.data.checks import read_pickle

    batch = {
        "batch_label": b"training batch 1 of 5",
        "labels": [3, 1],
        "data": np.arange(12, dtype=np.uint8),
        "filenames": ["a.png", "b.png"],
        "shape": np.zeros((2, 2), np.float32),
    }
    (tmp_path / "b").write_bytes(pickle.dumps(batch, protocol=protocol))
    read = read_pickle(tmp_path / "b")
    assert read.keys() == batch.keys() and read["labels"] == [3, 1]
    np.testing.assert_array_equal(read["data"], batch["data"])


@pytest.mark.skipif(not SHARED_CIFAR.is_dir(), reason="needs the shared CIFAR-10 subset")
def test_the_real_cifar_batches_pass_the_restricted_unpickler():
    from alnb.data.checks import read_pickle

    for name in ("data_batch_1", "test_batch", "batches.meta"):
        assert isinstance(read_pickle(SHARED_CIFAR / name), dict)


def _png_claiming(path: Path, width: int, height: int) -> Path:
    """A small PNG whose header claims ``width`` × ``height`` pixels (a decompression bomb's header)."""
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = bytearray(data[12:29])  # 'IHDR' + 13 bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("side", [10_000, 40_000])  # above PIL's warning only; above its error too
def test_an_image_above_the_pixel_limit_is_refused_by_name_never_decoded(tmp_path, side):
    from alnb.data.checks import ImageTooLarge, read_rgb_image
    from alnb.data.imagefolder import ImageFolderError, read_image

    bomb = _png_claiming(tmp_path / "bomb.png", side, side)
    with pytest.raises(ImageTooLarge, match=r"bomb\.png: .*more than .*limit of 89,478,485"):
        read_rgb_image(bomb)
    with pytest.raises(ImageFolderError, match=r"cannot read image .*bomb\.png: .*pixels"):
        read_image(bomb, 8)


def _image_folder(root: Path) -> Path:
    for c, shade in enumerate((30, 220)):
        (root / "train" / f"c{c}").mkdir(parents=True)
        for i in range(6):
            Image.fromarray(np.full((10, 10, 3), shade + i, np.uint8)).save(root / "train" / f"c{c}" / f"{i}.png")
    return root


def test_select_lists_nothing_outside_its_folder_does_not_hang_on_loops_and_says_what_it_skipped(tmp_path):
    from alnb.select.folder import decode_images, list_images

    outside = tmp_path / "outside"
    outside.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(outside / "secret.png")
    folder = tmp_path / "photos"
    (folder / "inner").mkdir(parents=True)
    Image.fromarray(np.full((8, 8, 3), 99, np.uint8)).save(folder / "inner" / "mine.png")
    Image.fromarray(np.full((8, 8, 3), 7, np.uint8)).save(folder / "other.png")
    (folder / "out_dir").symlink_to(outside, target_is_directory=True)
    (folder / "out_file.png").symlink_to(outside / "secret.png")
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "self.png").symlink_to(folder / "self.png")
    (folder / "inner_link.png").symlink_to(folder / "inner" / "mine.png")
    _png_claiming(folder / "bomb.png", 40_000, 40_000)
    listing = list_images(folder)
    assert listing.paths == ["bomb.png", "inner/mine.png", "inner_link.png", "other.png"]
    assert listing.skipped == {
        "loop": "a symbolic link to a folder (not followed; its images are listed where they are)",
        "out_dir": "a symbolic link leading outside FOLDER (not followed)",
        "out_file.png": "a symbolic link leading outside FOLDER (not followed)",
        "self.png": "a symbolic link that loops or leads nowhere",
    }
    images = decode_images(listing, 8)
    assert images.paths == ["inner/mine.png", "other.png"]
    assert images.skipped["inner_link.png"] == "the same bytes as inner/mine.png"
    assert images.skipped["bomb.png"].startswith("unreadable: 1,600,000,000 pixels, more than the limit of")
    assert listing.skipped.items() <= images.skipped.items()


def test_labeled_and_embedding_paths_leaving_the_folder_are_refused(tmp_path, capsys):
    from alnb.__main__ import main

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(folder / f"{i}.png")
    (tmp_path / "labeled.txt").write_text("0.png\n../photos/1.png\n")
    np.save(tmp_path / "v.npy", np.eye(3, 4, dtype=np.float32))
    (tmp_path / "v.txt").write_text("0.png\n1.png\n../../etc/2.png\n")
    base = ["select", str(folder), "--budget", "1", "--out", str(tmp_path / "out")]
    assert main([*base, "--embeddings", str(tmp_path / "v.npy"), "--labeled", str(tmp_path / "labeled.txt")]) == 2
    assert capsys.readouterr().err == (
        "alnb select: --labeled: labeled.txt line 2 names ../photos/1.png, a path leaving FOLDER (paths are "
        "relative to FOLDER, without '..')\n"
    )
    assert main([*base, "--embeddings", str(tmp_path / "v.npy")]) == 2
    assert "--embeddings: v.npy names ../../etc/2.png, a path leaving FOLDER" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["../escape", "..", ".", "a/b", "a\\b"])
def test_a_study_name_that_is_not_a_plain_name_is_refused(tmp_path, name):
    from alnb.core.config import ParamsError
    from alnb.run.validation import params_from_dict

    with pytest.raises(ParamsError, match=re.escape(f"study: {name!r} must be a plain name")):
        params_from_dict({"study": name, "run_dir": str(tmp_path)})


XSS = "<img src=x onerror=alert(1)>"


def test_file_names_are_escaped_in_the_label_studio_json_and_the_html(tmp_path):
    from alnb.select import SelectRequest, run_selection
    from alnb.select.figures import skipped_table, summary_markdown, thumbnails_html

    folder = tmp_path / "photos"
    folder.mkdir()
    names = [f"{XSS}.png", "a.png", "b.png"]
    for i, name in enumerate(names):
        Image.fromarray(np.full((8, 8, 3), 60 * i, np.uint8)).save(folder / name)
    np.save(tmp_path / f"{XSS}.npy", np.eye(3, 4, dtype=np.float32))
    (tmp_path / f"{XSS}.txt").write_text("".join(f"{n}\n" for n in names))
    request = SelectRequest(
        str(folder), 3, "kcenter", str(tmp_path / f"{XSS}.npy"), out=str(tmp_path / "out"), clusters=2
    )
    selection = run_selection(request, log=lambda line: None)
    tasks = json.loads((tmp_path / "out" / "label_studio_tasks.json").read_text())
    assert f"{XSS}.png" in [t["data"]["path"] for t in tasks]
    assert XSS not in thumbnails_html(folder, selection.table) and "&lt;img src=x onerror=alert(1)&gt;" in (
        thumbnails_html(folder, selection.table)
    )
    assert XSS not in summary_markdown(selection)
    page = skipped_table({f"{XSS}.png": "why"}).style.format(escape="html").to_html()  # as notebook 07 shows it
    assert XSS not in page and "&lt;img" in page


# ----------------------------------------------------------------------------- 5. caches that prove themselves


def test_a_cache_cut_in_half_or_with_a_byte_flipped_is_detected_removed_and_rebuilt(tmp_path):
    from alnb.data.imagefolder import load_imagefolder

    root = _image_folder(tmp_path / "images")
    first = load_imagefolder(root, 8, 0.25, tmp_path / "cache")
    (cache,) = (tmp_path / "cache").rglob("*.npz")
    assert json.loads(durable.manifest_path(cache).read_text())["sha256"] == durable.file_digest(cache)
    cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    with pytest.warns(DamagedFileWarning, match=r"\.npz: truncated or altered .*; the images are decoded again"):
        again = load_imagefolder(root, 8, 0.25, tmp_path / "cache")
    for a, b in zip(first[:4], again[:4]):
        np.testing.assert_array_equal(a, b)
    assert durable.is_verified(cache)

    data = bytearray(cache.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cache.write_bytes(bytes(data))
    with pytest.warns(DamagedFileWarning, match="altered .its sha256 differs"):
        assert not durable.is_verified(cache)
    assert not cache.exists() and not durable.manifest_path(cache).exists()


def test_a_model_file_with_one_byte_flipped_is_never_loaded(tmp_path):
    from alnb.methods.pretext.storage import has_result, save_result

    folder = save_result(_pretext_result(), tmp_path / "model")
    assert has_result(folder)
    data = bytearray((folder / "model.pt").read_bytes())
    data[-30] ^= 0x01
    (folder / "model.pt").write_bytes(bytes(data))
    with pytest.warns(DamagedFileWarning, match=r"model\.pt: altered .*; the pretext model is trained again"):
        assert not has_result(folder)


def test_an_encoder_with_one_byte_flipped_is_retrained_to_the_same_embeddings(tmp_path, monkeypatch):
    """``alnb select``'s SimCLR cache: a flipped byte in ``model.pt`` is reported, the encoder trained again, and
    the embeddings are those of the first training."""
    from alnb.select import embeddings

    monkeypatch.setattr(embeddings, "MAX_EPOCHS", 1)
    monkeypatch.setattr(embeddings, "MIN_EPOCHS", 1)
    pixels = np.random.default_rng(0).integers(0, 256, (16, 3, 32, 32), dtype=np.uint8)
    first = embeddings.ssl_encoder(pixels, "listing", tmp_path, seed=0, log=lambda line: None)
    (model,) = tmp_path.glob("simclr_*/model.pt")
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    lines = []
    with pytest.warns(DamagedFileWarning, match=r"model\.pt: altered .*; the pretext model is trained again"):
        again = embeddings.ssl_encoder(pixels, "listing", tmp_path, seed=0, log=lines.append)
    assert any("training SimCLR" in line for line in lines)
    np.testing.assert_array_equal(again.embeddings, first.embeddings)


def test_a_cache_without_its_manifest_is_not_trusted(tmp_path):
    durable.save_verified_npz(tmp_path / "c.npz", inputs="abc", x=np.arange(3))
    assert durable.is_verified(tmp_path / "c.npz", inputs="abc")
    with pytest.warns(DamagedFileWarning, match="made from other inputs"):
        assert not durable.is_verified(tmp_path / "c.npz", inputs="other")
    durable.save_verified_npz(tmp_path / "c.npz", x=np.arange(3))
    durable.manifest_path(tmp_path / "c.npz").unlink()
    with pytest.warns(DamagedFileWarning, match=r"no intact manifest \(c\.npz\.manifest\.json\)"):
        assert not durable.is_verified(tmp_path / "c.npz")


# ----------------------------------------------------------------------------- 6. one run directory


def test_the_project_root_handed_down_wins_over_any_current_folder(tmp_path, monkeypatch):
    from alnb.core.config import PROJECT_ROOT_ENV, find_project_root
    from alnb.run.validation import load_params

    (tmp_path / "my.yaml").write_text("study: elsewhere\nal:\n  initial_size: 20\n  budget: 10\n")
    monkeypatch.delenv(PROJECT_ROOT_ENV, raising=False)
    assert find_project_root(tmp_path) == REPO  # this checkout, not alnb/ nor the current folder
    monkeypatch.chdir(tmp_path)
    assert load_params(tmp_path / "my.yaml").run_path == REPO / "runs" / "elsewhere"
    monkeypatch.setenv(PROJECT_ROOT_ENV, str(tmp_path / "project"))
    assert load_params(tmp_path / "my.yaml").run_path == tmp_path / "project" / "runs" / "elsewhere"


# ----------------------------------------------------------------------------- the command, end to end (slow)

TINY_GRID = """\
study: {study}
run_dir: {run_dir}
data:
  val_size: 50
training:
  lr: 1.0e-3
  max_epochs: 2
  patience: 1
  min_samples_per_epoch: 64
al:
  initial_size: 10
  budget: 10
  cycles: 1
  seeds: [0]
  inits: [random]
  queries: [random, entropy]
executor:
  kind: processes
  n_jobs: 2
  threads: 1
"""
RUN_GRID = (
    "import os, time\n"
    "from alnb.run.study import Study\n"
    "from alnb.run.validation import load_params\n"
    "time.sleep(float(os.environ.get('FAULT_SLEEP', '0')))\n"
    "Study(load_params(params_path)).grid.run(progress=False)"
)


def _project(root: Path, *cells: str) -> Path:
    """A project of its own (pyproject.toml, notebooks/) whose notebook 01 runs ``cells``; returns its params."""
    from tests.test_study_command import _notebook

    (root / "notebooks").mkdir(parents=True)
    (root / "pyproject.toml").write_text("")
    (root / "notebooks" / "01_pretext_training.ipynb").write_text(json.dumps(_notebook(*cells)))
    params = root / "params.yaml"
    params.write_text(TINY_GRID.format(study="tiny", run_dir="runs/tiny"))
    return params


def _study(params: Path, *extra: str, sleep: float = 0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "alnb", "study", str(params), "--only", "01", *extra],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "FAULT_SLEEP": str(sleep), "TMPDIR": str(params.parent)},
    )


DETERMINISTIC = ["dataset", "init", "query", "seed", "cycle", "n_labeled", "test_acc", "val_acc", "epochs"]


def _lone_run(tmp_path: Path) -> pd.DataFrame:
    from alnb.run.study import Study

    params = tiny_study_params(tmp_path / "lone").replace(al={"queries": ["random", "entropy"]})
    return Study(params).grid.run(progress=False)[DETERMINISTIC]


@pytest.mark.slow
def test_two_studies_on_one_run_directory_one_runs_the_other_refuses_or_waits(tmp_path):
    params = _project(tmp_path, RUN_GRID)
    run_dir = tmp_path / "runs" / "tiny"
    first, second = _study(params, sleep=5), _study(params, sleep=5)
    outcomes = sorted([(p.wait(timeout=600), *p.communicate()) for p in (first, second)])
    (ok, _, ok_err), (busy, _, busy_err) = outcomes
    assert ok == 0, ok_err
    assert busy == 75 and busy_err.count("\n") == 1 and busy_err.startswith(f"alnb: the run directory {run_dir} is")
    assert "--wait" in busy_err
    results = pd.read_csv(run_dir / "results.csv")
    pd.testing.assert_frame_equal(results[DETERMINISTIC], _lone_run(tmp_path))

    statuses = {p: p.stat().st_mtime_ns for p in run_dir.glob("trials/*/status.json")}
    first, second = _study(params, "--wait", sleep=3), _study(params, "--wait", sleep=3)
    outputs = [(p.wait(timeout=600), *p.communicate()) for p in (first, second)]
    assert [code for code, _, _ in outputs] == [0, 0], outputs
    assert sum("[alnb] waiting for the run directory" in out for _, out, _ in outputs) == 1
    assert {p: p.stat().st_mtime_ns for p in run_dir.glob("trials/*/status.json")} == statuses  # nothing redone
    assert not (run_dir / LOCK_NAME).exists()


@pytest.mark.slow
def test_the_next_study_takes_over_the_lock_of_a_killed_one_and_completes(tmp_path):
    params = _project(tmp_path, RUN_GRID)
    run_dir = tmp_path / "runs" / "tiny"
    killed = _study(params, sleep=600)
    deadline = time.monotonic() + 120
    while not (run_dir / LOCK_NAME).exists():
        assert killed.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.communicate()
    assert (run_dir / LOCK_NAME).exists()  # left behind: nothing could clean up
    rerun = _study(params)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    assert f"[alnb] took over the stale lock of the run directory {run_dir} (pid {killed.pid} on host " in out
    assert f"pid {killed.pid} no longer runs on this host" in out
    pd.testing.assert_frame_equal(pd.read_csv(run_dir / "results.csv")[DETERMINISTIC], _lone_run(tmp_path))


@pytest.mark.slow
def test_a_full_disk_in_a_notebook_stops_the_study_in_one_line(tmp_path):
    fill = (
        "import errno, os\n"
        "from alnb.core import durable\n"
        "def full(path):\n"
        "    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))\n"
        "durable.fsync_file = full"
    )
    params = _project(tmp_path, fill, RUN_GRID)
    study = _study(params)
    _, err = study.communicate(timeout=600)
    assert study.returncode == 1
    assert err.count("\n") == 1 and err.startswith("alnb: no space left on the disk mounted at "), err
    assert "runs/tiny/protocol.json, which needs at least" in err and "rerun the same command" in err


@pytest.mark.slow
def test_a_params_file_elsewhere_puts_every_output_under_one_run_directory(tmp_path):
    """A params file in a folder of its own (no project above it), run from the checkout: the command's files and
    the kernels' results all land in the checkout's ``runs/<study>``, none under ``notebooks/``."""
    import shutil

    study = f"faults_elsewhere_{os.getpid()}"
    params = tmp_path / "my.yaml"
    params.write_text(TINY_GRID.format(study=study, run_dir=f"runs/{study}"))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "alnb", "study", str(params), "--only", "01", "02"],
            cwd=REPO / "notebooks",  # a current folder that is not the project root
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert proc.returncode == 0, proc.stderr
        run_dir = REPO / "runs" / study
        assert {"timings.json", "initial_pools.csv", "notebooks"} <= {p.name for p in run_dir.iterdir()}
        assert not (REPO / "notebooks" / "runs").exists() and not (REPO / "notebooks" / "reports").exists()
    finally:
        for folder in (REPO / "runs" / study, REPO / "reports" / study):
            shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_select_report_shows_hostile_file_names_escaped(tmp_path):
    from alnb.__main__ import main

    folder = tmp_path / "photos"
    folder.mkdir()
    names = [f"{XSS}.png", "a.png", "b.png", "c.png"]
    for i, name in enumerate(names):
        Image.fromarray(np.full((8, 8, 3), 50 * i, np.uint8)).save(folder / name)
    (tmp_path / "outside.png").write_bytes((folder / "a.png").read_bytes())
    (folder / f"{XSS}_link.png").symlink_to(tmp_path / "outside.png")
    np.save(tmp_path / "v.npy", np.eye(4, 6, dtype=np.float32))
    (tmp_path / "v.txt").write_text("".join(f"{n}\n" for n in names))
    out = tmp_path / "out"
    argv = ["select", str(folder), "--budget", "3", "--embeddings", str(tmp_path / "v.npy"), "--out", str(out)]
    assert main([*argv, "--clusters", "2"]) == 0
    page = (out / "selection.html").read_text()
    assert XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;_link.png" in page and "leading outside FOLDER" in page
    assert json.loads((out / "label_studio_tasks.json").read_text())


# ----------------------------------------------------------------------------- 3. a lost Ray worker (slow)


def _gone(pids: set[int]) -> set[int]:
    from tests.test_study_command import _gone as still_alive

    return still_alive(pids)


def _ray_trial_workers() -> set[int]:
    """The Ray worker processes running a trial now (Ray titles them after the task's function)."""
    workers = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().startswith(b"ray::_call_with_threads"):
                workers.add(int(cmdline.parent.name))
        except OSError:
            continue
    return workers


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds Ray's workers in /proc")
def test_a_killed_ray_worker_fails_only_its_trials_and_the_rerun_retries_only_those(tmp_path):
    import threading

    ray = pytest.importorskip("ray")
    from alnb.run.grid import TrialsFailed
    from alnb.run.study import Study

    params = tiny_study_params(tmp_path / "run", seeds=[0, 1], queries=["random", "entropy"]).replace(
        executor={"kind": "ray", "threads": 1, "num_cpus": 1}
    )
    from tests.test_study_command import _descendants

    killed = []

    def kill_one_worker() -> None:  # one of this test's own workers: another test's Ray may run beside it
        deadline = time.monotonic() + 300
        while not killed and time.monotonic() < deadline:
            for pid in _ray_trial_workers() & _descendants(os.getpid()):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        study = Study(params)
        killer = threading.Thread(target=kill_one_worker)
        killer.start()
        with FolderLock(study.store.root), pytest.raises(TrialsFailed, match="[12] of 4 trials failed"):
            study.grid.run(progress=False)  # the holder's Ray workers write their trials into the locked run directory
        killer.join()
        statuses = study.store.trial_statuses()
        failed = statuses[statuses["status"] == "failed"]
        # a job runs the trials of one pool and seed (both queries): the killed one's unfinished trials fail
        assert len(killed) == 1 and len(failed) in (1, 2) and (statuses["status"] == "done").sum() == 4 - len(failed)
        assert len(failed.groupby(["init", "seed"])) == 1
        assert all("WorkerCrashedError" in error or "died" in error for error in failed["error"])
        done = {p: p.stat().st_mtime_ns for p in study.store.root.glob("trials/*/status.json")}
        rerun = Study(params).grid.run(progress=False)
        changed = [p for p in done if p.stat().st_mtime_ns != done[p]]
        assert sorted(p.parent.name for p in changed) == sorted(
            study.store.trial_dir(_key(row)).name for _, row in failed.iterrows()
        )
        assert len(rerun) == 4 * 2
    finally:
        started = _ray_processes()
        ray.shutdown()
    assert started and not _gone({*killed, *started})  # no orphan: the killed worker, Ray's own processes


def _ray_processes() -> set[int]:
    """Every process below this one, or titled by Ray, that Ray started (workers, raylet, GCS)."""
    from tests.test_study_command import _descendants

    found = set()
    for pid in _descendants(os.getpid()) | _ray_trial_workers():
        try:
            if b"ray" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:
            continue
    return found


def _key(row):
    from alnb.run.store import TrialKey

    return TrialKey(row["dataset"], row["init"], row["query"], int(row["seed"]))

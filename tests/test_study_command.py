"""``python -m alnb study`` as ``make study`` runs it, in real subprocesses: a failing notebook, interrupts."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts processes, Ray or multi-trial studies

REPO = Path(__file__).resolve().parents[1]


def _notebook(*cells: str) -> dict:
    """A notebook whose first cell is the tagged parameters cell and the others are ``cells``."""

    def cell(number, source, tags=()):
        return {
            "cell_type": "code",
            "execution_count": None,
            "id": f"cell{number}",
            "metadata": {"tags": list(tags)},
            "outputs": [],
            "source": source,
        }

    return {
        "cells": [cell(0, 'params_path = ""', ["parameters"]), *(cell(i + 1, c) for i, c in enumerate(cells))],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_failing_notebook_is_reported_in_one_line_with_the_rendered_page(tmp_path):
    """A project of its own (pyproject.toml, notebooks/) whose first notebook fails in its last cell, [4] once
    papermill has injected the parameters."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    notebook = _notebook(
        "from alnb.run.validation import load_params\nparams = load_params(params_path)",
        "ratio = 1 / 0  # a bug\nprint(ratio)",
    )
    (tmp_path / "notebooks" / "01_pretext_training.ipynb").write_text(json.dumps(notebook))
    params = tmp_path / "params.yaml"
    params.write_text("study: failing\nal:\n  initial_size: 20\n  budget: 10\n  cycles: 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "alnb", "study", str(params), "--only", "01"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    html = tmp_path / "reports" / "failing" / "01_pretext_training.html"
    assert proc.stderr.splitlines() == [  # nothing else: a Unix-socket kernel gives no TCP warning
        "alnb: 01_pretext_training failed in cell [4] `ratio = 1 / 0  # a bug`: ZeroDivisionError: division by zero",
        f"full traceback: {html}",
    ]
    assert "ZeroDivisionError" in html.read_text()


# ----------------------------------------------------------------------------- stopping a study

TINY_STUDY = """\
study: tiny
run_dir: {run_dir}
data:
  val_size: 100
training:
  lr: 1.0e-3
  max_epochs: 3
  patience: 1
  min_samples_per_epoch: 128
al:
  initial_size: 20
  budget: 20
  cycles: 1
  seeds: [0, 1, 2]  # 12 trials: enough left after each interrupt that the next run still has workers to stop
  inits: [random, kmeans_equal]
  queries: [random, entropy]
executor:
  kind: processes
  n_jobs: 2
  threads: 1
visualization:
  method: pca
"""
DETERMINISTIC = ["dataset", "init", "query", "seed", "cycle", "n_labeled", "test_acc", "val_acc", "epochs"]


def _descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (from /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _start(params: Path) -> subprocess.Popen:
    """``python -m alnb study PARAMS --only 03`` in a process group of its own, as a terminal runs it; its
    temporary files (the kernel's socket folder, left behind by a SIGKILL) go beside ``params``."""
    return subprocess.Popen(
        [sys.executable, "-m", "alnb", "study", str(params), "--only", "03"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(params.parent)},
    )


def _wait_for(condition, proc: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the study never reached the expected state"
        time.sleep(0.2)


def _workers(proc: subprocess.Popen) -> set[int]:
    """The trial workers (spawned processes) below the command."""
    workers = set()
    for pid in _descendants(proc.pid):
        try:
            if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="ignore"):
                workers.add(pid)
        except OSError:
            continue  # ended meanwhile
    return workers


def _gone(pids: set[int], seconds: float = 30) -> set[int]:
    """The processes of ``pids`` still alive after waiting up to ``seconds`` for them to end."""
    deadline = time.monotonic() + seconds
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return _alive(pids)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
def test_interrupted_study_stops_leaves_no_process_and_resumes(tmp_path):
    """Ctrl-C (SIGINT to the process group), SIGTERM of the command and SIGKILL of the group each stop the
    AL notebook with its trial workers running; no process remains; a rerun completes the rows of an
    uninterrupted run."""
    import pandas as pd

    from alnb.run.study import Study
    from alnb.run.validation import load_params

    run_dir = tmp_path / "run"
    params = tmp_path / "tiny.yaml"
    params.write_text(TINY_STUDY.format(run_dir=run_dir))
    statuses = lambda: len(list(run_dir.glob("trials/*/status.json")))  # noqa: E731

    proc = _start(params)  # Ctrl-C at a terminal: SIGINT to the foreground process group
    _wait_for(lambda: _workers(proc) and statuses() >= 1, proc)
    tree = _descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == (
        f"alnb: stopped by SIGINT during 03_al_runs; finished trials are kept; resume with the same command: "
        f"python -m alnb study {params} --only 03"
    )
    assert not _gone(tree)
    assert 1 <= statuses() < 12

    done = statuses()
    proc = _start(params)  # `kill PID`: SIGTERM to the command alone
    _wait_for(lambda: bool(_workers(proc)), proc)
    tree = _descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "stopped by SIGTERM during 03_al_runs" in stderr, stderr
    assert not _gone(tree) and statuses() >= done

    proc = _start(params)  # SIGKILL of the group: nothing can clean up, yet nothing remains
    _wait_for(lambda: bool(_workers(proc)), proc)
    tree = _descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert not _gone(tree)

    proc = _start(params)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    resumed = pd.read_csv(run_dir / "results.csv")
    serial = load_params(params).replace(executor={"kind": "serial"})
    expected = Study(dataclasses.replace(serial, run_dir=str(tmp_path / "reference"))).grid.run(progress=False)
    assert len(resumed) == 12 * 2
    pd.testing.assert_frame_equal(
        resumed[DETERMINISTIC].reset_index(drop=True), expected[DETERMINISTIC].reset_index(drop=True)
    )

"""``make replicate``: a folder of params files checked together, then run end to end (slow lane) into a synthesis
whose numbers are recomputed here from each study's ``results.csv``."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alnb.analysis import synthesis, verdict
from alnb.core.config import ParamsError
from alnb.run.replication import load_replication

REPO = Path(__file__).resolve().parents[1]

TINY = """\
study: {name}
description: a tiny replication study
run_dir: runs/{name}
data:
  dataset: digits
  val_size: 100
{subset}training:
  lr: 1.0e-3
  batch_size: 64
  min_samples_per_epoch: 64
  max_epochs: 2
  patience: 1
al:
  initial_size: 20
  budget: 20
  cycles: 2
  seeds: [0, 1]
  inits: [random, kmeans_equal, balanced_random]
  queries: [random, entropy]
executor:
  kind: serial
  threads: 1
visualization:
  method: pca
  max_points: 100
replication:
  dataset: {dataset}
  regime: {regime}
"""


def _project(tmp_path: Path) -> Path:
    """A project of its own (pyproject.toml, the repository's notebooks) holding a folder of three tiny studies:
    two datasets in the regime ``plan`` and one in ``low``."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").symlink_to(REPO / "notebooks")
    folder = tmp_path / "tiny_replication"
    folder.mkdir()
    for name, dataset, regime, subset in (
        ("tiny_a", "digits_all", "plan", ""),
        ("tiny_b", "digits_900", "plan", "  train_subset: 900\n"),
        ("tiny_c", "digits_all", "low", ""),
    ):
        (folder / f"{name}.yaml").write_text(TINY.format(name=name, dataset=dataset, regime=regime, subset=subset))
    return folder


def test_a_folder_is_checked_together_before_anything_runs(tmp_path):
    folder = _project(tmp_path)
    assert [s.params.study for s in load_replication(folder)] == ["tiny_a", "tiny_b", "tiny_c"]
    text = (folder / "tiny_c.yaml").read_text()
    (folder / "tiny_c.yaml").write_text(text.replace("regime: low", "regime: plan").replace("digits_all", "digits_900"))
    with pytest.raises(ParamsError, match=r"^tiny_c\.yaml: replication digits_900/plan is also tiny_b\.yaml's"):
        load_replication(folder)
    (folder / "tiny_c.yaml").write_text(text.replace("queries: [random, entropy]", "queries: [random]"))
    with pytest.raises(ParamsError, match=r"^tiny_c\.yaml: al\.queries \['random'\] differs from tiny_a\.yaml's"):
        load_replication(folder)
    with pytest.raises(ParamsError, match=r"^tiny_c\.yaml: al\.queries"):  # the last file is refused: a and b
        load_replication(folder, tmp_path / "data", check_data=False)  # passed, yet no resolved copy is written
    (folder / "tiny_c.yaml").write_text(text.replace("replication:\n  dataset: digits_all\n  regime: low\n", ""))
    with pytest.raises(ParamsError, match=r"^tiny_c\.yaml: replication: missing"):
        load_replication(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParamsError, match=r"^REPLICATION: .*empty holds no params file \(\*\.yaml\)$"):
        load_replication(tmp_path / "empty")
    assert not (tmp_path / "runs").exists()


def test_data_root_points_every_study_elsewhere_through_resolved_copies(tmp_path):
    folder = _project(tmp_path)
    text = (folder / "tiny_a.yaml").read_text().replace("dataset: digits\n", "dataset: cifar10\n  root: data\n")
    (folder / "tiny_a.yaml").write_text(text)
    elsewhere = tmp_path / "other_data"
    with pytest.raises(ParamsError, match=r"^tiny_a\.yaml: data\.root: cifar10 is not on disk .*other_data"):
        load_replication(folder, elsewhere)
    assert not (tmp_path / "runs").exists()  # a refused folder leaves no resolved copy behind
    studies = load_replication(folder, elsewhere, check_data=False)
    assert all(s.params.data_root == elsewhere for s in studies)
    assert [s.path for s in studies] == [
        tmp_path / "runs" / "tiny_replication" / "params" / f"tiny_{n}.yaml" for n in "abc"
    ]
    assert studies[0].source == folder / "tiny_a.yaml" and studies[0].params.run_path == tmp_path / "runs" / "tiny_a"


@pytest.mark.slow
def test_make_replicate_runs_three_tiny_studies_and_their_synthesis(tmp_path):
    folder = _project(tmp_path)
    command = ["make", "-s", "replicate", f"REPLICATION={folder}", f"PY={sys.executable}", "STAMP="]
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL")}
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1500, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert out.index("forecast") < out.index("study 1/3: tiny_a") < out.index("study 3/3: tiny_c")
    for name in ("tiny_a", "tiny_b", "tiny_c"):
        assert (tmp_path / "reports" / name / "index.html").is_file()
    page = (tmp_path / "reports" / "tiny_replication" / "index.html").read_text()
    assert not re.search(r"\bnan\b", page, re.IGNORECASE) and str(tmp_path) not in page and "/work/" not in page
    assert "Forest plots" in page and re.search(r"(Confirmed|Refuted|Could not tell) in the plan regime", page)

    # the synthesis's numbers, recomputed from each study's results.csv
    inputs = pd.read_csv(tmp_path / "runs" / "tiny_replication" / "synthesis_inputs.csv")
    pooled = pd.read_csv(tmp_path / "runs" / "tiny_replication" / "synthesis.csv")
    assert list(inputs.columns) == synthesis.INPUT_COLUMNS and list(pooled.columns) == synthesis.SYNTHESIS_COLUMNS
    rows = []
    for name in ("tiny_a", "tiny_b"):  # the two studies of the regime plan
        results = pd.read_csv(tmp_path / "runs" / name / "results.csv")
        gains = verdict.seed_gains(results, "random", "aubc")
        g = gains[gains["init"] == "kmeans_equal"]["gain"]
        rows.append((g.mean(), g.std(ddof=1) / np.sqrt(len(g))))
        got = inputs.set_index(["study", "pool", "phase"]).loc[(name, "kmeans_equal", "aubc")]
        assert got["gain"] == pytest.approx(g.mean(), abs=1e-12) and got["se"] == pytest.approx(rows[-1][1])
    y, se = np.array(rows).T
    w = 1 / se**2
    fixed = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - fixed) ** 2)
    tau2 = max(0.0, (q - 1) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    estimate = np.sum(y / (se**2 + tau2)) / np.sum(1 / (se**2 + tau2))
    got = pooled.set_index(["regime", "pool", "phase"]).loc[("plan", "kmeans_equal", "aubc")]
    assert got["k"] == 2 and got["q"] == pytest.approx(q) and got["tau2"] == pytest.approx(tau2, abs=1e-15)
    assert got["estimate"] == pytest.approx(estimate)
    # and every number of both tables, by the independent recomputation anyone can run on a replication
    tool = [sys.executable, str(REPO / "tools" / "recompute_synthesis.py"), folder.name]
    checked = subprocess.run(tool, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0 and "every number matches" in checked.stdout, checked.stdout + checked.stderr

    # run again: every study resumes with nothing left to run, no trial is redone
    statuses = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").glob("tiny_*/trials/*/status.json")}
    assert len(statuses) == 3 * 3 * 2 * 2
    again = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1500, env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert statuses == {p: p.stat().st_mtime_ns for p in statuses}

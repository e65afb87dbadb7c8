"""Executes every notebook through papermill with params/quick.yaml, as `make study` does."""

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from alnb.report.render import NOTEBOOKS, run_study
from alnb.run.substudies import pool_type_results

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick_study(tmp_path_factory):
    """params/quick.yaml (with shorter trainings) run through every notebook once for this module: (raw params,
    report dir, run dir)."""
    tmp_path = tmp_path_factory.mktemp("quick")
    raw = yaml.safe_load((ROOT / "params" / "quick.yaml").read_text())
    raw["run_dir"] = str(tmp_path / "run")
    # what this module checks is the rendering of every notebook, not accuracy: shorter trainings
    raw["training"].update(max_epochs=4, patience=2)
    for task in raw["pretext"]["settings"].values():
        task["epochs"] = 1
    params_file = tmp_path / "quick.yaml"
    params_file.write_text(yaml.safe_dump(raw))
    report_dir = run_study(params_file, report_dir=tmp_path / "reports", log=lambda *_: None)
    return raw, report_dir, tmp_path / "run"


@pytest.fixture
def quick_reports(quick_study):
    return quick_study[1], quick_study[2]


@pytest.mark.slow
def test_quick_study_renders_every_notebook(quick_study):
    raw, report_dir, run_dir = quick_study
    tmp_path = run_dir.parent
    html = sorted(p.name for p in report_dir.glob("*.html"))
    assert html == sorted([f"{n}.html" for n in NOTEBOOKS] + ["index.html"])
    for name in NOTEBOOKS:
        text = (report_dir / f"{name}.html").read_text()
        assert "Traceback" not in text
        executed = nbformat.read(run_dir / "notebooks" / f"{name}.ipynb", as_version=4)
        code_cells = sum(cell.cell_type == "code" for cell in executed.cells)  # parameters and injected included
        assert text.count('<details class="alnb-code"><summary>code</summary>') == code_cells, name
        assert 'id="alnb-code-toggle"' in text and '<details class="alnb-code" open' not in text
        assert "<th>0</th>" not in text, f"a table of {name} shows row numbers"
    results = pd.read_csv(tmp_path / "run" / "results.csv")
    al = raw["al"]
    expected = {
        (i, q, s, c) for i in al["inits"] for q in al["queries"] for s in al["seeds"] for c in range(al["cycles"] + 1)
    }
    assert set(zip(results["init"], results["query"], results["seed"], results["cycle"])) == expected
    assert len(results) == len(expected)
    pools = pd.read_csv(tmp_path / "run" / "initial_pools.csv")
    assert set(pools["init"]) == {*al["inits"], *raw["pools"]["extra_inits"]}
    index = (report_dir / "index.html").read_text()
    assert "<img" in (report_dir / "03_al_runs.html").read_text()
    for heading in (
        "The three questions",
        "Primary family: verdict per initial pool",
        "The cold start and the AL phase",
        "The seed study beside this one",
        "Pairwise penalty matrix",
        "What makes a pool good",
        "Full table",
    ):
        assert heading in index
    assert index.count('class="answer"') == 3 and "80% power" in index
    quality = pd.read_csv(tmp_path / "run" / "pool_quality.csv")  # written by notebook 03, read by 06 and the page
    assert set(quality["init"]) == {*al["inits"], *raw["pools"]["extra_inits"]}
    types = pool_type_results(tmp_path / "run")  # question 3: the random query from every pool built, apart
    assert set(types["init"]) == {*al["inits"], *raw["pools"]["extra_inits"]} and set(types["query"]) == {"random"}
    assert "Conclusions" in (report_dir / "04_ablations.html").read_text()
    assert "Conclusion" in (report_dir / "05_imbalance.html").read_text()


@pytest.mark.slow
def test_reports_are_clean_readable_and_keep_their_figures(quick_reports):
    report_dir, run_dir = quick_reports
    for page in report_dir.glob("*.html"):
        text = page.read_text()
        assert "it/s" not in text and "trial/s" not in text and "s/trial" not in text, f"progress bar in {page.name}"
        assert str(run_dir.parent) not in text and str(ROOT) not in text, f"absolute path in {page.name}"
        assert page.stat().st_mode & 0o044 == 0o044, f"{page.name} is not readable by others"
        words = re.sub(r'src="data:[^"]*"', "", text)  # embedded images may spell anything
        assert not re.search(r"\bnan\b", words, re.IGNORECASE), f"NaN shown in {page.name}"
    figures = report_dir / "figures"
    pngs = {p.stem for p in figures.glob("*.png")}
    assert pngs and pngs == {p.stem for p in figures.glob("*.svg")}
    assert {"index_gain_curves", "index_penalty_matrix", "03_al_runs_learning_curves"} <= pngs

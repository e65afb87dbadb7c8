"""Executes every notebook through papermill with params/quick.yaml, as `make study` does."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from alnb.report import NOTEBOOKS, run_study

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_study_renders_every_notebook(tmp_path):
    raw = yaml.safe_load((ROOT / "params" / "quick.yaml").read_text())
    raw["run_dir"] = str(tmp_path / "run")
    params_file = tmp_path / "quick.yaml"
    params_file.write_text(yaml.safe_dump(raw))
    report_dir = run_study(params_file, report_dir=tmp_path / "reports", log=lambda *_: None)
    html = sorted(p.name for p in report_dir.glob("*.html"))
    assert html == sorted([f"{n}.html" for n in NOTEBOOKS] + ["index.html"])
    for name in NOTEBOOKS:
        text = (report_dir / f"{name}.html").read_text()
        assert "Traceback" not in text
    results = pd.read_csv(tmp_path / "run" / "results.csv")
    al = raw["al"]
    expected = {(i, q, s, c) for i in al["inits"] for q in al["queries"] for s in al["seeds"]
                for c in range(al["cycles"] + 1)}
    assert set(zip(results["init"], results["query"], results["seed"], results["cycle"])) == expected
    assert len(results) == len(expected)
    pools = pd.read_csv(tmp_path / "run" / "initial_pools.csv")
    assert set(pools["init"]) == {*al["inits"], *raw["pools"]["extra_inits"]}
    assert "AUBC" in (report_dir / "index.html").read_text() and "<img" in (report_dir / "03_al_runs.html").read_text()

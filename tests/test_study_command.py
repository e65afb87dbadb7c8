"""``python -m alnb study`` as ``make study`` runs it, in real subprocesses: a failing notebook, interrupts."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _notebook(*cells: str) -> dict:
    """A notebook whose first cell is the tagged parameters cell and the others are ``cells``."""
    def cell(number, source, tags=()):
        return {"cell_type": "code", "execution_count": None, "id": f"cell{number}", "metadata": {"tags": list(tags)},
                "outputs": [], "source": source}

    return {"cells": [cell(0, 'params_path = ""', ["parameters"]), *(cell(i + 1, c) for i, c in enumerate(cells))],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def test_failing_notebook_is_reported_in_one_line_with_the_rendered_page(tmp_path):
    """A project of its own (pyproject.toml, notebooks/) whose first notebook fails in its last cell, [4] once
    papermill has injected the parameters."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    notebook = _notebook("from alnb.config import load_params\nparams = load_params(params_path)",
                         "ratio = 1 / 0  # a bug\nprint(ratio)")
    (tmp_path / "notebooks" / "01_pretext_training.ipynb").write_text(json.dumps(notebook))
    params = tmp_path / "params.yaml"
    params.write_text("study: failing\nal:\n  initial_size: 20\n  budget: 10\n  cycles: 1\n")
    proc = subprocess.run([sys.executable, "-m", "alnb", "study", str(params), "--only", "01"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    html = tmp_path / "reports" / "failing" / "01_pretext_training.html"
    assert proc.stderr.splitlines()[-2:] == [  # the kernel may warn first (ipykernel: "running over TCP")
        "alnb: 01_pretext_training failed in cell [4] `ratio = 1 / 0  # a bug`: ZeroDivisionError: division by zero",
        f"full traceback: {html}"]
    assert "ZeroDivisionError" in html.read_text()

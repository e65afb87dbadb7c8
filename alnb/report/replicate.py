"""``alnb replicate FOLDER``: every study of a replication folder, then its synthesis (notebook 08).

Everything is checked first (every params file, together, and the data), then the forecast is printed, then each
study runs as ``alnb study`` runs it (its own run directory and front page; a study interrupted and run again
skips its finished trials), and last notebook 08 writes ``runs/<folder>/synthesis_inputs.csv`` and
``synthesis.csv`` and renders ``reports/<folder>/index.html``.
"""

from __future__ import annotations

import time
from pathlib import Path

from alnb.analysis.plots import FIGURES_ENV
from alnb.core.config import NOTEBOOK_ENV
from alnb.report.render import execute_notebook, injected_cell, run_study
from alnb.run.replication import forecast, load_replication, synthesis_dir

SYNTHESIS_NOTEBOOK = "08_synthesis"


def _shown(path: Path, root: Path) -> str:
    """``path`` as a report shows it: relative to the project, else its name (no absolute path of the machine)."""
    path = Path(path).resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else path.name


def run_replication(folder: str | Path, data_root: str | Path | None = None, log=print) -> Path:
    """Run every study of ``folder`` (``data_root``: every study's ``data.root``) and its synthesis; returns the
    synthesis page. Raises :class:`~alnb.core.config.ParamsError` before any compute on a bad file,
    and what ``run_study`` raises when a study fails or is interrupted."""
    folder = Path(folder).resolve()
    studies = load_replication(folder, data_root)
    root = Path(studies[0].params.project_root)
    _, text = forecast(studies)
    log(f"[alnb replicate] {len(studies)} studies in {_shown(folder, root)}; forecast:\n{text}")
    start = time.perf_counter()
    for number, study in enumerate(studies, 1):
        log(f"[alnb replicate] study {number}/{len(studies)}: {study.params.study} ({'/'.join(study.row)}) ...")
        began = time.perf_counter()
        report = run_study(study.path, log=log)
        log(
            f"[alnb replicate] study {number}/{len(studies)}: {study.params.study} done in "
            f"{time.perf_counter() - began:.0f} s -> {report / 'index.html'}"
        )
    report_dir = root / "reports" / folder.name
    executed = synthesis_dir(folder, root) / "notebooks" / f"{SYNTHESIS_NOTEBOOK}.ipynb"
    log(f"[alnb replicate] running {SYNTHESIS_NOTEBOOK} ...")
    shown = {"replication_dir": _shown(folder, root), "data_root": _shown(data_root, root) if data_root else ""}
    execute_notebook(
        root / "notebooks" / f"{SYNTHESIS_NOTEBOOK}.ipynb",
        executed,
        report_dir / "index.html",
        {"replication_dir": str(folder), "data_root": str(Path(data_root).resolve()) if data_root else ""},
        root / "notebooks",
        {FIGURES_ENV: str(report_dir / "figures"), NOTEBOOK_ENV: SYNTHESIS_NOTEBOOK},
        injected_cell(shown, "alnb replicate"),
    )
    log(f"[alnb replicate] all done in {time.perf_counter() - start:.0f} s -> {report_dir / 'index.html'}")
    return report_dir / "index.html"

"""Run ``notebooks/07_select.ipynb`` with a request's parameters (papermill, as ``alnb study`` runs its
notebooks) and render it to ``<out>/selection.html``. The rendered parameters cell shows paths relative to the
working folder (or their names), never the machine's paths."""

from __future__ import annotations

import os
from pathlib import Path

from alnb.select.selection import SelectRequest, request_dict

NOTEBOOK = "07_select"
PATH_PARAMETERS = ("folder", "embeddings", "labeled", "out")


def _shown(value: str | None) -> str | None:
    if value is None:
        return None
    path = Path(value).resolve()
    cwd = Path.cwd().resolve()
    return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else path.name


def shown_parameters(request: SelectRequest) -> str:
    """The parameters cell as the report shows it."""
    from alnb.report.render import injected_cell

    values = request_dict(request)
    return injected_cell(
        {name: _shown(value) if name in PATH_PARAMETERS else value for name, value in values.items()}, "alnb select"
    )


def run_select_notebook(request: SelectRequest) -> Path:
    """Execute the notebook into ``<out>/07_select.ipynb`` and render ``<out>/selection.html``; returns the
    HTML's path. A failing notebook is still rendered, then :class:`alnb.report.render.NotebookFailed` is raised."""
    from alnb.analysis.plots import FIGURES_ENV
    from alnb.core.config import NOTEBOOK_ENV
    from alnb.report.render import execute_notebook

    source = Path(__file__).resolve().parents[2] / "notebooks" / f"{NOTEBOOK}.ipynb"
    out = request.out_path
    out.mkdir(parents=True, exist_ok=True)
    page = out / "selection.html"
    execute_notebook(
        source,
        out / f"{NOTEBOOK}.ipynb",
        page,
        request_dict(request),
        Path(os.getcwd()),
        {FIGURES_ENV: str((out / "figures").resolve()), NOTEBOOK_ENV: "select"},
        shown_parameters(request),
    )
    return page

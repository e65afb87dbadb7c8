"""Run ``notebooks/07_select.ipynb`` with a request's parameters (papermill, as ``alnb study`` runs its
notebooks) and render it to ``<out>/selection.html`` with :func:`alnb.report.render_html`. The rendered
parameters cell shows paths relative to the working folder (or their names), never the machine's paths."""

from __future__ import annotations

import os
from pathlib import Path

from alnb.select.pipeline import SelectRequest, request_dict

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
    values = request_dict(request)
    lines = ["# Parameters injected by alnb select"]
    for name, value in values.items():
        lines.append(f"{name} = {_shown(value) if name in PATH_PARAMETERS else value!r}")
    return "\n".join(lines) + "\n"


def run_select_notebook(request: SelectRequest) -> Path:
    """Execute the notebook into ``<out>/07_select.ipynb`` and render ``<out>/selection.html``; returns the
    HTML's path. A failing notebook is still rendered, then :class:`alnb.report.NotebookFailed` is raised."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from alnb.plots import FIGURES_ENV, NOTEBOOK_ENV
    from alnb.report import (NotebookFailed, _environment, _failure_message, _kernel_env, _unix_socket_kernel,
                             render_html)

    source = Path(__file__).resolve().parents[2] / "notebooks" / f"{NOTEBOOK}.ipynb"
    out = request.out_path
    out.mkdir(parents=True, exist_ok=True)
    executed, page = out / f"{NOTEBOOK}.ipynb", out / "selection.html"
    _kernel_env()
    try:
        with _environment({FIGURES_ENV: str((out / "figures").resolve()), NOTEBOOK_ENV: "select"}), \
                _unix_socket_kernel() as kernel:
            papermill.execute_notebook(str(source), str(executed), parameters=request_dict(request),
                                       cwd=os.getcwd(), kernel_name="python3", progress_bar=False, **kernel)
    except PapermillExecutionError as err:
        raise NotebookFailed(_failure_message(NOTEBOOK, err, page)) from None
    finally:
        if executed.is_file():
            render_html(executed, page, shown_cell=shown_parameters(request))
    return page

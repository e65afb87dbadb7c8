"""Run a study's notebooks headlessly with papermill and render each to HTML, plus an index page."""

from __future__ import annotations

import html
import os
import sys
import time
from pathlib import Path

from alnb.config import StudyParams, load_params
from alnb.store import atomic_write_text

NOTEBOOKS = ("01_pretext_training", "02_initial_pools", "03_al_runs", "04_ablations", "05_imbalance",
             "06_visualization")


def render_html(notebook_path: Path, html_path: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook_path, as_version=4))
    atomic_write_text(html_path, body)


def _kernel_env() -> None:
    """Make the notebooks' ``python3`` kernel the interpreter running this process (the project's venv)."""
    bin_dir = str(Path(sys.executable).parent)
    if not os.environ.get("PATH", "").startswith(bin_dir + os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def run_study(params_path: str | Path, notebooks: tuple[str, ...] = NOTEBOOKS, log=print,
              report_dir: Path | None = None) -> Path:
    """Execute ``notebooks`` in order with ``params_path``; write ``reports/<study>/NN_name.html`` and an index.

    Returns the report folder. A failing notebook is still rendered (its error visible) before the error
    propagates.
    """
    import papermill

    params_path = Path(params_path).resolve()
    params = load_params(params_path)  # fails fast, before any compute
    root = Path(params.project_root)
    nb_dir = root / "notebooks"
    out_dir = params.run_path / "notebooks"
    report_dir = Path(report_dir) if report_dir else root / "reports" / params.study
    _kernel_env()
    timings = {}
    for name in notebooks:
        executed = out_dir / f"{name}.ipynb"
        executed.parent.mkdir(parents=True, exist_ok=True)
        log(f"[alnb] running {name} ...")
        start = time.perf_counter()
        try:
            papermill.execute_notebook(str(nb_dir / f"{name}.ipynb"), str(executed),
                                       parameters={"params_path": str(params_path)}, cwd=str(nb_dir),
                                       kernel_name="python3", progress_bar=False)
        finally:
            timings[name] = time.perf_counter() - start
            if executed.is_file():
                render_html(executed, report_dir / f"{name}.html")
        log(f"[alnb] {name} done in {timings[name]:.1f} s -> {report_dir / (name + '.html')}")
    write_index(params, report_dir, timings)
    write_timings(params.run_path / "timings.json", timings)
    return report_dir


def write_timings(path: Path, timings: dict[str, float]) -> None:
    """Merge the notebooks' wall times into ``timings.json`` (read by ``make bench``), with the machine's load."""
    import json

    record = json.loads(path.read_text()) if path.is_file() else {"notebooks": {}}
    record["notebooks"].update({name: round(seconds, 1) for name, seconds in timings.items()})
    record.update(cpus=os.cpu_count(), load_average=[round(x, 2) for x in os.getloadavg()],
                  finished=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    atomic_write_text(path, json.dumps(record, indent=1))


def write_index(params: StudyParams, report_dir: Path, timings: dict[str, float]) -> Path:
    """``index.html``: links to every rendered notebook and the headline table of the study."""
    import pandas as pd

    from alnb.analysis import summary_table

    results_path = params.run_path / "results.csv"
    table_html = "<p>No results yet.</p>"
    if results_path.is_file():
        results = pd.read_csv(results_path)
        if len(results):
            table = summary_table(results).round(4)
            table_html = table.to_html(index=False, classes="results", na_rep="")
    links = "\n".join(
        f'<li><a href="{n}.html">{n}</a> <span class="t">({timings[n]:.0f} s)</span></li>'
        for n in NOTEBOOKS if n in timings and (report_dir / f"{n}.html").is_file())
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>alnb: {html.escape(params.study)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}} table.results{{border-collapse:collapse;font-size:90%}}
table.results td,table.results th{{border:1px solid #ccc;padding:3px 6px}} .t{{color:#777}}</style></head><body>
<h1>alnb study: {html.escape(params.study)}</h1>
<p>{html.escape(params.description)}</p>
<p>Dataset <b>{html.escape(params.data.dataset)}</b>; initial pools {html.escape(", ".join(params.al.inits))};
query methods {html.escape(", ".join(params.al.queries))}; seeds {params.al.seeds}.</p>
<h2>Notebooks</h2><ol>{links}</ol>
<h2>Headline: area under the budget curve (AUBC) of test accuracy</h2>
<p>Mean and std over seeds; <code>aubc_vs_random</code> is the mean paired difference to the random initial pool
with the same query method, with its 95% t-interval and Holm-adjusted paired t-test p-value.</p>
{table_html}
</body></html>"""
    path = report_dir / "index.html"
    atomic_write_text(path, page)
    return path

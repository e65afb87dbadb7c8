"""``index.html``: the study's front page, with its answers first and every number computed.

The three questions of the plan answered in a sentence each (``alnb.verdict``), the verdict table, the
gain curves, the pairwise penalty matrix, what makes a pool good, the full table, and links to the
rendered notebooks with their run times. Its figures are embedded and saved in ``figures/``.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import pandas as pd

from alnb.config import StudyParams
from alnb.store import atomic_write_text

QUESTIONS = {
    "q1": "1. Can AL use a guided initial pool to do better?",
    "q2": "2. Can self-supervision help at no labeling cost?",
    "q3": "3. What makes an initial pool good?",
}

STYLE = """body{font-family:sans-serif;max-width:1150px;margin:2em auto;line-height:1.45;color:#222}
table{border-collapse:collapse;font-size:88%;margin:0.6em 0} td,th{border:1px solid #ccc;padding:3px 7px}
th{background:#f3f3f3} .t{color:#777} .answer{background:#f6f8fb;border-left:4px solid #4a78b5;padding:0.5em 1em;
margin:0.6em 0} .answer b{display:block;margin-bottom:0.2em} img{max-width:100%} .note{color:#555;font-size:90%}"""


def _figure_html(fig, name: str, figures_dir: Path, alt: str) -> str:
    """Save ``fig`` as PNG and SVG in ``figures_dir`` and return it embedded as an <img>."""
    import matplotlib.pyplot as plt

    figures_dir.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "svg"):
        fig.savefig(figures_dir / f"index_{name}.{ext}", dpi=110, bbox_inches="tight")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table_html(table: pd.DataFrame, digits: int = 4) -> str:
    table = table.round(digits).astype(object)
    return table.where(table.notna(), "—").to_html(index=False, border=0)


def _verdict_html(verdicts: pd.DataFrame) -> str:
    shown = verdicts.rename(columns={"init": "initial pool", "mean_gain": "AUBC gain", "ci_low": "95% CI low",
                                     "ci_high": "95% CI high", "better": "better in", "same": "not different in",
                                     "worse": "worse in"})
    return _table_html(shown)


def _subset_note(params: StudyParams) -> str:
    """How much of the train split the study uses (``data.train_subset``); empty when all of it."""
    size = params.data.train_subset
    if size is None:
        return ""
    share = f"{size:,} train images" if isinstance(size, int) else f"{size:.0%} of the train images"
    return f" (a stratified subset of {share}, drawn once with a fixed seed: data.train_subset)"


def load_timings(run_path: Path) -> dict[str, float]:
    path = run_path / "timings.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def write_index(params: StudyParams, report_dir: Path, notebooks: tuple[str, ...]) -> Path:
    """Write ``report_dir/index.html`` from the run directory's tables; returns its path."""
    from alnb import analysis, plots, verdict
    from alnb.pools import pool_label

    report_dir = Path(report_dir)
    figures_dir = report_dir / "figures"
    timings = load_timings(params.run_path)
    links = "\n".join(
        f'<li><a href="{n}.html">{n}</a> <span class="t">({timings[n]:.0f} s)</span></li>' if n in timings else
        f'<li><a href="{n}.html">{n}</a></li>'
        for n in notebooks if (report_dir / f"{n}.html").is_file())
    results_path = params.run_path / "results.csv"
    results = pd.read_csv(results_path) if results_path.is_file() else pd.DataFrame()
    body = ["<p>No results yet: run notebook 03.</p>"]
    if len(results) and (results["init"] == verdict.BASELINE).any() and results["init"].nunique() > 1:
        quality_path = params.run_path / "pool_quality.csv"
        quality = pd.read_csv(quality_path) if quality_path.is_file() else None
        correlations = verdict.quality_correlations(quality, results) if quality is not None else None
        verdicts = verdict.verdict_table(results)
        answers = verdict.answers(results, correlations, verdicts=verdicts)
        verdicts = verdicts.assign(init=lambda t: t["init"].map(pool_label))
        body = ["<h2>The three questions</h2>"]
        body += [f'<div class="answer"><b>{html.escape(QUESTIONS[q])}</b>{html.escape(answers[q])}</div>'
                 for q in QUESTIONS]
        body += ["<h2>Verdict per initial pool</h2>",
                 "<p>AUBC gain: the mean paired difference to the random initial pool with the same query method "
                 "(AUBC = area under the test-accuracy curve over the labeled range, read as a mean accuracy), "
                 "averaged over query methods per seed, with its 95% t-interval over seeds. <i>Better / not "
                 "different / worse in</i>: the number of query methods where the paired t-test, Holm-corrected over "
                 "every pool × query comparison, is significant at 0.05. Rank by gain; oracle pools read the labels "
                 "and are a reference, never ranked.</p>", _verdict_html(verdicts)]
        gains = verdict.gain_curves(results)
        body += ["<h2>Gain over random per cycle</h2>",
                 _figure_html(plots.gain_curves(gains), "gain_curves", figures_dir, "gain curves")]
        matrix = verdict.penalty_matrix(results).rename(index=pool_label, columns=pool_label)
        body += ["<h2>Pairwise penalty matrix</h2>",
                 "<p>After Lüth et al. (NeurIPS 2023): entry (row, column) is the share of (query method, cycle) "
                 "points where the row's pool is significantly better than the column's (seed-paired t-test, "
                 "α = 0.05). A small column sum means a pool is rarely beaten.</p>",
                 _figure_html(plots.penalty_heatmap(matrix), "penalty_matrix", figures_dir, "penalty matrix")]
        if correlations is not None and len(correlations):
            body += ["<h2>What makes a pool good</h2>",
                     "<p>Spearman rank correlation between each property of a pool (per initial pool and seed, "
                     "measured in notebook 06) and its AUBC gain over random, with 95% bootstrap intervals over "
                     "seeds.</p>", _table_html(correlations.drop(columns="property"), 3)]
        body += ["<h2>Full table</h2>",
                 "<p>Per initial pool and query method: AUBC and final accuracy (mean and std over seeds), the paired "
                 "AUBC difference to random with its 95% interval and Holm-adjusted p-value.</p>",
                 _table_html(analysis.summary_table(results).assign(init=lambda t: t["init"].map(pool_label)))]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>alnb: {html.escape(params.study)}</title>
<style>{STYLE}</style></head><body>
<h1>alnb study: {html.escape(params.study)}</h1>
<p>{html.escape(params.description)}</p>
<p class="note">Dataset <b>{html.escape(params.data.dataset)}</b>{_subset_note(params)};
initial pools {html.escape(", ".join(params.al.inits))}; query methods {html.escape(", ".join(params.al.queries))}; seeds {html.escape(str(params.al.seeds))}.</p>
{"".join(body)}
<h2>Notebooks</h2><ol>{links}</ol>
</body></html>"""
    path = report_dir / "index.html"
    atomic_write_text(path, page)
    return path

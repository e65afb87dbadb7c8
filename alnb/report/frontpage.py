"""``index.html``: the study's front page, with its answers first and every number computed.

The three questions of the plan answered in words (``alnb.analysis.verdict``), the primary family's verdicts and
its power, the cold-start and AL-phase gains, the gain curves, what the reader sees explained (why a pool
collapses, where the oracle stands), the seed study's conclusion beside this one, the pairwise penalty
matrix, question 3 over pool types, the full table, and links to the rendered notebooks with their run
times. Its figures are embedded and saved in ``figures/``; its tables show "—" where a value does not apply.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import pandas as pd

from alnb.core.config import StudyParams
from alnb.run.store import atomic_write_text

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

    from alnb.analysis.plots import save_figure

    save_figure(fig, figures_dir / f"index_{name}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table_html(table: pd.DataFrame, digits: int = 4, **headings: str) -> str:
    """``table`` rounded and readable, its columns under their readable headings (``headings``: this table's own)."""
    from alnb.analysis.readable import readable

    return readable(table, digits, **headings).to_html(index=False, border=0)


def _verdict_html(verdicts: pd.DataFrame) -> str:
    return _table_html(verdicts, p_holm="Holm p (primary)", outcome="primary verdict")


def _phase_html(phases: pd.DataFrame) -> str:
    return _table_html(
        phases[
            [
                "init",
                "kind",
                "cycle0_gain",
                "cycle0_low",
                "cycle0_high",
                "al_phase_gain",
                "al_phase_low",
                "al_phase_high",
                "aubc_gain",
                "aubc_from_cycle0",
                "aubc_after_cycle0",
                "advantage_ends_at",
            ]
        ]
    )


def _subset_note(params: StudyParams) -> str:
    """How much of the train split the study uses (``data.train_subset``); empty when all of it."""
    size = params.data.train_subset
    if size is None:
        return ""
    share = f"{size:,} train images" if isinstance(size, int) else f"{size:.0%} of the train images"
    return f" (a stratified subset of {share}, drawn once with a fixed seed: data.train_subset)"


def _provenance_html(store) -> str:
    """Where the numbers came from: each distinct code and library version that ran trials (protocol.json)."""
    from alnb.run.provenance import provenance_line

    records = store.provenance()
    if not records:
        return ""
    items = "".join(f"<li>{html.escape(provenance_line(r))}</li>" for r in records)
    lead = "Trials ran with" if len(records) == 1 else f"Trials ran in {len(records)} environments, oldest first:"
    return f'<h2>Provenance</h2><p class="note">{lead}</p><ul class="note">{items}</ul>'


def load_timings(run_path: Path) -> dict[str, float]:
    path = run_path / "timings.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _oracle_seeds_note(params: StudyParams) -> str:
    """Where the oracle references run on fewer seeds (``pools.oracle_seeds``), which and on how many."""
    from alnb.methods.pools import is_oracle

    oracles = [init for init in params.al.inits if is_oracle(init)]
    seeds = params.pools.oracle_seeds
    if not oracles or seeds is None or set(params.al.seeds) <= set(seeds):
        return ""
    shown = sorted(set(seeds) & set(params.al.seeds))
    return html.escape(
        f" ({', '.join(oracles)}, an oracle reference: on seeds {shown}, {len(shown)} of {len(params.al.seeds)})"
    )


def write_index(params: StudyParams, report_dir: Path, notebooks: tuple[str, ...]) -> Path:
    """Write ``report_dir/index.html`` from the run directory's tables; returns its path."""
    from alnb.analysis import verdict
    from alnb.run.store import RunStore

    report_dir = Path(report_dir)
    figures_dir = report_dir / "figures"
    timings = load_timings(params.run_path)
    links = "\n".join(
        f'<li><a href="{n}.html">{n}</a> <span class="t">({timings[n]:.0f} s)</span></li>'
        if n in timings
        else f'<li><a href="{n}.html">{n}</a></li>'
        for n in notebooks
        if (report_dir / f"{n}.html").is_file()
    )
    store = RunStore(params.run_path)
    results = store.results() if (params.run_path / "results.csv").is_file() else pd.DataFrame()
    body = ["<p>No results yet: run notebook 03.</p>"]
    if len(results) and (results["init"] == verdict.BASELINE).any() and results["init"].nunique() > 1:
        body = _answers_body(params, results, figures_dir)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>alnb: {html.escape(params.study)}</title>
<style>{STYLE}</style></head><body>
<h1>alnb study: {html.escape(params.study)}</h1>
<p>{html.escape(params.description)}</p>
<p class="note">Dataset <b>{html.escape(params.data.dataset)}</b>{_subset_note(params)};
initial pools {html.escape(", ".join(params.al.inits))}; query methods {html.escape(", ".join(params.al.queries))}; seeds {html.escape(str(params.al.seeds))}{_oracle_seeds_note(params)}.</p>
{"".join(body)}
<h2>Notebooks</h2><ol>{links}</ol>
{_provenance_html(store)}
</body></html>"""
    path = report_dir / "index.html"
    atomic_write_text(path, page)
    return path


def _train_images(params: StudyParams) -> int | None:
    """The number of training images of a digits study (cheap to count: the set is bundled); None otherwise."""
    if params.data.dataset != "digits":
        return None
    from alnb.data.datasets import load_dataset

    return len(
        load_dataset("digits", test_size=params.data.test_size, train_subset=params.data.train_subset).train_labels
    )


def _answers_body(params: StudyParams, results: pd.DataFrame, figures_dir: Path) -> list[str]:
    """The front page's sections rendered from the study's one :class:`~alnb.analysis.verdict.Verdict`
    (computed from ``results`` and ``pool_quality.csv`` when the study wrote it)."""
    from alnb.analysis import answers, plots
    from alnb.analysis.readable import mark_oracles
    from alnb.analysis.verdict import compute_verdict
    from alnb.methods.pools import pool_label
    from alnb.run.store import RunStore
    from alnb.run.substudies import pool_type_results

    quality = RunStore(params.run_path).read_table("pool_quality")
    pool_types = pool_type_results(params.run_path)  # every pool the study builds, with the random query
    verdict = compute_verdict(results, quality, params.data.dataset, _train_images(params), pool_types=pool_types)
    said = answers.answers(verdict)
    body = ["<h2>The three questions</h2>"]
    body += [f'<div class="answer"><b>{html.escape(QUESTIONS[q])}</b>{html.escape(said[q])}</div>' for q in QUESTIONS]
    body += [
        "<h2>Primary family: verdict per initial pool</h2>",
        "<p>Declared in advance: one test per guided pool of its pool-level gain, the paired AUBC difference to "
        "the random initial pool averaged over the query methods per seed (AUBC = area under the test-accuracy "
        "curve over the labeled range, read as a mean accuracy), with Holm's correction over the guided pools "
        "only. <i>Primary verdict</i>: better or worse where the corrected test says so, else <i>could not "
        "tell</i>; <i>detectable at 80% power</i>: the gain the test detects at its Holm level (noncentral t). "
        "<i>Better / could not tell / worse in</i>: the secondary family, per query method, Holm over every "
        "guided pool × query test. Cycle-0 gain: test accuracy before any query; AL-phase gain: AUBC over "
        "cycles ≥ 1 only. Oracle pools read the labels: their numbers stand beside, with no verdict (—); the "
        "random pool is the baseline (—: nothing to compare).</p>",
        f"<p>{html.escape(answers.power_clause(verdict.power))}</p>",
        _verdict_html(mark_oracles(verdict.table)),
    ]
    order = {init: row for row, init in enumerate(verdict.table["init"])}  # the phase table follows the verdict's
    phases = verdict.phases.sort_values("init", key=lambda s: s.map(order).fillna(len(order)), kind="stable")
    body += [
        "<h2>The cold start and the AL phase</h2>",
        "<p>Per pool, mean over seeds of the per-seed mean over query methods, with 95% t-intervals: the gain "
        "at cycle 0 (before any query), the AL-phase gain (the AUBC over cycles ≥ 1 only, from the labeled "
        "size after the first query to the last, divided by that range), and the full AUBC gain split exactly "
        "into what cycle 0 contributes through the first trapezoid and the rest. The last column is the first "
        "labeled-set size at which the gain's uncorrected per-cycle 95% interval includes 0 (—: it excludes 0 "
        "at every cycle).</p>",
        _phase_html(mark_oracles(phases)),
    ]
    body += [
        "<h2>Gain over random per cycle</h2>",
        "<p>A ring marks the first cycle at which a pool's uncorrected per-cycle 95% interval of its gain "
        "includes 0. It is a marker for the eye, not a test that the advantage (or disadvantage) has ended: "
        "the intervals are not corrected over cycles or pools.</p>",
        _figure_html(plots.gain_curves(verdict.by_cycle, ends=verdict.ends), "gain_curves", figures_dir, "gain curves"),
    ]
    explained = [s for s in (answers.collapse_sentence(verdict), answers.oracle_sentence(verdict)) if s]
    if explained:
        body += ["<h2>What the reader sees</h2>"] + [f"<p>{html.escape(s)}</p>" for s in explained]
    body += [
        "<h2>The seed study beside this one</h2>",
        f"<p>{html.escape(answers.seed_study_paragraph(verdict))}</p>",
    ]
    matrix = verdict.penalty.rename(index=pool_label, columns=pool_label)
    body += [
        "<h2>Pairwise penalty matrix</h2>",
        "<p>After Lüth et al. (NeurIPS 2023): entry (row, column) is the share of (query method, cycle) points "
        "where the row's pool is significantly better than the column's (seed-paired t-test, α = 0.05, "
        "uncorrected: a descriptive summary, not a verdict). Cycle 0 precedes any query, so it counts once, "
        "not once per query method. A small column sum means a pool is rarely beaten.</p>",
        _figure_html(plots.penalty_heatmap(matrix), "penalty_matrix", figures_dir, "penalty matrix"),
    ]
    correlations = verdict.correlations
    if correlations is not None and len(correlations):
        body += [
            "<h2>What makes a pool good (question 3)</h2>",
            "<p>Pools of one type across seeds are not independent, so the unit is the pool type: Spearman's ρ "
            "between the type means (over seeds) of each property and of the AL-phase gain over random (AL with the "
            "random query from every pool the study builds: the main grid's pools on its seeds, and "
            "pools.extra_inits on pools.type_seeds), with a "
            "95% bootstrap interval over pool types and an exact permutation p-value over them (with a handful "
            "of types the bootstrap interval can collapse onto ρ); beside it, the within-type ρ across seeds "
            "(deviations from each type's means) and its p-value. Both p-values are also given after Holm over "
            "the properties tested (cycle-0 accuracy is not in that family). <i>Pools measured</i>: every pool "
            "of a type in the table; <i>pools in the within-type ρ</i>: those of types whose gain varies over "
            "seeds (the random pool's own gain is 0 on every seed). Properties are measured in notebook 03 "
            "(pool_quality.csv); cycle-0 accuracy is a consequence of the pool and part of the AUBC, shown "
            "apart. Correlation, not cause. — : undefined (a property constant across the types or within "
            "them).</p>",
            _table_html(correlations.drop(columns="property"), 3),
        ]
    body += [
        "<h2>Full table</h2>",
        "<p>Per initial pool and query method: AUBC and final accuracy (mean and std over seeds), the paired "
        "AUBC difference to random with its 95% interval, and the secondary family's Holm-adjusted p-value and "
        "outcome (Holm over every guided pool × query test). — : the random pool itself (no difference to "
        "itself) and oracle pools (a reference, not in the family).</p>",
        _table_html(mark_oracles(verdict.full), p_holm="Holm p (secondary)"),
    ]
    return body

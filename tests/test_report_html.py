"""Reports for readers: code folded behind a per-cell and a page-wide toggle, tables without row numbers."""

import re

import nbformat
import pandas as pd
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from alnb.analysis.readable import has_row_numbers, show
from alnb.report.render import injected_cell, render_html


def executed_notebook(path):
    """A notebook as papermill leaves it: a parameters cell, the injected cell, a helper, a table and text."""
    cells = [
        new_markdown_cell("# A result"),
        new_code_cell('params_path = "../params/default.yaml"', metadata={"tags": ["parameters"]}),
        new_code_cell('params_path = "/machine/path/params.yaml"', metadata={"tags": ["injected-parameters"]}),
        new_code_cell("def helper():\n    return 42  # HELPER_SOURCE"),
        new_code_cell(
            "show(table)",
            outputs=[
                new_output(
                    "display_data", data={"text/html": "<table><tr><td>0.91</td></tr></table>", "text/plain": "0.91"}
                )
            ],
        ),
        new_code_cell("print('accuracy')", outputs=[new_output("stream", name="stdout", text="accuracy\n")]),
    ]
    notebook = new_notebook(cells=cells)
    nbformat.write(notebook, path)
    return path


def test_code_cells_are_folded_with_a_toggle_and_everything_else_shown(tmp_path):
    html_path = tmp_path / "nb.html"
    render_html(
        executed_notebook(tmp_path / "nb.ipynb"), html_path, injected_cell({"params_path": "params/default.yaml"})
    )
    text = html_path.read_text()
    folded = re.findall(r'<details class="alnb-code"><summary>code</summary>(.*?)</details>', text, re.S)
    assert len(folded) == 5  # every code cell, the parameters and the injected one included, is closed
    assert "HELPER_SOURCE" in folded[2] and "params/default.yaml" in folded[1]
    assert "/machine/path" not in text
    assert 'id="alnb-code-toggle"' in text and "alnbShowCode" in text
    assert '<details class="alnb-code" open' not in text
    body = re.sub(r"<details.*?</details>", "", text, flags=re.S)
    assert "0.91" in body and "accuracy" in body and "A result" in body  # outputs and markdown stay visible
    assert "require.min.js" not in text  # nothing to fetch for the page to work


def test_the_ipynb_is_left_as_it_was(tmp_path):
    path = executed_notebook(tmp_path / "nb.ipynb")
    before = path.read_bytes()
    render_html(path, tmp_path / "nb.html", injected_cell({"params_path": "params/default.yaml"}))
    assert path.read_bytes() == before


def test_row_numbers_are_recognised():
    table = pd.DataFrame({"pool": ["random", "kmeans"], "aubc": [0.5, float("nan")]})
    assert has_row_numbers(table) and has_row_numbers(table[table["aubc"] > 0])
    assert not has_row_numbers(table.set_index("pool"))
    assert not has_row_numbers(table.groupby("aubc").size().to_frame())


def test_show_leaves_out_row_numbers_and_writes_a_dash_for_missing_values(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    table = pd.DataFrame({"pool": ["random", "kmeans"], "aubc": [0.51234, float("nan")]})
    show(table, digits=2)
    show(table.set_index("pool"))
    plain, indexed = (styler.to_html() for styler in shown)
    assert "0.51" in plain and "0.5123" not in plain and "—" in plain and "nan" not in plain.lower()
    assert 'class="row_heading' not in plain and 'class="row_heading' in indexed and "random" in indexed

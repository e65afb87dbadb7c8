"""The docs stay true: docs/methods.md's "Adding a method of your own" example runs as written (a new pool and a
new query method in a study)."""

import re
from pathlib import Path

from alnb.methods.pools import base as pool_base
from alnb.methods.query import base as query_base

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_methods_doc_example_registers_and_runs_new_methods(tmp_path, monkeypatch, capsys):
    # the example registers into copies of the registries, so the other tests see the built-in methods only
    monkeypatch.setattr(pool_base, "POOL_FAMILIES", list(pool_base.POOL_FAMILIES))
    monkeypatch.setattr(query_base, "QUERY_METHODS", dict(query_base.QUERY_METHODS))
    section = (DOCS / "methods.md").read_text().split("## Adding a method of your own", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    code = code.replace('{"study": "my_methods",', f'{{"study": "my_methods", "run_dir": {str(tmp_path / "run")!r},')
    namespace = {}
    exec(compile(code, "docs/methods.md", "exec"), namespace)
    assert "farthest_first" in pool_base.pool_names() and "ratio" in query_base.QUERY_METHODS
    results = namespace["results"]
    assert set(zip(results["init"], results["query"])) == {
        (i, q) for i in ("random", "farthest_first") for q in ("margin", "ratio")
    }
    assert len(results) == 2 * 2 * 2 * 3 and results["n_labeled"].max() == 60
    assert "test_acc" in capsys.readouterr().out

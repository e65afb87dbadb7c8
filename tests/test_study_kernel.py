"""``alnb study`` runs its notebooks in one kernel: imports and trial workers carry over, the namespace does not."""

import json

import nbformat
import pytest

from alnb.core.config import NOTEBOOK_ENV
from alnb.report.kernel import StudyKernel
from alnb.report.render import execute_notebook

pytestmark = pytest.mark.slow  # a Jupyter kernel and spawned workers

PREAMBLE = """\
import json, os, sys
from alnb.core.config import NOTEBOOK_ENV
from alnb.run import executors
executors.run_jobs(os.getpid, [()] * 4, executors.Resources("processes", n_jobs=2, threads=1), progress=False)
seen = {"kernel": os.getpid(), "workers": sorted(executors._kept_pool[1]._processes), "notebook": os.environ[NOTEBOOK_ENV]}
"""
FIRST = PREAMBLE + "left_behind = 1\nprint(json.dumps(seen))\n"
SECOND = (
    PREAMBLE
    + """\
seen.update(left_behind="left_behind" in globals(), imported="alnb.run.executors" in sys.modules)
print(json.dumps(seen))
"""
)


def _run(tmp_path, kernel, name, code):
    source = tmp_path / f"{name}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), source)
    executed = tmp_path / "out" / f"{name}.ipynb"
    execute_notebook(source, executed, tmp_path / f"{name}.html", {}, tmp_path, {NOTEBOOK_ENV: name}, "", kernel)
    cell = nbformat.read(executed, as_version=4).cells[-1]
    printed = "".join(out["text"] for out in cell.outputs if out.get("name") == "stdout")
    lines = printed.strip().splitlines()
    assert len(lines) == 1, printed  # nothing but the cell's own output (no history or kernel message)
    return cell.execution_count, json.loads(lines[0])


def test_notebooks_share_the_kernel_and_its_workers_but_not_their_variables(tmp_path):
    with StudyKernel(tmp_path, {}) as kernel:
        count_first, first = _run(tmp_path, kernel, "first", FIRST)
        count_second, second = _run(tmp_path, kernel, "second", SECOND)
    assert count_first == count_second == 1  # each notebook's cells count from 1
    assert second["kernel"] == first["kernel"] and second["workers"] == first["workers"] and len(first["workers"]) == 2
    assert (first["notebook"], second["notebook"]) == ("first", "second")  # the notebook's own variables
    assert not second["left_behind"] and second["imported"]  # the namespace is new, the modules stay loaded

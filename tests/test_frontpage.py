import re

import numpy as np

from alnb.run.validation import params_from_dict
from alnb.report.frontpage import write_index
from test_verdict import _grid


def test_front_page_marks_the_oracle_in_every_table_and_figure(tmp_path):
    shift = np.linspace(-0.003, 0.003, 5)
    results = _grid({"kmeans_equal": list(0.04 + shift), "balanced_random": list(0.02 + shift)})
    params = params_from_dict({"study": "oracle_page", "run_dir": str(tmp_path / "run"),
                               "al": {"inits": ["random", "kmeans_equal", "balanced_random"],
                                      "queries": ["lc", "entropy"], "seeds": [0, 1, 2, 3, 4]}}, tmp_path)
    params.run_path.mkdir(parents=True)
    results.to_csv(params.run_path / "results.csv", index=False)
    page = write_index(params, tmp_path / "report", ()).read_text()
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert "balanced_random (oracle)" in cells and "balanced_random" not in cells
    penalty_svg = (tmp_path / "report" / "figures" / "index_penalty_matrix.svg").read_text()
    assert "(oracle)" in penalty_svg

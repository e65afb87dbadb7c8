import re

import numpy as np
from test_verdict import _grid

from alnb.report.frontpage import write_index
from alnb.run.validation import params_from_dict


def test_front_page_marks_the_oracle_in_every_table_and_figure(tmp_path):
    shift = np.linspace(-0.003, 0.003, 5)
    results = _grid({"kmeans_equal": list(0.04 + shift), "balanced_random": list(0.02 + shift)})
    params = params_from_dict(
        {
            "study": "oracle_page",
            "run_dir": str(tmp_path / "run"),
            "al": {
                "inits": ["random", "kmeans_equal", "balanced_random"],
                "queries": ["lc", "entropy"],
                "seeds": [0, 1, 2, 3, 4],
            },
        },
        tmp_path,
    )
    params.run_path.mkdir(parents=True)
    results.to_csv(params.run_path / "results.csv", index=False)
    page = write_index(params, tmp_path / "report", ()).read_text()
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert "balanced_random (oracle)" in cells and "balanced_random" not in cells
    penalty_svg = (tmp_path / "report" / "figures" / "index_penalty_matrix.svg").read_text()
    assert "(oracle)" in penalty_svg


def _text(page: str) -> str:
    """The page without its embedded images (base64 may spell anything)."""
    return re.sub(r'src="data:[^"]*"', "", page)


def test_front_page_states_the_primary_family_the_phases_and_question_3_without_nan(tmp_path):
    import pandas as pd
    from test_verdict import PRIMARY_GAINS

    results = _grid(PRIMARY_GAINS, queries=("random", "entropy"))  # question 3 reads the random query's trials
    params = params_from_dict(
        {
            "study": "primary_page",
            "run_dir": str(tmp_path / "run"),
            "al": {"inits": ["random", *PRIMARY_GAINS], "queries": ["random", "entropy"], "seeds": list(range(6))},
            "pretext": {"tasks": ["rotation", "simclr"]},
        },
        tmp_path,
    )
    params.run_path.mkdir(parents=True)
    results.to_csv(params.run_path / "results.csv", index=False)
    coverage = {"random": 0.8, "kmeans_equal": 1.0, "typiclust": 0.9, "rotation": 0.4, "balanced_random": 1.0}
    pd.DataFrame(
        [
            {
                "init": i,
                "seed": s,
                "size": 20,
                "n_classes": 10,
                "class_coverage": c,
                "class_entropy": c,
                "max_class_share": 0.85 if i == "rotation" else 0.2,
                "relative_density": 1.0 + 0.01 * s,
            }
            for i, c in coverage.items()
            for s in range(6)
        ]
    ).to_csv(params.run_path / "pool_quality.csv", index=False)
    page = write_index(params, tmp_path / "report", ()).read_text()
    text = _text(page)
    assert "nan" not in text.lower()
    for heading in (
        "Primary family: verdict per initial pool",
        "The cold start and the AL phase",
        "What the reader sees",
        "The seed study beside this one",
        "What makes a pool good (question 3)",
    ):
        assert heading in text
    assert "Holm over the 3 guided pools" in text and "detects a gain of" in text
    assert "Why a pool collapses" in text and "Where the oracle stands" in text and "not CIFAR-100" in text
    assert "1,348 training images" in text and "about 1,300" not in text  # digits' train split at test_size 0.25
    assert "uncorrected per-cycle 95% interval" in text and "where its advantage (or disadvantage) ends" not in text
    assert "pools in the within-type ρ" in re.findall(r"<th>([^<]*)</th>", page)
    assert "pool types" in text and "not causes" in text
    assert "Wilcoxon" not in text and "wilcoxon_p" not in text  # never shown: an empty column is left out
    headings = re.findall(r"<th>([^<]*)</th>", page)
    assert "ρ over types" in headings and "AUBC − random" in headings
    assert not [h for h in headings if "_" in h]  # no column shows its code name
    verdict_table, phase_table = (
        page.split(f"<h2>{h}</h2>")[1].split("</table>")[0]
        for h in ("Primary family: verdict per initial pool", "The cold start and the AL phase")
    )
    verdict_rows, phase_rows = (re.findall(r"<tr>\s*<td>([^<]*)</td>", table) for table in (verdict_table, phase_table))
    assert [r for r in verdict_rows if r != "random"] == phase_rows  # the phases follow the verdict table's rows


def test_readable_tables_show_a_dash_and_drop_empty_columns():
    import pandas as pd

    from alnb.analysis.readable import readable

    table = pd.DataFrame(
        {"a": [1.23456, float("nan")], "empty": [float("nan")] * 2, "n": pd.array([1, None], dtype="Int64")}
    )
    shown = readable(table, 2)
    assert list(shown.columns) == ["a", "n"]
    assert shown["a"].tolist() == [1.23, "—"] and shown["n"].tolist() == [1, "—"]


def test_readable_shows_tiny_p_values_as_a_bound_and_whole_labels_without_a_decimal():
    import pandas as pd

    from alnb.analysis.readable import readable

    table = pd.DataFrame(
        {
            "Holm p (primary)": [3e-7, 0.04321, float("nan")],
            "gain": [0.0, 0.5, 1.0],
            "interval first includes 0 at (labels)": [120.0, float("nan"), 70.0],
        }
    )
    shown = readable(table, 4)
    assert shown["Holm p (primary)"].tolist() == ["< 0.0001", 0.0432, "—"]
    assert shown["interval first includes 0 at (labels)"].tolist() == [120, "—", 70]
    assert str(shown["interval first includes 0 at (labels)"].iloc[0]) == "120"


def test_front_page_shows_the_provenance_of_its_trials(tmp_path):
    from alnb.run.store import RunStore

    params = params_from_dict({"study": "provenance_page", "run_dir": str(tmp_path / "run")}, tmp_path)
    params.run_path.mkdir(parents=True)
    assert "Provenance" not in write_index(params, tmp_path / "report", ()).read_text()
    record = {"git_commit": "a" * 40, "git_dirty": True, "alnb": "0.1.0", "python": "3.11.9", "torch": "2.14.1"}
    RunStore(params.run_path).check_protocol({"a": 1}, {**record, "device": "cpu"})
    page = write_index(params, tmp_path / "report", ()).read_text()
    assert "<h2>Provenance</h2>" in page and "commit aaaaaaaaaaaa (uncommitted changes)" in page
    assert "torch 2.14.1" in page and "numpy —" in page and "device cpu" in page

import numpy as np
import pandas as pd
import pytest

from alnb.analysis import verdict


def _grid(gains: dict[str, list[float]], queries=("lc", "entropy"), cycles=(0, 1, 2), noise=0.0, seed=0):
    """A results table: ``random`` plus one pool per ``gains`` entry (per-seed accuracy shift)."""
    rng = np.random.default_rng(seed)
    seeds = len(next(iter(gains.values())))
    rows = []
    for query in queries:
        for s in range(seeds):
            for cycle in cycles:
                base = 0.5 + 0.1 * cycle + 0.01 * s
                for init, shift in [("random", 0.0), *((i, g[s]) for i, g in gains.items())]:
                    rows.append({"dataset": "digits", "init": init, "query": query, "seed": s, "cycle": cycle,
                                 "n_labeled": 10 + 20 * cycle, "test_acc": base + shift + noise * rng.normal()})
    return pd.DataFrame(rows)


def test_penalty_matrix_on_a_hand_made_table():
    # "good" is 0.05 better than random at every seed and point, "bad" 0.05 worse; 6 seeds, small noise
    shift = np.linspace(-0.004, 0.004, 6)
    results = _grid({"good": list(0.05 + shift), "bad": list(-0.05 - shift)})
    matrix = verdict.penalty_matrix(results)
    assert list(matrix.index) == ["bad", "good", "random"]
    assert matrix.loc["good", "random"] == 1.0 and matrix.loc["good", "bad"] == 1.0
    assert matrix.loc["random", "bad"] == 1.0 and matrix.loc["random", "good"] == 0.0
    assert matrix.loc["bad"].sum() == 0.0 and np.all(np.diag(matrix) == 0)


def test_penalty_matrix_counts_only_significant_points():
    results = _grid({"same": [0.0] * 5})
    assert verdict.penalty_matrix(results).to_numpy().sum() == 0.0


def test_verdict_table_and_generated_answers():
    shift = np.linspace(-0.003, 0.003, 5)
    results = _grid({"kmeans_equal": list(0.04 + shift), "rotation": list(-0.03 + shift)})
    table = verdict.verdict_table(results).set_index("init")
    assert table.loc["kmeans_equal", "mean_gain"] == pytest.approx(0.04, abs=1e-9)
    assert table.loc["kmeans_equal", "ci_low"] > 0 and table.loc["kmeans_equal", "better"] == 2
    assert table.loc["rotation", "worse"] == 2 and table.loc["rotation", "kind"] == "self-supervised"
    assert table.loc["kmeans_equal", "kind"] == "guided"
    assert list(table["rank"]) == [1, 2, 3]  # kmeans_equal, random, rotation
    answers = verdict.answers(results)
    assert answers["q1"].startswith("Yes") and "kmeans_equal" in answers["q1"] and "5 seeds" in answers["q1"]
    assert "rotation" in answers["q2"] and "do significantly worse" in answers["q2"]
    assert "not answered" in answers["q3"]


def test_answers_say_not_shown_without_a_significant_gain():
    results = _grid({"kmeans_equal": [0.01, -0.01, 0.02]}, noise=0.001)
    assert verdict.answers(results)["q1"].startswith("Not shown")


def test_gain_curves_give_the_shift_per_cycle_with_bands():
    results = _grid({"kmeans_equal": [0.02, 0.03, 0.025, 0.02, 0.03]})
    curves = verdict.gain_curves(results)
    assert list(curves["cycle"]) == [0, 1, 2]
    assert curves["mean_gain"].to_numpy() == pytest.approx([0.025] * 3)
    assert (curves["ci_low"] < 0.025).all() and (curves["ci_high"] > 0.025).all()


def test_design_power_matches_the_formula():
    from scipy import stats

    results = _grid({"kmeans_equal": [0.0, 0.02, 0.04, 0.01, 0.03]})
    power = verdict.design_power(results)
    sd = np.std([0.0, 0.02, 0.04, 0.01, 0.03], ddof=1)
    assert power["seeds"] == 5 and power["paired_sd"] == pytest.approx(sd)
    assert power["min_detectable"] == pytest.approx((stats.t.ppf(0.975, 4) + stats.t.ppf(0.8, 4)) * sd / np.sqrt(5))


def test_quality_correlations_find_a_monotone_property():
    gains = {f"kmeans_{a}": [g] * 4 for a, g in (("equal", 0.05), ("prop", 0.02))}
    gains["rotation"] = [-0.03] * 4
    results = _grid(gains)
    quality = pd.DataFrame([{"init": i, "seed": s, "classes_covered": c, "class_entropy": 0.5}
                            for i, c in (("random", 8), ("kmeans_equal", 10), ("kmeans_prop", 9), ("rotation", 5))
                            for s in range(4)])
    corr = verdict.quality_correlations(quality, results).set_index("property")
    assert corr.loc["classes_covered", "spearman"] == pytest.approx(1.0)
    assert np.isnan(corr.loc["class_entropy", "spearman"])  # constant: undefined, not a fake number
    assert "classes covered" in verdict.answers(results, corr.reset_index())["q3"]


def test_compare_runs_on_two_synthetic_studies():
    mnist = _grid({"kmeans_equal": [0.05, 0.06, 0.04], "deepcluster_equal": [0.01, 0.0, 0.02]})
    tiny = _grid({"kmeans_equal": [0.01, 0.0, 0.02], "deepcluster_equal": [0.01, 0.0, 0.02]})
    table = verdict.compare_runs(mnist, tiny, ("mnist", "tinyimagenet")).set_index("init")
    assert set(table.index) == {"kmeans_equal", "deepcluster_equal"}
    assert table.loc["kmeans_equal", "difference"] > 0 and table.loc["kmeans_equal", "welch_p"] < 0.05
    assert table.loc["deepcluster_equal", "difference"] == pytest.approx(0.0, abs=1e-9)


def test_compare_runs_reads_two_run_directories(tmp_path):
    from alnb.run.store import RunStore, atomic_write_csv

    for name, shift in (("mnist", [0.05, 0.06, 0.04]), ("tiny", [0.0, 0.01, -0.01])):
        atomic_write_csv(_grid({"kmeans_prop": shift}).assign(dataset=name), tmp_path / name / "results.csv")
    a, b = RunStore(tmp_path / "mnist").results(), RunStore(tmp_path / "tiny").results()
    table = verdict.compare_runs(a, b, ("mnist", "tiny")).set_index("init")
    assert table.loc["kmeans_prop", "mnist_seeds"] == 3 and table.loc["kmeans_prop", "difference"] > 0.05

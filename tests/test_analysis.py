import numpy as np
import pandas as pd
import pytest

from alnb.analysis import curves, stats


def _results(diffs):
    rows = []
    for seed, d in enumerate(diffs):
        for cycle, n in enumerate([10, 20, 40]):
            base = 0.5 + 0.1 * cycle + 0.01 * seed
            for init, acc in [("random", base), ("guided", base + d)]:
                rows.append(
                    {
                        "dataset": "digits",
                        "init": init,
                        "query": "lc",
                        "seed": seed,
                        "cycle": cycle,
                        "n_labeled": n,
                        "test_acc": acc,
                    }
                )
    return pd.DataFrame(rows)


def test_aubc_trapezoid_normalised():
    res = _results([0.0])
    area = curves.aubc(res).set_index("init")["aubc"]
    # (0.5+0.6)/2*10 + (0.6+0.7)/2*20 = 5.5 + 13 = 18.5 over a range of 30
    assert area["random"] == pytest.approx(18.5 / 30)


def test_paired_comparison_detects_a_constant_gain():
    paired = curves.paired_comparison(_results([0.05, 0.04, 0.06, 0.05, 0.05, 0.07]))
    row = paired.iloc[0]
    assert row["init"] == "guided" and row["n_seeds"] == 6 and row["mean_diff"] == pytest.approx(0.05333, abs=1e-4)
    assert row["ci_low"] > 0 and row["t_p"] < 0.001 and row["guided_wins"] == 6 and row["wilcoxon_p"] < 0.05


def test_holm_step_down():
    assert np.allclose(stats.holm(np.array([0.01, 0.04, 0.03])), [0.03, 0.06, 0.06])


def test_holm_counts_a_degenerate_comparison_in_the_family():
    assert np.allclose(stats.holm(np.array([0.01, np.nan, 0.02, 0.04])), [0.04, 1.0, 0.06, 0.08])


def test_two_point_shift_on_every_seed_is_found_with_five_seeds():
    noise = np.random.default_rng(3).normal(0, 0.003, 5)
    row = curves.paired_comparison(_results(0.02 + noise)).iloc[0]
    assert row["mean_diff"] == pytest.approx(0.02, abs=0.003)
    assert row["ci_low"] < 0.02 < row["ci_high"] and row["ci_low"] > 0
    assert row["t_p"] < 0.05 and row["t_p_holm"] < 0.05


def test_identical_curves_give_zero_difference_and_a_defined_p_value():
    row = curves.paired_comparison(_results([0.0] * 5)).iloc[0]
    assert row["mean_diff"] == 0 and row["ci_low"] == 0 and row["ci_high"] == 0
    assert row["t_p"] == 1.0 and row["t_p_holm"] == 1.0


def test_constant_nonzero_difference_uses_the_exact_sign_test():
    row = curves.paired_comparison(_results([0.03] * 5)).iloc[0]
    assert row["t_p"] == pytest.approx(2 * 0.5**5)


def test_sub_studies_are_never_merged_into_one_curve():
    small = _results([0.0, 0.0, 0.0]).assign(initial_size=10)
    large = _results([0.0, 0.0, 0.0]).assign(initial_size=40)
    large["test_acc"] += 0.2
    both = pd.concat([small, large], ignore_index=True)
    area = curves.aubc(both)
    assert len(area) == 2 * len(curves.aubc(small))
    by_size = area[area["init"] == "random"].groupby("initial_size")["aubc"].mean()
    assert by_size[40] - by_size[10] == pytest.approx(0.2)
    table = curves.summary_table(both)
    assert len(table) == 4 and set(table["initial_size"]) == {10, 40}
    lc = curves.learning_curves(both)
    assert (lc["seeds"] == 3).all() and len(lc) == 2 * 2 * 3
    assert len(curves.paired_comparison(both)) == 2


def test_summary_table_and_curves():
    res = _results([0.05, 0.02, 0.03])
    table = curves.summary_table(res).set_index("init")
    assert table.loc["guided", "aubc_vs_random"] == pytest.approx(np.mean([0.05, 0.02, 0.03]))
    lc = curves.learning_curves(res)
    assert lc.loc[(lc["init"] == "random") & (lc["cycle"] == 0), "mean"].item() == pytest.approx(0.51)


def test_pool_overlap_jaccard():
    labeled = pd.DataFrame(
        {
            "dataset": "d",
            "query": "lc",
            "seed": 0,
            "init": ["random"] * 4 + ["guided"] * 4,
            "cycle": [0, 0, 1, 1] * 2,
            "index": [1, 2, 3, 4, 2, 5, 3, 6],
        }
    )
    ov = curves.pool_overlap(labeled).set_index("cycle")["jaccard"]
    assert ov[0] == pytest.approx(1 / 3) and ov[1] == pytest.approx(2 / 6)


def test_class_coverage():
    pools = pd.DataFrame({"init": "a", "seed": 0, "index": [0, 1, 2, 3]})
    cov = curves.class_coverage(pools, np.array([0, 0, 1, 1, 2]), 3).iloc[0]
    assert cov["class_coverage"] == pytest.approx(2 / 3) and cov["max_class_share"] == 0.5 and cov["size"] == 4
    assert cov["class_entropy"] == pytest.approx(np.log(2) / np.log(3))


def test_class_statistics_share_one_scale_with_the_labeled_set_balance():
    from alnb.analysis.class_stats import class_statistics
    from alnb.analysis.classes import labeled_class_balance

    stats_table = class_statistics(np.array([[5, 5, 0, 0], [10, 0, 0, 0], [1, 1, 1, 1]]))
    assert stats_table["class_coverage"].tolist() == pytest.approx([0.5, 0.25, 1.0])
    assert stats_table["class_entropy"].tolist() == pytest.approx([0.5, 0.0, 1.0])
    assert stats_table["max_class_share"].tolist() == pytest.approx([0.5, 1.0, 0.25])
    labels = np.array([0, 0, 1, 1, 2])
    pools = pd.DataFrame({"init": "a", "seed": 0, "index": [0, 2, 4]})
    balance = labeled_class_balance(pools.assign(cycle=0), labels, 3).iloc[0]
    cov = curves.class_coverage(pools, labels, 3).iloc[0]
    for column in ("class_coverage", "class_entropy", "max_class_share"):
        assert balance[column] == pytest.approx(cov[column])


def test_reports_show_the_same_readable_headings():
    from alnb.analysis.readable import readable

    table = curves.summary_table(_results([0.05, 0.04, 0.06, 0.05, 0.05, 0.07]))
    shown = readable(table.set_index("init"))
    assert {"AUBC mean", "95% CI low", "Holm p", "query method"} <= set(shown.columns)
    assert not {"aubc_mean", "t_p_holm", "ci_low"} & set(shown.columns) and shown.index.name == "initial pool"
    assert readable(table, p_holm="Holm p (primary)", t_p_holm="Holm p (table)")["Holm p (table)"].notna().all()


@pytest.mark.parametrize("height", [2.0, 8.0])
def test_a_figure_title_sits_on_its_panels_whatever_the_height(height):
    import matplotlib.pyplot as plt

    from alnb.analysis.plots import TITLE_PAD, finish_figure

    fig, axes = plt.subplots(1, 2, figsize=(6, height))
    for ax in axes:
        ax.set_title("panel")
        ax.plot([0, 1], [0, 1])
    finish_figure(fig, "test", "A title")
    renderer = fig.canvas.get_renderer()
    title_bottom = fig._suptitle.get_window_extent(renderer).y0
    panels_top = max(ax.get_tightbbox(renderer).y1 for ax in axes)
    assert (title_bottom - panels_top) / fig.dpi == pytest.approx(TITLE_PAD, abs=0.02)  # not 0.26 in at 2 in
    plt.close(fig)


def test_a_sub_study_family_holds_only_the_pools_it_names():
    from alnb.analysis.conclusions import family_conclusion

    base = _results([0.05, 0.04, 0.06, 0.05, 0.05, 0.07])
    prop = base[base["init"] == "guided"].assign(init="kmeans_prop")
    other = base[base["init"] == "guided"].assign(init="kmeans_simclr_equal")
    rows = pd.concat([base.assign(init=base["init"].replace("guided", "kmeans_equal")), prop, other])
    said = family_conclusion(rows, "Proportional against equal", "kmeans_equal", inits=["kmeans_equal", "kmeans_prop"])
    assert "Holm over the 1 comparisons with kmeans_equal" in said and "kmeans_simclr" not in said


def test_a_single_panel_figure_shows_its_title_once():
    import matplotlib.pyplot as plt

    from alnb.analysis import plots

    table = pd.DataFrame({"x": [10, 40, 10, 40], "y": [0.8, 0.9, 0.7, 0.85], "std": 0.01, "init": ["a", "a", "b", "b"]})
    fig = plots.metric_by(table, x="x", y="y", hue="init", title="size ablation")
    titles = [fig._suptitle.get_text() if fig._suptitle else ""] + [ax.get_title() for ax in fig.axes]
    assert titles.count("size ablation") == 1
    plt.close(fig)

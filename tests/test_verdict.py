import numpy as np
import pandas as pd
import pytest

from alnb.analysis import answers, verdict
from alnb.analysis.stats import detectable_difference, holm_levels, seeds_needed


def _said(results: pd.DataFrame, quality: pd.DataFrame | None = None) -> dict[str, str]:
    """The three answers in words, from the study's one verdict."""
    return answers.answers(verdict.compute_verdict(results, quality))


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
                    rows.append(
                        {
                            "dataset": "digits",
                            "init": init,
                            "query": query,
                            "seed": s,
                            "cycle": cycle,
                            "n_labeled": 10 + 20 * cycle,
                            "test_acc": base + shift + noise * rng.normal(),
                        }
                    )
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


def _phase_grid(gains: dict[str, np.ndarray], queries=("lc", "entropy")):
    """A results table: ``random`` plus one pool per ``gains`` entry, ``gains[init][seed, cycle]`` the shift
    of its test accuracy over random (the same for every query method); 10 + 20·cycle labels."""
    seeds, cycles = next(iter(gains.values())).shape
    rows = []
    for query in queries:
        for s in range(seeds):
            for cycle in range(cycles):
                base = 0.5 + 0.1 * cycle + 0.01 * s
                for init, shift in [("random", 0.0), *((i, g[s, cycle]) for i, g in gains.items())]:
                    rows.append(
                        {
                            "dataset": "digits",
                            "init": init,
                            "query": query,
                            "seed": s,
                            "cycle": cycle,
                            "n_labeled": 10 + 20 * cycle,
                            "test_acc": base + shift,
                        }
                    )
    return pd.DataFrame(rows)


# per-seed pool-level AUBC gains of three guided pools and an oracle, 6 seeds (constant over cycles)
PRIMARY_GAINS = {
    "kmeans_equal": [0.030, 0.041, 0.025, 0.036, 0.029, 0.033],
    "typiclust": [0.004, -0.010, 0.012, 0.001, -0.006, 0.008],
    "rotation": [-0.020, -0.031, -0.012, -0.026, -0.018, -0.024],
    "balanced_random": [0.060, 0.052, 0.071, 0.064, 0.058, 0.069],
}


def test_primary_family_is_holm_over_the_guided_pools_only_with_its_power():
    from scipy import stats

    results = _grid(PRIMARY_GAINS)
    family = verdict.primary_family(results).set_index("init")
    assert sorted(family.index) == ["kmeans_equal", "rotation", "typiclust"]  # no oracle, no random
    p = {i: stats.ttest_1samp(PRIMARY_GAINS[i], 0.0).pvalue for i in family.index}
    order = sorted(p, key=p.get)  # Holm by hand over the 3 guided pools: 3·p1, max(…, 2·p2), max(…, p3)
    expected = {order[0]: 3 * p[order[0]]}
    expected[order[1]] = max(expected[order[0]], 2 * p[order[1]])
    expected[order[2]] = max(expected[order[1]], p[order[2]])
    for init in family.index:
        assert family.loc[init, "p_holm"] == pytest.approx(min(1.0, expected[init]))
        assert family.loc[init, "mean_diff"] == pytest.approx(np.mean(PRIMARY_GAINS[init]))
    assert family.loc[order[0], "level"] == pytest.approx(0.05 / 3)
    assert family.loc[order[2], "level"] == pytest.approx(0.05)
    assert family.loc["kmeans_equal", "outcome"] == "better" and family.loc["rotation", "outcome"] == "worse"
    assert family.loc["typiclust", "outcome"] == "could not tell"
    # the detectable difference: the noncentral t (df 5) exceeds the critical value with probability 0.8
    row = family.loc["typiclust"]
    sd, level = np.std(PRIMARY_GAINS["typiclust"], ddof=1), row["level"]
    critical = stats.t.ppf(1 - level / 2, 5)
    nc = row["detectable"] * np.sqrt(6) / sd
    assert stats.nct.sf(critical, 5, nc) + stats.nct.cdf(-critical, 5, nc) == pytest.approx(0.8, abs=1e-6)
    power = verdict.compute_verdict(results).power
    pooled = np.sqrt(np.mean([np.var(PRIMARY_GAINS[i], ddof=1) for i in family.index]))
    assert power["tests"] == 3 and power["seeds"] == 6 and power["paired_sd"] == pytest.approx(pooled)
    assert power["level"] == pytest.approx(0.05 / 3)
    assert power["detectable"] == pytest.approx(detectable_difference(pooled, 6, 0.05 / 3))
    # secondary: one test per (guided pool, query method), Holm over those 6 only
    secondary = verdict.secondary_family(results)
    assert len(secondary) == 6 and set(secondary["init"]) == {"kmeans_equal", "rotation", "typiclust"}
    assert secondary["level"].min() == pytest.approx(0.05 / 6)


def test_verdicts_and_sentences_claim_only_what_the_corrected_tests_allow():
    results = _grid(PRIMARY_GAINS)
    table = verdict.compute_verdict(results).table.set_index("init")
    assert table.loc["kmeans_equal", "outcome"] == "better" and table.loc["kmeans_equal", "better"] == 2
    assert table.loc["rotation", "worse"] == 2 and table.loc["rotation", "kind"] == "self-supervised"
    assert table.loc["balanced_random", "outcome"] == "reference (oracle)"
    assert np.isnan(table.loc["balanced_random", "p_holm"])  # the oracle gets no verdict
    q = _said(results)
    assert q["q1"].startswith("Yes") and "Holm over the 3 guided pools" in q["q1"] and "6 seeds" in q["q1"]
    assert "The best, by the lower end of its interval at its Holm level, is kmeans_equal" in q["q1"]
    assert "could not tell (typiclust" in q["q1"] and "could have detected gains of" in q["q1"]
    assert "rotation" in q["q2"] and "1 of 2 is worse" in q["q2"] and "No pool is named the best" in q["q2"]
    assert "not answered" in q["q3"]


def test_no_best_is_named_without_a_significant_gain():
    results = _grid({"kmeans_equal": [0.01, -0.01, 0.02]}, noise=0.001)
    q1 = _said(results)["q1"]
    assert q1.startswith("Not shown") and "No pool is named the best" in q1 and "could not tell" in q1


def test_cold_start_and_al_phase_gains_have_known_answers():
    # gains by cycle (0..3): 0.06, 0.02, 0.00, 0.00, each with a seed-symmetric wobble; 5 seeds
    wobble = np.array([-0.002, -0.001, 0.0, 0.001, 0.002])[:, None]
    gains = np.array([0.06, 0.02, 0.0, 0.0])[None, :] + wobble
    results = _phase_grid({"kmeans_equal": gains})
    phase = verdict.phase_table(results).set_index("init").loc["kmeans_equal"]
    assert phase["cycle0_gain"] == pytest.approx(0.06)
    # AL phase: cycles 1..3 at 30, 50, 70 labels: (0.02/2 + 0 + 0/2) · 20 / 40 = 0.005
    assert phase["al_phase_gain"] == pytest.approx(0.005)
    # full AUBC over 10..70: (0.06/2 + 0.02 + 0 + 0/2) · 20 / 60 = 1/60; its first trapezoid holds 0.06/2 · 20/60
    assert phase["aubc_gain"] == pytest.approx(0.05 / 3)
    assert phase["aubc_from_cycle0"] == pytest.approx(0.01)
    assert phase["aubc_after_cycle0"] == pytest.approx(0.05 / 3 - 0.01)
    assert phase["advantage_ends_at"] == 50  # the first cycle whose interval includes 0 (cycle 2)
    assert phase["cycle0_low"] > 0 and phase["al_phase_low"] > 0
    curves = verdict.gain_curves(results)
    assert verdict.advantage_ends(curves)["kmeans_equal"] == 50
    q1 = _said(results)["q1"]
    assert "gains +0.060 at cycle 0" in q1 and "+0.005 over the AL phase" in q1 and "includes 0 at 50 labels" in q1


def test_penalty_matrix_counts_cycle_zero_once():
    # "early" beats random only at cycle 0; 2 query methods × 3 cycles: cycle 0 is 1 point, cycles 1-2 are 4
    wobble = np.linspace(-0.002, 0.002, 6)[:, None]
    results = _phase_grid({"early": np.array([0.05, 0.0, 0.0])[None, :] + wobble * np.array([1, 0, 0])})
    matrix = verdict.penalty_matrix(results)
    assert matrix.loc["early", "random"] == pytest.approx(1 / 5)


def test_design_power_matches_the_noncentral_t():
    results = _grid({"kmeans_equal": [0.0, 0.02, 0.04, 0.01, 0.03]})
    power = verdict.compute_verdict(results).power
    sd = np.std([0.0, 0.02, 0.04, 0.01, 0.03], ddof=1)
    assert power["seeds"] == 5 and power["tests"] == 1 and power["paired_sd"] == pytest.approx(sd)
    assert power["detectable"] == pytest.approx(detectable_difference(sd, 5, 0.05))


def test_detectable_difference_by_the_noncentral_t():
    from scipy import stats

    # close to the normal-approximation formula at α = 0.05, and 4.9 SDs at α/54 with 5 seeds (README, "The statistics")
    approx = (stats.t.ppf(0.975, 4) + stats.t.ppf(0.8, 4)) / np.sqrt(5)
    assert detectable_difference(1.0, 5) == pytest.approx(approx, rel=0.03)
    assert detectable_difference(1.0, 5, 0.05 / 54) == pytest.approx(4.87, abs=0.01)
    assert detectable_difference(0.023, 5, 0.05 / 8) == pytest.approx(0.068, abs=0.001)
    assert seeds_needed(0.02, 0.023, 0.05 / 4) == 18
    assert detectable_difference(0.023, 18, 0.05 / 4) <= 0.02 < detectable_difference(0.023, 17, 0.05 / 4)
    assert holm_levels(np.array([0.04, 0.001, 0.2])) == pytest.approx([0.025, 0.05 / 3, 0.05])


def test_quality_correlations_are_over_pool_types():
    # 4 pool types × 4 seeds: the type means of coverage follow the AL-phase gain; within a type they do not
    gains = {
        "kmeans_equal": [0.05, 0.06, 0.04, 0.05],
        "kmeans_prop": [0.02, 0.03, 0.01, 0.02],
        "rotation": [-0.03, -0.02, -0.04, -0.03],
    }
    results = _grid(gains)
    coverage = {"random": 0.8, "kmeans_equal": 1.0, "kmeans_prop": 0.9, "rotation": 0.5}
    within = [0.02, 0.0, 0.0, -0.02]  # orthogonal to the gain's deviations from its type mean (0, +, −, 0)
    quality = pd.DataFrame(
        [
            {"init": i, "seed": s, "class_coverage": c + within[s], "class_entropy": 0.5}
            for i, c in coverage.items()
            for s in range(4)
        ]
    )
    corr = verdict.quality_correlations(quality, results).set_index("property")
    row = corr.loc["class_coverage"]
    assert row["pool_types"] == 4 and row["rho_over_types"] == pytest.approx(1.0)
    assert row["ci_low"] <= row["ci_high"] <= 1.0
    assert row["rho_within_type"] == pytest.approx(0.0, abs=1e-12)
    assert row["permutation_p"] == pytest.approx(2 / 24)  # exact: 2 of the 4! orderings reach |ρ| = 1
    assert np.isnan(corr.loc["class_entropy", "rho_over_types"])  # constant: undefined, not a fake number
    assert corr.loc["cycle0_acc", "role"] == "consequence"
    q3 = _said(results, quality)["q3"]
    assert "4 pool types" in q3 and "class coverage" in q3 and "not causes" in q3 and "Cycle-0 accuracy" in q3


def test_explanations_of_collapse_oracle_and_the_seed_study():
    results = _grid(PRIMARY_GAINS)
    quality = pd.DataFrame(
        [
            {"init": i, "seed": s, "size": 20, "n_classes": 10, "class_coverage": c / 10, "max_class_share": m / 20}
            for i, c, m in (("random", 8, 4), ("kmeans_equal", 10, 2), ("rotation", 4, 17), ("typiclust", 9, 3))
            for s in range(6)
        ]
    )
    found = verdict.compute_verdict(results, quality, dataset="digits", train_images=1347)
    collapse = answers.collapse_sentence(found)
    assert collapse.startswith("Why a pool collapses")
    assert "rotation takes 17 of its 20 images from one class and covers 4 of 10 classes" in collapse
    assert "a random pool covers 8 of 10" in collapse and "kmeans_equal" not in collapse
    oracle = answers.oracle_sentence(found)
    assert oracle.startswith("Where the oracle stands: balanced_random") and "fall below it" in oracle
    paragraph = answers.seed_study_paragraph(found)
    assert "1 of 3 guided pools are better than random after Holm" in paragraph and "differs" in paragraph
    assert "digits" in paragraph and "not CIFAR-100" in paragraph and "1,347 training images" in paragraph


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


def test_no_best_is_named_when_it_does_not_beat_the_runner_up():
    # two pools clearly better than random whose per-seed gains differ only by ±0.001: no test separates them
    first = [0.030, 0.041, 0.025, 0.036, 0.029, 0.033]
    second = [g + d for g, d in zip(first, [0.001, -0.001, 0.001, -0.001, 0.001, -0.002])]
    q1 = _said(_grid({"maxherding": first, "typiclust": second}))["q1"]
    assert "2 of 2 are better than random" in q1
    assert "No pool is named the best" in q1 and "cannot be told apart from the runner-up" in q1
    assert "The best, by" not in q1


WOBBLE = np.linspace(-0.002, 0.002, 6)


def _cold_start_gains() -> dict:
    """Two pools, 6 seeds: about +0.2 at cycle 0, then gains of either sign that average 0 over the AL phase."""
    signs = np.array([1, -1, 1, -1, 1, -1])[:, None] * np.array([0.01, -0.01, 0.005])[None, :]
    return {
        "kmeans_equal": np.column_stack([0.2 + WOBBLE, signs]),
        "typiclust": np.column_stack([0.18 + WOBBLE, -signs]),
    }


def test_a_gain_made_at_cycle_zero_is_called_a_cold_start_effect_first():
    q1 = _said(_phase_grid(_cold_start_gains()))["q1"]
    first_sentence = q1.split(". ")[0]
    assert first_sentence.startswith("Yes, but as a cold-start effect: 2 of 2 guided pools beat random")
    assert "of each of their gains is the cycle-0 segment" in q1 and "no guided pool is better after Holm" in q1


def test_a_pool_worse_over_the_al_phase_does_not_hide_the_cold_start_headline():
    # as on the default study: the better pools gain at cycle 0 only, while a third pool (vae) is significantly
    # worse over the AL phase too; that pool keeps nothing, so the headline still calls it a cold-start effect
    gains = {
        **_cold_start_gains(),
        "vae": np.column_stack([-0.1 + WOBBLE, np.full((6, 3), -0.04) + WOBBLE[:, None]]),
    }
    said = _said(_phase_grid(gains))
    assert said["q1"].split(". ")[0].startswith("Yes, but as a cold-start effect: 2 of 3 guided pools beat random")
    # question 2 asks the same of its self-supervised pools (typiclust and vae here), in its own first sentence
    assert (
        said["q2"].startswith(
            "Yes, but as a cold-start effect: 1 of 2 self-supervised pools beats random over the AUBC"
        )
        and "no self-supervised pool is better after Holm over the 3 guided pools" in said["q2"]
    )


def test_question_2_names_the_family_its_numbers_come_from_and_what_it_isolates():
    q2 = _said(_grid(PRIMARY_GAINS))["q2"]  # typiclust and rotation: 2 self-supervised pools of 3, 2 queries
    assert "Holm over all 6 guided pool × query tests, of which these are 4" in q2
    assert "It does not isolate self-supervision" in q2


def test_question_3_corrects_over_properties_and_never_reads_a_collapsed_interval():
    # 3 pool types whose every property rises with the gain: a tie at |ρ| = 1, and a bootstrap over 3 types
    # whose resamples that have a ρ all give +1 (the interval collapses onto ρ)
    gains = {"kmeans_equal": [0.05, 0.06, 0.04, 0.05], "rotation": [-0.03, -0.02, -0.04, -0.03]}
    level = {"random": 0.8, "kmeans_equal": 1.0, "rotation": 0.5}
    quality = pd.DataFrame(
        [
            {"init": i, "seed": s, "class_coverage": c, "class_entropy": c / 2 + 0.01 * s}
            for i, c in level.items()
            for s in range(4)
        ]
    )
    results = _grid(gains)
    found = verdict.compute_verdict(results, quality)
    corr = found.correlations.set_index("property")
    tested = corr[corr["role"] == "property"]
    assert list(tested["permutation_p_holm"]) == pytest.approx(list(np.minimum(1, 2 * tested["permutation_p"])))
    assert (corr["pools"] == 12).all() and (corr["within_pools"] == 8).all()  # random's gain is 0 on every seed
    row = corr.loc["class_coverage"]
    assert row["ci_low"] == row["ci_high"] == pytest.approx(1.0)
    q3 = answers.answers(found)["q3"]
    assert "interval excludes 0" not in q3 and "has collapsed onto ρ" in q3
    assert "a tie at |ρ| = 1.00" in q3 and "most closely" not in q3
    assert "after Holm over the 2 properties tested" in q3


def test_library_statistics_give_the_numbers_of_the_hand_written_ones():
    from scipy import stats
    from statsmodels.stats.power import TTestPower

    from alnb.analysis.stats import correlation_over_groups

    # the bootstrap: scipy's paired resampling draws the same indices as rng.integers did; percentile interval
    x, y = np.array([0.1, 0.4, 0.3, 0.9, 0.7]), np.array([0.0, 0.2, 0.5, 0.6, 0.65])
    rng = np.random.default_rng(0)
    by_hand = []
    for i in rng.integers(0, 5, (2000, 5)):
        by_hand.append(stats.spearmanr(x[i], y[i]).statistic if np.ptp(x[i]) and np.ptp(y[i]) else np.nan)
    result = correlation_over_groups(x, y, np.arange(5))
    assert [result["between_low"], result["between_high"]] == pytest.approx(np.nanpercentile(by_hand, [2.5, 97.5]))
    # the permutation test: exact over the 5! orderings, as counted by hand
    import itertools

    rho = stats.spearmanr(x, y).statistic
    hits = [abs(stats.spearmanr(x, y[list(o)]).statistic) >= abs(rho) - 1e-12 for o in itertools.permutations(range(5))]
    assert result["between_p"] == pytest.approx(np.mean(hits))
    # the power: where statsmodels' TTestPower is defined it gives the same detectable difference
    effect = TTestPower().solve_power(nobs=22, alpha=0.05 / 4, power=0.8)
    assert detectable_difference(0.023, 22, 0.05 / 4) == pytest.approx(effect * 0.023, rel=1e-6)

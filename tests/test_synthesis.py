"""The replication's synthesis: DerSimonian–Laird pooling checked against the formulas worked by hand, the τ² < 0
trap of statsmodels truncated, the inputs equal to the front page's per-seed pool-level gains, Holm and the words."""

import numpy as np
import pandas as pd
import pytest

from alnb.analysis import synthesis, verdict


def _by_hand(y, se):
    """DerSimonian and Laird (1986), written out: weights 1/v, Q about the fixed-effect mean, τ² = max(0, ·)."""
    y, v = np.asarray(y, float), np.asarray(se, float) ** 2
    w = 1 / v
    fixed = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - fixed) ** 2)
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    tau2 = max(0.0, (q - (len(y) - 1)) / c)
    w_star = 1 / (v + tau2)
    estimate = np.sum(w_star * y) / np.sum(w_star)
    return estimate, np.sqrt(1 / np.sum(w_star)), tau2, q


def test_pooled_estimate_tau2_and_q_match_the_formulas_worked_by_hand():
    y, se = [0.10, 0.30, 0.20], [0.01, 0.02, 0.015]
    estimate, error, tau2, q = _by_hand(y, se)
    # the same numbers once more, as fixed decimals: weights 10000, 2500, 4444.4
    assert q == pytest.approx(91.8033, abs=1e-4) and tau2 == pytest.approx(0.0094448, abs=1e-7)
    out = synthesis.random_effects(np.array(y), np.array(se))
    assert out["k"] == 3
    assert out["estimate"] == pytest.approx(estimate, rel=1e-9)
    assert out["tau2"] == pytest.approx(tau2, rel=1e-9)
    assert out["q"] == pytest.approx(q, rel=1e-9)
    assert out["q_p"] == pytest.approx(np.exp(-q / 2), rel=1e-9)  # χ² with 2 df: sf(q) = exp(−q/2)
    assert out["i2"] == pytest.approx((q - 2) / q, rel=1e-9)
    assert out["ci_low"] == pytest.approx(estimate - 1.959964 * error, abs=1e-6)
    assert out["ci_high"] == pytest.approx(estimate + 1.959964 * error, abs=1e-6)


def test_q_below_k_minus_1_truncates_tau2_at_zero_and_gives_the_fixed_effect_estimate():
    """statsmodels 0.15 returns τ² < 0, I² < 0, a shifted estimate and NaN intervals here."""
    y, se = [0.10, 0.12, 0.11], [0.01, 0.02, 0.015]
    estimate, error, tau2, q = _by_hand(y, se)
    assert q < 2 and tau2 == 0.0
    out = synthesis.random_effects(np.array(y), np.array(se))
    assert out["tau2"] == 0.0 and out["i2"] == 0.0
    assert out["q"] == pytest.approx(q, rel=1e-9) and out["q"] == pytest.approx(0.918033, abs=1e-6)
    assert out["estimate"] == pytest.approx(estimate, rel=1e-9) and out["estimate"] == pytest.approx(0.105574, abs=1e-6)
    assert np.isfinite([out["ci_low"], out["ci_high"]]).all()
    assert out["ci_high"] - out["ci_low"] == pytest.approx(2 * 1.959964 * error, abs=1e-6)


def test_one_study_passes_through_and_bad_errors_are_refused():
    out = synthesis.random_effects(np.array([0.05]), np.array([0.01]))
    assert out["estimate"] == 0.05 and np.isnan(out["tau2"]) and np.isnan(out["q"])
    with pytest.raises(ValueError, match="positive, finite standard error"):
        synthesis.random_effects(np.array([0.05, 0.02]), np.array([0.01, 0.0]))


def _results(shift: dict[str, list[float]], seeds: int = 4, queries=("random", "entropy"), noise=0.0, rng=0):
    """A results table: random plus pools whose test accuracy is shifted by ``shift[pool][cycle]``, plus noise."""
    gen = np.random.default_rng(rng)
    rows = []
    for query in queries:
        for s in range(seeds):
            for cycle in range(3):
                for init, g in [("random", [0.0] * 3), *shift.items()]:
                    rows.append(
                        {
                            "dataset": "mnist",
                            "init": init,
                            "query": query,
                            "seed": s,
                            "cycle": cycle,
                            "n_labeled": 20 + 30 * cycle,
                            "test_acc": 0.5 + 0.1 * cycle + g[cycle] + noise * gen.standard_normal(),
                        }
                    )
    return pd.DataFrame(rows)


def test_inputs_are_the_front_pages_per_seed_pool_level_gains():
    results = _results({"kmeans_equal": [0.05, 0.02, 0.01], "balanced_random": [0.1, 0.05, 0.0]}, noise=0.01)
    inputs = synthesis.study_gains(results, "mnist_plan", "mnist", "plan")
    assert list(inputs.columns) == synthesis.INPUT_COLUMNS
    for phase, metric in synthesis.PHASES.items():
        per_seed = verdict.seed_gains(results, "random", metric)
        expected = per_seed[per_seed["init"] == "kmeans_equal"]["gain"]
        row = inputs[(inputs["pool"] == "kmeans_equal") & (inputs["phase"] == phase)].iloc[0]
        assert row["gain"] == pytest.approx(expected.mean())
        assert row["se"] == pytest.approx(expected.std(ddof=1) / 2) and row["n_seeds"] == 4


def test_holm_within_regime_and_phase_and_the_hypothesis_in_words():
    studies = []
    for i, dataset in enumerate(("digits", "mnist", "cifar10")):
        results = _results(
            {
                "kmeans_equal": [0.08, 0.01, 0.005],  # a large cold-start gain that shrinks
                "typiclust": [0.0, 0.0, 0.0],
                "balanced_random": [0.1, 0.02, 0.0],
            },
            seeds=6,
            noise=0.005,
            rng=i,
        )
        studies.append(synthesis.study_gains(results, f"{dataset}_plan", dataset, "plan"))
    table = synthesis.pool_gains(pd.concat(studies, ignore_index=True))
    assert list(table.columns) == synthesis.SYNTHESIS_COLUMNS
    assert set(table["k"]) == {3} and table["i2"].between(0, 1).all() and (table["tau2"] >= 0).all()
    oracle = table[table["pool"] == "balanced_random"]
    assert (oracle["verdict"] == "reference").all() and oracle["holm_p"].isna().all()
    aubc = table[table["phase"] == "aubc"].set_index("pool")
    assert aubc.loc["kmeans_equal", "verdict"] == "better"
    p = aubc.loc[["kmeans_equal", "typiclust"], "p"].sort_values()
    assert aubc.loc[p.index[0], "holm_p"] == pytest.approx(min(1.0, 2 * p.iloc[0]))  # Holm over the 2 guided pools
    words = synthesis.hypothesis_verdicts(table).set_index("regime").loc["plan"]
    assert words["verdict"] == "confirmed" and words["pool"] == "kmeans_equal"
    assert words["sentence"].startswith("Confirmed in the plan regime: kmeans_equal beats random")


def test_no_gain_cannot_be_told():
    studies = [
        synthesis.study_gains(_results({"typiclust": [0.0] * 3}, noise=0.01, rng=i), f"s{i}", f"d{i}", "low")
        for i in range(2)
    ]
    table = synthesis.pool_gains(pd.concat(studies, ignore_index=True))
    words = synthesis.hypothesis_verdicts(table).iloc[0]
    assert words["verdict"] == "could not tell" and "no guided pool beats random" in words["sentence"]

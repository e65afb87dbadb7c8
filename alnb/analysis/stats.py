"""Statistics of seed-paired comparisons, with every degenerate case defined (../shared/METHODS.md).

- ``paired_test``: mean difference, 95% t-interval, paired t-test and Wilcoxon signed-rank test.
- ``holm``: Holm's (1979) step-down correction; every comparison counts in the family.
- ``min_detectable_difference``: the smallest mean difference a paired t-test detects at 80% power.
- ``spearman_with_bootstrap``: Spearman's ρ with a percentile bootstrap interval over seeds.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

ALPHA = 0.05
SPREAD_TOLERANCE = 1e-12  # below this a spread of accuracy differences is floating-point rounding


def degenerate_p_value(d: np.ndarray) -> float:
    """The p-value of a comparison whose t-statistic is undefined (fewer than 2 seeds, or zero spread).

    No difference at all (every d = 0) or fewer than 2 seeds: 1. A constant non-zero difference on all
    n seeds: the exact two-sided sign-test p-value 2 · 2^-n, which needs no spread (5 seeds: 0.0625).
    """
    d = np.asarray(d, dtype=float)
    if len(d) < 2 or np.all(np.abs(d) <= SPREAD_TOLERANCE):
        return 1.0
    return float(min(1.0, 2.0 * 0.5 ** len(d)))


def paired_test(d: np.ndarray) -> dict:
    """Seed-paired differences ``d``: n, mean, sd, 95% t-interval, t-test p and Wilcoxon p (n ≥ 6).

    The t-test p-value is always defined (``degenerate_p_value`` where t is not); Wilcoxon's is NaN
    below 6 seeds, where it cannot reach significance.
    """
    d = np.asarray(d, dtype=float)
    n = len(d)
    mean = float(d.mean()) if n else float("nan")
    sd = float(d.std(ddof=1)) if n > 1 else float("nan")
    if n > 1 and sd > SPREAD_TOLERANCE:
        half = float(stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n))
        t_p = float(stats.ttest_1samp(d, 0.0).pvalue)
    else:
        half = 0.0 if n > 1 else float("nan")
        t_p = degenerate_p_value(d)
    nonzero = np.any(np.abs(d) > SPREAD_TOLERANCE)
    w_p = float(stats.wilcoxon(d).pvalue) if n >= 6 and nonzero else (1.0 if n >= 6 else float("nan"))
    return {"n_seeds": n, "mean_diff": mean, "sd_diff": sd, "ci_low": mean - half, "ci_high": mean + half,
            "t_p": t_p, "wilcoxon_p": w_p}


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979) over the whole family.

    A missing p-value (NaN) still counts as a comparison made: it enters the family as p = 1, so the
    others are corrected for every test, never for fewer.
    """
    p = np.nan_to_num(np.asarray(p_values, dtype=float), nan=1.0)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def min_detectable_difference(sd: float, n: int, power: float = 0.8, alpha: float = ALPHA) -> float:
    """≈ (t_{1−α/2, n−1} + t_{power, n−1}) · sd / √n: the smallest mean paired difference a two-sided
    paired t-test detects with ``power`` (NaN below 2 seeds)."""
    if n < 2 or not np.isfinite(sd):
        return float("nan")
    return float((stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)) * sd / np.sqrt(n))


def spearman_with_bootstrap(x: np.ndarray, y: np.ndarray, groups: np.ndarray, n_boot: int = 1000,
                            seed: int = 0) -> tuple[float, float, float]:
    """Spearman's ρ of (x, y) and a 95% percentile interval from resampling whole ``groups`` (seeds).

    Resampling seeds, not points, keeps the pools of one seed together. NaN where ρ is undefined.
    """
    x, y, groups = np.asarray(x, float), np.asarray(y, float), np.asarray(groups)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan"), float("nan")
    rho = float(stats.spearmanr(x, y).statistic)
    labels = np.unique(groups)
    members = [np.flatnonzero(groups == g) for g in labels]
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        idx = np.concatenate([members[i] for i in rng.integers(0, len(labels), len(labels))])
        if np.ptp(x[idx]) > 0 and np.ptp(y[idx]) > 0:
            draws.append(stats.spearmanr(x[idx], y[idx]).statistic)
    if not draws:
        return rho, float("nan"), float("nan")
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return rho, float(low), float(high)

"""Statistics of seed-paired comparisons, with every degenerate case defined.

- ``paired_test``: mean difference, 95% t-interval, paired t-test and Wilcoxon signed-rank test.
- ``holm``: Holm's (1979) step-down correction (statsmodels); every comparison counts in the family.
- ``holm_levels``: the level at which Holm's procedure runs each test (α/m for the smallest p, ...).
- ``detectable_difference``, ``seeds_needed``: the smallest mean difference a two-sided paired t-test detects
  with 80% power at a given level (scipy's noncentral t), and the seeds a difference needs.
- ``correlation_over_groups``: Spearman's ρ over group means (pool types) with a bootstrap over groups and a
  permutation test (scipy), and the within-group correlation (deviations from each group's mean, pooled).

Library routines throughout; what is written here is only what they leave undefined (docs/statistics.md).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests

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
    return {
        "n_seeds": n,
        "mean_diff": mean,
        "sd_diff": sd,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "t_p": t_p,
        "wilcoxon_p": w_p,
    }


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979) over the whole family (statsmodels' ``multipletests``).

    A missing p-value (NaN) still counts as a comparison made: it enters the family as p = 1, so the
    others are corrected for every test, never for fewer.
    """
    p = np.nan_to_num(np.asarray(p_values, dtype=float), nan=1.0)
    if not len(p):
        return p
    return multipletests(p, alpha=ALPHA, method="holm")[1]


def holm_levels(p_values: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """The level each test is run at by Holm's step-down procedure: α/m for the smallest p-value,
    α/(m − 1) for the next, ..., α for the largest (a missing p-value counts as 1)."""
    p = np.nan_to_num(np.asarray(p_values, dtype=float), nan=1.0)
    levels = np.empty(len(p))
    levels[np.argsort(p, kind="stable")] = alpha / (len(p) - np.arange(len(p)))
    return levels


def detectable_difference(sd: float, n: int, alpha: float = ALPHA, power: float = 0.8) -> float:
    """The smallest mean paired difference a two-sided paired t-test at level ``alpha`` detects with
    ``power``: the d at which the noncentral t (df = n − 1, noncentrality d·√n / sd) exceeds the critical
    value t_{1−α/2, n−1} in absolute value with probability ``power`` (NaN below 2 seeds or without an sd).

    scipy's noncentral t and Brent's method, not statsmodels' ``TTestPower``: with few seeds its power is NaN
    over whole ranges of effect sizes (2 seeds at α = 0.05/3: effects 5.5–13.5 SD, where the power is 0.2–0.3)
    and ``solve_power`` then returns a wrong effect without a warning (docs/statistics.md); where it is
    defined, the two agree (tests/test_verdict.py)."""
    if n < 2 or not np.isfinite(sd) or sd < 0:
        return float("nan")
    if sd == 0:
        return 0.0
    df = n - 1
    critical = stats.t.ppf(1 - alpha / 2, df)

    def shortfall(effect: float) -> float:  # effect = d / sd
        nc = effect * np.sqrt(n)
        upper, lower = stats.nct.sf(critical, df, nc), stats.nct.sf(critical, df, -nc)  # P(T < −c) by symmetry
        return float(np.nan_to_num(upper, nan=1.0) + np.nan_to_num(lower, nan=0.0)) - power

    high = 1.0
    while shortfall(high) < 0:
        high *= 2
    return float(optimize.brentq(shortfall, 0.0, high, xtol=1e-10) * sd)


def seeds_needed(difference: float, sd: float, alpha: float = ALPHA, power: float = 0.8, most: int = 10_000) -> int:
    """The fewest seeds whose paired t-test at level ``alpha`` detects ``difference`` with ``power``."""
    n = 2
    while n < most and detectable_difference(sd, n, alpha, power) > difference:
        n += 1
    return n


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


def _rank_correlation(x_ranks: np.ndarray, y_ranks: np.ndarray, axis: int = -1) -> np.ndarray:
    """Pearson's r of ranks along ``axis``: Spearman's ρ, vectorised for ``stats.permutation_test``."""
    dx = x_ranks - x_ranks.mean(axis=axis, keepdims=True)
    dy = y_ranks - y_ranks.mean(axis=axis, keepdims=True)
    return (dx * dy).sum(axis=axis) / np.sqrt((dx**2).sum(axis=axis) * (dy**2).sum(axis=axis))


def _permutation_p(x: np.ndarray, y: np.ndarray, exact_up_to: int = 8, draws: int = 20000, seed: int = 0) -> float:
    """Two-sided permutation p-value of Spearman's ρ (scipy's ``permutation_test`` over the pairings): exact
    over every ordering up to ``exact_up_to`` points (a bootstrap over so few units cannot show the
    uncertainty), else from ``draws`` random orderings (scipy then counts the observed ordering as one of
    them: (hits + 1) / (draws + 1))."""
    if not np.isfinite(_spearman(x, y)):
        return float("nan")
    if len(x) <= exact_up_to:
        draws = math.factorial(len(x))  # scipy enumerates every ordering when they are no more than the draws
    x_ranks = stats.rankdata(x)
    result = stats.permutation_test(
        (stats.rankdata(y),),  # one sample under "pairings": its order against the fixed x is permuted
        lambda y_ranks, axis: _rank_correlation(x_ranks, y_ranks, axis),
        permutation_type="pairings",
        vectorized=True,
        n_resamples=draws,
        alternative="two-sided",
        rng=np.random.default_rng(seed),
    )
    return float(result.pvalue)


def _bootstrap_interval(x: np.ndarray, y: np.ndarray, n_boot: int, seed: int) -> tuple[float, float]:
    """95% percentile interval of Spearman's ρ from resampling the (x, y) pairs (scipy's ``bootstrap``).

    Percentile, not BCa: BCa's acceleration comes from the jackknife, and with a handful of groups the
    jackknife ρ is undefined (3 groups leave pairs of 2) or takes two or three values. A resample of one
    repeated group has no ρ; the interval is taken over the resamples that have one (NaN when none has)."""
    with warnings.catch_warnings():  # resamples without a ρ are expected here, and handled below
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            (x, y),
            lambda a, b: _spearman(a, b),
            paired=True,
            vectorized=False,
            n_resamples=n_boot,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    draws = result.bootstrap_distribution
    if not np.isfinite(draws).any():
        return float("nan"), float("nan")
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return float(low), float(high)


def correlation_over_groups(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, n_boot: int = 2000, seed: int = 0
) -> dict[str, float]:
    """Pools of one type (a group) across seeds are not independent, so the unit is the type.

    ``between``: Spearman's ρ over the group means of (x, y), with a 95% percentile interval from
    resampling whole groups (``between_low``, ``between_high``; NaN where a resample is constant) and its
    permutation p-value over the groups (``between_p``: with a handful of groups the bootstrap interval can
    collapse onto ρ, the permutation test does not);
    ``within``: Spearman's ρ of the deviations from each group's means, pooled over groups (does a pool
    of one type that has more of x, on one seed, also gain more?) with its p-value. NaN where undefined.
    """
    table = pd.DataFrame({"x": np.asarray(x, float), "y": np.asarray(y, float), "g": np.asarray(groups)})
    means = table.groupby("g")[["x", "y"]].mean()
    mx, my = means["x"].to_numpy(), means["y"].to_numpy()
    out = {
        "groups": len(means),
        "between": _spearman(mx, my),
        "between_low": float("nan"),
        "between_high": float("nan"),
        "between_p": _permutation_p(mx, my),
    }
    if np.isfinite(out["between"]):
        out["between_low"], out["between_high"] = _bootstrap_interval(mx, my, n_boot, seed)
    centred = table[["x", "y"]] - table.groupby("g")[["x", "y"]].transform("mean")
    varies = table.groupby("g")["y"].transform("std").fillna(0) > SPREAD_TOLERANCE
    dx, dy = centred.loc[varies, "x"].to_numpy(), centred.loc[varies, "y"].to_numpy()
    if len(dx) >= 3 and np.ptp(dx) > SPREAD_TOLERANCE and np.ptp(dy) > SPREAD_TOLERANCE:
        result = stats.spearmanr(dx, dy)
        out["within"], out["within_p"] = float(result.statistic), float(result.pvalue)
    else:
        out["within"], out["within_p"] = float("nan"), float("nan")
    out["within_points"] = int(varies.sum())
    return out

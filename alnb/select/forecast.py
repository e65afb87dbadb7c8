"""Will selection help here? A label-free forecast from the embeddings alone.

The ranking's own objective at its budget B is set against the spread of ``RANDOM_ORDERS`` seeded random orders'
objectives at B: z = (ranking − mean of random) / SD of random, in the direction in which the objective is better.
A large z says that the folder has structure the method can cover and a random order misses; a small one says
that random picks already cover it about as well. The objective counts over every image up to ``POINTS`` images,
else over a seeded sample of ``POINTS`` (coverage and share are means over images, so the sample estimates them
without bias; the radius is then the sample's). How z relates to the class coverage gained over random orders
was measured on digits, the MNIST subset and the CIFAR subset (``docs/select.md``): within one method and budget,
the datasets' z ranked as their gains did in 11 of 12 cases, but z is not comparable across methods (ProbCover
reaches large z and loses coverage) nor across budgets (z grows with B while coverage of 10 classes saturates).
``HELPS_ABOVE_Z`` separates, for MaxHerding at B = 10 and 20, the dataset where it lost coverage (CIFAR on pixel
PCA, z ≤ 5.5) from those where it gained (digits, MNIST, z ≥ 4.8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alnb.core import seeding
from alnb.select.objectives import OBJECTIVES, prefix_objective

RANDOM_ORDERS = 20
POINTS = 20_000
HELPS_ABOVE_Z = 5.0
CALIBRATED_ON = "maxherding"


@dataclass
class Forecast:
    """z at the budget, the values behind it, and the random orders' mean and 10-90% band per prefix."""

    z: float
    value: float
    random_mean: float
    random_sd: float
    random_curve: np.ndarray
    random_low: np.ndarray
    random_high: np.ndarray
    points: int

    @property
    def helps(self) -> bool:
        return bool(self.z > HELPS_ABOVE_Z)


def forecast(features: np.ndarray, ranking, labeled: np.ndarray, seed: int) -> Forecast:
    """The forecast of ``ranking`` (:class:`~alnb.select.ranking.Ranking`) on ``features`` with ``labeled`` rows."""
    n = len(features)
    over = None if n <= POINTS else np.sort(seeding.rng(seed, "select", "forecast-points").choice(n, POINTS, False))
    options = {"bandwidth": ranking.options.get("objective_bandwidth", 1.0), "delta": ranking.options.get("delta")}
    budget = len(ranking.order)
    value = prefix_objective(features, ranking.order, labeled, ranking.objective, over=over, **options)[0][-1]
    unlabeled = np.setdiff1d(np.arange(n), labeled)
    rng = seeding.rng(seed, "select", "random-orders")
    curves = np.stack(
        [
            prefix_objective(
                features, rng.permutation(unlabeled)[:budget], labeled, ranking.objective, over=over, **options
            )[0]
            for _ in range(RANDOM_ORDERS)
        ]
    )
    at_budget = curves[:, -1]
    sign = 1.0 if OBJECTIVES[ranking.objective] else -1.0
    sd = float(at_budget.std(ddof=1))
    z = sign * (value - at_budget.mean()) / sd if sd > 0 else (np.inf if sign * (value - at_budget.mean()) > 0 else 0.0)
    return Forecast(
        float(z),
        float(value),
        float(at_budget.mean()),
        sd,
        curves.mean(0),
        np.percentile(curves, 10, axis=0),
        np.percentile(curves, 90, axis=0),
        n if over is None else POINTS,
    )


def forecast_sentence(result: Forecast, objective: str, budget: int, method: str) -> str:
    """The report's plain sentence: will selection help here?"""
    head = (
        f"At {budget} picks the ranking's {objective} is {result.value:.3g}; {RANDOM_ORDERS} random orders reach "
        f"{result.random_mean:.3g} ± {result.random_sd:.2g} (SD), so the ranking lies **{result.z:.1f} SD** "
        f"beyond random"
        + (f" (counted over a sample of {result.points:,} images)" if result.points < POINTS else "")
        + "."
    )
    caveat = (
        ""
        if method == CALIBRATED_ON
        else f" (The {HELPS_ABOVE_Z:g} SD line was measured for {CALIBRATED_ON}; for {method} read z only as a "
        "comparison between folders.)"
    )
    if result.helps:
        return (
            head
            + f" Above {HELPS_ABOVE_Z:g} SD, selection is expected to cover more of the folder than random."
            + caveat
        )
    return (
        head
        + (
            f" **Selection is not expected to help here**: at most {HELPS_ABOVE_Z:g} SD, a random order covers this "
            "folder about as well as the ranking. Label a random sample, or try a stronger encoder."
        )
        + caveat
    )

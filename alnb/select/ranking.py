"""A registered initial-pool strategy turned into a ranking of the folder: every prefix of it is itself a pool.

The ranking reads one representation: the folder's SimCLR embeddings, or the user's vectors (``--embeddings``),
which stand for the ``simclr`` representation of the strategy names. Oracle strategies (they read the true
labels) are refused, and so are strategies that need what ``select`` does not compute (PCA of pixels, rotation
or VAE losses, DeepCluster's clustering). Already labeled images (``--labeled``) count as L: they are never
picked, and the greedy methods start from their coverage.

How the order is made:

* ``maxherding``, ``probcover``, ``kcenter``: the greedy's own pick order. Each pick is the best next one given
  the ones before it, so every prefix is that method's pool for its size. MaxHerding's candidates are every
  unlabeled point up to 10,000, else a sample stratified by k-means so that every region can be picked
  (:mod:`alnb.select.candidates`).
* ``typiclust``: TypiClust clusters into K = min(|L| + B, 500) clusters once, for the whole budget B, and
  takes the most typical point of the cluster with the fewest labeled points, largest first. The ranking is
  that order: a prefix of k picks is the typical points of the k largest of the K clusters (not TypiClust run
  with K = k clusters, which would cluster again for every k).
* ``random``: a seeded permutation; every prefix is a random pool.
* any other label-free strategy builds its pool for B once; its picks are then ordered farthest-first (greedy
  k-center among the picks, from a seeded first pick), so that every prefix is spread over the picks.

Each ranking carries its objective per prefix (:mod:`alnb.select.objectives`): kernel coverage for MaxHerding
(and for the orders without an objective of their own: TypiClust, random, the others), the share of points
within δ for ProbCover, the covering radius for k-center.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from alnb.methods.geometry import l2_normalize
from alnb.methods.k_center_greedy import k_center_greedy
from alnb.methods.kernel_herding import DEFAULT_BANDWIDTH, kernel_herding
from alnb.methods.pools import PoolContext, pool_family_label, pool_names, resolve_pool
from alnb.methods.pools.kcenter import kcenter
from alnb.methods.pools.probcover import probcover, probcover_delta
from alnb.methods.pools.typiclust import typiclust
from alnb.select.candidates import herding_candidates
from alnb.select.folder import SelectError
from alnb.select.objectives import OBJECTIVES, prefix_gains, prefix_objective

REPRESENTATION = "simclr"  # the name the folder's (or the user's) embeddings take in strategy names
GREEDY = {"maxherding": "kernel coverage", "probcover": "share within δ", "kcenter": "covering radius"}
DEFAULT_METHOD = "maxherding"


@dataclass
class Ranking:
    """Positions of the picks in rank order, and the objective after each prefix.

    ``values[k]`` is the objective after the first k + 1 picks, ``start`` its value for the labeled set
    alone, ``gains[k]`` the (k + 1)-th pick's improvement; ``options`` every setting the method used.
    """

    method: str
    order: np.ndarray
    objective: str
    values: np.ndarray
    start: float
    gains: np.ndarray
    options: dict = field(default_factory=dict)


def _refusal(name: str, has_scores: bool) -> str | None:
    """Why ``select`` cannot rank with the strategy ``name`` (None when it can)."""
    strategy = resolve_pool(name)
    if strategy.oracle:
        return f"{name} is an oracle reference: it reads the true labels, which a folder to label does not have"
    representations = set(strategy.representations)
    scores = set(strategy.pretext_tasks) - representations
    if representations - {REPRESENTATION}:
        return (
            f"{name} reads {', '.join(sorted(representations))}; select ranks on one representation, "
            f"the embeddings ({REPRESENTATION})"
        )
    if scores - {REPRESENTATION} or (scores and not has_scores):
        return (
            f"{name} reads the per-image losses of {', '.join(sorted(scores))}, which select has only from "
            f"its own SimCLR encoder (not with --embeddings)"
        )
    return None


def valid_methods(has_scores: bool = True) -> list[str]:
    """The registered strategy names (examples of each family) that ``select`` can rank with."""
    return [name for name in pool_names() if _refusal(name, has_scores) is None]


def check_method(name: str, has_scores: bool = True) -> str:
    """``name`` if ``select`` can rank with it, else :class:`SelectError` naming ``--method`` and the valid ones."""
    try:
        reason = _refusal(name, has_scores)
    except ValueError:
        reason = f"{name!r} is not a registered initial-pool strategy"
    if reason:
        raise SelectError(f"--method: {reason}; valid: {', '.join(valid_methods(has_scores))}")
    return name


def rank(
    features: np.ndarray,
    budget: int,
    method: str,
    rng: np.random.Generator,
    labeled=(),
    *,
    n_clusters: int = 10,
    scores: np.ndarray | None = None,
) -> Ranking:
    """The ``budget`` best unlabeled rows of ``features`` ``[N, d]`` in rank order under ``method``.

    ``labeled``: rows already labeled; ``n_clusters``: ProbCover's number of k-means pseudo-labels;
    ``scores``: SimCLR's per-image losses (for the loss-based strategies).
    """
    check_method(method, scores is not None)
    features = l2_normalize(features)
    labeled = np.unique(np.asarray(labeled, dtype=np.int64))
    unlabeled = np.setdiff1d(np.arange(len(features)), labeled)
    if not 0 < budget <= len(unlabeled):
        raise SelectError(f"--budget: {budget} is outside [1, {len(unlabeled)}] (unlabeled images)")
    family = pool_family_label(method)
    options: dict = {}
    objective, delta, bandwidth = GREEDY.get(family, "kernel coverage"), None, DEFAULT_BANDWIDTH
    if family == "maxherding":
        candidates, rule = herding_candidates(features, unlabeled, rng, budget)
        options = {"herding_bandwidth": bandwidth, "herding_candidates": rule}
        order = kernel_herding(
            features, budget, rng, labeled, bandwidth=bandwidth, normalize=False, candidates=candidates
        )
    elif family == "probcover":
        delta = probcover_delta(features, n_clusters, rng, normalize=False)
        options = {"purity_threshold": 0.95, "pseudo_labels": n_clusters, "delta": delta}
        order = probcover(features, budget, n_clusters, rng, labeled, delta=delta, normalize=False)
    elif family == "kcenter":
        order = kcenter(features, budget, rng, labeled)
    elif family == "typiclust":
        options = {"clusters": min(len(labeled) + budget, 500), "min_cluster_size": 5, "k_neighbors": 20}
        order = typiclust(features, budget, rng, labeled, normalize=False)
    elif family == "random":
        order = rng.permutation(unlabeled)[:budget]
    else:
        options = {"order": "farthest-first among the pool's picks"}
        ctx = PoolContext(
            np.arange(len(unlabeled)),
            budget,
            rng,
            n_clusters,
            features=lambda _: features[unlabeled],
            scores=lambda _: np.asarray(scores)[unlabeled],
        )
        picks = unlabeled[resolve_pool(method).build(ctx)]
        order = picks[k_center_greedy(features[picks], np.zeros(0, dtype=np.int64), len(picks), rng)]
    if objective == "kernel coverage":
        options["objective_bandwidth"] = bandwidth
    order = np.asarray(order, dtype=np.int64)
    values, start = prefix_objective(
        features, order, labeled, objective, bandwidth=bandwidth, delta=delta, normalize=False
    )
    return Ranking(method, order, objective, values, start, prefix_gains(values, start, OBJECTIVES[objective]), options)

"""UHerding (Bae, Sutherland, Oliveira, "Uncertainty Herding: One Active Learning Method for All Label
Budgets", ICLR 2025).

MaxHerding's greedy coverage gain, each point's share weighted by its uncertainty:
pick argmax_j Σ_i u_i · max(0, k(x_j, x_i) − m_i), with u_i = 1 − (p1 − p2) of the temperature-scaled
softmax for an unlabeled point and u_i = 0 for a labeled one. The kernel is the RBF kernel on the
L2-normalised penultimate features of the cycle's model; its width h adapts to the labeled set (the
smallest distance between two labeled points, as in the reference code); the temperature minimises the
negative log-likelihood on the validation set (the one early stopping already uses). With all u = 1 it is
MaxHerding; as the labeled set grows h shrinks and it behaves like margin sampling.

Options (``al.query_options``): ``herding_candidates`` (see :mod:`alnb.methods.kernel_herding`), ``herding_bandwidth``
(a fixed h instead of the adaptive one).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

from alnb.methods.geometry import normalized_tensor, rows_per_block, squared_distances
from alnb.methods.kernel_herding import (
    BLOCK_ELEMENTS,
    CANDIDATES_OPTION,
    DEFAULT_BANDWIDTH,
    DEFAULT_MAX_CANDIDATES,
    kernel_herding,
)
from alnb.methods.query.base import QueryContext, register_query
from alnb.methods.registry import Option, read_options

TEMPERATURE_RANGE = (0.05, 20.0)
UHERDING_OPTIONS = (
    Option(
        "herding_bandwidth",
        float,
        None,
        "a fixed kernel width h (null: the smallest distance between two labeled points, as in the reference)",
        low=0,
        low_open=True,
        nullable=True,
    ),
    CANDIDATES_OPTION,
)


def fit_temperature(logits: np.ndarray, labels: np.ndarray, bounds: tuple[float, float] = TEMPERATURE_RANGE) -> float:
    """The temperature T in ``bounds`` minimising the mean NLL of softmax(logits / T) (Guo et al., ICML 2017).

    A bounded 1-D search over log T; 1.0 when there is no labeled example to fit on.
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if logits.ndim != 2 or len(logits) != len(labels):
        raise ValueError(f"expected logits [n, C] and n labels, got shapes {logits.shape} and {labels.shape}")
    if len(labels) == 0:
        return 1.0

    def nll(log_t: float) -> float:
        return float(-log_softmax(logits / np.exp(log_t), axis=1)[np.arange(len(labels)), labels].mean())

    found = minimize_scalar(nll, bounds=np.log(bounds), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(found.x))


def margin_uncertainty(probs: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """1 − (p1 − p2) of softmax(log p / T): the margin uncertainty of the temperature-scaled prediction."""
    scaled = softmax(np.log(np.maximum(np.asarray(probs, dtype=np.float64), 1e-300)) / temperature, axis=1)
    top_two = np.sort(scaled, axis=1)[:, -2:]
    return 1.0 - (top_two[:, 1] - top_two[:, 0])


def labeled_bandwidth(
    labeled_features: np.ndarray, default: float = DEFAULT_BANDWIDTH, *, device: str | torch.device = "cpu"
) -> float:
    """The smallest positive distance between two labeled points (L2-normalised features), computed a block
    of rows at a time; ``default`` when there are fewer than two distinct labeled points."""
    x = normalized_tensor(labeled_features, device)
    norms = (x * x).sum(1)
    smallest = torch.tensor(float("inf"), device=x.device)
    step = rows_per_block(len(x), BLOCK_ELEMENTS)
    for lo in range(0, len(x), step):
        squared = squared_distances(x[lo : lo + step], x, norms[lo : lo + step], norms)
        positive = squared[squared > 1e-10]
        if len(positive):
            smallest = torch.minimum(smallest, positive.min())
    return float(smallest.sqrt()) if torch.isfinite(smallest) else default


def uherding(
    features: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    labeled_positions,
    probs: np.ndarray | None = None,
    temperature: float = 1.0,
    bandwidth: float | None = None,
    max_candidates: int = DEFAULT_MAX_CANDIDATES,
    *,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Positions of ``budget`` unlabeled rows chosen by UHerding.

    ``features`` and ``probs`` (softmax ``[N, C]``) cover L ∪ U; ``labeled_positions`` are the labeled rows.
    ``probs=None`` (no model) weighs every unlabeled point 1: MaxHerding. ``bandwidth=None`` adapts h to the
    labeled set (:func:`labeled_bandwidth`).
    """
    n = len(features)
    labeled = np.unique(np.asarray(labeled_positions, dtype=np.int64))
    weights = np.ones(n) if probs is None else margin_uncertainty(probs, temperature)  # read on U's candidates only
    if bandwidth is None:
        bandwidth = labeled_bandwidth(np.asarray(features)[labeled], device=device)
    return kernel_herding(
        features,
        budget,
        rng,
        labeled,
        weights=weights,
        bandwidth=bandwidth,
        max_candidates=max_candidates,
        device=device,
    )


@register_query("uherding", options=UHERDING_OPTIONS)
def uherding_query(ctx: QueryContext) -> np.ndarray:
    """UHerding, uncertainty-weighted kernel herding with a calibrated margin (Bae, Sutherland, Oliveira, ICLR 2025)."""
    domain = np.concatenate([ctx.labeled, ctx.unlabeled])
    temperature = fit_temperature(*ctx.outputs.validation_logits())
    options = read_options(UHERDING_OPTIONS, ctx.options)
    picks = uherding(
        ctx.outputs.embeddings(domain),
        ctx.budget,
        ctx.rng,
        np.arange(len(ctx.labeled)),
        probs=ctx.outputs.probs(domain),
        temperature=temperature,
        bandwidth=options["herding_bandwidth"],
        max_candidates=options["herding_candidates"],
        device=ctx.outputs.device,
    )
    return domain[picks]

"""The objective of every prefix of a ranking, computed in blocks of points (no N×N matrix, O(block · B) memory).

On L2-normalised features, with the labeled set L and the first k picks S_k:

* ``kernel coverage`` (MaxHerding, Bae et al., ECCV 2024): (1/N) Σ_i max_{s ∈ L ∪ S_k} exp(−(‖x_i − s‖ / h)²);
* ``share within δ`` (ProbCover, Yehuda et al., NeurIPS 2022): the share of points within δ of L ∪ S_k;
* ``covering radius`` (k-center, Sener & Savarese, ICLR 2018): max_i min_{s ∈ L ∪ S_k} ‖x_i − s‖.

Coverage and share rise with k (higher is better); the radius falls (lower is better).
"""

from __future__ import annotations

import numpy as np
import torch

from alnb.methods.geometry import nearest_distances, normalized_tensor, squared_distances

OBJECTIVES = {"kernel coverage": True, "share within δ": True, "covering radius": False}  # name → higher is better
BLOCK_ELEMENTS = 2**22


def _prefix_nearest_distances(x: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """For each row of ``x`` ``[b, d]`` and each prefix of ``centers`` ``[B, d]``: the distance to the nearest of
    them ``[b, B]`` (a running minimum along the picks)."""
    return torch.cummin(squared_distances(x, centers), dim=1).values.sqrt_()


def prefix_objective(
    features: np.ndarray,
    picks: np.ndarray,
    labeled: np.ndarray,
    objective: str,
    *,
    bandwidth: float = 1.0,
    delta: float | None = None,
    over: np.ndarray | None = None,
    normalize: bool = True,
) -> tuple[np.ndarray, float]:
    """(the objective after each prefix of ``picks`` ``[B]``, its value for the labeled set alone).

    ``features`` ``[N, d]`` are normalised here; ``picks`` and ``labeled`` are row positions; ``over``: the rows
    whose coverage (or distance) counts (default: all); ``normalize=False`` when they are already. The labeled set alone has coverage/share 0 and radius ∞
    when it is empty.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r} is unknown; valid: {', '.join(OBJECTIVES)}")
    if objective == "share within δ" and delta is None:
        raise ValueError("the share within δ needs δ")
    x = normalized_tensor(features, normalize=normalize)
    picks_x = x[torch.as_tensor(np.asarray(picks, dtype=np.int64))]
    labeled_x = x[torch.as_tensor(np.asarray(labeled, dtype=np.int64))]
    if over is not None:
        x = x[torch.as_tensor(np.asarray(over, dtype=np.int64))]
    n, budget = len(x), len(picks_x)
    rows = max(1, BLOCK_ELEMENTS // max(1, budget + 1))
    totals = torch.zeros(budget, dtype=torch.float64)
    radius = torch.full((budget,), -1.0, dtype=torch.float64)
    base_total, base_radius = 0.0, -1.0
    to_labeled = (
        torch.from_numpy(nearest_distances(x.numpy(), labeled_x.numpy())).float()
        if len(labeled_x)
        else torch.full((n,), float("inf"))
    )
    for lo in range(0, n, rows):
        block = x[lo : lo + rows]
        nearest = _prefix_nearest_distances(block, picks_x) if budget else torch.zeros(len(block), 0)
        base = to_labeled[lo : lo + rows]
        nearest = torch.minimum(nearest, base[:, None])
        if objective == "kernel coverage":
            totals += nearest.square_().mul_(-1.0 / bandwidth**2).exp_().sum(0).double()
            base_total += float(base.square().mul(-1.0 / bandwidth**2).exp().sum())
        elif objective == "share within δ":
            totals += (nearest <= delta).sum(0).double()
            base_total += float((base <= delta).sum())
        else:
            radius = torch.maximum(radius, nearest.max(0).values.double())
            base_radius = max(base_radius, float(base.max()))
    if objective == "covering radius":
        return radius.numpy(), base_radius
    return (totals / n).numpy(), base_total / n


def prefix_gains(values: np.ndarray, start: float, higher_is_better: bool) -> np.ndarray:
    """Each pick's improvement of the objective over the prefix before it (NaN where it is undefined: the
    first radius when nothing was labeled)."""
    previous = np.concatenate([[start], values[:-1]])
    with np.errstate(invalid="ignore"):
        gains = values - previous if higher_is_better else previous - values
    gains[~np.isfinite(gains)] = np.nan
    return gains

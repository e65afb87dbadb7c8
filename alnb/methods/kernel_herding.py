"""Kernel herding: the greedy shared by the MaxHerding initial pool and the UHerding query method.

With an RBF kernel k(x, y) = exp(−(‖x − y‖ / h)²) and ``m_i`` = the largest kernel value between point i
and the labeled/selected set (0 when it is empty), the greedy adds, B times, the candidate j with the
largest weighted coverage gain Σ_i w_i · max(0, k(x_j, x_i) − m_i), then raises ``m`` to
max(m, k(x_j, ·)) (Bae, Noh, Sutherland, ECCV 2024; the weights w are UHerding's uncertainties,
Bae, Sutherland, Oliveira, ICLR 2025). Both pool and query adapt this pure function of arrays.

Scale, as in the reference code (BorealisAI/uherding): the candidates, which are also the points whose
coverage is counted, are a seeded subsample of the unlabeled points (at most ``max_candidates``; the
labeled points enter only through ``m``). The kernel is never stored: its rows and columns are computed a
block at a time. Every gain is kept exact: after a pick only the points now nearest to it (its Voronoi
cell, about n/t points at step t) change their ``m``, so the gains are corrected from those kernel columns
alone. The whole selection costs about n²·d·(1 + ln B) arithmetic for n candidates, and O(n·(d + block))
memory.
"""

from __future__ import annotations

import numpy as np
import torch

from alnb.methods.geometry import normalized_tensor, rows_per_block, squared_distances
from alnb.methods.registry import Option

DEFAULT_BANDWIDTH = 1.0  # the reference's h, on L2-normalised features (distances in [0, 2])
DEFAULT_MAX_CANDIDATES = 10_000  # the reference takes up to 35,000 (on a GPU); raise it there
BLOCK_ELEMENTS = 2**22
CANDIDATES_OPTION = Option(
    "herding_candidates",
    int,
    DEFAULT_MAX_CANDIDATES,
    "size of the seeded subsample of U that is both the candidates and the points whose coverage counts",
    low=1,
)


def rbf_kernel(
    rows: torch.Tensor,
    columns: torch.Tensor,
    bandwidth: float,
    column_norms: torch.Tensor | None = None,
    row_norms: torch.Tensor | None = None,
) -> torch.Tensor:
    """exp(−‖a − b‖² / h²) between every row and every column (one block: ``[len(rows), len(columns)]``);
    ``column_norms`` / ``row_norms`` are the squared norms, when already known."""
    return squared_distances(rows, columns, row_norms, column_norms).mul_(-1.0 / bandwidth**2).exp_()


def kernel_herding(
    features: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    labeled_positions=(),
    weights: np.ndarray | None = None,
    bandwidth: float = DEFAULT_BANDWIDTH,
    max_candidates: int = DEFAULT_MAX_CANDIDATES,
    *,
    normalize: bool = True,
    device: str | torch.device = "cpu",
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """Positions of ``budget`` unlabeled rows of ``features`` chosen by the (weighted) kernel-herding greedy.

    ``features`` ``[N, d]`` cover L ∪ U; ``labeled_positions`` are the rows already labeled; ``weights``
    ``[N]`` (default 1) weigh each point's coverage. Features are L2-normalised first unless
    ``normalize=False``. Exact ties in the gain go to a seeded random order; once no candidate gains
    anything (every point covered, or all weights zero) the rest of the budget is drawn uniformly at
    random from the unlabeled rows not yet chosen. ``candidates``: the unlabeled rows to use as candidates
    instead of the seeded subsample (``max_candidates`` is then ignored).
    """
    if not bandwidth > 0:
        raise ValueError(f"the kernel width h must be positive, got {bandwidth}")
    if max_candidates < 1:
        raise ValueError(f"max_candidates must be at least 1, got {max_candidates}")
    features = np.asarray(features)
    n = len(features)
    is_labeled = np.zeros(n, dtype=bool)
    is_labeled[np.asarray(labeled_positions, dtype=np.int64)] = True
    unlabeled = np.flatnonzero(~is_labeled)
    if budget < 0 or budget > len(unlabeled):
        raise ValueError(f"budget {budget} is outside [0, {len(unlabeled)}] (unlabeled points)")
    if budget == 0:
        return np.zeros(0, dtype=np.int64)
    if candidates is None:
        n_candidates = min(len(unlabeled), max(int(max_candidates), budget))
        candidates = (
            unlabeled
            if n_candidates == len(unlabeled)
            else np.sort(rng.choice(unlabeled, size=n_candidates, replace=False))
        )
    else:
        candidates = np.asarray(candidates, dtype=np.int64)
        if is_labeled[candidates].any() or len(candidates) < budget:
            raise ValueError(f"candidates must be at least {budget} unlabeled rows")
        n_candidates = len(candidates)
    labeled = np.flatnonzero(is_labeled)
    x = normalized_tensor(features[np.concatenate([candidates, labeled])], device, normalize)
    w = np.ones(n_candidates) if weights is None else np.asarray(weights, dtype=np.float64)[candidates]
    selected = candidates[_greedy(x[:n_candidates], x[n_candidates:], w, budget, rng, bandwidth)]
    if len(selected) < budget:
        left = np.setdiff1d(unlabeled, selected)
        selected = np.concatenate([selected, rng.choice(left, size=budget - len(selected), replace=False)])
    return selected.astype(np.int64)


def _greedy(
    x: torch.Tensor,
    x_labeled: torch.Tensor,
    weights: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    bandwidth: float,
) -> np.ndarray:
    """Positions in ``x`` (the candidates) picked by the greedy, exact gains kept up to date; it stops early
    when the best gain is zero."""
    device = x.device
    n = len(x)
    w = torch.as_tensor(weights, dtype=torch.float32, device=device)
    norms = (x * x).sum(1)
    coverage = torch.zeros(n, device=device)
    step = rows_per_block(n, BLOCK_ELEMENTS)
    for lo in range(0, len(x_labeled), step):
        coverage = torch.maximum(coverage, rbf_kernel(x_labeled[lo : lo + step], x, bandwidth, norms).max(0).values)
    gain = torch.empty(n, dtype=torch.float64, device=device)
    for lo in range(0, n, step):
        block = rbf_kernel(x[lo : lo + step], x, bandwidth, norms).sub_(coverage).clamp_min_(0.0)
        gain[lo : lo + step] = (block @ w).double()
    tie_rank = torch.as_tensor(rng.permutation(n), device=device)
    available = torch.ones(n, dtype=torch.bool, device=device)
    selected: list[int] = []
    while len(selected) < budget:
        masked = gain.masked_fill(~available, -np.inf)
        best = masked.max()
        if not bool(best > 0):
            break
        pick = int(torch.where(masked == best, tie_rank, n).argmin())
        selected.append(pick)
        available[pick] = False
        row = rbf_kernel(x[pick : pick + 1], x, bandwidth, norms)[0]
        changed = torch.nonzero(row > coverage).squeeze(1)  # the points now nearest to the pick
        for lo in range(0, len(changed), step):
            columns = changed[lo : lo + step]
            kernel = rbf_kernel(x, x[columns], bandwidth, norms[columns], norms)
            old = (kernel - coverage[columns]).clamp_min_(0.0)
            new = kernel.sub_(row[columns]).clamp_min_(0.0)
            gain -= (old.sub_(new) @ w[columns]).double()
        coverage = torch.maximum(coverage, row)
    return np.asarray(selected, dtype=np.int64)

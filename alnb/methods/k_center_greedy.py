"""Greedy k-center selection (Sener & Savarese, ICLR 2018), exact and fast.

The plain greedy rule keeps every point's distance to its nearest centre and, ``budget`` times,
makes the farthest point a centre. Updating all N distances after every pick is a memory-bound
matrix-vector product per pick. Here the same picks come from exact lazy evaluation:

* Every stored squared distance is an **upper bound**: it may not yet account for the latest
  centres, and adding centres only lowers it. The point with the largest bound is brought up to
  date (with the other stale points among the ``candidates`` largest bounds); when the largest
  bound belongs to an up-to-date point, that point is the true farthest one. So only points near
  the top ever need fresh distances.
* Every ``block`` picks, the points whose bound may reach the top during the next block (bound at
  least the last pick's value minus twice the drop of the pick values over the last block) are
  brought up to date at once, each against the centres added since its own last update, with
  matrix-matrix products (BLAS level 3). Points far below the top are left alone; most of them
  are never touched again. The threshold only affects speed: any point whose bound reaches the top
  is refreshed before it can be picked.

Squared distances use ``‖x‖² + ‖c‖² − 2 x·c`` with precomputed squared norms, in row chunks, so
memory beyond the features is O(N + chunk · 1024). The default arithmetic is float64: in float32 this
formula's rounding (about 1e-7 of the squared norms) decides near-ties among the farthest points, and
over thousands of picks some picks then differ from the exact greedy sequence.
"""

from __future__ import annotations

import numpy as np
import torch

from alnb.core.threads import one_cpu_thread


def k_center_greedy(
    features: np.ndarray | torch.Tensor,
    initial_centers: np.ndarray,
    budget: int,
    rng: np.random.Generator | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
    block: int = 64,
    candidates: int = 64,
    chunk: int = 4096,
) -> np.ndarray:
    """Positions of ``budget`` new centres picked by greedy k-center on ``features`` ``[N, d]``.

    ``initial_centers`` is a boolean mask ``[N]`` or an array of positions (the labeled set).
    Each pick is the non-centre point whose Euclidean distance to its nearest centre is largest;
    among equal distances the lowest position wins (``argmax`` order). Without initial centres the
    first centre is drawn uniformly with ``rng``. Returns the picks in the order they were made.
    """
    x = torch.as_tensor(features, device=device).to(dtype).contiguous()
    n_points = x.shape[0]
    is_center = _center_mask(initial_centers, n_points)
    n_free = n_points - int(is_center.sum())
    if not 0 <= budget <= n_free:
        raise ValueError(f"cannot pick {budget} centres among {n_free} non-centre points")
    if budget == 0:
        return np.zeros(0, dtype=np.int64)
    with one_cpu_thread(x.device):
        state = _LazyDistances(x, chunk)
        picks = torch.empty(budget, dtype=torch.int64, device=x.device)
        n_picked = 0
        centers = np.flatnonzero(is_center)
        if len(centers) == 0:
            if rng is None:
                raise ValueError("k_center_greedy: without initial centres an rng must choose the first centre")
            centers = np.asarray([int(rng.integers(n_points))])
            picks[0] = int(centers[0])
            n_picked = 1
        state.start(torch.as_tensor(centers, device=x.device), already_picked=n_picked)

        pick_values: list[float] = []
        candidates = min(candidates, n_points)
        while n_picked < budget:
            if n_picked % block == 0 and len(pick_values) > block:
                drop = pick_values[-block - 1] - pick_values[-1]
                state.refresh_above(pick_values[-1] - 2.0 * drop, picks, n_picked, block)
            while True:
                best = int(torch.argmax(state.bound))
                if int(state.synced[best]) == n_picked:
                    break
                top = torch.topk(state.bound, candidates, sorted=False).indices
                best_t = torch.tensor([best], device=x.device)
                state.refresh(torch.unique(torch.cat([best_t, top])), picks, n_picked, block)
            pick_values.append(float(state.bound[best]))
            picks[n_picked] = best
            n_picked += 1
            state.bound[best] = -float("inf")
    return picks.cpu().numpy()


class _LazyDistances:
    """Upper bounds on each point's squared distance to its nearest centre, and how many picks each accounts for."""

    def __init__(self, x: torch.Tensor, chunk: int):
        self.x = x
        self.sq_norms = (x * x).sum(dim=1)
        self.chunk = chunk
        self.bound = torch.full((x.shape[0],), float("inf"), device=x.device, dtype=x.dtype)
        self.synced = torch.zeros(x.shape[0], dtype=torch.int64, device=x.device)

    def start(self, centers: torch.Tensor, already_picked: int) -> None:
        """Exact distances of every non-centre point to the initial centres."""
        free = torch.ones(self.x.shape[0], dtype=torch.bool, device=self.x.device)
        free[centers] = False
        self._lower(torch.nonzero(free).squeeze(1), centers)
        self.bound[centers] = -float("inf")  # centres are never candidates
        self.synced.fill_(already_picked)

    def refresh_above(self, threshold: float, picks: torch.Tensor, n_picked: int, block: int) -> None:
        """Bring every point whose bound is at least ``threshold`` up to date."""
        self.refresh(torch.nonzero(self.bound >= threshold).squeeze(1), picks, n_picked, block)

    def refresh(self, rows: torch.Tensor, picks: torch.Tensor, n_picked: int, block: int) -> None:
        """Lower the bounds of ``rows`` by the picks each has not seen; groups share a block-aligned start."""
        rows = rows[self.synced[rows] < n_picked]
        if len(rows) == 0:
            return
        starts = torch.div(self.synced[rows], block, rounding_mode="floor") * block
        for start in torch.unique(starts).tolist():
            self._lower(rows[starts == start], picks[start:n_picked])
        self.synced[rows] = n_picked

    def _lower(self, rows: torch.Tensor, centers: torch.Tensor) -> None:
        """``bound[rows] = min(bound[rows], squared distance to the nearest of centers)``, in tiles of
        ``chunk`` rows by at most 1024 centres."""
        for c_start in range(0, len(centers), 1024):
            c_index = centers[c_start : c_start + 1024]
            c, c_sq = self.x[c_index], self.sq_norms[c_index]
            for start in range(0, len(rows), self.chunk):
                part = rows[start : start + self.chunk]
                sq = (self.sq_norms[part][:, None] + c_sq[None, :] - 2.0 * self.x[part] @ c.T).clamp_min_(0.0)
                self.bound[part] = torch.minimum(self.bound[part], sq.min(dim=1).values)


def _center_mask(initial_centers: np.ndarray, n_points: int) -> np.ndarray:
    initial_centers = np.asarray(initial_centers)
    if initial_centers.dtype == bool:
        if initial_centers.shape != (n_points,):
            raise ValueError(f"initial_centers mask has shape {initial_centers.shape}, expected ({n_points},)")
        return initial_centers.copy()
    mask = np.zeros(n_points, dtype=bool)
    mask[initial_centers.astype(np.int64)] = True
    return mask

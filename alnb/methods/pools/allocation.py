"""How many of B labels each cluster receives: equal (B/K) or proportional (|C_j|·B/N) shares.

Shares are rounded to exactly B by the largest-remainder method. A cluster whose share reaches its
size takes all of its points and passes the rest of its share on: the shares are recomputed by the
same rule over the remaining clusters and budget until no cluster overflows. The arithmetic is in
integers, so the counts are exact.
"""

from __future__ import annotations

import numpy as np


def equal_allocation(cluster_sizes, budget: int) -> np.ndarray:
    """Counts per cluster for an equal share B/K of ``budget``; they sum to exactly ``budget``.

    Equal remainders (B not divisible by K) go to the larger clusters first, then the lower ids.
    """
    sizes = _validated_sizes(cluster_sizes, budget)
    return _allocate(sizes, budget, weights=np.ones_like(sizes))


def proportional_allocation(cluster_sizes, budget: int) -> np.ndarray:
    """Counts per cluster for a share |C_j|·B/N of ``budget``; they sum to exactly ``budget``."""
    sizes = _validated_sizes(cluster_sizes, budget)
    return _allocate(sizes, budget, weights=sizes.copy())


def _validated_sizes(cluster_sizes, budget: int) -> np.ndarray:
    sizes = np.asarray(cluster_sizes)
    if sizes.ndim != 1 or not np.issubdtype(sizes.dtype, np.integer):
        raise ValueError(f"cluster sizes must be a 1-d array of integers, got {sizes.dtype} of shape {sizes.shape}")
    if np.any(sizes < 0):
        raise ValueError("cluster sizes must be non-negative")
    if isinstance(budget, bool) or int(budget) != budget or budget < 0:
        raise ValueError(f"budget must be a non-negative integer, got {budget!r}")
    total = int(sizes.sum())
    if budget > total:
        raise ValueError(f"budget {budget} exceeds the {total} points in the clusters")
    return sizes.astype(np.int64)


def _allocate(sizes: np.ndarray, budget: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder shares ``remaining · w_j / Σ w`` over clusters that do not overflow."""
    counts = np.zeros_like(sizes)
    active = sizes > 0
    remaining = int(budget)
    while True:
        denominator = int(weights[active].sum())
        numerators = remaining * weights
        overflowing = active & (numerators >= sizes * denominator)
        if not overflowing.any():
            break
        counts[overflowing] = sizes[overflowing]
        remaining -= int(sizes[overflowing].sum())
        active &= ~overflowing
    if remaining == 0:
        return counts
    floors = np.where(active, numerators // denominator, 0)
    remainders = np.where(active, numerators % denominator, -1)
    counts += floors
    left = remaining - int(floors.sum())
    # largest remainder first, then the larger cluster, then the lower id
    order = np.lexsort((np.arange(len(sizes)), -sizes, -remainders))
    counts[order[:left]] += 1
    return counts

"""Initial pools from pretext-task losses: label the samples the self-supervised model finds hardest.

Names: ``<task>`` (top-B) and ``<task>_bin<n>`` (binned hard + easy) for each task of
:data:`alnb.methods.pretext.PRETEXT_TASKS`, e.g. ``rotation``, ``vae_bin5``. The per-candidate losses come from
``ctx.scores(task)``.
"""

from __future__ import annotations

import numpy as np

from alnb.methods.pools.base import PoolContext, PoolStrategy, register_pool_family
from alnb.methods.pretext import PRETEXT_TASKS
from alnb.methods.selection import top_k


def top_b(scores: np.ndarray, budget: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of the ``budget`` highest scores (the study's Eq. 1); ties broken by ``rng``."""
    return top_k(scores, budget, rng)


def bin_quotas(n_candidates: int, budget: int, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """``(bin sizes, picks per bin)``, both from the hardest bin to the easiest.

    Sizes are ``np.array_split``'s: the first ``N mod n`` bins hold one more. Quotas split the budget
    the same way (largest remainder with equal remainders: the first ``B mod n`` bins, the hardest, take
    one more). Since ``B ≤ N`` no quota ever exceeds its bin: if ``⌊B/n⌋ < ⌊N/n⌋`` a quota is at most
    ``⌊N/n⌋``; otherwise ``B mod n ≤ N mod n``, so every bin with an extra pick also has an extra sample.
    """
    sizes = np.full(n_bins, n_candidates // n_bins)
    sizes[: n_candidates % n_bins] += 1
    quotas = np.full(n_bins, budget // n_bins)
    quotas[: budget % n_bins] += 1
    return sizes, quotas


def binned_hard_easy(scores: np.ndarray, budget: int, n_bins: int, rng: np.random.Generator) -> np.ndarray:
    """Binned hard + easy selection (after Roy, Unmesh, Namboodiri, "Deep active learning for object
    detection", BMVC 2018).

    Sort by score, descending (ties in an ``rng`` order); cut into ``n_bins`` consecutive bins of
    near-equal size; take the highest-scored samples of each of the first ``n_bins − 1`` bins and the
    lowest-scored samples of the last bin, as many as :func:`bin_quotas` assigns. Returns exactly
    ``budget`` unique positions.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)
    if n_bins < 2:
        raise ValueError(f"binned selection needs at least 2 bins, got {n_bins}")
    if not 0 <= budget <= n:
        raise ValueError(f"cannot pick {budget} of {n} candidates")
    order = np.lexsort((rng.permutation(n), -scores))
    sizes, quotas = bin_quotas(n, budget, n_bins)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    picks = [order[start : start + quota] for start, quota in zip(starts[:-1], quotas[:-1])]
    last_end = starts[-1] + sizes[-1]
    picks.append(order[last_end - quotas[-1] : last_end])
    return np.concatenate(picks).astype(np.int64)


@register_pool_family(
    rf"(?P<task>{'|'.join(PRETEXT_TASKS)})(?:_bin(?P<bins>\d+))?",
    examples=tuple(PRETEXT_TASKS) + tuple(f"{task}_bin5" for task in PRETEXT_TASKS),
)
def _pretext_strategy(name: str, task: str, bins: str | None = None) -> PoolStrategy:
    n_bins = None if bins is None else int(bins)
    if n_bins is not None and n_bins < 2:
        raise ValueError(f"al.inits: {name!r} needs at least 2 bins (e.g. {task}_bin5)")

    def build(ctx: PoolContext) -> np.ndarray:
        scores = np.asarray(ctx.scores(task), dtype=np.float64)
        if scores.shape != (len(ctx.candidates),):
            raise ValueError(f"{name}: expected {len(ctx.candidates)} {task} losses, got shape {scores.shape}")
        if n_bins is None:
            positions = top_b(scores, ctx.budget, ctx.rng)
        else:
            positions = binned_hard_easy(scores, ctx.budget, n_bins, ctx.rng)
        return ctx.candidates[positions]

    if n_bins is None:
        return PoolStrategy(name, build, pretext_tasks=(task,))
    return PoolStrategy(
        name,
        build,
        pretext_tasks=(task,),
        min_budget=n_bins,
        min_budget_reason=f"takes samples from each of its {n_bins} bins, hardest to easiest",
    )

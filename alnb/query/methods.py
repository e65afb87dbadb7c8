"""The query methods of the study, each a thin adapter from model outputs to a scoring and a selection rule."""

from __future__ import annotations

import numpy as np

from alnb.query import scores
from alnb.query.base import QueryContext, register_query
from alnb.query.selection import top_k


def _pick_top(ctx: QueryContext, score: np.ndarray) -> np.ndarray:
    return ctx.unlabeled[top_k(score, ctx.budget, ctx.rng)]


@register_query("random")
def random_query(ctx: QueryContext) -> np.ndarray:
    """Uniform random sampling from U (the passive baseline)."""
    return ctx.rng.choice(ctx.unlabeled, size=ctx.budget, replace=False)


@register_query("lc")
def least_confidence_query(ctx: QueryContext) -> np.ndarray:
    """Least confidence, 1 − p1 (Lewis & Gale, SIGIR 1994)."""
    return _pick_top(ctx, scores.least_confidence(ctx.outputs.probs(ctx.unlabeled)))


@register_query("entropy")
def max_entropy_query(ctx: QueryContext) -> np.ndarray:
    """Max-entropy, H(p) (Shannon 1948; Settles 2009)."""
    return _pick_top(ctx, scores.max_entropy(ctx.outputs.probs(ctx.unlabeled)))


@register_query("margin")
def min_margin_query(ctx: QueryContext) -> np.ndarray:
    """Min-margin, −(p1 − p2) (Scheffer et al. 2001)."""
    return _pick_top(ctx, scores.min_margin(ctx.outputs.probs(ctx.unlabeled)))

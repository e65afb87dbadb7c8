"""The query methods of the study, each a thin adapter from model outputs to a scoring and a selection rule."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from alnb import seeding
from alnb.query import scores
from alnb.query.badge import badge_select
from alnb.query.base import QueryContext, register_query
from alnb.query.kcenter import k_center_greedy
from alnb.query.selection import top_k
from alnb.query.vaal import VaalConfig, vaal_labeled_probability


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


@register_query("dbal")
def dbal_query(ctx: QueryContext) -> np.ndarray:
    """DBAL, max-entropy of the MC-dropout mean H(p̄) (Gal, Islam, Ghahramani, ICML 2017)."""
    passes = int(ctx.options.get("mc_passes", 25))
    return _pick_top(ctx, scores.mc_entropy(ctx.outputs.mc_probs(ctx.unlabeled, passes)))


@register_query("bald")
def bald_query(ctx: QueryContext) -> np.ndarray:
    """BALD, H(p̄) − mean_t H(p^(t)) over MC-dropout passes (Houlsby et al. 2011; Gal et al. 2017)."""
    passes = int(ctx.options.get("mc_passes", 25))
    return _pick_top(ctx, scores.bald(ctx.outputs.mc_probs(ctx.unlabeled, passes)))


@register_query("coreset")
def coreset_query(ctx: QueryContext) -> np.ndarray:
    """Coreset, greedy k-center on penultimate features of L ∪ U, L as initial centres (Sener & Savarese, ICLR 2018).

    Deterministic: among equally distant points the one listed first (L, then U in order) wins.
    """
    features = ctx.outputs.embeddings(np.concatenate([ctx.labeled, ctx.unlabeled]))
    n_labeled = len(ctx.labeled)
    picks = k_center_greedy(features, np.arange(n_labeled), ctx.budget, rng=ctx.rng, device=ctx.outputs.device)
    return ctx.unlabeled[picks - n_labeled]


@register_query("vaal")
def vaal_query(ctx: QueryContext) -> np.ndarray:
    """VAAL, the unlabeled samples a latent discriminator finds least likely labeled (Sinha et al., ICCV 2019).

    Options ``vaal_<field>`` override :class:`~alnb.query.vaal.VaalConfig` (e.g. ``vaal_epochs``).
    """
    config = VaalConfig(**{f.name: ctx.options[f"vaal_{f.name}"] for f in fields(VaalConfig)
                           if f"vaal_{f.name}" in ctx.options})
    labeled_probability = vaal_labeled_probability(
        ctx.outputs.images(ctx.labeled), ctx.outputs.images(ctx.unlabeled),
        seed=seeding.stream_seed(ctx.seed, "vaal"), device=ctx.outputs.device, config=config)
    return _pick_top(ctx, -labeled_probability)


@register_query("ens_varr", n_members=3)
def ensemble_variation_ratio_query(ctx: QueryContext) -> np.ndarray:
    """Committee variation ratio, 1 − modal votes / M (Beluch, Genewein, Nürnberger, Köhler, CVPR 2018)."""
    return _pick_top(ctx, scores.variation_ratio(ctx.outputs.member_probs(ctx.unlabeled)))


@register_query("ens_lc", n_members=3)
def ensemble_least_confidence_query(ctx: QueryContext) -> np.ndarray:
    """Committee least confidence on the members' mean softmax (Beluch et al., CVPR 2018)."""
    return _pick_top(ctx, scores.least_confidence(ctx.outputs.probs(ctx.unlabeled)))


@register_query("ens_entropy", n_members=3)
def ensemble_entropy_query(ctx: QueryContext) -> np.ndarray:
    """Committee max-entropy on the members' mean softmax (Beluch et al., CVPR 2018)."""
    return _pick_top(ctx, scores.max_entropy(ctx.outputs.probs(ctx.unlabeled)))


@register_query("ens_margin", n_members=3)
def ensemble_margin_query(ctx: QueryContext) -> np.ndarray:
    """Committee min-margin on the members' mean softmax (Beluch et al., CVPR 2018)."""
    return _pick_top(ctx, scores.min_margin(ctx.outputs.probs(ctx.unlabeled)))


@register_query("badge")
def badge_query(ctx: QueryContext) -> np.ndarray:
    """BADGE, k-means++ seeding on gradient embeddings (Ash et al., ICLR 2020)."""
    picks = badge_select(ctx.outputs.probs(ctx.unlabeled), ctx.outputs.embeddings(ctx.unlabeled), ctx.budget,
                         ctx.rng, device=ctx.outputs.device)
    return ctx.unlabeled[picks]

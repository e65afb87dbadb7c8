"""The query methods of the study, each a thin adapter from model outputs to a scoring and a selection rule."""

from __future__ import annotations

import numpy as np

from alnb.core import seeding
from alnb.methods.k_center_greedy import k_center_greedy
from alnb.methods.query import scores
from alnb.methods.query.badge import badge_select
from alnb.methods.query.base import QueryContext, register_query
from alnb.methods.query.vaal import VaalConfig, vaal_labeled_probability
from alnb.methods.registry import Option, read_options
from alnb.methods.selection import top_k

MC_PASSES = Option(
    "mc_passes",
    int,
    25,
    "MC-dropout forward passes T (al.mc_passes sets it for every method); "
    "with one pass there is no disagreement to measure",
    low=2,
)


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


@register_query("dbal", options=(MC_PASSES,), mc_dropout=True)
def dbal_query(ctx: QueryContext) -> np.ndarray:
    """DBAL, max-entropy of the MC-dropout mean H(p̄) (Gal, Islam, Ghahramani, ICML 2017)."""
    passes = int(MC_PASSES.read(ctx.options))
    return _pick_top(ctx, scores.mc_entropy(ctx.outputs.mc_probs(ctx.unlabeled, passes)))


@register_query("bald", options=(MC_PASSES,), mc_dropout=True)
def bald_query(ctx: QueryContext) -> np.ndarray:
    """BALD, H(p̄) − mean_t H(p^(t)) over MC-dropout passes (Houlsby et al. 2011; Gal et al. 2017)."""
    passes = int(MC_PASSES.read(ctx.options))
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


_VAAL = VaalConfig()
VAAL_OPTIONS = (
    Option(
        "vaal_epochs",
        float,
        _VAAL.epochs,
        "passes over L ∪ U (0 would leave the discriminator untrained)",
        low=0,
        low_open=True,
    ),
    Option("vaal_latent_dim", int, _VAAL.latent_dim, "latent size of the β-VAE", low=1),
    Option("vaal_lr", float, _VAAL.lr, "Adam learning rate of the VAE and the discriminator", low=0, low_open=True),
    Option("vaal_batch_size", int, _VAAL.batch_size, "labeled and unlabeled images per batch", low=1),
    Option("vaal_beta", float, _VAAL.beta, "weight β of the KL term", low=0),
    Option("vaal_adversary_weight", float, _VAAL.adversary_weight, "weight of the VAE's adversarial loss", low=0),
    Option("vaal_vae_steps", int, _VAAL.vae_steps, "VAE steps per iteration", low=1),
    Option(
        "vaal_discriminator_steps",
        int,
        _VAAL.discriminator_steps,
        "discriminator steps per iteration (0 would leave it untrained)",
        low=1,
    ),
    Option("vaal_width", int, _VAAL.width, "channels of the first convolution", low=1),
)


@register_query("vaal", options=VAAL_OPTIONS)
def vaal_query(ctx: QueryContext) -> np.ndarray:
    """VAAL, the unlabeled samples a latent discriminator finds least likely labeled (Sinha et al., ICCV 2019).

    Options ``vaal_<field>`` override :class:`~alnb.methods.query.vaal.VaalConfig` (e.g. ``vaal_epochs``).
    """
    config = VaalConfig(
        **{name.removeprefix("vaal_"): value for name, value in read_options(VAAL_OPTIONS, ctx.options).items()}
    )
    labeled_probability = vaal_labeled_probability(
        ctx.outputs.images(ctx.labeled),
        ctx.outputs.images(ctx.unlabeled),
        seed=seeding.stream_seed(ctx.seed, "vaal"),
        device=ctx.outputs.device,
        config=config,
    )
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
    picks = badge_select(
        ctx.outputs.probs(ctx.unlabeled),
        ctx.outputs.embeddings(ctx.unlabeled),
        ctx.budget,
        ctx.rng,
        device=ctx.outputs.device,
    )
    return ctx.unlabeled[picks]

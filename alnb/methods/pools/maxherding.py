"""MaxHerding (Bae, Noh, Sutherland, "Generalized Coverage for More Robust Low-Budget Active Learning", ECCV 2024).

Kernel herding on L2-normalised self-supervised embeddings: B times, label the point that most raises the
generalised coverage C(S) = (1/N) Σ_i max_{s∈S} exp(−(‖x_i − s‖ / h)²) (ProbCover is its top-hat special
case). The greedy is :func:`alnb.methods.kernel_herding.kernel_herding`: candidates and the points whose coverage counts
are a seeded subsample of U of at most ``herding_candidates`` (default 10,000), as in the reference code;
no N×N kernel is held. Options (``pools.options``): ``herding_bandwidth`` h (default 1.0, the reference's),
``herding_candidates``, ``device``.
"""

from __future__ import annotations

from alnb.methods.kernel_herding import CANDIDATES_OPTION, DEFAULT_BANDWIDTH, kernel_herding
from alnb.methods.pools.neighbors import DEVICE_OPTION
from alnb.methods.pools.on_embeddings import register_embedding_pool
from alnb.methods.registry import Option
from alnb.models.networks import resolve_device

MAXHERDING_OPTIONS = (
    Option(
        "herding_bandwidth",
        float,
        DEFAULT_BANDWIDTH,
        "width h of the RBF kernel on L2-normalised features",
        low=0,
        low_open=True,
    ),
    CANDIDATES_OPTION,
    DEVICE_OPTION,
)


register_embedding_pool(
    "maxherding",
    MAXHERDING_OPTIONS,
    lambda x, ctx, options: kernel_herding(
        x,
        ctx.budget,
        ctx.rng,
        bandwidth=options["herding_bandwidth"],
        max_candidates=options["herding_candidates"],
        device=resolve_device(options["device"]),
    ),
    "MaxHerding",
)

"""The query-method contract: a registered function of a :class:`QueryContext` returning global indices.

Scoring (a pure function of prediction arrays, see :mod:`alnb.methods.query.scores`) is kept apart from
selection (:mod:`alnb.methods.selection`), so scores can be logged and reused. The AL loop, not the
method, checks the invariants (exactly the budget, unique, from U only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from alnb.methods.registry import Option, declared_options, unknown_name_message


class ModelOutputs(Protocol):
    """Arrays computed from the cycle's trained model(s), without augmentation, cached per cycle.

    Every method takes global indices and returns arrays aligned with them.
    """

    n_classes: int
    device: torch.device

    def probs(self, indices: np.ndarray) -> np.ndarray:
        """Softmax ``[n, C]`` (the members' mean for a committee)."""

    def member_probs(self, indices: np.ndarray) -> np.ndarray:
        """Softmax of each committee member ``[M, n, C]`` (M = 1 for a single model)."""

    def mc_probs(self, indices: np.ndarray, passes: int) -> np.ndarray:
        """MC-dropout softmax ``[n, C, T]``: only dropout layers active, BatchNorm in eval mode."""

    def embeddings(self, indices: np.ndarray) -> np.ndarray:
        """Penultimate features ``[n, d]`` of the (first) model."""

    def images(self, indices: np.ndarray) -> torch.Tensor:
        """The uint8 images ``[n, C, H, W]`` (for methods that train on pixels, e.g. VAAL)."""

    def normalized_images(self, indices: np.ndarray) -> torch.Tensor:
        """The float images ``[n, C, H, W]`` normalised as the classifier sees them, on the model's device."""

    def validation_logits(self) -> tuple[np.ndarray, np.ndarray]:
        """Logits ``[n_val, C]`` of the (first) model on the validation set and its labels ``[n_val]``
        (for calibration, e.g. UHerding's temperature); empty arrays when there is no validation set."""


@dataclass
class QueryContext:
    """Everything a query method may read in one cycle."""

    labeled: np.ndarray
    unlabeled: np.ndarray
    budget: int
    rng: np.random.Generator
    outputs: ModelOutputs
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0


@dataclass(frozen=True)
class QueryMethod:
    """A named query method; ``n_members`` > 1 makes the loop train a committee of that size.

    ``options`` are the entries of ``ctx.options`` it reads; ``mc_dropout`` says it samples MC dropout,
    which needs ``model.dropout`` > 0.
    """

    name: str
    select: Callable[[QueryContext], np.ndarray]
    n_members: int = 1
    summary: str = ""
    options: tuple[Option, ...] = ()
    mc_dropout: bool = False


QUERY_METHODS: dict[str, QueryMethod] = {}


def register_query(
    name: str, n_members: int = 1, options: tuple[Option, ...] = (), mc_dropout: bool = False
) -> Callable:
    """Decorator registering ``fn(ctx) -> global indices`` under ``name``, with the options it reads."""

    def wrap(fn: Callable[[QueryContext], np.ndarray]) -> Callable[[QueryContext], np.ndarray]:
        if name in QUERY_METHODS:
            raise ValueError(f"query method {name!r} registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()
        QUERY_METHODS[name] = QueryMethod(name, fn, n_members, doc[0] if doc else "", tuple(options), mc_dropout)
        return fn

    return wrap


def declared_query_options() -> dict[str, list[tuple[str, Option]]]:
    """Every option name of every registered method → the (method, option) pairs declaring it."""
    return declared_options((method.name, method.options) for method in QUERY_METHODS.values())


def get_query_method(name: str, key: str = "al.queries") -> QueryMethod:
    """The method registered as ``name``; an unknown name raises one message naming ``key``."""
    if name not in QUERY_METHODS:
        raise ValueError(unknown_name_message(key, name, list(QUERY_METHODS)))
    return QUERY_METHODS[name]

"""The initial-pool contract: a strategy name resolves to a function of a :class:`PoolContext`.

Strategy names are the study's vocabulary (``random``, ``rotation``, ``vae_bin5``, ``kmeans_equal``,
``kmeans_simclr_prop``, ``typiclust`` …). A family registers a regular expression; its named groups
are passed to the family's factory, which returns the function that picks the pool. The pure
selection rules live beside each family and work on plain arrays; the adapters map positions in
``candidates`` back to global indices.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alnb.methods.registry import Option, declared_options, unknown_name_message


@dataclass
class PoolContext:
    """What an initial-pool strategy may read: U, the budget, a seeded rng and lazy per-candidate arrays.

    ``features(name)`` returns ``[len(candidates), d]`` for a representation (``pixels``, ``pca`` or a
    pretext task's embedding); ``scores(task)`` the pretext task's per-sample loss ``[len(candidates)]``;
    ``clusters(method)`` a clustering's per-candidate assignment ``[len(candidates)]`` (e.g. DeepCluster).
    All are computed on U only: no val or test image is ever seen.

    ``oracle_labels()`` returns the true class of every candidate ``[len(candidates)]``. A practitioner has
    no such labels: it is given only to a strategy registered as an oracle reference
    (:attr:`PoolStrategy.oracle`), and is ``None`` for every other strategy.
    """

    candidates: np.ndarray
    budget: int
    rng: np.random.Generator
    n_classes: int
    features: Callable[[str], np.ndarray]
    scores: Callable[[str], np.ndarray]
    clusters: Callable[[str], np.ndarray] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    oracle_labels: Callable[[], np.ndarray] | None = None


@dataclass(frozen=True)
class PoolStrategy:
    """A resolved strategy: its name, the pretext tasks and representations it reads, and its function.

    ``oracle=True`` marks a reference that reads the true labels of U (``PoolContext.oracle_labels``): an
    upper reference, not a strategy; reports mark it and verdicts never count it among the guided pools.

    ``min_budget`` is the smallest pool it can build as designed; ``min_budget_reason`` says why.
    """

    name: str
    build: Callable[[PoolContext], np.ndarray]
    pretext_tasks: tuple[str, ...] = ()
    representations: tuple[str, ...] = ()
    oracle: bool = False
    min_budget: int = 1
    min_budget_reason: str = ""


@dataclass(frozen=True)
class _Family:
    pattern: re.Pattern
    factory: Callable[..., PoolStrategy]
    examples: tuple[str, ...]
    options: tuple[Option, ...]


POOL_FAMILIES: list[_Family] = []


def register_pool_family(pattern: str, examples: tuple[str, ...], options: tuple[Option, ...] = ()) -> Callable:
    """Decorator: ``factory(name, **groups) -> PoolStrategy`` for every name matching ``pattern``; ``options``
    are the entries of ``ctx.options`` the family reads."""

    def wrap(factory: Callable[..., PoolStrategy]) -> Callable[..., PoolStrategy]:
        POOL_FAMILIES.append(_Family(re.compile(f"^(?:{pattern})$"), factory, examples, tuple(options)))
        return factory

    return wrap


def _family_of(name: str) -> _Family | None:
    return next((family for family in POOL_FAMILIES if family.pattern.match(str(name))), None)


def _label(family: _Family) -> str:
    """A family's name: the word its pattern starts with (``kmeans``, ``typiclust``), else its first example."""
    word = re.match(r"[a-z]+", family.pattern.pattern[4:])
    return word.group(0) if word else family.examples[0]


def pool_family_label(name: str) -> str:
    """The family of a strategy name (``typiclust_vae`` → ``typiclust``, ``kmeans_pca_equal`` → ``kmeans``)."""
    family = _family_of(name)
    return _label(family) if family else str(name)


def declared_pool_options() -> dict[str, list[tuple[str, Option]]]:
    """Every option name of every family → the (family label, option) pairs declaring it."""
    return declared_options((_label(family), family.options) for family in POOL_FAMILIES)


def pool_names() -> list[str]:
    """Example names of every registered family (for messages and docs)."""
    return [name for family in POOL_FAMILIES for name in family.examples]


def is_oracle(name: str) -> bool:
    """Whether the strategy ``name`` is an oracle reference (it reads the true labels of U)."""
    return resolve_pool(name).oracle


def pool_label(name: str) -> str:
    """``name`` as tables and figures show it: an oracle reference is marked ``name (oracle)``."""
    return f"{name} (oracle)" if is_oracle(name) else name


def resolve_pool(name: str, key: str = "al.inits") -> PoolStrategy:
    """The strategy called ``name``; an unknown name raises one message naming ``key`` and the valid names."""
    family = _family_of(name)
    if family is None:
        raise ValueError(unknown_name_message(key, name, pool_names()))
    match = family.pattern.match(str(name))
    return family.factory(name, **{k: v for k, v in match.groupdict().items() if v is not None})

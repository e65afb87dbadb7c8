"""The self-supervised models trained on U: one result type and one registry for all of them.

Each model registers a :class:`SelfSupervisedMethod` (``register_self_supervised``) that declares its settings
(training settings and model options, read from ``pretext.settings.<name>``) as
:class:`~alnb.methods.registry.Option` tuples, as pools and query methods declare theirs, and how it trains.
A pretext task (rotation, inpainting, VAE, SimCLR) scores every image by its loss; DeepCluster clusters the
images instead. Every model returns a :class:`PretextResult`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from alnb.methods.registry import Option, declared_options, read_options, unknown_name_message

ENCODER_PREFIX = "encoder."


@dataclass
class PretextResult:
    """What one trained self-supervised model leaves behind, aligned with the images it was given.

    ``embeddings`` ``[N, d]`` float32 are the encoder's features in eval mode after training; a pretext task's
    ``losses`` ``[N]`` float64 score every image (None for DeepCluster), DeepCluster's ``assignments`` ``[N]``
    are its last clustering (None for a pretext task). ``history`` holds one entry per epoch (the mean training
    loss; DeepCluster: a record of its loss and stability); ``metrics`` pool means of the task's diagnostics
    (e.g. ``rotation_accuracy``) and timings; ``settings`` everything needed to reproduce the run;
    ``state_dict`` the model's weights on the CPU, the encoder's under ``encoder.``.
    """

    task: str
    losses: np.ndarray | None
    embeddings: np.ndarray
    history: list
    metrics: dict[str, float]
    state_dict: dict[str, torch.Tensor]
    settings: dict[str, Any] = field(default_factory=dict)
    assignments: np.ndarray | None = None

    def encoder_state(self) -> dict[str, torch.Tensor]:
        """The encoder's weights, as a classifier's backbone loads them (``model.init``)."""
        return {k[len(ENCODER_PREFIX) :]: v for k, v in self.state_dict.items() if k.startswith(ENCODER_PREFIX)}


@dataclass(frozen=True)
class SelfSupervisedMethod:
    """A registered self-supervised model.

    ``train(images, seed, device, *, n_classes, arch, **settings)`` trains it on uint8 ``images``
    ``[N, C, H, W]`` (U only) and returns a :class:`PretextResult`; ``settings`` are the entries of
    ``pretext.settings.<name>``, declared by ``options``. A pretext task also has ``build(arch, in_channels,
    image_size, mean, std, **model options)``, its model, whose options are named by ``model_options``.
    """

    name: str
    paper: str
    train: Callable[..., PretextResult]
    options: tuple[Option, ...]
    build: Callable[..., torch.nn.Module] | None = None
    model_options: tuple[str, ...] = ()

    @property
    def scores(self) -> bool:
        """Whether it scores every image by its loss (a pretext task); DeepCluster clusters instead."""
        return self.build is not None

    def settings(self, given: dict[str, Any]) -> dict[str, Any]:
        """Every setting of this method, as given or by default."""
        return read_options(self.options, given)


SELF_SUPERVISED: dict[str, SelfSupervisedMethod] = {}


def register_self_supervised(method: SelfSupervisedMethod) -> SelfSupervisedMethod:
    if method.name in SELF_SUPERVISED:
        raise ValueError(f"self-supervised model {method.name!r} registered twice")
    SELF_SUPERVISED[method.name] = method
    return method


def self_supervised_method(name: str, key: str = "pretext.tasks") -> SelfSupervisedMethod:
    """The model registered as ``name``; an unknown name raises one message naming ``key`` and the valid names."""
    if name not in SELF_SUPERVISED:
        raise ValueError(unknown_name_message(key, name, list(SELF_SUPERVISED)))
    return SELF_SUPERVISED[name]


def declared_self_supervised_options(name: str) -> dict[str, list[tuple[str, Option]]]:
    """The options of the model ``name`` (for :func:`alnb.methods.registry.check_options`)."""
    return declared_options([(name, self_supervised_method(name).options)])


def train_self_supervised(
    name: str,
    images: torch.Tensor,
    seed: int,
    device: str | torch.device = "cpu",
    *,
    n_classes: int,
    arch: str = "auto",
    **settings: Any,
) -> PretextResult:
    """Train the model ``name`` on ``images`` (the pool U only) of a dataset of ``n_classes`` classes."""
    return self_supervised_method(name).train(images, seed, device, n_classes=n_classes, arch=arch, **settings)

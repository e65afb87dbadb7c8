"""Train a pretext task on the unlabeled pool U and score every sample by its loss.

``train_pretext(task, images, seed, device)`` trains the task's model from a seed and returns a
:class:`~alnb.methods.pretext.registry.PretextResult`: per-sample losses and embeddings computed in eval mode, without augmentation,
after training. All randomness comes from streams of :mod:`alnb.core.seeding` keyed by ``("pretext", task)``:
weights ("init", drawn on the CPU under ``torch.random.fork_rng``), batch order ("order", numpy) and
augmentation / reparameterisation noise ("noise", a ``torch.Generator`` on ``device``); the global RNGs are
never touched, and the same seed gives identical results on the CPU.

Batches are near-equal consecutive blocks (``np.array_split`` into ``ceil(N / batch_size)``) of a fresh
permutation each epoch; evaluation uses the same blocking of the pool in index order, which fixes the
negatives of SimCLR's score. The optimiser is Adam.

A task module registers itself with :func:`pretext_task`: its model's ``build`` and options, and the training
settings' defaults sized for the digits study (~1,150 images of 8×8: every task trains and scores in well under a
minute on a 2-core CPU; paper-scale runs pass their own epochs, batch_size, lr and arch).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch

from alnb.core import seeding
from alnb.methods.pretext.registry import (
    PretextResult,
    SelfSupervisedMethod,
    register_self_supervised,
    self_supervised_method,
)
from alnb.methods.registry import Option
from alnb.models.networks import resolve_arch


def pretext_task(
    name: str, paper: str, build: Callable[..., torch.nn.Module], epochs: int, batch_size: int, model=()
) -> SelfSupervisedMethod:
    """Register the pretext task ``name``: its model ``build(arch, in_channels, image_size, mean, std,
    **model options)``, the options of that model (``model``) and the defaults of its training settings."""
    training = (
        Option("epochs", int, epochs, "training epochs", low=1),
        Option("batch_size", int, batch_size, "images per batch", low=1),
        Option("lr", float, 1e-3, "Adam's learning rate", low=0, low_open=True),
        Option("weight_decay", float, 0.0, "Adam's weight decay", low=0),
    )
    return register_self_supervised(
        SelfSupervisedMethod(
            name,
            paper,
            partial(_train_registered, name),
            (*training, *model),
            build,
            tuple(option.name for option in model),
        )
    )


def _train_registered(task: str, images: torch.Tensor, seed: int, device, *, n_classes: int, arch: str, **settings):
    return train_pretext(task, images, seed, device, arch=arch, **settings)  # a pretext task needs no classes


def _check_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError("pretext images: expected a uint8 tensor [N, C, H, W]")
    if images.shape[0] < 2 or images.shape[2] != images.shape[3]:
        raise ValueError(f"pretext images: expected at least 2 square images, got shape {tuple(images.shape)}")


def channel_stats(images: torch.Tensor, chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images on the [0, 1] scale, accumulated in float64 over chunks."""
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    squares = torch.zeros_like(total)
    for start in range(0, images.shape[0], chunk):
        x = images[start : start + chunk].to(torch.float64).div_(255.0)
        total += x.sum(dim=(0, 2, 3)).cpu()
        squares += x.square().sum(dim=(0, 2, 3)).cpu()
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    std = (squares / count - mean.square()).clamp_min(0.0).sqrt().clamp_min(1e-3)
    return mean.float(), std.float()


def blocks(n: int, batch_size: int, order: np.ndarray | None = None) -> list[np.ndarray]:
    """``order`` (default ``arange(n)``) cut into ``ceil(n / batch_size)`` consecutive blocks of near-equal size."""
    order = np.arange(n) if order is None else order
    return np.array_split(order, max(1, math.ceil(n / batch_size)))


def train_pretext(
    task: str,
    images: torch.Tensor,
    seed: int,
    device: str | torch.device = "cpu",
    *,
    arch: str = "auto",
    **settings: Any,
) -> PretextResult:
    """Train ``task`` on ``images`` (uint8 ``[N, C, H, W]``, the pool U only) and score every image.

    ``settings`` are the task's declared options (``epochs``, ``batch_size``, ``lr``, ``weight_decay`` and its
    model's, e.g. ``temperature`` for SimCLR, ``latent_dim`` for the VAE), each by default when not given;
    ``arch`` is passed to :func:`alnb.models.networks.build_backbone`.
    """
    method = self_supervised_method(task)
    _check_images(images)
    values = method.settings(settings)
    epochs, batch_size, lr = int(values["epochs"]), int(values["batch_size"]), float(values["lr"])
    weight_decay = values["weight_decay"]
    task_options = {name: settings[name] for name in method.model_options if name in settings}
    device = torch.device(device)
    n, channels, size = images.shape[0], images.shape[1], images.shape[-1]
    arch = resolve_arch(arch, size)

    mean, std = channel_stats(images)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeding.stream_seed(seed, "pretext", task, "init"))
        model = method.build(arch, channels, size, mean, std, **{n: values[n] for n in method.model_options})
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    order_rng = seeding.rng(seed, "pretext", task, "order")
    noise = seeding.torch_generator(seed, "pretext", task, "noise", device=device)
    pixels = images.to(device)

    def batch(indices: np.ndarray) -> torch.Tensor:
        return pixels[torch.from_numpy(indices).to(device)].float().div_(255.0)

    started = time.perf_counter()
    history = []
    model.train()
    for _ in range(epochs):
        total = 0.0
        for indices in blocks(n, batch_size, order_rng.permutation(n)):
            loss = model.training_loss(batch(indices), noise).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(indices)
        history.append(total / n)
    trained = time.perf_counter()

    model.eval()
    losses, embeddings, extras = [], [], {}
    with torch.inference_mode():
        for indices in blocks(n, batch_size):
            loss, embedding, extra = model.evaluate(batch(indices))
            losses.append(loss.double().cpu())
            embeddings.append(embedding.float().cpu())
            for name, values in extra.items():
                extras.setdefault(name, []).append(values.double().cpu())
    metrics = {name: float(torch.cat(values).mean()) for name, values in extras.items()}
    metrics.update(train_seconds=trained - started, score_seconds=time.perf_counter() - trained)
    settings = {
        "task": task,
        "seed": int(seed),
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "arch": arch,
        "weight_decay": weight_decay,
        "n_images": n,
        "image_shape": list(images.shape[1:]),
        "options": task_options,
    }
    return PretextResult(
        task,
        torch.cat(losses).numpy(),
        torch.cat(embeddings).numpy(),
        history,
        metrics,
        {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        settings,
    )


def build_model(result: PretextResult) -> torch.nn.Module:
    """The trained model of ``result`` (on the CPU, eval mode), rebuilt from its settings and weights."""
    settings = result.settings
    channels, size = settings["image_shape"][0], settings["image_shape"][-1]
    state = result.state_dict
    mean, std = state["pixel_mean"].flatten(), state["pixel_std"].flatten()
    method = self_supervised_method(result.task)
    values = method.settings(settings["options"])
    model = method.build(settings["arch"], channels, size, mean, std, **{n: values[n] for n in method.model_options})
    model.load_state_dict(state)
    return model.eval()

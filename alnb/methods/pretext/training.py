"""Train a pretext task on the unlabeled pool U and score every sample by its loss.

``train_pretext(task, images, seed, device)`` trains the task's model from a seed and returns a
:class:`PretextResult`: per-sample losses and embeddings computed in eval mode, without augmentation,
after training. All randomness comes from streams of :mod:`alnb.core.seeding` keyed by ``("pretext", task)``:
weights ("init", drawn on the CPU under ``torch.random.fork_rng``), batch order ("order", numpy) and
augmentation / reparameterisation noise ("noise", a ``torch.Generator`` on ``device``); the global RNGs are
never touched, and the same seed gives identical results on the CPU.

Batches are near-equal consecutive blocks (``np.array_split`` into ``ceil(N / batch_size)``) of a fresh
permutation each epoch; evaluation uses the same blocking of the pool in index order, which fixes the
negatives of SimCLR's score. The optimiser is Adam.
"""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import torch

from alnb.core import seeding
from alnb.methods.pretext import inpainting, rotation, simclr, vae
from alnb.models.networks import resolve_arch

PRETEXT_TASKS = ("rotation", "inpainting", "vae", "simclr")
_MODULES: dict[str, ModuleType] = {"rotation": rotation, "inpainting": inpainting, "vae": vae, "simclr": simclr}

# Defaults sized for the digits study (~1,150 images of 8×8): all four tasks train and score in well under a
# minute on a 2-core CPU. Paper-scale runs (CIFAR-10, ResNet18) pass their own epochs, batch_size, lr, arch.
DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "rotation": {"epochs": 10, "batch_size": 128, "lr": 1e-3},
    "inpainting": {"epochs": 20, "batch_size": 64, "lr": 1e-3},
    "vae": {"epochs": 20, "batch_size": 64, "lr": 1e-3},
    "simclr": {"epochs": 25, "batch_size": 128, "lr": 1e-3},
}


@dataclass
class PretextResult:
    """What one trained pretext task leaves behind, aligned with the images it was given.

    ``losses`` ``[N]`` float64 and ``embeddings`` ``[N, d]`` float32 are computed in eval mode after
    training; ``history`` is the mean training loss of each epoch; ``metrics`` holds pool means of the
    task's diagnostics (e.g. ``rotation_accuracy``) and timings; ``settings`` everything needed to
    reproduce the run; ``state_dict`` the model's weights on the CPU.
    """

    task: str
    losses: np.ndarray
    embeddings: np.ndarray
    history: list[float]
    metrics: dict[str, float]
    state_dict: dict[str, torch.Tensor]
    settings: dict[str, Any] = field(default_factory=dict)


def check_task(task: str) -> str:
    """``task`` if it is a pretext task, else one ValueError naming the valid ones."""
    if task not in PRETEXT_TASKS:
        raise ValueError(f"pretext task {task!r} is unknown; valid: {', '.join(PRETEXT_TASKS)}")
    return task


def _check_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError("pretext images: expected a uint8 tensor [N, C, H, W]")
    if images.shape[0] < 2 or images.shape[2] != images.shape[3]:
        raise ValueError(f"pretext images: expected at least 2 square images, got shape {tuple(images.shape)}")


def task_options(task: str) -> list[str]:
    """The names of the options of ``task``'s model (e.g. ``latent_dim`` for the VAE)."""
    parameters = inspect.signature(_MODULES[check_task(task)].build).parameters
    return [name for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]


def _check_options(task: str, options: dict[str, Any]) -> None:
    valid = task_options(task)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(
            f"pretext task {task!r}: unknown option(s) {', '.join(unknown)}; valid: {', '.join(valid) or 'none'}"
        )


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
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    arch: str = "auto",
    weight_decay: float = 0.0,
    **task_options: Any,
) -> PretextResult:
    """Train ``task`` on ``images`` (uint8 ``[N, C, H, W]``, the pool U only) and score every image.

    ``epochs``, ``batch_size`` and ``lr`` default to :data:`DEFAULT_SETTINGS`; ``arch`` is passed to
    :func:`alnb.models.networks.build_backbone`; ``task_options`` go to the task's model (e.g. ``temperature`` for
    SimCLR, ``latent_dim`` for the VAE, ``decoder_width`` for VAE and inpainting).
    """
    check_task(task)
    _check_images(images)
    _check_options(task, task_options)
    defaults = DEFAULT_SETTINGS[task]
    epochs = defaults["epochs"] if epochs is None else int(epochs)
    batch_size = defaults["batch_size"] if batch_size is None else int(batch_size)
    lr = defaults["lr"] if lr is None else float(lr)
    if epochs < 0 or batch_size < 1 or lr <= 0:
        raise ValueError(f"pretext {task}: need epochs >= 0, batch_size >= 1, lr > 0; got {epochs}, {batch_size}, {lr}")
    device = torch.device(device)
    n, channels, size = images.shape[0], images.shape[1], images.shape[-1]
    arch = resolve_arch(arch, size)

    mean, std = channel_stats(images)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeding.stream_seed(seed, "pretext", task, "init"))
        model = _MODULES[task].build(arch, channels, size, mean, std, **task_options)
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
    model = _MODULES[result.task].build(settings["arch"], channels, size, mean, std, **settings["options"])
    model.load_state_dict(state)
    return model.eval()

"""Training throughput: alnb's in-memory tensor path against the per-sample DataLoader of older AL toolkits.

Both sides train the same model (same architecture and initialisation), on the same images, with the
same batch size and optimizer (Adam, lr 1e-3), one torch thread each, and the same augmentation
(random horizontal flip):

* alnb: ``alnb.models.training.train_epoch`` — the uint8 images stay in one tensor; each batch is cut,
  normalised and flipped as a tensor; channels_last convolutions; Adam as one fused kernel; the loss
  is read once per epoch.
* baseline: a ``torch.utils.data.DataLoader`` over a per-sample dataset that turns each image into a
  PIL image and applies ``RandomHorizontalFlip, ToTensor, Normalize`` (torchvision), with the loop of
  those toolkits (NCHW model, Adam's default kernel, ``loss.item()`` every step, a DataLoader whose
  workers start with each epoch); the better of 0 and 2 workers.

ResNet18 is also timed under ``training.precision: bf16`` (autocast; opt-in, the CPU default is fp32)
against the same fp32 baseline, in the same rounds, as a separate row.

    python benchmarks/bench_training.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from timing import Row, side_by_side  # noqa: E402

BATCH_SIZE = 64
LR = 1e-3


def synthetic_dataset(name: str, n: int, channels: int, size: int, n_classes: int = 10):
    """Random uint8 images of a given shape (throughput does not depend on the pixels)."""
    from alnb.data.datasets import Dataset

    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, (n, channels, size, size), dtype=np.uint8))
    labels = torch.from_numpy(rng.integers(0, n_classes, n))
    return Dataset(name, images, labels, images[:10], labels[:10], tuple(str(c) for c in range(n_classes)))


class PILImages(torch.utils.data.Dataset):
    """The older toolkits' dataset: one PIL image per ``__getitem__``, transformed by torchvision."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        from PIL import Image

        image = self.images[index]
        image = Image.fromarray(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0))
        return self.transform(image), int(self.labels[index])


def pil_transform(dataset, train: bool):
    from torchvision import transforms

    mean, std = dataset.channel_stats()
    steps = [transforms.RandomHorizontalFlip()] if train else []
    return transforms.Compose([*steps, transforms.ToTensor(), transforms.Normalize(mean.tolist(), std.tolist())])


def dataloader(dataset, workers: int, train: bool, batch_size: int, samples: int | None = None):
    """A DataLoader over ``samples`` random images per epoch (all by default)."""
    ds = PILImages(dataset.train_images.numpy(), dataset.train_labels.numpy(), pil_transform(dataset, train))
    sampler = torch.utils.data.RandomSampler(ds, num_samples=samples) if train else None
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, sampler=sampler, num_workers=workers)


def baseline_epoch(model, optimizer, loader) -> float:
    model.train()
    total = 0.0
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total


def throughput_rows(
    label: str,
    dataset,
    arch: str,
    repeats: int,
    samples: int | None = None,
    note: str = "",
    precisions: tuple[str, ...] = ("fp32",),
) -> list[Row]:
    """Images/s of one epoch (or of ``samples`` images of it) for alnb at each of ``precisions`` and for the
    better DataLoader (always fp32, as the older toolkits train), all timed in the same alternating rounds."""
    from alnb.models.networks import build_classifier
    from alnb.models.training import ImageTensors, fresh_classifier, make_optimizer, train_epoch
    from alnb.run.validation import params_from_dict

    n = samples or dataset.n_train
    data = ImageTensors(dataset, torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    candidates = {}
    for precision in precisions:
        params = params_from_dict(
            {"model": {"arch": arch}, "training": {"lr": LR, "batch_size": BATCH_SIZE, "precision": precision}}
        )
        model = fresh_classifier(data, params, dataset.n_classes, seed=0)
        optimizer = make_optimizer(model, params.training)

        def alnb_epoch(model=model, optimizer=optimizer, precision=precision):
            order = torch.randperm(dataset.n_train, generator=generator)[:n]
            float(train_epoch(model, optimizer, data, order, BATCH_SIZE, True, generator, precision))

        candidates[precision] = alnb_epoch
    for workers in (0, 2):
        base = build_classifier(arch, dataset.in_channels, dataset.image_size, dataset.n_classes, 0.3, seed=0)
        base_opt = torch.optim.Adam(base.parameters(), lr=LR)
        loader = dataloader(dataset, workers, True, BATCH_SIZE, samples)
        candidates[f"workers={workers}"] = (lambda m, o, d: lambda: baseline_epoch(m, o, d))(base, base_opt, loader)
    seconds = side_by_side(candidates, repeats)
    best = min(("workers=0", "workers=2"), key=seconds.get)
    detail = f"{note}; baseline {best}; median of {repeats}".lstrip("; ")
    return [
        Row(
            label if precision == "fp32" else f"{label}, {precision} autocast (opt-in)",
            n / seconds[precision],
            n / seconds[best],
            "images/s",
            detail if precision == "fp32" else f"{detail}; baseline fp32",
            higher_is_better=True,
        )
        for precision in precisions
    ]


def rows() -> list[Row]:
    from alnb.data.datasets import load_dataset

    torch.set_num_threads(1)
    return [
        *throughput_rows(
            "training: 8×8 digits, small CNN",
            load_dataset("digits"),
            "smallcnn",
            repeats=15,
            note="epoch of 1,347 images",
        ),
        *throughput_rows(
            "training: 28×28, small CNN",
            synthetic_dataset("mnist_shaped", 6_000, 1, 28),
            "smallcnn",
            repeats=5,
            note="epoch of 6,000 MNIST-shaped images",
        ),
        *throughput_rows(
            "training: 32×32, ResNet18",
            synthetic_dataset("cifar_shaped", 50_000, 3, 32),
            "resnet18",
            repeats=5,
            samples=320,
            precisions=("fp32", "bf16"),
            note="5 batches (320 images) of a 50,000-image CIFAR-shaped epoch per repeat",
        ),
    ]


if __name__ == "__main__":
    for row in rows():
        print(row)

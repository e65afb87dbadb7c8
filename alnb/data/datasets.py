"""Datasets of the study, held in memory as uint8 tensors, and their train/val/test splits.

Global indices index the dataset's train arrays (``train_images``). The unlabeled pool U is the
train split minus the validation indices; the test split is separate and never indexed by a sampler.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from alnb.core import seeding
from alnb.data.loaders import Source, resolve_size
from alnb.data.specs import DATASETS, SPECS


@dataclass(frozen=True)
class Dataset:
    """Images as uint8 ``[N, C, H, W]`` tensors, labels as int64 tensors, per-channel statistics."""

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_train(self) -> int:
        return int(self.train_images.shape[0])

    @property
    def in_channels(self) -> int:
        return int(self.train_images.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.train_images.shape[-1])

    def channel_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel mean and std of the train images on the [0, 1] scale."""
        x = self.train_images.float().div_(255.0)
        return x.mean(dim=(0, 2, 3)), x.std(dim=(0, 2, 3)).clamp_min(1e-6)


@dataclass(frozen=True)
class Splits:
    """Global indices of the unlabeled pool U and of the validation set, both into the train arrays."""

    pool: np.ndarray
    val: np.ndarray


class DatasetNotFound(FileNotFoundError):
    """Raised when a dataset is not on disk and downloads are off; names the folder and files."""


def load_dataset(
    name: str,
    root: str | Path = "data",
    download: bool = False,
    test_size: float | int = 0.25,
    imbalance_factor: float | None = None,
    image_size: int | None = None,
    train_subset: int | float | None = None,
    cache_dir: str | Path | None = None,
) -> Dataset:
    """Load ``name`` into memory through its spec's reader (:data:`alnb.data.specs.SPECS`); ``train_subset`` keeps a
    seeded, stratified subset of its train split, ``imbalance_factor`` then makes that long-tailed (Cui et al. 2019).

    ``test_size`` applies to ``digits`` and to an ``imagefolder`` without a test folder, which have no
    official test split: the test split is then carved with a fixed seed, identical for every trial.
    ``image_size`` is the side to which an ``imagefolder``'s images are resized (``root`` is that folder);
    its decoded arrays, and TinyImageNet's, are cached in ``cache_dir`` (default: the user's cache folder,
    :mod:`alnb.data.cache`), never under ``root``. Missing files are downloaded with ``download`` where
    torchvision publishes them, else :class:`DatasetNotFound` names the folder and the files.
    """
    if name not in SPECS:
        raise ValueError(f"unknown dataset {name!r}; valid: {', '.join(DATASETS)}")
    spec, root = SPECS[name], Path(root)
    if spec.missing_files(root):
        if not (download and spec.fetch):
            raise missing_dataset(name, root)
        spec.fetch(spec, root)
    source = Source(root, test_size, image_size, Path(cache_dir) if cache_dir else None)
    x_tr, y_tr, x_te, y_te, classes = spec.read(spec, source)
    dataset = Dataset(name, *_tensors(x_tr, y_tr), *_tensors(x_te, y_te), classes)
    if train_subset is not None:
        dataset = subset_of_train(dataset, train_subset)
    if imbalance_factor is not None:
        dataset = long_tailed(dataset, imbalance_factor)
    return dataset


def missing_dataset(name: str, root: str | Path) -> DatasetNotFound:
    """The error for a dataset whose files are not all under ``root``: it names the folder and the files."""
    spec = SPECS[name]
    how = "downloads are off" if spec.fetch else "it cannot be downloaded"
    return DatasetNotFound(
        f"{name} is not on disk ({how}). Expected in {Path(root) / spec.folder}: {', '.join(spec.missing_files(root))}"
    )


def _tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8)), torch.from_numpy(
        np.asarray(labels, dtype=np.int64)
    )


SUBSET_SEED = 20260102


def subset_counts(class_counts: np.ndarray, size: int | float) -> np.ndarray:
    """Images kept per class by ``data.train_subset``: each class's share of ``size`` (a count, or a fraction
    of the train split), by largest remainders so that the counts add up to the whole."""
    class_counts = np.asarray(class_counts, dtype=np.int64)
    total = int(class_counts.sum())
    n = resolve_size(size, total, "train_subset")
    exact = class_counts * (n / total)
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def subset_of_train(dataset: Dataset, size: int | float) -> Dataset:
    """A stratified subset of the train split (``data.train_subset``), drawn with the fixed seed ``SUBSET_SEED``
    so that every trial, seed and notebook sees the same images; the test split is kept whole."""
    labels = dataset.train_labels.numpy()
    counts = subset_counts(np.bincount(labels, minlength=dataset.n_classes), size)
    rng = np.random.default_rng(SUBSET_SEED)
    keep = np.sort(
        np.concatenate([rng.permutation(np.flatnonzero(labels == c))[: counts[c]] for c in range(dataset.n_classes)])
    )
    keep_t = torch.from_numpy(keep)
    return replace(dataset, train_images=dataset.train_images[keep_t], train_labels=dataset.train_labels[keep_t])


def long_tail_counts(n_max: int, n_classes: int, imbalance_factor: float) -> np.ndarray:
    """Images kept per class: ``floor(n_max · (1/IF)^(c/(C−1)))`` (Cui, Jia, Lin, Song, Belongie, CVPR 2019)."""
    if imbalance_factor < 1:
        raise ValueError(f"imbalance_factor: must be >= 1, got {imbalance_factor}")
    exponents = np.arange(n_classes) / max(n_classes - 1, 1)
    return np.floor(n_max * (1.0 / imbalance_factor) ** exponents + 1e-9).astype(int)


def long_tailed(dataset: Dataset, imbalance_factor: float) -> Dataset:
    """Keep the first ``long_tail_counts`` images of each class of the train split; test stays balanced."""
    labels = dataset.train_labels.numpy()
    n_max = int(np.bincount(labels, minlength=dataset.n_classes).max())
    counts = long_tail_counts(n_max, dataset.n_classes, imbalance_factor)
    keep = np.sort(np.concatenate([np.flatnonzero(labels == c)[: counts[c]] for c in range(dataset.n_classes)]))
    keep_t = torch.from_numpy(keep)
    return replace(
        dataset,
        name=f"{dataset.name}_lt{imbalance_factor:g}",
        train_images=dataset.train_images[keep_t],
        train_labels=dataset.train_labels[keep_t],
    )


def make_splits(dataset: Dataset, val_size: float | int, seed: int) -> Splits:
    """Carve a validation set from the train split with the trial's "split" stream; the rest is U."""
    n = dataset.n_train
    n_val = resolve_size(val_size, n, "val_size")
    order = seeding.rng(seed, "split").permutation(n)
    return Splits(pool=np.sort(order[n_val:]), val=np.sort(order[:n_val]))


def check_dataset_files(name: str, root: str | Path = "data", download: bool = False, verify: bool = False) -> None:
    """Run the reader's checks of ``name``'s files (or its layout check, which decodes no image) and, with
    ``verify``, compare the md5 sums that torchvision publishes; raise :class:`~alnb.data.checks.DatasetError`
    or :class:`DatasetNotFound` in one line.

    ``digits`` is bundled and an image folder is checked as it is read; files still to be downloaded are checked
    when they are loaded (torchvision checks the md5 sums of what it downloads).
    """
    spec, root = SPECS[name], Path(root)
    if not spec.on_disk:
        return
    if spec.missing_files(root):
        if download and spec.fetch:
            return
        raise missing_dataset(name, root)
    if spec.check_layout:
        spec.check_layout(spec, root)
    else:
        spec.read(spec, Source(root))
    if verify and spec.verify:
        spec.verify(spec, root)

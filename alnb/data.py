"""Datasets of the study, held in memory as uint8 tensors, and their train/val/test splits.

Global indices index the dataset's train arrays (``train_images``). The unlabeled pool U is the
train split minus the validation indices; the test split is separate and never indexed by a sampler.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from alnb import seeding

DATASETS = ("digits", "mnist", "cifar10", "cifar100", "tinyimagenet", "imagefolder")


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


def load_dataset(name: str, root: str | Path = "data", download: bool = False, test_size: float | int = 0.25,
                 imbalance_factor: float | None = None, image_size: int | None = None) -> Dataset:
    """Load ``name`` into memory; ``imbalance_factor`` makes its train split long-tailed (Cui et al. 2019).

    ``test_size`` applies to ``digits`` and to an ``imagefolder`` without a test folder, which have no
    official test split: the test split is then carved with a fixed seed, identical for every trial.
    ``image_size`` is the side to which an ``imagefolder``'s images are resized (``root`` is that folder).
    """
    loaders = {"digits": _load_digits, "mnist": _load_mnist, "cifar10": _load_cifar10,
               "cifar100": _load_cifar100, "tinyimagenet": _load_tinyimagenet}
    if name not in loaders and name != "imagefolder":
        raise ValueError(f"data.dataset: unknown dataset {name!r}; valid: {', '.join(DATASETS)}")
    if name == "digits":
        dataset = _load_digits(test_size)
    elif name == "imagefolder":
        from alnb.imagefolder import load_imagefolder

        dataset = load_imagefolder(Path(root), image_size, test_size)
    else:
        dataset = loaders[name](Path(root), download)
    if imbalance_factor is not None:
        dataset = long_tailed(dataset, imbalance_factor)
    return dataset


def long_tail_counts(n_max: int, n_classes: int, imbalance_factor: float) -> np.ndarray:
    """Images kept per class: ``floor(n_max · (1/IF)^(c/(C−1)))`` (Cui, Jia, Lin, Song, Belongie, CVPR 2019)."""
    if imbalance_factor < 1:
        raise ValueError(f"data.imbalance_factor: must be >= 1, got {imbalance_factor}")
    exponents = np.arange(n_classes) / max(n_classes - 1, 1)
    return np.floor(n_max * (1.0 / imbalance_factor) ** exponents + 1e-9).astype(int)


def long_tailed(dataset: Dataset, imbalance_factor: float) -> Dataset:
    """Keep the first ``long_tail_counts`` images of each class of the train split; test stays balanced."""
    labels = dataset.train_labels.numpy()
    n_max = int(np.bincount(labels, minlength=dataset.n_classes).max())
    counts = long_tail_counts(n_max, dataset.n_classes, imbalance_factor)
    keep = np.sort(np.concatenate([np.flatnonzero(labels == c)[:counts[c]] for c in range(dataset.n_classes)]))
    keep_t = torch.from_numpy(keep)
    return replace(dataset, name=f"{dataset.name}_lt{imbalance_factor:g}",
                   train_images=dataset.train_images[keep_t], train_labels=dataset.train_labels[keep_t])


def make_splits(dataset: Dataset, val_size: float | int, seed: int) -> Splits:
    """Carve a validation set from the train split with the trial's "split" stream; the rest is U."""
    n = dataset.n_train
    n_val = resolve_size(val_size, n, "data.val_size")
    order = seeding.rng(seed, "split").permutation(n)
    return Splits(pool=np.sort(order[n_val:]), val=np.sort(order[:n_val]))


def resolve_size(size: float | int, total: int, key: str) -> int:
    """An int is a count; a float in (0, 1] is a fraction of ``total`` (rounded down, at least 1)."""
    if isinstance(size, bool) or not isinstance(size, (int, float)):
        raise ValueError(f"{key}: expected a count (int) or a fraction in (0, 1] (float), got {size!r}")
    if isinstance(size, float):
        if not 0 < size <= 1:
            raise ValueError(f"{key}: a fraction must lie in (0, 1], got {size}")
        return max(1, int(size * total))
    if size < 0 or size > total:
        raise ValueError(f"{key}: count {size} is outside [0, {total}]")
    return int(size)


# ----------------------------------------------------------------------------- loaders

def _tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8)), torch.from_numpy(
        np.asarray(labels, dtype=np.int64))


def _load_digits(test_size: float | int) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    labels = bunch.target
    n_test = resolve_size(test_size, len(labels), "data.test_size")
    order = np.random.default_rng(20260101).permutation(len(labels))
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    x_tr, y_tr = _tensors(images[train], labels[train])
    x_te, y_te = _tensors(images[test], labels[test])
    return Dataset("digits", x_tr, y_tr, x_te, y_te, tuple(str(c) for c in range(10)))


def _missing(name: str, folder: Path, files: list[str]) -> DatasetNotFound:
    return DatasetNotFound(
        f"data.dataset: {name} is not on disk and data.download is false. Expected in {folder}: "
        f"{', '.join(files)}. Put the files there or set data.download: true.")


def _load_mnist(root: Path, download: bool) -> Dataset:
    from torchvision.datasets import MNIST

    raw = root / "MNIST" / "raw"
    files = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte"]
    try:
        train, test = MNIST(str(root), train=True, download=download), MNIST(str(root), train=False)
    except RuntimeError as err:
        raise _missing("mnist", raw, files) from err
    return Dataset("mnist", train.data[:, None].contiguous(), train.targets.long(), test.data[:, None].contiguous(),
                   test.targets.long(), tuple(str(c) for c in range(10)))


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as fh:
        return pickle.load(fh, encoding="latin1")


def _cifar_arrays(batches: list[dict], label_key: str) -> tuple[np.ndarray, np.ndarray]:
    data = np.concatenate([np.asarray(b["data"], dtype=np.uint8) for b in batches]).reshape(-1, 3, 32, 32)
    labels = np.concatenate([np.asarray(b[label_key]) for b in batches])
    return data, labels


def _load_cifar(root: Path, download: bool, name: str) -> Dataset:
    """Read the python-pickle batches that torchvision's CIFAR10/CIFAR100 download."""
    from torchvision.datasets import CIFAR10, CIFAR100

    if name == "cifar10":
        folder, train_files, test_files, meta, key, names = (
            root / "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"],
            "batches.meta", "labels", "label_names")
    else:
        folder, train_files, test_files, meta, key, names = (
            root / "cifar-100-python", ["train"], ["test"], "meta", "fine_labels", "fine_label_names")
    expected = train_files + test_files + [meta]
    if not all((folder / f).is_file() for f in expected):
        if not download:
            raise _missing(name, folder, expected)
        (CIFAR10 if name == "cifar10" else CIFAR100)(str(root), train=True, download=True)
    x_tr, y_tr = _cifar_arrays([_unpickle(folder / f) for f in train_files], key)
    x_te, y_te = _cifar_arrays([_unpickle(folder / f) for f in test_files], key)
    classes = tuple(_unpickle(folder / meta)[names])
    return Dataset(name, *_tensors(x_tr, y_tr), *_tensors(x_te, y_te), classes)


def _load_cifar10(root: Path, download: bool) -> Dataset:
    return _load_cifar(root, download, "cifar10")


def _load_cifar100(root: Path, download: bool) -> Dataset:
    return _load_cifar(root, download, "cifar100")


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8).transpose(2, 0, 1)


def _load_tinyimagenet(root: Path, download: bool) -> Dataset:
    """The ``tiny-imagenet-200`` folder: train/<wnid>/images/*.JPEG; its labeled val split is the test split.

    Decoding 110,000 JPEGs takes minutes, so the arrays are cached once beside the folder.
    """
    folder = root / "tiny-imagenet-200"
    expected = ["wnids.txt", "train/<wnid>/images/*.JPEG", "val/images/*.JPEG", "val/val_annotations.txt"]
    if not (folder / "wnids.txt").is_file() or not (folder / "val" / "val_annotations.txt").is_file():
        raise _missing("tinyimagenet", folder, expected)
    cache = folder / "alnb_arrays.npz"
    if cache.is_file():
        arrays = np.load(cache)
        wnids = [w for w in (folder / "wnids.txt").read_text().split() if w]
        return Dataset("tinyimagenet", *_tensors(arrays["x_tr"], arrays["y_tr"]),
                       *_tensors(arrays["x_te"], arrays["y_te"]), tuple(wnids))
    wnids = [w for w in (folder / "wnids.txt").read_text().split() if w]
    index = {w: i for i, w in enumerate(wnids)}
    train_paths, train_labels = [], []
    for wnid in wnids:
        paths = sorted((folder / "train" / wnid / "images").glob("*.JPEG"))
        train_paths += paths
        train_labels += [index[wnid]] * len(paths)
    val_paths, val_labels = [], []
    for line in (folder / "val" / "val_annotations.txt").read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            val_paths.append(folder / "val" / "images" / parts[0])
            val_labels.append(index[parts[1]])
    if not train_paths:
        raise _missing("tinyimagenet", folder, expected)
    x_tr = np.stack([_read_rgb(p) for p in train_paths])
    x_te = np.stack([_read_rgb(p) for p in val_paths])
    y_tr, y_te = np.asarray(train_labels), np.asarray(val_labels)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, x_tr=x_tr, y_tr=y_tr, x_te=x_te, y_te=y_te)
    tmp.replace(cache)
    return Dataset("tinyimagenet", *_tensors(x_tr, y_tr), *_tensors(x_te, y_te), tuple(wnids))

"""Datasets of the study, held in memory as uint8 tensors, and their train/val/test splits.

Global indices index the dataset's train arrays (``train_images``). The unlabeled pool U is the
train split minus the validation indices; the test split is separate and never indexed by a sampler.
"""

from __future__ import annotations

import warnings
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from alnb.core import seeding
from alnb.core.durable import is_verified, save_verified_npz
from alnb.data import checks
from alnb.data.cache import listing_cache_path
from alnb.data.checks import DatasetError
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
    """Load ``name`` into memory; ``train_subset`` keeps a seeded, stratified subset of its train split,
    ``imbalance_factor`` then makes that long-tailed (Cui et al. 2019).

    ``test_size`` applies to ``digits`` and to an ``imagefolder`` without a test folder, which have no
    official test split: the test split is then carved with a fixed seed, identical for every trial.
    ``image_size`` is the side to which an ``imagefolder``'s images are resized (``root`` is that folder);
    Its decoded arrays, and TinyImageNet's, are cached in ``cache_dir`` (default: the user's cache folder,
    :mod:`alnb.data.cache`), never under ``root``.
    """
    loaders = {
        "digits": _load_digits,
        "mnist": _load_mnist,
        "cifar10": _load_cifar10,
        "cifar100": _load_cifar100,
        "tinyimagenet": _load_tinyimagenet,
    }
    if name not in loaders and name != "imagefolder":
        raise ValueError(f"data.dataset: unknown dataset {name!r}; valid: {', '.join(DATASETS)}")
    if name == "digits":
        dataset = _load_digits(test_size)
    elif name == "imagefolder":
        from alnb.data.imagefolder import load_imagefolder

        x_tr, y_tr, x_te, y_te, classes = load_imagefolder(
            Path(root), image_size, test_size, Path(cache_dir) if cache_dir else None
        )
        dataset = Dataset("imagefolder", *_tensors(x_tr, y_tr), *_tensors(x_te, y_te), classes)
    elif name == "tinyimagenet":
        dataset = _load_tinyimagenet(Path(root), download, Path(cache_dir) if cache_dir else None)
    else:
        dataset = loaders[name](Path(root), download)
    if train_subset is not None:
        dataset = subset_of_train(dataset, train_subset)
    if imbalance_factor is not None:
        dataset = long_tailed(dataset, imbalance_factor)
    return dataset


SUBSET_SEED = 20260102


def subset_counts(class_counts: np.ndarray, size: int | float) -> np.ndarray:
    """Images kept per class by ``data.train_subset``: each class's share of ``size`` (a count, or a fraction
    of the train split), by largest remainders so that the counts add up to the whole."""
    class_counts = np.asarray(class_counts, dtype=np.int64)
    total = int(class_counts.sum())
    n = resolve_size(size, total, "data.train_subset")
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
        raise ValueError(f"data.imbalance_factor: must be >= 1, got {imbalance_factor}")
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
        np.asarray(labels, dtype=np.int64)
    )


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
        f"{', '.join(files)}. Put the files there or set data.download: true."
    )


MNIST_FILES = {"train": SPECS["mnist"].train_files, "test": SPECS["mnist"].test_files}


def _mnist_present(raw: Path) -> bool:
    return all((raw / f).is_file() or (raw / f"{f}.gz").is_file() for pair in MNIST_FILES.values() for f in pair)


def _read_mnist_split(raw: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images ``[n, 1, 28, 28]`` (``SPECS["mnist"]``) and labels of one split, read from the idx files and checked."""
    images_name, labels_name = MNIST_FILES[split]
    images = checks.read_idx(raw / images_name, 3)
    side, n_classes = SPECS["mnist"].side, SPECS["mnist"].n_classes
    if images.shape[1:] != (side, side):
        raise DatasetError(
            f"{raw / images_name}: expected {side}×{side} images, found {images.shape[1]}×{images.shape[2]}"
        )
    labels = checks.check_labels(checks.read_idx(raw / labels_name, 1), len(images), n_classes, raw / labels_name)
    return images[:, None], labels


def _load_mnist(root: Path, download: bool) -> Dataset:
    raw = root / SPECS["mnist"].folder
    if not _mnist_present(raw):
        if not download:
            raise _missing("mnist", raw, list(SPECS["mnist"].files))
        from torchvision.datasets import MNIST

        MNIST(str(root), train=True, download=True)  # fetches both splits
    (x_tr, y_tr), (x_te, y_te) = _read_mnist_split(raw, "train"), _read_mnist_split(raw, "test")
    return Dataset("mnist", *_tensors(x_tr, y_tr), *_tensors(x_te, y_te), tuple(str(c) for c in range(10)))


def _cifar_layout(root: Path, name: str) -> tuple[Path, list[str], list[str], str, str, str, int]:
    """(folder, train files, test files, meta file, label key, class-names key, classes) of a CIFAR release."""
    spec = SPECS[name]
    label_key, names_key = ("labels", "label_names") if name == "cifar10" else ("fine_labels", "fine_label_names")
    return (
        root / spec.folder,
        list(spec.train_files),
        list(spec.test_files),
        spec.other_files[0],
        label_key,
        names_key,
        spec.n_classes,
    )


def _read_cifar_batches(
    folder: Path, files: list[str], label_key: str, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    channels, side = SPECS["cifar10"].channels, SPECS["cifar10"].side  # CIFAR-100 has the same shape
    images, labels = [], []
    for name in files:
        path = folder / name
        batch = checks.check_keys(checks.read_pickle(path), ("data", label_key), path)
        data = checks.check_image_array(batch["data"], (channels * side * side,), path, "data")
        labels.append(checks.check_labels(batch[label_key], len(data), n_classes, f"{path} {label_key!r}"))
        images.append(data.reshape(-1, channels, side, side))
    return np.concatenate(images), np.concatenate(labels)


def _read_cifar(root: Path, name: str) -> Dataset:
    folder, train_files, test_files, meta, key, names, n_classes = _cifar_layout(root, name)
    x_tr, y_tr = _read_cifar_batches(folder, train_files, key, n_classes)
    x_te, y_te = _read_cifar_batches(folder, test_files, key, n_classes)
    meta_path = folder / meta
    classes = checks.check_class_names(
        checks.check_keys(checks.read_pickle(meta_path), (names,), meta_path)[names], n_classes, meta_path, names
    )
    return Dataset(name, *_tensors(x_tr, y_tr), *_tensors(x_te, y_te), classes)


def _load_cifar(root: Path, download: bool, name: str) -> Dataset:
    """Read the python-pickle batches that torchvision's CIFAR10/CIFAR100 download."""
    folder, train_files, test_files, meta, *_ = _cifar_layout(root, name)
    expected = train_files + test_files + [meta]
    if not all((folder / f).is_file() for f in expected):
        if not download:
            raise _missing(name, folder, expected)
        from torchvision.datasets import CIFAR10, CIFAR100

        (CIFAR10 if name == "cifar10" else CIFAR100)(str(root), train=True, download=True)
    return _read_cifar(root, name)


def _load_cifar10(root: Path, download: bool) -> Dataset:
    return _load_cifar(root, download, "cifar10")


def _load_cifar100(root: Path, download: bool) -> Dataset:
    return _load_cifar(root, download, "cifar100")


TINY_FOLDER = SPECS["tinyimagenet"].folder
_TINY_EXPECTED = ["wnids.txt", "train/<wnid>/images/*.JPEG", "val/images/*.JPEG", "val/val_annotations.txt"]


def _tiny_present(folder: Path) -> bool:
    return all((folder / f).is_file() for f in SPECS["tinyimagenet"].files) and (folder / "train").is_dir()


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except UnicodeDecodeError as err:
        raise DatasetError(f"{path}: expected a text file, found undecodable bytes ({err.reason})") from None


def _tiny_wnids(folder: Path) -> list[str]:
    path = folder / "wnids.txt"
    wnids = [w for w in _read_text(path).split() if w]
    if not wnids:
        raise DatasetError(f"{path}: expected one wnid per line, found none")
    return list(checks.check_class_names(wnids, None, path, "wnids"))


def _tiny_layout(folder: Path) -> tuple[list[str], list[Path], list[int], list[Path], list[int]]:
    """(wnids, train image paths, their labels, val image paths, their labels) of the tiny-imagenet-200 folder,
    with the folder layout and ``val_annotations.txt`` checked against ``wnids.txt``."""
    wnids = _tiny_wnids(folder)
    index = {w: i for i, w in enumerate(wnids)}
    train_paths, train_labels = [], []
    for wnid in wnids:
        images = folder / "train" / wnid / "images"
        paths = sorted(images.glob("*.JPEG"))
        if not paths:
            raise DatasetError(
                f"{images}: expected the training images of {wnid} (listed in wnids.txt) as *.JPEG, found none"
            )
        train_paths += paths
        train_labels += [index[wnid]] * len(paths)
    annotations = folder / "val" / "val_annotations.txt"
    val_paths, val_labels = [], []
    for number, line in enumerate(_read_text(annotations).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise DatasetError(f"{annotations}: line {number}: expected 'file<TAB>wnid<TAB>box', found {line!r}")
        if parts[1] not in index:
            raise DatasetError(
                f"{annotations}: line {number}: expected a wnid of wnids.txt, found unknown wnid {parts[1]!r}"
            )
        path = folder / "val" / "images" / parts[0]
        if not path.is_file():
            raise DatasetError(f"{annotations}: line {number}: expected the image {path}, found no such file")
        val_paths.append(path)
        val_labels.append(index[parts[1]])
    if not val_paths:
        raise DatasetError(f"{annotations}: expected one line per validation image, found none")
    return wnids, train_paths, train_labels, val_paths, val_labels


def _read_images(paths: list[Path], shape: tuple[int, int] | None) -> np.ndarray:
    """Decoded images ``[n, 3, H, W]``, all of the first one's size (or of ``shape``)."""
    first = checks.read_rgb_image(paths[0], shape)
    return np.stack([first, *(checks.read_rgb_image(p, first.shape[1:]) for p in paths[1:])])


def _tiny_cache(cache: Path, n_classes: int) -> tuple[np.ndarray, ...] | None:
    """The cached arrays, or None (with a warning) when the cache is unreadable or inconsistent."""
    try:
        with np.load(cache) as arrays:
            x_tr, y_tr, x_te, y_te = (arrays[k] for k in ("x_tr", "y_tr", "x_te", "y_te"))
        checks.check_image_array(x_tr, x_tr.shape[1:], cache, "x_tr")
        checks.check_image_array(x_te, x_tr.shape[1:], cache, "x_te")
        checks.check_labels(y_tr, len(x_tr), n_classes, f"{cache} 'y_tr'")
        checks.check_labels(y_te, len(x_te), n_classes, f"{cache} 'y_te'")
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
        warnings.warn(
            f"{cache}: unreadable or inconsistent cache ({' '.join(str(err).split())}); decoding the images again",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return x_tr, y_tr, x_te, y_te


def _load_tinyimagenet(root: Path, download: bool, cache_dir: Path | None = None) -> Dataset:
    """The ``tiny-imagenet-200`` folder: train/<wnid>/images/*.JPEG; its labeled val split is the test split.

    Decoding 110,000 JPEGs takes minutes, so the arrays are cached once in ``cache_dir`` (never in the folder).
    """
    folder = root / TINY_FOLDER
    if not _tiny_present(folder):
        raise _missing("tinyimagenet", folder, _TINY_EXPECTED)
    cache = listing_cache_path(folder, (".",), f"tinyimagenet/{TINY_FOLDER}", cache_dir)
    if is_verified(cache, "the images are decoded again"):
        wnids = _tiny_wnids(folder)
        arrays = _tiny_cache(cache, len(wnids))
        if arrays is not None:
            return Dataset("tinyimagenet", *_tensors(*arrays[:2]), *_tensors(*arrays[2:]), tuple(wnids))
    wnids, train_paths, train_labels, val_paths, val_labels = _tiny_layout(folder)
    x_tr = _read_images(train_paths, None)
    x_te = _read_images(val_paths, x_tr.shape[2:])
    y_tr, y_te = np.asarray(train_labels), np.asarray(val_labels)
    save_verified_npz(cache, x_tr=x_tr, y_tr=y_tr, x_te=x_te, y_te=y_te)
    return Dataset("tinyimagenet", *_tensors(x_tr, y_tr), *_tensors(x_te, y_te), tuple(wnids))


def check_dataset_files(name: str, root: str | Path = "data", download: bool = False, verify: bool = False) -> None:
    """Run the loader's checks of ``name``'s files and, with ``verify``, compare the published md5 sums of
    torchvision's release files; raise :class:`DatasetError` or :class:`DatasetNotFound` in one line.

    ``digits`` is bundled and always fine; files still to be downloaded are checked when they are loaded
    (torchvision checks the md5 sums of what it downloads).
    TinyImageNet's folder layout and annotations are checked here; its images when they are decoded.
    """
    root = Path(root)
    if name == "mnist":
        raw = root / SPECS["mnist"].folder
        if download and not _mnist_present(raw):
            return
        _load_mnist(root, download=False)
        if verify:
            from torchvision.datasets import MNIST

            for archive, md5 in MNIST.resources:
                checks.check_md5(raw / archive, md5)
    elif name in ("cifar10", "cifar100"):
        folder, train_files, test_files, meta, *_ = _cifar_layout(root, name)
        if download and not all((folder / f).is_file() for f in train_files + test_files + [meta]):
            return
        _load_cifar(root, False, name)
        if verify:
            from torchvision.datasets import CIFAR10, CIFAR100

            release = CIFAR10 if name == "cifar10" else CIFAR100
            published = [*release.train_list, *release.test_list, [release.meta["filename"], release.meta["md5"]]]
            for file, md5 in published:
                checks.check_md5(folder / file, md5)
    elif name == "tinyimagenet":
        folder = root / TINY_FOLDER
        if not _tiny_present(folder):
            raise _missing("tinyimagenet", folder, _TINY_EXPECTED)
        _tiny_layout(folder)

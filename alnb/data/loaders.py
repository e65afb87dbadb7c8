"""The readers of each dataset's files, one per format, each carried by its :class:`~alnb.data.specs.DatasetSpec`.

A reader takes the spec (``spec``: a :class:`~alnb.data.specs.DatasetSpec`, which imports this module) and a
:class:`Source` and returns the arrays ``(x_train, y_train, x_test, y_test, class
names)``, images uint8 ``[N, C, H, W]``, every file checked as it is read (:mod:`alnb.data.checks`); a fetcher
downloads what torchvision publishes, and a verifier compares its md5 sums. None of them knows the params file:
:mod:`alnb.run.validation` words the messages that name its keys.
"""

from __future__ import annotations

import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alnb.core.durable import is_verified, save_verified_npz
from alnb.data import checks
from alnb.data.cache import listing_cache_path
from alnb.data.checks import DatasetError

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]
DIGITS_TEST_SEED = 20260101


@dataclass(frozen=True)
class Source:
    """Where and how to read a dataset: ``root`` (the folder that holds the dataset's folder; an image folder
    itself), ``test_size`` (the test split carved from a dataset without one), ``image_size`` (an image folder's
    side) and ``cache_dir`` (where decoded images are cached; never under ``root``)."""

    root: Path
    test_size: float | int = 0.25
    image_size: int | None = None
    cache_dir: Path | None = None


def resolve_size(size: float | int, total: int, key: str) -> int:
    """An int is a count; a float in (0, 1] is a fraction of ``total`` (rounded down, at least 1); ``key`` names
    the size in messages."""
    if isinstance(size, bool) or not isinstance(size, (int, float)):
        raise ValueError(f"{key}: expected a count (int) or a fraction in (0, 1] (float), got {size!r}")
    if isinstance(size, float):
        if not 0 < size <= 1:
            raise ValueError(f"{key}: a fraction must lie in (0, 1], got {size}")
        return max(1, int(size * total))
    if size < 0 or size > total:
        raise ValueError(f"{key}: count {size} is outside [0, {total}]")
    return int(size)


def read_digits(spec, source: Source) -> Arrays:
    """scikit-learn's bundled 8×8 digits (0–16 scaled to 0–255); ``test_size`` of them, drawn with a fixed seed,
    are the test split."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    labels = bunch.target
    n_test = resolve_size(source.test_size, len(labels), "test_size")
    order = np.random.default_rng(DIGITS_TEST_SEED).permutation(len(labels))
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    return images[train], labels[train], images[test], labels[test], tuple(str(c) for c in range(10))


def _read_idx_split(spec, raw: Path, images_name: str, labels_name: str) -> tuple[np.ndarray, ...]:
    """Images ``[n, 1, side, side]`` and labels of one split, read from the idx files and checked."""
    images = checks.read_idx(raw / images_name, 3)
    if images.shape[1:] != (spec.side, spec.side):
        raise DatasetError(
            f"{raw / images_name}: expected {spec.side}×{spec.side} images, found {images.shape[1]}×{images.shape[2]}"
        )
    labels = checks.check_labels(checks.read_idx(raw / labels_name, 1), len(images), spec.n_classes, raw / labels_name)
    return images[:, None], labels


def read_mnist(spec, source: Source) -> Arrays:
    """The idx files of MNIST (``train_files`` and ``test_files``: images, then labels), or their ``.gz``."""
    raw = source.root / spec.folder
    x_tr, y_tr = _read_idx_split(spec, raw, *spec.train_files)
    x_te, y_te = _read_idx_split(spec, raw, *spec.test_files)
    return x_tr, y_tr, x_te, y_te, tuple(str(c) for c in range(10))


def _cifar_keys(spec) -> tuple[str, str]:
    """(label key, class-names key) of a CIFAR release's pickles: CIFAR-100 has fine and coarse labels."""
    return ("labels", "label_names") if spec.n_classes == 10 else ("fine_labels", "fine_label_names")


def _read_cifar_batches(spec, folder: Path, files: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    label_key = _cifar_keys(spec)[0]
    images, labels = [], []
    for name in files:
        path = folder / name
        batch = checks.check_keys(checks.read_pickle(path), ("data", label_key), path)
        data = checks.check_image_array(batch["data"], (spec.channels * spec.side * spec.side,), path, "data")
        labels.append(checks.check_labels(batch[label_key], len(data), spec.n_classes, f"{path} {label_key!r}"))
        images.append(data.reshape(-1, spec.channels, spec.side, spec.side))
    return np.concatenate(images), np.concatenate(labels)


def read_cifar(spec, source: Source) -> Arrays:
    """The python-pickle batches that torchvision's CIFAR10/CIFAR100 download (the meta file is ``other_files``)."""
    folder = source.root / spec.folder
    x_tr, y_tr = _read_cifar_batches(spec, folder, spec.train_files)
    x_te, y_te = _read_cifar_batches(spec, folder, spec.test_files)
    meta_path, names = folder / spec.other_files[0], _cifar_keys(spec)[1]
    classes = checks.check_class_names(
        checks.check_keys(checks.read_pickle(meta_path), (names,), meta_path)[names], spec.n_classes, meta_path, names
    )
    return x_tr, y_tr, x_te, y_te, classes


def fetch_torchvision(spec, root: Path) -> None:
    """Download the dataset's files with torchvision (which checks their md5 sums)."""
    from torchvision.datasets import CIFAR10, CIFAR100, MNIST

    release = {"mnist": MNIST, "cifar10": CIFAR10, "cifar100": CIFAR100}[spec.name]
    release(str(root), train=True, download=True)  # fetches both splits


def verify_torchvision(spec, root: Path) -> None:
    """Compare the md5 sums that torchvision publishes of the dataset's release files."""
    from torchvision.datasets import CIFAR10, CIFAR100, MNIST

    folder = root / spec.folder
    if spec.name == "mnist":
        published = MNIST.resources
    else:
        release = CIFAR10 if spec.name == "cifar10" else CIFAR100
        published = [*release.train_list, *release.test_list, [release.meta["filename"], release.meta["md5"]]]
    for file, md5 in published:
        checks.check_md5(folder / file, md5)


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


def tiny_layout(spec, root: Path) -> tuple[list[str], list[Path], list[int], list[Path], list[int]]:
    """(wnids, train image paths, their labels, val image paths, their labels) of the tiny-imagenet-200 folder,
    with the folder layout and ``val_annotations.txt`` checked against ``wnids.txt``."""
    folder = root / spec.folder
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


def read_tinyimagenet(spec, source: Source) -> Arrays:
    """The ``tiny-imagenet-200`` folder: train/<wnid>/images/*.JPEG; its labeled val split is the test split.

    Decoding 110,000 JPEGs takes minutes, so the arrays are cached once in ``cache_dir`` (never in the folder).
    """
    folder = source.root / spec.folder
    cache = listing_cache_path(folder, (".",), f"tinyimagenet/{spec.folder}", source.cache_dir)
    if is_verified(cache, "the images are decoded again"):
        wnids = _tiny_wnids(folder)
        arrays = _tiny_cache(cache, len(wnids))
        if arrays is not None:
            return (*arrays, tuple(wnids))
    wnids, train_paths, train_labels, val_paths, val_labels = tiny_layout(spec, source.root)
    x_tr = _read_images(train_paths, None)
    x_te = _read_images(val_paths, x_tr.shape[2:])
    y_tr, y_te = np.asarray(train_labels), np.asarray(val_labels)
    save_verified_npz(cache, x_tr=x_tr, y_tr=y_tr, x_te=x_te, y_te=y_te)
    return x_tr, y_tr, x_te, y_te, tuple(wnids)


def read_imagefolder(spec, source: Source) -> Arrays:
    """The researcher's own folder (``root``): :func:`alnb.data.imagefolder.load_imagefolder`."""
    from alnb.data.imagefolder import load_imagefolder

    return load_imagefolder(source.root, source.image_size, source.test_size, source.cache_dir)

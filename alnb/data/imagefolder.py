"""A researcher's own images as a dataset: ``root/train/<class>/*.png|jpg`` with optional ``root/test/<class>/``.

Class names are the sorted subfolder names of ``train``. Without a ``test`` folder the test split is carved
from the train images with a fixed seed, stratified by class (``data.test_size`` of each class), the same for
every trial. Each image is cropped to a square at its centre and resized to ``data.image_size`` pixels
(bilinear); all are grayscale → one channel, else RGB. The decoded arrays are cached once in a cache folder
(``data.cache_dir``, by default the user's cache folder; never inside ``root``, which may be read-only or shared),
keyed by the folder's path, the image size and its listing (names, sizes, modification times), so a changed
folder is decoded again. This module returns arrays; :mod:`alnb.data` makes the :class:`~alnb.data.Dataset`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alnb.core.durable import is_verified, save_verified_npz
from alnb.data.cache import listing_cache_path
from alnb.data.checks import DatasetError, ImageTooLarge, open_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SPLIT_SEED = 20260101


class ImageFolderError(DatasetError):
    """The image folder's layout or one of its files is unusable; the message names the folder or file."""


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _class_folders(split: Path) -> dict[str, list[Path]]:
    classes = sorted(p for p in split.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise ImageFolderError(f"data.root: no class folders in {split} (expected {split}/<class>/*.png|jpg)")
    files = {}
    for folder in classes:
        files[folder.name] = _images_in(folder)
        if not files[folder.name]:
            raise ImageFolderError(f"data.root: class folder {folder} holds no image ({', '.join(IMAGE_SUFFIXES)})")
    return files


def scan(root: Path) -> tuple[dict[str, list[Path]], dict[str, list[Path]] | None]:
    """The image files per class of ``root/train`` and of ``root/test`` (None without a test folder)."""
    root = Path(root)
    if not (root / "train").is_dir():
        raise ImageFolderError(
            f"data.root: {root} has no train folder (expected {root}/train/<class>/*.png|jpg, "
            f"optionally {root}/test/<class>/)"
        )
    train = _class_folders(root / "train")
    if not (root / "test").is_dir():
        return train, None
    test = _class_folders(root / "test")
    unknown = sorted(set(test) - set(train))
    if unknown:
        raise ImageFolderError(
            f"data.root: {root / 'test'} has classes that {root / 'train'} lacks: {', '.join(unknown)}"
        )
    return train, test


def _test_counts(counts: np.ndarray, test_size: float | int) -> np.ndarray:
    """Test images per class: the fraction ``test_size`` (a count: its share of all images) of each class,
    rounded, keeping at least one train image per class."""
    fraction = test_size if isinstance(test_size, float) else test_size / counts.sum()
    return np.minimum(np.rint(counts * fraction).astype(int), counts - 1)


def train_class_counts(root: Path, test_size: float | int) -> np.ndarray:
    """Train images per class after the test split, from the listing only (no decoding)."""
    train, test = scan(root)
    counts = np.array([len(files) for files in train.values()])
    return counts if test is not None else counts - _test_counts(counts, test_size)


def read_image(path: Path, image_size: int) -> tuple[np.ndarray, bool]:
    """``[3, S, S]`` uint8 of the centre square resized to S, and whether the image is grayscale."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with open_image(path) as img:
            gray = img.mode in ("1", "L", "LA", "I", "I;16", "F")
            square = ImageOps.fit(img.convert("RGB"), (image_size, image_size), Image.Resampling.BILINEAR)
    except ImageTooLarge as err:
        raise ImageFolderError(f"data.root: cannot read image {err}") from None
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise ImageFolderError(f"data.root: cannot read image {path}: {' '.join(str(err).split())}") from None
    return np.asarray(square, dtype=np.uint8).transpose(2, 0, 1), gray


def _decode(files: dict[str, list[Path]], classes: list[str], image_size: int) -> tuple[np.ndarray, np.ndarray, bool]:
    images, labels, all_gray = [], [], True
    for label, name in enumerate(classes):
        for path in files.get(name, []):
            array, gray = read_image(path, image_size)
            images.append(array)
            labels.append(label)
            all_gray &= gray
    return np.stack(images), np.asarray(labels, dtype=np.int64), all_gray


def load_imagefolder(
    root: Path, image_size: int, test_size: float | int, cache_dir: Path | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """The image folder's arrays ``(x_train, y_train, x_test, y_test, class names)``: images uint8 ``[N, C, S, S]``,
    decoded once and then read from ``cache_dir``; ``alnb.data.datasets`` builds the Dataset from them."""
    root = Path(root)
    train, test = scan(root)
    classes = list(train)
    cache = listing_cache_path(root, ("train", "test"), f"imagefolder/{root.name}_{image_size}px", cache_dir)
    if is_verified(cache, "the images are decoded again"):
        arrays = np.load(cache)
        x_tr, y_tr, x_te, y_te = arrays["x_tr"], arrays["y_tr"], arrays["x_te"], arrays["y_te"]
    else:
        x_tr, y_tr, gray_tr = _decode(train, classes, image_size)
        if test is None:
            x_tr, y_tr, x_te, y_te = _split(x_tr, y_tr, len(classes), test_size)
            gray_te = True
        else:
            x_te, y_te, gray_te = _decode(test, classes, image_size)
        if gray_tr and gray_te:
            x_tr, x_te = x_tr[:, :1], x_te[:, :1]
        save_verified_npz(cache, x_tr=x_tr, y_tr=y_tr, x_te=x_te, y_te=y_te)
    return x_tr, y_tr, x_te, y_te, tuple(classes)


def _split(x: np.ndarray, y: np.ndarray, n_classes: int, test_size: float | int):
    """A stratified train/test split with the fixed seed ``SPLIT_SEED``."""
    rng = np.random.default_rng(SPLIT_SEED)
    n_test = _test_counts(np.bincount(y, minlength=n_classes), test_size)
    test = np.concatenate([rng.permutation(np.flatnonzero(y == c))[: n_test[c]] for c in range(n_classes)])
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test] = True
    return x[~is_test], y[~is_test], x[is_test], y[is_test]

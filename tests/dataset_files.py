"""Writers of small datasets in each dataset's true on-disk format, shared by the tests.

Each writer takes uint8 image arrays ``[n, C, H, W]`` and integer labels, and writes the files exactly
as the published release lays them out (MNIST idx files, CIFAR python pickles, the tiny-imagenet-200
folder of JPEGs), so the real loaders are exercised on them.
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray) -> None:
    """An idx file of unsigned bytes (LeCun's format): magic, dimensions, then the data."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


def write_mnist(root: Path, x_train, y_train, x_test, y_test) -> Path:
    """``root/MNIST/raw/*-ubyte`` from images ``[n, 1, 28, 28]`` (or ``[n, 28, 28]``); returns the raw folder."""
    raw = Path(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, arr in [
        ("train-images-idx3-ubyte", x_train),
        ("train-labels-idx1-ubyte", y_train),
        ("t10k-images-idx3-ubyte", x_test),
        ("t10k-labels-idx1-ubyte", y_test),
    ]:
        arr = np.asarray(arr)
        write_idx(raw / name, arr.reshape(len(arr), *arr.shape[-2:]) if arr.ndim == 4 else arr)
    return raw


def write_pickle(path: Path, obj) -> None:
    with open(path, "wb") as fh:
        pickle.dump(obj, fh)


def write_cifar10(root: Path, x_train, y_train, x_test, y_test, n_batches: int = 5) -> Path:
    """``root/cifar-10-batches-py``: five training batches, ``test_batch`` and ``batches.meta``."""
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    x_train, y_train = np.asarray(x_train, np.uint8).reshape(len(x_train), -1), np.asarray(y_train)
    for i, part in enumerate(np.array_split(np.arange(len(x_train)), n_batches), start=1):
        write_pickle(folder / f"data_batch_{i}", {"data": x_train[part], "labels": [int(v) for v in y_train[part]]})
    write_pickle(
        folder / "test_batch",
        {"data": np.asarray(x_test, np.uint8).reshape(len(x_test), -1), "labels": [int(v) for v in y_test]},
    )
    write_pickle(folder / "batches.meta", {"label_names": [f"c{i}" for i in range(10)]})
    return folder


def write_cifar100(root: Path, x_train, y_train, x_test, y_test) -> Path:
    """``root/cifar-100-python``: ``train``, ``test`` (fine and coarse labels) and ``meta``."""
    folder = Path(root) / "cifar-100-python"
    folder.mkdir(parents=True, exist_ok=True)
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        y = [int(v) for v in y]
        write_pickle(
            folder / name,
            {
                "data": np.asarray(x, np.uint8).reshape(len(x), -1),
                "fine_labels": y,
                "coarse_labels": [v // 5 for v in y],
            },
        )
    write_pickle(
        folder / "meta",
        {"fine_label_names": [f"f{i}" for i in range(100)], "coarse_label_names": [f"g{i}" for i in range(20)]},
    )
    return folder


def tiny_wnids(n_classes: int) -> list[str]:
    return [f"n{1443537 + 1000 * k:08d}" for k in range(n_classes)]


def write_tinyimagenet(root: Path, x_train, y_train, x_test, y_test, n_classes: int) -> Path:
    """``root/tiny-imagenet-200``: ``wnids.txt``, ``train/<wnid>/images/*.JPEG``, ``val/images`` and
    ``val/val_annotations.txt`` (the labeled val split, which the loader uses as the test split)."""
    from PIL import Image

    folder = Path(root) / "tiny-imagenet-200"
    wnids = tiny_wnids(n_classes)
    (folder / "val" / "images").mkdir(parents=True, exist_ok=True)
    (folder / "wnids.txt").write_text("\n".join(wnids) + "\n")
    for k, (img, label) in enumerate(zip(np.asarray(x_train, np.uint8), y_train)):
        images = folder / "train" / wnids[int(label)] / "images"
        images.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img.transpose(1, 2, 0)).save(images / f"{wnids[int(label)]}_{k}.JPEG", quality=95)
    lines = []
    for k, (img, label) in enumerate(zip(np.asarray(x_test, np.uint8), y_test)):
        Image.fromarray(img.transpose(1, 2, 0)).save(folder / "val" / "images" / f"val_{k}.JPEG", quality=95)
        lines.append(f"val_{k}.JPEG\t{wnids[int(label)]}\t0\t0\t63\t63")
    (folder / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return folder


def structured_images(
    n: int, n_classes: int, channels: int, size: int, seed: int = 0, classes: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 images ``[n, C, size, size]`` with balanced labels (over ``classes``, default all) that a network
    can learn, even one that pools globally: on a noisy dark background, a square whose colour (or grey level),
    side and cell of a 4×4 grid depend on the class, shifted by up to one pixel at random."""
    rng = np.random.default_rng(seed)
    pool = np.arange(n_classes) if classes is None else np.asarray(classes)
    labels = pool[np.arange(n) % len(pool)]
    rng.shuffle(labels)
    images = rng.integers(0, 50, size=(n, channels, size, size)).astype(np.uint8)
    cell = size // 4
    colours = np.array(
        [
            [255, 255, 255],
            [255, 40, 40],
            [40, 220, 40],
            [60, 60, 255],
            [255, 255, 40],
            [255, 40, 255],
            [40, 255, 255],
            [150, 150, 150],
        ],
        dtype=np.uint8,
    )
    for k, label in enumerate(labels):
        label = int(label)
        side = max(2, cell - 2 + (label % 3) * max(1, cell // 4))
        row, col = divmod(label % 16, 4)
        dy, dx = rng.integers(-1, 2, size=2)
        y0 = int(np.clip(row * cell + 1 + dy, 0, size - side))
        x0 = int(np.clip(col * cell + 1 + dx, 0, size - side))
        colour = colours[label % len(colours)] if channels == 3 else np.array([255 - 45 * (label % 4)], np.uint8)
        images[k, :, y0 : y0 + side, x0 : x0 + side] = colour[:, None, None]
    return images, labels.astype(np.int64)


def write_imagefolder(
    root: Path, x_train, y_train, classes: list[str], x_test=None, y_test=None, suffix: str = ".png"
) -> Path:
    """``root/train/<class>/<k><suffix>`` (and ``root/test/<class>/`` when a test split is given)."""
    from PIL import Image

    root = Path(root)
    splits = [("train", x_train, y_train)] + ([("test", x_test, y_test)] if x_test is not None else [])
    for split, xs, ys in splits:
        for k, (img, label) in enumerate(zip(np.asarray(xs, np.uint8), ys)):
            folder = root / split / classes[int(label)]
            folder.mkdir(parents=True, exist_ok=True)
            pixels = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
            Image.fromarray(pixels).save(folder / f"{k}{suffix}")
    return root

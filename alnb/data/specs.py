"""What alnb knows of each dataset before reading it, and how to read it: one table, read by
:func:`alnb.data.datasets.load_dataset`, the checks of a params file and ``alnb estimate``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alnb.data import loaders


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset's facts.

    ``side`` is None where ``data.image_size`` decides it (an image folder); ``class_counts`` (train images per
    class) and ``n_test`` are None where they are counted from the data (digits, an image folder). ``folder`` is
    where the files lie under ``data.root``; ``train_files``, ``test_files`` and ``other_files`` are the files
    that must be there (``.gz`` archives too where ``compressed``), ``folders`` the folders (what lies in
    ``train/<wnid>/`` of TinyImageNet is checked by its reader). ``flips``: whether a horizontal flip keeps the
    class (not for digits).

    ``read(spec, source)`` returns the dataset's arrays (:mod:`alnb.data.loaders`); ``fetch(spec, root)``
    downloads missing files (None: it cannot be downloaded); ``verify(spec, root)`` compares the md5 sums that
    torchvision publishes (``data.verify``; None: none are published); ``check_layout(spec, root)`` checks its
    files without decoding them (None: reading them is the check).
    """

    name: str
    channels: int
    side: int | None
    read: Callable[[DatasetSpec, loaders.Source], loaders.Arrays]
    class_counts: tuple[int, ...] | None = None
    n_test: int | None = None
    folder: str | None = None
    train_files: tuple[str, ...] = ()
    test_files: tuple[str, ...] = ()
    other_files: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()
    compressed: bool = False
    flips: bool = True
    fetch: Callable[[DatasetSpec, Path], None] | None = None
    verify: Callable[[DatasetSpec, Path], None] | None = None
    check_layout: Callable[[DatasetSpec, Path], object] | None = None

    @property
    def n_classes(self) -> int | None:
        return None if self.class_counts is None else len(self.class_counts)

    @property
    def files(self) -> tuple[str, ...]:
        """Every file that must be on disk, in the order the messages list them."""
        return (*self.train_files, *self.test_files, *self.other_files)

    @property
    def on_disk(self) -> bool:
        """Whether the dataset is read from files under ``data.root`` that may be absent (not bundled, not yours)."""
        return self.folder is not None

    @property
    def checksums(self) -> bool:
        """Whether torchvision publishes md5 sums of its files (``data.verify``)."""
        return self.verify is not None

    def missing_files(self, root: Path) -> list[str]:
        """The files and folders (ending in ``/``) of the dataset that are absent under ``root``."""
        if not self.on_disk:
            return []
        base = Path(root) / self.folder
        missing = [
            f for f in self.files if not (base / f).is_file() and not (self.compressed and (base / f"{f}.gz").is_file())
        ]
        return missing + [f"{f}/" for f in self.folders if not (base / f).is_dir()]


def _torchvision_release(read: Callable) -> dict:
    """A dataset that torchvision downloads and publishes md5 sums of, read by ``read``."""
    return {"read": read, "fetch": loaders.fetch_torchvision, "verify": loaders.verify_torchvision}


SPECS = {
    spec.name: spec
    for spec in (
        DatasetSpec("digits", channels=1, side=8, flips=False, read=loaders.read_digits),
        DatasetSpec(
            "mnist",
            channels=1,
            side=28,
            class_counts=(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
            n_test=10_000,
            folder="MNIST/raw",
            train_files=("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            test_files=("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
            compressed=True,
            flips=False,
            **_torchvision_release(loaders.read_mnist),
        ),
        DatasetSpec(
            "cifar10",
            channels=3,
            side=32,
            class_counts=(5000,) * 10,
            n_test=10_000,
            folder="cifar-10-batches-py",
            train_files=tuple(f"data_batch_{i}" for i in range(1, 6)),
            test_files=("test_batch",),
            other_files=("batches.meta",),
            **_torchvision_release(loaders.read_cifar),
        ),
        DatasetSpec(
            "cifar100",
            channels=3,
            side=32,
            class_counts=(500,) * 100,
            n_test=10_000,
            folder="cifar-100-python",
            train_files=("train",),
            test_files=("test",),
            other_files=("meta",),
            **_torchvision_release(loaders.read_cifar),
        ),
        DatasetSpec(
            "tinyimagenet",
            channels=3,
            side=64,
            class_counts=(500,) * 200,
            n_test=10_000,
            folder="tiny-imagenet-200",
            other_files=("wnids.txt", "val/val_annotations.txt"),
            folders=("train",),
            read=loaders.read_tinyimagenet,
            check_layout=loaders.tiny_layout,
        ),
        DatasetSpec("imagefolder", channels=3, side=None, read=loaders.read_imagefolder),
    )
}
DATASETS = tuple(SPECS)

"""Checks of dataset files as they are read, before any training.

Each check raises :class:`DatasetError` with one line naming the file, what was expected and what was
found. The helpers are generic (an idx file, a pickle, a list of labels, an image file, an md5 sum), so
every loader in :mod:`alnb.data.datasets` reads its files through them.
"""

from __future__ import annotations

import contextlib
import gzip
import pickle
import re
import struct
import warnings
from pathlib import Path

import numpy as np

from alnb.core.durable import file_digest


class DatasetError(ValueError):
    """A dataset file is corrupt or inconsistent; the message names the file, the expectation and the finding."""


def check_labels(labels, n_images: int, n_classes: int, source: str | Path) -> np.ndarray:
    """``labels`` as int64 after checking: a flat list of integers, one per image, each in ``[0, n_classes)``."""
    array = np.asarray(labels)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise DatasetError(f"{source}: expected a flat list of integer labels, found {_describe(labels)}")
    if len(array) != n_images:
        raise DatasetError(f"{source}: expected {n_images} labels (one per image), found {len(array)}")
    outside = np.flatnonzero((array < 0) | (array >= n_classes))
    if len(outside):
        raise DatasetError(
            f"{source}: expected labels in [0, {n_classes - 1}], found {array[outside[0]]} at "
            f"position {outside[0]} ({len(outside)} labels out of range)"
        )
    return array.astype(np.int64)


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    return f"a {type(value).__name__}"


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path``, or of ``path.gz`` decompressed when only the archive is present."""
    path = Path(path)
    if path.is_file():
        return path.read_bytes()
    archive = path.with_name(path.name + ".gz")
    try:
        return gzip.decompress(archive.read_bytes())
    except (OSError, EOFError) as err:
        raise DatasetError(f"{archive}: expected a gzip archive, found an unreadable file ({err})") from None


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """An idx file of unsigned bytes (LeCun's MNIST format) with ``ndim`` dimensions, its size checked
    against its header."""
    raw = read_bytes(path)
    magic = struct.pack(">HBB", 0, 0x08, ndim)
    if raw[:4] != magic:
        raise DatasetError(
            f"{path}: expected the idx magic number 0x{magic.hex()} (unsigned bytes, {ndim} "
            f"dimensions), found 0x{raw[:4].hex() or 'empty file'}"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path}: expected a {header}-byte idx header, found a file of {len(raw)} bytes")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        shape = " × ".join(str(d) for d in dims)
        state = "truncated" if len(raw) < expected else "longer than its header says"
        raise DatasetError(
            f"{path}: expected {expected} bytes (header {shape}), found {len(raw)} (the file is {state})"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


# What numpy's own array pickles call (protocols 0-4: _reconstruct, ndarray, dtype; protocol 5: _frombuffer; numpy 2
# names its core ``numpy._core``), and nothing else: dicts, lists, str, bytes and ints need no global.
PICKLE_GLOBALS = frozenset(
    {
        *((core, "_reconstruct") for core in ("numpy.core.multiarray", "numpy._core.multiarray")),
        *((core, "_frombuffer") for core in ("numpy.core.numeric", "numpy._core.numeric")),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }
)


class UnsafePickle(pickle.UnpicklingError):
    """A pickle would call something a data batch never needs; refused before anything is called."""


class _DataOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds only what CIFAR's batches hold: a global other than numpy's array
    reconstruction is refused by name before anything is called."""

    def find_class(self, module: str, name: str):
        if (module, name) not in PICKLE_GLOBALS:
            raise UnsafePickle(
                f"it would call {module}.{name}, which a data batch never needs (only dicts, lists, str, bytes, "
                f"ints and numpy arrays are read); nothing was run"
            )
        return super().find_class(module, name)


def read_pickle(path: Path):
    """The object of a python pickle (CIFAR's format), read by an unpickler that admits only what the official
    batches hold (dicts, lists, str, bytes, ints, numpy arrays: :data:`PICKLE_GLOBALS`), so a batch from an
    untrusted download runs no code; an unreadable or refused file is a :class:`DatasetError`."""
    try:
        with open(path, "rb") as fh:
            return _DataOnlyUnpickler(fh, encoding="latin1").load()
    except UnsafePickle as err:
        raise DatasetError(f"{path}: refused: {err}") from None
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        ImportError,
        IndexError,
        KeyError,
    ) as err:
        raise DatasetError(
            f"{path}: expected a python pickle, found an unreadable file "
            f"({type(err).__name__}: {' '.join(str(err).split())})"
        ) from None


def check_keys(obj, keys: tuple[str, ...], path: Path) -> dict:
    """``obj`` must be a mapping holding ``keys``."""
    wanted = " and ".join(repr(k) for k in keys)
    if not isinstance(obj, dict):
        raise DatasetError(f"{path}: expected a dict with keys {wanted}, found {_describe(obj)}")
    missing = [k for k in keys if k not in obj]
    if missing:
        found = ", ".join(repr(k) for k in obj) or "none"
        raise DatasetError(f"{path}: expected keys {wanted}, found keys {found}")
    return obj


def check_image_array(data, shape: tuple[int, ...], path: Path, key: str) -> np.ndarray:
    """``data`` must be a uint8 array ``[n, *shape]`` (``n`` any)."""
    if not (
        isinstance(data, np.ndarray)
        and data.dtype == np.uint8
        and data.shape[1:] == shape
        and data.ndim == 1 + len(shape)
    ):
        wanted = ", ".join(["n", *map(str, shape)])
        raise DatasetError(f"{path}: expected {key!r} as a uint8 array of shape ({wanted}), found {_describe(data)}")
    return data


def check_class_names(names, n_classes: int | None, path: Path, key: str) -> tuple[str, ...]:
    """A list of distinct strings, ``n_classes`` of them when given."""
    if not (isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names)):
        raise DatasetError(f"{path}: expected {key!r} as a list of class names, found {_describe(names)}")
    if n_classes is not None and len(names) != n_classes:
        raise DatasetError(f"{path}: expected {n_classes} class names in {key!r}, found {len(names)}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DatasetError(f"{path}: expected distinct class names in {key!r}, found {repeated[0]!r} twice")
    return tuple(names)


MAX_IMAGE_PIXELS = 89_478_485  # PIL's own default guard: 0.25 GiB of 24-bit pixels


class ImageTooLarge(DatasetError):
    """An image claims more pixels than :data:`MAX_IMAGE_PIXELS` (a decompression bomb?); it is never decoded."""


@contextlib.contextmanager
def open_image(path: Path):
    """``PIL.Image.open(path)``, refused by name (:class:`ImageTooLarge`) before any decoding when its header claims
    more than :data:`MAX_IMAGE_PIXELS` pixels."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below, in one clear line
        try:
            img = Image.open(path)
        except Image.DecompressionBombError as err:  # PIL's own guard (twice its limit): "Image size (N pixels) ..."
            claimed = re.search(r"\((\d+) pixels\)", str(err))
            raise ImageTooLarge(_too_large(path, f"{int(claimed[1]):,}" if claimed else "more")) from None
    with img:
        if img.width * img.height > MAX_IMAGE_PIXELS:
            raise ImageTooLarge(_too_large(path, f"{img.width}×{img.height} = {img.width * img.height:,}"))
        yield img


def _too_large(path: Path, pixels: str) -> str:
    return (
        f"{path}: {pixels} pixels, more than the limit of {MAX_IMAGE_PIXELS:,} (a decompression bomb?); "
        f"refused, never decoded"
    )


def read_rgb_image(path: Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    """An image file as uint8 ``[3, H, W]``; ``shape`` = (H, W) when every image must have that size."""
    from PIL import UnidentifiedImageError

    try:
        with open_image(path) as img:
            array = np.asarray(img.convert("RGB"), dtype=np.uint8).transpose(2, 0, 1)
    except ImageTooLarge:
        raise
    except FileNotFoundError:
        raise DatasetError(f"{path}: expected an image file, found none") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise DatasetError(
            f"{path}: expected an image, found an unreadable file ({' '.join(str(err).split())})"
        ) from None
    if shape is not None and array.shape[1:] != tuple(shape):
        raise DatasetError(
            f"{path}: expected a {shape[0]}×{shape[1]} image like the others, found {array.shape[1]}×{array.shape[2]}"
        )
    return array


def md5_of(path: Path) -> str:
    return file_digest(path, "md5")


def check_md5(path: Path, expected: str) -> None:
    """The file's md5 must be the published one (``data.verify``)."""
    if not Path(path).is_file():
        raise DatasetError(f"{path}: expected the published file (md5 {expected}) for data.verify, found no file")
    found = md5_of(path)
    if found != expected:
        raise DatasetError(f"{path}: expected md5 {expected} (the published release), found {found}")

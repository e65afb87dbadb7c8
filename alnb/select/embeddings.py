"""The representation the ranking reads: a SimCLR encoder trained on the folder's own images, or the user's vectors.

SimCLR (Chen et al., ICML 2020) is the study's own code (:func:`alnb.methods.pretext.train_pretext`). Its settings
scale with the folder: images are the centre square resized to ``IMAGE_SIZE`` pixels, the small CNN encoder,
and about ``TRAINING_VIEWS`` image-views of training in all (epochs = that / N, between ``MIN_EPOCHS`` and
``MAX_EPOCHS``). The time it expects is measured on two training batches before it starts. The result is
cached by the folder's listing hash, the image size, the encoder and the seed, under the output folder (never
inside FOLDER); the settings it was trained with are kept with it and recorded in the manifest.

The user's vectors (``--embeddings FILE``): an ``.npy`` ``[N, d]`` with a path list ``FILE.txt`` beside it
(one path per line), a CSV whose first column is the path and whose other columns are the vector (a header
row is optional), or a Parquet file with a ``path`` column and either one list column or numeric columns.
Paths are relative to FOLDER.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from alnb.select.folder import SelectError

IMAGE_SIZE = 32
ARCH = "smallcnn"
TRAINING_VIEWS = 50_000
MIN_EPOCHS, MAX_EPOCHS = 3, 50
BATCH_SIZE = 256


@dataclass(frozen=True)
class UserEmbeddings:
    """Vectors ``[N, d]`` float32, aligned with ``paths`` (relative to FOLDER)."""

    paths: list[str]
    vectors: np.ndarray


def encoder_settings(n_images: int) -> dict:
    """SimCLR's settings for a folder of ``n_images``: epochs so that training sees about ``TRAINING_VIEWS``
    images, within [``MIN_EPOCHS``, ``MAX_EPOCHS``]."""
    epochs = int(np.clip(round(TRAINING_VIEWS / max(n_images, 1)), MIN_EPOCHS, MAX_EPOCHS))
    return {"epochs": epochs, "batch_size": min(BATCH_SIZE, max(2, n_images)), "lr": 1e-3, "arch": ARCH}


def expected_seconds(pixels: np.ndarray, settings: dict, seed: int) -> float:
    """Seconds that training and scoring are expected to take: two training batches are timed (after a
    warm-up), then scaled by the number of batches; scoring is counted as one more epoch."""
    from alnb.methods.pretext import train_pretext

    probe = torch.from_numpy(np.ascontiguousarray(pixels[: min(len(pixels), settings["batch_size"])]))
    if len(probe) < 2:
        return 0.0
    timings = []
    for epochs in (1, 1, 3):  # the first call warms up
        start = time.perf_counter()
        train_pretext(
            "simclr", probe, seed, epochs=epochs, batch_size=len(probe), lr=settings["lr"], arch=settings["arch"]
        )
        timings.append(time.perf_counter() - start)
    per_batch = max((timings[2] - timings[1]) / 2, 0.0)
    batches = math.ceil(len(pixels) / settings["batch_size"])
    return per_batch * batches * (settings["epochs"] + 1)


def ssl_encoder(pixels: np.ndarray, listing_hash: str, cache_dir: Path, seed: int, log=print):
    """The SimCLR :class:`~alnb.methods.pretext.PretextResult` of ``pixels`` (embeddings ``[N, 128]``, per-image
    losses, settings), read from ``cache_dir`` when this listing was trained on before, else trained (the
    expected time is logged first)."""
    from alnb.methods.pretext import has_result, load_result, save_result, train_pretext

    key = hashlib.sha1(f"{listing_hash}|{IMAGE_SIZE}|{ARCH}|{seed}".encode()).hexdigest()[:16]
    folder = Path(cache_dir) / f"simclr_{key}"
    if has_result(folder):
        log(f"[alnb select] encoder read from the cache ({folder.name})")
        return load_result(folder)
    settings = encoder_settings(len(pixels))
    seconds = expected_seconds(pixels, settings, seed)
    log(
        f"[alnb select] training SimCLR on {len(pixels):,} images of {IMAGE_SIZE}×{IMAGE_SIZE} "
        f"({settings['epochs']} epochs, {settings['arch']}): expected about {_duration(seconds)}"
    )
    start = time.perf_counter()
    result = train_pretext("simclr", torch.from_numpy(np.ascontiguousarray(pixels)), seed, **settings)
    save_result(result, folder)
    log(f"[alnb select] encoder trained in {_duration(time.perf_counter() - start)}")
    return result


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _read_paths(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _load_csv(file: Path) -> tuple[list[str], np.ndarray]:
    import csv

    with open(file, newline="") as fh:
        rows = [row for row in csv.reader(fh) if row]
    if rows and len(rows[0]) > 1 and not _numeric(rows[0][1]):
        rows = rows[1:]  # a header row
    if not rows or len(rows[0]) < 2:
        raise SelectError(f"--embeddings: {file.name} needs a path column and at least one vector column")
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise SelectError(f"--embeddings: {file.name} has rows of {min(widths)} to {max(widths)} columns")
    try:
        vectors = np.asarray([[float(cell) for cell in row[1:]] for row in rows], dtype=np.float64)
    except ValueError as err:
        raise SelectError(f"--embeddings: {file.name} holds a value that is not a number ({err})") from None
    return [row[0] for row in rows], vectors


def _load_parquet(file: Path) -> tuple[list[str], np.ndarray]:
    import pandas as pd

    try:
        table = pd.read_parquet(file)
    except ImportError as err:
        raise SelectError(
            f"--embeddings: reading {file.name} needs a Parquet engine (pip install pyarrow): {err}"
        ) from None
    if "path" not in table.columns:
        raise SelectError(f"--embeddings: {file.name} has no 'path' column (columns: {', '.join(map(str, table))})")
    rest = table.drop(columns="path")
    if len(rest.columns) == 1 and rest.iloc[:, 0].dtype == object:
        vectors = (
            np.stack([np.asarray(v, dtype=np.float64) for v in rest.iloc[:, 0]]) if len(rest) else np.zeros((0, 0))
        )
    else:
        vectors = rest.to_numpy(dtype=np.float64)
    return [str(p) for p in table["path"]], vectors


def load_user_embeddings(file: str | Path) -> UserEmbeddings:
    """The user's vectors and their paths; raises :class:`SelectError` naming ``--embeddings`` for a missing file,
    an unknown format, a row count that differs from the path list, a repeated path or a NaN/infinite value."""
    file = Path(file)
    if not file.is_file():
        raise SelectError(f"--embeddings: {file} is not a file")
    suffix = file.suffix.lower()
    if suffix == ".npy":
        listed = file.with_suffix(".txt")
        if not listed.is_file():
            raise SelectError(
                f"--embeddings: {file.name} needs its path list {listed.name} beside it "
                f"(one path per line, relative to FOLDER)"
            )
        try:
            vectors = np.load(file, allow_pickle=False)
        except ValueError as err:
            raise SelectError(f"--embeddings: {file.name} is not a plain numeric .npy array ({err})") from None
        paths = _read_paths(listed)
        if vectors.ndim != 2:
            raise SelectError(f"--embeddings: {file.name} must be a 2-D array [N, d], got shape {vectors.shape}")
        if len(vectors) != len(paths):
            raise SelectError(
                f"--embeddings: {file.name} has {len(vectors)} rows but {listed.name} lists {len(paths)} paths"
            )
    elif suffix == ".csv":
        paths, vectors = _load_csv(file)
    elif suffix == ".parquet":
        paths, vectors = _load_parquet(file)
    else:
        raise SelectError(
            f"--embeddings: {file.name} has an unknown format; valid: .npy (with a .txt path list "
            f"beside it), .csv, .parquet"
        )
    if len(paths) == 0 or vectors.shape[1] == 0:
        raise SelectError(f"--embeddings: {file.name} holds no vector")
    if not np.issubdtype(vectors.dtype, np.number):
        raise SelectError(f"--embeddings: {file.name} holds {vectors.dtype} values, not numbers")
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if len(bad):
        raise SelectError(
            f"--embeddings: {file.name} row {bad[0] + 1} ({paths[bad[0]]}) holds a NaN or infinite "
            f"value ({len(bad)} such rows)"
        )
    seen: set[str] = set()
    for row, path in enumerate(paths):
        if path in seen:
            raise SelectError(f"--embeddings: {file.name} lists {path} twice (row {row + 1})")
        seen.add(path)
    return UserEmbeddings([Path(p).as_posix() for p in paths], np.asarray(vectors, dtype=np.float32))


def array_hash(vectors: np.ndarray) -> str:
    """SHA-1 (16 hex digits) of a float32 array's shape and bytes."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    return hashlib.sha1(str(vectors.shape).encode() + vectors.tobytes()).hexdigest()[:16]

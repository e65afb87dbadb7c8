"""Writes that survive a crash or a power loss: temporary file, ``fsync``, rename, ``fsync`` of the folder.

A reader then sees either the old file or the complete new one, never a half-written one, even after
the machine loses power right after the rename. A write that fails for lack of space or quota raises
:class:`DiskFull`, one line naming the disk, what is free and what the file needed; the old file stays.

Caches prove themselves (:func:`save_verified`, :func:`is_verified`): each cache file has a manifest beside it
recording its size and sha256 (and, where given, the hash of its inputs); a file that does not match its manifest
(cut short, altered, or of other inputs) is reported in one line, removed and rebuilt, never used.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path


def fsync_file(path: Path) -> None:
    """Flush ``path``'s data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename inside it) to the disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself is still atomic
    finally:
        os.close(fd)


def _file_mode() -> int:
    """The mode of a new file under the current umask (0644 by default): what ``open`` would create."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call ``write`` on a temporary path beside ``path``, flush it to the disk, then rename it into place.

    The file gets the mode the umask gives any new file (``mkstemp`` alone would leave it 0600, so a
    shared report would be unreadable to others).
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        write(tmp)
        fsync_file(tmp)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except OSError as err:
        if err.errno in NO_SPACE:
            raise DiskFull(disk_full_message(path, err, tmp)) from None
        raise
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


# ----------------------------------------------------------------------------- a full disk

NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


class DiskFull(RuntimeError):
    """A write failed for lack of space (ENOSPC) or quota (EDQUOT); the file it would have replaced is intact.

    Not an ``OSError``, so that no handler of unreadable files takes it for one: it stops the run."""


def mount_point(path: Path) -> Path:
    """The mount point of the file system holding ``path`` (or its nearest existing folder)."""
    folder = Path(os.path.abspath(path))
    while not folder.exists():
        folder = folder.parent
    while not os.path.ismount(folder):
        folder = folder.parent
    return folder


def human_bytes(size: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError  # unreachable


def disk_full_message(path: Path, err: OSError, partial: Path | None) -> str:
    """One line: the file, the disk (its mount point), what is free there, and what the file needed at least
    (what had been written of it when the write failed)."""
    disk = mount_point(path)
    what = "disk quota exceeded" if err.errno == getattr(errno, "EDQUOT", None) else "no space left"
    try:
        written = partial.stat().st_size if partial is not None else 0
    except OSError:
        written = 0
    free = shutil.disk_usage(disk).free
    needed = f"at least {human_bytes(written)} more" if written else "more space"
    return (
        f"{what} on the disk mounted at {disk} ({human_bytes(free)} free) while writing {path}, which needs "
        f"{needed}; what was written before is kept: free space there and rerun the same command to complete"
    )


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically and durably."""
    write_atomically(path, lambda tmp: tmp.write_text(text))


def _write_npz(arrays: dict) -> Callable[[Path], None]:
    import numpy as np

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    return write


# ----------------------------------------------------------------------------- files left by a crash


class DamagedFileWarning(RuntimeWarning):
    """A file is damaged (e.g. truncated by a crash of an older version); it is recomputed, never trusted."""


def atomic_save_npz(path: str | Path, **arrays) -> None:
    """``np.savez`` of ``arrays`` into ``path``, atomically (the file keeps exactly the name given)."""
    write_atomically(path, _write_npz(arrays))


def warn_damaged(path: Path, problem: str, action: str) -> None:
    """One warning line: the file, what is wrong with it and what is done instead."""
    warnings.warn(f"{path}: {problem}; {action}", DamagedFileWarning, stacklevel=3)


def json_problem(path: Path) -> str | None:
    """Why ``path`` is not a readable JSON mapping, or None."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        return f"not valid JSON ({' '.join(str(err).split())})"
    return None if isinstance(value, dict) else f"expected a JSON mapping, found {type(value).__name__}"


def read_json(path: Path, action: str) -> dict | None:
    """The mapping in ``path``; None when it is absent, or damaged (reported with ``action``)."""
    path = Path(path)
    if not path.is_file():
        return None
    problem = json_problem(path)
    if problem:
        warn_damaged(path, problem, action)
        return None
    return json.loads(path.read_text())


def csv_problem(path: Path, required: list[str]) -> str | None:
    """Why ``path`` is not a complete CSV table with the ``required`` columns filled, or None.

    A table written whole ends with a newline; a crash could leave it cut inside a line, which may still
    parse (a shortened number), hence the check of the last byte first.
    """
    import pandas as pd

    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        return f"unreadable ({' '.join(str(err).split())})"
    if not text.endswith("\n"):
        return "truncated (it does not end with a complete line)"
    try:
        table = pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as err:
        return f"not a readable CSV table ({' '.join(str(err).split())})"
    missing = [c for c in required if c not in table.columns]
    if missing:
        return f"expected the columns {', '.join(required)}, found {', '.join(map(str, table.columns))}"
    if table[required].isna().any().any():
        return "truncated (some rows have empty required fields)"
    return None


# ----------------------------------------------------------------------------- caches that prove themselves


def manifest_path(path: str | Path) -> Path:
    """The manifest beside a cache file: ``<name>.manifest.json``."""
    path = Path(path)
    return path.with_name(path.name + ".manifest.json")


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_verified(path: str | Path, write: Callable[[Path], None], inputs: str | None = None) -> None:
    """Write a cache file atomically with ``write`` (as :func:`write_atomically`), then its manifest: size,
    sha256 and ``inputs`` (the hash of what the file was made from, when the caller has one). The old manifest
    goes first, so no manifest ever vouches for a file it was not written for."""
    path = Path(path)
    manifest_path(path).unlink(missing_ok=True)
    write_atomically(path, write)
    record = {"file": path.name, "bytes": path.stat().st_size, "sha256": file_digest(path), "inputs": inputs}
    atomic_write_text(manifest_path(path), json.dumps(record, indent=1))


def save_verified_npz(path: str | Path, inputs: str | None = None, **arrays) -> None:
    """``np.savez`` of ``arrays`` as a verified cache file (:func:`save_verified`)."""
    save_verified(path, _write_npz(arrays), inputs)


def verified_problem(path: Path, inputs: str | None = None) -> str | None:
    """Why the cache file ``path`` does not match its manifest, or None when it does."""
    manifest = manifest_path(path)
    if not manifest.is_file() or json_problem(manifest):
        return f"no intact manifest ({manifest.name}) records its hash"
    record = json.loads(manifest.read_text())
    size = path.stat().st_size
    if size != record.get("bytes"):
        return f"truncated or altered ({size} bytes; its manifest records {record.get('bytes')})"
    if file_digest(path) != record.get("sha256"):
        return "altered (its sha256 differs from the one its manifest records)"
    if inputs is not None and record.get("inputs") != inputs:
        return "made from other inputs than its manifest records"
    return None


def is_verified(path: str | Path, action: str = "it is rebuilt", inputs: str | None = None) -> bool:
    """Whether the cache file ``path`` exists and matches its manifest. One that does not is reported in one
    warning line (with ``action``) and removed with its manifest, so it is rebuilt and never used."""
    path = Path(path)
    if not path.is_file():
        return False
    problem = verified_problem(path, inputs)
    if problem is None:
        return True
    warn_damaged(path, problem, action)
    path.unlink(missing_ok=True)
    manifest_path(path).unlink(missing_ok=True)
    return False

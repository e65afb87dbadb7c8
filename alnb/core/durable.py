"""Writes that survive a crash or a power loss: temporary file, ``fsync``, rename, ``fsync`` of the folder.

A reader then sees either the old file or the complete new one, never a half-written one, even after
the machine loses power right after the rename.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import warnings
import zipfile
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        fsync_file(tmp)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically and durably."""
    write_atomically(path, lambda tmp: tmp.write_text(text))


# ----------------------------------------------------------------------------- files left by a crash


class DamagedFileWarning(RuntimeWarning):
    """A file is damaged (e.g. truncated by a crash of an older version); it is recomputed, never trusted."""


def atomic_save_npz(path: str | Path, **arrays) -> None:
    """``np.savez`` of ``arrays`` into ``path``, atomically (the file keeps exactly the name given)."""
    import numpy as np

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    write_atomically(path, write)


def atomic_save_npy(path: str | Path, array) -> None:
    """``np.save`` of ``array`` into ``path``, atomically."""
    import numpy as np

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, array)

    write_atomically(path, write)


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


def zip_problem(path: Path) -> str | None:
    """Why ``path`` is not an intact zip archive (``.npz`` files and ``torch.save`` files are), or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as err:
        return f"not an intact archive ({' '.join(str(err).split())})"
    return None if bad is None else f"archive member {bad} fails its checksum"


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

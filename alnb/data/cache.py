"""Where decoded image arrays are kept: the user's cache folder, or ``data.cache_dir``; never the data folder,
which may be read-only or shared by several users. A cache file is named by a digest of its folder's listing
(every file's path, size and modification time), so a changed, added or removed image is decoded afresh."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def default_cache_dir() -> Path:
    """The user's cache folder for alnb: ``$XDG_CACHE_HOME/alnb``, else ``~/.cache/alnb`` (on Windows
    ``%LOCALAPPDATA%/alnb/cache``)."""
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "alnb" / "cache"
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache") / "alnb"


def listing_cache_path(root: Path, subfolders: tuple[str, ...], name: str, cache_dir: Path | None) -> Path:
    """``<cache_dir>/<name>_<digest>.npz`` for the files below ``root``'s ``subfolders`` (``"."``: all of
    ``root``; ``cache_dir`` None: :func:`default_cache_dir`)."""
    listing = hashlib.sha1(f"{Path(root).resolve()}\n".encode())
    for path in sorted(
        p for sub in subfolders if (root / sub).is_dir() for p in (root / sub).rglob("*") if p.is_file()
    ):
        stat = path.stat()
        listing.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return Path(cache_dir or default_cache_dir()) / f"{name}_{listing.hexdigest()[:16]}.npz"

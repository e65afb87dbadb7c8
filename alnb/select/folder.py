"""The images of a user's folder: listing, its hash, exact duplicates and decoding, with what was skipped and why.

Any tree of PNG/JPEG files is accepted (class folders are not needed; hidden files and folders are ignored).
Symbolic links are never followed out of the folder, nor into folders: a link to a folder, a link leading outside
FOLDER and a link that loops or leads nowhere are reported as skipped, with why.
The listing hash covers every image's path relative to the folder, size and modification time: a changed
folder is listed, hashed and decoded again. Exact duplicates are files with the same bytes (SHA-1); the first
path of each group (in sorted order) stands for the group, the others are reported and never ranked. An
image that cannot be decoded (unreadable, truncated) is reported and skipped.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from alnb.data.imagefolder import IMAGE_SUFFIXES, ImageFolderError, read_image


class SelectError(ValueError):
    """Bad input to ``alnb select``: one line naming the argument or file."""


@dataclass
class Listing:
    """The images of ``root`` as sorted relative POSIX paths, and the hash of their paths, sizes and times;
    ``skipped`` maps the symbolic links not followed to why."""

    root: Path
    paths: list[str]
    listing_hash: str
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass
class Images:
    """The usable images: one per group of identical files, in listing order.

    ``paths`` ``[n]`` relative paths; ``pixels`` uint8 ``[n, C, S, S]`` (None when not decoded);
    ``skipped`` maps a relative path to why it is not ranked; ``duplicates`` maps a kept path to the paths
    holding the same bytes.
    """

    paths: list[str]
    pixels: np.ndarray | None
    skipped: dict[str, str] = field(default_factory=dict)
    duplicates: dict[str, list[str]] = field(default_factory=dict)


def leaves_folder(name: str) -> bool:
    """Whether a path meant relative to FOLDER is absolute or climbs out of it with ``..``."""
    path = Path(name)
    return path.is_absolute() or ".." in path.parts


def _link_problem(link: Path, real_root: Path) -> str | None:
    """Why the symbolic link ``link`` is not followed, or None for a link to a file inside FOLDER."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):  # a loop (ELOOP; RuntimeError before Python 3.13) or a dangling link
        return "a symbolic link that loops or leads nowhere"
    if not target.is_relative_to(real_root):
        return "a symbolic link leading outside FOLDER (not followed)"
    if target.is_dir():
        return "a symbolic link to a folder (not followed; its images are listed where they are)"
    return None


def _walk(root: Path) -> tuple[list[Path], dict[str, str]]:
    """The visible files under ``root`` (never through a symbolic link to a folder, so no loop can hang it), and
    the links skipped (folders, or images) with why."""
    real_root, files, skipped = root.resolve(), [], {}
    for folder, dirs, names in os.walk(root, followlinks=False):
        base = Path(folder)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in [*dirs, *(n for n in names if not n.startswith("."))]:
            path = base / name
            if not path.is_symlink():
                if name not in dirs:
                    files.append(path)
                continue
            problem = _link_problem(path, real_root)
            if name in dirs:
                dirs.remove(name)
                skipped[path.relative_to(root).as_posix()] = problem or "a symbolic link to a folder (not followed)"
            elif problem is None:
                files.append(path)
            elif path.suffix.lower() in IMAGE_SUFFIXES:
                skipped[path.relative_to(root).as_posix()] = problem
    return [p for p in files if p.is_file()], skipped


def list_images(folder: str | Path, argument: str = "FOLDER") -> Listing:
    """Every PNG/JPEG file under ``folder`` (nested folders included; symbolic links only to files inside it); a
    missing folder, an empty one or one without any image raises :class:`SelectError` naming ``argument``."""
    root = Path(folder)
    if not root.is_dir():
        raise SelectError(f"{argument}: {folder} is not a folder")
    files, skipped = _walk(root)
    if not files:
        raise SelectError(f"{argument}: {folder} is empty")
    images = sorted(p.relative_to(root).as_posix() for p in files if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise SelectError(
            f"{argument}: {folder} holds no image ({', '.join(IMAGE_SUFFIXES)}) among its {len(files)} files"
        )
    digest = hashlib.sha1()
    for relative in images:
        stat = (root / relative).stat()
        digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    for relative, why in sorted(skipped.items()):
        digest.update(f"{relative}\0{why}\n".encode())
    return Listing(root, images, digest.hexdigest()[:16], skipped)


def content_hashes(listing: Listing) -> list[str]:
    """SHA-1 of each image file's bytes, in listing order."""
    return [hashlib.sha1((listing.root / path).read_bytes()).hexdigest() for path in listing.paths]


def duplicate_groups(paths: list[str], hashes: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """(the first path of every group of equal hashes, in order; kept path → its other paths)."""
    first: dict[str, str] = {}
    duplicates: dict[str, list[str]] = {}
    kept = []
    for path, digest in zip(paths, hashes):
        if digest in first:
            duplicates.setdefault(first[digest], []).append(path)
        else:
            first[digest] = path
            kept.append(path)
    return kept, duplicates


def decode_images(listing: Listing, image_size: int, decode: bool = True) -> Images:
    """The folder's unique images (decoded to ``[C, S, S]`` uint8, the centre square resized to S) with what
    was skipped: unreadable or truncated files, and copies of a kept file. ``decode=False`` keeps every
    unique file without decoding (the user's embeddings stand for the images). All are grayscale → one
    channel, else RGB."""
    kept, duplicates = duplicate_groups(listing.paths, content_hashes(listing))
    skipped = {copy: f"the same bytes as {original}" for original, copies in duplicates.items() for copy in copies}
    skipped.update(listing.skipped)
    if not decode:
        return Images(kept, None, skipped, duplicates)
    arrays, paths, all_gray = [], [], True
    for path in kept:
        try:
            array, gray = read_image(listing.root / path, image_size)
        except ImageFolderError as err:
            reason = str(err).split(": ", 2)[-1].replace(str(listing.root / path), path)  # no machine path
            skipped[path] = "unreadable: " + reason
            for copy in duplicates.pop(path, []):
                skipped[copy] = f"unreadable (the same bytes as {path})"
            continue
        arrays.append(array)
        paths.append(path)
        all_gray &= gray
    if not arrays:
        raise SelectError(
            f"FOLDER: {listing.root} holds no readable image ({len(listing.paths)} files, all unreadable or truncated)"
        )
    pixels = np.stack(arrays)
    return Images(paths, pixels[:, :1] if all_gray else pixels, skipped, duplicates)

"""Where a run's numbers came from: the code (git commit, and whether the tree was dirty), the versions of alnb,
Python and the numerical libraries, the platform and the device. Recorded in ``protocol.json`` beside the protocol
(:meth:`alnb.run.store.RunStore.check_protocol`), shown on the front page and in a replication's synthesis."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("torch", "numpy", "scikit-learn", "scipy")


def _git(root: Path, *args: str) -> str | None:
    """The output of ``git args`` in ``root``; None outside a checkout or without git."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def device_name(device) -> str:
    """``cpu``, or a CUDA device with its model, e.g. ``cuda:0 (NVIDIA H100 80GB HBM3)``."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return str(device)


def provenance(device, code_dir: str | Path | None = None) -> dict:
    """The provenance record of a run on ``device``: ``git_commit`` and ``git_dirty`` of the checkout holding
    ``code_dir`` (default: the alnb package that runs; None outside a git checkout), the versions, ``platform``
    and ``device``."""
    import alnb

    root = Path(code_dir) if code_dir is not None else Path(alnb.__file__).resolve().parent
    commit = _git(root, "rev-parse", "HEAD")
    status = _git(root, "status", "--porcelain") if commit else None
    return {
        "git_commit": commit,
        "git_dirty": None if status is None else bool(status),
        "alnb": alnb.__version__,
        "python": platform.python_version(),
        **{package: _version(package) for package in PACKAGES},
        "platform": platform.platform(),
        "device": device_name(device),
    }


def provenance_line(record: dict) -> str:
    """One line for readers: commit (dirty or clean), versions, platform, device; "—" for what is unknown."""
    commit = record.get("git_commit")
    code = (
        "—" if not commit else f"commit {commit[:12]}" + (" (uncommitted changes)" if record.get("git_dirty") else "")
    )
    versions = ", ".join(f"{name} {record.get(name) or '—'}" for name in ("alnb", "python", *PACKAGES))
    return f"{code}; {versions}; {record.get('platform') or '—'}; device {record.get('device') or '—'}"

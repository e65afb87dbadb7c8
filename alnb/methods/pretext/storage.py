"""Cache a :class:`PretextResult` of any self-supervised model in a folder: ``arrays.npz`` (the losses of a
pretext task, the embeddings, DeepCluster's assignments), ``model.pt`` (weights) and ``meta.json`` (task, history,
metrics, settings).

Every file is written under a temporary name, flushed to the disk and renamed into place; ``meta.json`` is
removed first and written last, so a folder holding ``meta.json`` always holds a complete result.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from alnb.core.durable import (
    is_verified,
    json_problem,
    save_verified,
    save_verified_npz,
    warn_damaged,
    write_atomically,
)
from alnb.methods.pretext.registry import PretextResult

_ARRAYS, _MODEL, _META = "arrays.npz", "model.pt", "meta.json"
_DTYPES = {"losses": np.float64, "embeddings": np.float32, "assignments": np.int64}


def _write_text(path: Path, text: str) -> None:
    path.write_text(text)


def save_result(result: PretextResult, folder: str | Path) -> Path:
    """Write ``result`` into ``folder`` (created if needed); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / _META).unlink(missing_ok=True)
    arrays = {name: getattr(result, name) for name in _DTYPES if getattr(result, name) is not None}
    save_verified_npz(folder / _ARRAYS, **{name: np.asarray(a, dtype=_DTYPES[name]) for name, a in arrays.items()})
    save_verified(folder / _MODEL, lambda p: torch.save(result.state_dict, p))
    meta = {
        "task": result.task,
        "history": list(result.history),
        "metrics": {k: float(v) for k, v in result.metrics.items()},
        "settings": result.settings,
    }
    write_atomically(folder / _META, lambda p: _write_text(p, json.dumps(meta, indent=2, sort_keys=True)))
    return folder


def has_result(folder: str | Path) -> bool:
    """Whether ``folder`` holds a complete saved result.

    A damaged one (a file cut short or altered: its manifest's hash no longer matches) is reported in one
    warning line and counts as absent, so the model is trained again.
    """
    folder = Path(folder)
    if not (folder / _META).is_file():
        return False
    problem = json_problem(folder / _META)
    if problem:
        warn_damaged(folder / _META, problem, "the pretext model is trained again")
        return False
    return all(is_verified(folder / name, "the pretext model is trained again") for name in (_ARRAYS, _MODEL))


def load_result(folder: str | Path) -> PretextResult | None:
    """The result saved in ``folder`` (weights on the CPU), or None when it holds no complete one."""
    folder = Path(folder)
    if not has_result(folder):
        return None
    meta = json.loads((folder / _META).read_text())
    with np.load(folder / _ARRAYS) as saved:
        arrays = {name: saved[name] if name in saved else None for name in _DTYPES}
    state_dict = torch.load(folder / _MODEL, map_location="cpu", weights_only=True)
    return PretextResult(
        meta["task"],
        arrays["losses"],
        arrays["embeddings"],
        meta["history"],
        meta["metrics"],
        state_dict,
        meta["settings"],
        arrays["assignments"],
    )

"""Helpers shared by the tests: a small digits study and fake model outputs."""

from pathlib import Path

import numpy as np
import torch

from alnb.run.study import Study
from alnb.run.validation import params_from_dict

FAST_TRAINING = {"batch_size": 64, "min_samples_per_epoch": 128, "max_epochs": 3, "patience": 2}


def make_study(
    tmp_path: Path, name: str = "run", *, pretext: dict | None = None, executor: dict | None = None, **al
) -> Study:
    """A digits study in ``tmp_path / name`` on the CPU that trains in seconds: an initial pool of 20, 2 cycles of
    10, seed 0, random queries (``al`` overrides any of them), no self-supervised model unless ``pretext``
    names some, serial on one thread unless ``executor`` says otherwise."""
    al = {"initial_size": 20, "budget": 10, "cycles": 2, "seeds": [0], "queries": ["random"], **al}
    raw = {
        "run_dir": str(tmp_path / name),
        "device": "cpu",
        "al": al,
        "training": FAST_TRAINING,
        "executor": executor or {"kind": "serial", "threads": 1},
    }
    return Study(params_from_dict({**raw, "pretext": pretext} if pretext else raw))


def one_cycle_study(tmp_path: Path, al: dict, **sections: dict) -> Study:
    """A one-cycle digits study in ``tmp_path / "run"`` of ``al`` (over an initial pool of 20 and a cycle of 10) and
    other params ``sections``, trained for one epoch and run serially."""
    raw = {
        "study": "one_cycle",
        "run_dir": str(tmp_path / "run"),
        "data": {"val_size": 100},
        "training": {"max_epochs": 1, "patience": 1, "min_samples_per_epoch": 32},
        "al": {"initial_size": 20, "budget": 10, "cycles": 1, **al},
        "executor": {"kind": "serial", "threads": 1},
        **sections,
    }
    return Study(params_from_dict(raw, tmp_path))


class FakeOutputs:
    """Random but fixed model outputs (``alnb.methods.query.ModelOutputs``) for ``n_total`` samples indexed by
    global index, on the CPU. Only the indices of ``domain`` (default: all; the loop's U ∪ L) may be asked for;
    ``degenerate`` makes every sample identical, which stresses tie-breaking."""

    def __init__(
        self,
        n_total: int,
        n_classes: int,
        seed: int = 0,
        n_members: int = 3,
        dim: int = 6,
        domain: np.ndarray | None = None,
        degenerate: bool = False,
        image_shape: tuple[int, int, int] = (1, 8, 8),
    ):
        arrays = np.random.default_rng(seed)
        self.n_classes, self.device = n_classes, torch.device("cpu")
        self._domain = np.zeros(n_total, dtype=bool)
        self._domain[np.arange(n_total) if domain is None else domain] = True
        if degenerate:
            self._member_probs = np.full((n_members, n_total, n_classes), 1.0 / n_classes)
            self._embeddings = np.ones((n_total, dim), np.float32)
            self._images = torch.full((n_total, *image_shape), 128, dtype=torch.uint8)
        else:
            self._member_probs = arrays.dirichlet(np.full(n_classes, 0.5), size=(n_members, n_total))
            self._embeddings = arrays.standard_normal((n_total, dim)).astype(np.float32)
            self._images = torch.from_numpy(arrays.integers(0, 256, (n_total, *image_shape), dtype=np.uint8))
        self._degenerate, self._seed = degenerate, seed

    def _check(self, indices: np.ndarray) -> np.ndarray:
        indices = np.asarray(indices)
        if not self._domain[indices].all():
            raise IndexError("model outputs asked for an index outside U ∪ L")
        return indices

    def probs(self, indices):
        return self._member_probs[:, self._check(indices)].mean(axis=0)

    def member_probs(self, indices):
        return self._member_probs[:, self._check(indices)]

    def mc_probs(self, indices, passes):
        indices = self._check(indices)
        if self._degenerate:
            return np.full((len(indices), self.n_classes, passes), 1.0 / self.n_classes)
        draws = np.random.default_rng(self._seed + 1).dirichlet(
            np.full(self.n_classes, 0.5), size=(len(self._domain), passes)
        )
        return draws[indices].transpose(0, 2, 1)

    def embeddings(self, indices):
        return self._embeddings[self._check(indices)]

    def images(self, indices):
        return self._images[torch.as_tensor(self._check(indices))]

    def normalized_images(self, indices):
        return self.images(indices).float().div(255.0).sub(0.5).div(0.25)

    def validation_logits(self):
        arrays = np.random.default_rng(self._seed + 2)
        labels = arrays.integers(0, self.n_classes, 12)
        logits = np.zeros((12, self.n_classes)) if self._degenerate else arrays.standard_normal((12, self.n_classes))
        return logits, labels

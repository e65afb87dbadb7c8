"""A study's data and its representations of the unlabeled pool U: dataset, splits, features and the
self-supervised models trained on U.

Everything expensive is computed once per (dataset, seed) and cached: features in memory, self-supervised
models in the run directory's pretext cache (``RunStore.self_supervised_folder``), keyed by their settings and
by U, so changing either trains them again.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from alnb.core import seeding
from alnb.core.config import StudyParams
from alnb.core.threads import torch_threads
from alnb.data.datasets import Dataset, Splits, load_dataset, make_splits
from alnb.methods.pretext import (
    PRETEXT_TASKS,
    SELF_SUPERVISED,
    SELF_SUPERVISED_METHODS,
    PretextResult,
    has_result,
    load_result,
    save_result,
    train_self_supervised,
)
from alnb.models.networks import resolve_device, resolve_pretext_arch
from alnb.models.training import ImageTensors, default_hflip
from alnb.run.executors import threads_per_job
from alnb.run.loop import check_splits, cycle_sizes
from alnb.run.store import RunStore

PCA_COMPONENTS = 50


class Representations:
    """The dataset of ``params``, its splits per seed, and lazily computed, cached representations of U."""

    def __init__(self, params: StudyParams, store: RunStore):
        self.params = params
        self.store = store
        self._splits: dict[int, Splits] = {}
        self._features: dict[tuple[int, str], np.ndarray] = {}
        self._models: dict[tuple[int, str], PretextResult] = {}

    # ------------------------------------------------------------------ data
    @cached_property
    def dataset(self) -> Dataset:
        d = self.params.data
        return load_dataset(
            d.dataset,
            self.params.data_root,
            d.download,
            d.test_size,
            d.imbalance_factor,
            d.image_size,
            d.train_subset,
            self.params.cache_path,
        )

    @cached_property
    def pretext_arch(self) -> str:
        """The self-supervised encoders' architecture (``pretext.arch``; ``auto`` follows ``model.arch``)."""
        p = self.params
        return resolve_pretext_arch(p.pretext.arch, p.model.arch, self.dataset.image_size)

    @cached_property
    def device(self) -> torch.device:
        return resolve_device(self.params.device)

    @cached_property
    def tensors(self) -> ImageTensors:
        return ImageTensors(self.dataset, self.device, self.params.training.random_resized_crop)

    @property
    def hflip(self) -> bool:
        flag = self.params.training.hflip
        return default_hflip(self.dataset.name) if flag is None else flag

    def splits(self, seed: int) -> Splits:
        if seed not in self._splits:
            splits = make_splits(self.dataset, self.params.data.val_size, seed)
            check_splits(splits, self.dataset.n_train)
            self._splits[seed] = splits
        return self._splits[seed]

    def sizes(self, seed: int, initial_size: int | float | None = None) -> tuple[int, int]:
        """(initial pool size, per-cycle budget) as counts."""
        return cycle_sizes(len(self.splits(seed).pool), self.params, initial_size)

    def pool_labels(self, seed: int) -> np.ndarray:
        """The true labels of U ``[|U|]`` (for oracle references and analysis only, never to pick a pool)."""
        return self.dataset.train_labels.numpy()[self.splits(seed).pool]

    # ------------------------------------------------------------------ representations of U
    def features(self, seed: int, representation: str) -> np.ndarray:
        """``[|U|, d]`` features of U: ``pixels`` (scaled to [0, 1]), ``pca`` (of pixels) or a pretext embedding.

        Only ``pixels`` and ``pca`` read U's pixels as floats (4 bytes a pixel: about 4.4 GB on TinyImageNet)."""
        key = (seed, representation)
        if key not in self._features:
            if representation == "pixels":
                self._features[key] = self._pixels(seed).numpy()
            elif representation in SELF_SUPERVISED_METHODS:
                self._features[key] = self.self_supervised(seed, representation).embeddings
            elif representation == "pca":
                from sklearn.decomposition import PCA

                pixels = self._pixels(seed)
                n_components = min(PCA_COMPONENTS, *pixels.shape)
                pca = PCA(n_components, random_state=seeding.stream_seed(seed, "pca") % 2**31)
                self._features[key] = pca.fit_transform(pixels.numpy()).astype(np.float32)
            else:
                raise ValueError(
                    f"representation {representation!r} is not available; valid: pixels, pca, "
                    f"{', '.join(SELF_SUPERVISED_METHODS)}"
                )
        return self._features[key]

    def _pixels(self, seed: int) -> torch.Tensor:
        """U's pixels as float32 in [0, 1], one row per image ``[|U|, C·H·W]``."""
        pool = self.splits(seed).pool
        return self._pool_images(seed).reshape(len(pool), -1).float().div_(255)

    def _pool_images(self, seed: int) -> torch.Tensor:
        return self.dataset.train_images[torch.from_numpy(self.splits(seed).pool)]

    def _pretext_folder(self, seed: int, method: str) -> Path:
        """Cache folder of a self-supervised model, keyed by its settings and the pool: changing either retrains."""
        pool = self.splits(seed).pool
        digest = hashlib.sha1(
            json.dumps(
                {
                    "settings": self.params.pretext.settings.get(method, {}),
                    "arch": self.pretext_arch,
                    "pool": hashlib.sha1(pool.tobytes()).hexdigest(),
                },
                sort_keys=True,
            ).encode()
        ).hexdigest()[:10]
        return self.store.self_supervised_folder(self.dataset.name, seed, method, digest)

    def self_supervised(self, seed: int, method: str) -> PretextResult:
        """The model of ``method`` (of ``pretext.tasks``) trained on U of ``seed`` only: loaded from the cache,
        else trained (a damaged cache is reported and trained again)."""
        key = (seed, method)
        if key not in self._models:
            folder = self._pretext_folder(seed, method)
            result = load_result(folder)
            if result is None:
                with torch_threads(threads_per_job(self.params.executor)):
                    result = train_self_supervised(
                        method,
                        self._pool_images(seed),
                        seed,
                        self.device,
                        n_classes=self.dataset.n_classes,
                        arch=self.pretext_arch,
                        **self.params.pretext.settings.get(method, {}),
                    )
                save_result(result, folder)
            self._models[key] = result
        return self._models[key]

    def self_supervised_cached(self, seed: int, method: str) -> bool:
        return has_result(self._pretext_folder(seed, method))

    def clusters(self, seed: int, method: str) -> np.ndarray:
        """A clustering of U ``[|U|]``, aligned with ``splits(seed).pool`` (``deepcluster``)."""
        clusterings = [name for name, m in SELF_SUPERVISED.items() if not m.scores]
        if method not in clusterings:
            raise ValueError(f"clustering {method!r} is not available; valid: {', '.join(clusterings)}")
        return self.self_supervised(seed, method).assignments

    def pretext_scores(self, seed: int, task: str) -> np.ndarray:
        """Per-sample pretext loss ``[|U|]``, aligned with ``splits(seed).pool``."""
        if task not in PRETEXT_TASKS:
            raise ValueError(f"pretext scores of {task!r} are not available; valid: {', '.join(PRETEXT_TASKS)}")
        return self.self_supervised(seed, task).losses

    def backbone_state(self, seed: int) -> dict | None:
        """The weights every classifier's backbone starts from (``model.init``): ``None`` for ``scratch``, else
        the encoder of that self-supervised model, trained on U of ``seed`` only (Siméoni et al., ICPR 2020)."""
        method = self.params.model.init
        return None if method == "scratch" else self.self_supervised(seed, method).encoder_state()

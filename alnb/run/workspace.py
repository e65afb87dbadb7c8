"""One study: its parameters, data, splits, cached representations, initial pools and trials.

This is the layer the notebooks call. Everything expensive is computed once per (dataset, seed) and
cached in the run directory; every trial is keyed by every factor that defines it
(``store.TrialKey``) and skipped when done. How trials are scheduled lives in ``alnb.run.executors``; the
sub-study drivers in ``alnb.run.substudies``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import traceback
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from alnb.core import seeding
from alnb.core.config import StudyParams
from alnb.core.durable import DiskFull
from alnb.core.threads import available_cpus, torch_threads
from alnb.data.datasets import Dataset, Splits, load_dataset, make_splits
from alnb.methods.pools import PoolContext, resolve_pool
from alnb.methods.pretext import (
    PRETEXT_TASKS,
    SELF_SUPERVISED_METHODS,
    DeepClusterResult,
    PretextResult,
    has_deepcluster,
    has_result,
    load_deepcluster,
    load_result,
    save_deepcluster,
    save_result,
    train_deepcluster,
    train_pretext,
)
from alnb.methods.query import get_query_method
from alnb.models.networks import resolve_device, resolve_pretext_arch
from alnb.models.training import ImageTensors, default_hflip
from alnb.run.loop import check_selection, check_splits, cycle_sizes, run_trial
from alnb.run.store import RunStore, TrialKey

PCA_COMPONENTS = 50


class Workspace:
    """A study's parameters and run directory, with lazily loaded data and cached artifacts."""

    def __init__(self, params: StudyParams, pretext_root: Path | None = None, factors: dict | None = None):
        self.params = params
        self.factors = dict(factors or {})  # sub-study factors (core.trial_keys.FACTOR_KEYS) that key every trial
        if params.model.init != "scratch":
            self.factors.setdefault("model_init", params.model.init)
        self.store = RunStore(params.run_path, pretext_root)
        self._splits: dict[int, Splits] = {}
        self._features: dict[tuple[int, str], np.ndarray] = {}
        self._pretext: dict[tuple[int, str], PretextResult | DeepClusterResult] = {}

    def variant(self, name: str, factors: dict, **sections: dict) -> Workspace:
        """A sub-study in ``<run_dir>/<name>`` with some parameters overridden; it shares the pretext cache.

        ``factors`` (e.g. ``{"initial_size": 10}``) key its trials and become columns of its rows, so the
        rows of several sub-studies never merge into one curve.
        """
        params = self.params.replace(**sections)
        params = dataclasses.replace(params, run_dir=str(self.store.root / name))
        return type(self)(params, pretext_root=self.store.pretext_root, factors={**self.factors, **factors})

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
    def threads(self) -> int:
        """torch CPU threads for this process: ``executor.threads``, else a Ray trial's ``num_cpus``, else the
        cores divided by ``n_jobs``."""
        ex = self.params.executor
        if ex.threads:
            return ex.threads
        if ex.kind == "ray" and ex.num_cpus:
            return max(1, int(ex.num_cpus))
        return max(1, available_cpus() // ex.n_jobs)

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

    # ------------------------------------------------------------------ representations of U
    def features(self, seed: int, representation: str) -> np.ndarray:
        """``[|U|, d]`` features of U: ``pixels`` (scaled to [0, 1]), ``pca`` (of pixels) or a pretext embedding."""
        key = (seed, representation)
        if key not in self._features:
            pool = self.splits(seed).pool
            pixels = self.dataset.train_images[torch.from_numpy(pool)].reshape(len(pool), -1).float().div_(255)
            if representation == "pixels":
                self._features[key] = pixels.numpy()
            elif representation in PRETEXT_TASKS:
                self._features[key] = self.pretext(seed, representation).embeddings
            elif representation == "deepcluster":
                self._features[key] = self.deepcluster(seed).embeddings
            elif representation == "pca":
                from sklearn.decomposition import PCA

                n_components = min(PCA_COMPONENTS, *pixels.shape)
                pca = PCA(n_components, random_state=seeding.stream_seed(seed, "pca") % 2**31)
                self._features[key] = pca.fit_transform(pixels.numpy()).astype(np.float32)
            else:
                raise ValueError(
                    f"representation {representation!r} is not available; valid: pixels, pca, "
                    f"{', '.join(SELF_SUPERVISED_METHODS)}"
                )
        return self._features[key]

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

    def _pool_images(self, seed: int) -> torch.Tensor:
        return self.dataset.train_images[torch.from_numpy(self.splits(seed).pool)]

    def pretext(self, seed: int, task: str) -> PretextResult:
        """The pretext model of ``task`` trained on U of ``seed`` only: loaded from the cache, else trained."""
        key = (seed, task)
        if key not in self._pretext:
            folder = self._pretext_folder(seed, task)
            try:
                self._pretext[key] = load_result(folder)  # checks the files once (storage.has_result)
            except FileNotFoundError:  # none saved, or a damaged one (reported)
                with torch_threads(self.threads):
                    result = train_pretext(
                        task,
                        self._pool_images(seed),
                        seed,
                        self.device,
                        arch=self.pretext_arch,
                        **self.params.pretext.settings.get(task, {}),
                    )
                save_result(result, folder)
                self._pretext[key] = result
        return self._pretext[key]

    def deepcluster(self, seed: int) -> DeepClusterResult:
        """DeepCluster (K = number of classes) trained on U of ``seed`` only: loaded from the cache, else trained."""
        key = (seed, "deepcluster")
        if key not in self._pretext:
            folder = self._pretext_folder(seed, "deepcluster")
            result = load_deepcluster(folder)
            if result is None:
                with torch_threads(self.threads):
                    result = train_deepcluster(
                        self._pool_images(seed),
                        self.dataset.n_classes,
                        seed,
                        self.device,
                        arch=self.pretext_arch,
                        **self.params.pretext.settings.get("deepcluster", {}),
                    )
                save_deepcluster(result, folder)
            self._pretext[key] = result
        return self._pretext[key]

    def self_supervised(self, seed: int, method: str) -> PretextResult | DeepClusterResult:
        """The model of ``method`` (a pretext task or ``deepcluster``) for ``seed``: cached, else trained."""
        return self.deepcluster(seed) if method == "deepcluster" else self.pretext(seed, method)

    def _self_supervised_cached(self, seed: int, method: str) -> bool:
        folder = self._pretext_folder(seed, method)
        return has_deepcluster(folder) if method == "deepcluster" else has_result(folder)

    def clusters(self, seed: int, method: str) -> np.ndarray:
        """A clustering of U ``[|U|]``, aligned with ``splits(seed).pool`` (``deepcluster``)."""
        if method != "deepcluster":
            raise ValueError(f"clustering {method!r} is not available; valid: deepcluster")
        return self.deepcluster(seed).assignments

    def pretext_scores(self, seed: int, task: str) -> np.ndarray:
        """Per-sample pretext loss ``[|U|]``, aligned with ``splits(seed).pool``."""
        return self.pretext(seed, task).losses

    # ------------------------------------------------------------------ initial pools
    def pool_context(self, seed: int, init: str, budget: int) -> PoolContext:
        """What ``init`` may read; the true labels of U only when ``init`` is an oracle reference."""
        pool = self.splits(seed).pool
        oracle_labels = (lambda: self.dataset.train_labels.numpy()[pool]) if resolve_pool(init).oracle else None
        return PoolContext(
            candidates=pool,
            budget=budget,
            rng=seeding.rng(seed, "pool", init),
            n_classes=self.dataset.n_classes,
            features=lambda rep: self.features(seed, rep),
            scores=lambda task: self.pretext_scores(seed, task),
            clusters=lambda method: self.clusters(seed, method),
            options=dict(self.params.pools.options),
            oracle_labels=oracle_labels,
        )

    def build_initial_pool(self, init: str, seed: int) -> np.ndarray:
        """Global indices of the initial pool ``init`` for ``seed`` (independent of the query method)."""
        n_init, _ = self.sizes(seed)
        splits = self.splits(seed)
        unlabeled = np.zeros(self.dataset.n_train, dtype=bool)
        unlabeled[splits.pool] = True
        picked = resolve_pool(init).build(self.pool_context(seed, init, n_init))
        return check_selection(picked, unlabeled, n_init, f"initial pool {init}")

    def build_initial_pools(
        self, inits: list[str] | None = None, seeds: list[int] | None = None, rebuild: bool = False
    ) -> pd.DataFrame:
        """Build the missing pools (init × seed), merge them into ``initial_pools.csv`` and return all."""
        self.store.check_protocol(self.protocol())
        inits = inits or list(dict.fromkeys([*self.params.al.inits, *self.params.pools.extra_inits]))
        seeds = seeds or self.params.al.seeds
        existing = self.store.initial_pools()
        have = set(zip(existing["init"], existing["seed"]))
        new = [
            pd.DataFrame({"init": init, "seed": seed, "index": self.build_initial_pool(init, seed)})
            for init in inits
            for seed in seeds
            if rebuild or (init, seed) not in have
        ]
        if new:
            existing = self.store.write_initial_pools(pd.concat(new, ignore_index=True))
        return existing[existing["init"].isin(inits) & existing["seed"].isin(seeds)].reset_index(drop=True)

    def initial_pool(self, init: str, seed: int) -> np.ndarray:
        pools = self.build_initial_pools([init], [seed])
        return pools["index"].to_numpy(dtype=np.int64)

    def pool_map(
        self, seed: int, inits: list[str] | None = None, representation: str = "pixels", method: str | None = None
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """A 2-D map (``method``: tsne, umap or pca; default ``visualization.method``) of U with each initial
        pool marked; cached per seed, representation, method and points.

        Returns (coords ``[m, 2]``, class labels ``[m]``, {init: rows of coords in its pool}); U is
        subsampled to ``visualization.max_points`` plus every pooled sample.
        """
        from alnb.analysis.curves import embed_2d

        pools = self.build_initial_pools(inits, [seed])
        pool_idx = self.splits(seed).pool
        positions = {
            init: np.searchsorted(pool_idx, grp["index"].to_numpy()) for init, grp in pools.groupby("init", sort=False)
        }
        sample = seeding.rng(seed, "map").permutation(len(pool_idx))[: self.params.visualization.max_points]
        keep = np.unique(np.concatenate([sample, *positions.values()]))
        method = method or self.params.visualization.method
        digest = hashlib.sha1(keep.tobytes()).hexdigest()[:10]
        coords = self.store.map_coords(seed, representation, method, digest)  # notebooks 02 and 06 share it
        if coords is None:
            coords = embed_2d(
                self.features(seed, representation)[keep], method, seeding.stream_seed(seed, "map") % 2**31
            )
            self.store.write_map_coords(seed, representation, method, digest, coords)
        labels = self.dataset.train_labels.numpy()[pool_idx[keep]]
        return coords, labels, {init: np.searchsorted(keep, pos) for init, pos in positions.items()}

    def quality_representation(self) -> str:
        """The embedding in which pool properties are measured: SimCLR's when the study trains it, else PCA."""
        return "simclr" if "simclr" in self.params.pretext.tasks else "pca"

    def pool_quality(self, inits: list[str] | None = None, seeds: list[int] | None = None) -> pd.DataFrame:
        """Per (init, seed): the pool's properties (``alnb.analysis.quality``) in ``quality_representation()``."""
        from alnb.analysis.quality import pool_properties, typicality_of_u

        pools = self.build_initial_pools(inits, seeds)
        labels = self.dataset.train_labels.numpy()
        rows = []
        for seed, of_seed in pools.groupby("seed", sort=True):
            pool_idx = self.splits(seed).pool
            features = self.features(seed, self.quality_representation())
            typicalities = typicality_of_u(features)
            for init, grp in of_seed.groupby("init", sort=True):
                positions = np.searchsorted(pool_idx, grp["index"].to_numpy())
                props = pool_properties(positions, labels[pool_idx], features, self.dataset.n_classes, typicalities)
                rows.append(
                    {"init": init, "seed": seed, "size": len(positions), "n_classes": self.dataset.n_classes, **props}
                )
        return pd.DataFrame(rows).sort_values(["init", "seed"]).reset_index(drop=True)

    def write_pool_quality(self) -> pd.DataFrame:
        """Measure the properties of every initial pool of the study (``al.inits`` and ``pools.extra_inits``,
        × ``al.seeds``) and write them to ``pool_quality.csv``, which question 3 and the front page read
        (pools without AL runs are described, not correlated); returns the table."""
        inits = list(dict.fromkeys([*self.params.al.inits, *self.params.pools.extra_inits]))
        quality = self.pool_quality(inits, list(self.params.al.seeds))
        self.store.write_table("pool_quality", quality)
        return quality

    def other_results(self, run_dir: str) -> pd.DataFrame:
        """``results.csv`` of another study's run directory (relative paths: to the project root)."""
        path = Path(run_dir) if Path(run_dir).is_absolute() else Path(self.params.project_root) / run_dir
        if not (path / "results.csv").is_file():
            raise FileNotFoundError(
                f"visualization.compare_run_dir: {run_dir!r} holds no results.csv; run that "
                f"study first (make study PARAMS=...)"
            )
        return RunStore(path).results()

    def display_path(self, path: Path) -> str:
        """``path`` relative to the project root, as reports show it (never an absolute path of the machine)."""
        path = Path(path).resolve()
        root = Path(self.params.project_root).resolve()
        return str(path.relative_to(root)) if path.is_relative_to(root) else path.name

    # ------------------------------------------------------------------ trials
    def trial_keys(self, inits=None, queries=None, seeds=None) -> list[TrialKey]:
        al = self.params.al
        factors = tuple(self.factors.items())
        return [
            TrialKey(self.dataset.name, init, query, seed, factors)
            for init in (inits or al.inits)
            for query in (queries or al.queries)
            for seed in (seeds or al.seeds)
        ]

    def run_one(self, key: TrialKey) -> None:
        """Run one trial and record it (done, or failed with its error); a finished trial is skipped."""
        if self.store.is_done(key):
            return
        try:
            result = run_trial(
                self.tensors,
                self.splits(key.seed),
                self.initial_pool(key.init, key.seed),
                get_query_method(key.query),
                self.params,
                key.seed,
                self.dataset.n_classes,
                self.hflip,
                key.as_dict(),
                backbone_state=self.backbone_state(key.seed),
            )
        except DiskFull:  # stops the grid: every other trial would fail the same way
            raise
        except Exception:  # recorded per trial so the rest of the grid goes on; re-raised as TrialsFailed
            self.store.write_failure(key, traceback.format_exc())
            return
        self.store.write_trial(key, result.rows, result.labeled, {"device": str(self.device)})

    def backbone_state(self, seed: int) -> dict | None:
        """The weights every classifier's backbone starts from (``model.init``): ``None`` for ``scratch``, else
        the encoder of that self-supervised model, trained on U of ``seed`` only (Siméoni et al., ICPR 2020)."""
        task = self.params.model.init
        if task == "scratch":
            return None
        if task == "deepcluster":
            return self.deepcluster(seed).state_dict
        prefix = "encoder."
        return {k[len(prefix) :]: v for k, v in self.pretext(seed, task).state_dict.items() if k.startswith(prefix)}

    def protocol(self) -> dict:
        """The parameters that decide a trial's numbers (not which trials run, nor how they are scheduled).

        ``model.init`` is recorded only when it is not ``scratch``, and ``data.train_subset`` only when set, so
        run directories made before they existed keep their protocol."""
        p = self.params
        al = {k: v for k, v in dataclasses.asdict(p.al).items() if k not in ("seeds", "inits", "queries")}
        data = {
            k: v
            for k, v in dataclasses.asdict(p.data).items()  # verify and cache_dir decide no number;
            if k not in ("verify", "cache_dir") and (k != "train_subset" or v is not None)
        }  # nor an absent subset
        model = {k: v for k, v in dataclasses.asdict(p.model).items() if k != "init" or v != "scratch"}
        return {
            "data": data,
            "model": model,
            "training": dataclasses.asdict(p.training),
            "al": al,
            "pretext": dataclasses.asdict(p.pretext),
            "pool_options": p.pools.options,
            "device": p.device,
        }

    def results(self) -> pd.DataFrame:
        return self.store.results()

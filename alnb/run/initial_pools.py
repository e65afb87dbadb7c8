"""A study's initial pools: built once per (init, seed) into ``initial_pools.csv``, mapped in 2-D and measured.

A pool reads only what its strategy declares (``alnb.methods.pools.PoolContext``) from the study's
representations of U; the true labels only when it is an oracle reference.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from alnb.core import seeding
from alnb.core.config import StudyParams
from alnb.methods.pools import PoolContext, resolve_pool
from alnb.run.loop import check_selection
from alnb.run.protocol import protocol
from alnb.run.representations import Representations
from alnb.run.store import RunStore


class InitialPools:
    """The initial pools of a study (``al.inits`` and ``pools.extra_inits`` × ``al.seeds``), their 2-D maps and
    their measured properties, cached in the run directory."""

    def __init__(self, params: StudyParams, store: RunStore, representations: Representations):
        self.params = params
        self.store = store
        self.representations = representations

    def context(self, seed: int, init: str, budget: int) -> PoolContext:
        """What ``init`` may read; the true labels of U only when ``init`` is an oracle reference."""
        rep = self.representations
        oracle_labels = (lambda: rep.pool_labels(seed)) if resolve_pool(init).oracle else None
        return PoolContext(
            candidates=rep.splits(seed).pool,
            budget=budget,
            rng=seeding.rng(seed, "pool", init),
            n_classes=rep.dataset.n_classes,
            features=lambda representation: rep.features(seed, representation),
            scores=lambda task: rep.pretext_scores(seed, task),
            clusters=lambda method: rep.clusters(seed, method),
            options=dict(self.params.pools.options),
            oracle_labels=oracle_labels,
        )

    def build_one(self, init: str, seed: int) -> np.ndarray:
        """Global indices of the initial pool ``init`` for ``seed`` (independent of the query method)."""
        rep = self.representations
        n_init, _ = rep.sizes(seed)
        unlabeled = np.zeros(rep.dataset.n_train, dtype=bool)
        unlabeled[rep.splits(seed).pool] = True
        picked = resolve_pool(init).build(self.context(seed, init, n_init))
        return check_selection(picked, unlabeled, n_init, f"initial pool {init}")

    def all_inits(self) -> list[str]:
        """``al.inits`` then ``pools.extra_inits``, each once."""
        return list(dict.fromkeys([*self.params.al.inits, *self.params.pools.extra_inits]))

    def build(
        self, inits: list[str] | None = None, seeds: list[int] | None = None, rebuild: bool = False
    ) -> pd.DataFrame:
        """Build the missing pools (init × seed), merge them into ``initial_pools.csv`` and return all."""
        self.store.check_protocol(protocol(self.params))
        inits = inits or self.all_inits()
        seeds = seeds or self.params.al.seeds
        existing = self.store.initial_pools()
        have = set(zip(existing["init"], existing["seed"]))
        new = [
            pd.DataFrame({"init": init, "seed": seed, "index": self.build_one(init, seed)})
            for init in inits
            for seed in seeds
            if rebuild or (init, seed) not in have
        ]
        if new:
            existing = self.store.write_initial_pools(pd.concat(new, ignore_index=True))
        return existing[existing["init"].isin(inits) & existing["seed"].isin(seeds)].reset_index(drop=True)

    def indices(self, init: str, seed: int) -> np.ndarray:
        """Global indices of the pool ``init`` for ``seed``, built first if missing."""
        return self.build([init], [seed])["index"].to_numpy(dtype=np.int64)

    def map(
        self, seed: int, inits: list[str] | None = None, representation: str = "pixels", method: str | None = None
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """A 2-D map (``method``: tsne, umap or pca; default ``visualization.method``) of U with each initial
        pool marked; cached per seed, representation, method and points.

        Returns (coords ``[m, 2]``, class labels ``[m]``, {init: rows of coords in its pool}); U is
        subsampled to ``visualization.max_points`` plus every pooled sample.
        """
        from alnb.analysis.curves import embed_2d

        rep = self.representations
        pools = self.build(inits, [seed])
        pool_idx = rep.splits(seed).pool
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
                rep.features(seed, representation)[keep], method, seeding.stream_seed(seed, "map") % 2**31
            )
            self.store.write_map_coords(seed, representation, method, digest, coords)
        return (
            coords,
            rep.pool_labels(seed)[keep],
            {init: np.searchsorted(keep, pos) for init, pos in positions.items()},
        )

    def quality_representation(self) -> str:
        """The embedding in which pool properties are measured: SimCLR's when the study trains it, else PCA."""
        return "simclr" if "simclr" in self.params.pretext.tasks else "pca"

    def quality(self, inits: list[str] | None = None, seeds: list[int] | None = None) -> pd.DataFrame:
        """Per (init, seed): the pool's properties (``alnb.analysis.quality``) in ``quality_representation()``."""
        from alnb.analysis.quality import pool_properties, typicality_of_u

        rep = self.representations
        pools = self.build(inits, seeds)
        n_classes = rep.dataset.n_classes
        rows = []
        for seed, of_seed in pools.groupby("seed", sort=True):
            pool_idx = rep.splits(seed).pool
            features = rep.features(seed, self.quality_representation())
            typicalities = typicality_of_u(features)
            labels = rep.pool_labels(seed)
            for init, grp in of_seed.groupby("init", sort=True):
                positions = np.searchsorted(pool_idx, grp["index"].to_numpy())
                props = pool_properties(positions, labels, features, n_classes, typicalities)
                rows.append({"init": init, "seed": seed, "size": len(positions), "n_classes": n_classes, **props})
        return pd.DataFrame(rows).sort_values(["init", "seed"]).reset_index(drop=True)

    def write_quality(self) -> pd.DataFrame:
        """Measure the properties of every initial pool of the study (``al.inits`` and ``pools.extra_inits``,
        × ``al.seeds``) and write them to ``pool_quality.csv``, which question 3 and the front page read
        (pools without AL runs are described, not correlated); returns the table."""
        quality = self.quality(self.all_inits(), list(self.params.al.seeds))
        self.store.write_table("pool_quality", quality)
        return quality

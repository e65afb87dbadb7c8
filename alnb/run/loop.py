"""The AL loop of one trial: initial pool L0, then cycles of query → oracle → retrain from scratch.

The loop, not the sampler, enforces the invariants of every selection: exactly the budget, unique,
from the unlabeled pool U only — never a validation or test index, never an already labeled one.
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alnb.core import seeding
from alnb.core.config import StudyParams
from alnb.data.datasets import Splits, resolve_size
from alnb.methods.query.base import QueryContext, QueryMethod
from alnb.models.networks import Classifier
from alnb.models.training import (
    ImageTensors,
    TrainedModels,
    TrainStats,
    evaluate_test,
    scoring_batch_size,
    train_classifier,
)


class SelectionError(RuntimeError):
    """A strategy returned a selection that breaks the loop's invariants."""


def check_selection(selected: np.ndarray, unlabeled_mask: np.ndarray, budget: int, who: str) -> np.ndarray:
    """Return ``selected`` as int64 if it is exactly ``budget`` unique indices of U, else raise."""
    selected = np.asarray(selected)
    if selected.ndim != 1 or not np.issubdtype(selected.dtype, np.integer):
        raise SelectionError(
            f"{who}: expected a 1-D array of integer indices, got shape {selected.shape} of {selected.dtype}"
        )
    if len(selected) != budget:
        raise SelectionError(f"{who}: returned {len(selected)} indices, the budget is {budget}")
    if len(np.unique(selected)) != budget:
        raise SelectionError(f"{who}: returned duplicate indices")
    if (
        selected.min(initial=0) < 0
        or selected.max(initial=0) >= len(unlabeled_mask)
        or not unlabeled_mask[selected].all()
    ):
        raise SelectionError(f"{who}: returned indices outside the unlabeled pool (validation, test or labeled)")
    return selected.astype(np.int64)


def check_splits(splits: Splits, n_train: int) -> None:
    """U and the validation set must be unique, disjoint indices into the train split, else raise."""
    for name, indices in (("unlabeled pool", splits.pool), ("validation set", splits.val)):
        indices = np.asarray(indices)
        if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
            raise SelectionError(f"splits: the {name} is not a 1-D array of integer indices")
        if indices.size and (indices.min() < 0 or indices.max() >= n_train):
            raise SelectionError(f"splits: the {name} holds indices outside the train split of {n_train}")
        if len(np.unique(indices)) != len(indices):
            raise SelectionError(f"splits: the {name} holds duplicate indices")
    if np.intersect1d(splits.pool, splits.val).size:
        raise SelectionError("splits: the unlabeled pool and the validation set overlap")


def check_training_set(train_idx: np.ndarray, in_pool: np.ndarray) -> None:
    """Every training index must be a unique index of U (so never a validation or test image), else raise."""
    if len(np.unique(train_idx)) != len(train_idx):
        raise SelectionError("training set: holds duplicate indices")
    if not in_pool[train_idx].all():
        raise SelectionError("training set: holds an index outside the unlabeled pool (validation or test)")


class SharedFirstCycle:
    """The cycle-0 classifiers of trials that differ only in their query method, trained once.

    Cycle 0 trains on the initial pool with the trial seed's init and order streams, before any query, so its
    models are the same for every query method (:meth:`alnb.run.grid.Grid.run_group` runs such trials in one
    job). A model is keyed by its member and its training set, and each trial gets its own copy.
    """

    def __init__(self) -> None:
        self._trained: dict[tuple[int, bytes], tuple[Classifier, TrainStats]] = {}

    def classifier(
        self, member: int, train_idx: np.ndarray, train: Callable[[], tuple[Classifier, TrainStats]]
    ) -> tuple[Classifier, TrainStats]:
        """Member ``member``'s classifier trained on ``train_idx``: ``train()`` the first time, a copy after."""
        key = (member, np.asarray(train_idx, dtype=np.int64).tobytes())
        if key not in self._trained:
            self._trained[key] = train()
        model, stats = self._trained[key]
        return copy.deepcopy(model), stats


@dataclass
class TrialResult:
    rows: list[dict]
    labeled: list[tuple[int, int]]  # (cycle, global index) of every label acquired, cycle 0 = initial pool


def cycle_sizes(n_pool: int, params: StudyParams, initial_size: int | float | None = None) -> tuple[int, int]:
    """Initial pool size and per-cycle budget as counts (fractions are of U)."""
    n_init = resolve_size(params.al.initial_size if initial_size is None else initial_size, n_pool, "al.initial_size")
    return n_init, resolve_size(params.al.budget, n_pool, "al.budget")


def run_trial(
    data: ImageTensors,
    splits: Splits,
    initial_pool: np.ndarray,
    query: QueryMethod,
    params: StudyParams,
    seed: int,
    n_classes: int,
    hflip: bool,
    keys: dict,
    backbone_state: dict | None = None,
    first_cycle: SharedFirstCycle | None = None,
) -> TrialResult:
    """Run one trial and return its tidy rows (one per cycle) and the labeled indices per cycle.

    ``keys`` (dataset, init, query, seed) are copied into every row. ``backbone_state`` is loaded into the backbone of every
    model of every cycle (``model.init``); the head always starts from the seed. ``first_cycle`` shares cycle 0's
    models with the other trials of this initial pool and seed (its ``train_seconds`` are those of that training).
    """
    n_train = data.train.shape[0]
    check_splits(splits, n_train)
    in_pool = np.zeros(n_train, dtype=bool)
    in_pool[splits.pool] = True
    unlabeled = in_pool.copy()
    n_init, budget = cycle_sizes(len(splits.pool), params)
    initial_pool = check_selection(initial_pool, unlabeled, n_init, f"initial pool {keys.get('init')}")
    unlabeled[initial_pool] = False
    labeled = list(initial_pool)
    acquired = [(0, int(i)) for i in initial_pool]
    rows = []
    eval_batch = scoring_batch_size(params.training, data.device)
    for cycle in range(params.al.cycles + 1):
        train_idx = np.asarray(labeled, dtype=np.int64)
        check_training_set(train_idx, in_pool)
        models, train_seconds, stats = [], 0.0, []
        for member in range(query.n_members):
            train = functools.partial(
                train_classifier,
                data,
                train_idx,
                splits.val,
                params,
                n_classes,
                hflip,
                init_seed=seeding.stream_seed(seed, "init", member),
                order_seed=seeding.stream_seed(seed, "order", cycle, member),
                backbone_state=backbone_state,
            )
            shared = cycle == 0 and first_cycle is not None
            model, stat = first_cycle.classifier(member, train_idx, train) if shared else train()
            models.append(model)
            stats.append(stat)
            train_seconds += stat.seconds
        test = evaluate_test(models, data, eval_batch, params.training.precision)
        row = {
            **keys,
            "cycle": cycle,
            "n_labeled": len(train_idx),
            "test_acc": test["test_acc"],
            "test_balanced_acc": test["test_balanced_acc"],
            "val_acc": float(np.mean([s.best_val_acc for s in stats])),
            "epochs": int(np.mean([s.best_epoch for s in stats])),
            "train_seconds": train_seconds,
            "query_seconds": 0.0,
        }
        if query.n_members > 1:  # test_acc is member 0's, like every single-model trial; the committee's apart
            row["ensemble_test_acc"] = test["ensemble_test_acc"]
            row["ensemble_test_balanced_acc"] = test["ensemble_test_balanced_acc"]
            row["member_test_acc"] = ";".join(f"{a:.6f}" for a in test["member_test_acc"])
        if cycle < params.al.cycles:
            start = time.perf_counter()
            outputs = TrainedModels(
                models,
                data,
                splits.pool,
                n_classes,
                eval_batch,
                seed=seeding.stream_seed(seed, "mc", cycle),
                precision=params.training.precision,
                validation=splits.val,
            )
            ctx = QueryContext(
                labeled=train_idx,
                unlabeled=np.flatnonzero(unlabeled),
                budget=budget,
                rng=seeding.rng(seed, "query", cycle),
                outputs=outputs,
                options={"mc_passes": params.al.mc_passes, **params.al.query_options},
                seed=seeding.stream_seed(seed, "query_model", cycle),
            )
            picked = check_selection(query.select(ctx), unlabeled, budget, f"query method {query.name}")
            row["query_seconds"] = time.perf_counter() - start
            unlabeled[picked] = False
            labeled.extend(int(i) for i in picked)
            acquired.extend((cycle + 1, int(i)) for i in picked)
        rows.append(row)
    return TrialResult(rows, acquired)

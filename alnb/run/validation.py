"""Semantic checks of study parameters, run before anything is computed or written."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path

import numpy as np

from alnb.core.config import PRECISIONS, ALParams, ParamsError, StudyParams, _build, build_params, read_params
from alnb.data.datasets import (
    check_dataset_files,
    load_dataset,
    long_tail_counts,
    resolve_size,
    subset_counts,
)
from alnb.data.specs import DATASETS, SPECS
from alnb.methods.registry import check_options, unknown_name_message
from alnb.models.networks import ARCHITECTURES, resolve_arch, resolve_pretext_arch
from alnb.run.executors import KINDS as EXECUTOR_KINDS

OPTIMIZERS = ("adam", "sgd")
DIGITS_IMAGES = 1797  # scikit-learn's bundled digits
MAP_METHODS = ("tsne", "umap", "pca")


def image_side(params: StudyParams) -> int:
    """The side in pixels of the images the models see: the dataset's own, or an imagefolder's ``data.image_size``."""
    return SPECS[params.data.dataset].side or params.data.image_size


def _fail(message: str) -> None:
    raise ParamsError(message)


def _check_size(key: str, value: int | float, total: int | None = None) -> int | None:
    """``value`` as a count: a positive count (its upper bound is checked where the pool it comes from is known),
    or a fraction of ``total`` (``resolve_size``; None while ``total`` is unknown)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            _fail(f"{key}: must be a positive count, got {value}")
        return value
    try:
        count = resolve_size(value, 1 if total is None else total, key)
    except ValueError as err:
        _fail(str(err))
    return None if total is None else count


def dataset_class_counts(params: StudyParams) -> np.ndarray:
    """Train images per class of the configured dataset, before ``data.train_subset`` and any long-tail cut."""
    data = params.data
    if data.dataset == "digits":  # bundled and small: load it and count exactly
        n_test = _check_size("data.test_size", data.test_size, DIGITS_IMAGES)
        if n_test >= DIGITS_IMAGES:
            _fail(f"data.test_size: {data.test_size} leaves no train image (digits has {DIGITS_IMAGES} images)")
        return np.bincount(load_dataset("digits", test_size=data.test_size).train_labels.numpy())
    if data.dataset == "imagefolder":  # the researcher's folder: count its files per class
        from alnb.data.imagefolder import ImageFolderError, train_class_counts

        try:
            return train_class_counts(params.data_root, data.test_size)
        except ImageFolderError as err:
            _fail(str(err))
    return np.asarray(SPECS[data.dataset].class_counts)


def train_class_sizes(params: StudyParams) -> tuple[int, int, int]:
    """(train images, classes, images of the largest class) of the configured dataset, after
    ``data.train_subset`` and before any long-tail cut."""
    counts = dataset_class_counts(params)
    if params.data.train_subset is not None:
        counts = subset_counts(counts, params.data.train_subset)
    return int(counts.sum()), len(counts), int(counts.max())


def _check_train_subset(params: StudyParams) -> None:
    """``data.train_subset`` is a count or a fraction of the train split that leaves every class an image."""
    size = params.data.train_subset
    if size is None:
        return
    counts = dataset_class_counts(params)
    total = int(counts.sum())
    if isinstance(size, float) and not 0 < size <= 1:
        _fail(f"data.train_subset: a fraction must lie in (0, 1], got {size}")
    if isinstance(size, int) and not 0 < size <= total:
        _fail(
            f"data.train_subset: a count must lie in [1, {total}] ({params.data.dataset} has {total:,} train "
            f"images), got {size}"
        )
    kept = subset_counts(counts, size)
    if kept.min() < 1:
        _fail(
            f"data.train_subset: {size} leaves class {int(kept.argmin())} of {params.data.dataset} without a "
            f"train image (the subset is stratified); ask for more"
        )


def _check_cache_dir(params: StudyParams) -> None:
    """The decode cache never goes into the user's data (a read-only or shared folder)."""
    cache = params.cache_path
    if cache is not None and cache.resolve().is_relative_to(params.data_root.resolve()):
        _fail(
            f"data.cache_dir: {params.data.cache_dir} lies inside data.root ({params.data.root}); alnb never "
            f"writes into the data folder: name a folder outside it, or leave the key out for the user's cache"
        )


def expected_train_size(params: StudyParams, imbalance_key: str = "data.imbalance_factor") -> int:
    """Number of train images of the configured dataset (after its long-tail cut), without loading it."""
    _check_size("data.test_size", params.data.test_size)
    n_train, n_classes, n_max = train_class_sizes(params)
    factor = params.data.imbalance_factor
    if factor is None:
        return n_train
    if not 1 <= factor <= n_max:
        _fail(
            f"{imbalance_key}: must lie in [1, {n_max}] ({params.data.dataset}'s largest class has {n_max} "
            f"train images, so a larger factor leaves its rarest class empty), got {factor:g}"
        )
    return int(long_tail_counts(n_max, n_classes, factor).sum())


def check_budgets(
    params: StudyParams,
    initial_size: int | float,
    size_key: str = "al.initial_size",
    imbalance_key: str = "data.imbalance_factor",
    key: str | None = None,
) -> int:
    """The initial pool plus ``al.cycles`` budgets must fit into U; returns the initial pool's size.

    ``size_key`` and ``imbalance_key`` name where the initial size and the imbalance factor come from;
    ``key`` the key a failure names (default ``size_key``).
    """
    al = params.al
    n_train = expected_train_size(params, imbalance_key)
    n_val = _check_size("data.val_size", params.data.val_size, n_train)
    if n_val >= n_train:
        _fail(f"data.val_size: {params.data.val_size} leaves no unlabeled pool ({n_train} train images)")
    n_pool = n_train - n_val
    n_init = _check_size(size_key, initial_size, n_pool)
    n_budget = _check_size("al.budget", al.budget, n_pool)
    if n_init + al.cycles * n_budget > n_pool:
        where = "" if params.data.imbalance_factor is None else f" at imbalance factor {params.data.imbalance_factor:g}"
        _fail(
            f"{key or size_key}: initial pool {n_init} + al.cycles {al.cycles} × al.budget {n_budget} = "
            f"{n_init + al.cycles * n_budget} exceeds the unlabeled pool of {n_pool} images{where}"
        )
    return n_init


def _check_names(key: str, names: list[str], resolve) -> None:
    if not names:
        _fail(f"{key}: must name at least one")
    for name in names:
        try:
            resolve(name, key)
        except ValueError as err:  # a family's factory may name al.inits whatever list the name came from
            head, _, rest = str(err).partition(": ")
            _fail(f"{key}: {rest}" if re.fullmatch(r"[a-z_]+\.[a-z_]+", head) else str(err))
    _check_distinct(key, names)


def _check_choice(key: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        _fail(unknown_name_message(key, value, list(valid)))


def _check_installed(key: str, value: str, module: str, extra: str) -> None:
    """An optional dependency chosen in the params must be importable before anything runs."""
    if importlib.util.find_spec(module) is None:
        _fail(f"{key}: {value!r} needs the optional dependency {module}: pip install 'alnb[{extra}]'")


def check_params(params: StudyParams, data_on_disk: bool = True) -> None:
    """Raise :class:`ParamsError` on the first invalid value; nothing is loaded or written."""
    from alnb.methods.pools import resolve_pool
    from alnb.methods.pretext import SELF_SUPERVISED_METHODS
    from alnb.methods.query import get_query_method

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", params.study) or params.study in (".", ".."):
        _fail(f"study: {params.study!r} must be a plain name (letters, digits, '_', '-', '.'; not '.' or '..')")
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", params.device):
        _fail(f"device: {params.device!r} is not one of auto, cpu, cuda, cuda:N, mps")
    _check_choice("data.dataset", params.data.dataset, DATASETS)
    _check_image_size(params.data.dataset, params.data.image_size)
    _check_cache_dir(params)
    _check_train_subset(params)
    if params.data.verify and not SPECS[params.data.dataset].checksums and params.data.dataset != "digits":
        verifiable = ", ".join(name for name, spec in SPECS.items() if spec.checksums)
        _fail(
            f"data.verify: torchvision publishes no checksums of {params.data.dataset}'s files; it can verify "
            f"{verifiable} (digits is bundled and needs none)"
        )
    _check_choice("model.arch", params.model.arch, ("auto", *ARCHITECTURES))
    if not 0 <= params.model.dropout < 1:
        _fail(f"model.dropout: must lie in [0, 1), got {params.model.dropout}")
    _check_model_init("model.init", params.model.init, params)
    t = params.training
    _check_choice("training.optimizer", t.optimizer, OPTIMIZERS)
    _check_choice("training.precision", t.precision, tuple(PRECISIONS))
    for key in ("lr", "batch_size", "max_epochs", "eval_batch_size"):
        if getattr(t, key) is not None and getattr(t, key) <= 0:
            _fail(f"training.{key}: must be positive, got {getattr(t, key)}")
    if t.patience < 1:
        _fail(f"training.patience: must be at least 1, got {t.patience}")
    if t.min_samples_per_epoch < 0:
        _fail(f"training.min_samples_per_epoch: must be >= 0, got {t.min_samples_per_epoch}")
    if t.random_resized_crop is not None and t.random_resized_crop < 8:
        _fail(f"training.random_resized_crop: must be at least 8 pixels, got {t.random_resized_crop}")
    if t.weight_decay < 0:
        _fail(f"training.weight_decay: must be >= 0, got {t.weight_decay}")
    if not 0 <= t.momentum < 1:
        _fail(f"training.momentum: must lie in [0, 1), got {t.momentum}")
    al = params.al
    if al.cycles < 0:
        _fail(f"al.cycles: must be >= 0, got {al.cycles}")
    if al.mc_passes < 1:
        _fail(f"al.mc_passes: must be at least 1, got {al.mc_passes}")
    _check_seeds("al.seeds", al.seeds)
    _check_names("al.inits", al.inits, resolve_pool)
    _check_names("al.queries", al.queries, get_query_method)
    n_init = check_budgets(params, al.initial_size)
    _check_pool_sizes("al.inits", al.inits, n_init, "al.initial_size")
    _check_choice("executor.kind", params.executor.kind, EXECUTOR_KINDS)
    if params.executor.kind == "ray":
        _check_installed("executor.kind", "ray", "ray", "ray")
    if params.executor.n_jobs < 1:
        _fail(f"executor.n_jobs: must be at least 1, got {params.executor.n_jobs}")
    if params.executor.threads is not None and params.executor.threads < 1:
        _fail(f"executor.threads: must be at least 1, got {params.executor.threads}")
    if params.executor.num_cpus is not None and params.executor.num_cpus <= 0:
        _fail(f"executor.num_cpus: must be positive, got {params.executor.num_cpus}")
    if params.executor.num_gpus < 0:
        _fail(f"executor.num_gpus: must be >= 0, got {params.executor.num_gpus}")
    ray_only = [k for k in ("address", "num_cpus", "num_gpus") if getattr(params.executor, k)]
    if ray_only and params.executor.kind != "ray":
        _fail(f"executor.{ray_only[0]}: applies to executor.kind 'ray' only (now {params.executor.kind!r})")
    for task in params.pretext.tasks:
        _check_choice("pretext.tasks", task, SELF_SUPERVISED_METHODS)
    _check_distinct("pretext.tasks", params.pretext.tasks)
    _check_pretext_settings(params)
    _check_choice("pretext.arch", params.pretext.arch, ("auto", *ARCHITECTURES))
    if params.pools.extra_inits:
        _check_names("pools.extra_inits", params.pools.extra_inits, resolve_pool)
        _check_pool_sizes("pools.extra_inits", params.pools.extra_inits, n_init, "al.initial_size")
    for name in ("type_seeds", "oracle_seeds"):
        seeds = getattr(params.pools, name)
        if seeds is not None:
            _check_seeds(f"pools.{name}", seeds)
            outside = sorted(set(seeds) - set(params.al.seeds))
            if outside:
                _fail(f"pools.{name}: seed {outside[0]} is not in al.seeds (the pools are built for al.seeds only)")
    _check_pool_ablations(params)
    _check_pretext_needs(params)
    ab = params.ablations
    _check_names("ablations.inits", ab.inits, resolve_pool)
    _check_names("ablations.queries", ab.queries, get_query_method)
    for size in ab.initial_sizes:
        n_size = check_budgets(params, size, size_key="ablations.initial_sizes")
        _check_pool_sizes("ablations.inits", ab.inits, n_size, f"ablations.initial_sizes entry {size}")
    _check_distinct("ablations.initial_sizes", ab.initial_sizes)
    for init in ab.model_inits:
        _check_model_init("ablations.model_inits", init, params)
    _check_distinct("ablations.model_inits", ab.model_inits)
    if ab.seeds is not None:
        _check_seeds("ablations.seeds", ab.seeds)
    im = params.imbalance
    _check_names("imbalance.inits", im.inits, resolve_pool)
    _check_names("imbalance.queries", im.queries, get_query_method)
    for factor in im.imbalance_factors:
        n_factor = check_budgets(
            params.replace(data={"imbalance_factor": float(factor)}),
            al.initial_size,
            imbalance_key="imbalance.imbalance_factors",
            key="imbalance.imbalance_factors",
        )
        _check_pool_sizes("imbalance.inits", im.inits, n_factor, f"al.initial_size at imbalance factor {factor:g}")
    _check_distinct("imbalance.imbalance_factors", im.imbalance_factors)
    if im.seeds is not None:
        _check_seeds("imbalance.seeds", im.seeds)
    _check_choice("visualization.method", params.visualization.method, MAP_METHODS)
    if params.visualization.max_points < 10:
        _fail(f"visualization.max_points: must be at least 10, got {params.visualization.max_points}")
    _check_replication(params)
    _check_methods_in_use(params)
    if data_on_disk:
        _check_data_on_disk(params)


def _check_replication(params: StudyParams) -> None:
    """``replication.dataset`` and ``replication.regime`` come together, as short lowercase names (the
    synthesis's row label and the regime whose studies it pools)."""
    section = params.replication
    given = {key: getattr(section, key) for key in ("dataset", "regime")}
    if any(v is None for v in given.values()) and any(v is not None for v in given.values()):
        missing = next(key for key, v in given.items() if v is None)
        _fail(
            f"replication.{missing}: missing; a replication study names both its dataset (the synthesis's row "
            f"label) and its regime (the studies pooled together), e.g. {{dataset: mnist, regime: plan}}"
        )
    for key, value in given.items():
        if value is not None and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value):
            _fail(f"replication.{key}: {value!r} must be a short lowercase name (letters, digits, '_', '-')")


def _check_image_size(dataset: str, image_size: int | None) -> None:
    """``data.image_size`` is required by ``imagefolder`` (its images have any size) and only by it."""
    if dataset == "imagefolder":
        if image_size is None:
            _fail(
                "data.image_size: imagefolder resizes its images to a square of this many pixels; set it "
                "(e.g. 32, or 64 for ResNet18's ImageNet stem)"
            )
        if image_size < 8:
            _fail(f"data.image_size: must be at least 8 pixels, got {image_size}")
    elif image_size is not None:
        _fail(f"data.image_size: applies to imagefolder only; {dataset} keeps its own size (remove the key)")


LOW_BUDGET_KEYS = ("initial_size", "budget", "cycles")


def _check_pool_ablations(params: StudyParams) -> None:
    """ablations.binned_tasks, bins, allocations and low_budget name what the study can run."""
    from alnb.methods.pools import resolve_pool
    from alnb.methods.pretext import PRETEXT_TASKS

    ab = params.ablations
    for task in ab.binned_tasks:
        if task not in PRETEXT_TASKS or task not in params.pretext.tasks:
            valid = [t for t in params.pretext.tasks if t in PRETEXT_TASKS]
            _fail(unknown_name_message("ablations.binned_tasks", task, valid) + " (pretext tasks of this study)")
    _check_distinct("ablations.binned_tasks", ab.binned_tasks)
    if any(not _is_count(n) or n < 2 for n in ab.bins):
        _fail(f"ablations.bins: every number of bins must be an integer >= 2, got {ab.bins}")
    _check_distinct("ablations.bins", ab.bins)
    for clustering in ab.allocations:
        try:
            resolve_pool(f"{clustering}_equal", "ablations.allocations")
        except ValueError:
            _fail(
                f"ablations.allocations: {clustering!r} is not a clustering with equal/proportional allocation; "
                f"valid: kmeans, kmeans_<representation> (e.g. kmeans_simclr), deepcluster"
            )
    _check_distinct("ablations.allocations", ab.allocations)
    unknown = [k for k in ab.low_budget if k not in LOW_BUDGET_KEYS]
    if unknown:
        _fail(unknown_name_message("ablations.low_budget", unknown[0], list(LOW_BUDGET_KEYS)))
    if ab.low_budget:
        low = _build(ALParams, {**dataclasses.asdict(params.al), **ab.low_budget}, "ablations.low_budget.")
        if low.cycles < 1:
            _fail(f"ablations.low_budget.cycles: must be at least 1, got {low.cycles}")
        check_budgets(
            params.replace(al=dict(ab.low_budget)),
            low.initial_size,
            size_key="ablations.low_budget.initial_size",
            key="ablations.low_budget",
        )


def _check_model_init(key: str, init: str, params: StudyParams) -> None:
    """A backbone initialisation is ``scratch`` or a self-supervised model the study trains, with the
    classifier's architecture (its encoder's weights are loaded into the classifier's backbone)."""
    if init == "scratch":
        return
    if init not in params.pretext.tasks:
        _fail(
            unknown_name_message(key, init, ["scratch", *params.pretext.tasks])
            + " (a backbone starts from scratch or from a self-supervised model listed in pretext.tasks)"
        )
    size = image_side(params)
    classifier = resolve_arch(params.model.arch, size)
    encoder = resolve_pretext_arch(params.pretext.arch, params.model.arch, size)
    if classifier != encoder:
        _fail(
            f"{key}: {init!r} loads the {encoder} encoder (pretext.arch: {params.pretext.arch}) into the "
            f"classifier, whose backbone is a {classifier} (model.arch: {params.model.arch}) on "
            f"{params.data.dataset}; give both the same architecture"
        )


def notes(params: StudyParams) -> list[str]:
    """Valid but deliberate choices that ``alnb check`` points out (one line each)."""
    if not params.pretext.tasks or params.pretext.arch == "auto":
        return []
    size = image_side(params)
    classifier, encoder = resolve_arch(params.model.arch, size), resolve_arch(params.pretext.arch, size)
    if classifier == encoder:
        return []
    return [
        f"pretext.arch: {params.pretext.arch} trains {encoder} encoders while the classifier is a {classifier} "
        f"(model.arch: {params.model.arch}) at {size}×{size}; pretext.arch: auto would train {classifier} "
        f"encoders"
    ]


def _queries_in_use(params: StudyParams) -> dict[str, list[str]]:
    """The query lists of the study that run (a sub-study's only when it has sizes or factors)."""
    ab = params.ablations
    ablated = ab.initial_sizes or ab.model_inits or ab.low_budget or ab.binned_tasks or ab.allocations
    return {
        "al.queries": params.al.queries,
        "ablations.queries": ab.queries if ablated else [],
        "imbalance.queries": params.imbalance.queries if params.imbalance.imbalance_factors else [],
    }


def _inits_in_use(params: StudyParams) -> dict[str, list[str]]:
    ab = params.ablations
    return {
        "al.inits": params.al.inits,
        "pools.extra_inits": params.pools.extra_inits,
        "ablations.inits": ab.inits if ab.initial_sizes or ab.model_inits or ab.low_budget else [],
        "ablations.binned_tasks": ab.binned_pools(),
        "ablations.allocations": ab.allocation_pools(),
        "imbalance.inits": params.imbalance.inits if params.imbalance.imbalance_factors else [],
    }


def _check_pool_sizes(key: str, names: list[str], n_init: int, size_key: str) -> None:
    """A pool strategy that cannot work as designed at this initial-pool size is refused with its reason."""
    from alnb.methods.pools import resolve_pool

    for name in names:
        strategy = resolve_pool(name, key)
        if n_init < strategy.min_budget:
            _fail(
                f"{key}: {name!r} {strategy.min_budget_reason}, so it needs an initial pool of at least "
                f"{strategy.min_budget}; {size_key} gives {n_init}"
            )


def _check_methods_in_use(params: StudyParams) -> None:
    """Options of the methods in use (declared beside their registration) and settings that defeat a method."""
    from alnb.methods.pools import declared_pool_options, pool_family_label
    from alnb.methods.query import get_query_method
    from alnb.methods.query.base import declared_query_options

    queries = {key: [get_query_method(name, key) for name in names] for key, names in _queries_in_use(params).items()}
    in_use = {method.name for methods in queries.values() for method in methods}
    problem = check_options("al.query_options", params.al.query_options, declared_query_options(), in_use)
    if problem:
        _fail(problem)
    families = {pool_family_label(name) for names in _inits_in_use(params).values() for name in names}
    problem = check_options("pools.options", params.pools.options, declared_pool_options(), families)
    if problem:
        _fail(problem)
    passes_key = "al.query_options.mc_passes" if "mc_passes" in params.al.query_options else "al.mc_passes"
    passes = params.al.query_options.get("mc_passes", params.al.mc_passes)
    for key, methods in queries.items():
        for method in (m for m in methods if m.mc_dropout):
            if params.model.dropout == 0:
                _fail(
                    f"{key}: {method.name!r} samples MC dropout, but model.dropout is 0: every pass would be the "
                    f"same network, so its scores would carry no model uncertainty; set model.dropout > 0 "
                    f"(e.g. 0.3)"
                )
            if passes < 2:
                _fail(f"{passes_key}: {method.name!r} compares MC-dropout passes, so it needs at least 2, got {passes}")


def check_data_files(params: StudyParams) -> None:
    """The dataset's files, checked as the loader reads them (and their md5 sums with ``data.verify``)."""
    data = params.data
    _check_data_on_disk(params)
    check_dataset_files(data.dataset, params.data_root, data.download, data.verify)


def _check_distinct(key: str, values: list) -> None:
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        _fail(f"{key}: {duplicates[0]!r} is listed twice")


def _check_seeds(key: str, seeds: list[int]) -> None:
    if not seeds:
        _fail(f"{key}: must list at least one seed")
    if len(set(seeds)) != len(seeds):
        _fail(f"{key}: seeds must be distinct, got {seeds}")
    if any(s < 0 for s in seeds):
        _fail(f"{key}: seeds must be >= 0, got {seeds}")


def _check_pretext_settings(params: StudyParams) -> None:
    """``pretext.settings.<model>`` holds only the options that model declares, each of its type and range."""
    from alnb.methods.pretext import SELF_SUPERVISED_METHODS, declared_self_supervised_options

    for task, settings in params.pretext.settings.items():
        _check_choice("pretext.settings", task, SELF_SUPERVISED_METHODS)
        if not isinstance(settings, dict):
            _fail(f"pretext.settings.{task}: expected a mapping of settings, got {settings!r}")
        problem = check_options(f"pretext.settings.{task}", settings, declared_self_supervised_options(task), {task})
        if problem:
            _fail(problem)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _check_pretext_needs(params: StudyParams) -> None:
    """Every pool that reads a pretext task's scores or embeddings needs that task in pretext.tasks."""
    from alnb.methods.pools import resolve_pool

    for key, names in _inits_in_use(params).items():
        for name in names:
            strategy = resolve_pool(name, key)
            needed = [*strategy.pretext_tasks, *(r for r in strategy.representations if r not in ("pixels", "pca"))]
            for task in needed:
                if task not in params.pretext.tasks:
                    _fail(
                        f"{key}: {name!r} needs the self-supervised model {task!r}; add it to pretext.tasks "
                        f"(now {params.pretext.tasks})"
                    )


def _check_data_on_disk(params: StudyParams) -> None:
    spec = SPECS[params.data.dataset]
    missing = spec.missing_files(params.data_root)
    if not missing or (params.data.download and spec.fetch):
        return
    where = f"Expected in {params.data_root / spec.folder}: {', '.join(missing)}"
    if spec.fetch:
        _fail(f"data.root: {spec.name} is not on disk and data.download is false. {where}")
    _fail(f"data.root: {spec.name} is not on disk and cannot be downloaded. {where}")


def params_from_dict(raw: dict, project_root: str | Path = ".", data_on_disk: bool = True) -> StudyParams:
    """Build and check parameters from a mapping (as read from YAML); ``data_on_disk=False`` skips only the
    check that the dataset's files are there (for ``alnb estimate``)."""
    params = build_params(raw, project_root)
    check_params(params, data_on_disk)
    return params


def load_params(path: str | Path, data_on_disk: bool = True) -> StudyParams:
    """Read, check and return the study parameters of a YAML file."""
    raw, project_root = read_params(path)
    return params_from_dict(raw, project_root, data_on_disk)

"""Sub-studies of a study: the same grid re-run with one factor changed, each in its own run directory.

Each sub-study's trials are keyed by the factor it changes (``core.trial_keys.FACTOR_KEYS``), and its rows carry
that factor as a column, so every summary keeps the sub-studies apart.
"""

from __future__ import annotations

import pandas as pd

from alnb.analysis import curves
from alnb.run.study import Study


def initial_size_ablation(study: Study, progress: bool = True) -> pd.DataFrame:
    """Re-run ``ablations.inits × ablations.queries`` for each of ``ablations.initial_sizes``.

    Each size is a sub-study in ``<run_dir>/ablation_initial_<size>``; rows carry ``initial_size``.
    """
    ab = study.params.ablations
    frames = []
    for size in ab.initial_sizes:
        variant = study.variant(f"ablation_initial_{size:g}", {"initial_size": size}, al={"initial_size": size})
        frames.append(variant.grid.run(ab.inits, ab.queries, ab.seeds, progress=progress))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def aubc_by_initial_size(study: Study, sizes: pd.DataFrame) -> pd.DataFrame:
    """Mean and std AUBC per initial pool size, init and query: the sizes of :func:`initial_size_ablation`
    (``sizes``) and the study's own ``al.initial_size``, read from the main grid's trials of the same
    ``ablations.inits × ablations.queries × ablations.seeds`` where it holds them."""
    ab, al = study.params.ablations, study.params.al
    main = study.grid.results()
    main = main[main["init"].isin(ab.inits) & main["query"].isin(ab.queries) & main["seed"].isin(ab.seeds or al.seeds)]
    frames = [curves.aubc(sizes)]
    if len(main):
        frames.append(curves.aubc(main).assign(initial_size=al.initial_size))
    area = pd.concat(frames, ignore_index=True)
    table = area.groupby(["initial_size", "init", "query"])["aubc"].agg(["mean", "std", "count"]).reset_index()
    return table.rename(columns={"count": "seeds"}).fillna({"std": 0.0})


def imbalance_study(study: Study, progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run ``imbalance.inits × imbalance.queries`` on long-tailed versions of the dataset (Cui et al. 2019).

    Returns (results, initial pools with their labels), both with ``imbalance_factor``; each factor is a
    sub-study in ``<run_dir>/imbalance_<factor>``.
    """
    im = study.params.imbalance
    results, pools = [], []
    for factor, variant in _imbalance_variants(study):
        results.append(variant.grid.run(im.inits, im.queries, im.seeds, progress=progress))
        built = variant.pools.build(im.inits, im.seeds or study.params.al.seeds)
        labels = variant.representations.dataset.train_labels.numpy()
        pools.append(built.assign(imbalance_factor=factor, label=labels[built["index"].to_numpy()]))
    empty = pd.DataFrame()
    return (
        pd.concat(results, ignore_index=True) if results else empty,
        pd.concat(pools, ignore_index=True) if pools else empty,
    )


def model_init_ablation(study: Study, progress: bool = True) -> pd.DataFrame:
    """Re-run ``ablations.inits × ablations.queries`` with each backbone initialisation of
    ``ablations.model_inits`` (``scratch`` or a self-supervised model; Siméoni et al., ICPR 2020).

    Each is a sub-study in ``<run_dir>/ablation_model_init_<init>``; rows carry ``model_init``. It answers:
    does a guided initial pool still help once the model starts from self-supervised weights?
    """
    ab = study.params.ablations
    frames = [
        study.variant(f"ablation_model_init_{init}", {"model_init": init}, model={"init": init}).grid.run(
            ab.inits, ab.queries, ab.seeds, progress=progress
        )
        for init in ab.model_inits
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def binning_inits(study: Study) -> list[str]:
    """``random``, then each of ``ablations.binned_tasks``: its top-B pool and its binned pools."""
    return ["random", *study.params.ablations.binned_pools()]


def allocation_inits(study: Study) -> list[str]:
    """``random``, then each clustering of ``ablations.allocations`` with equal and with proportional allocation."""
    return ["random", *study.params.ablations.allocation_pools()]


def pool_ablation(study: Study, name: str, inits: list[str], progress: bool = True) -> pd.DataFrame:
    """``inits`` (the first is ``random``) × ``ablations.queries`` in the sub-study ``<run_dir>/ablation_<name>``,
    with the study's protocol; empty when ``inits`` holds only ``random``."""
    if len(inits) < 2:
        return pd.DataFrame()
    ab = study.params.ablations
    return study.variant(f"ablation_{name}", {}).grid.run(inits, ab.queries, ab.seeds, progress=progress)


def low_budget_ablation(study: Study, progress: bool = True) -> pd.DataFrame:
    """``ablations.inits × ablations.queries`` in a low-budget regime (``ablations.low_budget`` overrides
    ``al``: a small initial pool, small cycles, many of them), in ``<run_dir>/ablation_low_budget``."""
    ab = study.params.ablations
    if not ab.low_budget:
        return pd.DataFrame()
    return study.variant("ablation_low_budget", {}, al=dict(ab.low_budget)).grid.run(
        ab.inits, ab.queries, ab.seeds, progress=progress
    )


def _imbalance_variants(study: Study) -> list[tuple[float, Study]]:
    return [
        (
            factor,
            study.variant(f"imbalance_{factor:g}", {"imbalance_factor": factor}, data={"imbalance_factor": factor}),
        )
        for factor in study.params.imbalance.imbalance_factors
    ]


def imbalance_class_balance(study: Study) -> pd.DataFrame:
    """Per trial of the imbalance sub-studies and cycle: the labeled set's size, classes covered and
    class-distribution entropy (``alnb.analysis.classes``), with ``imbalance_factor``; run ``imbalance_study`` first."""
    from alnb.analysis.classes import labeled_class_balance

    frames = []
    for _, variant in _imbalance_variants(study):
        dataset = variant.representations.dataset
        frames.append(labeled_class_balance(variant.store.labeled(), dataset.train_labels.numpy(), dataset.n_classes))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


POOL_TYPES_DIR = "pool_types"


def pool_type_runs(study: Study, progress: bool = True) -> pd.DataFrame:
    """Question 3's pool types: AL with the random query from every pool the study builds (``al.inits`` and
    ``pools.extra_inits``), so that ρ over types rests on all of them. The main grid's random-query trials are
    reused; the other pools run on ``pools.type_seeds`` in the sub-study ``<run_dir>/pool_types`` (apart from the
    main grid, whose families they must not enter). Returns :func:`pool_type_results`."""
    extra, seeds = study.params.pool_type_trials()
    if extra:
        study.variant(POOL_TYPES_DIR, {}).grid.run(extra, ["random"], seeds, progress=progress)
    return pool_type_results(study.params.run_path)


def pool_type_results(run_path) -> pd.DataFrame:
    """The rows of every pool's trials with the random query: the main grid's and those of
    :func:`pool_type_runs` (question 3's table; empty before notebook 03 ran)."""
    from alnb.run.store import RunStore

    frames = []
    for folder in (run_path, run_path / POOL_TYPES_DIR):
        if (folder / "results.csv").is_file() or (folder / "trials").is_dir():
            results = RunStore(folder).results()
            frames.append(results[results["query"] == "random"])
    return pd.concat(frames, ignore_index=True).drop_duplicates() if frames else pd.DataFrame()

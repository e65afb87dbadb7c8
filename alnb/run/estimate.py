"""What a params file costs, from its own numbers, before anything runs: ``python -m alnb estimate PARAMS``.

For each grid of the study (the main grid, question 3's pool types, notebook 04's ablations, the imbalance
sub-studies) and for the self-supervised models it needs: the trials, the classifier trainings (a committee
query trains ``n_members`` per cycle), the image-steps (training images seen, an upper bound: every training runs
``training.max_epochs``; early stopping ends most sooner), the forward-only images (validation after each
epoch, the test set, scoring the unlabeled pool for each non-random query), and their FLOPs. A model's
forward FLOPs are counted on one image with ``torch.utils.flop_counter`` (convolutions and matrix products);
a training step costs about 3× a forward pass (forward + backward, Kaplan et al. 2020), and a pretext task's
step is counted directly (its loss and backward pass on one batch). GPU-hours follow at a stated sustained
throughput.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from alnb.core.config import StudyParams
from alnb.data.datasets import resolve_size
from alnb.data.specs import SPECS
from alnb.models.networks import build_classifier, resolve_arch, resolve_pretext_arch


@dataclass
class GridCost:
    """The cost of one grid (or of the pretext models): counts, image-steps and FLOPs."""

    name: str
    trials: int
    trainings: int
    train_images: int
    forward_images: int
    flops: float


def dataset_shape(params: StudyParams) -> tuple[int, int, int, int]:
    """(channels, side, classes, test images) of the configured dataset, without decoding it."""
    from alnb.run.validation import dataset_class_counts, image_side, train_class_sizes

    name = params.data.dataset
    _, n_classes, _ = train_class_sizes(params)
    if name == "digits":
        from alnb.data.datasets import load_dataset

        data = load_dataset("digits", test_size=params.data.test_size)
        return SPECS[name].channels, image_side(params), n_classes, len(data.test_labels)
    if name == "imagefolder":
        from alnb.data.imagefolder import scan

        train, test = scan(params.data_root)
        n_all = sum(len(f) for f in train.values())
        n_test = sum(len(f) for f in test.values()) if test else n_all - int(dataset_class_counts(params).sum())
        return SPECS[name].channels, image_side(params), n_classes, n_test
    spec = SPECS[name]
    return spec.channels, image_side(params), n_classes, spec.n_test


def forward_flops(model: torch.nn.Module, channels: int, side: int) -> float:
    """FLOPs of one forward pass of ``model`` on one image (eval mode)."""
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, channels, side, side))
    return float(counter.get_total_flops())


def classifier_flops(params: StudyParams, channels: int, side: int, n_classes: int) -> float:
    """Forward FLOPs per image of the study's classifier (at the crop size when crops are on: evaluation
    then sees images resized to it too)."""
    model = build_classifier(params.model.arch, channels, side, n_classes, params.model.dropout)
    return forward_flops(model, channels, params.training.random_resized_crop or side)


def pretext_arch(params: StudyParams, side: int) -> str:
    """The self-supervised encoders' architecture at ``side`` pixels (``auto`` follows ``model.arch``)."""
    return resolve_pretext_arch(params.pretext.arch, params.model.arch, side)


def pretext_step_flops(task: str, params: StudyParams, channels: int, side: int, n_classes: int) -> float:
    """FLOPs of one training image of a self-supervised task: its loss and backward pass, per image."""
    from alnb.methods.pretext import self_supervised_method
    from alnb.models.networks import build_backbone

    method = self_supervised_method(task)
    if not method.scores:  # DeepCluster classifies pseudo-labels: ≈ 3× the encoder, plus a feature pass
        encoder = build_backbone(pretext_arch(params, side), channels, side)
        return 4 * forward_flops(encoder, channels, side)
    settings = method.settings(params.pretext.settings.get(task, {}))
    options = {name: settings[name] for name in method.model_options}
    model = method.build(
        pretext_arch(params, side), channels, side, torch.zeros(channels), torch.ones(channels), **options
    )
    batch = torch.rand(2, channels, side, side)
    with FlopCounterMode(display=False) as counter:
        model.training_loss(batch, torch.Generator().manual_seed(0)).mean().backward()
    return counter.get_total_flops() / 2


def grid_cost(
    name: str,
    params: StudyParams,
    n_train: int,
    inits: list[str],
    queries: list[str],
    seeds: list[int],
    initial_size: int | float,
    n_test: int,
    fwd: float,
) -> GridCost:
    """Trials, trainings, image-steps and FLOPs of ``inits × queries × seeds`` on ``n_train`` train images."""
    from alnb.methods.query import get_query_method
    from alnb.run.grid import seeds_of

    t, al = params.training, params.al
    n_val = resolve_size(params.data.val_size, n_train, "data.val_size")
    n_pool = n_train - n_val
    n_init, budget = resolve_size(initial_size, n_pool, "al.initial_size"), resolve_size(al.budget, n_pool, "al.budget")
    trainings = train_images = forward_images = 0
    # cycle 0 is trained once per initial pool and seed, whatever the query (alnb.run.loop.SharedFirstCycle)
    first_cycle_members = max((get_query_method(query).n_members for query in queries), default=0)
    for query in queries:
        members = get_query_method(query).n_members
        for cycle in range(al.cycles + 1):
            labeled = n_init + cycle * budget
            epoch_images = max(1, math.ceil(t.min_samples_per_epoch / labeled)) * labeled
            if cycle:
                trained = members
            else:  # the first query's trials train cycle 0 for all of them
                trained = first_cycle_members if query == queries[0] else 0
            trainings += trained
            train_images += trained * t.max_epochs * epoch_images
            forward_images += trained * t.max_epochs * n_val + members * n_test
            if cycle < al.cycles and query != "random":
                forward_images += members * n_pool
    runs = sum(len(seeds_of(params, init, seeds)) for init in inits)
    flops = runs * (3 * fwd * train_images + fwd * forward_images)
    return GridCost(name, runs * len(queries), runs * trainings, runs * train_images, runs * forward_images, flops)


def _pretext_cost(
    name: str, params: StudyParams, tasks: list[str], seeds: list[int], n_pool: int, shape: tuple[int, int, int]
) -> GridCost:
    from alnb.methods.pretext import self_supervised_method

    images = flops = 0.0
    for task in tasks:
        epochs = int(self_supervised_method(task).settings(params.pretext.settings.get(task, {}))["epochs"])
        images += len(seeds) * epochs * n_pool
        flops += len(seeds) * epochs * n_pool * pretext_step_flops(task, params, *shape)
    return GridCost(name, 0, len(tasks) * len(seeds), int(images), 0, flops)


def estimate(params: StudyParams) -> tuple[list[GridCost], dict]:
    """The cost of every grid of ``params`` and a summary of the model (``arch``, FLOPs per image)."""
    from alnb.run.validation import expected_train_size

    channels, side, n_classes, n_test = dataset_shape(params)
    fwd = classifier_flops(params, channels, side, n_classes)
    n_train = expected_train_size(params)
    n_pool = n_train - resolve_size(params.data.val_size, n_train, "data.val_size")
    al, ab, im = params.al, params.ablations, params.imbalance
    grids = [grid_cost("main grid", params, n_train, al.inits, al.queries, al.seeds, al.initial_size, n_test, fwd)]
    pool_types, type_seeds = params.pool_type_trials()  # question 3's (alnb.run.substudies.pool_type_runs)
    if pool_types:
        grids.append(
            grid_cost(
                "pool types, random query",
                params,
                n_train,
                pool_types,
                ["random"],
                type_seeds,
                al.initial_size,
                n_test,
                fwd,
            )
        )
    ablations = _ablation_grids(params)
    for name, variant, inits in ablations:
        grids.append(
            grid_cost(
                name,
                variant,
                n_train,
                inits,
                ab.queries,
                ab.seeds or al.seeds,
                variant.al.initial_size,
                n_test,
                fwd,
            )
        )
    pretext_seeds = sorted({*al.seeds, *((ab.seeds or al.seeds) if ablations else [])})
    if params.pretext.tasks:
        grids.append(
            _pretext_cost(
                "pretext models", params, params.pretext.tasks, pretext_seeds, n_pool, (channels, side, n_classes)
            )
        )
    for factor in im.imbalance_factors:
        variant = params.replace(data={"imbalance_factor": float(factor)})
        n_lt = expected_train_size(variant, "imbalance.imbalance_factors")
        grids.append(
            grid_cost(
                f"imbalance factor {factor:g}",
                variant,
                n_lt,
                im.inits,
                im.queries,
                im.seeds or al.seeds,
                al.initial_size,
                n_test,
                fwd,
            )
        )
        tasks = _tasks_needed(im.inits, params.pretext.tasks)
        if tasks:
            n_lt_pool = n_lt - resolve_size(params.data.val_size, n_lt, "data.val_size")
            grids.append(
                _pretext_cost(
                    f"pretext models, factor {factor:g}",
                    variant,
                    tasks,
                    im.seeds or al.seeds,
                    n_lt_pool,
                    (channels, side, n_classes),
                )
            )
    model = {
        "arch": resolve_arch(params.model.arch, side),
        "channels": channels,
        "side": side,
        "train_side": params.training.random_resized_crop or side,
        "forward_flops": fwd,
        "n_train": n_train,
    }
    return grids, model


def _ablation_grids(params: StudyParams) -> list[tuple[str, StudyParams, list[str]]]:
    """Notebook 04's sub-studies (``alnb.run.substudies``): (name, the params it runs with, its pools)."""
    ab = params.ablations
    grids = [
        (f"ablation initial_size={size:g}", params.replace(al={"initial_size": size}), ab.inits)
        for size in ab.initial_sizes
    ]
    grids += [(f"ablation backbone {init}", params, ab.inits) for init in ab.model_inits]
    # These two run the study's own protocol: the main grid's trials among theirs are copied, not run
    # (alnb.run.grid.Grid._copy_from_parent). A partial overlap (some of their queries) is counted in full.
    al = params.al
    in_main_grid = set(ab.queries) <= set(al.queries) and set(ab.seeds or al.seeds) <= set(al.seeds)
    for name, pools in (("binned and top-B", ab.binned_pools()), ("allocations", ab.allocation_pools())):
        if pools:
            to_run = [i for i in ["random", *pools] if not (in_main_grid and i in al.inits)]
            grids.append((f"ablation {name}", params, to_run))
    if ab.low_budget:
        grids.append(("ablation low budget", params.replace(al=dict(ab.low_budget)), ab.inits))
    return grids


def _tasks_needed(inits: list[str], tasks: list[str]) -> list[str]:
    from alnb.methods.pools import resolve_pool

    needed = set()
    for name in inits:
        strategy = resolve_pool(name)
        needed |= {*strategy.pretext_tasks, *strategy.representations}
    return [t for t in tasks if t in needed]


def report(params: StudyParams, tflops: float) -> str:
    """The cost table of ``params`` and its GPU-hours at ``tflops`` TFLOP/s sustained, as text."""
    grids, model = estimate(params)
    lines = [
        f"study {params.study}: {params.data.dataset}, {model['n_train']:,} train images, {model['arch']} at "
        f"{model['side']}×{model['side']}"
        + (
            f" (trained on {model['train_side']}×{model['train_side']} crops)"
            if model["train_side"] != model["side"]
            else ""
        ),
        f"forward pass: {model['forward_flops'] / 1e9:.3f} GFLOP per image; a training step ≈ 3× that",
        f"{'part':<34} {'trials':>7} {'trainings':>10} {'train images':>16} {'forward images':>16} {'PFLOP':>10}",
    ]
    for g in grids:
        lines.append(
            f"{g.name:<34} {g.trials:>7,} {g.trainings:>10,} {g.train_images:>16,} {g.forward_images:>16,} "
            f"{g.flops / 1e15:>10.3g}"
        )
    total = sum(g.flops for g in grids)
    lines.append(
        f"{'total':<34} {sum(g.trials for g in grids):>7,} {sum(g.trainings for g in grids):>10,} "
        f"{sum(g.train_images for g in grids):>16,} {sum(g.forward_images for g in grids):>16,} "
        f"{total / 1e15:>10.3g}"
    )
    pretext = sum(g.flops for g in grids if g.name.startswith("pretext models"))
    if pretext:
        encoder = pretext_arch(params, model["side"])
        lines.append(
            f"self-supervised models ({encoder} encoders): {pretext / total:.0%} of the FLOPs "
            f"({pretext / 1e15:.3g} PFLOP)"
        )
    hours = gpu_hours(total, tflops)
    lines.append(
        f"GPU-hours at {tflops:g} TFLOP/s sustained: {f'{hours:,.0f}' if hours >= 10 else f'{hours:.2g}'} "
        f"(an upper bound: every training runs all {params.training.max_epochs} epochs)"
    )
    return "\n".join(lines)


def gpu_hours(flops: float, tflops: float) -> float:
    return flops / (tflops * 1e12) / 3600

"""No validation or test label leaks into a choice: pools, pretext models and queries see U only, training sees
L ⊂ U, early stopping reads validation only, and the test set is only ever evaluated."""

import dataclasses

import numpy as np
import pytest
import torch
from helpers import make_study

from alnb.data.datasets import Splits
from alnb.methods.pretext import PretextResult
from alnb.methods.query.base import QueryMethod
from alnb.models.training import ImageTensors, train_classifier
from alnb.run import loop
from alnb.run.loop import SelectionError, check_splits, check_training_set, run_trial

PRETEXT = {"tasks": ["rotation", "vae"]}


def test_splits_are_disjoint_and_cover_the_train_split(tmp_path):
    study = make_study(tmp_path, pretext=PRETEXT)
    for seed in (0, 1):
        splits = study.representations.splits(seed)
        assert not np.intersect1d(splits.pool, splits.val).size
        assert np.array_equal(
            np.sort(np.concatenate([splits.pool, splits.val])), np.arange(study.representations.dataset.n_train)
        )


def test_check_splits_and_training_set_reject_leaks():
    check_splits(Splits(pool=np.array([0, 1, 2]), val=np.array([3, 4])), 5)
    for splits, match in [
        (Splits(np.array([0, 1, 3]), np.array([3, 4])), "overlap"),
        (Splits(np.array([0, 1, 1]), np.array([3, 4])), "duplicate"),
        (Splits(np.array([0, 1, 7]), np.array([3, 4])), "outside"),
        (Splits(np.array([0.0, 1.0]), np.array([3, 4])), "integer"),
    ]:
        with pytest.raises(SelectionError, match=match):
            check_splits(splits, 5)
    in_pool = np.array([True, True, True, False, False])
    check_training_set(np.array([2, 0]), in_pool)
    with pytest.raises(SelectionError, match="outside the unlabeled pool"):
        check_training_set(np.array([0, 3]), in_pool)
    with pytest.raises(SelectionError, match="duplicate"):
        check_training_set(np.array([0, 0]), in_pool)


def test_pretext_models_and_pool_features_see_only_u(tmp_path, monkeypatch):
    study = make_study(tmp_path, pretext=PRETEXT)
    pool = study.representations.splits(0).pool
    seen = []

    def spy_train(task, images, seed, device, *, n_classes, **settings):
        seen.append((task, images.clone()))
        n = len(images)
        if task == "deepcluster":
            return PretextResult(task, None, np.zeros((n, 3), np.float32), [], {}, {}, {}, np.arange(n) % n_classes)
        return PretextResult(
            task, np.linspace(0, 1, n), np.random.default_rng(0).random((n, 4), dtype=np.float32), [], {}, {}, {}
        )

    monkeypatch.setattr("alnb.run.representations.train_self_supervised", spy_train)
    ctx = study.pools.context(0, "rotation", 20)
    assert np.array_equal(ctx.candidates, pool)
    assert ctx.scores("rotation").shape == (len(pool),) and ctx.features("vae").shape == (len(pool), 4)
    assert ctx.clusters("deepcluster").shape == (len(pool),) and ctx.features("deepcluster").shape == (len(pool), 3)
    assert [task for task, _ in seen] == ["rotation", "vae", "deepcluster"]
    for _, images in seen:
        assert torch.equal(images, study.representations.dataset.train_images[torch.from_numpy(pool)])
    pixels = ctx.features("pixels")
    assert np.allclose(
        pixels, study.representations.dataset.train_images[torch.from_numpy(pool)].reshape(len(pool), -1) / 255.0
    )
    assert ctx.features("pca").shape[0] == len(pool)


def test_training_sees_l_inside_u_and_validates_on_val_only(tmp_path, monkeypatch):
    study = make_study(tmp_path, pretext=PRETEXT)
    splits = study.representations.splits(0)
    calls, contexts = [], []

    def spy_train(data, train_idx, val_idx, *args, **kwargs):
        calls.append((np.array(train_idx), np.array(val_idx)))
        return train_classifier(data, train_idx, val_idx, *args, **kwargs)

    def spy_query(ctx):
        contexts.append(ctx)
        with pytest.raises(IndexError):  # model outputs exist for U and L only: never for val
            ctx.outputs.probs(splits.val[:3])
        return ctx.rng.choice(ctx.unlabeled, ctx.budget, replace=False)

    monkeypatch.setattr(loop, "train_classifier", spy_train)
    result = run_trial(
        study.representations.tensors,
        splits,
        study.pools.indices("random", 0),
        QueryMethod("spy", spy_query),
        study.params,
        0,
        10,
        False,
        {"init": "random"},
    )
    assert [len(t) for t, _ in calls] == [20, 30, 40] and len(contexts) == 2
    for train_idx, val_idx in calls:
        assert np.array_equal(val_idx, splits.val) and np.isin(train_idx, splits.pool).all()
    for ctx in contexts:
        assert np.isin(ctx.unlabeled, splits.pool).all() and not np.isin(ctx.unlabeled, ctx.labeled).any()
        assert len(ctx.unlabeled) + len(ctx.labeled) == len(splits.pool)
    assert len(result.labeled) == 40


def test_early_stopping_never_reads_the_test_set(tmp_path):
    """Replacing the test images and labels by noise leaves the trained weights and the chosen epoch unchanged."""
    study = make_study(tmp_path, pretext=PRETEXT)
    splits = study.representations.splits(0)
    train_idx = np.array(study.pools.indices("random", 0))
    data = ImageTensors(study.representations.dataset, torch.device("cpu"))
    noise = torch.Generator().manual_seed(1)
    scrambled = ImageTensors(
        dataclasses.replace(
            study.representations.dataset,
            test_images=torch.randint(
                0, 256, study.representations.dataset.test_images.shape, dtype=torch.uint8, generator=noise
            ),
            test_labels=torch.randint(0, 10, study.representations.dataset.test_labels.shape, generator=noise),
        ),
        torch.device("cpu"),
    )
    args = (study.params, 10, False)
    model_a, stats_a = train_classifier(data, train_idx, splits.val, *args, init_seed=3, order_seed=4)
    model_b, stats_b = train_classifier(scrambled, train_idx, splits.val, *args, init_seed=3, order_seed=4)
    assert (stats_a.best_epoch, stats_a.best_val_acc) == (stats_b.best_epoch, stats_b.best_val_acc)
    for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        assert torch.equal(a, b), name
    # the validation set does steer it: other validation indices give another validation accuracy
    model_c, stats_c = train_classifier(data, train_idx, splits.val[-25:], *args, init_seed=3, order_seed=4)
    assert stats_c.best_val_acc != stats_a.best_val_acc


def test_loop_rejects_pools_with_validation_indices_or_the_wrong_size(tmp_path):
    study = make_study(tmp_path, pretext=PRETEXT)
    splits = study.representations.splits(0)
    pool = study.pools.indices("random", 0)
    cheat = np.concatenate([pool[:-1], splits.val[:1]])
    first = QueryMethod("first", lambda ctx: ctx.unlabeled[: ctx.budget])
    with pytest.raises(SelectionError, match="outside the unlabeled pool"):
        run_trial(study.representations.tensors, splits, cheat, first, study.params, 0, 10, False, {"init": "cheat"})
    with pytest.raises(SelectionError, match="returned 19 indices, the budget is 20"):  # e.g. a stale pools file
        run_trial(
            study.representations.tensors, splits, pool[:-1], first, study.params, 0, 10, False, {"init": "stale"}
        )
    overlapping = Splits(pool=splits.pool, val=np.concatenate([splits.val, splits.pool[:1]]))
    with pytest.raises(SelectionError, match="overlap"):
        run_trial(
            study.representations.tensors, overlapping, pool, first, study.params, 0, 10, False, {"init": "random"}
        )

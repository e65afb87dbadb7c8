import numpy as np
import torch

from alnb.data.datasets import make_splits
from alnb.methods.query import scores
from alnb.models.training import ImageTensors, TrainedModels, evaluate_test, predict_logits, train_classifier
from alnb.run.validation import params_from_dict

PARAMS = params_from_dict(
    {
        "training": {"batch_size": 64, "min_samples_per_epoch": 256, "max_epochs": 12, "patience": 4, "lr": 2e-3},
        "al": {"initial_size": 20, "budget": 20, "cycles": 1},
    }
)


def _setup(digits):
    return ImageTensors(digits, torch.device("cpu")), make_splits(digits, 150, 0)


def test_training_learns_and_is_reproducible(digits):
    data, splits = _setup(digits)
    idx = splits.pool[:200]
    a, stats = train_classifier(data, idx, splits.val, PARAMS, 10, False, init_seed=1, order_seed=2)
    b, _ = train_classifier(data, idx, splits.val, PARAMS, 10, False, init_seed=1, order_seed=2)
    assert evaluate_test([a], data, 512)["test_acc"] > 0.75
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert 1 <= stats.best_epoch <= stats.epochs <= 12 and not a.training


def test_hflip_only_in_training_batches(digits):
    data, _ = _setup(digits)
    idx = torch.arange(50)
    plain = data.normalize(data.train[idx])
    gen = torch.Generator().manual_seed(0)
    flipped = data.train_batch(idx, True, gen)
    changed = [(not torch.equal(flipped[i], plain[i])) for i in range(50)]
    assert 10 < sum(changed) < 40  # about half the images are flipped
    assert all(torch.equal(flipped[i], plain[i].flip(-1)) for i in range(50) if changed[i])
    assert torch.equal(data.train_batch(idx, False, gen), plain)


def test_evaluation_is_deterministic_without_augmentation(digits):
    data, splits = _setup(digits)
    model, _ = train_classifier(data, splits.pool[:40], splits.val, PARAMS, 10, True, 1, 2)
    first = predict_logits(model, data.train, splits.pool[:100], data, 32)
    assert torch.equal(first, predict_logits(model, data.train, splits.pool[:100], data, 64))


def test_model_outputs_mc_dropout(digits):
    data, splits = _setup(digits)
    model, _ = train_classifier(data, splits.pool[:60], splits.val, PARAMS, 10, False, 1, 2)
    outputs = TrainedModels([model], data, splits.pool, 10, 256, seed=3)
    idx = splits.pool[100:140]
    probs = outputs.probs(idx)
    mc = outputs.mc_probs(idx, 8)
    assert mc.shape == (40, 10, 8) and np.allclose(mc.sum(1), 1)
    assert not np.allclose(mc[..., 0], mc[..., 1])  # dropout is active
    assert np.array_equal(mc, TrainedModels([model], data, splits.pool, 10, 256, seed=3).mc_probs(idx, 8))
    model.dropout.p = 0.0
    no_dropout = TrainedModels([model], data, splits.pool, 10, 256, seed=3)
    assert np.allclose(no_dropout.mc_probs(idx, 4)[..., 2], probs, atol=1e-6)
    assert np.allclose(scores.max_entropy(no_dropout.mc_probs(idx, 4).mean(2)), scores.max_entropy(probs), atol=1e-6)
    assert outputs.embeddings(idx).shape == (40, 128)
    logits, labels = TrainedModels(
        [model], data, splits.pool, 10, 256, seed=3, validation=splits.val
    ).validation_logits()
    assert np.allclose(logits, predict_logits(model, data.train, splits.val, data, 64).numpy(), atol=1e-5)
    assert np.array_equal(labels, digits.train_labels.numpy()[splits.val])
    assert outputs.validation_logits()[0].shape == (0, 10)  # no validation set given


def test_committee_outputs_average_members(digits):
    data, splits = _setup(digits)
    members = [train_classifier(data, splits.pool[:60], splits.val, PARAMS, 10, False, s, s)[0] for s in (1, 2)]
    outputs = TrainedModels(members, data, splits.pool, 10, 256, seed=0)
    idx = splits.pool[:30]
    assert outputs.member_probs(idx).shape == (2, 30, 10)
    assert np.allclose(outputs.probs(idx), outputs.member_probs(idx).mean(0))
    result = evaluate_test(members, data, 256)
    assert len(result["member_test_acc"]) == 2 and 0 <= result["test_balanced_acc"] <= 1


def test_bf16_autocast_matches_fp32_accuracy(digits):
    data, splits = _setup(digits)
    idx = splits.pool[:200]
    accuracies = {}
    for precision in ("fp32", "bf16"):
        params = PARAMS.replace(training={"precision": precision})
        model, stats = train_classifier(data, idx, splits.val, params, 10, False, init_seed=1, order_seed=2)
        accuracies[precision] = evaluate_test([model], data, 512, precision)["test_acc"]
        assert np.isfinite(stats.train_loss)
    assert accuracies["fp32"] > 0.75
    assert abs(accuracies["bf16"] - accuracies["fp32"]) < 0.05, accuracies


def test_bf16_logits_are_float32_and_close(digits):
    data, splits = _setup(digits)
    model, _ = train_classifier(data, splits.pool[:60], splits.val, PARAMS, 10, False, 1, 2)
    fp32 = predict_logits(model, data.train, splits.pool[:100], data, 64)
    bf16 = predict_logits(model, data.train, splits.pool[:100], data, 64, precision="bf16")
    assert bf16.dtype == torch.float32
    assert (fp32.argmax(1) == bf16.argmax(1)).float().mean() > 0.9

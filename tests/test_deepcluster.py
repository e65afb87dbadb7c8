"""DeepCluster: determinism, K-valued assignments, empty-cluster re-seeding, uniform sampling over clusters."""

import math

import numpy as np
import pytest
import torch

from alnb.data.datasets import load_dataset
from alnb.methods.pretext import load_result, save_result, train_self_supervised
from alnb.methods.pretext.deepcluster import (
    _cluster,
    _random_translation,
    _uniform_over_clusters,
    clustering_nmi,
    train_deepcluster,
)
from alnb.models.networks import SmallCNN


def tiny_digits(n=96):
    return load_dataset("digits").train_images[:n]


def test_deepcluster_is_deterministic_and_k_valued():
    images = tiny_digits()
    first = train_deepcluster(images, 4, seed=3, epochs=2, batch_size=32)
    second = train_deepcluster(images, 4, seed=3, epochs=2, batch_size=32)
    assert first.assignments.shape == (96,) and first.assignments.dtype == np.int64
    assert set(first.assignments.tolist()) == {0, 1, 2, 3}
    assert np.array_equal(first.assignments, second.assignments)
    assert first.embeddings.shape == (96, SmallCNN.feature_dim) and first.embeddings.dtype == np.float32
    assert np.array_equal(first.embeddings, second.embeddings)
    assert [h["loss"] for h in first.history] == [h["loss"] for h in second.history]
    assert len(first.history) == 2 and math.isnan(first.history[0]["nmi_previous"])
    assert 0.0 <= first.history[1]["nmi_previous"] <= 1.0
    assert all(torch.equal(first.state_dict[k], second.state_dict[k]) for k in first.state_dict)
    other = train_deepcluster(images, 4, seed=4, epochs=2, batch_size=32)
    assert not all(torch.equal(first.state_dict[k], other.state_dict[k]) for k in first.state_dict)


def test_deepcluster_shares_the_interface_and_cache_of_every_self_supervised_model(tmp_path):
    images = tiny_digits(40)
    result = train_self_supervised("deepcluster", images, 0, n_classes=3, epochs=1, batch_size=20)
    assert result.task == "deepcluster" and result.losses is None and result.assignments.shape == (40,)
    backbone = SmallCNN(1, 8)
    backbone.load_state_dict(result.encoder_state())  # what model.init: deepcluster loads into a classifier
    assert load_result(tmp_path / "dc") is None
    loaded = load_result(save_result(result, tmp_path / "dc"))
    assert loaded.losses is None and np.array_equal(loaded.assignments, result.assignments)
    assert np.array_equal(loaded.embeddings, result.embeddings) and loaded.history[0]["epoch"] == 0
    assert all(torch.equal(loaded.state_dict[k], v) for k, v in result.state_dict.items())


def test_deepcluster_leaves_global_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    train_deepcluster(tiny_digits(40), 3, seed=0, epochs=1, batch_size=20)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.filterwarnings("ignore:Number of distinct clusters")
def test_empty_clusters_are_reseeded_by_splitting():
    features = np.repeat(np.eye(3, dtype=np.float32), 10, axis=0)  # 3 distinct points, 5 clusters asked
    assignments = _cluster(features, 5, np.random.default_rng(0), iterations=20)
    assert np.bincount(assignments, minlength=5).min() > 0


def test_sampling_is_uniform_over_clusters():
    assignments = np.array([0] * 90 + [1] * 10)
    order = _uniform_over_clusters(assignments, torch.Generator().manual_seed(0))
    counts = np.bincount(assignments[order])
    assert len(order) == 100 and counts.min() >= 49  # 51 drawn per cluster, cut to 100


def test_random_translation_shifts_within_padding():
    image = torch.zeros(1, 1, 8, 8, dtype=torch.uint8)
    image[0, 0, 4, 4] = 255
    shifted = _random_translation(image.repeat(50, 1, 1, 1), torch.Generator().manual_seed(0))
    rows, cols = torch.nonzero(shifted[:, 0] == 255)[:, 1:].T
    assert shifted.shape == (50, 1, 8, 8) and len(rows) == 50
    assert rows.min() >= 3 and rows.max() <= 5 and cols.min() >= 3 and cols.max() <= 5
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 1


def test_clustering_nmi():
    assert clustering_nmi(np.array([1, 1, 0, 0]), np.array([5, 5, 7, 7])) == 1.0
    assert clustering_nmi(np.array([0, 1, 0, 1]), np.array([5, 5, 7, 7])) == 0.0

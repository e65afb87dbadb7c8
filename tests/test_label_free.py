"""The label-free k-means features (alnb.select.label_free): each step as Coates et al. define it, on tiny images."""

import numpy as np
import pytest
import torch

from alnb.select import label_free


def _images(n=12, channels=3, size=10, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, channels, size, size), dtype=np.uint8)


def test_normalized_patches_have_zero_mean_and_contrast_below_one():
    patches = torch.rand(50, 27) * 255
    out = label_free.normalize_patches(patches)
    assert torch.allclose(out.mean(dim=1), torch.zeros(50), atol=1e-4)
    expected = patches.std(dim=1) / torch.sqrt(patches.var(dim=1) + label_free.CONTRAST_EPS)
    assert torch.allclose(out.std(dim=1), expected, atol=1e-4)


def test_zca_whitening_gives_identity_covariance_and_is_symmetric():
    rng = np.random.default_rng(0)
    mixing = torch.from_numpy(rng.standard_normal((8, 8))).float()
    x = torch.from_numpy(rng.standard_normal((20_000, 8))).float() @ mixing * 10  # variances far above eps
    mean, zca = label_free.zca_whitening(x, eps=1e-6)
    white = (x - mean) @ zca
    covariance = white.T @ white / (len(white) - 1)
    assert torch.allclose(covariance, torch.eye(8), atol=1e-3)
    assert torch.allclose(zca, zca.T, atol=1e-5)  # ZCA, not any whitening: the rotation back is kept


def test_whitening_eps_damps_low_variance_directions():
    x = torch.zeros(1000, 2)
    x[:, 0] = torch.randn(1000) * 100
    x[:, 1] = torch.randn(1000) * 0.01
    _, zca = label_free.zca_whitening(x, eps=0.1)
    white = x @ zca
    assert white[:, 0].std() == pytest.approx(1.0, abs=0.05)
    assert white[:, 1].std() < 0.05  # variance 1e-4 stays small: divided by sqrt(1e-4 + 0.1), not by its own


def test_triangle_activation_is_mean_distance_minus_distance_clamped_at_zero():
    distances = torch.tensor([[1.0, 2.0, 6.0], [3.0, 3.0, 3.0]])
    out = label_free.triangle_activation(distances)
    assert torch.equal(out, torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))


def test_random_patches_are_the_image_windows():
    images = torch.arange(2 * 3 * 5 * 5, dtype=torch.float32).reshape(2, 3, 5, 5)
    rng = np.random.default_rng(3)
    patches = label_free.random_patches(images, 7, 2, rng)
    rng = np.random.default_rng(3)
    which, rows, cols = rng.integers(2, size=7), rng.integers(4, size=7), rng.integers(4, size=7)
    for k in range(7):
        window = images[which[k], :, rows[k] : rows[k] + 2, cols[k] : cols[k] + 2]
        assert torch.equal(patches[k], window.reshape(-1))  # channel-major, as unfold lays out patches


def test_encode_equals_a_direct_computation_of_one_image():
    images = torch.from_numpy(_images(2, 3, 8)).float()
    d = 3 * 3 * 3
    mean, zca = torch.randn(d) * 0.1, torch.eye(d) + 0.01 * torch.randn(d, d)
    centroids = torch.randn(5, d)
    out = label_free.encode(images, mean, zca, centroids, patch_size=3, batch_size=1)
    assert out.shape == (2, 4 * 5)
    # by hand: every 3×3 window of image 1 (6×6 positions), quadrants rows/cols [0, 3) and [3, 6)
    pooled = torch.zeros(4, 5)
    for r in range(6):
        for c in range(6):
            patch = images[1, :, r : r + 3, c : c + 3].reshape(1, -1)
            white = (label_free.normalize_patches(patch) - mean) @ zca
            z = torch.cdist(white, centroids)[0]
            pooled[2 * (r >= 3) + (c >= 3)] += (z.mean() - z).clamp(min=0)
    assert torch.allclose(out[1], pooled.reshape(-1), rtol=1e-4, atol=1e-3)


def test_kmeans_features_shape_and_determinism():
    images = _images(16, 3, 10)
    first = label_free.kmeans_features(images, seed=1, n_centroids=8, patch_size=4, n_patches=500)
    again = label_free.kmeans_features(images, seed=1, n_centroids=8, patch_size=4, n_patches=500)
    other = label_free.kmeans_features(images, seed=2, n_centroids=8, patch_size=4, n_patches=500)
    assert first.shape == (16, 32) and first.dtype == np.float32
    assert (first >= 0).all() and np.isfinite(first).all()
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


def test_grey_images_work():
    out = label_free.kmeans_features(_images(10, 1, 9), seed=0, n_centroids=4, patch_size=3, n_patches=300)
    assert out.shape == (10, 16)


def test_standardize_gives_zero_mean_unit_variance_columns_and_zero_for_constant_ones():
    x = np.random.default_rng(0).gamma(2.0, size=(200, 5)).astype(np.float32)
    x[:, 2] = 7.0
    out = label_free.standardize(x)
    assert np.allclose(out.mean(0), 0, atol=1e-5)
    assert np.allclose(out.std(0)[[0, 1, 3, 4]], 1, atol=1e-4) and np.all(out[:, 2] == 0)


def test_label_free_embeddings_refuses_what_it_cannot_encode():
    with pytest.raises(ValueError, match="uint8"):
        label_free.label_free_embeddings(np.zeros((4, 3, 8, 8), dtype=np.float32), seed=0)
    with pytest.raises(ValueError, match="at least 2 images"):
        label_free.label_free_embeddings(np.zeros((4, 3, 4, 4), dtype=np.uint8), seed=0)


def test_label_free_embeddings_are_standardised_k_means_features(monkeypatch):
    monkeypatch.setattr(label_free, "N_CENTROIDS", 6)
    monkeypatch.setattr(label_free, "N_PATCHES", 400)
    images = _images(20, 3, 12)
    out = label_free.label_free_embeddings(images, seed=4)
    raw = label_free.kmeans_features(images, seed=4, n_centroids=6, n_patches=400)
    assert out.shape == (20, 24) and out.dtype == np.float32
    assert np.allclose(out, label_free.standardize(raw), atol=1e-5)
    assert np.array_equal(out, label_free.label_free_embeddings(images, seed=4))

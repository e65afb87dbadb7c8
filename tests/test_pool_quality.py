import numpy as np
import pytest

from alnb.analysis.quality import pool_properties


def test_pool_properties_known_answers():
    rng = np.random.default_rng(0)
    centres = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    labels = np.repeat(np.arange(3), 50)
    features = centres[labels] + rng.normal(0, 0.05, (150, 3))
    covering = np.array([0, 50, 100])  # one point of each blob
    one_blob = np.array([0, 1, 2])
    good = pool_properties(covering, labels, features, 3, np.random.default_rng(1))
    bad = pool_properties(one_blob, labels, features, 3, np.random.default_rng(1))
    assert good["classes_covered"] == 3 and bad["classes_covered"] == 1
    assert good["class_entropy"] == pytest.approx(1.0) and bad["class_entropy"] == pytest.approx(0.0)
    assert good["u_to_pool_distance"] < 0.2 < bad["u_to_pool_distance"]


def test_relative_density_is_above_one_for_points_in_the_dense_region():
    rng = np.random.default_rng(0)
    dense = rng.normal(0, 0.01, (200, 2)) + [1, 0]
    sparse = rng.normal(0, 0.5, (200, 2)) + [0, 1]
    features = np.vstack([dense, sparse])
    labels = np.repeat([0, 1], 200)
    props = pool_properties(np.arange(5), labels, features, 2, np.random.default_rng(0))
    assert props["relative_density"] > 1.5

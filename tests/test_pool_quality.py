import numpy as np
import pytest

from alnb.analysis.quality import pool_properties, typicality_of_u
from alnb.methods.geometry import l2_normalize, typicality


def test_pool_properties_known_answers():
    rng = np.random.default_rng(0)
    centres = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    labels = np.repeat(np.arange(3), 50)
    features = centres[labels] + rng.normal(0, 0.05, (150, 3))
    covering = np.array([0, 50, 100])  # one point of each blob
    one_blob = np.array([0, 1, 2])
    good = pool_properties(covering, labels, features, 3)
    bad = pool_properties(one_blob, labels, features, 3)
    assert good["class_coverage"] == pytest.approx(1.0) and bad["class_coverage"] == pytest.approx(1 / 3)
    assert good["class_entropy"] == pytest.approx(1.0) and bad["class_entropy"] == pytest.approx(0.0)
    assert good["max_class_share"] == pytest.approx(1 / 3) and bad["max_class_share"] == pytest.approx(1.0)
    assert good["u_to_pool_distance"] < 0.2 < bad["u_to_pool_distance"]


def test_relative_density_is_typiclust_typicality_against_the_mean_of_u():
    rng = np.random.default_rng(0)
    dense = rng.normal(0, 0.01, (200, 2)) + [1, 0]
    sparse = rng.normal(0, 0.5, (200, 2)) + [0, 1]
    features = np.vstack([dense, sparse])
    labels = np.repeat([0, 1], 200)
    typical = typicality_of_u(features)
    # TypiClust's own definition: 1 / (mean distance to the 20 nearest others + 1e-5), on L2-normalised rows
    assert typical == pytest.approx(typicality(l2_normalize(features), 20))
    props = pool_properties(np.arange(5), labels, features, 2, typical)
    assert props["relative_density"] == pytest.approx(typical[:5].mean() / typical.mean())
    assert props["relative_density"] > 1.5

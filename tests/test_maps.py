"""2-D maps of U: UMAP (a regular dependency) beside t-SNE and PCA, each cached under its method."""

import numpy as np
import pytest

from alnb.analysis.curves import embed_2d
from alnb.run.study import Study
from alnb.run.validation import params_from_dict


@pytest.mark.slow  # UMAP's first call compiles its numba functions (about half a minute on 2 cores)
def test_umap_keeps_clusters_apart_and_repeats_with_its_seed():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (60, 20)), rng.normal(12, 1, (60, 20))]).astype(np.float32)
    coords = embed_2d(x, "umap", 3)
    assert coords.shape == (120, 2) and np.array_equal(coords, embed_2d(x, "umap", 3))
    a, b = coords[:60], coords[60:]
    gap = np.linalg.norm(a.mean(0) - b.mean(0))
    assert gap > 3 * max(a.std(0).max(), b.std(0).max())


@pytest.mark.slow
def test_the_map_cache_keys_on_the_method(tmp_path):
    params = params_from_dict(
        {
            "study": "maps",
            "run_dir": str(tmp_path / "run"),
            "data": {"val_size": 150},
            "al": {"initial_size": 20, "budget": 20, "cycles": 1, "seeds": [0]},
            "visualization": {"method": "pca", "max_points": 120},
        },
        tmp_path,
    )
    study = Study(params)
    maps = {method: study.pools.map(0, ["random"], method=method)[0] for method in ("pca", "tsne", "umap")}
    cached = sorted(p.name.split("_")[2] for p in (tmp_path / "run" / "maps").glob("*.npy"))
    assert cached == ["pca", "tsne", "umap"]
    assert not np.allclose(maps["pca"], maps["umap"]) and not np.allclose(maps["tsne"], maps["umap"])
    assert np.array_equal(study.pools.map(0, ["random"])[0], maps["pca"])  # visualization.method by default


def test_pool_map_panels_mark_oracle_pools():
    import matplotlib

    matplotlib.use("Agg")
    from alnb.analysis import plots

    coords = np.random.default_rng(0).normal(size=(30, 2))
    fig = plots.pool_maps(coords, np.arange(30) % 3, {"random": np.arange(5), "balanced_random": np.arange(5, 11)})
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["random (5)", "balanced_random (oracle) (6)"]

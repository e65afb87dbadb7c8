import numpy as np
import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def user_cache(tmp_path_factory, monkeypatch):
    """The user's cache folder (image-folder arrays) of every test is a temporary one, never ~/.cache."""
    folder = tmp_path_factory.mktemp("user_cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder / "alnb"


@pytest.fixture(scope="session")
def digits():
    from alnb.data.datasets import load_dataset

    return load_dataset("digits")


@pytest.fixture()
def rng():
    return np.random.default_rng(0)


def pytest_collection_modifyitems(items):
    """Slow tests first (stable order otherwise): with ``-n`` workers the long ones start at once instead of
    leaving one worker to finish them alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)

import os

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


def pytest_configure(config):
    """Under ``pytest -n N`` each worker (and every process it starts: kernels, trial jobs) is pinned to its own
    share of the CPUs, so the studies that the tests run size their threads to it (``available_cpus``) instead of
    each taking every core: oversubscribed small models run tens of times slower."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ...
    if worker is None or not hasattr(os, "sched_setaffinity"):
        return
    cpus = sorted(os.sched_getaffinity(0))
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > len(cpus):
        return
    share = len(cpus) // workers
    index = int(worker.removeprefix("gw"))
    os.sched_setaffinity(0, cpus[index * share : (index + 1) * share])


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

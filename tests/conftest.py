import numpy as np
import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def digits():
    from alnb.data.datasets import load_dataset

    return load_dataset("digits")


@pytest.fixture()
def rng():
    return np.random.default_rng(0)

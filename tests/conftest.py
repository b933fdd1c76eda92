"""Session-wide fixtures: generated data, never files from outside the repo."""

import pytest
import torch
from helpers import keyword_data


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    no_gpu = pytest.mark.skip(reason="needs a CUDA GPU, and this machine has none")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(no_gpu)


@pytest.fixture(scope="session")
def keyword_texts():
    return keyword_data(120, seed=0)


@pytest.fixture(scope="session")
def keyword_texts_test():
    return keyword_data(60, seed=1)

"""Session-wide fixtures: generated data, never files from outside the repo."""

import pytest
import torch
from cli_helpers import train_by_command
from helpers import keyword_data


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    no_gpu = pytest.mark.skip(reason="needs a CUDA GPU, and this machine has none")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(no_gpu)


@pytest.fixture(autouse=True)
def global_torch_generators_left_as_found():
    """Tests that seed torch's global generators (torch.manual_seed) do so on
    a copy: the next test, and the user's session, see them untouched."""
    with torch.random.fork_rng(devices=range(torch.cuda.device_count())):
        yield


@pytest.fixture(scope="session")
def keyword_texts():
    return keyword_data(120, seed=0)


@pytest.fixture(scope="session")
def keyword_texts_test():
    return keyword_data(60, seed=1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained by the command, with its training data file."""
    return train_by_command(tmp_path_factory.mktemp("trained"))

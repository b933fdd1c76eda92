"""Session-wide fixtures: generated data, never files from outside the repo."""

import pytest
from helpers import keyword_data


@pytest.fixture(scope="session")
def keyword_texts():
    return keyword_data(120, seed=0)


@pytest.fixture(scope="session")
def keyword_texts_test():
    return keyword_data(60, seed=1)

"""A task only word order can solve: proof that recurrence and packing work."""

import pytest
from helpers import word_order_data
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_rnn import RNNTextClassifier


@pytest.fixture(scope="module")
def word_order():
    return word_order_data(1000, seed=0), word_order_data(300, seed=1)


def test_bag_of_words_stays_near_chance(word_order):
    (X_train, y_train), (X_test, y_test) = word_order
    bag = make_pipeline(CountVectorizer(), LogisticRegression(max_iter=1000))
    assert bag.fit(X_train, y_train).score(X_test, y_test) < 0.62


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_cell_learns_word_order(word_order, cell, bidirectional):
    (X_train, y_train), (X_test, y_test) = word_order
    clf = RNNTextClassifier(
        cell=cell,
        bidirectional=bidirectional,
        pooling="last",
        embedding_dim=16,
        hidden_size=32,
        lr=0.01,
        batch_size=32,
        max_epochs=12,
        n_iter_no_change=3,
        device="cpu",
        random_state=0,
    )
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.95

"""Small generated data sets and settings that keep real training fast."""

import warnings

import numpy as np
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_rnn import RNNTextClassifier

# Tiny network and few epochs: real training that takes a fraction of a second.
FAST = {
    "embedding_dim": 8,
    "hidden_size": 8,
    "max_epochs": 4,
    "batch_size": 16,
    "lr": 0.02,
    "device": "cpu",
    "random_state": 0,
}

FILLER = [f"w{i}" for i in range(30)]


def keyword_data(n_samples, seed=0, classes=("neg", "pos")):
    """Texts of random filler where one class-specific keyword sets the label.

    The keyword is never among the first two tokens, so a model that reads
    only two tokens cannot solve the task.
    """
    rng = np.random.RandomState(seed)
    texts, labels = [], []
    for _ in range(n_samples):
        label = rng.randint(len(classes))
        length = rng.randint(4, 12)
        tokens = list(rng.choice(FILLER, length))
        tokens[rng.randint(2, length)] = f"key{label}"
        texts.append(" ".join(tokens))
        labels.append(classes[label])
    return texts, np.array(labels)


def word_order_data(n_samples, seed=0):
    """Label 1 when ``alpha`` comes before ``beta`` amid random filler, else 0.

    Both words occur exactly once in every text, so counting words says
    nothing about the label: only their order does.
    """
    rng = np.random.RandomState(seed)
    texts, labels = [], []
    for _ in range(n_samples):
        length = rng.randint(5, 14)
        tokens = list(rng.choice(FILLER, length))
        first, second = rng.choice(length, 2, replace=False)
        tokens[first], tokens[second] = "alpha", "beta"
        texts.append(" ".join(tokens))
        labels.append(int(first < second))
    return texts, np.array(labels)


def search_with_unlabeled(param_grid, X, y, n_splits):
    """A GridSearchCV over ``RNNTextClassifier(**FAST)`` with the default
    scoring, fitted on texts some of whose labels ``y`` leaves missing (the
    warnings about them silenced), after checking that every fold scored."""
    search = GridSearchCV(
        RNNTextClassifier(**FAST),
        param_grid,
        cv=KFold(n_splits, shuffle=True, random_state=0),
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    return search

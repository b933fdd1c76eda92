"""Faults during fit: a diverging loss, and an interrupt from the keyboard."""

import contextlib
import io
import re

import numpy as np
import pytest
from helpers import FAST, keyword_data
from sklearn.exceptions import NotFittedError

from sklearn_rnn import RNNTextClassifier

DIVERGING = {"optimizer": "adam", "lr": 1e20, "clip_grad_norm": None}


@pytest.fixture(scope="module")
def data():
    return keyword_data(120, seed=11)


def test_a_diverging_loss_stops_fit_with_a_clear_error(data):
    X, y = data
    clf = RNNTextClassifier(**{**FAST, **DIVERGING})
    with pytest.raises(FloatingPointError, match="Training diverged.*lr=1e\\+20"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_a_diverging_refit_leaves_the_fitted_model_as_it_was(data):
    X, y = data
    clf = RNNTextClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    with pytest.raises(FloatingPointError):
        clf.set_params(**DIVERGING).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_a_diverging_continued_fit_rolls_back_weights_and_history(data):
    X, y = data
    clf = RNNTextClassifier(**FAST, warm_start=True).fit(X, y)
    proba, history = clf.predict_proba(X), list(clf.history_)
    n_rows = len(clf.net_.history)
    # A continued fit keeps the optimizer and its rate: make that rate absurd.
    for group in clf.net_.optimizer_.param_groups:
        group["lr"] = 1e20
    clf.set_params(clip_grad_norm=None)
    with pytest.raises(FloatingPointError):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    assert clf.history_ == history
    assert len(clf.net_.history) == n_rows
    for group in clf.net_.optimizer_.param_groups:
        group["lr"] = FAST["lr"]
    clf.set_params(clip_grad_norm=5.0).fit(X, y)
    assert clf.n_epochs_ == 2 * FAST["max_epochs"]


class InterruptAtEpoch(io.StringIO):
    """stdout that raises KeyboardInterrupt when epoch ``n``'s line is printed.

    With ``verbose=1`` each epoch's line is printed once the epoch has ended,
    so the interrupt lands between epochs, in the training loop's thread.
    """

    def __init__(self, n):
        super().__init__()
        self.n = n

    def write(self, text):
        written = super().write(text)
        if re.match(rf"\s*{self.n}\s", text):
            raise KeyboardInterrupt
        return written


def test_an_interrupt_keeps_the_completed_epochs_and_is_raised_again(data):
    X, y = data
    clf = RNNTextClassifier(**{**FAST, "max_epochs": 6}, verbose=1)
    with (
        contextlib.redirect_stdout(InterruptAtEpoch(2)),
        pytest.raises(KeyboardInterrupt, match="weights of epoch 2"),
    ):
        clf.fit(X, y)
    assert clf.n_epochs_ == 2
    reference = RNNTextClassifier(**{**FAST, "max_epochs": 2}).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), reference.predict_proba(X))


class InterruptMidEpoch(io.StringIO):
    """Raise KeyboardInterrupt once epoch ``n``'s progress bar shows a batch.

    With ``verbose=2`` the bar is redrawn on stderr between batches, so the
    interrupt lands in the middle of the epoch's training loop, as a Ctrl-C
    would, without depending on a timer.
    """

    def __init__(self, n):
        super().__init__()
        self.n = n
        self.bars = 0

    def write(self, text):
        written = super().write(text)
        if re.search(r"\| 0/\d+ \[", text):
            self.bars += 1
        elif self.bars == self.n and re.search(r"\| [1-9]\d*/\d+ \[", text):
            raise KeyboardInterrupt
        return written


def test_an_interrupt_within_an_epoch_goes_back_to_the_last_completed_one():
    X, y = keyword_data(3000, seed=12)
    params = {**FAST, "max_epochs": 5, "batch_size": 8}
    clf = RNNTextClassifier(**params, verbose=2, warm_start=True)
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(InterruptMidEpoch(2)),
        pytest.raises(KeyboardInterrupt, match="interrupted in epoch 2"),
    ):
        clf.fit(X, y)
    assert clf.n_epochs_ == 1
    reference = RNNTextClassifier(**{**params, "max_epochs": 1}).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), reference.predict_proba(X))
    clf.set_params(max_epochs=1, verbose=0).fit(X, y)
    assert [row["epoch"] for row in clf.history_] == [1, 2]
    assert all("train_loss" in row for row in clf.history_)


def test_an_interrupt_before_any_epoch_ends_leaves_the_estimator_unfitted(data):
    X, y = data
    clf = RNNTextClassifier(**FAST, verbose=1)

    with (
        contextlib.redirect_stdout(InterruptAtEpoch(1)),
        pytest.raises(KeyboardInterrupt, match="epoch 1"),
    ):
        clf.fit(X, y)
    # epoch 1 ended before its line was printed, so it was kept
    assert clf.n_epochs_ == 1
    clf = RNNTextClassifier(**{**FAST, **DIVERGING})
    with pytest.raises(NotFittedError):
        clf.predict(X)

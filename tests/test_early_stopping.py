"""Early stopping counts an epoch as better only when its validation loss is
lower by more than the standard error of the text-by-text difference."""

import math

import numpy as np
import pytest
import torch
from helpers import FAST, keyword_data
from skorch.history import History

from sklearn_rnn import RNNTextClassifier
from sklearn_rnn._early_stopping import ValidLossScoring, significantly_lower


def per_text_losses(clf, X, y):
    probabilities = clf.predict_proba(X)
    columns = np.searchsorted(clf.classes_, y)
    return -np.log(probabilities[np.arange(len(y)), columns])


def standard_errors_gained(losses, best_losses):
    """How many standard errors of its mean the per-text gain is."""
    gains = np.asarray(best_losses) - np.asarray(losses)
    return gains.mean() / (gains.std(ddof=1) / math.sqrt(len(gains)))


@pytest.fixture(scope="module")
def noisy_labels():
    """Texts of which about a third carry the wrong label, and clean
    validation texts: a fit on them soon learns the noise, and its validation
    loss dips within the noise along the way."""
    X, y = keyword_data(120, seed=1)
    flip = np.random.RandomState(1).rand(len(y)) < 0.3
    y = np.where(flip, np.where(y == "pos", "neg", "pos"), y)
    return X, y, keyword_data(60, seed=101)


@pytest.mark.parametrize(
    ("losses", "expected"),
    [
        ([0.5, 0.5, 0.5, 0.5], True),  # every text gains 0.1: no spread
        ([0.6, 0.6, 0.6, 0.6], False),  # no gain
        ([0.1, 1.0, 0.2, 0.9], False),  # a mean gain of 0.05 within its spread
        ([0.55, 0.5, 0.45, 0.5], True),  # a mean gain of 0.1, error 0.02
    ],
)
def test_significantly_lower(losses, expected):
    assert significantly_lower(losses, [0.6, 0.6, 0.6, 0.6]) is expected


def test_one_text_is_judged_by_its_own_change():
    assert significantly_lower([0.3], [0.4])
    assert not significantly_lower([0.4], [0.4])


def test_a_lower_loss_within_the_noise_is_no_improvement(noisy_labels):
    """Trained on labels of which some are wrong, the validation loss of this
    fit falls by less than its noise at epochs 2 and 4: early stopping keeps
    epoch 3 and stops two epochs later, where plain "lowest loss" would keep
    epoch 4 and train one more.

    The reference models, trained for exactly k epochs, give each epoch's
    per-text losses; the same seed with a constant rate makes them the
    stopped fit's epochs."""
    X, y, validation = noisy_labels
    params = {**FAST, "lr": 0.005, "lr_schedule": "constant", "random_state": 0}
    stopped = RNNTextClassifier(
        **{**params, "max_epochs": 15}, early_stopping=True, n_iter_no_change=2
    ).fit(X, y, validation_data=validation)

    references = [
        RNNTextClassifier(**{**params, "max_epochs": k}, early_stopping=False).fit(
            X, y, validation_data=validation
        )
        for k in range(1, stopped.n_epochs_ + 1)
    ]
    np.testing.assert_allclose(
        [row["valid_loss"] for row in stopped.history_],
        [reference.history_[-1]["valid_loss"] for reference in references],
        rtol=1e-6,
    )
    losses = [per_text_losses(reference, *validation) for reference in references]
    best, misses, means = 0, 0, [loss.mean() for loss in losses]
    for epoch in range(1, len(losses)):
        gained = standard_errors_gained(losses[epoch], losses[best])
        # far enough from the line that rounding cannot move a decision
        assert abs(gained - 1) > 0.05
        if gained > 1:
            best, misses = epoch, 0
        else:
            misses += 1
    assert misses == 2  # it stopped for want of an improvement
    assert stopped.best_epoch_ == best + 1 == 3
    assert stopped.n_epochs_ == 5
    # a lower mean loss came after the kept epoch: the rule decided
    assert min(means[best + 1 :]) < means[best]
    np.testing.assert_array_equal(
        stopped.predict_proba(validation[0]),
        references[best].predict_proba(validation[0]),
    )


def test_the_plateau_schedule_counts_as_progress_what_early_stopping_does(
    noisy_labels,
):
    """The rate halves after every epoch early stopping does not count as an
    improvement, including one whose loss fell within the noise, so that the
    last epoch before stopping runs at the lower rate."""
    X, y, validation = noisy_labels
    params = {**FAST, "lr": 0.005, "max_epochs": 15, "random_state": 0}
    clf = RNNTextClassifier(**params, early_stopping=True, n_iter_no_change=2)
    clf.fit(X, y, validation_data=validation)
    improved = [row["valid_loss_best"] for row in clf.net_.history]
    rates = [row["lr"] for row in clf.history_]
    losses = [row["valid_loss"] for row in clf.history_]
    for epoch in range(len(rates) - 1):
        expected = rates[epoch] if improved[epoch] else rates[epoch] / 2
        assert rates[epoch + 1] == pytest.approx(expected)
    # an epoch with a lower loss than the best so far that was no progress
    assert any(
        not improved[epoch] and losses[epoch] < min(losses[:epoch])
        for epoch in range(1, len(losses))
    )
    assert not improved[-1] and not improved[-2]
    assert rates[-1] < rates[-2]


class _EpochsOf:
    """What ValidLossScoring reads of a net: its history and the epoch's
    per-text validation losses."""

    def __init__(self):
        self.history = History()
        self.valid_text_losses_ = []

    def end_epoch(self, scoring, losses):
        self.history.new_epoch()
        self.history.new_batch()
        self.history.record_batch("valid_loss", float(np.mean(losses)))
        self.history.record_batch("valid_batch_size", len(losses))
        self.valid_text_losses_ = [torch.tensor(losses)]
        scoring.on_epoch_end(self)
        return self.history[-1, "valid_loss_best"]


def test_an_epoch_with_a_non_finite_validation_loss_is_never_the_best():
    scoring = ValidLossScoring().initialize()
    net = _EpochsOf()
    scoring.on_train_begin(net)
    assert not net.end_epoch(scoring, [np.inf, 0.9, 0.9])
    # the first finite epoch is the best so far, and later ones compare to it
    assert net.end_epoch(scoring, [0.9, 0.9, 0.9])
    assert not net.end_epoch(scoring, [0.9, np.nan, 0.1])
    assert net.end_epoch(scoring, [0.5, 0.5, 0.5])
    # a new fit starts afresh
    scoring.on_train_begin(net)
    assert net.end_epoch(scoring, [0.7, 0.7, 0.7])

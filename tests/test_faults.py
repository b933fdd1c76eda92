"""Faults during fit: a diverging loss, and an interrupt from the keyboard."""

import contextlib
import copy
import io
import math
import re

import numpy as np
import pytest
import torch
from helpers import FAST, keyword_data
from sklearn.exceptions import NotFittedError
from torch.optim.optimizer import register_optimizer_step_post_hook

from sklearn_rnn import RNNTextClassifier
from sklearn_rnn.modules import RNNModule

# Adam's first step moves every weight whose gradient is not zero by about lr:
# whatever the CPU's kernels then make of the loss (inf, NaN, or finite
# numbers of 1e20), the weights are past the divergence limit.
DIVERGING = {"optimizer": "adam", "lr": 1e20, "clip_grad_norm": None}


@pytest.fixture(scope="module")
def data():
    return keyword_data(120, seed=11)


@contextlib.contextmanager
def training_losses_replaced(replace, from_batch=3):
    """Replace the per-text losses of training batches from ``from_batch`` on.

    A process-wide forward hook on every ``CrossEntropyLoss``, removed on
    exit: the fault is exactly the one asked for, on any machine.
    """
    seen = 0

    def hook(module, inputs, output):
        nonlocal seen
        if isinstance(module, torch.nn.CrossEntropyLoss) and torch.is_grad_enabled():
            seen += 1
            if seen >= from_batch:
                return replace(output)
        return None

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


@contextlib.contextmanager
def after_optimizer_step(change, at_step=3):
    """Call ``change(module)`` on the network being trained after step ``at_step``.

    Process-wide hooks, removed on exit: a forward hook notes the network,
    an optimizer hook changes it once that step is done.
    """
    trained, steps = [], 0

    def note_network(module, inputs, output):
        if isinstance(module, RNNModule) and module.training:
            trained[:] = [module]

    def after_step(optimizer, args, kwargs):
        nonlocal steps
        steps += 1
        if steps == at_step:
            change(trained[0])

    handles = [
        torch.nn.modules.module.register_module_forward_hook(note_network),
        register_optimizer_step_post_hook(after_step),
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def set_bag_padding_weights(value):
    """Change the bag of words' padding row, which neither the outputs nor the
    gradients read (the bag leaves padding out of its sums): only the
    weights show the fault."""

    def change(module):
        with torch.no_grad():
            module.bag.weight[0] = value

    return change


NAN = float("nan")
FAULTS = {
    "non-finite loss": (
        lambda: training_losses_replaced(lambda losses: losses * NAN),
        "the loss became nan",
    ),
    "infinite loss": (
        lambda: training_losses_replaced(lambda losses: losses - losses + math.inf),
        "the loss became inf",
    ),
    "exploding finite loss": (
        # 1,000 nats a text: far past 100 log(2) = 69
        lambda: training_losses_replaced(lambda losses: losses * 0 + 1e3),
        "the loss reached 1000, over 100 times",
    ),
    "exploding weights, finite loss": (
        lambda: after_optimizer_step(set_bag_padding_weights(1e7)),
        r"'bag.weight' reached 1e\+07, past 1e\+06",
    ),
    "non-finite weights, finite loss": (
        lambda: after_optimizer_step(set_bag_padding_weights(math.inf)),
        "'bag.weight' became non-finite",
    ),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_a_fault_during_fit_is_a_clear_error_and_no_model(data, fault):
    X, y = data
    inject, message = FAULTS[fault]
    clf = RNNTextClassifier(**FAST)
    with inject(), pytest.raises(FloatingPointError, match="Training diverged: "):
        clf.fit(X, y)
    with inject(), pytest.raises(FloatingPointError, match=message):
        RNNTextClassifier(**FAST).fit(X, y)
    assert not hasattr(clf, "net_")
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_a_fault_during_a_refit_leaves_the_fitted_model_as_it_was(data, fault):
    X, y = data
    inject, _ = FAULTS[fault]
    clf = RNNTextClassifier(**FAST).fit(X, y)
    proba, net, vectorizer = clf.predict_proba(X), clf.net_, clf.vectorizer_
    with inject(), pytest.raises(FloatingPointError):
        clf.fit(X[:60], y[:60])
    assert clf.net_ is net and clf.vectorizer_ is vectorizer
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_weighted_batches_are_judged_per_weighted_text(data):
    """Heavy texts raise a batch's loss, not its loss per unit of weight."""
    X, y = data
    weights = np.where(np.arange(len(y)) % 7 == 0, 1e6, 1.0)
    clf = RNNTextClassifier(**FAST).fit(X, y, sample_weight=weights)
    assert np.isfinite(clf.predict_proba(X)).all()


def test_a_diverging_learning_rate_stops_fit_with_a_clear_error(data):
    X, y = data
    clf = RNNTextClassifier(**{**FAST, **DIVERGING})
    with pytest.raises(FloatingPointError, match="Training diverged.*lr=1e\\+20"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_a_diverging_continued_fit_rolls_back_weights_and_history(data):
    X, y = data
    clf = RNNTextClassifier(**FAST, warm_start=True).fit(X, y)
    proba, history = clf.predict_proba(X), list(clf.history_)
    optimizer_state = copy.deepcopy(clf.net_.optimizer_.state_dict())
    n_rows = len(clf.net_.history)
    with (
        after_optimizer_step(set_bag_padding_weights(math.inf)),
        pytest.raises(FloatingPointError),
    ):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    assert clf.history_ == history
    assert len(clf.net_.history) == n_rows
    restored = clf.net_.optimizer_.state_dict()
    for key, state in optimizer_state["state"].items():
        for name, value in state.items():
            torch.testing.assert_close(restored["state"][key][name], value)
    clf.fit(X, y)
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
        if re.match(rf"\s*{self.n}/", text):
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

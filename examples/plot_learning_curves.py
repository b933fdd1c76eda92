"""
Learning curves, early stopping and continued training
======================================================

Every fit records its training history in ``history_``: one row per epoch
with the training loss, and with early stopping the loss and accuracy on the
held-out validation messages. This example plots them with
:class:`~sklearn_rnn.plotting.TrainingHistoryDisplay`, explains which epoch's
weights the model keeps and how the learning rate changes, and continues a
fitted model's training with ``warm_start=True``.
"""

import matplotlib.pyplot as plt
import pandas as pd

from sklearn_rnn import RNNTextClassifier
from sklearn_rnn.datasets import load_sms_spam
from sklearn_rnn.plotting import TrainingHistoryDisplay

X_train, y_train = load_sms_spam(subset="train", return_X_y=True)
X_test, y_test = load_sms_spam(subset="test", return_X_y=True)

# %%
# A fit with early stopping
# -------------------------
#
# Early stopping is on by default from 1000 training texts;
# ``early_stopping=True`` asks for it whatever the size. A stratified 10%
# of the training messages (``validation_fraction``) is held out and never
# trained on. After each epoch the loss on it is measured, and training stops
# once it has not improved for ``n_iter_no_change=2`` epochs in a row (the
# default), here well before ``max_epochs=30``.
clf = RNNTextClassifier(
    embedding_dim=32,
    hidden_size=32,
    lr=3e-3,
    max_epochs=30,
    early_stopping=True,
    random_state=0,
)
clf.fit(X_train, y_train)
print(f"trained {clf.n_epochs_} epochs, kept the weights of epoch {clf.best_epoch_}")
print(f"test accuracy {clf.score(X_test, y_test):.4f}")

# %%
# The history is a list of dicts, one per epoch, so it makes a DataFrame at
# once. ``dur`` is the epoch's duration in seconds.
history = pd.DataFrame(clf.history_).set_index("epoch")
print(history.to_string(float_format="{:.4g}".format))

# %%
# Plotting the curves
# -------------------
#
# :meth:`TrainingHistoryDisplay.from_estimator
# <sklearn_rnn.plotting.TrainingHistoryDisplay.from_estimator>` draws the two
# losses by default, and any other column of the history with ``metrics``.
# The dotted line marks ``best_epoch_``.
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
TrainingHistoryDisplay.from_estimator(clf, ax=axes[0])
axes[0].set_title("loss")
TrainingHistoryDisplay.from_estimator(
    clf, metrics=("train_acc", "valid_acc"), ax=axes[1]
)
axes[1].set_title("accuracy")
display = TrainingHistoryDisplay.from_estimator(clf, metrics="lr", ax=axes[2])
display.ax_.set_yscale("log")
display.ax_.set_title("learning rate")
plt.show()

# %%
# Reading the curves
# ------------------
#
# The training loss falls at nearly every epoch: the network keeps fitting
# its training messages better. The validation loss falls quickly for the
# first few epochs, then levels off and wobbles around a slightly lower
# value; past that point the network gains little that carries over to new
# messages. The validation accuracy climbs most of its way in the first
# epochs, and afterwards moves by a message or two at a time: with 446
# validation messages, one message is 0.22 points. The training accuracy is
# counted on the batches as they were trained (dropout on), so a training
# accuracy that keeps rising while the validation accuracy stands still is
# the network learning its training messages by heart. The loss is the finer
# measure, as it also counts how confident the right answers are, which is
# why early stopping watches it.
#
# **best_epoch_.** The model keeps the weights of the epoch with the lowest
# validation loss, not those of the last epoch: ``best_epoch_`` says which
# one, and its weights are loaded back when training stops. The epochs after
# it are the ``n_iter_no_change`` epochs that failed to improve on it.
#
# **The learning rate.** The default ``lr_schedule="plateau"`` halves the
# learning rate once the validation loss stalls, one epoch before early
# stopping would give up: with ``n_iter_no_change=2``, after the first epoch
# without a lower validation loss. The ``lr`` column is the rate used during
# each epoch. A lower rate takes smaller steps, which can settle into a lower
# loss; since training stops only after a second epoch without progress, the
# network always gets one epoch at the lower rate before early stopping
# gives up. ``lr_schedule="cosine"`` lowers the rate
# smoothly to 0 by ``max_epochs``, and ``"constant"`` keeps it.
best = history.loc[clf.best_epoch_]
print(
    f"best epoch {clf.best_epoch_}: validation loss {best['valid_loss']:.4f}, "
    f"learning rate {best['lr']:g}"
)

# %%
# Continuing the training: ``warm_start``
# ---------------------------------------
#
# With ``warm_start=True`` the next ``fit`` trains the fitted network further,
# for ``max_epochs`` more epochs, with the same vocabulary and the optimizer
# as it was, learning rate included. The history goes on where it stopped.
n_first = clf.n_epochs_
first_best_loss = best["valid_loss"]
clf.set_params(warm_start=True, max_epochs=5)
clf.fit(X_train, y_train)
print(f"now {clf.n_epochs_} epochs in all; best epoch {clf.best_epoch_}")
print(f"test accuracy {clf.score(X_test, y_test):.4f}")

history = pd.DataFrame(clf.history_).set_index("epoch")
print(history.loc[n_first + 1 :].to_string(float_format="{:.4g}".format))

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
TrainingHistoryDisplay.from_estimator(clf, ax=ax)
ax.axvspan(n_first + 0.5, clf.n_epochs_ + 0.5, color="grey", alpha=0.15)
ax.text(n_first + 1, ax.get_ylim()[1] * 0.9, "warm start", va="top")
ax.set_title("loss, first fit and continued fit")
plt.show()

# %%
# Two things to know about a continued fit with early stopping:
#
# - Because ``random_state`` is an int and the data are the same, it holds
#   out the same validation messages as the first fit. With
#   ``random_state=None`` it would draw a new split, and measure its
#   validation loss partly on messages the first fit trained on.
# - Its early stopping starts afresh: ``best_epoch_`` is the best of *its*
#   epochs, and the weights of that epoch are the ones kept, even when an
#   epoch of the first fit had a lower validation loss. Compare:
new_best_loss = history.loc[clf.best_epoch_, "valid_loss"]
print(
    f"validation loss at the first fit's best epoch: {first_best_loss:.4f}; "
    f"at the continued fit's best epoch: {new_best_loss:.4f}"
)

# %%
# Nothing guarantees that the extra epochs beat the first fit's best
# validation loss: when the network had already stopped improving, they
# mostly wobble around it, and the continued fit still returns the best of
# its own epochs, which may be a little worse on the validation messages than
# the model it started from. ``warm_start`` pays off when a first fit was cut
# short (too few ``max_epochs``, an interrupted run) or to train a fitted
# model on new data. To be able to go back to the first fit's model, save it
# (:func:`~sklearn_rnn.save_model`) before continuing.

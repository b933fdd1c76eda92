import math

import matplotlib
import pytest
from helpers import FAST, keyword_data
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from sklearn_rnn import RNNClassifier, RNNTextClassifier, TextVectorizer
from sklearn_rnn.plotting import TrainingHistoryDisplay

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HISTORY = [
    {"epoch": 1, "train_loss": 0.7, "valid_loss": 0.6, "valid_acc": 0.5, "lr": 1e-3},
    {"epoch": 2, "train_loss": 0.5, "valid_loss": 0.4, "valid_acc": 0.8, "lr": 1e-3},
    {"epoch": 3, "train_loss": 0.3, "valid_loss": 0.45, "valid_acc": 0.7, "lr": 5e-4},
]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_from_history_draws_each_curve_with_its_values():
    display = TrainingHistoryDisplay.from_history(HISTORY, best_epoch=2)
    assert set(display.lines_) == {"train_loss", "valid_loss"}
    x, y = display.lines_["valid_loss"].get_data()
    assert list(x) == [1, 2, 3]
    assert list(y) == [0.6, 0.4, 0.45]
    assert list(display.best_epoch_line_.get_xdata()) == [2, 2]
    assert display.figure_ is display.ax_.figure
    assert display.ax_.get_xlabel() == "epoch"
    assert display.ax_.get_ylabel() == "loss (cross-entropy)"
    legend = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert legend == ["train_loss", "valid_loss", "best epoch (2)"]


def test_draws_on_given_axes_and_chosen_metrics():
    _, (left, right) = plt.subplots(1, 2)
    losses = TrainingHistoryDisplay.from_history(HISTORY, ax=left)
    accuracy = TrainingHistoryDisplay.from_history(
        HISTORY, metrics="valid_acc", ax=right
    )
    assert losses.ax_ is left and accuracy.ax_ is right
    assert list(accuracy.lines_) == ["valid_acc"]
    assert accuracy.best_epoch_line_ is None
    assert accuracy.ax_.get_ylabel() == "accuracy"


def test_the_y_axis_names_every_kind_of_curve_drawn():
    both = TrainingHistoryDisplay.from_history(
        HISTORY, metrics=("train_loss", "valid_acc", "lr")
    )
    assert both.ax_.get_ylabel() == "loss (cross-entropy) / accuracy / learning rate"


def test_metric_missing_from_some_epochs_leaves_a_gap():
    history = [{"epoch": 1, "train_loss": 1.0}, {"epoch": 2, "train_loss": 0.5}]
    history[1]["valid_loss"] = 0.7
    display = TrainingHistoryDisplay.from_history(history, plot=False)
    assert math.isnan(display.curves["valid_loss"][0])
    assert display.curves["valid_loss"][1] == 0.7


def test_metrics_never_recorded_are_dropped_or_refused():
    history = [{"epoch": 1, "train_loss": 1.0}]
    display = TrainingHistoryDisplay.from_history(history, plot=False)
    assert list(display.curves) == ["train_loss"]
    with pytest.raises(ValueError, match=r"'valid_acc'.*records \['train_loss'\]"):
        TrainingHistoryDisplay.from_history(history, metrics=["valid_acc"])


@pytest.mark.parametrize(
    "history, error, message",
    [
        ([], ValueError, "empty"),
        ([{"train_loss": 1.0}], TypeError, "'epoch' key"),
        ("not a history", TypeError, "list of dicts"),
        ([{"epoch": 1, "train_loss": "high"}], TypeError, "'train_loss' holds"),
    ],
)
def test_bad_history_is_refused(history, error, message):
    with pytest.raises(error, match=message):
        TrainingHistoryDisplay.from_history(history)


def test_from_estimator_plots_a_real_fit():
    texts, labels = keyword_data(80)
    clf = RNNTextClassifier(**FAST, early_stopping=True, validation_fraction=0.25).fit(
        texts, labels
    )
    display = TrainingHistoryDisplay.from_estimator(clf)
    x, y = display.lines_["train_loss"].get_data()
    assert list(x) == [row["epoch"] for row in clf.history_]
    assert list(y) == [row["train_loss"] for row in clf.history_]
    assert display.best_epoch_line_.get_xdata()[0] == clf.best_epoch_
    accuracy = TrainingHistoryDisplay.from_estimator(
        clf, metrics=("train_acc", "valid_acc")
    )
    assert set(accuracy.lines_) == {"train_acc", "valid_acc"}


def test_from_estimator_reads_the_last_step_of_a_pipeline():
    texts, labels = keyword_data(60)
    pipe = make_pipeline(TextVectorizer(), RNNClassifier(**FAST)).fit(texts, labels)
    display = TrainingHistoryDisplay.from_estimator(pipe, plot=False)
    assert display.curves["train_loss"] == [
        row["train_loss"] for row in pipe[-1].history_
    ]


def test_from_estimator_needs_a_fitted_estimator():
    with pytest.raises(NotFittedError):
        TrainingHistoryDisplay.from_estimator(RNNTextClassifier())
